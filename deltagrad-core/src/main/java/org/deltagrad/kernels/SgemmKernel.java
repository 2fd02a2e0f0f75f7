package org.deltagrad.kernels;

import static org.deltagrad.kernels.JavaGemm.MC;
import static org.deltagrad.kernels.JavaGemm.NC;

/** The float32 body of {@link JavaGemm}; {@link DgemmKernel} is the same code for double. */
final class SgemmKernel {
    private SgemmKernel() {
    }

    /**
     * Computes rows [i0, i1) × columns [j0, j1) of the product P = alpha·op(A)·op(B), over all of k, and
     * stores C = P + beta·C there, or into the transposed place of C when transC (then P = Cᵀ).
     */
    static void block(boolean transA, boolean transB, boolean transC, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc, int i0, int i1, int j0, int j1) {
        JavaGemm.Scratch s = JavaGemm.scratch();
        int rows = i1 - i0;
        int kc0 = JavaGemm.sliceDepth(k);
        float[] pa = s.packA(Math.min(MC, rows) * kc0);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            int width = JavaGemm.paddedWidth(nc);
            float[][] tile = s.tile(rows, width);
            for (int pc = 0; pc < k; pc += kc0) {
                int kc = Math.min(kc0, k - pc);
                float[][] pb = s.packB(kc, width);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb);
                for (int ic = 0; ic < rows; ic += MC) {
                    int mc = Math.min(MC, rows - ic);
                    packA(transA, alpha, a, aOff, lda, i0 + ic, mc, pc, kc, pa);
                    kernel(pa, mc, kc, pb, width, tile, ic);
                }
            }
            if (transC) {
                writeBackTransposed(tile, rows, nc, beta, c, cOff + jc * ldc + i0, ldc);
            } else {
                writeBack(tile, rows, nc, beta, c, cOff + i0 * ldc + jc, ldc);
            }
        }
    }

    /** C = beta * C, for alpha == 0 or k == 0; beta == 0 writes zeros so that NaN in C does not survive. */
    static void scale(float beta, float[] c, int cOff, int ldc, int m, int n) {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + n, 0f);
            } else {
                for (int j = row; j < row + n; j++) c[j] = beta * c[j];
            }
        }
    }

    /** C = tile + beta * C (the tile already holds alpha * A * B); beta == 0 ignores C, NaN included. */
    private static void writeBack(float[][] tile, int rows, int nc, float beta, float[] c, int c0, int ldc) {
        for (int i = 0; i < rows; i++) {
            float[] t = tile[i];
            int row = c0 + i * ldc;
            if (beta == 0f) {
                System.arraycopy(t, 0, c, row, nc);
            } else if (beta == 1f) {
                for (int j = 0; j < nc; j++) c[row + j] += t[j];
            } else {
                for (int j = 0; j < nc; j++) c[row + j] = t[j] + beta * c[row + j];
            }
        }
    }

    /** Like writeBack, but tile row i is column i of C (starting at c0). */
    private static void writeBackTransposed(float[][] tile, int rows, int nc, float beta, float[] c, int c0,
                                            int ldc) {
        for (int j = 0; j < nc; j++) {
            int row = c0 + j * ldc;
            for (int i = 0; i < rows; i++) {
                float t = tile[i][j];
                c[row + i] = beta == 0f ? t : beta == 1f ? c[row + i] + t : t + beta * c[row + i];
            }
        }
    }

    /** pb[p][j] = op(B)[pc + p][jc + j]; columns from nc up to the padded width stay zero. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                              float[][] pb) {
        if (!transB) {
            for (int p = 0; p < kc; p++) System.arraycopy(b, bOff + (pc + p) * ldb + jc, pb[p], 0, nc);
        } else {
            // op(B)[p][j] = B[j][p]: read B rows contiguously, scatter down the packed rows.
            for (int j = 0; j < nc; j++) {
                int src = bOff + (jc + j) * ldb + pc;
                for (int p = 0; p < kc; p++) pb[p][j] = b[src + p];
            }
        }
    }

    /** pa[i * kc + p] = alpha * op(A)[ic + i][pc + p]; folding alpha here costs nothing later. */
    private static void packA(boolean transA, float alpha, float[] a, int aOff, int lda, int ic, int mc,
                              int pc, int kc, float[] pa) {
        if (!transA) {
            for (int i = 0; i < mc; i++) {
                int src = aOff + (ic + i) * lda + pc;
                int dst = i * kc;
                for (int p = 0; p < kc; p++) pa[dst + p] = alpha * a[src + p];
            }
        } else {
            for (int p = 0; p < kc; p++) {
                int src = aOff + (pc + p) * lda + ic;
                for (int i = 0; i < mc; i++) pa[i * kc + p] = alpha * a[src + i];
            }
        }
    }

    /**
     * tile[t0 + i] += pa[i][0..kc) · pb, for mc rows. Four rows and two k-steps per pass over j (C2 on
     * JDK 17 vectorises this 6-array loop but not wider ones, and only when every array is indexed by
     * the bare loop variable: hence rows as separate arrays). Each element's update order depends on
     * p only, so the row tail gives the same bits as a full group.
     */
    private static void kernel(float[] pa, int mc, int kc, float[][] pb, int width, float[][] tile, int t0) {
        int i = 0;
        for (; i + 4 <= mc; i += 4) {
            float[] c0 = tile[t0 + i], c1 = tile[t0 + i + 1], c2 = tile[t0 + i + 2], c3 = tile[t0 + i + 3];
            int a0 = i * kc, a1 = a0 + kc, a2 = a1 + kc, a3 = a2 + kc;
            int p = 0;
            for (; p + 2 <= kc; p += 2) {
                float[] b0 = pb[p], b1 = pb[p + 1];
                float x00 = pa[a0 + p], x01 = pa[a0 + p + 1], x10 = pa[a1 + p], x11 = pa[a1 + p + 1];
                float x20 = pa[a2 + p], x21 = pa[a2 + p + 1], x30 = pa[a3 + p], x31 = pa[a3 + p + 1];
                for (int j = 0; j < width; j++) {
                    float y0 = b0[j], y1 = b1[j];
                    c0[j] = Math.fma(x01, y1, Math.fma(x00, y0, c0[j]));
                    c1[j] = Math.fma(x11, y1, Math.fma(x10, y0, c1[j]));
                    c2[j] = Math.fma(x21, y1, Math.fma(x20, y0, c2[j]));
                    c3[j] = Math.fma(x31, y1, Math.fma(x30, y0, c3[j]));
                }
            }
            if (p < kc) {
                float[] b0 = pb[p];
                float x0 = pa[a0 + p], x1 = pa[a1 + p], x2 = pa[a2 + p], x3 = pa[a3 + p];
                for (int j = 0; j < width; j++) {
                    float y = b0[j];
                    c0[j] = Math.fma(x0, y, c0[j]);
                    c1[j] = Math.fma(x1, y, c1[j]);
                    c2[j] = Math.fma(x2, y, c2[j]);
                    c3[j] = Math.fma(x3, y, c3[j]);
                }
            }
        }
        for (; i < mc; i++) {
            float[] c0 = tile[t0 + i];
            int a0 = i * kc;
            int p = 0;
            for (; p + 2 <= kc; p += 2) {
                float[] b0 = pb[p], b1 = pb[p + 1];
                float x0 = pa[a0 + p], x1 = pa[a0 + p + 1];
                for (int j = 0; j < width; j++) c0[j] = Math.fma(x1, b1[j], Math.fma(x0, b0[j], c0[j]));
            }
            if (p < kc) {
                float[] b0 = pb[p];
                float x0 = pa[a0 + p];
                for (int j = 0; j < width; j++) c0[j] = Math.fma(x0, b0[j], c0[j]);
            }
        }
    }
}
