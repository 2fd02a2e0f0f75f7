package org.deltagrad;

import static org.deltagrad.Ops.Op.*;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.deltagrad.autograd.Node;
import org.deltagrad.kernels.Elementwise.ActivationBackward;
import org.deltagrad.kernels.Elementwise.Binary;
import org.deltagrad.kernels.Elementwise.Unary;

/**
 * The rule table: every differentiable primitive, as {@code record(name, backward rule, forward kernel call)}.
 * A rule is written with the same differentiable tensor ops, so gradients of gradients come for free. The
 * engine reduces the gradients of broadcast inputs, so a rule may return a gradient of the output's shape.
 * Everything differentiable in {@link Tensor} and {@code nn} is one of these entries or composed of them;
 * the forward computations are in {@link TensorKernels}.
 */
final class Ops {
    private Ops() {}

    /** Every recorded op, once: a graph node's name is its camel-case form, e.g. {@code tanhBackward}. */
    enum Op {
        NEG, EXP, LOG, SQRT, ABS, SIN, COS, ERF, FLOOR, ROUND, POW, CLAMP, TO, COPY,
        TANH, TANH_BACKWARD, SIGMOID, SIGMOID_BACKWARD, RELU, RELU_BACKWARD,
        ADD, SUB, MUL, DIV, POW_TENSOR, WHERE, MAXIMUM, MINIMUM,
        SUM, AMAX, AMIN, PROD, CUMSUM, EXPAND, RESHAPE, PERMUTE, NARROW, EMBED, SLICE, EMBED_STRIDED, FLIP,
        CONCAT, GATHER, SCATTER_ADD,
        MATMUL, LINEAR, CONV2D, CONV2D_INPUT_GRAD, CONV2D_WEIGHT_GRAD, MAX_POOL2D, MAX_POOL2D_BACKWARD, AVG_POOL2D, AVG_POOL2D_BACKWARD,
        CROSS_ENTROPY, SOFTMAX_MINUS_ONE_HOT, QUADRATIC_COST, BINARY_CROSS_ENTROPY_WITH_LOGITS;

        final String label = camelCase(name());

        private static String camelCase(String upperSnake) {
            StringBuilder sb = new StringBuilder();
            for (String part : upperSnake.toLowerCase(Locale.ROOT).split("_")) {
                sb.append(sb.length() == 0 ? part : Character.toUpperCase(part.charAt(0)) + part.substring(1));
            }
            return sb.toString();
        }
    }

    /** The only way an op of this table enters the graph. */
    private static Tensor record(Op op, Node.Rule rule, Tensor output, Tensor[] saved, Tensor... inputs) {
        return Node.record(op.label, rule, output, saved, inputs);
    }

    private static Tensor[] grads(Tensor... g) {
        return g;
    }

    private static Tensor[] saved(Tensor... t) {
        return t;
    }

    // ---------------------------------------------------------------- element-wise, one input

    static Tensor neg(Tensor x) {
        return record(NEG, (g, n) -> grads(g.neg()), TensorKernels.unary(Unary.NEG, x), null, x);
    }

    static Tensor exp(Tensor x) {
        Tensor y = TensorKernels.unary(Unary.EXP, x);
        return record(EXP, (g, n) -> grads(g.mul(n.saved(0))), y, saved(y), x);
    }

    static Tensor log(Tensor x) {
        return record(LOG, (g, n) -> grads(g.div(n.saved(0))), TensorKernels.unary(Unary.LOG, x), saved(x), x);
    }

    static Tensor sqrt(Tensor x) {
        Tensor y = TensorKernels.unary(Unary.SQRT, x);
        return record(SQRT, (g, n) -> grads(g.div(n.saved(0).mul(2))), y, saved(y), x);
    }

    static Tensor abs(Tensor x) {
        return record(ABS, (g, n) -> grads(g.mul(n.saved(0).sign())), TensorKernels.unary(Unary.ABS, x), saved(x), x);
    }

    static Tensor sin(Tensor x) {
        return record(SIN, (g, n) -> grads(g.mul(n.saved(0).cos())), TensorKernels.unary(Unary.SIN, x), saved(x), x);
    }

    static Tensor cos(Tensor x) {
        return record(COS, (g, n) -> grads(g.mul(n.saved(0).sin()).neg()), TensorKernels.unary(Unary.COS, x), saved(x), x);
    }

