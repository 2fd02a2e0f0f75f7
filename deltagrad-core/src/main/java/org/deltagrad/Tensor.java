package org.deltagrad;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.deltagrad.autograd.Autograd;
import org.deltagrad.autograd.AutogradMeta;
import org.deltagrad.autograd.Node;
import org.deltagrad.kernels.Elementwise.Binary;
import org.deltagrad.kernels.Elementwise.Unary;
import org.deltagrad.kernels.FusedOptim;
import org.deltagrad.kernels.Parallel;

/**
 * An n-dimensional, row-major array of float32 or float64 numbers on the Java heap (garbage-collected,
 * nothing to close), and a variable of the computational graph: when it requires grad, every op on it
 * records a {@link Node} so that {@link #backward()} can apply the chain rule in reverse.
 *
 * <p>Ops follow NumPy/PyTorch names and broadcasting rules. Views (reshape of contiguous data, transpose,
 * permute, narrow, expand) share storage with their base; in-place writes bump a version counter that
 * backward checks.
 *
 * <p>Threads. Safe at the same time on several threads: ops that only read shared tensors (each thread
 * builds its own graph, even from shared parameters), and {@link #backward()} of such graphs into shared leaves:
 * adding into a leaf's {@link #grad()} is locked per leaf, so every thread's gradient arrives whole (in either
 * order: float sums may then differ in the last bit). Grad mode, anomaly detection and arena scopes belong to
 * one thread. Not safe: an in-place write ({@code addInPlace}, {@code fill}, {@code setGrad}, {@code zeroGrad},
 * an optimiser step) to a tensor that another thread reads or writes meanwhile, and two sweeps of one graph.
 */
public final class Tensor {
    final DType dtype;
    final int[] shape;
    final int[] strides;
    final int offset;
    final Storage storage;

    private final AutogradMeta autograd = new AutogradMeta();
    private boolean requiresGrad;
    private Tensor grad;

    Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        if (storage.released()) throw released();
        this.storage = storage;
        this.dtype = storage.dtype();
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ================================================================ factories

