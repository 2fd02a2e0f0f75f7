package org.deltagrad.spark;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

import org.deltagrad.nn.Activation;
import org.deltagrad.nn.MlpSpec;

/** The architecture and loss, as plain fields: what an executor needs to rebuild the model and its gradient. */
public final class ModelShape implements Serializable {
    private static final long serialVersionUID = 1L;
    final int inputs;
    final int[] hidden;
    final int outputs;
    final String activation;
    /** Nielsen's quadratic cost on activated outputs (true) or cross-entropy of logits (false). */
    final boolean quadratic;

    ModelShape(MlpSpec spec) {
        this.inputs = spec.inputs();
        this.hidden = spec.hidden().clone();
        this.outputs = spec.outputs();
        this.activation = spec.activation().id();
        this.quadratic = spec.activateOutput();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelShape m && inputs == m.inputs && Arrays.equals(hidden, m.hidden) && outputs == m.outputs
                && activation.equals(m.activation) && quadratic == m.quadratic;
    }

    @Override
    public int hashCode() {
        return Objects.hash(inputs, Arrays.hashCode(hidden), outputs, activation, quadratic);
    }

    MlpSpec spec() {
        return new MlpSpec(inputs, hidden, outputs, Activation.parse(activation), quadratic, null, null);
    }
}
