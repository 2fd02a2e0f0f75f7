package org.deltagrad.autograd;

import org.deltagrad.Tensor;

/**
 * Applies a parameter's gradient as the backward sweep computes it, when that gradient is a single matrix product
 * (a linear layer's ∂W = gᵀ·x), without storing it first: plain SGD makes it one GEMM into the weights,
 * p ← p − lr·(m1·m2). See {@link org.deltagrad.optim.Optimizer#backward(Tensor)}, which is what passes one to
 * {@link Autograd#backward(Tensor, ProductUpdate)}.
 */
@FunctionalInterface
public interface ProductUpdate {
    /**
     * Applies the gradient {@code m1·m2} (2-D tensors, possibly transposed views) to {@code leaf}, its whole gradient
     * in this sweep, in place; false to decline, and the sweep then computes and accumulates it as usual.
     */
    boolean apply(Tensor leaf, Tensor m1, Tensor m2);
}
