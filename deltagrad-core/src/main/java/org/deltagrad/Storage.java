package org.deltagrad;

/**
 * The flat heap array behind one or more tensors (views share it), with a version counter that
 * in-place writes bump so that backward can tell when a tensor it saved was modified.
 */
final class Storage {
    /** The elements; after {@link #release()} an empty array of the same type (see {@link Arena}). */
    float[] floats;
    double[] doubles;
    int version;

    Storage(float[] floats) {
        this.floats = floats;
        this.doubles = null;
    }

    Storage(double[] doubles) {
        this.floats = null;
        this.doubles = doubles;
    }

    /** n zeros: from the thread's open {@link Arena} scope if there is one, else newly allocated. */
    static Storage allocate(DType dtype, int n) {
        Storage s = Arena.take(dtype, n, true);
        if (s != null) return s;
        return dtype == DType.FLOAT32 ? new Storage(new float[n]) : new Storage(new double[n]);
    }

    /** n elements the caller will overwrite, every one of them, before anything reads them. */
    static Storage allocateUninitialized(DType dtype, int n) {
        Storage s = Arena.take(dtype, n, false);
        if (s != null) return s;
        return dtype == DType.FLOAT32 ? new Storage(new float[n]) : new Storage(new double[n]);
    }

    private static final float[] RELEASED_F = new float[0];
    private static final double[] RELEASED_D = new double[0];

    /** Detaches the array (its arena scope closed and will hand it out again). */
    void release() {
        if (floats != null) floats = RELEASED_F; else doubles = RELEASED_D;
    }

    boolean released() {
        return floats == RELEASED_F || doubles == RELEASED_D;
    }

    DType dtype() {
        return floats != null ? DType.FLOAT32 : DType.FLOAT64;
    }

    double get(int i) {
        return floats != null ? floats[i] : doubles[i];
    }

    void set(int i, double v) {
        if (floats != null) floats[i] = (float) v; else doubles[i] = v;
    }

}