    /** A float64 tensor holding {@code data} (not copied) in row-major order. */
    public static Tensor of(double[] data, int... shape) {
        checkCount(data.length, shape);
        return new Tensor(new Storage(data), shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** A float32 tensor holding {@code data} (not copied) in row-major order. */
    public static Tensor of(float[] data, int... shape) {
        checkCount(data.length, shape);
        return new Tensor(new Storage(data), shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** A 0-dimensional float64 tensor. */
    public static Tensor scalar(double value) {
        return scalar(value, DType.FLOAT64);
    }

    public static Tensor scalar(double value, DType dtype) {
        return full(dtype, value);
    }

    /** An output buffer whose every element the caller writes before anything reads it (no zeroing in an arena). */
    static Tensor uninitialized(DType dtype, int[] shape) {
        return new Tensor(Storage.allocateUninitialized(dtype, checkedNumel(shape)), shape.clone(),
                Shapes.contiguousStrides(shape), 0);
    }

    private static int checkedNumel(int[] shape) {
        long n = Shapes.numel(shape);
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + Shapes.str(shape) + " is too large");
        return (int) n;
    }

    /** This tensor, after checking that its memory was not taken back by an {@link Arena} (for kernels' entry points). */
    Tensor live() {
        if (storage.released()) throw released();
        return this;
    }

    private static IllegalStateException released() {
        return new IllegalStateException("this tensor was created inside an Arena scope that has since closed, and its "
                + "memory went back to the arena; copy what you need before the scope closes, or create it with "
                + "Arena.outside(...)");
    }

    /** float32 zeros. */
    public static Tensor zeros(int... shape) {
        return zeros(DType.FLOAT32, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return new Tensor(Storage.allocate(dtype, checkedNumel(shape)), shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** float32 ones. */
    public static Tensor ones(int... shape) {
        return full(DType.FLOAT32, 1, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(dtype, 1, shape);
    }

    public static Tensor full(DType dtype, double value, int... shape) {
        Tensor t = zeros(dtype, shape);
        if (value != 0) {
            if (t.storage.floats != null) Arrays.fill(t.storage.floats, (float) value);
            else Arrays.fill(t.storage.doubles, value);
        }
        return t;
    }

    /** float32 [0, 1, ..., n-1]. */
    public static Tensor arange(int n) {
        return arange(DType.FLOAT32, 0, n, 1);
    }

    /** start, start+step, ... below end (above end for a negative step). */
    public static Tensor arange(DType dtype, double start, double end, double step) {
        if (step == 0 || Double.isNaN(step)) throw new IllegalArgumentException("arange: step must be non-zero");
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        Tensor t = zeros(dtype, new int[] {n});
        for (int i = 0; i < n; i++) t.storage.set(i, start + i * step);
        return t;
    }

    /** Uniform on [0, 1), float32, from a seeded generator (same seed, same numbers on every JVM). */
    public static Tensor rand(long seed, int... shape) {
        return rand(DType.FLOAT32, new SplittableRandom(seed), shape);
    }

    public static Tensor rand(DType dtype, SplittableRandom rng, int... shape) {
        Tensor t = zeros(dtype, shape);
        for (int i = 0, n = t.numel(); i < n; i++) t.storage.set(i, rng.nextDouble());
        return t;
    }

    /** Standard normal, float32, from a seeded generator (same seed, same numbers on every JVM). */
    public static Tensor randn(long seed, int... shape) {
        return randn(DType.FLOAT32, new SplittableRandom(seed), shape);
    }

    /** Standard normal by the Box–Muller transform, which (unlike nextGaussian) is fixed by this code. */
    public static Tensor randn(DType dtype, SplittableRandom rng, int... shape) {
        Tensor t = zeros(dtype, shape);
        int n = t.numel();
        for (int i = 0; i < n; i += 2) {
            double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            t.storage.set(i, r * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) t.storage.set(i + 1, r * Math.sin(2 * Math.PI * u2));
        }
        return t;
    }

    private static void checkCount(int length, int[] shape) {
        long n = Shapes.numel(shape);
        if (n != length) {
            throw new IllegalArgumentException("Tensor.of: " + length + " values do not fill shape "
                    + Arrays.toString(shape) + " (" + n + " elements)");
        }
    }

    // ================================================================ inspection

    public int[] shape() {
        return shape.clone();
    }

    /** Size along one axis (negative counts from the end). */
    public int shape(int axis) {
        return shape[Shapes.axis("shape", axis, shape.length)];
    }

    public int rank() {
        return shape.length;
    }

    public DType dtype() {
        return dtype;
    }

    public int numel() {
        return (int) Shapes.numel(shape);
    }

    public boolean isContiguous() {
        return Shapes.isContiguous(shape, strides);
    }

    /** How many times this tensor's storage has been written in place. */
    public int version() {
        return storage.version;
    }

    /** A copy of the elements in row-major order, as doubles. */
    public double[] toDoubleArray() {
        live();
        if (storage.doubles != null && offset == 0 && isContiguous() && storage.doubles.length == numel()) return storage.doubles.clone();
        double[] out = new double[numel()];
        Shapes.forEachOffset(shape, strides, offset, (i, off) -> out[i] = storage.get(off));
        return out;
    }

    /** A copy of the elements in row-major order, as floats. */
    public float[] toFloatArray() {
        live();
        if (storage.floats != null && offset == 0 && isContiguous() && storage.floats.length == numel()) return storage.floats.clone();
        float[] out = new float[numel()];
        Shapes.forEachOffset(shape, strides, offset, (i, off) -> out[i] = (float) storage.get(off));
        return out;
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new IllegalStateException("item: only a one-element tensor has an item; this one has shape " + Shapes.str(shape));
        }
        return live().storage.get(offset);
    }

    /** The element at the given index (one coordinate per axis). */
    public double get(int... index) {
        return storage.get(flatOffset("get", index));
    }

    private int flatOffset(String op, int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(op + ": " + index.length + " indices for a tensor of shape " + Shapes.str(shape));
        }
        int off = offset;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException(op + ": index " + index[d] + " out of range for axis " + d + " of shape " + Shapes.str(shape));
            }
            off += index[d] * strides[d];
        }
        return off;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("tensor(");
        if (numel() <= 64) {
            double[] v = toDoubleArray();
            format(sb, v, 0, 0);
        } else {
            sb.append("...");
        }
        sb.append(", shape=").append(Shapes.str(shape)).append(", dtype=").append(dtype.name().toLowerCase());
        if (gradFn() != null) sb.append(", gradFn=").append(gradFn().name());
        else if (requiresGrad) sb.append(", requiresGrad=true");
        return sb.append(')').toString();
    }

    private int format(StringBuilder sb, double[] v, int axis, int at) {
        if (axis == shape.length) {
            sb.append(dtype == DType.FLOAT32 ? Float.toString((float) v[at]) : Double.toString(v[at]));
            return at + 1;
        }
        sb.append('[');
        for (int i = 0; i < shape[axis]; i++) {
            if (i > 0) sb.append(", ");
            at = format(sb, v, axis + 1, at);
        }
        sb.append(']');
        return at;
    }

    // ================================================================ autograd

    /** Marks a leaf as a variable to differentiate with respect to. Returns this. */
    public Tensor requiresGrad(boolean requires) {
        if (gradFn() != null && !requires) {
            throw new IllegalStateException("requiresGrad(false) on a tensor computed by '" + gradFn().name()
                    + "'; use detach() to get a tensor outside the graph");
        }
        this.requiresGrad = requires || gradFn() != null;
        return this;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** The node that computed this tensor (null for leaves and for tensors computed without grad). */
    public Node gradFn() {
        return autograd.gradFn();
    }

    /** This tensor's link into the graph: opaque, only {@code org.deltagrad.autograd} reads or sets what it holds. */
    public AutogradMeta autogradMeta() {
        return autograd;
    }

    public boolean isLeaf() {
        return gradFn() == null;
    }

    /** The accumulated gradient of a leaf (null until a backward reaches it). */
    public Tensor grad() {
        return grad;
    }

    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape, shape)) {
            throw new IllegalArgumentException("setGrad: gradient shape " + Shapes.str(g.shape) + " differs from tensor shape " + Shapes.str(shape));
        }
        this.grad = g;
    }

    /**
     * Clears the accumulated gradient (to null, like PyTorch's {@code set_to_none}): the next backward then
     * hands the leaf a copy of the gradient it computes instead of adding it into a zeroed buffer.
     */
    public void zeroGrad() {
        grad = null;
    }

    /** Backpropagates from this scalar: every leaf that requires grad gets d(this)/d(leaf) added to grad(). */
    public void backward() {
        Autograd.backward(this, null, false, false, null);
    }

    /** Backpropagates from a non-scalar output, seeded with d(loss)/d(this) = gradOutput. */
    public void backward(Tensor gradOutput) {
        Autograd.backward(this, gradOutput, false, false, null);
    }

    /**
     * @param retainGraph keep the saved tensors so the graph can be swept again
     * @param createGraph record the backward pass as a graph, so the gradients can be differentiated again
     */
    public void backward(Tensor gradOutput, boolean retainGraph, boolean createGraph) {
        Autograd.backward(this, gradOutput, retainGraph, createGraph, null);
    }

    /** The same data, outside the graph: no gradient flows through the result. */
    public Tensor detach() {
        return new Tensor(storage, shape, strides, offset);
    }

    // ================================================================ in-place writes (not differentiable)

    /** Refuses an in-place write to a tensor in the graph, and bumps the version counter backward checks. */
    void checkInPlace(String op) {
        if (requiresGrad && Autograd.isGradEnabled()) {
            throw new IllegalStateException(op + ": in-place write to a tensor that requires grad (it is part of the graph); "
                    + "do it inside Autograd.noGrad(), e.g. for an optimiser step, or on a copy");
        }
        storage.version++;
    }

    /** this += other (broadcast to this shape). */
    public Tensor addInPlace(Tensor other) {
        return addInPlace(other, 1);
    }

    /** this += alpha · other (broadcast to this shape): gradient accumulation and the optimisers' update. */
    public Tensor addInPlace(Tensor other, double alpha) {
        if (Arrays.equals(other.shape, shape) && other.dtype == dtype && isContiguous() && other.isContiguous()) {
            checkInPlace("addInPlace");
            Storage x = storage, y = other.storage;
            int xo = offset, yo = other.offset;
            Parallel.forRange(numel(), TensorKernels.ELEMENTWISE_GRAIN, (from, to) -> {
                if (x.floats != null) FusedOptim.axpy(x.floats, xo + from, y.floats, yo + from, to - from, alpha);
                else FusedOptim.axpy(x.doubles, xo + from, y.doubles, yo + from, to - from, alpha);
            });
            return this;
        }
        checkInPlace("addInPlace");
        Tensor src = alpha == 1 ? other : TensorKernels.binary("mul", Binary.MUL, other, scalar(alpha, other.dtype));
        Tensor sum = TensorKernels.binary("add", Binary.ADD, this, src);
        if (!Arrays.equals(sum.shape, shape)) {
            throw new IllegalArgumentException("addInPlace: shape " + Shapes.str(other.shape) + " does not broadcast to " + Shapes.str(shape));
        }
        TensorKernels.copyInto(sum, this);
        return this;
    }

    /** this *= factor. */
    public Tensor mulInPlace(double factor) {
        checkInPlace("mulInPlace");
        TensorKernels.copyInto(TensorKernels.binary("mul", Binary.MUL, this, scalar(factor, dtype)), this);
        return this;
    }

    /** Copies src (broadcast to this shape, converted to this dtype) into this tensor. */
    public Tensor copyFrom(Tensor src) {
        checkInPlace("copyFrom");
        if (!Arrays.equals(Shapes.broadcast("copyFrom", src.shape, shape), shape)) {
            throw new IllegalArgumentException("copyFrom: shape " + Shapes.str(src.shape) + " does not broadcast to " + Shapes.str(shape));
        }
        TensorKernels.copyInto(src, this);
        return this;
    }

    public Tensor fill(double value) {
        if (isContiguous()) {
            checkInPlace("fill");
            int n = numel();
            if (storage.floats != null) Arrays.fill(storage.floats, offset, offset + n, (float) value);
            else Arrays.fill(storage.doubles, offset, offset + n, value);
            return this;
        }
        return copyFrom(scalar(value, dtype));
    }

    /** Sets one element. */
    public Tensor set(double value, int... index) {
        checkInPlace("set");
        storage.set(flatOffset("set", index), value);
        return this;
    }

    // ================================================================ element-wise ops

    public Tensor add(Tensor other) { return Ops.add(this, other); }
    public Tensor sub(Tensor other) { return Ops.sub(this, other); }
    public Tensor mul(Tensor other) { return Ops.mul(this, other); }
    public Tensor div(Tensor other) { return Ops.div(this, other); }
    public Tensor pow(Tensor exponent) { return Ops.pow(this, exponent); }

    public Tensor add(double v) { return Ops.add(this, scalar(v, dtype)); }
    public Tensor sub(double v) { return Ops.sub(this, scalar(v, dtype)); }
    public Tensor mul(double v) { return Ops.mul(this, scalar(v, dtype)); }
    public Tensor div(double v) { return Ops.div(this, scalar(v, dtype)); }
    public Tensor pow(double p) { return Ops.pow(this, p); }

    public Tensor neg() { return Ops.neg(this); }
    public Tensor exp() { return Ops.exp(this); }
    public Tensor log() { return Ops.log(this); }
    public Tensor sqrt() { return Ops.sqrt(this); }
    public Tensor abs() { return Ops.abs(this); }
    public Tensor tanh() { return Ops.tanh(this); }
    public Tensor sigmoid() { return Ops.sigmoid(this); }
    public Tensor relu() { return Ops.relu(this); }
    public Tensor sin() { return Ops.sin(this); }
    public Tensor cos() { return Ops.cos(this); }
    public Tensor square() { return Ops.pow(this, 2); }
    public Tensor erf() { return Ops.erf(this); }

    /** Rounded down; piecewise constant, so its gradient is 0 (as in PyTorch). */
    public Tensor floor() { return Ops.floor(this); }

    /** Rounded to the nearest integer, halves to even (as PyTorch's round); its gradient is 0. */
    public Tensor round() { return Ops.round(this); }

    /** GELU in its exact form x·Φ(x) = x/2·(1 + erf(x/√2)), PyTorch's default. */
    public Tensor gelu() {
        return gelu("none");
    }

    /** GELU as PyTorch's F.gelu(x, approximate=...): "none" (exact, with erf) or "tanh". */
    public Tensor gelu(String approximate) {
        switch (approximate) {
            case "none":
                return mul(div(Math.sqrt(2)).erf().add(1)).mul(0.5);
            case "tanh":
                // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                return mul(add(pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1)).mul(0.5);
            default:
                throw new IllegalArgumentException("gelu: approximate must be \"none\" or \"tanh\", got \"" + approximate + "\"");
        }
    }

    /** Clamps every element into [lo, hi]. */
    public Tensor clamp(double lo, double hi) {
        if (lo > hi) throw new IllegalArgumentException("clamp: lo " + lo + " is greater than hi " + hi);
        return Ops.clamp(this, lo, hi);
    }

    /** Element-wise larger of the two, broadcast; at a tie each gets half the gradient (as in PyTorch). */
    public Tensor maximum(Tensor other) {
        return Ops.maximum(this, other, true);
    }

    /** Element-wise smaller of the two, broadcast; at a tie each gets half the gradient (as in PyTorch). */
    public Tensor minimum(Tensor other) {
        return Ops.maximum(this, other, false);
    }

    /** Picks a where cond ≠ 0, else b (all three broadcast together). */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return Ops.where(cond, a, b);
    }

