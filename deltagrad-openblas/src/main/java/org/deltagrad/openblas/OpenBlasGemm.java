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
 * <p>On JDK 22 or newer, OpenBLAS reads and writes the tensors' heap arrays in place ({@link InPlaceBlas}). On
 * older JDKs operands are copied into per-thread off-heap buffers that are grown on demand and reused: JavaCPP's
 * {@code float[]} overloads copy whole arrays on every call, and cannot express our offsets. The buffers are
 * compact (leading dimension = width), so only the used parts travel (docs/PERFORMANCE.md has what they cost).
 *
 * <p>OpenBLAS itself runs single-threaded: a large product is cut into pieces fixed by its shape, which our pool
 * shares out ({@link #pieces}), so that the bits do not depend on the thread count. Construction throws {@link UnsatisfiedLinkError} when the
 * natives do not load, which makes {@link org.deltagrad.kernels.Gemm} fall back to pure Java.
 */
public final class OpenBlasGemm implements GemmBackend {
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    public OpenBlasGemm() {
        Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
        // OpenBLAS itself stays single-threaded; our pool runs blocks of large products side by side.
        org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
    }

    @Override
    public String name() {
        int t = Parallel.threads();
        return OPENBLAS_VERSION.trim() + " (" + t + (t == 1 ? " thread" : " threads, one OpenBLAS call each") + ", "
                + (InPlaceBlas.AVAILABLE ? "tensors read in place" : "operands copied off-heap: " + InPlaceBlas.UNAVAILABLE_BECAUSE)
                + (SMALL_PIECES ? ", " + (InPlaceBlas.CORE_NAME != null ? InPlaceBlas.CORE_NAME + " " : "") + "small-matrix kernels" : "")
                + ")";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        int small = SMALL_PIECES ? smallPieces(transA, transB, m, n, k) : 0;
        split(m, n, k, small != 0 ? small : pieces(m, n, k), (splitRows, from, to, call) -> {
            if (splitRows) {
                sgemm1(transA, transB, to - from, n, k, alpha, a, aOff + from * (transA ? 1 : lda), lda, b, bOff, ldb,
                        beta, c, cOff + from * ldc, ldc, call, true);
            } else {
                sgemm1(transA, transB, m, to - from, k, alpha, a, aOff, lda, b, bOff + from * (transB ? ldb : 1), ldb,
                        beta, c, cOff + from, ldc, call, false);
            }
        });
    }

    @Override
    public void dgemm(boolean transA, boolean transB, int m, int n, int k,
                      double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                      double beta, double[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        split(m, n, k, pieces(m, n, k), (splitRows, from, to, call) -> {
            if (splitRows) {
                dgemm1(transA, transB, to - from, n, k, alpha, a, aOff + from * (transA ? 1 : lda), lda, b, bOff, ldb,
                        beta, c, cOff + from * ldc, ldc, call, true);
            } else {
                dgemm1(transA, transB, m, to - from, k, alpha, a, aOff, lda, b, bOff + from * (transB ? ldb : 1), ldb,
                        beta, c, cOff + from, ldc, call, false);
            }
        });
    }

    private interface Part {
        /** {@code call}: the same object for every piece of one product, null when it is one piece. */
        void run(boolean splitRows, int from, int to, Object call);
    }

    /**
     * Runs the pieces of C that {@link #pieces} chose, each as one single-threaded OpenBLAS call: our pool shares
     * them out (measured here, that uses two cores better than OpenBLAS's threads, which lost time at every MLP
     * size); one thread runs the same pieces in order. OpenBLAS picks its kernels and blocking by the shape of each
     * call, so the pieces, and with them the bits, must not depend on how many threads run them. Piece q of p covers
     * the even share [extent·q/p, extent·(q+1)/p).
     */
    private static void split(int m, int n, int k, int pieces, Part part) {
        if (pieces == 1) {
            part.run(true, 0, m, null);
            return;
        }
        boolean rows = pieces > 0;
        int count = Math.abs(pieces), extent = rows ? m : n;
        Object call = new Object();
        java.util.function.IntConsumer piece = q -> part.run(rows, (int) ((long) extent * q / count),
                (int) ((long) extent * (q + 1) / count), call);
        if (2.0 * m * n * k < SPLIT_FLOPS) {
            for (int q = 0; q < count; q++) piece.accept(q); // too small to be worth waking the pool
        } else {
            Parallel.forEachPiece(count, piece);
        }
    }

    /**
     * How a product is cut into OpenBLAS calls, from its shape alone: the number of pieces of C's rows (positive) or
     * columns (negative), 1 for one call (when {@link #smallPieces} has not cut it already). Products from
     * {@link #SPLIT_FLOPS} on are cut across the longer side of C (so that each call repacks the smaller operand)
     * into the fewest pieces that are an even number, so that two threads get equal shares, and small enough for one
     * in-place call each ({@link #inPlace}): two up to a 1024×256×784 product, more for larger ones.
     */
    static int pieces(int m, int n, int k) {
        double flops = 2.0 * m * n * k;
        if (flops < SPLIT_FLOPS) return 1;
        boolean rows = m >= n;
        int extent = rows ? m : n;
        int count = (int) Math.min(MAX_PIECES, 2 * Math.ceil(flops / (2 * IN_PLACE_MAX_FLOPS)));
        count = Math.min(count, extent / (rows ? MIN_PIECE_ROWS : MIN_PIECE_COLUMNS)) & ~1;
        if (count < 2) return 1;
        return rows ? count : -count;
    }

    /** Products below this many FLOPs are one call; larger ones are cut in pieces. */
    static final double SPLIT_FLOPS = 2e6;
    /** At most this many pieces of a large product (each one call that repacks the shared operand). */
    static final int MAX_PIECES = 16;
    /** Row pieces are at least this many rows (OpenBLAS's narrowest N unroll). */
    static final int MIN_PIECE_ROWS = 4;
    /** Column pieces are at least this many columns: 16 floats fill one AVX-512 register. */
    static final int MIN_PIECE_COLUMNS = 16;

    /**
     * Whether to cut float32 products into pieces for OpenBLAS's small-matrix kernels ({@link #smallPieces}): on the
     * CPU targets that have such kernels, AVX-512's SkylakeX, Cooperlake (which OpenBLAS picks for an AMD Zen 4, as
     * here) and Sapphire Rapids, and only when OpenBLAS reads the tensors in place (copying each piece's operands
     * would cost more than the packing saved). -Ddeltagrad.openblas.smallPieces=true/false overrides the choice. The
     * core name is the target OpenBLAS runs, also when OPENBLAS_CORETYPE chose it; only speed depends on this
     * choice, since the pieces depend on the shape either way.
     */
    static final boolean SMALL_PIECES = smallPiecesWanted(System.getProperty("deltagrad.openblas.smallPieces"),
            InPlaceBlas.AVAILABLE, InPlaceBlas.CORE_NAME);

    static boolean smallPiecesWanted(String property, boolean inPlace, String core) {
        if (property != null && !property.isBlank()) return Boolean.parseBoolean(property.trim());
        return inPlace && core != null && (core.equals("skylakex") || core.equals("cooperlake") || core.equals("sapphirerapids"));
    }

    /** Products with a shorter inner size are not cut for the small kernels (docs/PERFORMANCE.md, convolutional network). */
    static final int MIN_SMALL_PIECES_K = 32;

    /** Pieces are at most this many: each is one OpenBLAS call with its own fixed overhead. */
    static final int MAX_SMALL_PIECES = 32;

    /**
     * OpenBLAS (0.3.x, the AVX-512 targets) computes a product with its "small matrix" kernels, which read A and B
     * where they lie instead of packing them into blocks first, when its {@code sgemm_small_kernel_permit} says so:
     * at most 10^6 multiply-adds, and for one transpose pattern at most 1,200 elements of C and K ≥ 32. Our
     * row-major call reaches it as the column-major product Cᵀ = op(B)ᵀ·op(A)ᵀ, hence the swapped roles below.
     */
    static boolean smallKernelTakes(boolean transA, boolean transB, long m, long n, long k) {
        if ((double) m * n * k > 1e6) return false;
        if (transB && !transA) return m * n <= 1200 && k >= 32; // its "TN" case
        if (transB) return k >= 4;                              // its "TT" case
        return true;
    }

    /**
     * A product the small kernels would not take whole, but would take in pieces: the number of pieces of C's rows
     * (positive) or columns (negative) into which to cut it, the fewer the better (rows on a tie), rounded up to an
     * even number so that two threads get equal shares; 0 to leave it whole. Skipping the packing is what pays
     * (measured in docs/PERFORMANCE.md). The pieces depend only on the shape, so the bits do not depend on the
     * thread count.
     */
    static int smallPieces(boolean transA, boolean transB, int m, int n, int k) {
        // A short K leaves little to save by not packing: a convolution's 16×36864×25 product ran at a third of the speed.
        if (k < MIN_SMALL_PIECES_K || smallKernelTakes(transA, transB, m, n, k)) return 0;
        int byRows = piecesAlong(transA, transB, m, n, k, true), byCols = piecesAlong(transA, transB, m, n, k, false);
        if (byRows == 0 && byCols == 0) return 0;
        return byRows != 0 && (byCols == 0 || byRows <= byCols) ? byRows : -byCols;
    }

    private static int piecesAlong(boolean transA, boolean transB, int m, int n, int k, boolean rows) {
        int extent = rows ? m : n;
        for (int p = 2; p <= Math.min(extent, MAX_SMALL_PIECES); p++) {
            long size = (extent + p - 1) / p; // the largest piece
            if (smallKernelTakes(transA, transB, rows ? size : m, rows ? n : size, k)) {
                return p % 2 == 0 || p + 1 > Math.min(extent, MAX_SMALL_PIECES) ? p : p + 1;
            }
        }
        return 0;
    }

    private static void sgemm1(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc, Object call, boolean splitRows) {
        if (inPlace(m, n, k)) {
            InPlaceBlas.sgemm(transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k,
                    alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        Buffers buf = BUFFERS.get();
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        boolean copied = call != null && buf.sharedOf == call; // another piece of this product copied the shared operand
        FloatPointer pa = buf.fa = copied && !splitRows ? buf.fa : copyIn(buf, buf.fa, a, aOff, lda, aRows, aCols);
        FloatPointer pb = buf.fb = copied && splitRows ? buf.fb : copyIn(buf, buf.fb, b, bOff, ldb, bRows, bCols);
        buf.sharedOf = call;
        // beta == 0: C is write-only for BLAS, so skip copying it in (it may hold NaN; BLAS ignores it).
        FloatPointer pc = buf.fc = beta == 0f ? ensure(buf.fc, (long) m * n) : copyIn(buf, buf.fc, c, cOff, ldc, m, n);
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, pa, Math.max(1, aCols), pb, Math.max(1, bCols), beta, pc, n);
        copyOut(buf, pc, c, cOff, ldc, m, n);
    }

    private static void dgemm1(boolean transA, boolean transB, int m, int n, int k,
                      double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                      double beta, double[] c, int cOff, int ldc, Object call, boolean splitRows) {
        if (inPlace(m, n, k)) {
            InPlaceBlas.dgemm(transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k,
                    alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        Buffers buf = BUFFERS.get();
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        boolean copied = call != null && buf.sharedOf == call;
        DoublePointer pa = buf.da = copied && !splitRows ? buf.da : copyIn(buf, buf.da, a, aOff, lda, aRows, aCols);
        DoublePointer pb = buf.db = copied && splitRows ? buf.db : copyIn(buf, buf.db, b, bOff, ldb, bRows, bCols);
        buf.sharedOf = call;
        DoublePointer pc = buf.dc = beta == 0 ? ensure(buf.dc, (long) m * n) : copyIn(buf, buf.dc, c, cOff, ldc, m, n);
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, pa, Math.max(1, aCols), pb, Math.max(1, bCols), beta, pc, n);
        copyOut(buf, pc, c, cOff, ldc, m, n);
    }

    /**
     * Whether one OpenBLAS call works on the heap arrays directly. While it runs, the JVM can reach no safepoint
     * (no garbage collection, on any thread), so calls above 2^28 FLOPs (a 512×512×512 product) copy instead:
     * copying grows with the square of the size and the product with its cube, so there the copies are noise.
     */
    private static boolean inPlace(int m, int n, int k) {
        return InPlaceBlas.AVAILABLE && 2.0 * m * n * k <= IN_PLACE_MAX_FLOPS;
    }

    private static final double IN_PLACE_MAX_FLOPS = 0x1p28;

    /**
     * Copies a rows×cols matrix with stride ld into the (grown) buffer, compactly, in as few JNI calls as possible:
     * a strided block that fits in cache is gathered into a heap array first and crosses in one call (a JNI call
     * costs as much as copying about 100 floats, and a 64-row product would otherwise make 64 of them).
     */
    private static FloatPointer copyIn(Buffers buf, FloatPointer p, float[] x, int off, int ld, int rows, int cols) {
        int size = rows * cols;
        p = ensure(p, size);
        if (ld == cols || rows <= 1) {
            p.position(0).put(x, off, size);
        } else if (size <= STAGE_MAX) {
            float[] s = buf.stagedF = buf.stagedF != null && buf.stagedF.length >= size ? buf.stagedF : new float[size];
            for (int i = 0; i < rows; i++) System.arraycopy(x, off + i * ld, s, i * cols, cols);
            p.position(0).put(s, 0, size);
        } else {
            for (int i = 0; i < rows; i++) p.position((long) i * cols).put(x, off + i * ld, cols);
        }
        return p.position(0);
    }

    private static DoublePointer copyIn(Buffers buf, DoublePointer p, double[] x, int off, int ld, int rows, int cols) {
        int size = rows * cols;
        p = ensure(p, size);
        if (ld == cols || rows <= 1) {
            p.position(0).put(x, off, size);
        } else if (size <= STAGE_MAX) {
            double[] s = buf.stagedD = buf.stagedD != null && buf.stagedD.length >= size ? buf.stagedD : new double[size];
            for (int i = 0; i < rows; i++) System.arraycopy(x, off + i * ld, s, i * cols, cols);
            p.position(0).put(s, 0, size);
        } else {
            for (int i = 0; i < rows; i++) p.position((long) i * cols).put(x, off + i * ld, cols);
        }
        return p.position(0);
    }

    /** The compact m×n result back into C (stride ldc), the same way round. */
    private static void copyOut(Buffers buf, FloatPointer pc, float[] c, int cOff, int ldc, int m, int n) {
        int size = m * n;
        if (ldc == n) {
            pc.position(0).get(c, cOff, size);
        } else if (size <= STAGE_MAX) {
            float[] s = buf.stagedF = buf.stagedF != null && buf.stagedF.length >= size ? buf.stagedF : new float[size];
            pc.position(0).get(s, 0, size);
            for (int i = 0; i < m; i++) System.arraycopy(s, i * n, c, cOff + i * ldc, n);
        } else {
            for (int i = 0; i < m; i++) pc.position((long) i * n).get(c, cOff + i * ldc, n);
        }
        pc.position(0);
    }

    private static void copyOut(Buffers buf, DoublePointer pc, double[] c, int cOff, int ldc, int m, int n) {
        int size = m * n;
        if (ldc == n) {
            pc.position(0).get(c, cOff, size);
        } else if (size <= STAGE_MAX) {
            double[] s = buf.stagedD = buf.stagedD != null && buf.stagedD.length >= size ? buf.stagedD : new double[size];
            pc.position(0).get(s, 0, size);
            for (int i = 0; i < m; i++) System.arraycopy(s, i * n, c, cOff + i * ldc, n);
        } else {
            for (int i = 0; i < m; i++) pc.position((long) i * n).get(c, cOff + i * ldc, n);
        }
        pc.position(0);
    }

    /** Strided blocks up to this many elements (256 KB of floats) are staged through a heap array. */
    private static final int STAGE_MAX = 1 << 16;

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
        /**
         * The product (see {@link Part}) whose shared operand, the one each of its pieces reads whole (B for row
         * pieces, A for column pieces), fb/db or fa/da holds: a thread that runs several pieces copies it once.
         */
        Object sharedOf;
        float[] stagedF;
        double[] stagedD;
    }
}
