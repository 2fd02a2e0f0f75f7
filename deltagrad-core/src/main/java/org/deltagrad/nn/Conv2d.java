package org.deltagrad.nn;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * A 2-D convolution layer with PyTorch's layout and names: weight [out, in, k, k] and bias [out], over NCHW input;
 * the output is [N, out, (H + 2p − k)/s + 1, (W + 2p − k)/s + 1] (floored), as torch.nn.Conv2d.
 */
public final class Conv2d extends Module {
    private final int in;
    private final int out;
    private final int kernel;
    private final int stride;
    private final int padding;
    private final Tensor weight;
    private final Tensor bias;

    /** float32, stride 1, no padding, with bias, PyTorch's default initialisation drawn from {@code seed}. */
    public Conv2d(int in, int out, int kernel, long seed) {
        this(in, out, kernel, 1, 0, Init.PYTORCH_DEFAULT, new SplittableRandom(seed), DType.FLOAT32, true);
    }

    /**
     * The weight is drawn before the bias, as a [out, in·k·k] dense weight of fan-in in·k·k (PyTorch's fan-in for
     * a convolution), so PYTORCH_DEFAULT gives U(−1/√(in·k·k), 1/√(in·k·k)) for both, as torch.nn.Conv2d.
     */
    public Conv2d(int in, int out, int kernel, int stride, int padding, Init init, SplittableRandom rng, DType dtype,
                  boolean withBias) {
        if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException("Conv2d: sizes, kernel and stride must be positive and padding ≥ 0, got in=" + in
                    + ", out=" + out + ", kernel=" + kernel + ", stride=" + stride + ", padding=" + padding);
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        int fanIn = in * kernel * kernel;
        this.weight = registerParameter("weight", init.weight(dtype, rng, fanIn, out).reshape(out, in, kernel, kernel).detach());
        this.bias = withBias ? registerParameter("bias", init.bias(dtype, rng, fanIn, out)) : null;
    }

    public Tensor weight() {
        return weight;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    /** The bias, or null for a layer without one. */
    public Tensor bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.shape(1) != in) {
            throw new IllegalArgumentException("Conv2d(in=" + in + ", out=" + out + ", kernel=" + kernel + "): input of shape "
                    + Arrays.toString(x.shape()) + " is not [N, " + in + ", H, W]");
        }
        return x.conv2d(weight, bias, stride, padding);
    }

    @Override
    protected String extraRepr() {
        return "in=" + in + ", out=" + out + ", kernel=" + kernel + ", stride=" + stride + ", padding=" + padding
                + ", bias=" + (bias != null) + ", dtype=" + weight.dtype().name().toLowerCase();
    }
}
