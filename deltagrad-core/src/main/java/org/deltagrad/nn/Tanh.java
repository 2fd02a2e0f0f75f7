package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** tanh(x), element-wise. */
public final class Tanh extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return x.tanh();
    }
}
