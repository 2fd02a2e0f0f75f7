package org.deltagrad.nn;

/** What the square-window, unpadded pooling layers share: the kernel and stride, checked once. */
public abstract class Pool2d extends Module {
    final int kernel;
    final int stride;

    Pool2d(String name, int kernel, int stride) {
        if (kernel <= 0 || stride <= 0) {
            throw new IllegalArgumentException(name + ": kernel and stride must be positive, got " + kernel + ", " + stride);
        }
        this.kernel = kernel;
        this.stride = stride;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    @Override
    protected String extraRepr() {
        return "kernel=" + kernel + ", stride=" + stride;
    }
}
