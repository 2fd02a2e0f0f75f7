package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** A cost C(output, target) reduced to a scalar; see {@link Losses} for the standard ones. */
@FunctionalInterface
public interface Loss {
    Tensor apply(Tensor output, Tensor target);
}