    /** The sign (−1, 0, 1); a constant (no gradient). */
    public Tensor sign() { return TensorKernels.unary(Unary.SIGN, this); }


    // Comparisons give 1 or 0 in this tensor's (promoted) dtype; they are constants (no gradient).
    public Tensor gt(Tensor o) { return TensorKernels.binary("gt", Binary.GT, this, o); }
    public Tensor lt(Tensor o) { return TensorKernels.binary("lt", Binary.LT, this, o); }
    public Tensor ge(Tensor o) { return TensorKernels.binary("ge", Binary.GE, this, o); }
    public Tensor le(Tensor o) { return TensorKernels.binary("le", Binary.LE, this, o); }
    public Tensor eq(Tensor o) { return TensorKernels.binary("eq", Binary.EQ, this, o); }
    public Tensor ne(Tensor o) { return TensorKernels.binary("ne", Binary.NE, this, o); }
    public Tensor gt(double v) { return gt(scalar(v, dtype)); }
    public Tensor lt(double v) { return lt(scalar(v, dtype)); }
    public Tensor ge(double v) { return ge(scalar(v, dtype)); }
    public Tensor le(double v) { return le(scalar(v, dtype)); }
    public Tensor eq(double v) { return eq(scalar(v, dtype)); }
    public Tensor ne(double v) { return ne(scalar(v, dtype)); }

