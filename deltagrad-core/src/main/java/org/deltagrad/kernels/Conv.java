package org.deltagrad.kernels;

/**
 * The loops of 2-D convolution and pooling: float32 convolution over a whole batch ({@link Plan}), float64 convolution
 * and pooling over one NCHW image or plane. Each is driven by an index map computed once per shape (which input entry
 * each im2col cell or window slot reads), so the loops stay one line. The products themselves go to {@link Gemm}.
 */
public final class Conv {
    private Conv() {}

    /**
     * For the im2col matrix of one image ([c·kh·kw rows] × [oh·ow columns], row-major), the offset of each cell's
     * input entry within the image's [c, h, w] block, or −1 where the window reads the zero padding.
     */
    public static int[] im2colMap(int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow) {
        int cols = oh * ow;
        int[] map = new int[c * kh * kw * cols];
        for (int ch = 0, row = 0; ch < c; ch++) {
            for (int ki = 0; ki < kh; ki++) {
                for (int kj = 0; kj < kw; kj++, row++) {
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * stride - pad + ki;
                        for (int ox = 0; ox < ow; ox++) {
                            int ix = ox * stride - pad + kj;
                            boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                            map[row * cols + oy * ow + ox] = inside ? (ch * h + iy) * w + ix : -1;
                        }
                    }
                }
            }
        }
        return map;
    }

    /**
     * One float32 2-D convolution over a batch of n images as im2col + GEMM, with the images in NCHW or in CNHW order
     * (given by where image i's channel ch starts: {@code xo + i·imageStride + ch·channelStride}); the output and its
     * gradient are [o, n·oh·ow] (CNHW). The eager {@code conv2d} ops and the compiled training step both run it, so
     * they give the same bits.
     *
     * <p>The batch is cut into chunks of images whose im2col matrix ([c·kh·kw, images·oh·ow]) fits in a core's L2
     * cache, and each chunk is one task: its im2col matrix is built in a per-thread buffer and used by the chunk's
     * GEMMs at once, instead of a whole-batch matrix that would go out to memory and back. The chunks depend on the
     * shape alone; the weight gradient is summed over them in chunk order; so the bits do not depend on the thread
     * count.
     */
    public static final class Plan {
        /** A chunk's im2col matrix holds at most this many floats (512 KB: half of this machine's L2), or one image. */
        static final int CHUNK_FLOATS = 1 << 17;
        private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

        public final int n, c, h, w, o, kh, kw, stride, pad, oh, ow;
        /** Images per chunk, and chunks. */
        private final int per, chunks;
        /** The chunks' weight gradients, before they are summed in order. */
        private float[] partials;

        public Plan(int n, int c, int h, int w, int o, int kh, int kw, int stride, int pad) {
            this.n = n;
            this.c = c;
            this.h = h;
            this.w = w;
            this.o = o;
            this.kh = kh;
            this.kw = kw;
            this.stride = stride;
            this.pad = pad;
            this.oh = (h + 2 * pad - kh) / stride + 1;
            this.ow = (w + 2 * pad - kw) / stride + 1;
            long perImage = (long) c * kh * kw * oh * ow;
            this.per = (int) Math.max(1, Math.min(n, CHUNK_FLOATS / Math.max(1, perImage)));
            this.chunks = (n + per - 1) / per;
        }

        /** Rows of the im2col matrix, c·kh·kw (the GEMMs' inner size). */
        public int rows() {
            return c * kh * kw;
        }

        /** Columns of the output, n·oh·ow. */
        public int cols() {
            return n * oh * ow;
        }

        /** Runs body(first image, images) for every chunk, a chunk per task (its GEMMs then on its own thread). */
        private void forEachChunk(java.util.function.BiConsumer<Integer, Integer> body) {
            if (chunks == 1) {
                body.accept(0, n);
                return;
            }
            Parallel.forEachPiece(chunks, q -> {
                try (Parallel.Scope one = Parallel.withThreads(1)) {
                    body.accept(q * per, Math.min(per, n - q * per));
                }
            });
        }

        /** This thread's buffer {@code which} with room for a chunk's im2col matrix. */
        private float[] scratch(int which) {
            float[][] s = SCRATCH.get();
            int size = rows() * per * oh * ow;
            if (s[which].length < size) s[which] = new float[size];
            return s[which];
        }

        /** The im2col matrix of images [first, first + count) into cols ([c·kh·kw, count·oh·ow], row-major). */
        private void im2col(float[] x, int xo, int imageStride, int channelStride, int first, int count, float[] cols) {
            int p = oh * ow, ld = count * p;
            for (int i = 0; i < count; i++) {
                for (int ch = 0, row = 0; ch < c; ch++) {
                    int base = xo + (first + i) * imageStride + ch * channelStride;
                    for (int ki = 0; ki < kh; ki++) {
                        for (int kj = 0; kj < kw; kj++, row++) gather(x, base, ki, kj, cols, row * ld + i * p);
                    }
                }
            }
        }

        /** y [o, n·oh·ow] (at 0) = W·im2col(x) + b; b may be null. */
        public void forward(float[] x, int xo, int imageStride, int channelStride, float[] wt, int wo, float[] b, int bo, float[] y) {
            int p = oh * ow, ld = cols(), rows = rows();
            forEachChunk((first, count) -> {
                float[] cols = scratch(0);
                im2col(x, xo, imageStride, channelStride, first, count, cols);
                int at = first * p, len = count * p;
                for (int oc = 0; oc < o; oc++) java.util.Arrays.fill(y, oc * ld + at, oc * ld + at + len, b == null ? 0f : b[bo + oc]);
                Gemm.sgemm(false, false, o, len, rows, 1f, wt, wo, rows, cols, 0, len, 1f, y, at, ld);
            });
        }

        /** dW [o, c·kh·kw] (at dwo) = Σ over chunks, in order, of g·im2col(x)ᵀ, for the output gradient g (at go). */
        public void weightGrad(float[] x, int xo, int imageStride, int channelStride, float[] g, int go, float[] dw, int dwo) {
            int p = oh * ow, ld = cols(), rows = rows(), size = o * rows;
            if (partials == null) partials = new float[chunks * size];
            float[] part = partials;
            forEachChunk((first, count) -> {
                float[] cols = scratch(0);
                im2col(x, xo, imageStride, channelStride, first, count, cols);
                int len = count * p;
                Gemm.sgemm(false, true, o, rows, len, 1f, g, go + first * p, ld, cols, 0, len, 0f, part, first / per * size, rows);
            });
            Parallel.forRange(size, 4096, (from, to) -> {
                for (int j = from; j < to; j++) {
                    float sum = part[j];
                    for (int q = 1; q < chunks; q++) sum += part[q * size + j];
                    dw[dwo + j] = sum;
                }
            });
        }

        /**
         * dx = col2im(Wᵀ·g) for the output gradient g (at go): per chunk one GEMM into a [c·kh·kw, images·oh·ow]
         * buffer, whose entries are then added back onto the chunk's zeroed inputs in a fixed order.
         */
        public void inputGrad(float[] g, int go, float[] wt, int wo, float[] dx, int dxo, int imageStride, int channelStride) {
            int p = oh * ow, ld = cols(), rows = rows();
            forEachChunk((first, count) -> {
                float[] cols = scratch(1);
                int len = count * p;
                Gemm.sgemm(true, false, rows, len, o, 1f, wt, wo, rows, g, go + first * p, ld, 0f, cols, 0, len);
                for (int i = 0; i < count; i++) {
                    for (int ch = 0, row = 0; ch < c; ch++) {
                        int base = dxo + (first + i) * imageStride + ch * channelStride;
                        java.util.Arrays.fill(dx, base, base + h * w, 0f);
                        for (int ki = 0; ki < kh; ki++) {
                            for (int kj = 0; kj < kw; kj++, row++) scatter(cols, row * len + i * p, ki, kj, dx, base);
                        }
                    }
                }
            });
        }

        /** The first output column whose window column kj reads inside the plane (stride 1). */
        private int firstInside(int kj) {
            return Math.max(0, pad - kj);
        }

        /** One past the last output column whose window column kj reads inside the plane (stride 1). */
        private int endInside(int kj) {
            return Math.max(firstInside(kj), Math.min(ow, w + pad - kj));
        }

        /** One im2col row of one image: for window cell (ki, kj), the input each output position reads, 0 in the padding. */
        private void gather(float[] x, int base, int ki, int kj, float[] cols, int dst) {
            int lo = firstInside(kj), hi = endInside(kj);
            for (int oy = 0; oy < oh; oy++, dst += ow) {
                int iy = oy * stride - pad + ki;
                if (iy < 0 || iy >= h) {
                    java.util.Arrays.fill(cols, dst, dst + ow, 0f);
                } else if (stride == 1) {
                    // Rows are short (8-24 here): plain loops beat calls to fill and arraycopy.
                    for (int ox = 0; ox < lo; ox++) cols[dst + ox] = 0f;
                    int ox = lo, src = base + iy * w - pad + kj;
                    // Eight at a time, as in scatter: C2 packs the eight statements into one vector move (docs/PERFORMANCE.md).
                    for (; ox + 7 < hi; ox += 8) {
                        cols[dst + ox] = x[src + ox];
                        cols[dst + ox + 1] = x[src + ox + 1];
                        cols[dst + ox + 2] = x[src + ox + 2];
                        cols[dst + ox + 3] = x[src + ox + 3];
                        cols[dst + ox + 4] = x[src + ox + 4];
                        cols[dst + ox + 5] = x[src + ox + 5];
                        cols[dst + ox + 6] = x[src + ox + 6];
                        cols[dst + ox + 7] = x[src + ox + 7];
                    }
                    for (; ox < hi; ox++) cols[dst + ox] = x[src + ox];
                    for (ox = hi; ox < ow; ox++) cols[dst + ox] = 0f;
                } else {
                    for (int ox = 0, src = base + iy * w; ox < ow; ox++) {
                        int ix = ox * stride - pad + kj;
                        cols[dst + ox] = ix >= 0 && ix < w ? x[src + ix] : 0f;
                    }
                }
            }
        }

        /** The adjoint of {@link #gather}: each entry of the im2col row added back onto the input it was read from. */
        private void scatter(float[] cols, int src, int ki, int kj, float[] dx, int base) {
            int lo = firstInside(kj), hi = endInside(kj);
            for (int oy = 0; oy < oh; oy++, src += ow) {
                int iy = oy * stride - pad + ki;
                if (iy < 0 || iy >= h) continue;
                int at = base + iy * w - pad + kj;
                if (stride == 1) {
                    int ox = lo;
                    // Eight at a time: C2 packs the eight statements into one vector add, but leaves a plain loop of 8 scalar.
                    for (; ox + 7 < hi; ox += 8) {
                        dx[at + ox] += cols[src + ox];
                        dx[at + ox + 1] += cols[src + ox + 1];
                        dx[at + ox + 2] += cols[src + ox + 2];
                        dx[at + ox + 3] += cols[src + ox + 3];
                        dx[at + ox + 4] += cols[src + ox + 4];
                        dx[at + ox + 5] += cols[src + ox + 5];
                        dx[at + ox + 6] += cols[src + ox + 6];
                        dx[at + ox + 7] += cols[src + ox + 7];
                    }
                    for (; ox < hi; ox++) dx[at + ox] += cols[src + ox];
                } else {
                    for (int ox = 0; ox < ow; ox++) {
                        int ix = ox * stride - pad + kj;
                        if (ix >= 0 && ix < w) dx[at + ox * stride] += cols[src + ox];
                    }
                }
            }
        }
    }

    /**
     * The bias gradient of a convolution whose output gradient g is in CNHW order ([out][n][oh][ow]): gb[o] sums
     * channel o as the eager {@code g.sum(0, 2, 3)} does over NCHW, a float64 sum per (image, output row) added in
     * float in that order, so both steps have the same bits. Channels in ranges on the pool.
     */
    public static void biasGradCnhw(float[] g, int out, int n, int oh, int ow, float[] gb, int grain) {
        int positions = oh * ow, ld = n * positions;
        Parallel.forRange(out, Math.max(1, grain / ld), (from, to) -> {
            for (int o = from; o < to; o++) {
                float acc = 0f;
                for (int at = o * ld, end = at + ld; at < end; at += ow) {
                    double row = 0;
                    for (int j = 0; j < ow; j++) row += g[at + j];
                    acc += (float) row;
                }
                gb[o] = acc;
            }
        });
    }

    /** For each output position of one [h, w] plane (row-major), the k² plane offsets of its window, row by row. */
    public static int[] windowMap(int h, int w, int k, int stride, int oh, int ow) {
        int[] map = new int[oh * ow * k * k];
        for (int oy = 0, i = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                for (int ki = 0; ki < k; ki++) {
                    for (int kj = 0; kj < k; kj++) map[i++] = (oy * stride + ki) * w + ox * stride + kj;
                }
            }
        }
        return map;
    }

    /** out[oo + i] = x[xo + map[i]], 0 where map[i] is −1. */
    public static void gather(int[] map, double[] x, int xo, double[] out, int oo) {
        for (int i = 0; i < map.length; i++) out[oo + i] = map[i] < 0 ? 0d : x[xo + map[i]];
    }

    /** dx[xo + map[i]] += cols[i] where map[i] ≥ 0, in index order (the adjoint of gather). */
    public static void scatterAdd(int[] map, double[] cols, double[] dx, int xo) {
        for (int i = 0; i < map.length; i++) if (map[i] >= 0) dx[xo + map[i]] += cols[i];
    }

    /** Mean of each window of one plane: out[oo + j] = Σ x[xo + map[j·kk + t]] / kk. */
    public static void avgPool(int[] map, int kk, float[] x, int xo, float[] out, int oo) {
        for (int j = 0, n = map.length / kk; j < n; j++) {
            float s = 0;
            for (int t = 0; t < kk; t++) s += x[xo + map[j * kk + t]];
            out[oo + j] = s / kk;
        }
    }

    /** Mean of each window of one plane: out[oo + j] = Σ x[xo + map[j·kk + t]] / kk. */
    public static void avgPool(int[] map, int kk, double[] x, int xo, double[] out, int oo) {
        for (int j = 0, n = map.length / kk; j < n; j++) {
            double s = 0;
            for (int t = 0; t < kk; t++) s += x[xo + map[j * kk + t]];
            out[oo + j] = s / kk;
        }
    }

    /** The adjoint of avgPool on one plane: each window's entries get g/kk added (dx zeroed by the caller). */
    public static void avgPoolBackward(int[] map, int kk, float[] g, int go, float[] dx, int xo) {
        for (int i = 0; i < map.length; i++) dx[xo + map[i]] += g[go + i / kk] / kk;
    }

    /** The adjoint of avgPool on one plane: each window's entries get g/kk added (dx zeroed by the caller). */
    public static void avgPoolBackward(int[] map, int kk, double[] g, int go, double[] dx, int xo) {
        for (int i = 0; i < map.length; i++) dx[xo + map[i]] += g[go + i / kk] / kk;
    }

    /**
     * Max of each k×k window (at the given stride) of one plane w wide, and its plane offset in {@code arg}: the first
     * maximum in window order on a tie, as PyTorch's max_pool2d (a NaN wins, as there; of −0 and +0, +0 is the
     * larger, as {@link Math#max}). Branch-free (the max, then the first entry with its bits, by integer arithmetic):
     * which entry is largest is random in real data, and the branches mispredicted at 3-4 times the cost.
     */
    public static void maxPool(int w, int k, int stride, int oh, int ow, float[] x, int xo, float[] out, int oo, double[] arg) {
        if (k == 2 && stride == 2) {
            maxPool2(w, oh, ow, x, xo, out, oo, arg);
            return;
        }
        for (int oy = 0, j = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, j++) {
                int corner = oy * stride * w + ox * stride;
                float m = x[xo + corner];
                for (int ki = 0; ki < k; ki++) {
                    for (int kj = 0, at = xo + corner + ki * w; kj < k; kj++, at++) m = Math.max(m, x[at]);
                }
                int bits = Float.floatToRawIntBits(m), best = 0;
                for (int ki = k - 1; ki >= 0; ki--) {
                    for (int kj = k - 1, at = corner + ki * w + kj; kj >= 0; kj--, at--) {
                        int diff = Float.floatToRawIntBits(x[xo + at]) ^ bits;
                        best += ((((diff | -diff) >>> 31) ^ 1)) * (at - best); // at where the bits are m's
                    }
                }
                out[oo + j] = m;
                arg[oo + j] = best;
            }
        }
    }

    /** {@link #maxPool} for 2×2 windows at stride 2, the common case, written out. */
    private static void maxPool2(int w, int oh, int ow, float[] x, int xo, float[] out, int oo, double[] arg) {
        for (int oy = 0, j = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, j++) {
                int a0 = 2 * oy * w + 2 * ox, a1 = a0 + 1, a2 = a0 + w, a3 = a2 + 1;
                float v0 = x[xo + a0], v1 = x[xo + a1], v2 = x[xo + a2], v3 = x[xo + a3];
                float m = Math.max(Math.max(v0, v1), Math.max(v2, v3));
                int bits = Float.floatToRawIntBits(m), best = a3, d;
                d = Float.floatToRawIntBits(v2) ^ bits;
                best += (((d | -d) >>> 31) ^ 1) * (a2 - best);
                d = Float.floatToRawIntBits(v1) ^ bits;
                best += (((d | -d) >>> 31) ^ 1) * (a1 - best);
                d = Float.floatToRawIntBits(v0) ^ bits;
                best += (((d | -d) >>> 31) ^ 1) * (a0 - best);
                out[oo + j] = m;
                arg[oo + j] = best;
            }
        }
    }

    /** Max of each window of one plane by its window map, in double; otherwise as the float32 {@code maxPool}. */
    public static void maxPool(int[] map, int kk, double[] x, int xo, double[] out, int oo, double[] arg) {
        for (int j = 0, n = map.length / kk; j < n; j++) {
            int best = map[j * kk];
            for (int t = 1; t < kk; t++) {
                int at = map[j * kk + t];
                if (x[xo + at] > x[xo + best] || (Double.isNaN(x[xo + at]) && !Double.isNaN(x[xo + best]))) best = at;
            }
            out[oo + j] = x[xo + best];
            arg[oo + j] = best;
        }
    }

    /** The adjoint of maxPool on one plane: dx[xo + arg[ao + j]] += g[go + j] for j &lt; n (dx zeroed by the caller). */
    public static void maxPoolBackward(double[] arg, int ao, int n, float[] g, int go, float[] dx, int xo) {
        for (int j = 0; j < n; j++) dx[xo + (int) arg[ao + j]] += g[go + j];
    }

    /**
     * maxPoolBackward fused with the backward of a ReLU before the pooling, whose output s is the pooling's input:
     * dx[xo + a] += (s[xo + a] &gt; 0 ? g : 0) at each argmax a, which is the ReLU backward's select of the routed sum.
     */
    public static void maxPoolReluBackward(double[] arg, int ao, int n, float[] g, int go, float[] s, float[] dx, int xo) {
        for (int j = 0; j < n; j++) {
            int at = xo + (int) arg[ao + j];
            dx[at] += s[at] > 0f ? g[go + j] : 0f;
        }
    }

    /** The adjoint of maxPool on one plane: dx[xo + arg[ao + j]] += g[go + j] for j &lt; n (dx zeroed by the caller). */
    public static void maxPoolBackward(double[] arg, int ao, int n, double[] g, int go, double[] dx, int xo) {
        for (int j = 0; j < n; j++) dx[xo + (int) arg[ao + j]] += g[go + j];
    }
}
