package org.deltagrad;

import static org.deltagrad.autograd.Node.record;

import java.util.Arrays;
import java.util.List;

import org.deltagrad.autograd.Autograd;
import org.deltagrad.kernels.Elementwise;
import org.deltagrad.kernels.Elementwise.Binary;
import org.deltagrad.kernels.Elementwise.Unary;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.Parallel;

/**
 * The differentiable primitives: each one's forward kernel call and, right beside it, its backward rule,
 * written with the same differentiable tensor ops (so gradients of gradients come for free). Everything
 * else in {@link Tensor} is composed from these. Gradients of broadcast inputs are reduced by the engine,
 * so a rule may return a gradient of the output's shape.
 */
final class Ops {
    private Ops() {}

    private static Tensor[] grads(Tensor... g) {
        return g;
    }

    private static Tensor[] saved(Tensor... t) {
        return t;
    }

    // ---------------------------------------------------------------- element-wise, one input

    static Tensor neg(Tensor x) {
        return record("neg", (g, n) -> grads(g.neg()), unary(Unary.NEG, x, 0, 0), null, x);
    }

    static Tensor exp(Tensor x) {
        Tensor y = unary(Unary.EXP, x, 0, 0);
        return record("exp", (g, n) -> grads(g.mul(n.saved(0))), y, saved(y), x);
    }

    static Tensor log(Tensor x) {
        return record("log", (g, n) -> grads(g.div(n.saved(0))), unary(Unary.LOG, x, 0, 0), saved(x), x);
    }

    static Tensor sqrt(Tensor x) {
        Tensor y = unary(Unary.SQRT, x, 0, 0);
        return record("sqrt", (g, n) -> grads(g.div(n.saved(0).mul(2))), y, saved(y), x);
    }

    static Tensor abs(Tensor x) {
        return record("abs", (g, n) -> grads(g.mul(n.saved(0).sign())), unary(Unary.ABS, x, 0, 0), saved(x), x);
    }

    static Tensor tanh(Tensor x) {
        Tensor y = unary(Unary.TANH, x, 0, 0);
        return record("tanh", (g, n) -> grads(tanhBackward(g, n.saved(0))), y, saved(y), x);
    }

    /** g·(1 − y²) in one pass, y = tanh(x); its own rule makes tanh twice differentiable. */
    static Tensor tanhBackward(Tensor g, Tensor y) {
        return record("tanhBackward", (gg, n) -> {
            Tensor go = n.saved(0), t = n.saved(1);
            return grads(n.needsInputGrad(0) ? tanhBackward(gg, t) : null,
                    n.needsInputGrad(1) ? gg.mul(go).mul(t).mul(-2) : null);
        }, fusedGrad(Fusion.TANH, g, y), saved(g, y), g, y);
    }

    static Tensor sigmoid(Tensor x) {
        Tensor y = unary(Unary.SIGMOID, x, 0, 0);
        return record("sigmoid", (g, n) -> grads(sigmoidBackward(g, n.saved(0))), y, saved(y), x);
    }

    /** g·s·(1 − s) in one pass, s = σ(x); its own rule makes sigmoid twice differentiable. */
    static Tensor sigmoidBackward(Tensor g, Tensor s) {
        return record("sigmoidBackward", (gg, n) -> {
            Tensor go = n.saved(0), sv = n.saved(1);
            return grads(n.needsInputGrad(0) ? sigmoidBackward(gg, sv) : null,
                    n.needsInputGrad(1) ? gg.mul(go).mul(sv.mul(-2).add(1)) : null);
        }, fusedGrad(Fusion.SIGMOID, g, s), saved(g, s), g, s);
    }

    static Tensor relu(Tensor x) {
        return record("relu", (g, n) -> grads(reluBackward(g, n.saved(0))), unary(Unary.RELU, x, 0, 0), saved(x), x);
    }

    /** g where x &gt; 0, else 0, in one pass; linear in g, and x only selects (its gradient is zero). */
    static Tensor reluBackward(Tensor g, Tensor x) {
        Tensor mask = x.detach();
        return record("reluBackward", (gg, n) -> grads(reluBackward(gg, mask)), fusedGrad(Fusion.RELU, g, x), null, g);
    }

    static Tensor sin(Tensor x) {
        return record("sin", (g, n) -> grads(g.mul(n.saved(0).cos())), unary(Unary.SIN, x, 0, 0), saved(x), x);
    }

    static Tensor cos(Tensor x) {
        return record("cos", (g, n) -> grads(g.mul(n.saved(0).sin()).neg()), unary(Unary.COS, x, 0, 0), saved(x), x);
    }

    /** x^p for a constant p: d/dx = p·x^(p−1). */
    static Tensor pow(Tensor x, double p) {
        return record("pow", (g, n) -> grads(p == 2 ? g.mul(n.saved(0)).mul(2) : g.mul(n.saved(0).pow(p - 1)).mul(p)),
                unary(Unary.POW, x, p, 0), saved(x), x);
    }

    /** clamp to [lo, hi]: the gradient passes where lo ≤ x ≤ hi (PyTorch's convention at the edges). */
    static Tensor clamp(Tensor x, double lo, double hi) {
        return record("clamp", (g, n) -> {
            Tensor v = n.saved(0);
            return grads(g.mul(v.ge(lo).mul(v.le(hi))));
        }, unary(Unary.CLAMP, x, lo, hi), saved(x), x);
    }