    /** erf(x): d/dx = 2/√π·e^(−x²). */
    static Tensor erf(Tensor x) {
        return record(ERF, (g, n) -> grads(g.mul(n.saved(0).square().neg().exp().mul(2 / Math.sqrt(Math.PI)))),
                TensorKernels.unary(Unary.ERF, x), saved(x), x);
    }

    /** Piecewise constant, so the gradient is 0 everywhere (PyTorch's floor and round give zeros too). */
    static Tensor floor(Tensor x) {
        return record(FLOOR, (g, n) -> grads(Tensor.zeros(g.dtype, g.shape)), TensorKernels.unary(Unary.FLOOR, x), null, x);
    }

    /** Rounds half to even, as PyTorch's round; gradient 0 everywhere, as {@link #floor}. */
    static Tensor round(Tensor x) {
        return record(ROUND, (g, n) -> grads(Tensor.zeros(g.dtype, g.shape)), TensorKernels.unary(Unary.ROUND, x), null, x);
    }

    /**
     * x^p for a constant p: d/dx = p·x^(p−1), and 0 everywhere for p = 0 (PyTorch's pow_backward; the formula
     * would give 0·0^(−1) = NaN at x = 0).
     */
    static Tensor pow(Tensor x, double p) {
        return record(POW, (g, n) -> grads(p == 0 ? Tensor.zeros(g.dtype, g.shape)
                        : p == 2 ? g.mul(n.saved(0)).mul(2) : g.mul(n.saved(0).pow(p - 1)).mul(p)),
                TensorKernels.unary(Unary.POW, x, p, 0), saved(x), x);
    }

    /** clamp to [lo, hi]: the gradient passes where lo ≤ x ≤ hi (PyTorch's convention at the edges). */
    static Tensor clamp(Tensor x, double lo, double hi) {
        return record(CLAMP, (g, n) -> {
            Tensor v = n.saved(0);
            return grads(g.mul(v.ge(lo).mul(v.le(hi))));
        }, TensorKernels.unary(Unary.CLAMP, x, lo, hi), saved(x), x);
    }

    /** Casts to another dtype; the engine casts the gradient back to the input's dtype. */
    static Tensor to(Tensor x, DType dtype) {
        if (x.dtype == dtype) return x;
        return record(TO, (g, n) -> grads(g), TensorKernels.copy(x, dtype), null, x);
    }

    /** A fresh contiguous copy (clone). */
    static Tensor copy(Tensor x) {
        return record(COPY, (g, n) -> grads(g), TensorKernels.copy(x, x.dtype), null, x);
    }

    // ---------------------------------------------------------------- activations, with their backward as ops

    static Tensor tanh(Tensor x) {
        Tensor y = TensorKernels.unary(Unary.TANH, x);
        return record(TANH, (g, n) -> grads(tanhBackward(g, n.saved(0))), y, saved(y), x);
    }

    /** g·(1 − y²) in one pass, y = tanh(x); its own rule makes tanh twice differentiable. */
    static Tensor tanhBackward(Tensor g, Tensor y) {
        return record(TANH_BACKWARD, (gg, n) -> {
            Tensor go = n.saved(0), t = n.saved(1);
            return grads(n.needsInputGrad(0) ? tanhBackward(gg, t) : null,
                    n.needsInputGrad(1) ? gg.mul(go).mul(t).mul(-2) : null);
        }, TensorKernels.activationBackward(ActivationBackward.TANH, g, y), saved(g, y), g, y);
    }

    static Tensor sigmoid(Tensor x) {
        Tensor y = TensorKernels.unary(Unary.SIGMOID, x);
        return record(SIGMOID, (g, n) -> grads(sigmoidBackward(g, n.saved(0))), y, saved(y), x);
    }

    /** g·s·(1 − s) in one pass, s = σ(x); its own rule makes sigmoid twice differentiable. */
    static Tensor sigmoidBackward(Tensor g, Tensor s) {
        return record(SIGMOID_BACKWARD, (gg, n) -> {
            Tensor go = n.saved(0), sv = n.saved(1);
            return grads(n.needsInputGrad(0) ? sigmoidBackward(gg, sv) : null,
                    n.needsInputGrad(1) ? gg.mul(go).mul(sv.mul(-2).add(1)) : null);
        }, TensorKernels.activationBackward(ActivationBackward.SIGMOID, g, s), saved(g, s), g, s);
    }

