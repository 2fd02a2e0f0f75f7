package org.deltagrad.cli;

import java.util.Arrays;
import java.util.Locale;

/**
 * Memory estimated before the work starts, so that a size that cannot fit is one line (what, how big, the
 * limit) instead of an OutOfMemoryError after minutes. The limit is the Java heap: {@link Runtime#maxMemory()}.
 */
public final class Memory {
    private Memory() {}

    /** The most elements a Java array (and so one tensor) holds. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private static final String RAISE = "raise the heap limit with DELTAGRAD_JAVA_OPTS=-Xmx<size> (java -Xmx<size>)";

    /** Heap still free for this command: the limit minus what is in use (e.g. a loaded dataset). */
    static long available() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /** Throws a one-line UserException when {@code bytes} exceed the free heap. */
    static void require(String what, long bytes, String smaller) {
        long free = available();
        if (bytes > free) {
            System.gc(); // what is in use may be mostly garbage; refuse only for what is really taken
            free = available();
        }
        if (bytes > free) {
            throw new UserException(what + " needs about " + human(bytes) + " of memory, but only " + human(free)
                    + " of the Java heap is free (limit " + human(Runtime.getRuntime().maxMemory())
                    + ", Runtime.maxMemory); " + smaller + ", or " + RAISE);
        }
    }

    /** The line for an OutOfMemoryError nobody foresaw. */
    static String outOfMemory() {
        return "out of memory: the Java heap limit is " + human(Runtime.getRuntime().maxMemory())
                + " (Runtime.maxMemory); make the problem smaller, or " + RAISE;
    }

    /**
     * Weights and biases of a fully connected network of these layer sizes; throws naming {@code flag} when a
     * layer's weight matrix would not fit in one Java array.
     */
    public static long mlpParameters(int[] sizes, String flag) {
        long total = 0;
        for (int l = 0; l + 1 < sizes.length; l++) {
            long weights = (long) sizes[l] * sizes[l + 1];
            if (weights > MAX_ARRAY) {
                throw new UserException(flag + ": the layer " + sizes[l] + " -> " + sizes[l + 1] + " of " + Arrays.toString(sizes)
                        + " has " + weights + " weights, more than one array holds (" + MAX_ARRAY + ")");
            }
            total += weights + sizes[l + 1];
        }
        return total;
    }

    static String human(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30));
        if (bytes >= 1L << 20) return String.format(Locale.ROOT, "%.0f MB", bytes / (double) (1L << 20));
        return String.format(Locale.ROOT, "%.0f KB", Math.ceil(bytes / 1024.0));
    }
}