    /** Casts to another dtype; the engine casts the gradient back to the input's dtype. */
    static Tensor to(Tensor x, DType dtype) {
        if (x.dtype == dtype) return x;
        return record("to", (g, n) -> grads(g), copy(x, dtype), null, x);
    }

    /** A fresh contiguous copy (clone). */
    static Tensor copy(Tensor x) {
        return record("copy", (g, n) -> grads(g), copy(x, x.dtype), null, x);
    }

    // ---------------------------------------------------------------- element-wise, two inputs

    static Tensor add(Tensor a, Tensor b) {
        return record("add", (g, n) -> grads(g, g), binary("add", Binary.ADD, a, b), null, a, b);
    }

    static Tensor sub(Tensor a, Tensor b) {
        return record("sub", (g, n) -> grads(g, n.needsInputGrad(1) ? g.neg() : null), binary("sub", Binary.SUB, a, b), null, a, b);
    }

    static Tensor mul(Tensor a, Tensor b) {
        return record("mul", (g, n) -> grads(
                n.needsInputGrad(0) ? g.mul(n.saved(1)) : null,
                n.needsInputGrad(1) ? g.mul(n.saved(0)) : null), binary("mul", Binary.MUL, a, b), saved(a, b), a, b);
    }

    static Tensor div(Tensor a, Tensor b) {
        return record("div", (g, n) -> {
            Tensor den = n.saved(1);
            return grads(n.needsInputGrad(0) ? g.div(den) : null,
                    n.needsInputGrad(1) ? g.mul(n.saved(0)).div(den.mul(den)).neg() : null);
        }, binary("div", Binary.DIV, a, b), saved(a, b), a, b);
    }

    /** a^b with a tensor exponent: ∂/∂a = b·a^(b−1), ∂/∂b = a^b·ln a. */
    static Tensor pow(Tensor a, Tensor b) {
        Tensor y = binary("pow", Binary.POW, a, b);
        return record("pow", (g, n) -> {
            Tensor base = n.saved(0), e = n.saved(1);
            return grads(n.needsInputGrad(0) ? g.mul(e).mul(base.pow(e.sub(1))) : null,
                    n.needsInputGrad(1) ? g.mul(n.saved(2)).mul(base.log()) : null);
        }, y, saved(a, b, y), a, b);
    }

    /** where(cond, a, b): the condition is a constant mask; each branch gets the gradient where it was chosen. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        DType dt = resultType(a, b);
        int[] shape = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape, a.shape), b.shape);
        Tensor out = Tensor.uninitialized(dt, shape);
        Tensor c = cond, x = a.dtype == dt ? a : copy(a, dt), y = b.dtype == dt ? b : copy(b, dt);
        Shapes.RowCursor rows = new Shapes.RowCursor(shape, new int[][] {
                Shapes.broadcastStrides(c.shape, c.strides, shape), Shapes.broadcastStrides(x.shape, x.strides, shape),
                Shapes.broadcastStrides(y.shape, y.strides, shape), out.strides}, new int[] {c.offset, x.offset, y.offset, 0});
        int sc = rows.innerStride(0), sx = rows.innerStride(1), sy = rows.innerStride(2);
        for (int r = 0; r < rows.rows; r++, rows.next()) {
            int oc = rows.offset(0), ox = rows.offset(1), oy = rows.offset(2), oo = rows.offset(3);
            for (int j = 0; j < rows.inner; j++) {
                boolean pick = c.storage.get(oc + j * sc) != 0;
                out.storage.set(oo + j, pick ? x.storage.get(ox + j * sx) : y.storage.get(oy + j * sy));
            }
        }
        Tensor mask = cond.detach();
        return record("where", (g, n) -> {
            Tensor zero = Tensor.scalar(0, g.dtype);
            return grads(n.needsInputGrad(0) ? Tensor.where(mask, g, zero) : null,
                    n.needsInputGrad(1) ? Tensor.where(mask, zero, g) : null);
        }, out, null, a, b);
    }

    // ---------------------------------------------------------------- reductions and shapes

    /** Sum over the given (distinct, resolved) axes; the gradient is the output's gradient broadcast back. */
    static Tensor sum(Tensor x, int[] axes, boolean keepDim) {
        int[] keptShape = x.shape.clone();
        for (int a : axes) keptShape[a] = 1;
        Tensor out = sumKernel(x, keptShape);
        if (!keepDim) out = out.reshapeView(dropAxes(x.shape, axes));
        int[] inShape = x.shape;
        return record("sum", (g, n) -> grads(g.reshape(keptShape).expand(inShape)), out, null, x);
    }

    /** A view that repeats size-1 dimensions (stride 0); the engine sums the gradient back. */
    static Tensor expand(Tensor x, int[] shape) {
        int[] target = Shapes.broadcast("expand", x.shape, shape);
        if (!Arrays.equals(target, shape)) {
            throw new IllegalArgumentException("expand: cannot expand shape " + Shapes.str(x.shape) + " to " + Shapes.str(shape));
        }
        if (Arrays.equals(x.shape, shape)) return x;
        Tensor v = new Tensor(x.storage, shape.clone(), Shapes.broadcastStrides(x.shape, x.strides, shape), x.offset);
        return record("expand", (g, n) -> grads(g), v, null, x);
    }

    static Tensor reshape(Tensor x, int[] shape) {
        Tensor v = x.isContiguous() ? x.reshapeView(shape) : copy(x.detach(), x.dtype).reshapeView(shape);
        int[] inShape = x.shape;
        return record("reshape", (g, n) -> grads(g.reshape(inShape)), v, null, x);
    }

