package org.deltagrad.optim;

import java.util.List;
import java.util.Map;

import org.deltagrad.FusedOptimizers;
import org.deltagrad.Tensor;

/**
 * Adam (Kingma and Ba) with PyTorch's semantics. At step t, with g = ∇ (+ wd·p for Adam's L2 decay):
 * <pre>
 *   m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
 *   p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)
 * </pre>
 * The bias corrections undo the zero start of m and v; ε sits outside the square root.
 * {@link AdamW} decays the weights directly instead (decoupled weight decay).
 */
public class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;
    /** m, the moving average of the gradient, one per parameter. */
    private final Tensor[] firstMoment;
    /** v, the moving average of the squared gradient, one per parameter. */
    private final Tensor[] secondMoment;
    /** t, the steps each parameter has taken (the bias corrections depend on it). */
    private final int[] steps;

    /** β₁ = 0.9, β₂ = 0.999, ε = 1e-8, no weight decay. */
    public Adam(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0);
    }

    /** {@code weightDecay} adds wd·p to the gradient (L2 regularisation, PyTorch's Adam). */
    public Adam(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(params, lr, beta1, beta2, eps, weightDecay, false);
    }

    Adam(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(params, lr);
        String name = decoupled ? "AdamW" : "Adam";
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(name + ": betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        checkNonNegative(name, "eps", eps);
        checkNonNegative(name, "weightDecay", weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.firstMoment = zerosLike(params);
        this.secondMoment = zerosLike(params);
        this.steps = new int[params.size()];
    }

    /** {@code i.exp_avg} (m), {@code i.exp_avg_sq} (v) and {@code i.step} for each parameter updated so far. */
    @Override
    public final Map<String, Tensor> state() {
        Map<String, Tensor> out = super.state();
        boolean[] started = new boolean[steps.length];
        for (int i = 0; i < steps.length; i++) started[i] = steps[i] > 0;
        putState(out, "exp_avg", firstMoment, started);
        putState(out, "exp_avg_sq", secondMoment, started);
        putCounts(out, "step", steps);
        return out;
    }

    @Override
    public final void loadState(Map<String, Tensor> state) {
        StateReader r = new StateReader(state, new String[] {"exp_avg", "exp_avg_sq"}, new String[] {"step"});
        r.load("exp_avg", firstMoment);
        r.load("exp_avg_sq", secondMoment);
        int[] t = r.counts("step");
        System.arraycopy(t, 0, steps, 0, t.length);
    }

    @Override
    protected final void update(int i, Tensor p, Tensor grad) {
        steps[i]++;
        FusedOptimizers.adam(p, grad, firstMoment[i], secondMoment[i], learningRate(), beta1, beta2, eps, weightDecay,
                decoupled, steps[i]);
    }
}
