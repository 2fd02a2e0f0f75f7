package org.deltagrad.openblas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    /** Not promised by OpenBLAS, but true of its GEMM (threads split M and N): keep it that way. */
    @Test
    void resultsDoNotDependOnThreadCount() {
        GemmCase g = new GemmCase(true, false, 300, 257, 301, 1, 0.5);
        float[] reference = null;
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            float[] a = toFloat(g.randomA(3)), b = toFloat(g.randomB(3)), c = toFloat(g.initialC(3));
            Gemm.sgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), 1f, a, GemmCase.OFF, g.lda(),
                    b, GemmCase.OFF, g.ldb(), 0.5f, c, GemmCase.OFF, g.ldc());
            if (reference == null) reference = c; else assertArrayEquals(reference, c);
        }
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
