package org.deltagrad.openblas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.GemmCase;
import org.deltagrad.kernels.Parallel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class OpenBlasGemmTest {
    private static final int THREADS = Parallel.threads();

    @BeforeAll
    static void useOpenBlas() {
        Gemm.useBackend(new OpenBlasGemm());
    }

    @AfterAll
    static void restore() {
        Gemm.useBackend(null);
        Parallel.setThreads(THREADS);
    }

    static Stream<GemmCase> table() {
        return GemmCase.table().stream();
    }

    @Test
    void isTheDefaultBackendWhenOnTheClassPath() {
        Gemm.useBackend(null);
        try {
            assertInstanceOf(OpenBlasGemm.class, Gemm.backend());
            assertTrue(Gemm.backend().name().startsWith("OpenBLAS 0.3."), Gemm.backend().name());
        } finally {
            useOpenBlas();
        }
    }

    @ParameterizedTest
    @MethodSource("table")
    void sgemmMatchesNaiveLoop(GemmCase g) {
        checkSgemm(g);
    }

    @ParameterizedTest
    @MethodSource("table")
    void dgemmMatchesNaiveLoop(GemmCase g) {
        checkDgemm(g);
    }

    /** One float case through the active backend, on one and on two threads, against the naive loop. */
    static void checkSgemm(GemmCase g) {
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            float[] a = toFloat(g.randomA(7)), b = toFloat(g.randomB(7)), c = toFloat(g.initialC(7));
            double[] c0 = toDouble(c);
            Gemm.sgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), (float) g.alpha(), a, GemmCase.OFF, g.lda(),
                    b, GemmCase.OFF, g.ldb(), (float) g.beta(), c, GemmCase.OFF, g.ldc());
            g.check(toDouble(a), toDouble(b), c0, toDouble(c), 0x1p-24);
        }
    }

    static void checkDgemm(GemmCase g) {
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            double[] a = g.randomA(9), b = g.randomB(9), c = g.initialC(9);
            double[] c0 = c.clone();
            Gemm.dgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), g.alpha(), a, GemmCase.OFF, g.lda(),
                    b, GemmCase.OFF, g.ldb(), g.beta(), c, GemmCase.OFF, g.ldc());
            g.check(a, b, c0, c, 0x1p-53);
        }
    }

    @Test
    void productsAreCutWhereOpenBlasSmallKernelsTakeThePieces() {
        // sgemm_small_kernel_permit (AVX-512 targets), in our row-major terms.
        assertTrue(OpenBlasGemm.smallKernelTakes(false, true, 64, 17, 784));   // 1,088 elements of C, 853K multiply-adds
        assertFalse(OpenBlasGemm.smallKernelTakes(false, true, 64, 19, 784));  // 1,216 elements: its "TN" limit
        assertFalse(OpenBlasGemm.smallKernelTakes(false, true, 64, 17, 31));   // K < 32
        assertTrue(OpenBlasGemm.smallKernelTakes(true, false, 100, 131, 64));  // 838K
        assertFalse(OpenBlasGemm.smallKernelTakes(true, false, 100, 157, 64)); // 1.005M
        assertTrue(OpenBlasGemm.smallKernelTakes(false, false, 100, 100, 100)); // exactly 10^6
        assertFalse(OpenBlasGemm.smallKernelTakes(true, true, 5, 5, 3));       // its "TT" case needs K >= 4

        assertEquals(6, OpenBlasGemm.smallPieces(false, true, 64, 100, 784));  // x·W1ᵀ at batch 64: rows of 10-11
        assertEquals(6, OpenBlasGemm.smallPieces(true, false, 100, 784, 64));  // ∂W1 = gᵀ·x
        assertEquals(4, OpenBlasGemm.smallPieces(false, true, 32, 100, 784));  // 3 pieces would do: even for two threads
        assertEquals(4, OpenBlasGemm.smallPieces(false, false, 64, 256, 128));  // 3 by rows or by columns: rows, even
        assertEquals(-2, OpenBlasGemm.smallPieces(false, false, 1, 20000, 100)); // one row: columns
        assertEquals(0, OpenBlasGemm.smallPieces(false, true, 64, 10, 100));   // small already: one call
        assertEquals(0, OpenBlasGemm.smallPieces(false, true, 1024, 100, 784)); // would need more than 32 pieces
        assertEquals(0, OpenBlasGemm.smallPieces(false, true, 64, 100, 20));   // K < 32 in its "TN" case: never
        assertEquals(0, OpenBlasGemm.smallPieces(false, false, 16, 36864, 25)); // K < 32: packed (a convolution's product)
        assertEquals(-2, OpenBlasGemm.smallPieces(false, false, 1, 40000, 32)); // from K = 32 on: cut

        assertTrue(OpenBlasGemm.smallPiecesWanted(null, true, "cooperlake"));
        assertTrue(OpenBlasGemm.smallPiecesWanted(null, true, "skylakex"));
        assertFalse(OpenBlasGemm.smallPiecesWanted(null, true, "haswell"));
        assertFalse(OpenBlasGemm.smallPiecesWanted(null, true, null));
        assertFalse(OpenBlasGemm.smallPiecesWanted(null, false, "cooperlake")); // copying each piece would not pay
        assertTrue(OpenBlasGemm.smallPiecesWanted("true", false, null));
        assertFalse(OpenBlasGemm.smallPiecesWanted("false", true, "cooperlake"));
    }

    /** One float case on one and on two threads: the same bits. */
    static void checkSameBitsOnOneAndTwoThreads(GemmCase g) {
        float[] reference = null;
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            float[] a = toFloat(g.randomA(5)), b = toFloat(g.randomB(5)), c = toFloat(g.initialC(5));
            Gemm.sgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), (float) g.alpha(), a, GemmCase.OFF, g.lda(),
                    b, GemmCase.OFF, g.ldb(), (float) g.beta(), c, GemmCase.OFF, g.ldc());
            if (reference == null) reference = c; else assertArrayEquals(reference, c, g + ": 1 and 2 threads differ");
        }
    }

    /**
     * OpenBLAS's bits depend on the shape of each call, so products are cut into pieces by shape alone. On this
     * machine's target only; {@link ThreadCountDeterminismTest} checks every target OpenBLAS may pick.
     */
    @Test
    void resultsDoNotDependOnThreadCount() {
        GemmCase g = new GemmCase(true, false, 300, 257, 301, 1, 0.5);
        float[] a = toFloat(g.randomA(3)), b = toFloat(g.randomB(3)), c0 = toFloat(g.initialC(3)), reference = null;
        for (int threads : new int[] {1, 2, 3}) {
            float[] c = c0.clone();
            try (Parallel.Scope s = Parallel.withThreads(threads)) {
                Gemm.sgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), 1f, a, GemmCase.OFF, g.lda(),
                        b, GemmCase.OFF, g.ldb(), 0.5f, c, GemmCase.OFF, g.ldc());
            }
            if (reference == null) reference = c; else assertArrayEquals(reference, c, threads + " threads");
        }
    }

    @Test
    void productsAreCutByShapeIntoAnEvenNumberOfPieces() {
        assertEquals(1, OpenBlasGemm.pieces(64, 10, 100));        // below SPLIT_FLOPS: one call
        assertEquals(-2, OpenBlasGemm.pieces(64, 100, 784));      // x·W1ᵀ at batch 64: C is wider than tall
        assertEquals(2, OpenBlasGemm.pieces(100, 64, 784));
        assertEquals(2, OpenBlasGemm.pieces(1024, 256, 784));     // 411 MFLOP: two pieces of at most 2^28
        assertEquals(4, OpenBlasGemm.pieces(1024, 1024, 300));    // 629 MFLOP
        assertEquals(16, OpenBlasGemm.pieces(4096, 4096, 4096));  // at most MAX_PIECES
        assertEquals(1, OpenBlasGemm.pieces(6, 6, 40000));        // too narrow to cut
        assertEquals(-2, OpenBlasGemm.pieces(8, 40, 10000));      // 40 columns: two pieces of at least 16
    }

    private static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
        return f;
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }
}