    /** Converts to another dtype (differentiable; the gradient converts back). */
    public Tensor to(DType type) { return Ops.to(this, type); }

    /** A contiguous copy in the graph (PyTorch's clone). */
    public Tensor copy() { return Ops.copy(this); }

    /** This tensor if already contiguous, else a contiguous copy (differentiable). */
    public Tensor contiguous() {
        return isContiguous() ? this : Ops.copy(this);
    }

    /** Contiguous data for a kernel, without recording anything. */
    Tensor contiguousUnrecorded() {
        live();
        return isContiguous() ? this : TensorKernels.copy(this, dtype);
    }

    // ================================================================ reductions

    /** Sum of all elements (0-dimensional). */
    public Tensor sum() {
        int[] axes = new int[shape.length];
        for (int i = 0; i < axes.length; i++) axes[i] = i;
        return Ops.sum(this, axes, false);
    }

    public Tensor sum(int axis, boolean keepDim) {
        return sum(new int[] {axis}, keepDim);
    }

    public Tensor sum(int[] axes, boolean keepDim) {
        return Ops.sum(this, resolveAxes("sum", axes), keepDim);
    }

    public Tensor mean() {
        return sum().div(numel());
    }

    public Tensor mean(int axis, boolean keepDim) {
        return sum(axis, keepDim).div(shape(axis));
    }

