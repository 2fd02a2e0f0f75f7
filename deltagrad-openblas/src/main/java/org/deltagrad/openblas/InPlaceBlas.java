package org.deltagrad.openblas;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Optional;

/**
 * {@code cblas_sgemm}/{@code cblas_dgemm} on the tensors' own heap arrays, without copying them off-heap: on JDK 22
 * or newer, through the Foreign Function API's critical downcalls, which may pass heap memory straight to native
 * code (the JVM keeps the arrays in place for the length of the call, as JNI's {@code GetPrimitiveArrayCritical}
 * does). On JDK 17–21 {@link #AVAILABLE} is false and {@link OpenBlasGemm} copies operands instead.
 *
 * <p>The source stays Java 17: the API is reached through method handles looked up at run time, typed with
 * {@code Object} where it says {@code MemorySegment}, and called with {@code invokeExact} from static finals, which
 * the JIT inlines like direct calls. Needs native access (the CLI's manifest grants it; a library user on JDK 24+
 * otherwise sees the JVM's warning about restricted methods, which JavaCPP's own library loading also triggers).
 */
final class InPlaceBlas {
    /** Whether the in-place calls work here; decided once, when the class loads. */
    static final boolean AVAILABLE;
    /** Why not, when not (for the backend's name and the log). */
    static final String UNAVAILABLE_BECAUSE;

    /**
     * The CPU target OpenBLAS runs ({@code openblas_get_corename()}, e.g. "cooperlake" on an AMD Zen 4, or the one that
     * OPENBLAS_CORETYPE named), lower case; null when the in-place path is not available.
     */
    static final String CORE_NAME;

    private static final MethodHandle SGEMM, DGEMM, FLOATS, DOUBLES, SLICE;

    private InPlaceBlas() {
    }

    static {
        MethodHandle sgemm = null, dgemm = null, floats = null, doubles = null, slice = null;
        String why = null, core = null;
        if (Boolean.getBoolean("deltagrad.openblas.copy")) {
            why = "-Ddeltagrad.openblas.copy=true";
        } else if (Runtime.version().feature() < 22) {
            why = "JDK " + Runtime.version().feature() + " (in place needs 22+)";
        } else {
            try {
                org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class); // idempotent
                Class<?> segment = foreign("MemorySegment");
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                floats = lookup.findStatic(segment, "ofArray", MethodType.methodType(segment, float[].class))
                        .asType(MethodType.methodType(Object.class, float[].class));
                doubles = lookup.findStatic(segment, "ofArray", MethodType.methodType(segment, double[].class))
                        .asType(MethodType.methodType(Object.class, double[].class));
                slice = lookup.findVirtual(segment, "asSlice", MethodType.methodType(segment, long.class))
                        .asType(MethodType.methodType(Object.class, Object.class, long.class));
                sgemm = downcall("cblas_sgemm", float.class);
                dgemm = downcall("cblas_dgemm", double.class);
                try {
                    core = coreName(segment);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    core = null; // only tunes the split (OpenBlasGemm.SMALL_PIECES); GEMM works without it
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                Throwable cause = e instanceof InvocationTargetException && e.getCause() != null ? e.getCause() : e;
                why = "the Foreign Function API failed: " + cause;
                sgemm = dgemm = null;
            }
        }
        SGEMM = sgemm;
        DGEMM = dgemm;
        FLOATS = floats;
        DOUBLES = doubles;
        SLICE = slice;
        AVAILABLE = sgemm != null && dgemm != null;
        UNAVAILABLE_BECAUSE = AVAILABLE ? null : why;
        CORE_NAME = AVAILABLE ? core : null;
    }

