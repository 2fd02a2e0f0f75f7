package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** torch.nn.AvgPool2d with a square window and no padding over NCHW input; stride defaults to the kernel. */
public final class AvgPool2d extends Pool2d {
    public AvgPool2d(int kernel) {
        this(kernel, kernel);
    }

    public AvgPool2d(int kernel, int stride) {
        super("AvgPool2d", kernel, stride);
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.avgPool2d(kernel, stride);
    }
}