    /** Largest element (0-dimensional); k tied largest each get 1/k of the gradient (PyTorch's max()). */
    public Tensor max() {
        return reshape(-1).max(0, false);
    }

    /** Largest along an axis; k tied largest of a slice each get 1/k of its gradient (PyTorch's amax). */
    public Tensor max(int axis, boolean keepDim) {
        return Ops.amax(this, Shapes.axis("max", axis, shape.length), keepDim, true);
    }

    /** Smallest element (0-dimensional); ties split the gradient evenly, as in {@link #max()}. */
    public Tensor min() {
        return reshape(-1).min(0, false);
    }

    /** Smallest along an axis; ties split the gradient evenly, as in {@link #max(int, boolean)}. */
    public Tensor min(int axis, boolean keepDim) {
        return Ops.amax(this, Shapes.axis("min", axis, shape.length), keepDim, false);
    }

    /** Product of all elements (0-dimensional); correct gradients with zeros present, as in PyTorch. */
    public Tensor prod() {
        return reshape(-1).prod(0, false);
    }

    /** Products along an axis; a lone zero of a slice gets the product of the others, several zeros give 0. */
    public Tensor prod(int axis, boolean keepDim) {
        return Ops.prod(this, Shapes.axis("prod", axis, shape.length), keepDim);
    }

    /** log Σ exp(x) along axis, shifted by the maximum so that large inputs do not overflow (PyTorch's logsumexp). */
    public Tensor logsumexp(int axis, boolean keepDim) {
        int a = Shapes.axis("logsumexp", axis, shape.length);
        Tensor m = max(a, true).detach();
        // An infinite maximum (all −∞, or a +∞) would give ∞ − ∞; shift by 0 there, as PyTorch does.
        m = where(m.abs().eq(Double.POSITIVE_INFINITY), scalar(0, m.dtype), m);
        Tensor out = sub(m).exp().sum(a, true).log().add(m);
        return keepDim ? out : out.squeeze(a);
    }

