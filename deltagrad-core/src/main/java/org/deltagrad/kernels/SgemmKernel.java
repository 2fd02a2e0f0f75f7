package org.deltagrad.kernels;

import static org.deltagrad.kernels.JavaGemm.MC;
import static org.deltagrad.kernels.JavaGemm.NC;

/** The float32 body of {@link JavaGemm}; {@link DgemmKernel} is the same code for double. */
final class SgemmKernel {
    private SgemmKernel() {
    }

    /** Computes the block rows [i0, i1) × columns [j0, j1) of C, all of k. */
    static void block(boolean transA, boolean transB, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc, int i0, int i1, int j0, int j1) {
        scale(beta, c, cOff, ldc, i0, i1, j0, j1);
        if (k == 0 || alpha == 0f) return;
        JavaGemm.Scratch s = JavaGemm.scratch();
        int kc0 = JavaGemm.sliceDepth(k);
        float[] pb = s.packB(kc0 * Math.min(NC, j1 - j0));
        float[] pa = s.packA(Math.min(MC, i1 - i0) * kc0);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += kc0) {
                int kc = Math.min(kc0, k - pc);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    packA(transA, alpha, a, aOff, lda, ic, mc, pc, kc, pa);
                    kernel(pa, mc, kc, pb, nc, c, cOff + ic * ldc + jc, ldc);
                }
            }
        }
    }

    /** C = beta * C on the block; beta == 0 writes zeros so that NaN in C does not survive. */
    private static void scale(float beta, float[] c, int cOff, int ldc, int i0, int i1, int j0, int j1) {
        if (beta == 1f) return;
        for (int i = i0; i < i1; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row + j0, row + j1, 0f);
            } else {
                for (int j = row + j0; j < row + j1; j++) c[j] = beta * c[j];
            }
        }
    }

    /** pb[p * nc + j] = op(B)[pc + p][jc + j]. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                              float[] pb) {
        if (!transB) {
            for (int p = 0; p < kc; p++) System.arraycopy(b, bOff + (pc + p) * ldb + jc, pb, p * nc, nc);
        } else {
            // op(B)[p][j] = B[j][p]: read B rows contiguously, scatter with stride nc.
            for (int j = 0; j < nc; j++) {
                int src = bOff + (jc + j) * ldb + pc;
                for (int p = 0; p < kc; p++) pb[p * nc + j] = b[src + p];
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
     * C[mc×nc] += pa[mc×kc] · pb[kc×nc]. Four rows and four k-steps per pass over j: the 16 A values
     * are hoisted scalars, the j loop is contiguous in pb and C, and C2 vectorises it into FMAs.
     * Each element's update order depends only on p, so row tails give the same bits as full groups.
     */
    private static void kernel(float[] pa, int mc, int kc, float[] pb, int nc, float[] c, int c0, int ldc) {
        int i = 0;
        for (; i + 4 <= mc; i += 4) {
            int r0 = c0 + i * ldc, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
            int a0 = i * kc, a1 = a0 + kc, a2 = a1 + kc, a3 = a2 + kc;
            int p = 0;
            for (; p + 4 <= kc; p += 4) {
                float x00 = pa[a0 + p], x01 = pa[a0 + p + 1], x02 = pa[a0 + p + 2], x03 = pa[a0 + p + 3];
                float x10 = pa[a1 + p], x11 = pa[a1 + p + 1], x12 = pa[a1 + p + 2], x13 = pa[a1 + p + 3];
                float x20 = pa[a2 + p], x21 = pa[a2 + p + 1], x22 = pa[a2 + p + 2], x23 = pa[a2 + p + 3];
                float x30 = pa[a3 + p], x31 = pa[a3 + p + 1], x32 = pa[a3 + p + 2], x33 = pa[a3 + p + 3];
                int b0 = p * nc, b1 = b0 + nc, b2 = b1 + nc, b3 = b2 + nc;
                for (int j = 0; j < nc; j++) {
                    float y0 = pb[b0 + j], y1 = pb[b1 + j], y2 = pb[b2 + j], y3 = pb[b3 + j];
                    c[r0 + j] = Math.fma(x03, y3, Math.fma(x02, y2, Math.fma(x01, y1, Math.fma(x00, y0, c[r0 + j]))));
                    c[r1 + j] = Math.fma(x13, y3, Math.fma(x12, y2, Math.fma(x11, y1, Math.fma(x10, y0, c[r1 + j]))));
                    c[r2 + j] = Math.fma(x23, y3, Math.fma(x22, y2, Math.fma(x21, y1, Math.fma(x20, y0, c[r2 + j]))));
                    c[r3 + j] = Math.fma(x33, y3, Math.fma(x32, y2, Math.fma(x31, y1, Math.fma(x30, y0, c[r3 + j]))));
                }
            }
            for (; p < kc; p++) {
                float x0 = pa[a0 + p], x1 = pa[a1 + p], x2 = pa[a2 + p], x3 = pa[a3 + p];
                int b0 = p * nc;
                for (int j = 0; j < nc; j++) {
                    float y = pb[b0 + j];
                    c[r0 + j] = Math.fma(x0, y, c[r0 + j]);
                    c[r1 + j] = Math.fma(x1, y, c[r1 + j]);
                    c[r2 + j] = Math.fma(x2, y, c[r2 + j]);
                    c[r3 + j] = Math.fma(x3, y, c[r3 + j]);
                }
            }
        }
        for (; i < mc; i++) {
            int r0 = c0 + i * ldc;
            int a0 = i * kc;
            int p = 0;
            for (; p + 4 <= kc; p += 4) {
                float x0 = pa[a0 + p], x1 = pa[a0 + p + 1], x2 = pa[a0 + p + 2], x3 = pa[a0 + p + 3];
                int b0 = p * nc, b1 = b0 + nc, b2 = b1 + nc, b3 = b2 + nc;
                for (int j = 0; j < nc; j++) {
                    c[r0 + j] = Math.fma(x3, pb[b3 + j], Math.fma(x2, pb[b2 + j],
                            Math.fma(x1, pb[b1 + j], Math.fma(x0, pb[b0 + j], c[r0 + j]))));
                }
            }
            for (; p < kc; p++) {
                float x0 = pa[a0 + p];
                int b0 = p * nc;
                for (int j = 0; j < nc; j++) c[r0 + j] = Math.fma(x0, pb[b0 + j], c[r0 + j]);
            }
        }
    }
}
