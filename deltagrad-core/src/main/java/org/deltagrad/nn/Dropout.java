package org.deltagrad.nn;

import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * Inverted dropout: in training mode each element is zeroed with probability p and the survivors are scaled
 * by 1/(1−p), so the expected activation is unchanged and evaluation needs no rescaling; in eval mode it is
 * the identity. The k-th training call draws its mask from a generator seeded by (seed, k), so a run is
 * reproducible and the mask does not depend on the shapes seen in earlier calls.
 */
public final class Dropout extends Module {
    private final double p;
    private final long seed;
    private long calls;

    public Dropout(double p, long seed) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("Dropout: p must be in [0, 1], got " + p);
        this.p = p;
        this.seed = seed;
    }

    public double p() {
        return p;
    }

    /** How many masks have been drawn (training-mode calls with p > 0). */
    public long calls() {
        return calls;
    }

    /** Continues from {@code calls} masks drawn, as a checkpoint recorded it: the next mask is the same as then. */
    public void setCalls(long calls) {
        if (calls < 0) throw new IllegalArgumentException("Dropout: calls must be >= 0, got " + calls);
        this.calls = calls;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) return x;
        if (p == 1) return x.mul(0);
        return x.mul(nextMask(x.dtype(), x.shape()));
    }

    /**
     * The mask of the next training call (for 0 &lt; p &lt; 1): 1/(1−p) where an element is kept, 0 where it is
     * dropped, a constant. {@link #forward} multiplies by it; code that runs the layer by hand (the compiled training
     * step) draws it here, so both see the same masks in the same order.
     */
    public Tensor nextMask(DType dtype, int... shape) {
        // golden-ratio increment: consecutive call numbers give well-separated seeds
        SplittableRandom rng = new SplittableRandom(seed + 0x9E3779B97F4A7C15L * ++calls);
        Tensor keep = Tensor.rand(dtype, rng, shape).ge(p);   // 1 with probability 1−p
        return keep.mulInPlace(1 / (1 - p));
    }

    @Override
    protected String extraRepr() {
        return "p=" + p;
    }
}