    static Tensor permute(Tensor x, int[] perm) {
        int rank = x.shape.length;
        if (perm.length != rank) {
            throw new IllegalArgumentException("permute: " + perm.length + " axes given for a tensor of rank " + rank);
        }
        int[] shape = new int[rank], strides = new int[rank], inverse = new int[rank];
        boolean[] used = new boolean[rank];
        for (int i = 0; i < rank; i++) {
            int a = Shapes.axis("permute", perm[i], rank);
            if (used[a]) throw new IllegalArgumentException("permute: axis " + a + " repeated in " + Arrays.toString(perm));
            used[a] = true;
            shape[i] = x.shape[a];
            strides[i] = x.strides[a];
            inverse[a] = i;
        }
        Tensor v = new Tensor(x.storage, shape, strides, x.offset);
        return record("permute", (g, n) -> grads(g.permute(inverse)), v, null, x);
    }

    /** A view of {@code length} entries along {@code axis} starting at {@code start}. */
    static Tensor narrow(Tensor x, int axis, int start, int length) {
        int a = Shapes.axis("narrow", axis, x.shape.length);
        if (start < 0 || length < 0 || start + length > x.shape[a]) {
            throw new IllegalArgumentException("narrow: range [" + start + ", " + (start + length) + ") is outside axis "
                    + a + " of size " + x.shape[a] + " (shape " + Shapes.str(x.shape) + ")");
        }
        int[] shape = x.shape.clone();
        shape[a] = length;
        Tensor v = new Tensor(x.storage, shape, x.strides.clone(), x.offset + start * x.strides[a]);
        int[] inShape = x.shape;
        return record("narrow", (g, n) -> grads(embed(g, a, start, inShape)), v, null, x);
    }

    /** The adjoint of narrow: zeros of {@code shape} with {@code x} written at [start, start+len) along axis. */
    static Tensor embed(Tensor x, int axis, int start, int[] shape) {
        Tensor out = Tensor.zeros(x.dtype, shape);
        copyInto(x, out.narrowView(axis, start, x.shape[axis]));
        int len = x.shape[axis];
        return record("embed", (g, n) -> grads(g.narrow(axis, start, len)), out, null, x);
    }