    /** Running sums along axis (PyTorch's cumsum). */
    public Tensor cumsum(int axis) {
        return Ops.cumsum(this, Shapes.axis("cumsum", axis, shape.length));
    }

    /** Index of the largest entry along axis, as a (constant) tensor of this dtype. */
    public Tensor argmax(int axis, boolean keepDim) {
        Tensor i = TensorKernels.argExtreme(this, axis, true);
        return keepDim ? i : i.reshapeView(squeezedShape(Shapes.axis("argmax", axis, shape.length)));
    }

    /** Sums a broadcast result back to {@code target} (the reduction the engine applies to broadcast gradients). */
    public Tensor sumToShape(int... target) {
        if (Arrays.equals(shape, target)) return this;
        int lead = shape.length - target.length;
        if (lead < 0) throw new IllegalArgumentException("sumToShape: cannot reduce " + Shapes.str(shape) + " to " + Shapes.str(target));
        int[] axes = new int[shape.length];
        int k = 0;
        for (int d = 0; d < shape.length; d++) {
            if (d < lead || (target[d - lead] == 1 && shape[d] != 1)) axes[k++] = d;
            else if (target[d - lead] != shape[d]) {
                throw new IllegalArgumentException("sumToShape: cannot reduce " + Shapes.str(shape) + " to " + Shapes.str(target));
            }
        }
        Tensor s = k == 0 ? this : Ops.sum(this, Arrays.copyOf(axes, k), true);
        return s.reshape(target);
    }

    private int[] resolveAxes(String op, int[] axes) {
        int[] out = new int[axes.length];
        boolean[] seen = new boolean[shape.length];
        for (int i = 0; i < axes.length; i++) {
            out[i] = Shapes.axis(op, axes[i], shape.length);
            if (seen[out[i]]) throw new IllegalArgumentException(op + ": axis " + out[i] + " given twice");
            seen[out[i]] = true;
        }
        return out;
    }

    // ================================================================ shapes and indexing

    /** Same data, new shape (one -1 is inferred); a view when the data is contiguous. */
    public Tensor reshape(int... newShape) {
        int[] s = inferShape(newShape);
        if (Arrays.equals(s, shape)) return this;
        return Ops.reshape(this, s);
    }

