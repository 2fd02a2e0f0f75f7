package org.deltagrad.optim;

import java.util.List;
import java.util.Map;

import org.deltagrad.Tensor;

/**
 * RMSprop with PyTorch's semantics (not centered). With g = ∇ + wd·p:
 * <pre>
 *   s ← α·s + (1 − α)·g²
 *   d = g / (√s + ε)
 *   b ← μ·b + d, p ← p − lr·b      with momentum μ > 0 (b starts at zero)
 *   p ← p − lr·d                    otherwise
 * </pre>
 */
public final class RMSprop extends Optimizer {
    private final double alpha;
    private final double eps;
    private final double momentum;
    private final double weightDecay;
    /** s, the moving average of the squared gradient, one per parameter. */
    private final Tensor[] squareAverage;
    /** b, the momentum buffers (null without momentum). */
    private final Tensor[] momentumBuffer;
    /** Which parameters have been updated (only those have state to export). */
    private final boolean[] started;

    /** α = 0.99, ε = 1e-8, no momentum, no weight decay (PyTorch's defaults). */
    public RMSprop(List<Tensor> params, double lr) {
        this(params, lr, 0.99, 1e-8, 0, 0);
    }

    public RMSprop(List<Tensor> params, double lr, double alpha, double eps, double momentum, double weightDecay) {
        super(params, lr);
        if (!(alpha >= 0 && alpha < 1)) throw new IllegalArgumentException("RMSprop: alpha must be in [0, 1), got " + alpha);
        checkNonNegative("RMSprop", "eps", eps);
        checkNonNegative("RMSprop", "momentum", momentum);
        checkNonNegative("RMSprop", "weightDecay", weightDecay);
        this.alpha = alpha;
        this.eps = eps;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.squareAverage = zerosLike(params);
        this.momentumBuffer = momentum > 0 ? zerosLike(params) : null;
        this.started = new boolean[params.size()];
    }

    /** {@code i.square_avg} and, with momentum, {@code i.momentum_buffer} for each parameter updated so far. */
    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = super.state();
        putState(out, "square_avg", squareAverage, started);
        if (momentumBuffer != null) putState(out, "momentum_buffer", momentumBuffer, started);
        return out;
    }

    @Override
    public void loadState(Map<String, Tensor> state) {
        StateReader r = new StateReader(state, momentum > 0 ? new String[] {"square_avg", "momentum_buffer"} : new String[] {"square_avg"});
        boolean[] present = r.load("square_avg", squareAverage);
        r.load("momentum_buffer", momentumBuffer);
        System.arraycopy(present, 0, started, 0, present.length);
    }

    @Override
    protected void update(int i, Tensor p, Tensor grad) {
        Tensor g = withWeightDecay(grad, p, weightDecay);
        squareAverage[i].mulInPlace(alpha).addInPlace(g.square(), 1 - alpha);
        Tensor d = g.div(squareAverage[i].sqrt().add(eps));
        if (momentum > 0) {
            momentumBuffer[i].mulInPlace(momentum).addInPlace(d);
            d = momentumBuffer[i];
        }
        p.addInPlace(d, -learningRate());
        started[i] = true;
    }
}
