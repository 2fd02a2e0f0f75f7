package org.deltagrad;

/**
 * The array behind a whole float32 tensor, for compiled code that runs kernels on a tensor's memory directly (the
 * training step in {@code org.deltagrad.train.step}, which writes weight updates with a GEMM). Everything else goes
 * through {@link Tensor}'s ops; such writes bypass the graph, so they belong outside it, as an optimiser's step does.
 */
public final class TensorMemory {
    private TensorMemory() {}

    /**
     * The float32 array holding exactly the elements of {@code t} in row-major order (a contiguous tensor at offset 0
     * that spans its whole array, as parameters and the tensors made by {@code Tensor.of} and the ops are), to read.
     */
    public static float[] floats(Tensor t) {
        t.live();
        if (t.dtype != DType.FLOAT32 || !t.isContiguous() || t.offset != 0 || t.storage.floats.length != t.numel()) {
            throw new IllegalArgumentException("TensorMemory.floats: needs a contiguous float32 tensor that spans its array, got "
                    + Shapes.str(t.shape) + " " + t.dtype + (t.offset != 0 ? " at offset " + t.offset : "")
                    + (t.isContiguous() ? "" : " (not contiguous)"));
        }
        return t.storage.floats;
    }

    /** {@link #floats}, to write: counts as an in-place write, so a graph that saved {@code t} refuses to use it. */
    public static float[] floatsToWrite(Tensor t) {
        float[] f = floats(t);
        t.storage.version++;
        return f;
    }
}
