package org.deltagrad.kernels;

/** The loops of the fused losses: each reads its inputs once and accumulates in double. */
public final class LossKernels {
    private LossKernels() {}

    /** Logits per pool range of the cross-entropy rows (a range this size is worth a pool job). */
    public static final int CROSS_ENTROPY_GRAIN = 256;

    /**
     * Rows [from, to) of c logits at z[off + r·c]: writes the row's softmax to p[r·c..] (rounded once to p's type)
     * and logsumexp(z_r) − z_r[y_r] to loss[r], in double, the row maximum subtracted so that exp never overflows.
     */
    public static void crossEntropyRows(float[] z, int off, float[] p, int from, int to, int c, int[] y, double[] loss) {
        double[] e = new double[c];
        for (int r = from; r < to; r++) {
            int in = off + r * c;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < c; j++) max = Math.max(max, z[in + j]);
            for (int j = 0; j < c; j++) sum += e[j] = Math.exp(z[in + j] - max);
            for (int j = 0; j < c; j++) p[r * c + j] = (float) (e[j] / sum);
            loss[r] = max + Math.log(sum) - z[in + y[r]];
        }
    }

    public static void crossEntropyRows(double[] z, int off, double[] p, int from, int to, int c, int[] y, double[] loss) {
        double[] e = new double[c];
        for (int r = from; r < to; r++) {
            int in = off + r * c;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < c; j++) max = Math.max(max, z[in + j]);
            for (int j = 0; j < c; j++) sum += e[j] = Math.exp(z[in + j] - max);
            for (int j = 0; j < c; j++) p[r * c + j] = e[j] / sum;
            loss[r] = max + Math.log(sum) - z[in + y[r]];
        }
    }

    /** p[r·c + y[r]] −= 1 for every row r: softmax rows become softmax − onehot (the subtraction done in double). */
    public static void subtractOneHot(float[] p, int c, int[] y) {
        for (int r = 0; r < y.length; r++) p[r * c + y[r]] = (float) (p[r * c + y[r]] - 1d);
    }

    public static void subtractOneHot(double[] p, int c, int[] y) {
        for (int r = 0; r < y.length; r++) p[r * c + y[r]] -= 1;
    }

    /** Σ (a[ao + i] − t[to + i])² over i &lt; n, in double and in index order. */
    public static double sumSquaredDifference(float[] a, int ao, float[] t, int to, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double d = (double) a[ao + i] - t[to + i];
            sum += d * d;
        }
        return sum;
    }

    public static double sumSquaredDifference(double[] a, int ao, double[] t, int to, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double d = a[ao + i] - t[to + i];
            sum += d * d;
        }
        return sum;
    }

    /**
     * Σ max(z, 0) − z·y + log(1 + exp(−|z|)) over n elements, each term rounded to float step by step as the
     * element-wise ops would, summed in double per row of {@code rowLength} and the rows in float (as {@code sum()}
     * does), so the fused loss has the bits of its composite.
     */
    public static float binaryCrossEntropyWithLogits(float[] z, int zo, float[] y, int yo, int n, int rowLength) {
        float total = 0;
        for (int start = 0; start < n; start += rowLength) {
            double acc = 0;
            for (int i = start; i < start + rowLength; i++) {
                float v = z[zo + i];
                float linear = Math.max(v, 0f) - v * y[yo + i];
                acc += linear + (float) Math.log((float) Math.exp(-Math.abs(v)) + 1f);
            }
            total += (float) acc;
        }
        return total;
    }

    public static double binaryCrossEntropyWithLogits(double[] z, int zo, double[] y, int yo, int n, int rowLength) {
        double total = 0;
        for (int start = 0; start < n; start += rowLength) {
            double acc = 0;
            for (int i = start; i < start + rowLength; i++) {
                double v = z[zo + i];
                acc += Math.max(v, 0d) - v * y[yo + i] + Math.log(Math.exp(-Math.abs(v)) + 1d);
            }
            total += acc;
        }
        return total;
    }
}
