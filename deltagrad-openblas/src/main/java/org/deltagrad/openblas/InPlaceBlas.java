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

    private static final MethodHandle SGEMM, DGEMM, FLOATS, DOUBLES, SLICE;

    private InPlaceBlas() {
    }

    static {
        MethodHandle sgemm = null, dgemm = null, floats = null, doubles = null, slice = null;
        String why = null;
        if (Boolean.getBoolean("deltagrad.openblas.copy")) {
            why = "-Ddeltagrad.openblas.copy=true";
        } else if (Runtime.version().feature() < 22) {
            why = "JDK " + Runtime.version().feature() + " (in place needs 22+)";
        } else {
            try {
                org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class); // idempotent
                Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                floats = lookup.findStatic(segment, "ofArray", MethodType.methodType(segment, float[].class))
                        .asType(MethodType.methodType(Object.class, float[].class));
                doubles = lookup.findStatic(segment, "ofArray", MethodType.methodType(segment, double[].class))
                        .asType(MethodType.methodType(Object.class, double[].class));
                slice = lookup.findVirtual(segment, "asSlice", MethodType.methodType(segment, long.class))
                        .asType(MethodType.methodType(Object.class, Object.class, long.class));
                sgemm = downcall("cblas_sgemm", segment, float.class);
                dgemm = downcall("cblas_dgemm", segment, double.class);
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
    }

    /**
     * A critical downcall handle for {@code void cblas_?gemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb,
     * beta, c, ldc)} that accepts heap segments, retyped with Object for the three pointers. The symbol is looked
     * up among the libraries this class's loader loaded (JavaCPP's, loaded just before).
     */
    private static MethodHandle downcall(String name, Class<?> segment, Class<?> scalar) throws ReflectiveOperationException {
        Class<?> linkerClass = Class.forName("java.lang.foreign.Linker");
        Class<?> lookupClass = Class.forName("java.lang.foreign.SymbolLookup");
        Class<?> layoutClass = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> valueLayout = Class.forName("java.lang.foreign.ValueLayout");
        Class<?> descriptorClass = Class.forName("java.lang.foreign.FunctionDescriptor");
        Class<?> optionClass = Class.forName("java.lang.foreign.Linker$Option");

        Object linker = linkerClass.getMethod("nativeLinker").invoke(null);
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

        Object i = valueLayout.getField("JAVA_INT").get(null);
        Object s = valueLayout.getField(scalar == float.class ? "JAVA_FLOAT" : "JAVA_DOUBLE").get(null);
        Object p = valueLayout.getField("ADDRESS").get(null);
        Object args = Array.newInstance(layoutClass, 14);
        Object[] layouts = {i, i, i, i, i, i, s, p, i, p, i, s, p, i};
        for (int k = 0; k < layouts.length; k++) Array.set(args, k, layouts[k]);
        Object descriptor = descriptorClass.getMethod("ofVoid", args.getClass()).invoke(null, args);

        Object critical = optionClass.getMethod("critical", boolean.class).invoke(null, true);
        Object options = Array.newInstance(optionClass, 1);
        Array.set(options, 0, critical);
        Method downcallHandle = linkerClass.getMethod("downcallHandle", segment, descriptorClass, options.getClass());
        MethodHandle handle = (MethodHandle) downcallHandle.invoke(linker, address.get(), descriptor, options);
        return handle.asType(MethodType.methodType(void.class, int.class, int.class, int.class, int.class, int.class,
                int.class, scalar, Object.class, int.class, Object.class, int.class, scalar, Object.class, int.class));
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
