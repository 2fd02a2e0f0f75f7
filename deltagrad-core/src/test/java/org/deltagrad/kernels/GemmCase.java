package org.deltagrad.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One GEMM problem with padded, offset operands, its float64 reference by a naive triple loop, and
 * an error bound that holds for any summation order: |error| <= (k + 2) * eps * sum |terms|.
 */
public record GemmCase(boolean transA, boolean transB, int m, int n, int k, double alpha, double beta) {
    public static final int OFF = 5;
    public static final int PAD = 3;

    /** The correctness table: odd sizes, both split directions, every transpose and alpha/beta kind. */
    public static List<GemmCase> table() {
        int[][] shapes = {{1, 1, 1}, {1, 7, 33}, {7, 1, 33}, {33, 7, 1}, {7, 33, 257}, {257, 33, 7},
            {33, 257, 65}, {17, 19, 0}, {64, 100, 784}, {257, 129, 129}, {7, 1000, 600}, {5, 37, 513}};
        double[][] alphaBeta = {{1, 0}, {0.5, 1}, {-2, 0.25}, {0, 0.5}, {1.5, 0}};
        List<GemmCase> cases = new ArrayList<>();
        int variant = 0;
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                double[] ab = alphaBeta[variant++ % alphaBeta.length];
                cases.add(new GemmCase((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], ab[0], ab[1]));
            }
        }
        return cases;
    }

    public int aRows() { return transA ? k : m; }
    public int aCols() { return transA ? m : k; }
    public int bRows() { return transB ? n : k; }
    public int bCols() { return transB ? k : n; }
    public int lda() { return aCols() + PAD; }
    public int ldb() { return bCols() + PAD; }
    public int ldc() { return n + PAD; }

    public double[] randomA(long seed) { return random(seed, OFF + aRows() * lda()); }
    public double[] randomB(long seed) { return random(seed + 1, OFF + bRows() * ldb()); }

    /** C filled with NaN when beta == 0, to check that beta == 0 overwrites instead of scaling. */
    public double[] initialC(long seed) {
        double[] c = random(seed + 2, OFF + m * ldc());
        if (beta == 0) java.util.Arrays.fill(c, Double.NaN);
        return c;
    }

    private static double[] random(long seed, int size) {
        Random r = new Random(seed);
        double[] x = new double[size];
        for (int i = 0; i < size; i++) x[i] = r.nextDouble() * 2 - 1;
        return x;
    }

    private double opA(double[] a, int i, int p) {
        return transA ? a[OFF + p * lda() + i] : a[OFF + i * lda() + p];
    }

    private double opB(double[] b, int p, int j) {
        return transB ? b[OFF + j * ldb() + p] : b[OFF + p * ldb() + j];
    }

    /**
     * Checks {@code got} (C after the call) against the reference computed from the inputs (given in
     * double, already rounded to the tested precision), and that the padding of C was not touched.
     */
    public void check(double[] a, double[] b, double[] c0, double[] got, double eps) {
        for (int i = 0; i < c0.length; i++) {
            boolean inside = i >= OFF && (i - OFF) % ldc() < n;
            if (!inside && Double.compare(c0[i], got[i]) != 0) fail(this + ": wrote outside C at index " + i);
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double abs = 0;
                for (int p = 0; p < k; p++) {
                    double t = opA(a, i, p) * opB(b, p, j);
                    sum += t;
                    abs += Math.abs(t);
                }
                double cij = c0[OFF + i * ldc() + j];
                double want = alpha * sum + (beta == 0 ? 0 : beta * cij);
                double bound = (k + 4) * eps * (Math.abs(alpha) * abs + Math.abs(beta * (beta == 0 ? 0 : cij)))
                        + 1e-300;
                double have = got[OFF + i * ldc() + j];
                if (!(Math.abs(have - want) <= bound)) {
                    fail(this + ": C[" + i + "][" + j + "] = " + have + ", want " + want + " ± " + bound);
                }
            }
        }
    }
}
