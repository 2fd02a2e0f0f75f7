package org.deltagrad.kernels;

/** Temporary reference GEMM (row-major); replaced by the blocked kernel and backends. */
public final class Gemm {
    private Gemm() {}

    public static void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int ao, int lda,
                             float[] b, int bo, int ldb, float beta, float[] c, int co, int ldc) {
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += a[ao + (ta ? p * lda + i : i * lda + p)] * b[bo + (tb ? j * ldb + p : p * ldb + j)];
            int ci = co + i * ldc + j;
            c[ci] = (float) (alpha * s + (beta == 0 ? 0 : beta * c[ci]));
        }
    }

    public static void dgemm(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, int ao, int lda,
                             double[] b, int bo, int ldb, double beta, double[] c, int co, int ldc) {
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += a[ao + (ta ? p * lda + i : i * lda + p)] * b[bo + (tb ? j * ldb + p : p * ldb + j)];
            int ci = co + i * ldc + j;
            c[ci] = alpha * s + (beta == 0 ? 0 : beta * c[ci]);
        }
    }
}
