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

    public double momentum() {
        return momentum;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    protected void update(int i, Tensor p, Tensor grad) {
        Tensor g = grad.contiguous();
        double lr = learningRate(), wd = weightDecay, mu = momentum, damp = 1 - dampening;
        if (momentum == 0) {
            if (wd != 0) p.mulInPlace(1 - lr * wd);
            p.addInPlace(g, -lr);
            return;
        }
        boolean first = velocity[i] == null;
        if (first) velocity[i] = stateLike(p);
        boolean nest = nesterov;
        // One pass: d = g + wd·p; v = μv + (1−dampening)·d (v = d at the first step); p −= lr·(nesterov ? d + μv : v).
        p.fusedInPlace(new Tensor.Fused() {
            @Override
            public void floats(int n, float[][] x, int at) {
                float[] pp = x[0], gg = x[1], vv = x[2];
                float fwd = (float) wd, fmu = (float) mu, fdamp = first ? 1f : (float) damp, flr = (float) lr, keep = first ? 0f : fmu;
                for (int k = 0; k < n; k++) {
                    float pv = pp[at + k];
                    float d = gg[at + k] + fwd * pv;
                    float v = keep * vv[at + k] + fdamp * d;
                    vv[at + k] = v;
                    pp[at + k] = pv - flr * (nest ? d + fmu * v : v);
                }
            }

            @Override
            public void doubles(int n, double[][] x, int at) {
                double[] pp = x[0], gg = x[1], vv = x[2];
                double fdamp = first ? 1 : damp, keep = first ? 0 : mu;
                for (int k = 0; k < n; k++) {
                    double pv = pp[at + k];
                    double d = gg[at + k] + wd * pv;
                    double v = keep * vv[at + k] + fdamp * d;
                    vv[at + k] = v;
                    pp[at + k] = pv - lr * (nest ? d + mu * v : v);
                }
            }
        }, g, velocity[i]);
    }
}
