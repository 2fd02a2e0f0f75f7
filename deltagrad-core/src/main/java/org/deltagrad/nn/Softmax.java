package org.deltagrad.nn;

import org.deltagrad.Tensor;

/**
 * exp(x)/Σexp(x) along an axis (stable). To train a classifier, prefer raw logits with
 * {@link Losses#crossEntropy()}, which fuses the softmax into the loss.
 */
public final class Softmax extends Module {
    private final int axis;

    public Softmax(int axis) {
        this.axis = axis;
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.softmax(axis);
    }

    @Override
    protected String extraRepr() {
        return "axis=" + axis;
    }
}
