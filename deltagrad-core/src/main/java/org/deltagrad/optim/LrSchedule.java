package org.deltagrad.optim;

/**
 * The learning rate as a function of the epoch (counted from 0); apply it with
 * {@code optimizer.setLearningRate(schedule.lr(epoch))} at the start of each epoch.
 */
@FunctionalInterface
public interface LrSchedule {
    double lr(int epoch);

    /** The same rate throughout. */
    static LrSchedule constant(double lr) {
        return epoch -> lr;
    }

    /** baseLr·γ^⌊epoch/stepSize⌋ (PyTorch's StepLR): multiplied by γ every stepSize epochs. */
    static LrSchedule step(double baseLr, int stepSize, double gamma) {
        if (stepSize <= 0) throw new IllegalArgumentException("LrSchedule.step: stepSize must be positive, got " + stepSize);
        return epoch -> baseLr * Math.pow(gamma, Math.floorDiv(epoch, stepSize));
    }

    /**
     * Cosine annealing from baseLr at epoch 0 to minLr at totalEpochs:
     * minLr + (baseLr − minLr)·(1 + cos(π·epoch/totalEpochs))/2, and minLr after that (no restart).
     */
    static LrSchedule cosine(double baseLr, int totalEpochs, double minLr) {
        if (totalEpochs <= 0) throw new IllegalArgumentException("LrSchedule.cosine: totalEpochs must be positive, got " + totalEpochs);
        return epoch -> {
            int t = Math.min(Math.max(epoch, 0), totalEpochs);
            return minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * t / totalEpochs)) / 2;
        };
    }
}