    /** {@code char *openblas_get_corename(void)}, read as a string (JavaCPP's presets do not map it). */
    private static String coreName(Class<?> segment) throws ReflectiveOperationException {
        Class<?> layoutClass = foreign("MemoryLayout");
        Object noArgs = Array.newInstance(layoutClass, 0);
        Object descriptor = foreign("FunctionDescriptor").getMethod("of", layoutClass, noArgs.getClass())
                .invoke(null, foreign("ValueLayout").getField("ADDRESS").get(null), noArgs);
        MethodHandle handle = link("openblas_get_corename", descriptor, false);
        try {
            Object address = handle.invoke();
            // The returned segment has length zero: give it room for the name, then read it up to its NUL.
            Object name = segment.getMethod("reinterpret", long.class).invoke(address, 64L);
            return ((String) segment.getMethod("getString", long.class).invoke(name, 0L)).trim().toLowerCase(java.util.Locale.ROOT);
        } catch (ReflectiveOperationException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * A critical downcall handle for {@code void cblas_?gemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb,
     * beta, c, ldc)} that accepts heap segments, retyped with Object for the three pointers.
     */
    private static MethodHandle downcall(String name, Class<?> scalar) throws ReflectiveOperationException {
        Class<?> layoutClass = foreign("MemoryLayout"), valueLayout = foreign("ValueLayout");
        Object i = valueLayout.getField("JAVA_INT").get(null);
        Object s = valueLayout.getField(scalar == float.class ? "JAVA_FLOAT" : "JAVA_DOUBLE").get(null);
        Object p = valueLayout.getField("ADDRESS").get(null);
        Object args = Array.newInstance(layoutClass, 14);
        Object[] layouts = {i, i, i, i, i, i, s, p, i, p, i, s, p, i};
        for (int k = 0; k < layouts.length; k++) Array.set(args, k, layouts[k]);
        Object descriptor = foreign("FunctionDescriptor").getMethod("ofVoid", args.getClass()).invoke(null, args);
        return link(name, descriptor, true).asType(MethodType.methodType(void.class, int.class, int.class, int.class,
                int.class, int.class, int.class, scalar, Object.class, int.class, Object.class, int.class, scalar,
                Object.class, int.class));
    }

    /**
     * {@code Linker.nativeLinker().downcallHandle(symbol, descriptor, options)} for a function of the libraries this
     * class's loader loaded (JavaCPP's, loaded just before); {@code critical}: may take heap segments.
     */
    private static MethodHandle link(String name, Object descriptor, boolean critical) throws ReflectiveOperationException {
        Class<?> linkerClass = foreign("Linker"), optionClass = foreign("Linker$Option");
        Object options = Array.newInstance(optionClass, critical ? 1 : 0);
        if (critical) Array.set(options, 0, optionClass.getMethod("critical", boolean.class).invoke(null, true));
        Object linker = linkerClass.getMethod("nativeLinker").invoke(null);
        Method downcallHandle = linkerClass.getMethod("downcallHandle", foreign("MemorySegment"),
                foreign("FunctionDescriptor"), options.getClass());
        return (MethodHandle) downcallHandle.invoke(linker, symbol(name), descriptor, options);
    }

    private static Class<?> foreign(String name) throws ClassNotFoundException {
        return Class.forName("java.lang.foreign." + name);
    }

    /** The address of a function among the libraries this class's loader loaded (JavaCPP's OpenBLAS). */
    private static Object symbol(String name) throws ReflectiveOperationException {
        Class<?> lookupClass = foreign("SymbolLookup");
        // loaderLookup is caller-sensitive: called through this class's lookup, it searches this loader's libraries.
        Object symbols;
        try {
            symbols = MethodHandles.lookup().findStatic(lookupClass, "loaderLookup", MethodType.methodType(lookupClass))
                    .invoke();
        } catch (ReflectiveOperationException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        Optional<?> address = (Optional<?>) lookupClass.getMethod("find", String.class).invoke(symbols, name);
        if (address.isEmpty()) throw new IllegalStateException(name + " not found among the loaded libraries");
        return address.get();
    }

    /** Row-major {@code cblas_sgemm} on a, b and c from the given offsets, with their own leading dimensions. */
    static void sgemm(int transA, int transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        try {
            SGEMM.invokeExact(ROW_MAJOR, transA, transB, m, n, k, alpha, at(a, aOff), lda, at(b, bOff), ldb, beta,
                    at(c, cOff), ldc);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void dgemm(int transA, int transB, int m, int n, int k, double alpha, double[] a, int aOff, int lda,
                      double[] b, int bOff, int ldb, double beta, double[] c, int cOff, int ldc) {
        try {
            DGEMM.invokeExact(ROW_MAJOR, transA, transB, m, n, k, alpha, at(a, aOff), lda, at(b, bOff), ldb, beta,
                    at(c, cOff), ldc);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final int ROW_MAJOR = org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;

    private static Object at(float[] x, int off) throws Throwable {
        Object whole = (Object) FLOATS.invokeExact(x);
        return off == 0 ? whole : (Object) SLICE.invokeExact(whole, (long) off * Float.BYTES);
    }

    private static Object at(double[] x, int off) throws Throwable {
        Object whole = (Object) DOUBLES.invokeExact(x);
        return off == 0 ? whole : (Object) SLICE.invokeExact(whole, (long) off * Double.BYTES);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
