package org.deltagrad.train.step;

import org.deltagrad.train.TrainConfig.LossKind;
import org.deltagrad.nn.Module;
import org.deltagrad.optim.Optimizer;

/**
 * One mini-batch step of training, in three parts so that a caller can time them and stop before any update when
 * the loss is not finite: {@link #forward}, then {@link #backward}, then {@link #update}. After {@code update} no
 * parameter keeps a gradient.
 */
public interface TrainingStep {
    /** Runs the model and the loss on the batch; returns the loss (averaged over the batch). */
    double forward(StepBatch batch);

    /** The gradients of the last forward's loss; a step may already update parameters here, once it no longer needs them. */
    void backward();

    /** Whatever updates are left (gradient clipping first, when asked), then clears the gradients. */
    void update();

    /** How many rows of the last forward's batch the output classifies right (its largest entry is the label). */
    int correct();

    /** Which step this is, and why: "compiled ..." or "eager: ..." (reports and benchmarks print it). */
    String description();

    /**
     * The compiled step when it can run this model, optimiser and loss, else the eager one. {@code -Ddeltagrad.step=eager}
     * forces the eager step (to compare the two).
     */
    static TrainingStep of(Module model, Optimizer optimizer, LossKind loss, double clipNorm) {
        if ("eager".equals(System.getProperty("deltagrad.step"))) {
            return new EagerStep(model, optimizer, loss, clipNorm, "eager (-Ddeltagrad.step=eager)");
        }
        try {
            return CompiledStep.compile(model, optimizer, loss, clipNorm);
        } catch (CompiledStep.NotCompilable e) {
            return new EagerStep(model, optimizer, loss, clipNorm, "eager: " + e.getMessage());
        }
    }
}
