package org.deltagrad.nn;

import java.util.Arrays;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Function;

/**
 * Mean cross-entropy of logits z [B, C] against class indices y [B]: (1/B)·Σ_b (logsumexp(z_b) − z_b[y_b]).
 * Fused: the forward is one pass per row with a running maximum (an online logsumexp), so exp never
 * overflows, and no softmax tensor is built; the backward is (softmax(z) − onehot(y))·g/B written with
 * differentiable ops on the saved logits, so it can be differentiated again.
 */
public final class CrossEntropy extends Function {

    @Override
    public String name() {
        return "CrossEntropy";
    }

    /** Inputs: logits [B, C] and labels [B] (integer values in a tensor of any dtype; they get no gradient). */
    @Override
    protected Tensor forward(Context ctx, Tensor... inputs) {
        Tensor z = inputs[0], labels = inputs[1];
        int b = z.shape(0), c = z.shape(1);
        int[] y = classIndices(labels, b, c);
        ctx.saveForBackward(z, labels);
        double[] v = z.toDoubleArray();
        double total = 0;
        for (int r = 0; r < b; r++) {
            int row = r * c;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < c; j++) {
                double x = v[row + j];
                // Keep sum = Σ exp(x − max) while max moves up: rescale the old sum when a new maximum appears.
                if (x > max) {
                    sum = sum * Math.exp(max - x) + 1;
                    max = x;
                } else {
                    sum += Math.exp(x - max);
                }
            }
            total += max + Math.log(sum) - v[row + y[r]];
        }
        return Tensor.scalar(total / b, z.dtype());
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor gradOutput) {
        if (!ctx.needsInputGrad(0)) return new Tensor[] {null, null};
        Tensor z = ctx.saved(0);
        int b = z.shape(0), c = z.shape(1);
        Tensor oneHot = Losses.oneHot(classIndices(ctx.saved(1), b, c), c, z.dtype());
        return new Tensor[] {z.softmax(1).sub(oneHot).mul(gradOutput.div(b)), null};
    }

    /** The labels as ints, each checked to be a class index in [0, c). */
    static int[] classIndices(Tensor labels, int b, int c) {
        if (labels.rank() != 1 || labels.shape(0) != b) {
            throw new IllegalArgumentException("crossEntropy: labels must have shape [" + b + "] for logits with " + b
                    + " rows, got " + Arrays.toString(labels.shape()));
        }
        double[] v = labels.toDoubleArray();
        int[] out = new int[b];
        for (int i = 0; i < b; i++) {
            int k = (int) v[i];
            if (k != v[i] || k < 0 || k >= c) {
                throw new IllegalArgumentException("crossEntropy: label " + v[i] + " at row " + i + " is not a class index in [0, " + c + ")");
            }
            out[i] = k;
        }
        return out;
    }
}
