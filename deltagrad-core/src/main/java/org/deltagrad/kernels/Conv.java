package org.deltagrad.kernels;

/**
 * The loops of 2-D convolution and pooling over one NCHW image: each is driven by an index map computed once per
 * shape (which input entry each im2col cell or window slot reads), so the float and double loops stay one line.
 * The products themselves go to {@link Gemm}.
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
    public static void gather(int[] map, float[] x, int xo, float[] out, int oo) {
        for (int i = 0; i < map.length; i++) out[oo + i] = map[i] < 0 ? 0f : x[xo + map[i]];
    }

    /** out[oo + i] = x[xo + map[i]], 0 where map[i] is −1. */
    public static void gather(int[] map, double[] x, int xo, double[] out, int oo) {
        for (int i = 0; i < map.length; i++) out[oo + i] = map[i] < 0 ? 0d : x[xo + map[i]];
    }

    /** dx[xo + map[i]] += cols[i] where map[i] ≥ 0, in index order (the adjoint of gather). */
    public static void scatterAdd(int[] map, float[] cols, float[] dx, int xo) {
        for (int i = 0; i < map.length; i++) if (map[i] >= 0) dx[xo + map[i]] += cols[i];
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
     * Max of each window of one plane, and its plane offset in {@code arg} (the first maximum in window order on a
     * tie, as PyTorch's max_pool2d; a NaN wins, as there).
     */
    public static void maxPool(int[] map, int kk, float[] x, int xo, float[] out, int oo, double[] arg) {
        for (int j = 0, n = map.length / kk; j < n; j++) {
            int best = map[j * kk];
            for (int t = 1; t < kk; t++) {
                int at = map[j * kk + t];
                if (x[xo + at] > x[xo + best] || (Float.isNaN(x[xo + at]) && !Float.isNaN(x[xo + best]))) best = at;
            }
            out[oo + j] = x[xo + best];
            arg[oo + j] = best;
        }
    }

    /** As {@link #maxPool(int[], int, float[], int, float[], int, double[])}, in double. */
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

    /** The adjoint of maxPool on one plane: dx[xo + arg[ao + j]] += g[go + j] for j &lt; n (dx zeroed by the caller). */
    public static void maxPoolBackward(double[] arg, int ao, int n, double[] g, int go, double[] dx, int xo) {
        for (int j = 0; j < n; j++) dx[xo + (int) arg[ao + j]] += g[go + j];
    }
}
