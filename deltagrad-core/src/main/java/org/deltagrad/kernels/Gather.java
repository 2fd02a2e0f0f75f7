package org.deltagrad.kernels;

/** Copies of scattered rows of a row-major table: a data set's rows into a batch. */
public final class Gather {
    private Gather() {}

    /**
     * Copies the rows {@code rows[from..to)} of the row-major table {@code source} ({@code width} columns) into rows
     * {@code from..to} of the row-major {@code out} ({@code width} columns, at least {@code to} rows). Row indices
     * are checked; pieces of one batch can be gathered on several threads at once.
     */
    public static void rows(float[] source, int width, int[] rows, int from, int to, float[] out) {
        if (width <= 0) throw new IllegalArgumentException("Gather.rows: width must be positive, got " + width);
        if (from < 0 || to > rows.length || from > to) {
            throw new IndexOutOfBoundsException("Gather.rows: range [" + from + ", " + to + ") of " + rows.length + " rows");
        }
        if ((long) to * width > out.length) {
            throw new IllegalArgumentException("Gather.rows: " + out.length + " floats do not hold " + to + " rows of " + width);
        }
        int available = source.length / width;
        for (int i = from; i < to; i++) {
            int r = rows[i];
            if (r < 0 || r >= available) throw new IndexOutOfBoundsException("Gather.rows: row " + r + " is outside [0, " + available + ")");
            System.arraycopy(source, r * width, out, i * width, width);
        }
    }

    /** All of {@code rows}, as a new [rows.length × width] array; large batches on the pool. */
    public static float[] rows(float[] source, int width, int[] rows) {
        if (width <= 0) throw new IllegalArgumentException("Gather.rows: width must be positive, got " + width);
        float[] out = new float[Math.multiplyExact(rows.length, width)];
        // Scattered rows of a large table are memory-latency bound: two cores keep twice as many reads in flight.
        Parallel.forRange(rows.length, Math.max(1, 16384 / width), (from, to) -> rows(source, width, rows, from, to, out));
        return out;
    }
}