    static Tensor relu(Tensor x) {
        return record(RELU, (g, n) -> grads(reluBackward(g, n.saved(0))), TensorKernels.unary(Unary.RELU, x), saved(x), x);
    }

    /** g where x &gt; 0, else 0, in one pass; linear in g, and x only selects (its gradient is zero). */
    static Tensor reluBackward(Tensor g, Tensor x) {
        Tensor mask = x.detach();
        return record(RELU_BACKWARD, (gg, n) -> grads(reluBackward(gg, mask)),
                TensorKernels.activationBackward(ActivationBackward.RELU, g, x), null, g);
    }

    // ---------------------------------------------------------------- element-wise, two inputs

    static Tensor add(Tensor a, Tensor b) {
        return record(ADD, (g, n) -> grads(g, g), TensorKernels.binary("add", Binary.ADD, a, b), null, a, b);
    }

    static Tensor sub(Tensor a, Tensor b) {
        return record(SUB, (g, n) -> grads(g, n.needsInputGrad(1) ? g.neg() : null),
                TensorKernels.binary("sub", Binary.SUB, a, b), null, a, b);
    }

    static Tensor mul(Tensor a, Tensor b) {
        return record(MUL, (g, n) -> grads(
                n.needsInputGrad(0) ? g.mul(n.saved(1)) : null,
                n.needsInputGrad(1) ? g.mul(n.saved(0)) : null),
                TensorKernels.binary("mul", Binary.MUL, a, b), saved(a, b), a, b);
    }

    static Tensor div(Tensor a, Tensor b) {
        return record(DIV, (g, n) -> {
            Tensor den = n.saved(1);
            return grads(n.needsInputGrad(0) ? g.div(den) : null,
                    n.needsInputGrad(1) ? g.mul(n.saved(0)).div(den.mul(den)).neg() : null);
        }, TensorKernels.binary("div", Binary.DIV, a, b), saved(a, b), a, b);
    }

    /**
     * a^b with a tensor exponent: ∂/∂a = b·a^(b−1), 0 where b = 0; ∂/∂b = a^b·ln a, 0 where a = 0 and b ≥ 0
     * (PyTorch's pow_backward_self and pow_backward_exponent, which mask the 0·∞ = NaN of the formulas there).
     */
    static Tensor pow(Tensor a, Tensor b) {
        Tensor y = TensorKernels.binary("pow", Binary.POW, a, b);
        return record(POW_TENSOR, (g, n) -> {
            Tensor base = n.saved(0), e = n.saved(1), zero = Tensor.scalar(0, g.dtype);
            return grads(n.needsInputGrad(0) ? Tensor.where(e.eq(0), zero, g.mul(e).mul(base.pow(e.sub(1)))) : null,
                    n.needsInputGrad(1) ? Tensor.where(base.eq(0).mul(e.ge(0)), zero, g.mul(n.saved(2)).mul(base.log())) : null);
        }, y, saved(a, b, y), a, b);
    }

    /**
     * The element-wise larger (smaller) of a and b. At a tie each side gets half the gradient, as PyTorch's
     * maximum/minimum do (derivatives.yaml: {@code at::where(self == other, grad / 2, grad)}, masked).
     */
    static Tensor maximum(Tensor a, Tensor b, boolean max) {
        Tensor y = TensorKernels.binary(max ? "maximum" : "minimum", max ? Binary.MAX : Binary.MIN, a, b);
        return record(max ? MAXIMUM : MINIMUM, (g, n) -> {
            Tensor x = n.saved(0), o = n.saved(1), half = x.eq(o).mul(0.5);
            return grads(n.needsInputGrad(0) ? g.mul((max ? x.gt(o) : x.lt(o)).add(half)) : null,
                    n.needsInputGrad(1) ? g.mul((max ? o.gt(x) : o.lt(x)).add(half)) : null);
        }, y, saved(a, b), a, b);
    }

