package org.deltagrad.train.step;

import org.deltagrad.train.TrainConfig.LossKind;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.nn.Losses;
import org.deltagrad.nn.Module;
import org.deltagrad.optim.GradClip;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.train.Evaluation;

/**
 * The reference step, as a textbook writes it: forward, loss, one backward sweep of the graph, clipping, one
 * optimiser step. It runs any model; the compiled step is tested against it.
 */
public final class EagerStep implements TrainingStep {
    private final Module model;
    private final Optimizer optimizer;
    private final LossKind lossKind;
    private final double clipNorm;
    private final String description;
    private Tensor output;
    private Tensor loss;
    private int[] labels;

    public EagerStep(Module model, Optimizer optimizer, LossKind loss, double clipNorm) {
        this(model, optimizer, loss, clipNorm, "eager");
    }

    EagerStep(Module model, Optimizer optimizer, LossKind loss, double clipNorm, String description) {
        this.model = model;
        this.optimizer = optimizer;
        this.lossKind = loss;
        this.clipNorm = clipNorm;
        this.description = description;
    }

    /** The training loss: cross-entropy of the logits, or Nielsen's quadratic cost against one-hot targets. */
    public static Tensor loss(LossKind kind, Tensor output, int[] labels) {
        return kind == LossKind.MSE
                ? Losses.quadratic(output, Losses.oneHot(labels, output.shape(1), output.dtype()))
                : Losses.crossEntropy(output, labels);
    }

    @Override
    public double forward(StepBatch batch) {
        labels = batch.labels();
        output = model.forward(batch.batch().x());
        loss = loss(lossKind, output, labels);
        return loss.item();
    }

    @Override
    public void backward() {
        loss.backward();
        loss = null;
    }

    @Override
    public void update() {
        if (clipNorm > 0) GradClip.clipGradNorm(optimizer.parameters(), clipNorm);
        optimizer.step();
        optimizer.zeroGrad();
    }

    @Override
    public int correct() {
        int[] predicted;
        try (Autograd.Scope s = Autograd.noGrad()) {
            predicted = Evaluation.predictions(output);
        }
        int c = 0;
        for (int i = 0; i < labels.length; i++) if (predicted[i] == labels[i]) c++;
        return c;
    }

    @Override
    public String description() {
        return description;
    }
}
