package org.deltagrad.optim;

import java.util.List;
import java.util.Map;

import org.deltagrad.FusedOptimizers;
import org.deltagrad.Tensor;

/**
 * Stochastic gradient descent with PyTorch's semantics. With g = ∇ + wd·p:
 * <pre>
 *   v ← g                      on the first step (no dampening then)
 *   v ← μ·v + (1 − dampening)·g afterwards
 *   p ← p − lr·(g + μ·v)        Nesterov
 *   p ← p − lr·v                otherwise (p ← p − lr·g when μ = 0)
 * </pre>
 */
public final class SGD extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final boolean nesterov;
    private final double weightDecay;
    /** The momentum buffers v, one per parameter (null without momentum). */
    private final Tensor[] velocity;
    /** Whether v holds a value yet: it starts as the first gradient, as in PyTorch. */
    private final boolean[] velocityStarted;

    /** Plain gradient descent: p ← p − lr·∇. */
    public SGD(List<Tensor> params, double lr) {
        this(params, lr, 0, 0, false, 0);
    }

    public SGD(List<Tensor> params, double lr, double momentum) {
        this(params, lr, momentum, 0, false, 0);
    }

    public SGD(List<Tensor> params, double lr, double momentum, double dampening, boolean nesterov, double weightDecay) {
        super(params, lr);
        checkNonNegative("SGD", "momentum", momentum);
        checkNonNegative("SGD", "weightDecay", weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum needs momentum > 0 and dampening = 0");
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        this.velocity = momentum > 0 ? zerosLike(params) : null;
        this.velocityStarted = new boolean[params.size()];
    }

    /** {@code i.momentum_buffer} for each parameter with a velocity (none without momentum). */
    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = super.state();
        if (velocity != null) putState(out, "momentum_buffer", velocity, velocityStarted);
        return out;
    }

    @Override
    public void loadState(Map<String, Tensor> state) {
        boolean[] started = new StateReader(state, momentum == 0 ? new String[0] : new String[] {"momentum_buffer"})
                .load("momentum_buffer", velocity);
        System.arraycopy(started, 0, velocityStarted, 0, started.length);
    }

    public double momentum() {
        return momentum;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    protected void update(int i, Tensor p, Tensor grad) {
        double lr = learningRate();
        if (momentum == 0) {
            if (weightDecay != 0) p.mulInPlace(1 - lr * weightDecay);
            p.addInPlace(grad, -lr);
            return;
        }
        FusedOptimizers.sgdMomentum(p, grad, velocity[i], lr, weightDecay, momentum, dampening, nesterov, !velocityStarted[i]);
        velocityStarted[i] = true;
    }
}
