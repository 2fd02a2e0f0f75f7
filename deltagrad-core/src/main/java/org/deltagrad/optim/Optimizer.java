package org.deltagrad.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.autograd.Node;

/**
 * Updates parameters from their accumulated gradients. Every update runs inside {@link Autograd#noGrad()}
 * with in-place ops, so it is never recorded and the parameters stay the same leaf tensors; per-parameter
 * state (momentum, moment estimates) is allocated on a parameter's first update and reused afterwards.
 * Parameters without a gradient are skipped, as in PyTorch.
 */
public abstract class Optimizer {
    protected final List<Tensor> params;
    private final Map<Tensor, Integer> index = new IdentityHashMap<>();
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
        for (int i = 0; i < params.size(); i++) index.putIfAbsent(params.get(i), i);
        this.lr = lr;
    }

    /**
     * {@code loss.backward()} for a {@link #step()} that follows, letting this optimiser apply a gradient the moment
     * the sweep computes it when that needs no optimiser state and the gradient is one matrix product: plain SGD adds
     * a linear layer's ∂W = gᵀ·x straight into W with one GEMM (W ← W − lr·gᵀ·x, beta = 1), instead of writing ∂W,
     * reading it back and W again, at batch 64 (784-100-10) ∂W₁ and its update took 95–110 µs that way and take 62–66 µs so. Such a parameter keeps no
     * {@code grad()} and {@code step()} skips it; every other gradient is accumulated as usual. The result equals
     * {@code loss.backward(); step()} up to rounding: the product is summed in a different order.
     *
     * <p>Only where nothing else can tell the difference (see {@link Node#applyGradientProduct}): a parameter that
     * another op also uses, that already has a gradient, or whose memory another op saved, gets its gradient as
     * usual. Call {@link #step()} next, before the parameters are used again; {@link #backwardAndStep} does both.
     */
    public final void backward(Tensor loss) {
        if (!updatesFromProducts()) {
            loss.backward();
            return;
        }
        Autograd.backward(loss, (leaf, m1, m2) -> { // the sweep calls it with grad mode off
            Integer i = index.get(leaf);
            return i != null && updateFromProduct(i, leaf, m1, m2);
        });
    }

    /** {@link #backward(Tensor)} then {@link #step()}: one training step's gradients and update. */
    public final void backwardAndStep(Tensor loss) {
        backward(loss);
        step();
    }

    /**
     * Applies the gradient {@code m1·m2} (matrices; possibly transposed views) of parameter {@code index} in place,
     * as {@link #update} would, and returns true; or returns false (the default), and the gradient is stored for
     * {@link #step()}. Called during a {@link #backward(Tensor)} sweep, with grad mode off.
     */
    protected boolean updateFromProduct(int index, Tensor param, Tensor m1, Tensor m2) {
        return false;
    }

    /** Whether {@link #updateFromProduct} may accept anything; if not, {@link #backward(Tensor)} is a plain sweep. */
    protected boolean updatesFromProducts() {
        return false;
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

    /**
     * Zeros shaped like {@code param}, for state kept across steps (moments, velocities). Made outside any open
     * {@link org.deltagrad.Arena} scope: a step may run in one, and its memory is taken back when the step ends.
     */
    protected static Tensor stateLike(Tensor param) {
        return org.deltagrad.Arena.outside(() -> Tensor.zeros(param.dtype(), param.shape()));
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
