package org.deltagrad.optim;

import java.util.List;

import org.deltagrad.Tensor;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), PyTorch's semantics: p ← p·(1 − lr·wd) first,
 * then the plain Adam step. Unlike L2 in the gradient, the decay is not rescaled by Adam's per-element step
 * sizes, so every weight shrinks at the same relative rate.
 */
public final class AdamW extends Adam {

    /** β₁ = 0.9, β₂ = 0.999, ε = 1e-8, weight decay 0.01 (PyTorch's defaults). */
    public AdamW(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0.01);
    }

    public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super(params, lr, beta1, beta2, eps, weightDecay, true);
    }
}
