package org.deltagrad.nn;

import java.util.Arrays;

import org.deltagrad.Tensor;

/**
 * torch.nn.Unflatten(1, shape): [N, d] to [N, shape…] with d the product of {@code shape}. A convolutional model
 * built from a specification starts with one, so that it takes the same flat rows as a multilayer perceptron and
 * its PyTorch twin, {@code nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(…), …)}, has the same state dict.
 */
public final class Unflatten extends Module {
    private final int[] shape;
    private final long size;

    public Unflatten(int... shape) {
        if (shape.length == 0) throw new IllegalArgumentException("Unflatten: the shape must have at least one axis");
        long n = 1;
        for (int d : shape) {
            if (d <= 0) throw new IllegalArgumentException("Unflatten: axis sizes must be positive, got " + Arrays.toString(shape));
            n *= d;
        }
        this.shape = shape.clone();
        this.size = n;
    }

    /** The shape of one row after unflattening, e.g. [1, 28, 28]. */
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 2 || x.shape(1) != size) {
            throw new IllegalArgumentException("Unflatten: expected input [N, " + size + "] to unflatten to [N, "
                    + Arrays.toString(shape).replaceAll("[\\[\\]]", "") + "], got " + Arrays.toString(x.shape()));
        }
        int[] to = new int[shape.length + 1];
        to[0] = x.shape(0);
        System.arraycopy(shape, 0, to, 1, shape.length);
        return x.reshape(to);
    }

    @Override
    protected String extraRepr() {
        return "dim=1, unflattened_size=" + Arrays.toString(shape).replace('[', '(').replace(']', ')');
    }
}
