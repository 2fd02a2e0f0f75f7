package org.deltagrad.nn;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Function;

/**
 * Mean binary cross-entropy of logits z against targets y in [0, 1], element-wise:
 * max(z, 0) − z·y + log(1 + exp(−|z|)), which never overflows. A Function rather than that composite
 * because the composite's max and |·| have kinks at z = 0 whose one-sided gradients would give −y there
 * instead of σ(0) − y; the rule here is the exact (σ(z) − y)·g/N for z and −z·g/N for y.
 */
final class BinaryCrossEntropyWithLogits extends Function {

    @Override
    public String name() {
        return "BinaryCrossEntropyWithLogits";
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... inputs) {
        Tensor z = inputs[0], y = inputs[1];
        ctx.saveForBackward(z, y);
        return z.relu().sub(z.mul(y)).add(z.abs().neg().exp().add(1).log()).mean();
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor gradOutput) {
        Tensor z = ctx.saved(0), y = ctx.saved(1);
        Tensor scale = gradOutput.div(z.numel());
        return new Tensor[] {
                ctx.needsInputGrad(0) ? z.sigmoid().sub(y).mul(scale) : null,
                ctx.needsInputGrad(1) ? z.neg().mul(scale) : null};
    }
}
