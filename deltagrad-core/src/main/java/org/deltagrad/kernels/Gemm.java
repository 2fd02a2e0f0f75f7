package org.deltagrad.kernels;

import java.util.Iterator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/**
 * Matrix multiply for the whole library: checks arguments, then calls the active {@link GemmBackend}.
 *
 * <p>The default backend is the first {@link ServiceLoader} provider that constructs without error
 * (e.g. OpenBLAS when {@code deltagrad-openblas} is on the class path), else {@link JavaGemm}.
 * {@code -Ddeltagrad.gemm=java} forces the pure-Java kernel. See {@link GemmBackend} for semantics.
 */
public final class Gemm {
    private static final System.Logger LOG = System.getLogger(Gemm.class.getName());
    private static volatile GemmBackend override;

    private Gemm() {
    }

    /** Loaded on first use, so that merely touching {@code Gemm} neither loads natives nor logs. */
    private static final class Default {
        static final GemmBackend BACKEND = discover();
    }

    /** The backend that {@link #sgemm} and {@link #dgemm} call now. */
    public static GemmBackend backend() {
        GemmBackend b = override;
        return b != null ? b : Default.BACKEND;
    }

    /** Replaces the backend (for tests and benchmarks); {@code null} restores the default. */
    public static void useBackend(GemmBackend backend) {
        override = backend;
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C} in float; see {@link GemmBackend}. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float alpha, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        if (a == null) throw new IllegalArgumentException("a must not be null");
        if (b == null) throw new IllegalArgumentException("b must not be null");
        if (c == null) throw new IllegalArgumentException("c must not be null");
        check(transA, transB, m, n, k, a.length, aOff, lda, b.length, bOff, ldb, c.length, cOff, ldc);
        if (m == 0 || n == 0) return;
        backend().sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C} in double; see {@link GemmBackend}. */
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k,
                             double alpha, double[] a, int aOff, int lda,
                             double[] b, int bOff, int ldb,
                             double beta, double[] c, int cOff, int ldc) {
        if (a == null) throw new IllegalArgumentException("a must not be null");
        if (b == null) throw new IllegalArgumentException("b must not be null");
        if (c == null) throw new IllegalArgumentException("c must not be null");
        check(transA, transB, m, n, k, a.length, aOff, lda, b.length, bOff, ldb, c.length, cOff, ldc);
        if (m == 0 || n == 0) return;
        backend().dgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    private static void check(boolean transA, boolean transB, int m, int n, int k,
                              int aLen, int aOff, int lda, int bLen, int bOff, int ldb,
                              int cLen, int cOff, int ldc) {
        if (m < 0) throw new IllegalArgumentException("m must be >= 0, got " + m);
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (k < 0) throw new IllegalArgumentException("k must be >= 0, got " + k);
        // Stored shapes (row-major): A is m×k or k×m, B is k×n or n×k, C is m×n.
        matrix("a", transA ? k : m, transA ? m : k, aLen, aOff, lda, transA ? "m" : "k");
        matrix("b", transB ? n : k, transB ? k : n, bLen, bOff, ldb, transB ? "k" : "n");
        matrix("c", m, n, cLen, cOff, ldc, "n");
    }

    private static void matrix(String name, int rows, int cols, int len, int off, int ld, String colsName) {
        String ldName = "ld" + name;
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(ldName + " must be >= max(1, " + colsName + ") = "
                    + Math.max(1, cols) + ", got " + ld);
        }
        if (off < 0) throw new IllegalArgumentException(name + "Off must be >= 0, got " + off);
        if (rows == 0 || cols == 0) return;
        long needed = off + (long) (rows - 1) * ld + cols;
        if (needed > len) {
            throw new IllegalArgumentException(name + " is too short: a " + rows + "x" + cols + " matrix at "
                    + name + "Off=" + off + " with " + ldName + "=" + ld + " needs " + needed
                    + " elements, array has " + len);
        }
    }

    private static GemmBackend discover() {
        GemmBackend chosen = null;
        if (!"java".equalsIgnoreCase(System.getProperty("deltagrad.gemm", "").trim())) {
            chosen = firstProvider();
        }
        if (chosen == null) chosen = new JavaGemm();
        LOG.log(System.Logger.Level.INFO, "deltagrad: GEMM backend = " + chosen.name());
        return chosen;
    }

    /** The first provider that constructs; natives that fail to load surface as errors we skip. */
    private static GemmBackend firstProvider() {
        return firstAvailable(ServiceLoader.load(GemmBackend.class, Gemm.class.getClassLoader()).stream().iterator());
    }

    static GemmBackend firstAvailable(Iterator<? extends Supplier<? extends GemmBackend>> providers) {
        for (int attempt = 0; attempt < 100; attempt++) { // bounded: a broken entry must not spin forever
            try {
                if (!providers.hasNext()) return null;
                return providers.next().get();
            } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "deltagrad: skipping unavailable GEMM backend: " + e);
            }
        }
        return null;
    }
}
