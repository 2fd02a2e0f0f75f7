package org.deltagrad.train;

import java.util.Locale;
import java.util.Map;

import org.deltagrad.DeltagradException;
import org.deltagrad.NonFinite;
import org.deltagrad.Tensor;
import org.deltagrad.data.Datasets;
import org.deltagrad.nn.Module;

/**
 * Stops a run that cannot give a usable model, before it overwrites a good one, and says where.
 *
 * <p>The rules: there must be training and test examples (checked before training). Training has diverged
 * when a batch's loss is NaN or infinite, when it exceeds {@value #EXPLOSION_FACTOR} times the first
 * batch's loss (or times 1, if that loss was smaller: a run's loss never legitimately grows a
 * million-fold), or when any weight is NaN or infinite at the end of an epoch. Weights that stop being
 * numbers mid-epoch make the next batch's loss non-finite, so the per-batch check sees them a step later;
 * the end-of-epoch scan catches the last step and costs one pass over the weights per epoch.
 */
public final class TrainingGuard {
    /** How many times the first batch's loss a loss may reach before the run counts as exploded. */
    public static final double EXPLOSION_FACTOR = 1e6;

    private final TrainConfig config;
    private double firstLoss = Double.NaN;

    /** Checks that {@code data} has examples to train and test on. */
    public TrainingGuard(TrainConfig config, Datasets.TrainTest data) {
        this.config = config;
        if (data.train().size() == 0) {
            throw new DeltagradException("dataset '" + config.dataset + "' has no training examples: nothing to train on");
        }
        if (data.test().size() == 0) {
            throw new DeltagradException("dataset '" + config.dataset + "' has no test examples, so no accuracy could be "
                    + "reported: give it a test set");
        }
    }

    /** The run's first batch loss (NaN before it), kept by checkpoints so that a resumed run judges alike. */
    public double firstLoss() {
        return firstLoss;
    }

    /** Continues a run whose first batch loss was {@code firstLoss}. */
    public void resumeWith(double firstLoss) {
        this.firstLoss = firstLoss;
    }

    /** After the forward pass of batch {@code batch} (1-based) of {@code batches} in {@code epoch}. */
    public void checkLoss(int epoch, int batch, int batches, double loss) {
        if (Double.isNaN(firstLoss)) firstLoss = loss;
        String what;
        if (!Double.isFinite(loss)) {
            what = "the loss became " + loss;
        } else if (loss > EXPLOSION_FACTOR * Math.max(1, firstLoss)) {
            what = String.format(Locale.ROOT, "the loss exploded to %.3g (more than %.0e times the first batch's %.4g)",
                    loss, EXPLOSION_FACTOR, firstLoss);
        } else {
            return;
        }
        throw diverged(epoch, batch, batches, what);
    }

    /** At the end of {@code epoch}, whose last batch was {@code batches}: every weight must be a number. */
    public void checkWeights(int epoch, int batches, Module model) {
        checkFinite(epoch, batches, "parameter", model.namedParameters());
        // a batch norm's running statistics are not trained, but a diverged batch leaves them non-finite too
        checkFinite(epoch, batches, "buffer", model.namedBuffers());
    }

    private void checkFinite(int epoch, int batches, String kind, Map<String, Tensor> tensors) {
        for (Map.Entry<String, Tensor> p : tensors.entrySet()) {
            NonFinite bad = NonFinite.of(p.getValue());
            if (bad.any()) {
                throw diverged(epoch, batches, batches, "after the optimiser step, " + kind + " '" + p.getKey() + "' holds " + bad);
            }
        }
    }

    private TrainingDivergedException diverged(int epoch, int batch, int batches, String what) {
        return new TrainingDivergedException("training diverged at epoch " + epoch + ", batch " + batch + " of " + batches
                + ": " + what + "; try a lower {lr} (now " + config.lr + ")"
                + (config.clipNorm == 0 ? " or {clipNorm=1}" : ""));
    }
}
