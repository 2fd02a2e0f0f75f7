package org.deltagrad.nn;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Function;

/**
 * Nielsen's quadratic cost C = 1/(2n)·Σ‖y − a‖² as one op: the forward is a single pass over a and y, and the
 * backward, ∂C/∂a = (a − y)/n, is written with differentiable tensor ops (so it can be differentiated again).
 * Saves the four small ops and their graph nodes that the composed form costs per mini-batch step.
 */
final class QuadraticCost extends Function {
    private final int n;

    QuadraticCost(int n) {
        this.n = n;
    }

    @Override
    public String name() {
        return "quadraticCost";
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... in) {
        ctx.saveForBackward(in[0], in[1]);
        double[] a = in[0].toDoubleArray(), y = in[1].toDoubleArray();
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - y[i];
            sum += d * d;
        }
        return Tensor.scalar(sum / (2.0 * n), in[0].dtype());
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor g) {
        Tensor diff = ctx.saved(0).sub(ctx.saved(1)).mul(g.div(n));
        return new Tensor[] {ctx.needsInputGrad(0) ? diff : null, ctx.needsInputGrad(1) ? diff.neg() : null};
    }
}
