package org.deltagrad.nn;

import java.util.Arrays;

import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * Batch normalisation over the channel axis 1, as PyTorch's {@code _BatchNorm}: in training mode each channel is
 * normalised with its batch mean and biased variance, y = (x − mean) / √(var + eps) · weight + bias, and the running
 * statistics move towards the batch's (the variance unbiased, n/(n−1)); in eval mode the running statistics are used.
 * Built from differentiable tensor ops, so its gradient and second order come from the rule table.
 *
 * <p>Parameters {@code weight} (ones) and {@code bias} (zeros) when affine; buffers {@code running_mean} (zeros),
 * {@code running_var} (ones) and {@code num_batches_tracked} (0, PyTorch's int64, held as float64) when tracking
 * running statistics: the names and order of PyTorch's state_dict.
 */
public abstract sealed class BatchNorm extends Module permits BatchNorm1d, BatchNorm2d {
    public static final double DEFAULT_EPS = 1e-5;
    public static final double DEFAULT_MOMENTUM = 0.1;

    private final int features;
    private final double eps;
    private final Double momentum;
    private final Tensor weight;
    private final Tensor bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final Tensor numBatchesTracked;

    /**
     * @param momentum the running statistics' update factor, or null for PyTorch's momentum=None: a cumulative
     *                 average over the batches seen (factor 1/num_batches_tracked)
     * @param trackRunningStats without running statistics, eval mode normalises with the batch's statistics too
     */
    BatchNorm(int features, double eps, Double momentum, boolean affine, boolean trackRunningStats, DType dtype) {
        if (features <= 0) throw new IllegalArgumentException(name() + ": features must be positive, got " + features);
        if (!(eps > 0)) throw new IllegalArgumentException(name() + ": eps must be positive, got " + eps);
        if (momentum != null && !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(name() + ": momentum must be in [0, 1] or null (cumulative average), got " + momentum);
        }
        this.features = features;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = affine ? registerParameter("weight", Tensor.ones(dtype, features)) : null;
        this.bias = affine ? registerParameter("bias", Tensor.zeros(dtype, features)) : null;
        this.runningMean = trackRunningStats ? registerBuffer("running_mean", Tensor.zeros(dtype, features)) : null;
        this.runningVar = trackRunningStats ? registerBuffer("running_var", Tensor.ones(dtype, features)) : null;
        this.numBatchesTracked = trackRunningStats ? registerInt64Buffer("num_batches_tracked", Tensor.zeros(DType.FLOAT64)) : null;
    }

    /** "BatchNorm2d", as in error messages. */
    private String name() {
        return getClass().getSimpleName();
    }

    /** The input ranks this layer takes, e.g. {2, 3} for BatchNorm1d. */
    abstract int[] ranks();

    /** The expected input, e.g. "[N, 4, H, W]", for error messages. */
    abstract String expectedShape(int features);

    public int numFeatures() {
        return features;
    }

    public double eps() {
        return eps;
    }

    /** The update factor, or null for a cumulative average. */
    public Double momentum() {
        return momentum;
    }

    /** The scale γ, or null without affine parameters. */
    public Tensor weight() {
        return weight;
    }

    /** The shift β, or null without affine parameters. */
    public Tensor bias() {
        return bias;
    }

    /** The running mean, or null when running statistics are not tracked. */
    public Tensor runningMean() {
        return runningMean;
    }

    /** The running (unbiased) variance, or null when running statistics are not tracked. */
    public Tensor runningVar() {
        return runningVar;
    }

    /** How many training batches updated the running statistics (0 when they are not tracked). */
    public long numBatchesTracked() {
        return numBatchesTracked == null ? 0 : (long) numBatchesTracked.item();
    }

    @Override
    public Tensor forward(Tensor x) {
        int rank = x.rank();
        if (Arrays.stream(ranks()).noneMatch(r -> r == rank) || x.shape(1) != features) {
            throw new IllegalArgumentException(name() + "(" + features + "): expected input " + expectedShape(features) + ", got "
                    + Arrays.toString(x.shape()));
        }
        int[] axes = new int[rank - 1]; // every axis but the channels
        for (int a = 0, k = 0; a < rank; a++) if (a != 1) axes[k++] = a;
        int count = x.numel() / features;
        boolean batchStats = isTraining() || runningMean == null;
        if (batchStats && count <= 1) {
            throw new IllegalArgumentException(name() + "(" + features + "): Expected more than 1 value per channel when training, got input size "
                    + Arrays.toString(x.shape()));
        }
        int[] channelShape = new int[rank - 1]; // [C], [C, 1] or [C, 1, 1]: broadcasts along axis 1
        Arrays.fill(channelShape, 1);
        channelShape[0] = features;
        Tensor mean, var;
        if (batchStats) {
            mean = x.sum(axes, true).div(count);
            Tensor centred = x.sub(mean);
            var = centred.mul(centred).sum(axes, true).div(count);
            if (isTraining() && runningMean != null) updateRunningStats(mean.detach(), var.detach(), count);
            return affine(centred, var, channelShape);
        }
        return affine(x.sub(runningMean.reshape(channelShape)), runningVar.reshape(channelShape), channelShape);
    }

    /** (centred / √(var + eps)) · weight + bias, with the per-channel factors formed first (as PyTorch's kernel). */
    private Tensor affine(Tensor centred, Tensor var, int[] channelShape) {
        Tensor scale = var.add(eps).pow(-0.5);
        if (weight == null) return centred.mul(scale);
        return centred.mul(scale.mul(weight.reshape(channelShape))).add(bias.reshape(channelShape));
    }

    /** In double, then rounded to the buffers' dtype once, as PyTorch's CPU kernel does. */
    private void updateRunningStats(Tensor mean, Tensor var, int count) {
        double tracked = numBatchesTracked.item() + 1;
        double f = momentum == null ? 1 / tracked : momentum;
        double[] m = mean.toDoubleArray(), v = var.toDoubleArray();
        double[] rm = runningMean.toDoubleArray(), rv = runningVar.toDoubleArray();
        for (int c = 0; c < features; c++) {
            rm[c] = f * m[c] + (1 - f) * rm[c];
            rv[c] = f * v[c] * count / (count - 1.0) + (1 - f) * rv[c];
        }
        numBatchesTracked.fill(tracked);
        runningMean.copyFrom(Tensor.of(rm, features));
        runningVar.copyFrom(Tensor.of(rv, features));
    }

    @Override
    protected String extraRepr() {
        return features + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + (weight != null)
                + ", track_running_stats=" + (runningMean != null);
    }
}
