package org.deltagrad.spark;

import java.io.Serializable;

/** One partition's share of a step: the gradient of (sum of its rows' losses) / (whole batch size), and its tallies. */
public final class PartialGradient implements Serializable {
    private static final long serialVersionUID = 1L;
    /** How many of the batch's rows this partition holds (0: no gradient, it adds nothing). */
    final int rows;
    /** Per parameter, in {@code namedParameters()} order; null when rows == 0. */
    final float[][] grads;
    /** The sum of its rows' loss terms (before the division by the batch size), in the batch's row order. */
    final double lossSum;
    final int correct;
    /** Time spent computing, to separate compute from Spark's per-step overhead. */
    final long computeNanos;

    PartialGradient(int rows, float[][] grads, double lossSum, int correct, long computeNanos) {
        this.rows = rows;
        this.grads = grads;
        this.lossSum = lossSum;
        this.correct = correct;
        this.computeNanos = computeNanos;
    }
}
