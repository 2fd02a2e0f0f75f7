package org.deltagrad.kernels;

/**
 * The pure-Java GEMM: cache-blocked, packed, multithreaded, written so that HotSpot's C2 turns the
 * innermost loop into SIMD fused multiply-adds.
 *
 * <p>Blocking (Goto-style, simplified): for each NC-wide column block and KC-deep slice of k, the
 * slice of op(B) is packed into a contiguous KC×NC panel (kept in L2) and scaled rows of op(A) into an
 * MC×KC panel; the micro-kernel then updates 4 rows of C at a time with 4 k-steps per pass over a row
 * (16 FMAs per element per pass), loading each packed B value once for four rows. Transposes are
 * absorbed by packing, so callers never materialise one.
 *
 * <p>Determinism: every element of C is computed by the same sequence of roundings whatever the
 * thread count, because threads split C (rows, or columns when m is small) and never k, and the k
 * blocking depends only on k.
 */
public final class JavaGemm implements GemmBackend {
    /** Below this many flops (2mnk) one thread is faster than waking the pool. */
    static final double PARALLEL_FLOPS = 8e6;
    static final int KC = 256;
    static final int NC = 512;
    static final int MC = 64;
    /** Rows of C per micro-kernel pass, and the granularity of row splits across threads. */
    static final int MR = 4;
    /** Column granularity of column splits: one 512-bit vector of floats. */
    static final int NR = 16;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    @Override
    public String name() {
        return "pure Java (" + Parallel.threads() + " threads)";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (2.0 * m * n * k < PARALLEL_FLOPS || Parallel.threads() == 1) {
            SgemmKernel.block(transA, transB, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, 0, m, 0, n);
        } else if (splitRows(m, n)) {
            Parallel.forRange((m + MR - 1) / MR, 1, (g0, g1) -> SgemmKernel.block(transA, transB, k, alpha,
                    a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, g0 * MR, Math.min(m, g1 * MR), 0, n));
        } else {
            Parallel.forRange((n + NR - 1) / NR, 1, (g0, g1) -> SgemmKernel.block(transA, transB, k, alpha,
                    a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, 0, m, g0 * NR, Math.min(n, g1 * NR)));
        }
    }

    @Override
    public void dgemm(boolean transA, boolean transB, int m, int n, int k,
                      double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                      double beta, double[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (2.0 * m * n * k < PARALLEL_FLOPS || Parallel.threads() == 1) {
            DgemmKernel.block(transA, transB, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, 0, m, 0, n);
        } else if (splitRows(m, n)) {
            Parallel.forRange((m + MR - 1) / MR, 1, (g0, g1) -> DgemmKernel.block(transA, transB, k, alpha,
                    a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, g0 * MR, Math.min(m, g1 * MR), 0, n));
        } else {
            Parallel.forRange((n + NR - 1) / NR, 1, (g0, g1) -> DgemmKernel.block(transA, transB, k, alpha,
                    a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, 0, m, g0 * NR, Math.min(n, g1 * NR)));
        }
    }

    /** Rows unless m is too short to give every thread a few row groups (e.g. batch-1 inference). */
    private static boolean splitRows(int m, int n) {
        int t = Parallel.threads();
        return m >= 4 * MR * t || (m + MR - 1) / MR >= (n + NR - 1) / NR;
    }

    /** Depth of each k slice: at most KC, balanced so the last slice is not a sliver, a multiple of 4. */
    static int sliceDepth(int k) {
        int slices = Math.max(1, (k + KC - 1) / KC);
        return ((k + slices - 1) / slices + 3) & ~3;
    }

    /** Per-thread packing buffers, grown on demand and kept, so steady-state calls allocate nothing. */
    static final class Scratch {
        float[] packA = new float[0];
        float[] packB = new float[0];
        double[] packAd = new double[0];
        double[] packBd = new double[0];

        float[] packA(int size) {
            if (packA.length < size) packA = new float[size];
            return packA;
        }

        float[] packB(int size) {
            if (packB.length < size) packB = new float[size];
            return packB;
        }

        double[] packAd(int size) {
            if (packAd.length < size) packAd = new double[size];
            return packAd;
        }

        double[] packBd(int size) {
            if (packBd.length < size) packBd = new double[size];
            return packBd;
        }
    }

    static Scratch scratch() {
        return SCRATCH.get();
    }
}
