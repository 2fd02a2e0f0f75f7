package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** Returns its input (a placeholder layer, e.g. for an optional activation). */
public final class Identity extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return x;
    }
}
