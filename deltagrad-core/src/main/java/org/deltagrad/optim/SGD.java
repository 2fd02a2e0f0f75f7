package org.deltagrad.optim;

import java.util.List;

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
    private final Tensor[] velocity;

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
        this.velocity = new Tensor[params.size()];
    }

    @Override
    protected void update(int i, Tensor p, Tensor grad) {
        Tensor g = withWeightDecay(grad, p, weightDecay);
        if (momentum != 0) {
            Tensor v = velocity[i];
            if (v == null) {
                velocity[i] = v = Tensor.zeros(p.dtype(), p.shape()).copyFrom(g);
            } else {
                v.mulInPlace(momentum).addInPlace(g, 1 - dampening);
            }
            g = nesterov ? g.add(v.mul(momentum)) : v;
        }
        p.addInPlace(g, -learningRate());
    }
}
