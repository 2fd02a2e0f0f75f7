package org.deltagrad.openblas;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.OPENBLAS_VERSION;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_dgemm;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.deltagrad.kernels.GemmBackend;
import org.deltagrad.kernels.Parallel;

/**
 * GEMM through OpenBLAS's {@code cblas_sgemm}/{@code cblas_dgemm}, with the natives bundled by JavaCPP.
 *
 * <p>Operands are copied into per-thread off-heap buffers that are grown on demand and reused:
 * JavaCPP's {@code float[]} overloads would pin or copy whole arrays on every call, and cannot express
 * our offsets. The buffers are compact (leading dimension = width), so only the used parts travel.
 *
 * <p>OpenBLAS runs {@link Parallel#threads()} threads, re-synced on each call, so that it and our own
 * pool never oversubscribe the machine. Construction throws {@link UnsatisfiedLinkError} when the
 * natives do not load, which makes {@link org.deltagrad.kernels.Gemm} fall back to pure Java.
 */
public final class OpenBlasGemm implements GemmBackend {
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);
    private static volatile int blasThreads;

    public OpenBlasGemm() {
        Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
        syncThreads();
    }

    @Override
    public String name() {
        return OPENBLAS_VERSION.trim() + " (" + Parallel.threads() + " threads)";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        syncThreads();
        Buffers buf = BUFFERS.get();
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        FloatPointer pa = buf.fa = copyIn(buf.fa, a, aOff, lda, aRows, aCols);
        FloatPointer pb = buf.fb = copyIn(buf.fb, b, bOff, ldb, bRows, bCols);
        // beta == 0: C is write-only for BLAS, so skip copying it in (it may hold NaN; BLAS ignores it).
        FloatPointer pc = buf.fc = beta == 0f ? ensure(buf.fc, (long) m * n) : copyIn(buf.fc, c, cOff, ldc, m, n);
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, pa, Math.max(1, aCols), pb, Math.max(1, bCols), beta, pc, n);
        if (ldc == n) {
            pc.position(0).get(c, cOff, m * n);
        } else {
            for (int i = 0; i < m; i++) pc.position((long) i * n).get(c, cOff + i * ldc, n);
            pc.position(0);
        }
    }

    @Override
    public void dgemm(boolean transA, boolean transB, int m, int n, int k,
                      double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                      double beta, double[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        syncThreads();
        Buffers buf = BUFFERS.get();
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        DoublePointer pa = buf.da = copyIn(buf.da, a, aOff, lda, aRows, aCols);
        DoublePointer pb = buf.db = copyIn(buf.db, b, bOff, ldb, bRows, bCols);
        DoublePointer pc = buf.dc = beta == 0 ? ensure(buf.dc, (long) m * n) : copyIn(buf.dc, c, cOff, ldc, m, n);
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, pa, Math.max(1, aCols), pb, Math.max(1, bCols), beta, pc, n);
        if (ldc == n) {
            pc.position(0).get(c, cOff, m * n);
        } else {
            for (int i = 0; i < m; i++) pc.position((long) i * n).get(c, cOff + i * ldc, n);
            pc.position(0);
        }
    }

    /** Our pool size can change at run time (Parallel.setThreads); follow it before each call. */
    private static void syncThreads() {
        int want = Parallel.threads();
        if (blasThreads != want) {
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(want);
            blasThreads = want;
        }
    }

    /** Copies a rows×cols matrix with stride ld into the (grown) buffer, compactly, in as few JNI calls as possible. */
    private static FloatPointer copyIn(FloatPointer p, float[] x, int off, int ld, int rows, int cols) {
        p = ensure(p, (long) rows * cols);
        if (ld == cols || rows <= 1) {
            p.position(0).put(x, off, rows * cols);
        } else {
            for (int i = 0; i < rows; i++) p.position((long) i * cols).put(x, off + i * ld, cols);
        }
        return p.position(0);
    }

    private static DoublePointer copyIn(DoublePointer p, double[] x, int off, int ld, int rows, int cols) {
        p = ensure(p, (long) rows * cols);
        if (ld == cols || rows <= 1) {
            p.position(0).put(x, off, rows * cols);
        } else {
            for (int i = 0; i < rows; i++) p.position((long) i * cols).put(x, off + i * ld, cols);
        }
        return p.position(0);
    }

    /** Grows by 1.5x so that a training loop over mixed shapes settles on one allocation. */
    private static FloatPointer ensure(FloatPointer p, long size) {
        if (p != null && p.capacity() >= size) return p.position(0);
        long cap = Math.max(size, p == null ? 0 : p.capacity() * 3 / 2);
        if (p != null) p.close();
        return new FloatPointer(Math.max(1, cap));
    }

    private static DoublePointer ensure(DoublePointer p, long size) {
        if (p != null && p.capacity() >= size) return p.position(0);
        long cap = Math.max(size, p == null ? 0 : p.capacity() * 3 / 2);
        if (p != null) p.close();
        return new DoublePointer(Math.max(1, cap));
    }

    /** One thread's off-heap operands; freed by JavaCPP's deallocator when the thread's map drops them. */
    private static final class Buffers {
        FloatPointer fa, fb, fc;
        DoublePointer da, db, dc;
    }
}