    /** where(cond, a, b): the condition is a constant mask; each branch gets the gradient where it was chosen. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor mask = cond.detach();
        return record(WHERE, (g, n) -> {
            Tensor zero = Tensor.scalar(0, g.dtype);
            return grads(n.needsInputGrad(0) ? Tensor.where(mask, g, zero) : null,
                    n.needsInputGrad(1) ? Tensor.where(mask, zero, g) : null);
        }, TensorKernels.where(cond, a, b), null, a, b);
    }

    // ---------------------------------------------------------------- reductions, views and indexing

    /** Sum over the given (distinct, resolved) axes; the gradient is the output's gradient broadcast back. */
    static Tensor sum(Tensor x, int[] axes, boolean keepDim) {
        int[] inShape = x.shape, kept = TensorKernels.keptShape(inShape, axes);
        return record(SUM, (g, n) -> grads(g.reshape(kept).expand(inShape)), TensorKernels.sum(x, axes, keepDim), null, x);
    }

    /**
     * The largest (smallest) entries along the resolved axis a. The k tied extremes of a slice each get 1/k of its
     * gradient, as PyTorch's amax/amin and whole max()/min() do (its max(dim), which also returns indices, sends all
     * to the index it returns instead).
     */
    static Tensor amax(Tensor x, int a, boolean keepDim, boolean max) {
        if (x.shape[a] == 0) {
            throw new IllegalArgumentException((max ? "max" : "min") + ": axis " + a + " of shape " + Shapes.str(x.shape) + " is empty");
        }
        int[] inShape = x.shape, kept = TensorKernels.keptShape(inShape, new int[] {a});
        Tensor y = TensorKernels.gather(x, a, TensorKernels.argExtreme(x, a, max));
        Tensor out = keepDim ? y : y.reshapeView(TensorKernels.dropAxes(inShape, new int[] {a}));
        return record(max ? AMAX : AMIN, (g, n) -> {
            Tensor ties = n.saved(0).eq(n.saved(1));
            return grads(g.reshape(kept).expand(inShape).mul(ties.div(ties.sum(a, true))));
        }, out, saved(x, y), x);
    }

    /**
     * The product along the resolved axis a. Without zeros the gradient is g·y/x; with zeros in x it is the product
     * of the others, built as a product over a copy of each slice with one entry set to 1 (PyTorch's
     * prod_safe_zeros_backward gives the same: a lone zero gets the others' product, several zeros give 0 to all).
     */
    static Tensor prod(Tensor x, int a, boolean keepDim) {
        int[] inShape = x.shape, kept = TensorKernels.keptShape(inShape, new int[] {a});
        Tensor y = TensorKernels.prod(x, a, keepDim);
        return record(PROD, (g, n) -> {
            Tensor xs = n.saved(0), gk = g.reshape(kept).expand(inShape);
            if (xs.eq(0).sum().item() == 0) return grads(gk.mul(n.saved(1).reshape(kept)).div(xs));
            return grads(gk.mul(productOfOthers(xs, a)));
        }, y, saved(x, y), x);
    }

    /** For each entry of x, the product of the other entries of its slice along axis a, by differentiable ops. */
    private static Tensor productOfOthers(Tensor x, int a) {
        int len = x.shape[a];
        int[] square = new int[x.shape.length + 1], eyeShape = new int[square.length];
        for (int d = 0, k = 0; d < square.length; d++) {
            square[d] = d == a + 1 ? len : x.shape[k];
            eyeShape[d] = d == a || d == a + 1 ? len : 1;
            if (d != a) k++;
        }
        double[] eye = new double[len * len];
        for (int i = 0; i < len; i++) eye[i * len + i] = 1;
        Tensor others = Tensor.where(Tensor.of(eye, eyeShape), Tensor.scalar(1, x.dtype), x.unsqueeze(a).expand(square));
        return prod(others, a + 1, false);
    }

    /** Running sums along the resolved axis a; the gradient is the running sum of g taken from the end. */
    static Tensor cumsum(Tensor x, int a) {
        return record(CUMSUM, (g, n) -> grads(flip(cumsum(flip(g, new int[] {a}), a), new int[] {a})),
                TensorKernels.cumsum(x, a), null, x);
    }

    /** x reversed along the resolved, distinct axes; its own adjoint. */
    static Tensor flip(Tensor x, int[] axes) {
        int[] ax = axes.clone();
        return record(FLIP, (g, n) -> grads(flip(g, ax)), TensorKernels.flip(x, ax), null, x);
    }

