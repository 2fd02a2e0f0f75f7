package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** x for x > 0, slope·x otherwise (gradient slope at x = 0, as in PyTorch). */
public final class LeakyReLU extends Module {
    private final double slope;

    /** PyTorch's default slope, 0.01. */
    public LeakyReLU() {
        this(0.01);
    }

    public LeakyReLU(double slope) {
        this.slope = slope;
    }

    public double slope() {
        return slope;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Tensor.where(x.gt(0), x, x.mul(slope));
    }

    @Override
    protected String extraRepr() {
        return "slope=" + slope;
    }
}