    private int[] inferShape(int[] newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: only one -1 allowed in " + Arrays.toString(newShape));
                infer = i;
            } else {
                known *= s[i];
            }
        }
        long n = Shapes.numel(shape);
        if (infer >= 0 && known != 0) s[infer] = (int) (n / known);
        if (Shapes.numel(s) != n || (infer >= 0 && known == 0)) {
            throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.str(shape) + " (" + n + " elements) to "
                    + Arrays.toString(newShape));
        }
        return s;
    }

    /** A view of contiguous data with a new shape (no graph). */
    Tensor reshapeView(int[] newShape) {
        return new Tensor(storage, newShape.clone(), Shapes.contiguousStrides(newShape), offset);
    }

    /** A view of a narrowed range (no graph). */
    Tensor narrowView(int axis, int start, int length) {
        int[] s = shape.clone();
        s[axis] = length;
        return new Tensor(storage, s, strides, offset + start * strides[axis]);
    }

    public Tensor flatten() {
        return reshape(-1);
    }

    /** Swaps two axes (a view). */
    public Tensor transpose(int a, int b) {
        int rank = shape.length;
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        int x = Shapes.axis("transpose", a, rank), y = Shapes.axis("transpose", b, rank);
        perm[x] = y;
        perm[y] = x;
        return x == y ? this : Ops.permute(this, perm);
    }

    /** The transpose of a matrix. */
    public Tensor t() {
        if (shape.length != 2) throw new IllegalStateException("t: expects a 2-D tensor, got shape " + Shapes.str(shape));
        return transpose(0, 1);
    }

    public Tensor permute(int... axes) {
        return Ops.permute(this, axes);
    }

    /** Inserts an axis of size 1. */
    public Tensor unsqueeze(int axis) {
        int a = Shapes.axis("unsqueeze", axis, shape.length + 1);
        int[] s = new int[shape.length + 1];
        for (int i = 0, k = 0; i < s.length; i++) s[i] = i == a ? 1 : shape[k++];
        return reshape(s);
    }

    /** Removes an axis of size 1. */
    public Tensor squeeze(int axis) {
        int a = Shapes.axis("squeeze", axis, shape.length);
        if (shape[a] != 1) throw new IllegalArgumentException("squeeze: axis " + a + " has size " + shape[a] + ", not 1");
        return reshape(squeezedShape(a));
    }

    private int[] squeezedShape(int a) {
        int[] s = new int[shape.length - 1];
        for (int i = 0, k = 0; i < shape.length; i++) if (i != a) s[k++] = shape[i];
        return s;
    }

    /** A view repeating size-1 axes to {@code shape} (broadcasting). */
    public Tensor expand(int... newShape) {
        return Ops.expand(this, newShape);
    }

    /** {@code length} entries along {@code axis} from {@code start} (a view). */
    public Tensor narrow(int axis, int start, int length) {
        return Ops.narrow(this, axis, start, length);
    }

    /** Entries [start, end) along axis (a view). */
    public Tensor slice(int axis, int start, int end) {
        return narrow(axis, start, end - start);
    }

    /**
     * Entries start, start + step, … before end along axis, as a view (Python's x[start:end:step]): negative start
     * and end count from the end, both are clamped to the axis, and step must be positive.
     */
    public Tensor slice(int axis, int start, int end, int step) {
        int a = Shapes.axis("slice", axis, shape.length), n = shape[a];
        if (step <= 0) throw new IllegalArgumentException("slice: step must be positive, got " + step + " (shape " + Shapes.str(shape) + ")");
        int s = Math.min(n, Math.max(0, start < 0 ? start + n : start)), e = Math.min(n, Math.max(0, end < 0 ? end + n : end));
        return Ops.slice(this, a, s, Math.max(s, e), step);
    }

    /** Reversed along each of the given axes (PyTorch's flip). */
    public Tensor flip(int... axes) {
        int[] resolved = resolveAxes("flip", axes);
        return resolved.length == 0 ? this : Ops.flip(this, resolved);
    }

    /**
     * Tiled reps[i] times along axis i (PyTorch's Tensor.repeat): reps has at least rank entries, and a longer reps
     * adds leading axes. Expanded from a view and copied, so the gradient sums over the tiles.
     */
    public Tensor repeat(int... reps) {
        if (reps.length < shape.length) {
            throw new IllegalArgumentException("repeat: " + reps.length + " repetitions given for a tensor of shape "
                    + Shapes.str(shape) + "; need at least " + shape.length);
        }
        int lead = reps.length - shape.length;
        int[] padded = new int[reps.length], pairs = new int[2 * reps.length], tiles = new int[2 * reps.length], out = new int[reps.length];
        for (int i = 0; i < reps.length; i++) {
            if (reps[i] < 0) throw new IllegalArgumentException("repeat: negative repetition " + reps[i] + " in " + Arrays.toString(reps));
            padded[i] = i < lead ? 1 : shape[i - lead];
            pairs[2 * i] = 1;
            pairs[2 * i + 1] = padded[i];
            tiles[2 * i] = reps[i];
            tiles[2 * i + 1] = padded[i];
            out[i] = reps[i] * padded[i];
        }
        return reshape(pairs).expand(tiles).contiguous().reshape(out);
    }

    /** Picks entries along {@code axis} at the integer positions held in {@code index} (PyTorch's gather). */
    public Tensor gather(int axis, Tensor index) {
        return Ops.gather(this, axis, index);
    }

    /** Zeros of {@code shape} with {@code this} added at {@code index} along {@code axis}; the adjoint of gather. */
    public Tensor scatterAdd(int axis, Tensor index, int... targetShape) {
        return Ops.scatterAdd(this, Shapes.axis("scatterAdd", axis, targetShape.length), index, targetShape);
    }

    public static Tensor concat(List<Tensor> tensors, int axis) {
        return Ops.concat(tensors, axis);
    }

    public static Tensor concat(int axis, Tensor... tensors) {
        return Ops.concat(List.of(tensors), axis);
    }

    /** Joins equally shaped tensors along a new axis. */
    public static Tensor stack(List<Tensor> tensors, int axis) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("stack: no tensors given");
        int a = Shapes.axis("stack", axis, tensors.get(0).shape.length + 1);
        Tensor[] parts = new Tensor[tensors.size()];
        for (int i = 0; i < parts.length; i++) {
            if (!Arrays.equals(tensors.get(i).shape, tensors.get(0).shape)) {
                throw new IllegalArgumentException("stack: shapes " + Shapes.str(tensors.get(0).shape) + " and "
                        + Shapes.str(tensors.get(i).shape) + " differ");
            }
            parts[i] = tensors.get(i).unsqueeze(a);
        }
        return Ops.concat(List.of(parts), a);
    }

    // ================================================================ linear algebra

    /**
     * Matrix product with NumPy's rules: 2-D × 2-D, batched over leading axes (broadcast), and 1-D operands
     * promoted to a row (left) or column (right) vector and squeezed again.
     */
    public Tensor matmul(Tensor other) {
        if (shape.length == 0 || other.shape.length == 0) {
            throw new IllegalArgumentException("matmul: scalars are not matrices (shapes " + Shapes.str(shape) + " and "
                    + Shapes.str(other.shape) + "); use mul");
        }
        Tensor a = shape.length == 1 ? unsqueeze(0) : this;
        Tensor b = other.shape.length == 1 ? other.unsqueeze(1) : other;
        if (a.shape[a.shape.length - 1] != b.shape[b.shape.length - 2]) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(shape) + " and " + Shapes.str(other.shape)
                    + " are not aligned (" + a.shape[a.shape.length - 1] + " vs " + b.shape[b.shape.length - 2] + ")");
        }
        Tensor out = Ops.matmul(a, b);
        if (other.shape.length == 1) out = out.squeeze(-1);
        if (shape.length == 1) out = out.squeeze(out.shape.length == 1 ? 0 : -2);
        return out;
    }

    /**
     * Mean cross-entropy of these logits [batch, classes] against one class index per row (PyTorch's
     * F.cross_entropy with integer targets): a fused, numerically stable primitive whose gradient is
     * (softmax − onehot)/batch, differentiable again for higher derivatives.
     */
    public Tensor crossEntropy(int[] labels) {
        return Ops.crossEntropy(this, labels);
    }

    /** Nielsen's quadratic cost 1/(2n)·Σ(this − target)², n the batch (axis 0; 1 for a 0-D tensor), as one op. */
    public Tensor quadraticCost(Tensor target) {
        return Ops.quadraticCost(this, target);
    }

    /**
     * Mean binary cross-entropy of these logits against targets in [0, 1] of the same shape, as one op: stable
     * for large logits and with the exact gradient σ(z) − y everywhere (PyTorch's binary_cross_entropy_with_logits).
     */
    public Tensor binaryCrossEntropyWithLogits(Tensor target) {
        return Ops.binaryCrossEntropyWithLogits(this, target);
    }

    /** {@code conv2d(weight, null, 1, 0)}. */
    public Tensor conv2d(Tensor weight) {
        return conv2d(weight, null, 1, 0);
    }

    /**
     * 2-D convolution (cross-correlation) exactly as PyTorch's F.conv2d: this [N, C, H, W], weight [out, C, kH, kW],
     * bias [out] or null; the output is [N, out, (H + 2p − kH)/s + 1, (W + 2p − kW)/s + 1] (floored).
     */
    public Tensor conv2d(Tensor weight, Tensor bias, int stride, int padding) {
        return Ops.conv2d(this, weight, bias, stride, padding);
    }

    /** {@code maxPool2d(kernel, kernel)}. */
    public Tensor maxPool2d(int kernel) {
        return maxPool2d(kernel, kernel);
    }

    /** PyTorch's max_pool2d over [N, C, H, W] with a square window, no padding; the gradient goes to the first max. */
    public Tensor maxPool2d(int kernel, int stride) {
        return Ops.maxPool2d(this, kernel, stride);
    }

    /** {@code avgPool2d(kernel, kernel)}. */
    public Tensor avgPool2d(int kernel) {
        return avgPool2d(kernel, kernel);
    }

    /** PyTorch's avg_pool2d over [N, C, H, W] with a square window, no padding. */
    public Tensor avgPool2d(int kernel, int stride) {
        return Ops.avgPool2d(this, kernel, stride);
    }

    /**
     * A fully connected layer, this·weightᵀ + bias, for this [..., in], weight [out, in] and bias [out] (or null):
     * PyTorch's F.linear, as one GEMM and then the bias added to each row.
     */
    public Tensor linear(Tensor weight, Tensor bias) {
        if (shape.length == 2) return Ops.linear(this, weight, bias);
        if (shape.length == 0) throw new IllegalArgumentException("linear: input must have at least one dimension");
        int[] outShape = shape.clone();
        outShape[outShape.length - 1] = weight.shape[0];
        return Ops.linear(reshape(-1, shape[shape.length - 1]), weight, bias).reshape(outShape);
    }

    // ================================================================ composites for learning

    /** exp(x)/Σexp(x) along axis, computed stably by subtracting the (constant) maximum first. */
    public Tensor softmax(int axis) {
        return logSoftmax(axis).exp();
    }

    /** x − log Σexp(x) along axis, stable for large inputs. */
    public Tensor logSoftmax(int axis) {
        Tensor shifted = sub(max(axis, true).detach());
        return shifted.sub(shifted.exp().sum(axis, true).log());
    }
}
