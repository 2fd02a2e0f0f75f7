package org.deltagrad;

import java.util.Arrays;

/**
 * An n-dimensional array of float32 or float64 numbers on the Java heap, and a node of the
 * computational graph when it requires grad. (Skeleton: the full op set lands with the core engine.)
 */
public final class Tensor {
    final DType dtype;
    final int[] shape;
    final int[] strides;
    final int offset;
    final Storage storage;

    Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        this.storage = storage;
        this.dtype = storage.dtype();
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

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

    private static void checkCount(int length, int[] shape) {
        long n = Shapes.numel(shape);
        if (n != length) {
            throw new IllegalArgumentException("Tensor.of: " + length + " values do not fill shape "
                    + Arrays.toString(shape) + " (" + n + " elements)");
        }
    }

    public int[] shape() {
        return shape.clone();
    }

    public DType dtype() {
        return dtype;
    }

    public int numel() {
        return (int) Shapes.numel(shape);
    }

    /** A copy of the elements in row-major order, as doubles. */
    public double[] toDoubleArray() {
        double[] out = new double[numel()];
        Shapes.forEachOffset(shape, strides, offset, (i, off) -> out[i] = storage.get(off));
        return out;
    }

    /** A copy of the elements in row-major order, as floats. */
    public float[] toFloatArray() {
        float[] out = new float[numel()];
        Shapes.forEachOffset(shape, strides, offset, (i, off) -> out[i] = (float) storage.get(off));
        return out;
    }
}
