package org.deltagrad.kernels;

/**
 * A general matrix multiply, {@code C = alpha * op(A) * op(B) + beta * C}, on row-major arrays.
 *
 * <p>{@code op(A)} is m×k: A is stored m×k, or k×m when {@code transA}, with row stride {@code lda}
 * starting at {@code a[aOff]}; likewise {@code op(B)} is k×n and C is m×n with stride {@code ldc}.
 * When {@code beta == 0} C is overwritten, even where it holds NaN. Implementations may assume the
 * arguments were checked by {@link Gemm} and that m, n > 0, and must give the same bits on any thread
 * count: cut a product into pieces fixed by its shape and let {@link Parallel#forEachPiece} share them
 * out, never into one piece per thread.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader}; a provider whose constructor
 * throws (for example because its native library does not load) is skipped.
 */
public interface GemmBackend {
    /** A human-readable description, e.g. {@code "OpenBLAS 0.3.31 (2 threads)"}. */
    String name();

    void sgemm(boolean transA, boolean transB, int m, int n, int k,
               float alpha, float[] a, int aOff, int lda,
               float[] b, int bOff, int ldb,
               float beta, float[] c, int cOff, int ldc);

    void dgemm(boolean transA, boolean transB, int m, int n, int k,
               double alpha, double[] a, int aOff, int lda,
               double[] b, int bOff, int ldb,
               double beta, double[] c, int cOff, int ldc);
}
