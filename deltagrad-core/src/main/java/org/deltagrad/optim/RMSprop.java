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
    private final Tensor[] square;
    private final Tensor[] buffer;

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
        this.square = new Tensor[params.size()];
        this.buffer = new Tensor[params.size()];
    }

    /** {@code i.square_avg} and, with momentum, {@code i.momentum_buffer} for each parameter updated so far. */
    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = super.state();
        putState(out, "square_avg", square);
        putState(out, "momentum_buffer", buffer);
        return out;
    }

    @Override
    public void loadState(Map<String, Tensor> state) {
        StateReader r = new StateReader(state, momentum > 0 ? new String[] {"square_avg", "momentum_buffer"} : new String[] {"square_avg"});
        Tensor[] s = r.tensors("square_avg"), b = r.tensors("momentum_buffer");
        System.arraycopy(s, 0, square, 0, s.length);
        System.arraycopy(b, 0, buffer, 0, b.length);
    }

    @Override
    protected void update(int i, Tensor p, Tensor grad) {
        Tensor g = withWeightDecay(grad, p, weightDecay);
        if (square[i] == null) {
            square[i] = stateLike(p);
            if (momentum > 0) buffer[i] = stateLike(p);
        }
        square[i].mulInPlace(alpha).addInPlace(g.square(), 1 - alpha);
        Tensor d = g.div(square[i].sqrt().add(eps));
        if (momentum > 0) {
            buffer[i].mulInPlace(momentum).addInPlace(d);
            d = buffer[i];
        }
        p.addInPlace(d, -learningRate());
    }
}