    /** The view of entries start, start + step, … before end along the resolved axis a (all in range, step &gt; 0). */
    static Tensor slice(Tensor x, int a, int start, int end, int step) {
        int[] inShape = x.shape;
        return record(SLICE, (g, n) -> grads(embedStrided(g, a, start, step, inShape)),
                TensorKernels.slice(x, a, start, end, step), null, x);
    }

    /** The adjoint of slice: zeros of {@code shape} with x written at start, start + step, … along axis. */
    static Tensor embedStrided(Tensor x, int axis, int start, int step, int[] shape) {
        int end = start + x.shape[axis] * step;
        return record(EMBED_STRIDED, (g, n) -> grads(slice(g, axis, start, end, step)),
                TensorKernels.embedStrided(x, axis, start, step, shape), null, x);
    }

    /** A view that repeats size-1 dimensions (stride 0); the engine sums the gradient back. */
    static Tensor expand(Tensor x, int[] shape) {
        if (Arrays.equals(x.shape, shape)) return x;
        return record(EXPAND, (g, n) -> grads(g), TensorKernels.expand(x, shape), null, x);
    }

    static Tensor reshape(Tensor x, int[] shape) {
        int[] inShape = x.shape;
        return record(RESHAPE, (g, n) -> grads(g.reshape(inShape)), TensorKernels.reshape(x, shape), null, x);
    }

    static Tensor permute(Tensor x, int[] perm) {
        Tensor v = TensorKernels.permute(x, perm);
        int[] inverse = TensorKernels.inversePermutation(perm, x.shape.length);
        return record(PERMUTE, (g, n) -> grads(g.permute(inverse)), v, null, x);
    }

    /** A view of {@code length} entries along {@code axis} starting at {@code start}. */
    static Tensor narrow(Tensor x, int axis, int start, int length) {
        int a = Shapes.axis("narrow", axis, x.shape.length);
        int[] inShape = x.shape;
        return record(NARROW, (g, n) -> grads(embed(g, a, start, inShape)), TensorKernels.narrow(x, a, start, length), null, x);
    }

    /** The adjoint of narrow: zeros of {@code shape} with {@code x} written at [start, start+len) along axis. */
    static Tensor embed(Tensor x, int axis, int start, int[] shape) {
        int len = x.shape[axis];
        return record(EMBED, (g, n) -> grads(g.narrow(axis, start, len)), TensorKernels.embed(x, axis, start, shape), null, x);
    }

