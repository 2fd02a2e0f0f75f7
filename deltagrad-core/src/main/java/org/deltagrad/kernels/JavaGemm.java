package org.deltagrad.kernels;

/**
 * The pure-Java GEMM: cache-blocked, packed, multithreaded, written so that HotSpot's C2 turns the
 * innermost loop into SIMD fused multiply-adds.
 *
 * <p>Blocking (Goto-style, simplified): for each NC-wide column block and KC-deep slice of k, the
 * slice of op(B) is packed into a KC×NC panel (kept in L2) and alpha-scaled rows of op(A) into an
 * MC×KC panel; the micro-kernel adds 4 rows × 2 k-steps per pass over a row of a C tile, which is
 * written back to C (with beta) once per column block. Transposes are absorbed by packing, so callers
 * never materialise one.
 *
 * <p>The vectorised loop runs along rows of C, and its fixed per-pass cost (scalar pre/post loops)
 * hurts when rows are short, as in an MLP's 100-wide layers. So when C is taller than wide we compute
 * Cᵀ = op(B)ᵀ·op(A)ᵀ instead, which only swaps operands and writes the tile back transposed.
 *
 * <p>float32 uses {@link VectorSgemm} (explicit SIMD, C tile in registers, about twice as fast) when the
 * JVM has the incubating Vector API module; the kernels above remain the fallback and the float64 path.
 *
 * <p>Determinism: every element of C is computed by the same sequence of roundings whatever the
 * thread count: the orientation, k blocking and pieces of C (rows, or columns when it has few rows; never
 * k) depend only on the shape, and threads only share out the pieces.
 */
public final class JavaGemm implements GemmBackend {
    /** Below this many flops (2mnk) one piece is faster than waking the pool. */
    static final double PARALLEL_FLOPS = 8e6;
    static final int KC = 256;
    static final int NC = 512;
    static final int MC = 64;
    /** Rows of C per micro-kernel pass, and the granularity of row splits across threads. */
    static final int MR = 4;
    /** Lanes of one 512-bit float vector: the padding unit of tile rows and of column splits. */
    static final int NR = 16;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Whether float32 products use {@link VectorSgemm}; fixed per instance. */
    private final boolean vector;

    /**
     * Uses the Vector API kernel for float32 when {@link #vectorApi()} (the JVM was started with
     * {@code --add-modules jdk.incubator.vector}), unless {@code -Ddeltagrad.gemm.vector=false}.
     */
    public JavaGemm() {
        this(vectorApi() && !"false".equalsIgnoreCase(System.getProperty("deltagrad.gemm.vector", "").trim()));
    }

    JavaGemm(boolean vector) {
        if (vector && !vectorApi()) throw new IllegalStateException("jdk.incubator.vector is not in the boot layer");
        this.vector = vector;
    }

