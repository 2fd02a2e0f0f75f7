package org.deltagrad.optim;

import java.util.List;
import java.util.Map;

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
    private final Tensor[] m;
    private final Tensor[] v;
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
        this.m = new Tensor[params.size()];
        this.v = new Tensor[params.size()];
        this.steps = new int[params.size()];
    }

    /** {@code i.exp_avg} (m), {@code i.exp_avg_sq} (v) and {@code i.step} for each parameter updated so far. */
    @Override
    public final Map<String, Tensor> state() {
        Map<String, Tensor> out = super.state();
        putState(out, "exp_avg", m);
        putState(out, "exp_avg_sq", v);
        putCounts(out, "step", steps, m);
        return out;
    }

    @Override
    public final void loadState(Map<String, Tensor> state) {
        StateReader r = new StateReader(state, new String[] {"exp_avg", "exp_avg_sq"}, new String[] {"step"});
        Tensor[] m1 = r.tensors("exp_avg"), v1 = r.tensors("exp_avg_sq");
        int[] t = r.counts("step");
        System.arraycopy(m1, 0, m, 0, m1.length);
        System.arraycopy(v1, 0, v, 0, v1.length);
        System.arraycopy(t, 0, steps, 0, t.length);
    }

    @Override
    protected final void update(int i, Tensor p, Tensor grad) {
        if (m[i] == null) {
            m[i] = stateLike(p);
            v[i] = stateLike(p);
        }
        int t = ++steps[i];
        double lr = learningRate();
        double stepSize = lr / (1 - Math.pow(beta1, t));
        double sqrtBias2 = Math.sqrt(1 - Math.pow(beta2, t));
        double decay = decoupled ? 1 - lr * weightDecay : 1;
        double l2 = decoupled ? 0 : weightDecay;
        double b1 = beta1, b2 = beta2, e = eps;
        // One pass: p, g, m, v are read once and written once; no temporaries.
        p.fusedInPlace(new Tensor.Fused() {
            @Override
            public void floats(int n, float[][] x, int at) {
                float[] pp = x[0], gg = x[1], mm = x[2], vv = x[3];
                float fb1 = (float) b1, fb2 = (float) b2, c1 = (float) (1 - b1), c2 = (float) (1 - b2);
                float fl2 = (float) l2, fdecay = (float) decay, fstep = (float) stepSize, fs2 = (float) sqrtBias2, fe = (float) e;
                for (int k = 0; k < n; k++) {
                    float pv = pp[at + k];
                    float g = gg[at + k] + fl2 * pv;
                    float mv = fb1 * mm[at + k] + c1 * g;
                    float vv2 = fb2 * vv[at + k] + c2 * g * g;
                    mm[at + k] = mv;
                    vv[at + k] = vv2;
                    pp[at + k] = pv * fdecay - fstep * mv / ((float) Math.sqrt(vv2) / fs2 + fe);
                }
            }

            @Override
            public void doubles(int n, double[][] x, int at) {
                double[] pp = x[0], gg = x[1], mm = x[2], vv = x[3];
                for (int k = 0; k < n; k++) {
                    double pv = pp[at + k];
                    double g = gg[at + k] + l2 * pv;
                    double mv = b1 * mm[at + k] + (1 - b1) * g;
                    double vv2 = b2 * vv[at + k] + (1 - b2) * g * g;
                    mm[at + k] = mv;
                    vv[at + k] = vv2;
                    pp[at + k] = pv * decay - stepSize * mv / (Math.sqrt(vv2) / sqrtBias2 + e);
                }
            }
        }, grad.contiguous(), m[i], v[i]);
    }
}
