package org.deltagrad.nn;

import java.util.Arrays;
import java.util.List;

import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * The standard costs, each as a {@link Loss} (to pass around) and as a direct call. The batch is axis 0
 * (a 0-D output is a batch of one), and every loss is averaged over it.
 */
public final class Losses {
    private Losses() {}

    /** log(p) is clamped away from log(0) by this margin in {@link #binaryCrossEntropy()}. */
    public static final double DEFAULT_EPS = 1e-7;

    // ---------------------------------------------------------------- as Loss values

    /** Nielsen's quadratic cost. */
    public static Loss quadratic() {
        return Losses::quadratic;
    }

    /** PyTorch's mse_loss (mean over all elements). */
    public static Loss mse() {
        return Losses::mse;
    }

    /** Cross-entropy from logits, with class-index or probability targets. */
    public static Loss crossEntropy() {
        return Losses::crossEntropy;
    }

    /** Binary cross-entropy from probabilities, clamped by {@link #DEFAULT_EPS}. */
    public static Loss binaryCrossEntropy() {
        return binaryCrossEntropy(DEFAULT_EPS);
    }

    public static Loss binaryCrossEntropy(double eps) {
        return (p, y) -> binaryCrossEntropy(p, y, eps);
    }

    /** Binary cross-entropy from logits (stable). */
    public static Loss binaryCrossEntropyWithLogits() {
        return Losses::binaryCrossEntropyWithLogits;
    }

    // ---------------------------------------------------------------- direct calls

    /** C = 1/(2n) Σₓ ‖y(x) − a(x)‖², n the batch size (Nielsen's eq. 6). */
    public static Tensor quadratic(Tensor output, Tensor target) {
        sameShape("quadratic", output, target);
        return output.quadraticCost(target);
    }

    /** mean((output − target)²) over all elements. */
    public static Tensor mse(Tensor output, Tensor target) {
        sameShape("mse", output, target);
        return output.sub(target).square().mean();
    }

    /**
     * Mean cross-entropy of logits [B, C] (or [C] for one example). The target is either class indices of
     * shape [B] (or 0-D), taking the fused {@link Tensor#crossEntropy(int[])} path, or one-hot/probability rows of
     * the logits' shape: −(1/B)·Σ_b Σ_c t_bc·log softmax(z_b)_c.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor target) {
        if (logits.rank() == 1) return crossEntropy(logits.unsqueeze(0), target.unsqueeze(0));
        if (logits.rank() != 2) {
            throw new IllegalArgumentException("crossEntropy: logits must have shape [batch, classes], got " + Arrays.toString(logits.shape()));
        }
        if (Arrays.equals(logits.shape(), target.shape())) {
            return target.mul(logits.logSoftmax(1)).sum().neg().div(logits.shape(0));
        }
        if (target.rank() == 1) return logits.crossEntropy(classIndices(target, logits.shape(0)));
        throw new IllegalArgumentException("crossEntropy: target of shape " + Arrays.toString(target.shape())
                + " is neither class indices [" + logits.shape(0) + "] nor probabilities " + Arrays.toString(logits.shape()));
    }

    /** Cross-entropy of logits [B, C] (or [C]) against class indices. */
    public static Tensor crossEntropy(Tensor logits, int[] labels) {
        return logits.rank() == 1 ? logits.unsqueeze(0).crossEntropy(labels) : logits.crossEntropy(labels);
    }

    /** Integer-valued labels [b] as ints (their range is checked by the op). */
    private static int[] classIndices(Tensor labels, int b) {
        if (labels.shape(0) != b) {
            throw new IllegalArgumentException("crossEntropy: labels must have shape [" + b + "] for logits with " + b
                    + " rows, got " + Arrays.toString(labels.shape()));
        }
        double[] v = labels.toDoubleArray();
        int[] out = new int[b];
        for (int i = 0; i < b; i++) {
            out[i] = (int) v[i];
            if (out[i] != v[i]) {
                throw new IllegalArgumentException("crossEntropy: label " + v[i] + " at row " + i + " is not a class index");
            }
        }
        return out;
    }

    /**
     * −mean(y·log p + (1−y)·log(1−p)) for probabilities p, clamped to [eps, 1−eps] first so that a saturated
     * output costs a large finite amount instead of infinity.
     */
    public static Tensor binaryCrossEntropy(Tensor p, Tensor y, double eps) {
        sameShape("binaryCrossEntropy", p, y);
        Tensor q = p.clamp(eps, 1 - eps);
        return y.mul(q.log()).add(y.neg().add(1).mul(q.neg().add(1).log())).mean().neg();
    }

    public static Tensor binaryCrossEntropy(Tensor p, Tensor y) {
        return binaryCrossEntropy(p, y, DEFAULT_EPS);
    }

    /** mean(max(z, 0) − z·y + log(1 + exp(−|z|))): binary cross-entropy of σ(z), without computing σ. */
    public static Tensor binaryCrossEntropyWithLogits(Tensor logits, Tensor y) {
        sameShape("binaryCrossEntropyWithLogits", logits, y);
        return logits.binaryCrossEntropyWithLogits(y);
    }

    /** Nielsen's L2 regularisation term λ/(2n)·Σw², to add to the cost (n = training-set size). */
    public static Tensor l2(List<Tensor> weights, double lambda, int n) {
        Tensor sum = null;
        for (Tensor w : weights) {
            Tensor s = w.square().sum();
            sum = sum == null ? s : sum.add(s);
        }
        return sum == null ? Tensor.scalar(0) : sum.mul(lambda / (2.0 * n));
    }

    private static void sameShape(String op, Tensor output, Tensor target) {
        if (!Arrays.equals(output.shape(), target.shape())) {
            throw new IllegalArgumentException(op + ": output shape " + Arrays.toString(output.shape()) + " and target shape "
                    + Arrays.toString(target.shape()) + " differ");
        }
    }

    /** Rows of the identity: a constant [labels.length, classes] matrix with a 1 at each row's class. */
    public static Tensor oneHot(int[] labels, int classes, DType dtype) {
        Tensor t = Tensor.zeros(dtype, labels.length, classes);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("oneHot: label " + labels[i] + " at row " + i + " is not a class index in [0, " + classes + ")");
            }
            t.set(1, i, labels[i]);
        }
        return t;
    }
}
