package org.deltagrad;

import java.util.Arrays;
import java.util.List;

import org.deltagrad.kernels.Conv;
import org.deltagrad.kernels.Elementwise;
import org.deltagrad.kernels.Elementwise.ActivationBackward;
import org.deltagrad.kernels.Elementwise.Binary;
import org.deltagrad.kernels.Elementwise.Unary;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.LossKernels;
import org.deltagrad.kernels.Parallel;

/**
 * The forward computations of {@link Ops}' entries, without any graph: input checks, dtype promotion, strides
 * and views, and the split of large loops over the worker pool; the loops themselves are in {@code kernels}.
 * {@link Tensor} also uses these directly for what is not differentiable (comparisons, copies, in-place writes).
 */
final class TensorKernels {
    private TensorKernels() {}

    /**
     * Element-wise kernels over at least twice this many elements are split over the worker pool (as PyTorch's
     * parallel_for does from 32K): each element is computed by the same code whoever runs it, so the bits do not
     * depend on the split. Smaller ones stay on the calling thread, where a pool job would cost more than it saves.
     */
    static final int ELEMENTWISE_GRAIN = 16384;


    // ---------------------------------------------------------------- element-wise

    static Tensor unary(Unary op, Tensor x) {
        return unary(op, x, 0, 0);
    }

    /** op(x) into a new contiguous tensor; p and q are POW's exponent and CLAMP's bounds. */
    static Tensor unary(Unary op, Tensor x, double p, double q) {
        x.live();
        Tensor c = x.contiguousUnrecorded();
        Tensor out = Tensor.uninitialized(x.dtype, x.shape);
        int n = out.numel();
        Parallel.forRange(n, ELEMENTWISE_GRAIN, (from, to) -> unaryRange(op, p, q, c, out, from, to));
        return out;
    }

    private static void unaryRange(Unary op, double p, double q, Tensor c, Tensor out, int from, int to) {
        if (out.dtype == DType.FLOAT32) Elementwise.unary(op, p, q, c.storage.floats, c.offset + from, out.storage.floats, from, to - from);
        else Elementwise.unary(op, p, q, c.storage.doubles, c.offset + from, out.storage.doubles, from, to - from);
    }

    /** Elements [from, to) of a contiguous binary op; b advances by sb (0 for a scalar b, else 1). */
    private static void binaryRange(Binary op, Tensor a, Tensor b, int sb, Tensor out, int from, int to) {
        if (out.dtype == DType.FLOAT32) {
            Elementwise.binary(op, a.storage.floats, a.offset + from, 1, b.storage.floats, b.offset + from * sb, sb, out.storage.floats, from, to - from);
        } else {
            Elementwise.binary(op, a.storage.doubles, a.offset + from, 1, b.storage.doubles, b.offset + from * sb, sb, out.storage.doubles, from, to - from);
        }
    }

    /** PyTorch's rule: a 0-dim operand does not widen a dimensioned one; otherwise the wider type wins. */
    static DType resultType(Tensor a, Tensor b) {
        if (a.shape.length == 0 && b.shape.length > 0) return b.dtype;
        if (b.shape.length == 0 && a.shape.length > 0) return a.dtype;
        return DType.promote(a.dtype, b.dtype);
    }

