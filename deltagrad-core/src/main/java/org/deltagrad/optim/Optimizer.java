package org.deltagrad.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;

/**
 * Updates parameters from their accumulated gradients. Every update runs inside {@link Autograd#noGrad()}
 * with in-place ops, so it is never recorded and the parameters stay the same leaf tensors. Per-parameter
 * state (momentum, moment estimates) is made with the optimiser, zeros like each parameter, so that a step
 * allocates nothing that must outlive it. Parameters without a gradient are skipped, as in PyTorch.
 */
public abstract class Optimizer {
    protected final List<Tensor> params;
    private double lr;

    protected Optimizer(List<Tensor> params, double lr) {
        if (params.isEmpty()) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters given");
        if (!(lr >= 0)) throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be >= 0, got " + lr);
        for (int i = 0; i < params.size(); i++) {
            if (!params.get(i).requiresGrad()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + i + " does not require grad");
            }
        }
        this.params = new ArrayList<>(params);
        this.lr = lr;
    }

    /** One update of every parameter that has a gradient. */
    public final void step() {
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                if (p.grad() != null) update(i, p, p.grad());
            }
        }
    }

    /** Updates parameter {@code index} in place from its gradient (grad mode is off). */
    protected abstract void update(int index, Tensor param, Tensor grad);

    /** One state tensor per parameter, zeros of its shape and dtype (moments, velocities). */
    protected static Tensor[] zerosLike(List<Tensor> params) {
        Tensor[] state = new Tensor[params.size()];
        for (int i = 0; i < state.length; i++) state[i] = Tensor.zeros(params.get(i).dtype(), params.get(i).shape());
        return state;
    }

    public final void zeroGrad() {
        for (Tensor p : params) p.zeroGrad();
    }

    public final double learningRate() {
        return lr;
    }

    /** Changes the learning rate for the following steps (e.g. from an {@link LrSchedule}). */
    public final void setLearningRate(double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("setLearningRate: learning rate must be >= 0, got " + lr);
        this.lr = lr;
    }

    public final List<Tensor> parameters() {
        return Collections.unmodifiableList(params);
    }

    /** g + wd·p, the L2 penalty's gradient folded into the gradient (a new tensor; grad() is left as it is). */
    static Tensor withWeightDecay(Tensor grad, Tensor param, double weightDecay) {
        return weightDecay == 0 ? grad : grad.add(param.mul(weightDecay));
    }

    static void checkNonNegative(String owner, String name, double value) {
        if (!(value >= 0)) throw new IllegalArgumentException(owner + ": " + name + " must be >= 0, got " + value);
    }
}
