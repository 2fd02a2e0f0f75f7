package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** torch.nn.MaxPool2d with a square window and no padding over NCHW input; stride defaults to the kernel. */
public final class MaxPool2d extends Pool2d {
    public MaxPool2d(int kernel) {
        this(kernel, kernel);
    }

    public MaxPool2d(int kernel, int stride) {
        super("MaxPool2d", kernel, stride);
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.maxPool2d(kernel, stride);
    }
}
