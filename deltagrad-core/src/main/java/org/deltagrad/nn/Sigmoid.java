package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** σ(x) = 1/(1+e^−x), element-wise: Nielsen's neuron. */
public final class Sigmoid extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return x.sigmoid();
    }
}