    static Tensor concat(List<Tensor> parts, int axis) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat: no tensors given");
        Tensor first = parts.get(0);
        int rank = first.shape.length;
        int a = Shapes.axis("concat", axis, rank);
        int[] shape = first.shape.clone();
        shape[a] = 0;
        DType dt = first.dtype;
        for (Tensor t : parts) {
            boolean ok = t.shape.length == rank;
            for (int d = 0; ok && d < rank; d++) ok = d == a || t.shape[d] == first.shape[d];
            if (!ok) {
                throw new IllegalArgumentException("concat: shapes " + Shapes.str(first.shape) + " and " + Shapes.str(t.shape)
                        + " differ outside axis " + a);
            }
            shape[a] += t.shape[a];
            dt = DType.promote(dt, t.dtype);
        }
        Tensor out = Tensor.uninitialized(dt, shape);
        int[] starts = new int[parts.size()], lengths = new int[parts.size()];
        int at = 0;
        for (int i = 0; i < parts.size(); i++) {
            Tensor t = parts.get(i);
            starts[i] = at;
            lengths[i] = t.shape[a];
            copyInto(t, out.narrowView(a, at, lengths[i]));
            at += lengths[i];
        }
        return record("concat", (g, n) -> {
            Tensor[] gs = new Tensor[starts.length];
            for (int i = 0; i < gs.length; i++) if (n.needsInputGrad(i)) gs[i] = g.narrow(a, starts[i], lengths[i]);
            return gs;
        }, out, null, parts.toArray(new Tensor[0]));
    }

    /** out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (and likewise along other axes), as in PyTorch. */
    static Tensor gather(Tensor x, int axis, Tensor index) {
        int a = Shapes.axis("gather", axis, x.shape.length);
        if (index.shape.length != x.shape.length) {
            throw new IllegalArgumentException("gather: index has shape " + Shapes.str(index.shape) + " but input has shape "
                    + Shapes.str(x.shape) + "; they must have the same rank");
        }
        int[] idx = indices("gather", index, x.shape[a]);
        for (int d = 0; d < x.shape.length; d++) {
            if (d != a && index.shape[d] > x.shape[d]) {
                throw new IllegalArgumentException("gather: index shape " + Shapes.str(index.shape) + " exceeds input shape "
                        + Shapes.str(x.shape) + " at dimension " + d);
            }
        }
        Tensor out = Tensor.uninitialized(x.dtype, index.shape);
        forEachIndexed(index.shape, (i, coord) -> {
            int off = x.offset;
            for (int d = 0; d < coord.length; d++) off += (d == a ? idx[i] : coord[d]) * x.strides[d];
            out.storage.set(i, x.storage.get(off));
        });
        Tensor idxConst = index.detach();
        int[] inShape = x.shape;
        return record("gather", (g, n) -> grads(scatterAdd(g, a, idxConst, inShape)), out, null, x);
    }

    /** The adjoint of gather: zeros of {@code shape}, then out[index[i]] += src[i] along axis. */
    static Tensor scatterAdd(Tensor src, int axis, Tensor index, int[] shape) {
        int[] idx = indices("scatterAdd", index, shape[axis]);
        Tensor out = Tensor.zeros(src.dtype, shape);
        Tensor s = src.contiguous();
        forEachIndexed(index.shape, (i, coord) -> {
            int off = 0;
            for (int d = 0; d < coord.length; d++) off += (d == axis ? idx[i] : coord[d]) * out.strides[d];
            out.storage.set(off, out.storage.get(off) + s.storage.get(s.offset + i));
        });
        Tensor idxConst = index.detach();
        return record("scatterAdd", (g, n) -> grads(g.gather(axis, idxConst)), out, null, src);
    }

    /**
     * x·Wᵀ + b for x [n, in], W [out, in], b [out] (PyTorch's F.linear): one GEMM that reads W transposed and
     * accumulates onto the broadcast bias. The rule gives ∂W = gᵀ·x directly in W's layout.
     */
    static Tensor linear(Tensor x, Tensor w, Tensor b) {
        x.live();
        w.live();
        int n = x.shape[0], in = x.shape[1], out = w.shape[0];
        if (w.shape.length != 2 || w.shape[1] != in || (b != null && (b.shape.length != 1 || b.shape[0] != out))) {
            throw new IllegalArgumentException("linear: input " + Shapes.str(x.shape) + ", weight " + Shapes.str(w.shape)
                    + (b == null ? "" : ", bias " + Shapes.str(b.shape)) + " do not fit (weight must be [out, "
                    + in + "], bias [out])");
        }
        DType dt = DType.promote(x.dtype, w.dtype);
        Tensor y = Tensor.uninitialized(dt, new int[] {n, out}); // beta = 0 writes all of it
        Tensor a = gemmReady(x.dtype == dt ? x : copy(x, dt));
        Tensor wt = w.dtype == dt ? w : copy(w, dt);
        boolean ta = isTransposed(a);
        int lda = ta ? a.strides[1] : a.strides[0];
        Tensor wc = wt.contiguousData();
        // The product first, then the bias added row by row: a GEMM with beta = 1 would make a BLAS backend copy
        // C in as well as out (row by row, when the product is split by columns).
        Tensor bc = b == null ? null : (b.dtype == dt ? b : copy(b, dt)).contiguousData();
        if (dt == DType.FLOAT32) {
            Gemm.sgemm(ta, true, n, out, in, 1f, a.storage.f, a.offset, lda, wc.storage.f, wc.offset, in, 0f, y.storage.f, 0, out);
        } else {
            Gemm.dgemm(ta, true, n, out, in, 1d, a.storage.d, a.offset, lda, wc.storage.d, wc.offset, in, 0d, y.storage.d, 0, out);
        }
        if (bc != null) addToRows(y, n, out, bc);
        Tensor[] ins = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        return record("linear", (g, nd) -> {
            Tensor[] gs = new Tensor[ins.length];
            if (nd.needsInputGrad(0)) gs[0] = g.matmul(nd.saved(1));
            if (nd.needsInputGrad(1)) gs[1] = g.t().matmul(nd.saved(0));
            if (gs.length == 3 && nd.needsInputGrad(2)) gs[2] = g.sum(0, false);
            return gs;
        }, y, saved(x, w), ins);
    }

    /**
     * Mean cross-entropy of logits z [B, C] against class indices y: (1/B)·Σ_b (logsumexp(z_b) − z_b[y_b]), fused
     * (PyTorch's F.cross_entropy). One pass per row in float64, the row maximum subtracted so that exp never
     * overflows; the pass also leaves the softmax p, which the rule's first op reads instead of exponentiating again.
     * The rule is (p − onehot(y))·g/B.
     */
    static Tensor crossEntropy(Tensor z, int[] labels) {
        z.live();
        if (z.shape.length != 2) {
            throw new IllegalArgumentException("crossEntropy: logits must have shape [batch, classes], got " + Shapes.str(z.shape));
        }
        int b = z.shape[0], c = z.shape[1];
        if (labels.length != b) {
            throw new IllegalArgumentException("crossEntropy: " + labels.length + " labels for logits " + Shapes.str(z.shape)
                    + "; expected one label per row");
        }
        for (int r = 0; r < b; r++) {
            if (labels[r] < 0 || labels[r] >= c) {
                throw new IllegalArgumentException("crossEntropy: label " + labels[r] + " at row " + r
                        + " is not a class index in [0, " + c + ")");
            }
        }
        int[] y = labels.clone();
        Tensor zc = z.contiguousData();
        Tensor p = Tensor.uninitialized(z.dtype, z.shape);
        // Rows in ranges on the pool (the forward at batch 64, 10 classes: 7.2-7.6 µs on one thread, 4.6 µs on two),
        // each row's term kept, then summed in row order: the same bits on any number of threads.
        double[] rowLoss = Storage.allocateUninitialized(DType.FLOAT64, b).d; // arena memory in a step
        Parallel.forRange(b, Math.max(1, CROSS_ENTROPY_GRAIN / c),
                (from, to) -> crossEntropyRows(zc.storage, zc.offset, p.storage, from, to, c, y, rowLoss));
        double total = 0;
        for (int r = 0; r < b; r++) total += rowLoss[r];
        Tensor loss = Tensor.full(z.dtype, total / b);
        return record("crossEntropy", (g, n) -> grads(softmaxMinusOneHot(n.saved(0), p, y).mul(g.div(b))), loss, saved(z), z);
    }

    /** Logits per pool range of the cross-entropy rows: 256 of them take about 3 µs, worth a pool job. */
    private static final int CROSS_ENTROPY_GRAIN = 256;

    /**
     * logsumexp(z_r) − z_r[y_r] for rows [from, to) of c logits at z[off..] into loss[r], in float64 whatever the
     * dtype, writing the softmax rows into p (rounded once to p's dtype). Its own small method: inside crossEntropy,
     * the JIT compiled the whole op once per loop as an on-stack replacement.
     */
    private static void crossEntropyRows(Storage z, int off, Storage p, int from, int to, int c, int[] y, double[] loss) {
        double[] e = new double[c];
        for (int r = from; r < to; r++) {
            int in = off + r * c;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < c; j++) max = Math.max(max, z.get(in + j));
            for (int j = 0; j < c; j++) sum += e[j] = Math.exp(z.get(in + j) - max);
            for (int j = 0; j < c; j++) p.set(r * c + j, e[j] / sum);
            loss[r] = max + Math.log(sum) - z.get(in + y[r]);
        }
    }

    /**
     * softmax(z) − onehot(y), row by row, from the softmax p of z computed by the forward pass (one pass, no exp).
     * The rule, for higher derivatives: the Jacobian of softmax is diag(p) − p·pᵀ, so h ↦ p ⊙ (h − Σⱼ pⱼhⱼ), with p
     * rebuilt from differentiable ops on z.
     */
    private static Tensor softmaxMinusOneHot(Tensor z, Tensor p, int[] y) {
        Tensor out = copy(p, p.dtype);
        int c = p.shape[1];
        for (int r = 0; r < y.length; r++) out.storage.set(r * c + y[r], out.storage.get(r * c + y[r]) - 1);
        return record("softmaxMinusOneHot", (h, n) -> {
            Tensor s = n.saved(0).softmax(1);
            return grads(s.mul(h.sub(h.mul(s).sum(1, true))));
        }, out, saved(z), z);
    }

    /** y[r][j] += b[j] for each of the rows of y (rows × cols, row-major). */
    /** y[r, :] += b for each row of the contiguous rows×cols y; large ones split by rows over the pool. */
    private static void addToRows(Tensor y, int rows, int cols, Tensor b) {
        int grainRows = Math.max(1, ELEMENTWISE_GRAIN / Math.max(1, cols));
        Parallel.forRange(rows, grainRows, (from, to) -> addToRows(y, cols, b, from, to));
    }

    private static void addToRows(Tensor y, int cols, Tensor b, int fromRow, int toRow) {
        int bo = b.offset;
        if (y.dtype == DType.FLOAT32) {
            float[] yv = y.storage.f, bv = b.storage.f;
            for (int r = fromRow; r < toRow; r++) {
                int o = r * cols;
                for (int j = 0; j < cols; j++) yv[o + j] += bv[bo + j];
            }
        } else {
            double[] yv = y.storage.d, bv = b.storage.d;
            for (int r = fromRow; r < toRow; r++) {
                int o = r * cols;
                for (int j = 0; j < cols; j++) yv[o + j] += bv[bo + j];
            }
        }
    }

    /** Matrix product over the last two axes, batch axes broadcast. Transposed views go to GEMM as flags. */
    static Tensor matmul(Tensor a, Tensor b) {
        return record("matmul", (g, n) -> grads(
                n.needsInputGrad(0) ? g.matmul(n.saved(1).transpose(-1, -2)) : null,
                n.needsInputGrad(1) ? n.saved(0).transpose(-1, -2).matmul(g) : null), matmulKernel(a, b), saved(a, b), a, b);
    }

    // ================================================================ kernels glue (no graph)

    enum Fusion { RELU, SIGMOID, TANH }

    /** The activations' backward products in one pass over g and the saved tensor (same shape). */
    static Tensor fusedGrad(Fusion f, Tensor g, Tensor saved) {
        if (!Arrays.equals(g.shape, saved.shape) || g.dtype != saved.dtype) {
            // The engine hands every rule a gradient of its output's shape and dtype, so this is a bug, not input.
            throw new IllegalStateException(f + " backward: gradient " + Shapes.str(g.shape) + " " + g.dtype
                    + " does not match the saved tensor " + Shapes.str(saved.shape) + " " + saved.dtype);
        }
        // At offset 0, like the output: the loops then index all three arrays alike, which C2 needs to vectorise
        // (see Elementwise's VECTORISED; views at an offset are rare here, and copied).
        Tensor gc = atZero(g.contiguousData()), sc = atZero(saved.contiguousData());
        Tensor out = Tensor.uninitialized(g.dtype, g.shape);
        int n = out.numel();
        Parallel.forRange(n, ELEMENTWISE_GRAIN, (from, to) -> fusedGradRange(f, gc, sc, out, from, to));
        return out;
    }

    private static Tensor atZero(Tensor t) {
        return t.offset == 0 ? t : copy(t, t.dtype);
    }

    /** Elements [from, to) of {@link #fusedGrad}'s output; all three tensors contiguous at offset 0. */
    private static void fusedGradRange(Fusion f, Tensor gc, Tensor sc, Tensor out, int from, int to) {
        if (out.dtype == DType.FLOAT32) {
            float[] gv = gc.storage.f, sv = sc.storage.f, o = out.storage.f;
            switch (f) {
                case RELU -> {
                    // o = s > 0 ? g : 0 without a branch (it mispredicts on real activations and does not vectorise):
                    // m is all ones unless s's bits lie in (0, +inf], i.e. s > 0 and not NaN; then o keeps g's bits.
                    for (int i = from; i < to; i++) {
                        int b = Float.floatToRawIntBits(sv[i]);
                        int m = ((0x7F800000 - b) | (b - 1)) >> 31;
                        o[i] = Float.intBitsToFloat(Float.floatToRawIntBits(gv[i]) & ~m);
                    }
                }
                case SIGMOID -> { for (int i = from; i < to; i++) { float s = sv[i]; o[i] = gv[i] * (s * (1f - s)); } }
                case TANH -> { for (int i = from; i < to; i++) { float t = sv[i]; o[i] = gv[i] * (1f - t * t); } }
            }
        } else {
            double[] gv = gc.storage.d, sv = sc.storage.d, o = out.storage.d;
            switch (f) {
                case RELU -> {
                    for (int i = from; i < to; i++) {
                        long b = Double.doubleToRawLongBits(sv[i]);
                        long m = ((0x7FF0000000000000L - b) | (b - 1)) >> 63;
                        o[i] = Double.longBitsToDouble(Double.doubleToRawLongBits(gv[i]) & ~m);
                    }
                }
                case SIGMOID -> { for (int i = from; i < to; i++) { double s = sv[i]; o[i] = gv[i] * (s * (1d - s)); } }
                case TANH -> { for (int i = from; i < to; i++) { double t = sv[i]; o[i] = gv[i] * (1d - t * t); } }
            }
        }
    }

    /**
     * Element-wise kernels over at least twice this many elements are split over the worker pool (as PyTorch's
     * parallel_for does from 32K), the ops here and the in-place updates of {@link Tensor#addInPlace} and
     * {@link FusedOptimizers}: each element is computed by the same code whoever runs it, so the bits do not
     * depend on the split. Smaller ones stay on the calling thread ({@link Parallel#forRange} runs a single range
     * there), where a pool job would cost more than it saves.
     */
    static final int ELEMENTWISE_GRAIN = 16384;

    static Tensor unary(Unary op, Tensor x, double p, double q) {
        x.live();
        Tensor c = x.contiguousData();
        Tensor out = Tensor.uninitialized(x.dtype, x.shape);
        int n = out.numel();
        Parallel.forRange(n, ELEMENTWISE_GRAIN, (from, to) -> unaryRange(op, p, q, c, out, from, to));
        return out;
    }

    private static void unaryRange(Unary op, double p, double q, Tensor c, Tensor out, int from, int to) {
        if (out.dtype == DType.FLOAT32) Elementwise.unary(op, p, q, c.storage.f, c.offset + from, out.storage.f, from, to - from);
        else Elementwise.unary(op, p, q, c.storage.d, c.offset + from, out.storage.d, from, to - from);
    }

    /** Elements [from, to) of a contiguous binary op; b advances by sb (0 for a scalar b, else 1). */
    private static void binaryRange(Binary op, Tensor a, Tensor b, int sb, Tensor out, int from, int to) {
        if (out.dtype == DType.FLOAT32) {
            Elementwise.binary(op, a.storage.f, a.offset + from, 1, b.storage.f, b.offset + from * sb, sb, out.storage.f, from, to - from);
        } else {
            Elementwise.binary(op, a.storage.d, a.offset + from, 1, b.storage.d, b.offset + from * sb, sb, out.storage.d, from, to - from);
        }
    }

    /** PyTorch's rule: a 0-dim operand does not widen a dimensioned one; otherwise the wider type wins. */
    static DType resultType(Tensor a, Tensor b) {
        if (a.shape.length == 0 && b.shape.length > 0) return b.dtype;
        if (b.shape.length == 0 && a.shape.length > 0) return a.dtype;
        return DType.promote(a.dtype, b.dtype);
    }

    static Tensor binary(String name, Binary op, Tensor a, Tensor b) {
        a.live();
        b.live();
        DType dt = resultType(a, b);
        if (a.dtype != dt) a = copy(a, dt);
        if (b.dtype != dt) b = copy(b, dt);
        int[] shape = Arrays.equals(a.shape, b.shape) ? a.shape : Shapes.broadcast(name, a.shape, b.shape);
        Tensor out = Tensor.uninitialized(dt, shape);
        int n = out.numel();
        if (n == 0) return out;
        if (a.isContiguous() && b.isContiguous() && (Arrays.equals(a.shape, b.shape) || (b.numel() == 1 && Arrays.equals(a.shape, shape)))) {
            int sb = b.numel() == 1 && n > 1 ? 0 : 1;
            Tensor ac = a, bc = b;
            Parallel.forRange(n, ELEMENTWISE_GRAIN, (from, to) -> binaryRange(op, ac, bc, sb, out, from, to));
            return out;
        }
        Shapes.RowCursor rows = new Shapes.RowCursor(shape, new int[][] {
                Shapes.broadcastStrides(a.shape, a.strides, shape), Shapes.broadcastStrides(b.shape, b.strides, shape)},
                new int[] {a.offset, b.offset});
        int sa = rows.innerStride(0), sb = rows.innerStride(1), inner = rows.inner;
        for (int r = 0, oo = 0; r < rows.rows; r++, rows.next(), oo += inner) {
            if (dt == DType.FLOAT32) Elementwise.binary(op, a.storage.f, rows.offset(0), sa, b.storage.f, rows.offset(1), sb, out.storage.f, oo, inner);
            else Elementwise.binary(op, a.storage.d, rows.offset(0), sa, b.storage.d, rows.offset(1), sb, out.storage.d, oo, inner);
        }
        return out;
    }

    /** A contiguous copy of x in the given dtype. */
    static Tensor copy(Tensor x, DType dtype) {
        Tensor out = Tensor.uninitialized(dtype, x.shape);
        copyInto(x, out);
        return out;
    }

    /** Writes src (broadcast to dst's shape) into the view dst, converting the dtype if needed. */
    static void copyInto(Tensor src, Tensor dst) {
        src.live();
        dst.live();
        if (dst.numel() == 0) return;
        int[] shape = dst.shape;
        Shapes.RowCursor rows = new Shapes.RowCursor(shape, new int[][] {
                Shapes.broadcastStrides(src.shape, src.strides, shape), dst.strides}, new int[] {src.offset, dst.offset});
        int ss = rows.innerStride(0), ds = rows.innerStride(1), inner = rows.inner;
        Storage s = src.storage, d = dst.storage;
        for (int r = 0; r < rows.rows; r++, rows.next()) {
            int so = rows.offset(0), o = rows.offset(1);
            if (s.f != null && d.f != null) {
                if (ss == 1 && ds == 1) System.arraycopy(s.f, so, d.f, o, inner);
                else for (int j = 0; j < inner; j++) d.f[o + j * ds] = s.f[so + j * ss];
            } else if (s.d != null && d.d != null) {
                if (ss == 1 && ds == 1) System.arraycopy(s.d, so, d.d, o, inner);
                else for (int j = 0; j < inner; j++) d.d[o + j * ds] = s.d[so + j * ss];
            } else {
                for (int j = 0; j < inner; j++) d.set(o + j * ds, s.get(so + j * ss));
            }
        }
    }

    /** Sums x into a new contiguous tensor of keptShape (x's shape with reduced axes set to 1). */
    static Tensor sumKernel(Tensor x, int[] keptShape) {
        x.live();
        Tensor out = Tensor.zeros(x.dtype, keptShape);
        if (x.numel() == 0) return out;
        int[] outStrides = out.strides.clone();
        for (int d = 0; d < keptShape.length; d++) if (keptShape[d] == 1 && x.shape[d] != 1) outStrides[d] = 0;
        Shapes.RowCursor rows = new Shapes.RowCursor(x.shape, new int[][] {x.strides, outStrides}, new int[] {x.offset, 0});
        int sx = rows.innerStride(0), so = rows.innerStride(1), inner = rows.inner;
        float[] xf = x.storage.f, of = out.storage.f;
        double[] xd = x.storage.d, od = out.storage.d;
        for (int r = 0; r < rows.rows; r++, rows.next()) {
            int xo = rows.offset(0), oo = rows.offset(1);
            if (so == 0) { // the last axis is reduced: one dot-like accumulation per row, in double
                double acc = 0;
                if (xf != null) { for (int j = 0; j < inner; j++) acc += xf[xo + j * sx]; of[oo] += (float) acc; }
                else { for (int j = 0; j < inner; j++) acc += xd[xo + j * sx]; od[oo] += acc; }
            } else if (xf != null) {
                if (sx == 1) { for (int j = 0; j < inner; j++) of[oo + j] += xf[xo + j]; }
                else { for (int j = 0; j < inner; j++) of[oo + j] += xf[xo + j * sx]; }
            } else {
                for (int j = 0; j < inner; j++) od[oo + j] += xd[xo + j * sx];
            }
        }
        return out;
    }

    /** Index of the largest entry along axis (the first one on ties; NaN counts as largest), keepDim shape. */
    static Tensor argExtreme(Tensor x, int axis, boolean max) {
        int a = Shapes.axis(max ? "argmax" : "argmin", axis, x.shape.length);
        if (x.shape[a] == 0) throw new IllegalArgumentException((max ? "argmax" : "argmin") + ": axis " + a + " is empty");
        int rank = x.shape.length;
        int[] kept = x.shape.clone();
        kept[a] = 1;
        Tensor out = Tensor.uninitialized(x.dtype, kept);
        if (a == rank - 1 && x.isContiguous()) {
            // The common case (a class per row of logits): rows lie side by side, no view needed. Also keeps the
            // method small for the JIT when it is all that runs (it is called once per training step).
            int n = x.shape[a];
            for (int r = 0, rows = out.numel(); r < rows; r++) out.storage.set(r, argRow(x.storage, x.offset + r * n, n, 1, max));
            return out;
        }
        int[] perm = new int[rank];
        for (int i = 0, k = 0; i < rank; i++) if (i != a) perm[k++] = i;
        perm[rank - 1] = a;
        Tensor v;
        try (Autograd.Scope s = Autograd.noGrad()) {
            v = x.detach().permute(perm);
        }
        Shapes.RowCursor rows = new Shapes.RowCursor(v.shape, new int[][] {v.strides}, new int[] {v.offset});
        int s = rows.innerStride(0);
        for (int r = 0; r < rows.rows; r++, rows.next()) out.storage.set(r, argRow(v.storage, rows.offset(0), rows.inner, s, max));
        return out;
    }

    /** The first index of the largest (smallest) of n values at stride s; a NaN counts as largest and wins at once. */
    private static int argRow(Storage st, int o, int n, int s, boolean max) {
        int best = 0;
        double bv = st.get(o);
        for (int j = 1; j < n && !Double.isNaN(bv); j++) {
            double c = st.get(o + j * s);
            if (Double.isNaN(c) || (max ? c > bv : c < bv)) {
                bv = c;
                best = j;
            }
        }
        return best;
    }

    static Tensor matmulKernel(Tensor a, Tensor b) {
        a.live();
        b.live();
        if (a.shape.length < 2 || b.shape.length < 2) {
            throw new IllegalArgumentException("matmul: operands need at least 2 dimensions here, got " + Shapes.str(a.shape)
                    + " and " + Shapes.str(b.shape));
        }
        int ra = a.shape.length, rb = b.shape.length;
        int m = a.shape[ra - 2], k = a.shape[ra - 1], k2 = b.shape[rb - 2], nn = b.shape[rb - 1];
        if (k != k2) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(a.shape) + " and " + Shapes.str(b.shape)
                    + " are not aligned (" + k + " columns vs " + k2 + " rows)");
        }
        DType dt = DType.promote(a.dtype, b.dtype);
        if (a.dtype != dt) a = copy(a, dt);
        if (b.dtype != dt) b = copy(b, dt);
        int[] batch = Shapes.broadcast("matmul", Arrays.copyOf(a.shape, ra - 2), Arrays.copyOf(b.shape, rb - 2));
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = nn;
        if (k == 0) return Tensor.empty(dt, outShape); // empty sum: zeros (empty() is zero-filled)
        Tensor out = Tensor.uninitialized(dt, outShape); // every GEMM below has beta = 0
        if (out.numel() == 0) return out;
        b = gemmReady(b);
        // A batch of row-major A matrices times one shared B is a single GEMM with m·batch rows.
        if (rb == 2 && ra > 2 && a.isContiguous()) {
            gemm(dt, a.numel() / k, nn, k, 1, a.storage, a.offset, k, false, b, 0, out.storage, 0);
            return out;
        }
        a = gemmReady(a);
        int[] sa = Shapes.broadcastStrides(Arrays.copyOf(a.shape, ra - 2), Arrays.copyOf(a.strides, ra - 2), batch);
        int[] sb = Shapes.broadcastStrides(Arrays.copyOf(b.shape, rb - 2), Arrays.copyOf(b.strides, rb - 2), batch);
        int count = (int) Shapes.numel(batch);
        int[] idx = new int[batch.length];
        int oa = a.offset, ob = b.offset;
        boolean ta = isTransposed(a);
        int lda = ta ? a.strides[ra - 1] : a.strides[ra - 2];
        for (int bi = 0; bi < count; bi++) {
            gemm(dt, m, nn, k, 1, a.storage, oa, lda, ta, b, 0, out.storage, bi * m * nn);
            for (int d = batch.length - 1; d >= 0; d--) {
                oa += sa[d];
                ob += sb[d];
                if (++idx[d] < batch[d]) break;
                oa -= sa[d] * batch[d];
                ob -= sb[d] * batch[d];
                idx[d] = 0;
            }
            b = new Tensor(b.storage, b.shape, b.strides, ob);
        }
        return out;
    }

    /** C (n wide, at co) ← beta·C + alpha·op(A)·B, B a GEMM-ready matrix (row-major or a transposed view). */
    private static void gemm(DType dt, int m, int n, int k, double alpha, Storage as, int ao, int lda, boolean ta, Tensor b,
                             double beta, Storage cs, int co) {
        int rb = b.shape.length;
        boolean tb = isTransposed(b);
        int ldb = tb ? b.strides[rb - 1] : b.strides[rb - 2];
        if (dt == DType.FLOAT32) {
            Gemm.sgemm(ta, tb, m, n, k, (float) alpha, as.f, ao, lda, b.storage.f, b.offset, ldb, (float) beta, cs.f, co, n);
        } else {
            Gemm.dgemm(ta, tb, m, n, k, alpha, as.d, ao, lda, b.storage.d, b.offset, ldb, beta, cs.d, co, n);
        }
    }

    /** A matrix whose last two axes GEMM can read directly: row-major, or a transposed view of row-major. */
    private static Tensor gemmReady(Tensor t) {
        int r = t.shape.length;
        int cols = t.shape[r - 1];
        boolean rowMajor = t.strides[r - 1] == 1 && t.strides[r - 2] >= Math.max(cols, 1);
        if (rowMajor || isTransposed(t)) return t;
        return copy(t, t.dtype);
    }

    private static boolean isTransposed(Tensor t) {
        int r = t.shape.length;
        int rows = t.shape[r - 2], cols = t.shape[r - 1];
        return !(t.strides[r - 1] == 1 && t.strides[r - 2] >= Math.max(cols, 1))
                && t.strides[r - 2] == 1 && t.strides[r - 1] >= Math.max(rows, 1);
    }

    // ---------------------------------------------------------------- helpers

    private static int[] dropAxes(int[] shape, int[] axes) {
        int[] out = new int[shape.length - axes.length];
        int k = 0;
        outer:
        for (int d = 0; d < shape.length; d++) {
            for (int a : axes) if (a == d) continue outer;
            out[k++] = shape[d];
        }
        return out;
    }

    /** The integer values of an index tensor, each checked to lie in [0, size). */
    private static int[] indices(String op, Tensor index, int size) {
        double[] v = index.toDoubleArray();
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            int k = (int) v[i];
            if (k != v[i] || k < 0 || k >= size) {
                throw new IllegalArgumentException(op + ": index " + v[i] + " is not an integer in [0, " + size + ")");
            }
            out[i] = k;
        }
        return out;
    }

    interface IndexedVisitor {
        void visit(int flat, int[] coord);
    }

    private static void forEachIndexed(int[] shape, IndexedVisitor v) {
        int n = (int) Shapes.numel(shape);
        int[] coord = new int[shape.length];
        for (int i = 0; i < n; i++) {
            v.visit(i, coord);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++coord[d] < shape[d]) break;
                coord[d] = 0;
            }
        }
    }
}
