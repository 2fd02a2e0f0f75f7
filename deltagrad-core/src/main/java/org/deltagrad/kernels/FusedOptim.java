package org.deltagrad.kernels;

/**
 * The optimisers' update loops over raw arrays (PyTorch's fused optimiser kernels): one pass reads and writes
 * each of p, g and the state once, with no temporaries. Element k of every operand is {@code x[at + k]}, one
 * index expression for all arrays, which is what lets C2 vectorise the loop (see {@link Elementwise}); callers
 * with operands at different offsets work on copies. Element-wise, so any split into ranges gives the same bits.
 */
public final class FusedOptim {
    private FusedOptim() {}

    /**
     * SGD with momentum μ, for n elements from {@code at}: d = g + wd·p; v ← μ·v + (1 − dampening)·d, or v ← d
     * on the first step; p ← p − lr·(d + μ·v) with Nesterov, else p ← p − lr·v.
     */
    public static void sgdMomentum(float[] p, float[] g, float[] v, int at, int n, double lr, double weightDecay,
                                   double momentum, double dampening, boolean nesterov, boolean firstStep) {
        float wd = (float) weightDecay, mu = (float) momentum, rate = (float) lr;
        float keep = firstStep ? 0f : mu, scale = firstStep ? 1f : (float) (1 - dampening);
        for (int k = 0; k < n; k++) {
            float pv = p[at + k];
            float d = g[at + k] + wd * pv;
            float vk = keep * v[at + k] + scale * d;
            v[at + k] = vk;
            p[at + k] = pv - rate * (nesterov ? d + mu * vk : vk);
        }
    }

    /** {@link #sgdMomentum(float[], float[], float[], int, int, double, double, double, double, boolean, boolean)} in float64. */
    public static void sgdMomentum(double[] p, double[] g, double[] v, int at, int n, double lr, double weightDecay,
                                   double momentum, double dampening, boolean nesterov, boolean firstStep) {
        double keep = firstStep ? 0 : momentum, scale = firstStep ? 1 : 1 - dampening;
        for (int k = 0; k < n; k++) {
            double pv = p[at + k];
            double d = g[at + k] + weightDecay * pv;
            double vk = keep * v[at + k] + scale * d;
            v[at + k] = vk;
            p[at + k] = pv - lr * (nesterov ? d + momentum * vk : vk);
        }
    }

    /**
     * Adam's step t (from 1) for n elements from {@code at}: g' = g + wd·p (L2), or p scaled by 1 − lr·wd first
     * when {@code decoupled} (AdamW); m ← β₁·m + (1 − β₁)·g', v ← β₂·v + (1 − β₂)·g'²;
     * p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε).
     */
    public static void adam(float[] p, float[] g, float[] m, float[] v, int at, int n, double lr, double beta1,
                            double beta2, double eps, double weightDecay, boolean decoupled, int t) {
        AdamScalars s = new AdamScalars(lr, beta1, beta2, weightDecay, decoupled, t);
        float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
        float l2 = (float) s.l2, decay = (float) s.decay, stepSize = (float) s.stepSize, sqrtBias2 = (float) s.sqrtBias2;
        float e = (float) eps;
        for (int k = 0; k < n; k++) {
            float pv = p[at + k];
            float gk = g[at + k] + l2 * pv;
            float mk = b1 * m[at + k] + c1 * gk;
            float vk = b2 * v[at + k] + c2 * gk * gk;
            m[at + k] = mk;
            v[at + k] = vk;
            p[at + k] = pv * decay - stepSize * mk / ((float) Math.sqrt(vk) / sqrtBias2 + e);
        }
    }

    /** {@link #adam(float[], float[], float[], float[], int, int, double, double, double, double, double, boolean, int)} in float64. */
    public static void adam(double[] p, double[] g, double[] m, double[] v, int at, int n, double lr, double beta1,
                            double beta2, double eps, double weightDecay, boolean decoupled, int t) {
        AdamScalars s = new AdamScalars(lr, beta1, beta2, weightDecay, decoupled, t);
        double l2 = s.l2, decay = s.decay, stepSize = s.stepSize, sqrtBias2 = s.sqrtBias2;
        for (int k = 0; k < n; k++) {
            double pv = p[at + k];
            double gk = g[at + k] + l2 * pv;
            double mk = beta1 * m[at + k] + (1 - beta1) * gk;
            double vk = beta2 * v[at + k] + (1 - beta2) * gk * gk;
            m[at + k] = mk;
            v[at + k] = vk;
            p[at + k] = pv * decay - stepSize * mk / (Math.sqrt(vk) / sqrtBias2 + eps);
        }
    }

    /** Adam's per-step scalars, worked out in float64 whatever the dtype. */
    private record AdamScalars(double stepSize, double sqrtBias2, double decay, double l2) {
        AdamScalars(double lr, double beta1, double beta2, double weightDecay, boolean decoupled, int t) {
            this(lr / (1 - Math.pow(beta1, t)), Math.sqrt(1 - Math.pow(beta2, t)), decoupled ? 1 - lr * weightDecay : 1,
                    decoupled ? 0 : weightDecay);
        }
    }

    /**
     * y[yo + k] += α·x[xo + k] for k &lt; n (gradient accumulation, plain SGD's step). At equal offsets the loop has
     * one index expression, which C2 vectorises.
     */
    public static void axpy(float[] y, int yo, float[] x, int xo, int n, double alpha) {
        float a = (float) alpha;
        if (xo == yo) {
            for (int i = yo; i < yo + n; i++) y[i] += a * x[i];
        } else {
            for (int i = 0; i < n; i++) y[yo + i] += a * x[xo + i];
        }
    }

    public static void axpy(double[] y, int yo, double[] x, int xo, int n, double alpha) {
        if (xo == yo) {
            for (int i = yo; i < yo + n; i++) y[i] += alpha * x[i];
        } else {
            for (int i = 0; i < n; i++) y[yo + i] += alpha * x[xo + i];
        }
    }
}