    /** The parts joined along axis; each gets back its own range of the gradient. */
    static Tensor concat(List<Tensor> parts, int axis) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat: no tensors given");
        int a = Shapes.axis("concat", axis, parts.get(0).shape.length);
        Tensor out = TensorKernels.concat(parts, a);
        int[] lengths = parts.stream().mapToInt(t -> t.shape[a]).toArray();
        return record(CONCAT, (g, n) -> {
            Tensor[] gs = new Tensor[lengths.length];
            for (int i = 0, at = 0; i < gs.length; at += lengths[i++]) {
                if (n.needsInputGrad(i)) gs[i] = g.narrow(a, at, lengths[i]);
            }
            return gs;
        }, out, null, parts.toArray(new Tensor[0]));
    }

    /** out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (and likewise along other axes), as in PyTorch. */
    static Tensor gather(Tensor x, int axis, Tensor index) {
        int a = Shapes.axis("gather", axis, x.shape.length);
        Tensor idx = index.detach();
        int[] inShape = x.shape;
        return record(GATHER, (g, n) -> grads(scatterAdd(g, a, idx, inShape)), TensorKernels.gather(x, a, index), null, x);
    }

    /** The adjoint of gather: zeros of {@code shape}, then out[index[i]] += src[i] along axis. */
    static Tensor scatterAdd(Tensor src, int axis, Tensor index, int[] shape) {
        Tensor idx = index.detach();
        return record(SCATTER_ADD, (g, n) -> grads(g.gather(axis, idx)),
                TensorKernels.scatterAdd(src, axis, index, shape), null, src);
    }

    // ---------------------------------------------------------------- products

    /** Matrix product over the last two axes, batch axes broadcast. */
    static Tensor matmul(Tensor a, Tensor b) {
        return record(MATMUL, (g, n) -> grads(
                n.needsInputGrad(0) ? g.matmul(n.saved(1).transpose(-1, -2)) : null,
                n.needsInputGrad(1) ? n.saved(0).transpose(-1, -2).matmul(g) : null),
                TensorKernels.matmul(a, b), saved(a, b), a, b);
    }

    /** x·Wᵀ + b for x [n, in], W [out, in], b [out] or null (PyTorch's F.linear); ∂W = gᵀ·x comes in W's layout. */
    static Tensor linear(Tensor x, Tensor w, Tensor b) {
        Tensor[] ins = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        return record(LINEAR, (g, n) -> {
            Tensor[] gs = new Tensor[ins.length];
            if (n.needsInputGrad(0)) gs[0] = g.matmul(n.saved(1));
            if (n.needsInputGrad(1)) gs[1] = g.t().matmul(n.saved(0));
            if (gs.length == 3 && n.needsInputGrad(2)) gs[2] = g.sum(0, false);
            return gs;
        }, TensorKernels.linear(x, w, b), saved(x, w), ins);
    }

    // ---------------------------------------------------------------- convolution and pooling (NCHW)

    /**
     * F.conv2d(x, w, b, stride, padding) for x [N, C, H, W], w [O, C, kH, kW], b [O] or null. The input and weight
     * gradients are primitives of their own whose rules close on conv2d, so every order is differentiable.
     */
    static Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int pad) {
        Tensor[] ins = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        int[] xShape = x.shape, wShape = w.shape;
        return record(CONV2D, (g, n) -> {
            Tensor[] gs = new Tensor[ins.length];
            if (n.needsInputGrad(0)) gs[0] = conv2dInputGrad(g, n.saved(1), xShape, stride, pad);
            if (n.needsInputGrad(1)) gs[1] = conv2dWeightGrad(g, n.saved(0), wShape, stride, pad);
            if (gs.length == 3 && n.needsInputGrad(2)) gs[2] = g.sum(new int[] {0, 2, 3}, false);
            return gs;
        }, TensorKernels.conv2d(x, w, b, stride, pad), saved(x, w), ins);
    }

    /** The transposed convolution that is conv2d's input gradient: bilinear in g and w, its adjoints are conv2d's. */
    static Tensor conv2dInputGrad(Tensor g, Tensor w, int[] xShape, int stride, int pad) {
        int[] wShape = w.shape;
        return record(CONV2D_INPUT_GRAD, (h, n) -> grads(
                n.needsInputGrad(0) ? conv2d(h, n.saved(1), null, stride, pad) : null,
                n.needsInputGrad(1) ? conv2dWeightGrad(n.saved(0), h, wShape, stride, pad) : null),
                TensorKernels.conv2dInputGrad(g, w, xShape, stride, pad), saved(g, w), g, w);
    }

    /** conv2d's weight gradient Σ g·colsᵀ: bilinear in g and x; ⟨h, it⟩ = ⟨conv2d(x, h), g⟩ gives its rule. */
    static Tensor conv2dWeightGrad(Tensor g, Tensor x, int[] wShape, int stride, int pad) {
        int[] xShape = x.shape;
        return record(CONV2D_WEIGHT_GRAD, (h, n) -> grads(
                n.needsInputGrad(0) ? conv2d(n.saved(1), h, null, stride, pad) : null,
                n.needsInputGrad(1) ? conv2dInputGrad(n.saved(0), h, xShape, stride, pad) : null),
                TensorKernels.conv2dWeightGrad(g, x, wShape, stride, pad), saved(g, x), g, x);
    }

    /** max_pool2d with a square window and no padding; the gradient goes to each window's first maximum, as PyTorch's. */
    static Tensor maxPool2d(Tensor x, int k, int stride) {
        TensorKernels.Pooled p = TensorKernels.maxPool2d(x, k, stride);
        int[] inShape = x.shape;
        Tensor arg = p.argmax();
        return record(MAX_POOL2D, (g, n) -> grads(maxPool2dBackward(g, arg, inShape)), p.values(), null, x);
    }

    /**
     * The routing of maxPool2d's gradient to the saved argmax of each window, linear in g; its adjoint picks the
     * entries at the same indices (a gather, whose own rule is the scatter-add back).
     */
    static Tensor maxPool2dBackward(Tensor g, Tensor argmax, int[] xShape) {
        int[] gShape = g.shape, planes = {xShape[0], xShape[1], xShape[2] * xShape[3]};
        return record(MAX_POOL2D_BACKWARD, (h, n) -> grads(h.reshape(planes).gather(2, argmax).reshape(gShape)),
                TensorKernels.maxPool2dBackward(g, argmax, xShape), null, g);
    }

    /** avg_pool2d with a square window and no padding; its gradient spreads g/k² back over each window. */
    static Tensor avgPool2d(Tensor x, int k, int stride) {
        int[] inShape = x.shape;
        return record(AVG_POOL2D, (g, n) -> grads(avgPool2dBackward(g, k, stride, inShape)),
                TensorKernels.avgPool2d(x, k, stride), null, x);
    }

    /** The adjoint of avgPool2d, linear in g; its own adjoint is avgPool2d again. */
    static Tensor avgPool2dBackward(Tensor g, int k, int stride, int[] xShape) {
        return record(AVG_POOL2D_BACKWARD, (h, n) -> grads(avgPool2d(h, k, stride)),
                TensorKernels.avgPool2dBackward(g, k, stride, xShape), null, g);
    }

    // ---------------------------------------------------------------- losses

    /**
     * Mean cross-entropy of logits z [B, C] against class indices (PyTorch's F.cross_entropy), one pass per row;
     * the rule (p − onehot(y))·g/B reuses the softmax p that the forward pass leaves.
     */
    static Tensor crossEntropy(Tensor z, int[] labels) {
        int[] y = labels.clone();
        TensorKernels.SoftmaxAndLoss f = TensorKernels.crossEntropy(z, y);
        int b = z.shape[0];
        return record(CROSS_ENTROPY, (g, n) -> grads(softmaxMinusOneHot(n.saved(0), f.softmax(), y).mul(g.div(b))),
                f.loss(), saved(z), z);
    }

    /**
     * softmax(z) − onehot(y) from p = softmax(z), already computed. Its rule, for higher derivatives: the Jacobian
     * of softmax is diag(p) − p·pᵀ, so h ↦ p ⊙ (h − Σⱼ pⱼhⱼ), with p rebuilt from differentiable ops on z.
     */
    static Tensor softmaxMinusOneHot(Tensor z, Tensor p, int[] y) {
        return record(SOFTMAX_MINUS_ONE_HOT, (h, n) -> {
            Tensor s = n.saved(0).softmax(1);
            return grads(s.mul(h.sub(h.mul(s).sum(1, true))));
        }, TensorKernels.minusOneHot(p, y), saved(z), z);
    }

    /** Nielsen's quadratic cost 1/(2n)·Σ‖y − a‖², n the batch (axis 0): ∂/∂a = (a − y)/n. */
    static Tensor quadraticCost(Tensor a, Tensor y) {
        int batch = a.shape.length == 0 ? 1 : a.shape[0];
        return record(QUADRATIC_COST, (g, n) -> {
            Tensor diff = n.saved(0).sub(n.saved(1)).mul(g.div(batch));
            return grads(n.needsInputGrad(0) ? diff : null, n.needsInputGrad(1) ? diff.neg() : null);
        }, TensorKernels.quadraticCost(a, y), saved(a, y), a, y);
    }

    /**
     * mean(max(z, 0) − z·y + log(1 + exp(−|z|))) for logits z and targets y. An op of its own because that
     * composite's max and |·| have kinks at z = 0 whose one-sided gradients would give −y there instead of
     * σ(0) − y; the rule is the exact (σ(z) − y)·g/N for z and −z·g/N for y.
     */
    static Tensor binaryCrossEntropyWithLogits(Tensor z, Tensor y) {
        int count = z.numel();
        return record(BINARY_CROSS_ENTROPY_WITH_LOGITS, (g, n) -> {
            Tensor zs = n.saved(0), scale = g.div(count);
            return grads(n.needsInputGrad(0) ? zs.sigmoid().sub(n.saved(1)).mul(scale) : null,
                    n.needsInputGrad(1) ? zs.neg().mul(scale) : null);
        }, TensorKernels.binaryCrossEntropyWithLogits(z, y), saved(z, y), z, y);
    }
}
