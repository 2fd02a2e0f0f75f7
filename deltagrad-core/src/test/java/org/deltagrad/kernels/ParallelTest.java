package org.deltagrad.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ParallelTest {
    private static final int THREADS = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(THREADS);
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int threads : new int[] {1, 2, 4}) {
            Parallel.setThreads(threads);
            for (int n : new int[] {1, 2, 7, 1000}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forRange(n, 3, (from, to) -> {
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i + " of " + n);
            }
        }
    }

    @Test
    void nestedCallsAndFailuresReachTheCaller() {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(100);
        Parallel.forRange(10, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i;
                Parallel.forRange(10, 1, (f, t) -> {
                    for (int j = f; j < t; j++) hits.incrementAndGet(row * 10 + j);
                });
            }
        });
        for (int i = 0; i < 100; i++) assertEquals(1, hits.get(i));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Parallel.forRange(100, 1, (from, to) -> {
                    if (from > 0) throw new IllegalStateException("chunk failed");
                }));
        assertEquals("chunk failed", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
    }
}
