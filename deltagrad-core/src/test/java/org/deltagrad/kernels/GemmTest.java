package org.deltagrad.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GemmTest {
    private static final double FLOAT_EPS = 0x1p-24;
    private static final double DOUBLE_EPS = 0x1p-53;
    private static final int THREADS = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(THREADS);
        Gemm.useBackend(null);
    }

    static Stream<GemmCase> table() {
        return GemmCase.table().stream();
    }

    @ParameterizedTest
    @MethodSource("table")
    void sgemmMatchesNaiveLoop(GemmCase g) {
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            checkFloat(g, Gemm::sgemm);
        }
    }

    /** Both float32 kernels, whichever the default is: the Vector API one needs the module (surefire adds it). */
    @ParameterizedTest
    @MethodSource("table")
    void bothFloatKernelsMatchNaiveLoop(GemmCase g) {
        assertTrue(JavaGemm.vectorApi(), "surefire's argLine adds jdk.incubator.vector");
        for (boolean vector : new boolean[] {false, true}) {
            JavaGemm gemm = new JavaGemm(vector);
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                checkFloat(g, gemm::sgemm);
            }
        }
    }

    @Test
    void vectorKernelIsChosenAndGivesTheAutoVectorisedBits() {
        assertTrue(new JavaGemm().name().contains("Vector API"));
        // Both are one fma chain per element in k order; same orientation and alpha == 1 give the same bits.
        GemmCase g = new GemmCase(false, true, 66, 784, 300, 1, 0);
        float[] a = toFloat(g.randomA(3)), b = toFloat(g.randomB(3));
        float[] c1 = toFloat(g.initialC(3)), c2 = c1.clone();
        new JavaGemm(true).sgemm(false, true, g.m(), g.n(), g.k(), 1f, a, GemmCase.OFF, g.lda(), b, GemmCase.OFF,
                g.ldb(), 0f, c1, GemmCase.OFF, g.ldc());
        new JavaGemm(false).sgemm(false, true, g.m(), g.n(), g.k(), 1f, a, GemmCase.OFF, g.lda(), b, GemmCase.OFF,
                g.ldb(), 0f, c2, GemmCase.OFF, g.ldc());
        assertArrayEquals(c2, c1);
    }

    @ParameterizedTest
    @MethodSource("table")
    void dgemmMatchesNaiveLoop(GemmCase g) {
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            checkDouble(g);
        }
    }

    @Property(tries = 200)
    void randomShapesMatch(@ForAll @IntRange(min = 0, max = 40) int m, @ForAll @IntRange(min = 0, max = 40) int n,
                           @ForAll @IntRange(min = 0, max = 70) int k, @ForAll boolean transA,
                           @ForAll boolean transB) {
        GemmCase g = new GemmCase(transA, transB, m, n, k, 0.75, 0.5);
        checkFloat(g, Gemm::sgemm);
        checkFloat(g, new JavaGemm(false)::sgemm);
        checkDouble(g);
    }

    @Test
    void resultsAreBitIdenticalAcrossThreadCounts() {
        // Large enough to go parallel; shapes split by rows and (m small) by columns; both float kernels.
        for (boolean vector : new boolean[] {false, true}) {
            Gemm.useBackend(new JavaGemm(vector));
            for (GemmCase g : List.of(new GemmCase(false, false, 300, 200, 300, 1, 0),
                    new GemmCase(true, true, 301, 203, 299, 0.5, 1), new GemmCase(false, true, 6, 2000, 700, 1, 0.5),
                    new GemmCase(false, true, 1024, 100, 784, 1, 0), new GemmCase(true, false, 784, 100, 1024, 1, 0))) {
                float[] reference = null;
                double[] referenceD = null;
                for (int threads : new int[] {1, 2, 3}) {
                    Parallel.setThreads(threads);
                    float[] a = toFloat(g.randomA(1)), b = toFloat(g.randomB(1)), c = toFloat(g.initialC(1));
                    Gemm.sgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), (float) g.alpha(), a, GemmCase.OFF,
                            g.lda(), b, GemmCase.OFF, g.ldb(), (float) g.beta(), c, GemmCase.OFF, g.ldc());
                    double[] cd = g.initialC(1);
                    Gemm.dgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), g.alpha(), g.randomA(1), GemmCase.OFF,
                            g.lda(), g.randomB(1), GemmCase.OFF, g.ldb(), g.beta(), cd, GemmCase.OFF, g.ldc());
                    if (reference == null) {
                        reference = c;
                        referenceD = cd;
                    } else {
                        assertArrayEquals(reference, c, g + " float, vector=" + vector + ", threads=" + threads);
                        assertArrayEquals(referenceD, cd, g + " double, threads=" + threads);
                    }
                }
            }
        }
    }

    @Test
    void validationNamesTheBadArgument() {
        float[] x = new float[12];
        assertMessage("m must be >= 0", () -> Gemm.sgemm(false, false, -1, 2, 2, 1, x, 0, 2, x, 0, 2, 0, x, 0, 2));
        assertMessage("k must be >= 0", () -> Gemm.sgemm(false, false, 2, 2, -3, 1, x, 0, 2, x, 0, 2, 0, x, 0, 2));
        assertMessage("lda must be >= max(1, k) = 3",
                () -> Gemm.sgemm(false, false, 2, 2, 3, 1, x, 0, 2, x, 0, 2, 0, x, 0, 2));
        assertMessage("lda must be >= max(1, m) = 2",
                () -> Gemm.sgemm(true, false, 2, 2, 3, 1, x, 0, 1, x, 0, 2, 0, x, 0, 2));
        assertMessage("ldb must be >= max(1, k) = 3",
                () -> Gemm.sgemm(false, true, 2, 2, 3, 1, x, 0, 3, x, 0, 2, 0, x, 0, 2));
        assertMessage("ldc must be >= max(1, n) = 2",
                () -> Gemm.sgemm(false, false, 2, 2, 2, 1, x, 0, 2, x, 0, 2, 0, x, 0, 1));
        assertMessage("b is too short", () -> Gemm.sgemm(false, false, 2, 2, 2, 1, x, 0, 2, x, 10, 2, 0, x, 0, 2));
        assertMessage("cOff must be >= 0", () -> Gemm.sgemm(false, false, 2, 2, 2, 1, x, 0, 2, x, 0, 2, 0, x, -1, 2));
        assertMessage("a must not be null",
                () -> Gemm.dgemm(false, false, 2, 2, 2, 1, null, 0, 2, new double[4], 0, 2, 0, new double[4], 0, 2));
        double[] d = new double[5];
        assertMessage("c is too short", () -> Gemm.dgemm(false, false, 2, 2, 2, 1, d, 0, 2, d, 0, 2, 0, d, 0, 4));
        // Empty products are fine with empty arrays.
        Gemm.sgemm(false, false, 0, 0, 0, 1, new float[0], 0, 1, new float[0], 0, 1, 0, new float[0], 0, 1);
    }

    @Test
    void useBackendOverridesAndNullRestores() {
        GemmBackend java = new JavaGemm();
        Gemm.useBackend(java);
        assertSame(java, Gemm.backend());
        Gemm.useBackend(null);
        assertInstanceOf(JavaGemm.class, Gemm.backend(), "core alone has no other provider");
        assertTrue(Gemm.backend().name().contains("Java"));
    }

    @Test
    void providerThatFailsToLoadNativesIsSkipped() {
        GemmBackend fallback = new JavaGemm();
        List<Supplier<GemmBackend>> providers = List.of(
                () -> { throw new UnsatisfiedLinkError("no jniopenblas in java.library.path"); },
                () -> { throw new IllegalStateException("broken"); },
                () -> fallback);
        assertSame(fallback, Gemm.firstAvailable(providers.iterator()));
        assertEquals(null, Gemm.firstAvailable(List.<Supplier<GemmBackend>>of().iterator()));
    }

    interface FloatGemm {
        void call(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                  float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc);
    }

    static void checkFloat(GemmCase g, FloatGemm gemm) {
        float[] a = toFloat(g.randomA(7)), b = toFloat(g.randomB(7)), c = toFloat(g.initialC(7));
        double[] c0 = toDouble(c);
        gemm.call(g.transA(), g.transB(), g.m(), g.n(), g.k(), (float) g.alpha(), a, GemmCase.OFF, g.lda(),
                b, GemmCase.OFF, g.ldb(), (float) g.beta(), c, GemmCase.OFF, g.ldc());
        g.check(toDouble(a), toDouble(b), c0, toDouble(c), FLOAT_EPS);
    }

    static void checkDouble(GemmCase g) {
        double[] a = g.randomA(9), b = g.randomB(9), c = g.initialC(9);
        double[] c0 = c.clone();
        Gemm.dgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), g.alpha(), a, GemmCase.OFF, g.lda(),
                b, GemmCase.OFF, g.ldb(), g.beta(), c, GemmCase.OFF, g.ldc());
        g.check(a, b, c0, c, DOUBLE_EPS);
    }

    private static void assertMessage(String expected, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }

    static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
        return f;
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }
}
