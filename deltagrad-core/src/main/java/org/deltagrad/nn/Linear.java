package org.deltagrad.nn;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * A fully connected layer, y = x·Wᵀ + b, with PyTorch's layout: weight [out, in] (row j holds the weights
 * into neuron j, Nielsen's w_jk) and bias [out]. Accepts x of shape [..., in].
 */
public final class Linear extends Module {
    private final int in;
    private final int out;
    private final Tensor weight;
    private final Tensor bias;

    /** float32, with bias, PyTorch's default initialisation drawn from {@code seed}. */
    public Linear(int in, int out, long seed) {
        this(in, out, Init.PYTORCH_DEFAULT, new SplittableRandom(seed));
    }

    /** float32, with bias. */
    public Linear(int in, int out, Init init, SplittableRandom rng) {
        this(in, out, init, rng, DType.FLOAT32, true);
    }

    /** The weight is drawn before the bias, so the same generator state gives the same layer. */
    public Linear(int in, int out, Init init, SplittableRandom rng, DType dtype, boolean withBias) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear: sizes must be positive, got in=" + in + ", out=" + out);
        this.in = in;
        this.out = out;
        this.weight = registerParameter("weight", init.weight(dtype, rng, in, out));
        this.bias = withBias ? registerParameter("bias", init.bias(dtype, rng, in, out)) : null;
    }

    public Tensor weight() {
        return weight;
    }

    /** The bias, or null for a layer without one. */
    public Tensor bias() {
        return bias;
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() == 0 || x.shape(-1) != in) {
            throw new IllegalArgumentException("Linear(in=" + in + ", out=" + out + "): input of shape "
                    + Arrays.toString(x.shape()) + " does not end in " + in);
        }
        // One GEMM onto the broadcast bias, reading the weight transposed; nothing is copied.
        return x.linear(weight, bias);
    }

    @Override
    protected String extraRepr() {
        return "in=" + in + ", out=" + out + ", bias=" + (bias != null) + ", dtype=" + weight.dtype().name().toLowerCase();
    }
}
