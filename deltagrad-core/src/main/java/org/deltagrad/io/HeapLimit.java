package org.deltagrad.io;

import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Allocates the large arrays that a file's header asks for, so that a size the Java heap cannot hold is one
 * clear line (what, how big, the heap's limit) instead of an OutOfMemoryError.
 */
public final class HeapLimit {
    private HeapLimit() {}

    /**
     * Runs {@code allocate}, which makes an array of {@code bytes} bytes; if that is more than the heap's maximum,
     * or the allocation fails, throws {@code error.apply(reason)} where the reason gives the size and the limit.
     */
    public static <T> T allocate(long bytes, Supplier<T> allocate, Function<String, ? extends RuntimeException> error) {
        long max = Runtime.getRuntime().maxMemory();
        if (bytes > max) {
            throw error.apply("needs " + megabytes(bytes) + ", more than the Java heap's maximum of " + megabytes(max)
                    + " (Runtime.maxMemory); run java with a larger -Xmx");
        }
        try {
            return allocate.get();
        } catch (OutOfMemoryError e) {
            // Only the one large allocation is inside: when it fails, nothing else is left half done.
            Runtime rt = Runtime.getRuntime();
            throw error.apply("needs " + megabytes(bytes) + ", more than the " + megabytes(max - rt.totalMemory() + rt.freeMemory())
                    + " still free of the Java heap's maximum of " + megabytes(max) + " (Runtime.maxMemory); run java with a larger -Xmx");
        }
    }

    /** {@code bytes} in MB (10^6 bytes), e.g. "2116.8 MB". */
    public static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
