package org.deltagrad.nn;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The architecture of a multilayer perceptron: input size, hidden sizes, output size, the hidden
 * activation and whether the output layer applies it too (Nielsen's setting with the quadratic cost) or
 * emits logits (for cross-entropy). Enough to rebuild the model from a file.
 */
public record MlpSpec(int inputs, int[] hidden, int outputs, Activation activation, boolean activateOutput,
                      List<String> classNames, int[] imageShape) {

    public MlpSpec {
        if (inputs <= 0 || outputs <= 0) throw new IllegalArgumentException("an MLP needs positive input and output sizes");
        for (int h : hidden) if (h <= 0) throw new IllegalArgumentException("hidden layer sizes must be positive: " + Arrays.toString(hidden));
        hidden = hidden.clone();
        classNames = classNames == null ? null : List.copyOf(classNames);
    }

    /** All layer sizes, input to output (e.g. [784, 30, 10]). */
    public int[] sizes() {
        int[] s = new int[hidden.length + 2];
        s[0] = inputs;
        System.arraycopy(hidden, 0, s, 1, hidden.length);
        s[s.length - 1] = outputs;
        return s;
    }

    /**
     * Linear, activation, Linear, …: parameters are named {@code 0.weight}, {@code 0.bias}, {@code 2.weight}, …
     * exactly as in a PyTorch {@code nn.Sequential} of the same layers.
     */
    public Sequential build(Init init, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] sizes = sizes();
        Sequential net = new Sequential();
        for (int l = 0; l + 1 < sizes.length; l++) {
            net.add(new Linear(sizes[l], sizes[l + 1], init, rng));
            boolean last = l + 2 == sizes.length;
            if (!last || activateOutput) net.add(activation.module());
        }
        return net;
    }

    public Sequential build(long seed) {
        return build(activation.defaultInit(), seed);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MlpSpec m && inputs == m.inputs && Arrays.equals(hidden, m.hidden) && outputs == m.outputs
                && activation == m.activation && activateOutput == m.activateOutput;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sizes()) * 31 + activation.hashCode();
    }

    @Override
    public String toString() {
        return Arrays.toString(sizes()) + " " + activation.id() + (activateOutput ? " (activated output)" : " (logits)");
    }
}
