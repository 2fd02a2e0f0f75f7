package org.deltagrad.kernels;

import static org.deltagrad.kernels.JavaGemm.NC;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 body of {@link JavaGemm} with explicit SIMD through the JDK's incubating Vector API, used
 * only when the JVM runs with {@code --add-modules jdk.incubator.vector} (see {@link JavaGemm#vectorApi()}).
 * Still pure Java; nothing else may touch this class, so that it is never loaded without the module.
 *
 * <p>Same blocking as {@link SgemmKernel} (NC-wide column blocks, even k slices of at most KC), but the
 * micro-kernel keeps an MR × 2-vector tile of the product in registers for a whole k slice, where C2's
 * auto-vectoriser must load and store C rows on every pass. The slice of op(B) is packed into strips of
 * NR = 2 vectors (zero past n), MR rows of alpha·op(A) are packed k-interleaved (zero past the last row),
 * so the micro-kernel has no edge cases; the product accumulates in a padded tile that is written to C
 * (with beta, transposed or not) once per column block.
 *
 * <p>Written to stay fast under C2 on JDK 17: vectors never cross a call that is not inlined (they would
 * be boxed), the micro-kernel is one small method with no masks, and the species is a constant.
 *
 * <p>Determinism: every element is one chain of fused multiply-adds in k order, whatever the thread count
 * (threads split rows or columns of the product, never k); it is the same chain as {@link SgemmKernel}'s.
 */
final class VectorSgemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Columns of a register tile: two vectors. */
    static final int NR = 2 * V;
    /** Rows of a register tile: 6 × 2 accumulators + 2 B vectors + 1 broadcast fit 16 registers. */
    static final int MR = 6;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private VectorSgemm() {
    }

    /**
     * Product tiles waste the padding of m up to MR rows and of n up to NR columns: compute Cᵀ instead
     * of C when that wastes clearly less (10 %, about what the strided write-back of Cᵀ costs).
     */
    static boolean transposeOutput(int m, int n) {
        return 1.1 * roundUp(n, MR) * roundUp(m, NR) < (double) roundUp(m, MR) * roundUp(n, NR);
    }

    /** Same contract as {@link SgemmKernel#block}. */
    static void block(boolean transA, boolean transB, boolean transC, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc, int i0, int i1, int j0, int j1) {
        Scratch s = SCRATCH.get();
        int rows = i1 - i0;
        int groups = (rows + MR - 1) / MR;
        int kc0 = JavaGemm.sliceDepth(k);
        float[] pa = s.packA(MR * kc0);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            int strips = (nc + NR - 1) / NR;
            int width = strips * NR;
            if (kc0 >= k) {
                // One k slice: each row group's tile is final at once, so keep only MR rows of it (in L1).
                float[] pb = s.packB(strips * k * NR);
                packB(transB, b, bOff, ldb, 0, k, jc, nc, strips, pb);
                float[] tile = s.tile(MR * width);
                for (int g = 0; g < groups; g++) {
                    int r0 = g * MR, h = Math.min(MR, rows - r0);
                    if (g > 0) java.util.Arrays.fill(tile, 0, MR * width, 0f);
                    packA(transA, alpha, a, aOff, lda, i0 + r0, h, 0, k, pa);
                    for (int st = 0; st < strips; st++) micro(pa, pb, st * k * NR, k, tile, st * NR, width);
                    writeBack(transC, tile, width, h, nc, beta, c, cOff, ldc, i0 + r0, jc);
                }
                continue;
            }
            float[] tile = s.tile(groups * MR * width);
            for (int pc = 0; pc < k; pc += kc0) {
                int kc = Math.min(kc0, k - pc);
                float[] pb = s.packB(strips * kc * NR);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, strips, pb);
                for (int g = 0; g < groups; g++) {
                    int r0 = g * MR;
                    packA(transA, alpha, a, aOff, lda, i0 + r0, Math.min(MR, rows - r0), pc, kc, pa);
                    for (int st = 0; st < strips; st++) {
                        micro(pa, pb, st * kc * NR, kc, tile, r0 * width + st * NR, width);
                    }
                }
            }
            writeBack(transC, tile, width, rows, nc, beta, c, cOff, ldc, i0, jc);
        }
    }

    /** Stores the tile (rows × nc of the product at row i0, column jc) into C, or into Cᵀ when transC. */
    private static void writeBack(boolean transC, float[] tile, int width, int rows, int nc, float beta,
                                  float[] c, int cOff, int ldc, int i0, int jc) {
        if (transC) {
            writeBackTransposed(tile, width, rows, nc, beta, c, cOff + jc * ldc + i0, ldc);
        } else {
            writeBack(tile, width, rows, nc, beta, c, cOff + i0 * ldc + jc, ldc);
        }
    }

    /**
     * tile[t0 + r·ldt + (0..NR)] += Σ_p pa[p·MR + r] · pb[b0 + p·NR + (0..NR)] for r < MR: the 12
     * accumulators stay in registers for the whole slice.
     */
    private static void micro(float[] pa, float[] pb, int b0, int kc, float[] t, int t0, int ldt) {
        int t1 = t0 + ldt, t2 = t1 + ldt, t3 = t2 + ldt, t4 = t3 + ldt, t5 = t4 + ldt;
        FloatVector c00 = FloatVector.fromArray(S, t, t0), c01 = FloatVector.fromArray(S, t, t0 + V);
        FloatVector c10 = FloatVector.fromArray(S, t, t1), c11 = FloatVector.fromArray(S, t, t1 + V);
        FloatVector c20 = FloatVector.fromArray(S, t, t2), c21 = FloatVector.fromArray(S, t, t2 + V);
        FloatVector c30 = FloatVector.fromArray(S, t, t3), c31 = FloatVector.fromArray(S, t, t3 + V);
        FloatVector c40 = FloatVector.fromArray(S, t, t4), c41 = FloatVector.fromArray(S, t, t4 + V);
        FloatVector c50 = FloatVector.fromArray(S, t, t5), c51 = FloatVector.fromArray(S, t, t5 + V);
        for (int p = 0, ai = 0, bi = b0; p < kc; p++, ai += MR, bi += NR) {
            FloatVector y0 = FloatVector.fromArray(S, pb, bi), y1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector x = FloatVector.broadcast(S, pa[ai]);
            c00 = x.fma(y0, c00);
            c01 = x.fma(y1, c01);
            x = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = x.fma(y0, c10);
            c11 = x.fma(y1, c11);
            x = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = x.fma(y0, c20);
            c21 = x.fma(y1, c21);
            x = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = x.fma(y0, c30);
            c31 = x.fma(y1, c31);
            x = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = x.fma(y0, c40);
            c41 = x.fma(y1, c41);
            x = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = x.fma(y0, c50);
            c51 = x.fma(y1, c51);
        }
        c00.intoArray(t, t0);
        c01.intoArray(t, t0 + V);
        c10.intoArray(t, t1);
        c11.intoArray(t, t1 + V);
        c20.intoArray(t, t2);
        c21.intoArray(t, t2 + V);
        c30.intoArray(t, t3);
        c31.intoArray(t, t3 + V);
        c40.intoArray(t, t4);
        c41.intoArray(t, t4 + V);
        c50.intoArray(t, t5);
        c51.intoArray(t, t5 + V);
    }

    /** pb = op(B)[pc.., jc..] as strips of NR columns, each kc × NR row-major; columns past nc are zero. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                              int strips, float[] pb) {
        for (int st = 0; st < strips; st++) {
            int j0 = st * NR, w = Math.min(NR, nc - j0), base = st * kc * NR;
            if (!transB) {
                for (int p = 0; p < kc; p++) {
                    int dst = base + p * NR;
                    System.arraycopy(b, bOff + (pc + p) * ldb + jc + j0, pb, dst, w);
                    if (w < NR) java.util.Arrays.fill(pb, dst + w, dst + NR, 0f);
                }
            } else {
                // op(B)[p][j] = B[j][p]: read B rows contiguously, scatter down the strip.
                if (w < NR) {
                    for (int p = 0; p < kc; p++) java.util.Arrays.fill(pb, base + p * NR + w, base + (p + 1) * NR, 0f);
                }
                for (int j = 0; j < w; j++) {
                    int src = bOff + (jc + j0 + j) * ldb + pc;
                    for (int p = 0, dst = base + j; p < kc; p++, dst += NR) pb[dst] = b[src + p];
                }
            }
        }
    }

    /** pa[p·MR + r] = alpha·op(A)[ic + r][pc + p] for r < h, zero for h ≤ r < MR. */
    private static void packA(boolean transA, float alpha, float[] a, int aOff, int lda, int ic, int h,
                              int pc, int kc, float[] pa) {
        if (h < MR) java.util.Arrays.fill(pa, 0, kc * MR, 0f);
        if (!transA) {
            for (int r = 0; r < h; r++) {
                int src = aOff + (ic + r) * lda + pc;
                for (int p = 0, dst = r; p < kc; p++, dst += MR) pa[dst] = alpha * a[src + p];
            }
        } else {
            for (int p = 0; p < kc; p++) {
                int src = aOff + (pc + p) * lda + ic, dst = p * MR;
                for (int r = 0; r < h; r++) pa[dst + r] = alpha * a[src + r];
            }
        }
    }

    /** C = tile + beta·C on rows × nc (the tile holds alpha·A·B with row stride width); beta == 0 ignores C. */
    private static void writeBack(float[] tile, int width, int rows, int nc, float beta, float[] c, int c0, int ldc) {
        for (int i = 0; i < rows; i++) {
            int row = c0 + i * ldc, t = i * width;
            if (beta == 0f) {
                System.arraycopy(tile, t, c, row, nc);
            } else if (beta == 1f) {
                for (int j = 0; j < nc; j++) c[row + j] += tile[t + j];
            } else {
                for (int j = 0; j < nc; j++) c[row + j] = tile[t + j] + beta * c[row + j];
            }
        }
    }

    /**
     * Like writeBack, but tile row i is column i of C (starting at c0). Eight tile rows at a time, so
     * that reads run along tile rows and each C row gets a contiguous run of eight.
     */
    private static void writeBackTransposed(float[] tile, int width, int rows, int nc, float beta, float[] c,
                                            int c0, int ldc) {
        for (int i0 = 0; i0 < rows; i0 += 8) {
            int i1 = Math.min(rows, i0 + 8);
            for (int j = 0; j < nc; j++) {
                int row = c0 + j * ldc;
                if (beta == 0f) {
                    for (int i = i0, t = i0 * width + j; i < i1; i++, t += width) c[row + i] = tile[t];
                } else if (beta == 1f) {
                    for (int i = i0, t = i0 * width + j; i < i1; i++, t += width) c[row + i] += tile[t];
                } else {
                    for (int i = i0, t = i0 * width + j; i < i1; i++, t += width) {
                        c[row + i] = tile[t] + beta * c[row + i];
                    }
                }
            }
        }
    }

    private static int roundUp(int x, int unit) {
        return (x + unit - 1) / unit * unit;
    }

    /** Per-thread buffers, grown on demand and kept, so steady-state calls allocate nothing. */
    private static final class Scratch {
        private float[] packA = new float[0];
        private float[] packB = new float[0];
        private float[] tile = new float[0];

        float[] packA(int size) {
            if (packA.length < size) packA = new float[size];
            return packA;
        }

        float[] packB(int size) {
            if (packB.length < size) packB = new float[size];
            return packB;
        }

        /** A zeroed accumulator of at least size. */
        float[] tile(int size) {
            if (tile.length < size) {
                tile = new float[size];
            } else {
                java.util.Arrays.fill(tile, 0, size, 0f);
            }
            return tile;
        }
    }
}
