package org.deltagrad.nn;

import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * How a dense layer's weight [fanOut, fanIn] and bias [fanOut] start. The scale of the weights keeps the
 * variance of the activations (and of the gradients) roughly constant from layer to layer, so that deep
 * networks neither saturate nor die at the start of training.
 */
public enum Init {
    /**
     * Nielsen's (chapter 3): weights N(0, 1/fanIn), biases N(0, 1). The 1/fanIn variance keeps a neuron's
     * weighted input z of order 1, so sigmoid neurons do not start saturated.
     */
    NIELSEN,
    /**
     * Glorot and Bengio (2010), uniform: weights U(−a, a) with a = √(6/(fanIn+fanOut)), biases zero.
     * Averages the forward (fanIn) and backward (fanOut) variance conditions; made for tanh/sigmoid.
     */
    XAVIER_UNIFORM,
    /** Glorot and Bengio, normal: weights N(0, 2/(fanIn+fanOut)), biases zero. */
    XAVIER_NORMAL,
    /**
     * He et al. (2015), normal, fan-in mode: weights N(0, 2/fanIn), biases zero. The factor 2 makes up for
     * ReLU zeroing half of its inputs.
     */
    HE_NORMAL,
    /** He et al., uniform, fan-in mode: weights U(−a, a) with a = √(6/fanIn), biases zero. */
    HE_UNIFORM,
    /**
     * PyTorch's default for {@code nn.Linear} (kaiming_uniform with a = √5): weights and biases
     * U(−1/√fanIn, 1/√fanIn).
     */
    PYTORCH_DEFAULT;

    /** A fresh weight of shape [fanOut, fanIn]. */
    public Tensor weight(DType dtype, SplittableRandom rng, int fanIn, int fanOut) {
        int[] shape = {fanOut, fanIn};
        return switch (this) {
            case NIELSEN -> normal(dtype, rng, Math.sqrt(1.0 / fanIn), shape);
            case XAVIER_UNIFORM -> uniform(dtype, rng, Math.sqrt(6.0 / (fanIn + fanOut)), shape);
            case XAVIER_NORMAL -> normal(dtype, rng, Math.sqrt(2.0 / (fanIn + fanOut)), shape);
            case HE_NORMAL -> normal(dtype, rng, Math.sqrt(2.0 / fanIn), shape);
            case HE_UNIFORM -> uniform(dtype, rng, Math.sqrt(6.0 / fanIn), shape);
            case PYTORCH_DEFAULT -> uniform(dtype, rng, 1 / Math.sqrt(fanIn), shape);
        };
    }

    /** A fresh bias of shape [fanOut]. */
    public Tensor bias(DType dtype, SplittableRandom rng, int fanIn, int fanOut) {
        return switch (this) {
            case NIELSEN -> normal(dtype, rng, 1, new int[] {fanOut});
            case PYTORCH_DEFAULT -> uniform(dtype, rng, 1 / Math.sqrt(fanIn), new int[] {fanOut});
            default -> Tensor.zeros(dtype, fanOut);
        };
    }

    /** N(0, std²). The tensor is new and outside any graph, so scaling it in place is safe. */
    static Tensor normal(DType dtype, SplittableRandom rng, double std, int[] shape) {
        return Tensor.randn(dtype, rng, shape).mulInPlace(std);
    }

    /** U(−bound, bound), from U(0, 1) scaled and shifted in place. */
    static Tensor uniform(DType dtype, SplittableRandom rng, double bound, int[] shape) {
        return Tensor.rand(dtype, rng, shape).mulInPlace(2 * bound).addInPlace(Tensor.scalar(-bound, dtype));
    }
}
