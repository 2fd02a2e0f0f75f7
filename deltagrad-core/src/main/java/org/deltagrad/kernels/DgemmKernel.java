package org.deltagrad.kernels;

import static org.deltagrad.kernels.JavaGemm.MC;
import static org.deltagrad.kernels.JavaGemm.NC;

/** The float64 twin of {@link SgemmKernel}: the same code with double in place of float. */
final class DgemmKernel {
    private DgemmKernel() {
    }

    /**
     * Computes rows [i0, i1) × columns [j0, j1) of the product P = alpha·op(A)·op(B), over all of k, and
     * stores C = P + beta·C there, or into the transposed place of C when transC (then P = Cᵀ).
     */
    static void block(boolean transA, boolean transB, boolean transC, int k, double alpha,
                      double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                      double beta, double[] c, int cOff, int ldc, int i0, int i1, int j0, int j1) {
        JavaGemm.Scratch s = JavaGemm.scratch();
        int rows = i1 - i0;
        int kc0 = JavaGemm.sliceDepth(k);
        double[] pa = s.packAd(Math.min(MC, rows) * kc0);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            int width = JavaGemm.paddedWidth(nc);
            double[][] tile = s.tiled(rows, width);
            for (int pc = 0; pc < k; pc += kc0) {
                int kc = Math.min(kc0, k - pc);
                double[][] pb = s.packBd(kc, width);
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
    static void scale(double beta, double[] c, int cOff, int ldc, int m, int n) {
        if (beta == 1.0) return;
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0.0) {
                java.util.Arrays.fill(c, row, row + n, 0.0);
            } else {
                for (int j = row; j < row + n; j++) c[j] = beta * c[j];
            }
        }
    }

    /** C = tile + beta * C (the tile already holds alpha * A * B); beta == 0 ignores C, NaN included. */
    private static void writeBack(double[][] tile, int rows, int nc, double beta, double[] c, int c0, int ldc) {
        for (int i = 0; i < rows; i++) {
            double[] t = tile[i];
            int row = c0 + i * ldc;
            if (beta == 0.0) {
                System.arraycopy(t, 0, c, row, nc);
            } else if (beta == 1.0) {
                for (int j = 0; j < nc; j++) c[row + j] += t[j];
            } else {
                for (int j = 0; j < nc; j++) c[row + j] = t[j] + beta * c[row + j];
            }
        }
    }

    /** Like writeBack, but tile row i is column i of C (starting at c0). */
    private static void writeBackTransposed(double[][] tile, int rows, int nc, double beta, double[] c, int c0,
                                            int ldc) {
        for (int j = 0; j < nc; j++) {
            int row = c0 + j * ldc;
            for (int i = 0; i < rows; i++) {
                double t = tile[i][j];
                c[row + i] = beta == 0.0 ? t : beta == 1.0 ? c[row + i] + t : t + beta * c[row + i];
            }
        }
    }

    /** pb[p][j] = op(B)[pc + p][jc + j]; columns from nc up to the padded width stay zero. */
    private static void packB(boolean transB, double[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                              double[][] pb) {
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
    private static void packA(boolean transA, double alpha, double[] a, int aOff, int lda, int ic, int mc,
                              int pc, int kc, double[] pa) {
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
    private static void kernel(double[] pa, int mc, int kc, double[][] pb, int width, double[][] tile, int t0) {
        int i = 0;
        for (; i + 4 <= mc; i += 4) {
            double[] c0 = tile[t0 + i], c1 = tile[t0 + i + 1], c2 = tile[t0 + i + 2], c3 = tile[t0 + i + 3];
            int a0 = i * kc, a1 = a0 + kc, a2 = a1 + kc, a3 = a2 + kc;
            int p = 0;
            for (; p + 2 <= kc; p += 2) {
                double[] b0 = pb[p], b1 = pb[p + 1];
                double x00 = pa[a0 + p], x01 = pa[a0 + p + 1], x10 = pa[a1 + p], x11 = pa[a1 + p + 1];
                double x20 = pa[a2 + p], x21 = pa[a2 + p + 1], x30 = pa[a3 + p], x31 = pa[a3 + p + 1];
                for (int j = 0; j < width; j++) {
                    double y0 = b0[j], y1 = b1[j];
                    c0[j] = Math.fma(x01, y1, Math.fma(x00, y0, c0[j]));
                    c1[j] = Math.fma(x11, y1, Math.fma(x10, y0, c1[j]));
                    c2[j] = Math.fma(x21, y1, Math.fma(x20, y0, c2[j]));
                    c3[j] = Math.fma(x31, y1, Math.fma(x30, y0, c3[j]));
                }
            }
            if (p < kc) {
                double[] b0 = pb[p];
                double x0 = pa[a0 + p], x1 = pa[a1 + p], x2 = pa[a2 + p], x3 = pa[a3 + p];
                for (int j = 0; j < width; j++) {
                    double y = b0[j];
                    c0[j] = Math.fma(x0, y, c0[j]);
                    c1[j] = Math.fma(x1, y, c1[j]);
                    c2[j] = Math.fma(x2, y, c2[j]);
                    c3[j] = Math.fma(x3, y, c3[j]);
                }
            }
        }
        for (; i < mc; i++) {
            double[] c0 = tile[t0 + i];
            int a0 = i * kc;
            int p = 0;
            for (; p + 2 <= kc; p += 2) {
                double[] b0 = pb[p], b1 = pb[p + 1];
                double x0 = pa[a0 + p], x1 = pa[a0 + p + 1];
                for (int j = 0; j < width; j++) c0[j] = Math.fma(x1, b1[j], Math.fma(x0, b0[j], c0[j]));
            }
            if (p < kc) {
                double[] b0 = pb[p];
                double x0 = pa[a0 + p];
                for (int j = 0; j < width; j++) c0[j] = Math.fma(x0, b0[j], c0[j]);
            }
        }
    }
}
