package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** max(x, 0), element-wise (gradient 0 at x = 0, as in PyTorch). */
public final class ReLU extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return x.relu();
    }
}