    /** a op b, broadcast together, in their result type; {@code name} is the op's name in error messages. */
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
            if (dt == DType.FLOAT32) Elementwise.binary(op, a.storage.floats, rows.offset(0), sa, b.storage.floats, rows.offset(1), sb, out.storage.floats, oo, inner);
            else Elementwise.binary(op, a.storage.doubles, rows.offset(0), sa, b.storage.doubles, rows.offset(1), sb, out.storage.doubles, oo, inner);
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
            if (s.floats != null && d.floats != null) {
                if (ss == 1 && ds == 1) System.arraycopy(s.floats, so, d.floats, o, inner);
                else for (int j = 0; j < inner; j++) d.floats[o + j * ds] = s.floats[so + j * ss];
            } else if (s.doubles != null && d.doubles != null) {
                if (ss == 1 && ds == 1) System.arraycopy(s.doubles, so, d.doubles, o, inner);
                else for (int j = 0; j < inner; j++) d.doubles[o + j * ds] = s.doubles[so + j * ss];
            } else {
                for (int j = 0; j < inner; j++) d.set(o + j * ds, s.get(so + j * ss));
            }
        }
    }

    /** The activations' backward products g·f'(saved) in one pass over g and the saved tensor (same shape). */
    static Tensor activationBackward(ActivationBackward f, Tensor g, Tensor saved) {
        if (!Arrays.equals(g.shape, saved.shape) || g.dtype != saved.dtype) {
            // The engine hands every rule a gradient of its output's shape and dtype, so this is a bug, not input.
            throw new IllegalStateException(f + " backward: gradient " + Shapes.str(g.shape) + " " + g.dtype
                    + " does not match the saved tensor " + Shapes.str(saved.shape) + " " + saved.dtype);
        }
        // At offset 0, like the output, so the loop indexes all three arrays alike (see Elementwise's VECTORISED).
        Tensor gc = atZero(g.contiguousUnrecorded()), sc = atZero(saved.contiguousUnrecorded());
        Tensor out = Tensor.uninitialized(g.dtype, g.shape);
        Parallel.forRange(out.numel(), ELEMENTWISE_GRAIN, (from, to) -> {
            if (out.dtype == DType.FLOAT32) Elementwise.backward(f, gc.storage.floats, sc.storage.floats, out.storage.floats, from, to);
            else Elementwise.backward(f, gc.storage.doubles, sc.storage.doubles, out.storage.doubles, from, to);
        });
        return out;
    }

    private static Tensor atZero(Tensor t) {
        return t.offset == 0 ? t : copy(t, t.dtype);
    }

    /** where(cond, a, b) with all three broadcast together; a and b promoted to one dtype. */
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
        return out;
    }

    // ---------------------------------------------------------------- reductions, views and indexing

    /** x's shape with the given axes set to 1. */
    static int[] keptShape(int[] shape, int[] axes) {
        int[] kept = shape.clone();
        for (int a : axes) kept[a] = 1;
        return kept;
    }

    /** Sum over the given (distinct, resolved) axes, which stay as size 1 if keepDim. */
    static Tensor sum(Tensor x, int[] axes, boolean keepDim) {
        Tensor out = sum(x, keptShape(x.shape, axes));
        return keepDim ? out : out.reshapeView(dropAxes(x.shape, axes));
    }

    /** A view that repeats size-1 dimensions (stride 0). */
    static Tensor expand(Tensor x, int[] shape) {
        int[] target = Shapes.broadcast("expand", x.shape, shape);
        if (!Arrays.equals(target, shape)) {
            throw new IllegalArgumentException("expand: cannot expand shape " + Shapes.str(x.shape) + " to " + Shapes.str(shape));
        }
        return new Tensor(x.storage, shape.clone(), Shapes.broadcastStrides(x.shape, x.strides, shape), x.offset);
    }

    /** A view of x with a new shape when its data is contiguous, else a reshaped copy. */
    static Tensor reshape(Tensor x, int[] shape) {
        return x.isContiguous() ? x.reshapeView(shape) : copy(x.detach(), x.dtype).reshapeView(shape);
    }

    /** A view with the axes in the order perm (each axis once; negative ones count from the end). */
    static Tensor permute(Tensor x, int[] perm) {
        int rank = x.shape.length;
        int[] axes = resolvePermutation(perm, rank), shape = new int[rank], strides = new int[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = x.shape[axes[i]];
            strides[i] = x.strides[axes[i]];
        }
        return new Tensor(x.storage, shape, strides, x.offset);
    }

    /** The permutation that undoes perm. */
    static int[] inversePermutation(int[] perm, int rank) {
        int[] axes = resolvePermutation(perm, rank), inverse = new int[rank];
        for (int i = 0; i < rank; i++) inverse[axes[i]] = i;
        return inverse;
    }

    private static int[] resolvePermutation(int[] perm, int rank) {
        if (perm.length != rank) {
            throw new IllegalArgumentException("permute: " + perm.length + " axes given for a tensor of rank " + rank);
        }
        int[] axes = new int[rank];
        boolean[] used = new boolean[rank];
        for (int i = 0; i < rank; i++) {
            int a = Shapes.axis("permute", perm[i], rank);
            if (used[a]) throw new IllegalArgumentException("permute: axis " + a + " repeated in " + Arrays.toString(perm));
            used[a] = true;
            axes[i] = a;
        }
        return axes;
    }

    /** A view of {@code length} entries along the (resolved) axis a starting at {@code start}. */
    static Tensor narrow(Tensor x, int a, int start, int length) {
        if (start < 0 || length < 0 || start + length > x.shape[a]) {
            throw new IllegalArgumentException("narrow: range [" + start + ", " + (start + length) + ") is outside axis "
                    + a + " of size " + x.shape[a] + " (shape " + Shapes.str(x.shape) + ")");
        }
        return x.narrowView(a, start, length);
    }

    /** Zeros of {@code shape} with x written at [start, start + len) along axis. */
    static Tensor embed(Tensor x, int axis, int start, int[] shape) {
        Tensor out = Tensor.zeros(x.dtype, shape);
        copyInto(x, out.narrowView(axis, start, x.shape[axis]));
        return out;
    }

    /** A view of entries start, start + step, … before end along the (resolved) axis a (in range, step &gt; 0). */
    static Tensor slice(Tensor x, int a, int start, int end, int step) {
        int[] shape = x.shape.clone(), strides = x.strides.clone();
        shape[a] = Math.max(0, (end - start + step - 1) / step);
        strides[a] *= step;
        return new Tensor(x.storage, shape, strides, x.offset + (shape[a] == 0 ? 0 : start * x.strides[a]));
    }

    /** Zeros of {@code shape} with x written at start, start + step, … along axis: the adjoint of slice. */
    static Tensor embedStrided(Tensor x, int axis, int start, int step, int[] shape) {
        Tensor out = Tensor.zeros(x.dtype, shape);
        copyInto(x, slice(out, axis, start, start + x.shape[axis] * step, step));
        return out;
    }

    /** Running sums along the (resolved) axis a. */
    static Tensor cumsum(Tensor x, int a) {
        Tensor out = copy(x, x.dtype);
        int n = x.shape[a], inner = Shapes.contiguousStrides(x.shape)[a], outer = out.numel() == 0 ? 0 : out.numel() / (n * inner);
        Storage st = out.storage;
        for (int o = 0; o < outer; o++) {
            for (int i = 1; i < n; i++) {
                int at = (o * n + i) * inner;
                for (int j = 0; j < inner; j++) st.set(at + j, st.get(at + j) + st.get(at - inner + j));
            }
        }
        return out;
    }

    /** Products along the (resolved) axis a, which stays as size 1 if keepDim (the empty product is 1). */
    static Tensor prod(Tensor x, int a, boolean keepDim) {
        Tensor c = x.contiguousUnrecorded();
        int n = x.shape[a], inner = Shapes.contiguousStrides(x.shape)[a];
        Tensor out = Tensor.full(x.dtype, 1, keptShape(x.shape, new int[] {a}));
        int outer = out.numel() / Math.max(1, inner);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                double p = 1;
                for (int i = 0; i < n; i++) p *= c.storage.get(c.offset + (o * n + i) * inner + j);
                out.storage.set(o * inner + j, p);
            }
        }
        return keepDim ? out : out.reshapeView(dropAxes(x.shape, new int[] {a}));
    }

    /** A copy with the order of entries reversed along each of the (resolved, distinct) axes. */
    static Tensor flip(Tensor x, int[] axes) {
        Tensor out = copy(x, x.dtype);
        int[] strides = Shapes.contiguousStrides(x.shape);
        Storage st = out.storage;
        for (int a : axes) {
            int n = x.shape[a], inner = strides[a], outer = out.numel() == 0 ? 0 : out.numel() / (n * inner);
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < n / 2; i++) {
                    int p = (o * n + i) * inner, q = (o * n + n - 1 - i) * inner;
                    for (int j = 0; j < inner; j++) {
                        double t = st.get(p + j);
                        st.set(p + j, st.get(q + j));
                        st.set(q + j, t);
                    }
                }
            }
        }
        return out;
    }

    /** The parts joined along the (resolved) axis a; they must agree on every other axis. */
    static Tensor concat(List<Tensor> parts, int a) {
        Tensor first = parts.get(0);
        int rank = first.shape.length;
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
        int at = 0;
        for (Tensor t : parts) {
            copyInto(t, out.narrowView(a, at, t.shape[a]));
            at += t.shape[a];
        }
        return out;
    }

    /** out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (and likewise along other axes), as in PyTorch. */
    static Tensor gather(Tensor x, int a, Tensor index) {
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
        return out;
    }

    /** Zeros of {@code shape}, then out[index[i]] += src[i] along axis. */
    static Tensor scatterAdd(Tensor src, int axis, Tensor index, int[] shape) {
        int[] idx = indices("scatterAdd", index, shape[axis]);
        Tensor out = Tensor.zeros(src.dtype, shape);
        Tensor s = src.contiguous();
        forEachIndexed(index.shape, (i, coord) -> {
            int off = 0;
            for (int d = 0; d < coord.length; d++) off += (d == axis ? idx[i] : coord[d]) * out.strides[d];
            out.storage.set(off, out.storage.get(off) + s.storage.get(s.offset + i));
        });
        return out;
    }

    /** Sums x into a new contiguous tensor of keptShape (x's shape with reduced axes set to 1). */
    static Tensor sum(Tensor x, int[] keptShape) {
        x.live();
        Tensor out = Tensor.zeros(x.dtype, keptShape);
        if (x.numel() == 0) return out;
        int[] outStrides = out.strides.clone();
        for (int d = 0; d < keptShape.length; d++) if (keptShape[d] == 1 && x.shape[d] != 1) outStrides[d] = 0;
        Shapes.RowCursor rows = new Shapes.RowCursor(x.shape, new int[][] {x.strides, outStrides}, new int[] {x.offset, 0});
        int sx = rows.innerStride(0), so = rows.innerStride(1), inner = rows.inner;
        float[] xf = x.storage.floats, of = out.storage.floats;
        double[] xd = x.storage.doubles, od = out.storage.doubles;
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
            // The common case (a class per row of logits), kept small for the JIT: rows lie side by side, no view.
            int n = x.shape[a];
            for (int r = 0, rows = out.numel(); r < rows; r++) out.storage.set(r, argRow(x.storage, x.offset + r * n, n, 1, max));
            return out;
        }
        int[] perm = new int[rank];
        for (int i = 0, k = 0; i < rank; i++) if (i != a) perm[k++] = i;
        perm[rank - 1] = a;
        Tensor v = permute(x, perm);
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

    // ---------------------------------------------------------------- products

    /** x·Wᵀ + b for x [n, in], W [out, in], b [out] or null: one GEMM reading W transposed, then the bias row by row. */
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
        Tensor wc = wt.contiguousUnrecorded();
        // The bias is not the GEMM's C with beta = 1: a BLAS backend would then copy C in as well as out.
        Tensor bc = b == null ? null : (b.dtype == dt ? b : copy(b, dt)).contiguousUnrecorded();
        if (dt == DType.FLOAT32) {
            Gemm.sgemm(ta, true, n, out, in, 1f, a.storage.floats, a.offset, lda, wc.storage.floats, wc.offset, in, 0f, y.storage.floats, 0, out);
        } else {
            Gemm.dgemm(ta, true, n, out, in, 1d, a.storage.doubles, a.offset, lda, wc.storage.doubles, wc.offset, in, 0d, y.storage.doubles, 0, out);
        }
        if (bc != null) {
            Parallel.forRange(n, Math.max(1, ELEMENTWISE_GRAIN / Math.max(1, out)), (from, to) -> {
                if (dt == DType.FLOAT32) Elementwise.addToRows(y.storage.floats, out, bc.storage.floats, bc.offset, from, to);
                else Elementwise.addToRows(y.storage.doubles, out, bc.storage.doubles, bc.offset, from, to);
            });
        }
        return y;
    }

    /** Matrix product over the last two axes, batch axes broadcast; transposed views go to GEMM as flags. */
    static Tensor matmul(Tensor a, Tensor b) {
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
        if (k == 0) return Tensor.zeros(dt, outShape); // empty sum: zeros (zeros() is zero-filled)
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
            Gemm.sgemm(ta, tb, m, n, k, (float) alpha, as.floats, ao, lda, b.storage.floats, b.offset, ldb, (float) beta, cs.floats, co, n);
        } else {
            Gemm.dgemm(ta, tb, m, n, k, alpha, as.doubles, ao, lda, b.storage.doubles, b.offset, ldb, beta, cs.doubles, co, n);
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

    // ---------------------------------------------------------------- convolution and pooling (NCHW)

    /** The geometry of one 2-D convolution, checked as PyTorch's F.conv2d checks it. */
    record ConvShape(int n, int c, int h, int w, int o, int kh, int kw, int stride, int pad, int oh, int ow) {
        int cols() {
            return oh * ow;
        }

        int rows() {
            return c * kh * kw;
        }

        /** Fails unless g has the output's shape [N, O, oh, ow]. */
        void checkOutput(String op, Tensor g) {
            int[] out = {n, o, oh, ow};
            if (!Arrays.equals(g.shape, out)) {
                throw new IllegalArgumentException(op + ": gradient " + Shapes.str(g.shape) + " must be " + Shapes.str(out));
            }
        }

        int[] map() {
            return Conv.im2colMap(c, h, w, kh, kw, stride, pad, oh, ow);
        }

        /** The float32 kernel that the compiled training step also runs (so both give the same bits). */
        Conv.Plan plan() {
            return new Conv.Plan(n, c, h, w, o, kh, kw, stride, pad);
        }

        static ConvShape of(String op, int[] x, int[] wt, int stride, int pad) {
            if (x.length != 4 || wt.length != 4) {
                throw new IllegalArgumentException(op + ": input " + Shapes.str(x) + " and weight " + Shapes.str(wt)
                        + " must both be 4-D (input [N, C, H, W], weight [out, C, kH, kW])");
            }
            if (stride < 1 || pad < 0) {
                throw new IllegalArgumentException(op + ": stride must be ≥ 1 and padding ≥ 0, got stride " + stride + ", padding " + pad);
            }
            if (x[1] != wt[1]) {
                throw new IllegalArgumentException(op + ": input " + Shapes.str(x) + " has " + x[1] + " channels but weight "
                        + Shapes.str(wt) + " expects " + wt[1]);
            }
            if (wt[2] < 1 || wt[3] < 1 || wt[2] > x[2] + 2 * pad || wt[3] > x[3] + 2 * pad) {
                throw new IllegalArgumentException(op + ": kernel " + wt[2] + "x" + wt[3] + " of weight " + Shapes.str(wt)
                        + " does not fit input " + Shapes.str(x) + " padded by " + pad);
            }
            return new ConvShape(x[0], x[1], x[2], x[3], wt[0], wt[2], wt[3], stride, pad,
                    (x[2] + 2 * pad - wt[2]) / stride + 1, (x[3] + 2 * pad - wt[3]) / stride + 1);
        }
    }

    private static Tensor contiguousAs(Tensor t, DType dt) {
        return (t.dtype == dt ? t : copy(t, dt)).contiguousUnrecorded();
    }

    /**
     * F.conv2d(x, w, b, stride, padding): the im2col matrices of all images side by side, one GEMM W · cols onto the
     * bias rows ([out, N·oh·ow]), then that permuted to [N, out, oh, ow].
     */
    static Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int pad) {
        x.live();
        w.live();
        ConvShape s = ConvShape.of("conv2d", x.shape, w.shape, stride, pad);
        if (b != null && (b.shape.length != 1 || b.shape[0] != s.o())) {
            throw new IllegalArgumentException("conv2d: bias " + Shapes.str(b.shape) + " must be [" + s.o() + "] for weight " + Shapes.str(w.shape));
        }
        DType dt = DType.promote(x.dtype, w.dtype);
        Tensor xc = contiguousAs(x, dt), wc = contiguousAs(w, dt), bc = b == null ? null : contiguousAs(b, dt);
        Tensor yt = Tensor.zeros(dt, s.o(), s.n(), s.oh(), s.ow());
        int rows = s.rows(), ld = s.n() * s.cols();
        if (yt.numel() == 0) return copy(permute(yt, new int[] {1, 0, 2, 3}), dt);
        if (dt == DType.FLOAT32) {
            s.plan().forward(xc.storage.floats, xc.offset, s.c() * s.h() * s.w(), s.h() * s.w(), wc.storage.floats, wc.offset,
                    bc == null ? null : bc.storage.floats, bc == null ? 0 : bc.offset, yt.storage.floats);
            return copy(permute(yt, new int[] {1, 0, 2, 3}), dt);
        }
        double[] all = im2colAll(s, xc);
        for (int o = 0; bc != null && o < s.o(); o++) Arrays.fill(yt.storage.doubles, o * ld, (o + 1) * ld, bc.storage.doubles[bc.offset + o]);
        Gemm.dgemm(false, false, s.o(), ld, rows, 1d, wc.storage.doubles, wc.offset, rows, all, 0, ld, 1d, yt.storage.doubles, 0, ld);
        return copy(permute(yt, new int[] {1, 0, 2, 3}), dt);
    }

    /** float64: the im2col matrices of all images side by side, [c·kh·kw, N·oh·ow] row-major, in parallel over the batch. */
    private static double[] im2colAll(ConvShape s, Tensor xc) {
        int[] map = s.map();
        int rows = s.rows(), cols = s.cols(), ld = s.n() * cols, img = s.c() * s.h() * s.w();
        double[] all = new double[rows * ld];
        Parallel.forRange(s.n(), 1, (from, to) -> {
            double[] buf = new double[map.length];
            for (int i = from; i < to; i++) {
                Conv.gather(map, xc.storage.doubles, xc.offset + i * img, buf, 0);
                for (int r = 0; r < rows; r++) System.arraycopy(buf, r * cols, all, r * ld + i * cols, cols);
            }
        });
        return all;
    }

    /** The input gradient of conv2d (a transposed convolution): per image, col2im of Wᵀ · g, over the batch in parallel. */
    static Tensor conv2dInputGrad(Tensor g, Tensor w, int[] xShape, int stride, int pad) {
        g.live();
        w.live();
        ConvShape s = ConvShape.of("conv2dInputGrad", xShape, w.shape, stride, pad);
        s.checkOutput("conv2dInputGrad", g);
        DType dt = DType.promote(g.dtype, w.dtype);
        Tensor gc = contiguousAs(g, dt), wc = contiguousAs(w, dt);
        Tensor dx = Tensor.zeros(dt, xShape);
        int[] map = s.map();
        int rows = s.rows(), cols = s.cols(), img = s.c() * s.h() * s.w(), out = s.o() * cols;
        if (dx.numel() == 0 || map.length == 0) return dx;
        if (dt == DType.FLOAT32) {
            Tensor gp = copy(permute(gc, new int[] {1, 0, 2, 3}), dt);
            s.plan().inputGrad(gp.storage.floats, gp.offset, wc.storage.floats, wc.offset, dx.storage.floats, dx.offset, img,
                    s.h() * s.w());
            return dx;
        }
        Parallel.forRange(s.n(), 1, (from, to) -> {
            double[] buf = new double[map.length];
            for (int i = from; i < to; i++) {
                Gemm.dgemm(true, false, rows, cols, s.o(), 1d, wc.storage.doubles, wc.offset, rows, gc.storage.doubles, gc.offset + i * out, cols, 0d, buf, 0, cols);
                Conv.scatterAdd(map, buf, dx.storage.doubles, i * img);
            }
        });
        return dx;
    }

    /** The weight gradient of conv2d: g permuted to [out, N·oh·ow] times the side-by-side im2col matrices, one GEMM. */
    static Tensor conv2dWeightGrad(Tensor g, Tensor x, int[] wShape, int stride, int pad) {
        g.live();
        x.live();
        ConvShape s = ConvShape.of("conv2dWeightGrad", x.shape, wShape, stride, pad);
        s.checkOutput("conv2dWeightGrad", g);
        DType dt = DType.promote(g.dtype, x.dtype);
        Tensor xc = contiguousAs(x, dt), dw = Tensor.zeros(dt, wShape);
        int rows = s.rows(), ld = s.n() * s.cols();
        if (dw.numel() == 0 || ld == 0) return dw;
        Tensor gp = copy(permute(g, new int[] {1, 0, 2, 3}), dt);
        if (dt == DType.FLOAT32) {
            s.plan().weightGrad(xc.storage.floats, xc.offset, s.c() * s.h() * s.w(), s.h() * s.w(), gp.storage.floats, gp.offset,
                    dw.storage.floats, dw.offset);
            return dw;
        }
        Gemm.dgemm(false, true, s.o(), rows, ld, 1d, gp.storage.doubles, 0, ld, im2colAll(s, xc), 0, ld, 0d, dw.storage.doubles, 0, rows);
        return dw;
    }

    /** Output size of a square, unpadded pooling window over x [N, C, H, W], checked as PyTorch checks it. */
    static int[] poolShape(String op, int[] x, int k, int stride) {
        if (x.length != 4) throw new IllegalArgumentException(op + ": input " + Shapes.str(x) + " must be 4-D [N, C, H, W]");
        if (k < 1 || stride < 1) throw new IllegalArgumentException(op + ": kernel and stride must be ≥ 1, got kernel " + k + ", stride " + stride);
        if (k > x[2] || k > x[3]) throw new IllegalArgumentException(op + ": kernel " + k + " is larger than input " + Shapes.str(x));
        return new int[] {x[0], x[1], (x[2] - k) / stride + 1, (x[3] - k) / stride + 1};
    }

    /** Per-plane body of a pooling loop: plane p reads at offset p·inPlane, writes at p·outPlane. */
    interface PlaneBody {
        void run(int plane, int in, int out);
    }

    private static void forEachPlane(int[] x, int[] y, PlaneBody body) {
        int planes = x[0] * x[1], inPlane = x[2] * x[3], outPlane = y[2] * y[3];
        Parallel.forRange(planes, Math.max(1, ELEMENTWISE_GRAIN / Math.max(1, inPlane)), (from, to) -> {
            for (int p = from; p < to; p++) body.run(p, p * inPlane, p * outPlane);
        });
    }

    static Tensor avgPool2d(Tensor x, int k, int stride) {
        x.live();
        int[] ys = poolShape("avgPool2d", x.shape, k, stride);
        Tensor xc = x.contiguousUnrecorded(), y = Tensor.uninitialized(x.dtype, ys);
        int[] map = Conv.windowMap(x.shape[2], x.shape[3], k, stride, ys[2], ys[3]);
        forEachPlane(x.shape, ys, (p, in, out) -> {
            if (x.dtype == DType.FLOAT32) Conv.avgPool(map, k * k, xc.storage.floats, xc.offset + in, y.storage.floats, out);
            else Conv.avgPool(map, k * k, xc.storage.doubles, xc.offset + in, y.storage.doubles, out);
        });
        return y;
    }

    /** The adjoint of avgPool2d: g/k² spread over each window of a zero tensor of xShape. */
    static Tensor avgPool2dBackward(Tensor g, int k, int stride, int[] xShape) {
        g.live();
        int[] ys = poolShape("avgPool2dBackward", xShape, k, stride);
        if (!Arrays.equals(g.shape, ys)) {
            throw new IllegalArgumentException("avgPool2dBackward: gradient " + Shapes.str(g.shape) + " must be " + Shapes.str(ys));
        }
        Tensor gc = g.contiguousUnrecorded(), dx = Tensor.zeros(g.dtype, xShape);
        int[] map = Conv.windowMap(xShape[2], xShape[3], k, stride, ys[2], ys[3]);
        forEachPlane(xShape, ys, (p, in, out) -> {
            if (g.dtype == DType.FLOAT32) Conv.avgPoolBackward(map, k * k, gc.storage.floats, gc.offset + out, dx.storage.floats, in);
            else Conv.avgPoolBackward(map, k * k, gc.storage.doubles, gc.offset + out, dx.storage.doubles, in);
        });
        return dx;
    }

    /** max_pool2d's values, and each window's argmax as a plane offset in a float64 [N, C, oh·ow] index tensor. */
    record Pooled(Tensor values, Tensor argmax) {}

    static Pooled maxPool2d(Tensor x, int k, int stride) {
        x.live();
        int[] ys = poolShape("maxPool2d", x.shape, k, stride);
        Tensor xc = x.contiguousUnrecorded(), y = Tensor.uninitialized(x.dtype, ys);
        Tensor arg = Tensor.uninitialized(DType.FLOAT64, new int[] {ys[0], ys[1], ys[2] * ys[3]});
        int[] map = Conv.windowMap(x.shape[2], x.shape[3], k, stride, ys[2], ys[3]);
        forEachPlane(x.shape, ys, (p, in, out) -> {
            if (x.dtype == DType.FLOAT32) Conv.maxPool(x.shape[3], k, stride, ys[2], ys[3], xc.storage.floats, xc.offset + in, y.storage.floats, out, arg.storage.doubles);
            else Conv.maxPool(map, k * k, xc.storage.doubles, xc.offset + in, y.storage.doubles, out, arg.storage.doubles);
        });
        return new Pooled(y, arg);
    }

    /** The adjoint of maxPool2d: each g entry added at its window's saved argmax in a zero tensor of xShape. */
    static Tensor maxPool2dBackward(Tensor g, Tensor argmax, int[] xShape) {
        g.live();
        int[] gShape = g.shape;
        if (xShape.length != 4 || gShape.length != 4 || gShape[0] != xShape[0] || gShape[1] != xShape[1]
                || !Arrays.equals(argmax.shape, new int[] {gShape[0], gShape[1], gShape[2] * gShape[3]})) {
            throw new IllegalArgumentException("maxPool2dBackward: gradient " + Shapes.str(gShape) + ", indices "
                    + Shapes.str(argmax.shape) + " and input " + Shapes.str(xShape) + " do not fit");
        }
        Tensor gc = g.contiguousUnrecorded(), ac = argmax.contiguousUnrecorded(), dx = Tensor.zeros(g.dtype, xShape);
        int len = gShape[2] * gShape[3];
        forEachPlane(xShape, gShape, (p, in, out) -> {
            if (g.dtype == DType.FLOAT32) Conv.maxPoolBackward(ac.storage.doubles, ac.offset + out, len, gc.storage.floats, gc.offset + out, dx.storage.floats, in);
            else Conv.maxPoolBackward(ac.storage.doubles, ac.offset + out, len, gc.storage.doubles, gc.offset + out, dx.storage.doubles, in);
        });
        return dx;
    }

    // ---------------------------------------------------------------- helpers

    static int[] dropAxes(int[] shape, int[] axes) {
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

    // ---------------------------------------------------------------- losses

    /** The mean cross-entropy loss (0-D) and the softmax of the logits that its rows leave behind. */
    record SoftmaxAndLoss(Tensor softmax, Tensor loss) {}

    /**
     * Mean cross-entropy of logits z [B, C] against class indices y, row by row in float64 on the pool; the rows'
     * terms are summed in row order afterwards, so the bits do not depend on the number of threads.
     */
    static SoftmaxAndLoss crossEntropy(Tensor z, int[] y) {
        z.live();
        if (z.shape.length != 2) {
            throw new IllegalArgumentException("crossEntropy: logits must have shape [batch, classes], got " + Shapes.str(z.shape));
        }
        int b = z.shape[0], c = z.shape[1];
        if (y.length != b) {
            throw new IllegalArgumentException("crossEntropy: " + y.length + " labels for logits " + Shapes.str(z.shape)
                    + "; expected one label per row");
        }
        for (int r = 0; r < b; r++) {
            if (y[r] < 0 || y[r] >= c) {
                throw new IllegalArgumentException("crossEntropy: label " + y[r] + " at row " + r
                        + " is not a class index in [0, " + c + ")");
            }
        }
        Tensor zc = z.contiguousUnrecorded();
        Tensor p = Tensor.uninitialized(z.dtype, z.shape);
        double[] rowLoss = Storage.allocateUninitialized(DType.FLOAT64, b).doubles; // arena memory in a step
        Parallel.forRange(b, Math.max(1, LossKernels.CROSS_ENTROPY_GRAIN / c), (from, to) -> {
            if (z.dtype == DType.FLOAT32) LossKernels.crossEntropyRows(zc.storage.floats, zc.offset, p.storage.floats, from, to, c, y, rowLoss);
            else LossKernels.crossEntropyRows(zc.storage.doubles, zc.offset, p.storage.doubles, from, to, c, y, rowLoss);
        });
        double total = 0;
        for (int r = 0; r < b; r++) total += rowLoss[r];
        return new SoftmaxAndLoss(p, Tensor.full(z.dtype, total / b));
    }

    /** softmax − onehot(y), from the softmax rows p [B, C] (a copy; p is left as it is). */
    static Tensor minusOneHot(Tensor p, int[] y) {
        Tensor out = copy(p, p.dtype);
        if (out.dtype == DType.FLOAT32) LossKernels.subtractOneHot(out.storage.floats, p.shape[1], y);
        else LossKernels.subtractOneHot(out.storage.doubles, p.shape[1], y);
        return out;
    }

    /** 1/(2n)·Σ(a − t)², n the size of axis 0 (1 for a 0-D a), in a's dtype. */
    static Tensor quadraticCost(Tensor a, Tensor t) {
        sameShape("quadraticCost", a, t);
        int n = a.shape.length == 0 ? 1 : a.shape[0];
        DType dt = a.dtype == t.dtype ? a.dtype : DType.FLOAT64; // mixed: both widened exactly
        Tensor ac = a.dtype == dt ? a.contiguousUnrecorded() : copy(a, dt), tc = t.dtype == dt ? t.contiguousUnrecorded() : copy(t, dt);
        double sum = dt == DType.FLOAT32
                ? LossKernels.sumSquaredDifference(ac.storage.floats, ac.offset, tc.storage.floats, tc.offset, ac.numel())
                : LossKernels.sumSquaredDifference(ac.storage.doubles, ac.offset, tc.storage.doubles, tc.offset, ac.numel());
        return Tensor.scalar(sum / (2.0 * n), a.dtype);
    }

    /** mean(max(z, 0) − z·y + log(1 + exp(−|z|))) in the promoted dtype of z and y. */
    static Tensor binaryCrossEntropyWithLogits(Tensor z, Tensor y) {
        sameShape("binaryCrossEntropyWithLogits", z, y);
        DType dt = DType.promote(z.dtype, y.dtype);
        Tensor zc = z.dtype == dt ? z.contiguousUnrecorded() : copy(z, dt), yc = y.dtype == dt ? y.contiguousUnrecorded() : copy(y, dt);
        int n = zc.numel(), rowLength = z.shape.length == 0 ? 1 : z.shape[z.shape.length - 1];
        // The sum divided by n in the dtype, as sum().div(n) does.
        double mean = dt == DType.FLOAT32
                ? LossKernels.binaryCrossEntropyWithLogits(zc.storage.floats, zc.offset, yc.storage.floats, yc.offset, n, rowLength) / (float) n
                : LossKernels.binaryCrossEntropyWithLogits(zc.storage.doubles, zc.offset, yc.storage.doubles, yc.offset, n, rowLength) / n;
        return Tensor.scalar(mean, dt);
    }

    private static void sameShape(String op, Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape, b.shape)) {
            throw new IllegalArgumentException(op + ": input shape " + Shapes.str(a.shape) + " and target shape "
                    + Shapes.str(b.shape) + " differ");
        }
    }
}
