package org.deltagrad.optim;

import java.util.List;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;

/** Gradient clipping, against exploding gradients. */
public final class GradClip {
    private GradClip() {}

    /**
     * Rescales all gradients together, in place, when their global L2 norm √(Σ‖g‖²) exceeds maxNorm: each is
     * multiplied by maxNorm/(norm + 1e-6), as PyTorch's clip_grad_norm_ does, so the direction is kept.
     * Parameters without a gradient are skipped.
     *
     * @return the total norm before clipping
     */
    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        if (!(maxNorm >= 0)) throw new IllegalArgumentException("clipGradNorm: maxNorm must be >= 0, got " + maxNorm);
        try (Autograd.Scope s = Autograd.noGrad()) {
            double sumSquares = 0;
            for (Tensor p : params) {
                if (p.grad() != null) sumSquares += p.grad().square().sum().item();
            }
            double norm = Math.sqrt(sumSquares);
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1) {
                for (Tensor p : params) {
                    if (p.grad() != null) p.grad().mulInPlace(coef);
                }
            }
            return norm;
        }
    }
}
