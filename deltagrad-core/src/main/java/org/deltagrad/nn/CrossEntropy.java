package org.deltagrad.nn;

import java.util.Arrays;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.autograd.Function;

/**
 * Mean cross-entropy of logits z [B, C] against class indices y [B]: (1/B)·Σ_b (logsumexp(z_b) − z_b[y_b]).
 * Fused: the forward is one pass per row in float64 (subtracting the row maximum, so exp never overflows) that
 * also keeps the softmax p. The gradient is (p − onehot(y))·g/B: a first-order backward computes it from the
 * saved p in one pass, without another exp; when the backward itself is being recorded (createGraph, for
 * higher derivatives) it is built from differentiable ops on the saved logits instead. Same formula, and
 * the saved p is the softmax the composed version recomputes, rounded once instead of op by op.
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
        double[] v = z.toDoubleArray();
        double[] p = new double[b * c];
        double total = 0;
        for (int r = 0; r < b; r++) {
            int row = r * c;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) max = Math.max(max, v[row + j]);
            double sum = 0;
            for (int j = 0; j < c; j++) sum += p[row + j] = Math.exp(v[row + j] - max);
            for (int j = 0; j < c; j++) p[row + j] /= sum;
            total += max + Math.log(sum) - v[row + y[r]];
        }
        Tensor softmax = z.dtype() == DType.FLOAT32 ? Tensor.of(toFloats(p), b, c) : Tensor.of(p, b, c);
        ctx.saveForBackward(z, labels, softmax);
        return Tensor.scalar(total / b, z.dtype());
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor gradOutput) {
        if (!ctx.needsInputGrad(0)) return new Tensor[] {null, null};
        Tensor z = ctx.saved(0);
        int b = z.shape(0), c = z.shape(1);
        int[] y = classIndices(ctx.saved(1), b, c);
        if (Autograd.isGradEnabled()) {
            Tensor oneHot = Losses.oneHot(y, c, z.dtype());
            return new Tensor[] {z.softmax(1).sub(oneHot).mul(gradOutput.div(b)), null};
        }
        // (p − onehot)·(g/B) in one pass over the saved softmax, in its dtype.
        Tensor p = ctx.saved(2);
        double scale = gradOutput.item() / b;
        if (p.dtype() == DType.FLOAT32) {
            float[] g = p.toFloatArray();
            float s = (float) scale;
            for (int r = 0; r < b; r++) g[r * c + y[r]] -= 1f;
            for (int i = 0; i < g.length; i++) g[i] *= s;
            return new Tensor[] {Tensor.of(g, b, c), null};
        }
        double[] g = p.toDoubleArray();
        for (int r = 0; r < b; r++) g[r * c + y[r]] -= 1;
        for (int i = 0; i < g.length; i++) g[i] *= scale;
        return new Tensor[] {Tensor.of(g, b, c), null};
    }

    private static float[] toFloats(double[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) x[i];
        return out;
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