    /** True when the incubating Vector API module is present, so {@link VectorSgemm} can load. */
    public static boolean vectorApi() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    @Override
    public String name() {
        return "pure Java" + (vector ? ", Vector API" : "") + " (" + Parallel.threads() + " threads)";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            SgemmKernel.scale(beta, c, cOff, ldc, m, n);
        } else if (vector ? VectorSgemm.transposeOutput(m, n) : transposeOutput(m, n)) {
            sgemm(vector, !transB, !transA, true, n, m, k, alpha, b, bOff, ldb, a, aOff, lda, beta, c, cOff, ldc);
        } else {
            sgemm(vector, transA, transB, false, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    @Override
    public void dgemm(boolean transA, boolean transB, int m, int n, int k,
                      double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                      double beta, double[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0.0) {
            DgemmKernel.scale(beta, c, cOff, ldc, m, n);
        } else if (transposeOutput(m, n)) {
            dgemm(!transB, !transA, true, n, m, k, alpha, b, bOff, ldb, a, aOff, lda, beta, c, cOff, ldc);
        } else {
            dgemm(transA, transB, false, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** Computes the m×n product P (C itself, or Cᵀ when transC) in the pieces that {@link #split} chooses. */
    private static void sgemm(boolean vector, boolean transA, boolean transB, boolean transC, int m, int n, int k,
                              float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float beta, float[] c, int cOff, int ldc) {
        split(m, n, k, vector ? VectorSgemm.MR : MR, vector ? VectorSgemm.NR : NR, (i0, i1, j0, j1) -> {
            if (vector) {
                VectorSgemm.block(transA, transB, transC, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc,
                        i0, i1, j0, j1);
            } else {
                SgemmKernel.block(transA, transB, transC, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc,
                        i0, i1, j0, j1);
            }
        });
    }

    private static void dgemm(boolean transA, boolean transB, boolean transC, int m, int n, int k, double alpha,
                              double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                              double beta, double[] c, int cOff, int ldc) {
        split(m, n, k, MR, NR, (i0, i1, j0, j1) -> DgemmKernel.block(transA, transB, transC, k, alpha,
                a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, i0, i1, j0, j1));
    }

    /** Rows [i0, i1) × columns [j0, j1) of the product. */
    private interface Block {
        void run(int i0, int i1, int j0, int j1);
    }

    /**
     * Cuts the m×n product into pieces fixed by the shape alone (whole groups of mr rows or nr columns), which the
     * pool shares out and one thread runs in order: an even number, so that two threads get equal shares, the
     * fewest such that each piece is at most 2^28 FLOPs (each piece packs the shared operand again).
     */
    private static void split(int m, int n, int k, int mr, int nr, Block block) {
        double flops = 2.0 * m * n * k;
        boolean rows = splitRows(m, n);
        int unit = rows ? mr : nr, groups = ((rows ? m : n) + unit - 1) / unit;
        int count = flops < PARALLEL_FLOPS ? 1
                : Math.min(Math.min(MAX_PIECES, groups), (int) (2 * Math.ceil(flops / PIECE_PAIR_FLOPS))) & ~1;
        if (count < 2) {
            block.run(0, m, 0, n);
            return;
        }
        Parallel.forEachPiece(count, q -> {
            int from = groups * q / count * unit, to = Math.min(rows ? m : n, groups * (q + 1) / count * unit);
            if (rows) block.run(from, to, 0, n); else block.run(0, m, from, to);
        });
    }

    /** Two pieces per this many FLOPs of a product ({@link #split}). */
    static final double PIECE_PAIR_FLOPS = 0x1p29;
    static final int MAX_PIECES = 16;

    /** Vectorise along the longer side of C, as long as the shorter one fills less than a column block. */
    static boolean transposeOutput(int m, int n) {
        return n < m && n < NC;
    }

    /**
     * How pieces share the product: by columns while that leaves each a long row (then only the
     * small A panel is packed twice), else by row groups (each piece packs all of B, so rows stay long).
     */
    private static boolean splitRows(int m, int n) {
        return n < 512 && (m >= 8 * MR || m / MR >= n / NR);
    }

    /** Depth of each k slice: at most KC, balanced so the last slice is not a sliver, and even. */
    static int sliceDepth(int k) {
        int slices = Math.max(1, (k + KC - 1) / KC);
        return ((k + slices - 1) / slices + 1) & ~1;
    }

    /**
     * Row length of the packed B panel and the C tile: a whole number of 512-bit vectors, so the
     * vectorised loop covers every column instead of leaving a scalar tail (n = 100 is common).
     */
    static int paddedWidth(int nc) {
        return (nc + 63) / 64 * 64;
    }

    /**
     * Per-thread buffers, grown on demand and kept, so steady-state calls allocate nothing. B panel and
     * C tile rows are separate arrays because C2 only vectorises loops whose arrays share one index.
     */
    static final class Scratch {
        private float[] packA = new float[0];
        private float[][] packB = new float[0][];
        private float[][] tile = new float[0][];
        private double[] packAd = new double[0];
        private double[][] packBd = new double[0][];
        private double[][] tiled = new double[0][];

        float[] packA(int size) {
            if (packA.length < size) packA = new float[size];
            return packA;
        }

        /** kc rows of at least width, zero from the caller's nc up to width (callers fill [0, nc)). */
        float[][] packB(int kc, int width) {
            packB = grow(packB, kc, width);
            for (int p = 0; p < kc; p++) java.util.Arrays.fill(packB[p], 0, width, 0f);
            return packB;
        }

        /** rows zeroed rows of at least width: the accumulator for one column block of C. */
        float[][] tile(int rows, int width) {
            tile = grow(tile, rows, width);
            for (int i = 0; i < rows; i++) java.util.Arrays.fill(tile[i], 0, width, 0f);
            return tile;
        }

        double[] packAd(int size) {
            if (packAd.length < size) packAd = new double[size];
            return packAd;
        }

        double[][] packBd(int kc, int width) {
            packBd = grow(packBd, kc, width);
            for (int p = 0; p < kc; p++) java.util.Arrays.fill(packBd[p], 0, width, 0.0);
            return packBd;
        }

        double[][] tiled(int rows, int width) {
            tiled = grow(tiled, rows, width);
            for (int i = 0; i < rows; i++) java.util.Arrays.fill(tiled[i], 0, width, 0.0);
            return tiled;
        }

        private static float[][] grow(float[][] x, int rows, int width) {
            if (x.length < rows) x = java.util.Arrays.copyOf(x, rows);
            for (int i = 0; i < rows; i++) if (x[i] == null || x[i].length < width) x[i] = new float[width];
            return x;
        }

        private static double[][] grow(double[][] x, int rows, int width) {
            if (x.length < rows) x = java.util.Arrays.copyOf(x, rows);
            for (int i = 0; i < rows; i++) if (x[i] == null || x[i].length < width) x[i] = new double[width];
            return x;
        }
    }

    static Scratch scratch() {
        return SCRATCH.get();
    }
}
