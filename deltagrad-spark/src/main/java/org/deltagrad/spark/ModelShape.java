package org.deltagrad.spark;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;

/** The architecture and loss, as plain fields: what an executor needs to rebuild the model and its gradient. */
public final class ModelShape implements Serializable {
    private static final long serialVersionUID = 2L;
    final int inputs;
    /** The data's image shape, or null: a convolutional model needs it. */
    final int[] imageShape;
    /** The hidden layers in the --arch grammar. */
    final String layers;
    final int outputs;
    final String activation;
    /** Nielsen's quadratic cost on activated outputs (true) or cross-entropy of logits (false). */
    final boolean quadratic;

    ModelShape(Architecture spec) {
        this.inputs = spec.inputs();
        this.imageShape = spec.imageShape();
        this.layers = spec.arch();
        this.outputs = spec.outputs();
        this.activation = spec.activation().id();
        this.quadratic = spec.activateOutput();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelShape m && inputs == m.inputs && Arrays.equals(imageShape, m.imageShape) && layers.equals(m.layers)
                && outputs == m.outputs && activation.equals(m.activation) && quadratic == m.quadratic;
    }

    @Override
    public int hashCode() {
        return Objects.hash(inputs, Arrays.hashCode(imageShape), layers, outputs, activation, quadratic);
    }

    Architecture architecture() {
        return new Architecture(inputs, imageShape, layers.isEmpty() ? java.util.List.of() : Architecture.parse(layers), outputs,
                Activation.parse(activation), quadratic, null);
    }
}
