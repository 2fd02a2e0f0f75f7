package org.deltagrad;

/**
 * The flat heap array behind one or more tensors (views share it), with a version counter that
 * in-place writes bump so that backward can tell when a tensor it saved was modified.
 */
final class Storage {
    private static final java.util.concurrent.atomic.AtomicLong SERIALS = new java.util.concurrent.atomic.AtomicLong();

    final float[] f;
    final double[] d;
    int version;
    /** Allocation order: lets the backward sweep tell gradients it made itself from older tensors. */
    final long serial = SERIALS.incrementAndGet();

    Storage(float[] f) {
        this.f = f;
        this.d = null;
    }

    Storage(double[] d) {
        this.f = null;
        this.d = d;
    }

    /** The serial the next storage will get. */
    static long nextSerial() {
        return SERIALS.get() + 1;
    }

    static Storage allocate(DType dtype, int n) {
        return dtype == DType.FLOAT32 ? new Storage(new float[n]) : new Storage(new double[n]);
    }

    DType dtype() {
        return f != null ? DType.FLOAT32 : DType.FLOAT64;
    }

    double get(int i) {
        return f != null ? f[i] : d[i];
    }

    void set(int i, double v) {
        if (f != null) f[i] = (float) v; else d[i] = v;
    }

    int length() {
        return f != null ? f.length : d.length;
    }
}
