package org.deltagrad.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
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

    @Test
    void backgroundWorkRunsEveryPieceOnceAlongsideForkJoinJobs() throws Exception {
        for (int threads : new int[] {1, 2, 3}) {
            Parallel.setThreads(threads);
            for (int round = 0; round < 50; round++) {
                int pieces = 1 + round % 17;
                AtomicIntegerArray hits = new AtomicIntegerArray(pieces);
                Parallel.Background b = Parallel.background(pieces, i -> {
                    hits.incrementAndGet(i);
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                });
                // fork-join jobs keep working while the pieces are pending (workers take them first)
                AtomicIntegerArray other = new AtomicIntegerArray(64);
                Parallel.forRange(64, 1, (from, to) -> {
                    for (int i = from; i < to; i++) other.incrementAndGet(i);
                });
                b.join();
                for (int i = 0; i < pieces; i++) assertEquals(1, hits.get(i), "piece " + i + " of " + pieces);
                for (int i = 0; i < 64; i++) assertEquals(1, other.get(i));
            }
        }
    }

    @Test
    void theCallerRunsBackgroundPiecesWhileItWaitsForAWorkersChunk() throws Exception {
        // The chunk a worker takes blocks until the background pieces are done, and the background is started from
        // the caller's chunk (so the worker cannot have run its pieces before): only the waiting caller can run
        // them. Without that, the worker's chunk would time out.
        Parallel.setThreads(2);
        Thread caller = Thread.currentThread();
        int blockedRounds = 0;
        for (int round = 0; round < 200 && blockedRounds < 5; round++) {
            CountDownLatch pieces = new CountDownLatch(4);
            AtomicReference<Parallel.Background> background = new AtomicReference<>();
            AtomicBoolean workerBlocked = new AtomicBoolean(), timedOut = new AtomicBoolean();
            Parallel.forRange(2, 1, (from, to) -> {
                if (Thread.currentThread() == caller) {
                    if (background.get() == null) background.set(Parallel.background(4, i -> pieces.countDown()));
                    long until = System.nanoTime() + 500_000; // time for the worker to take the other chunk
                    while (System.nanoTime() < until) Thread.onSpinWait();
                    return;
                }
                workerBlocked.set(true);
                try {
                    if (!pieces.await(2, TimeUnit.SECONDS)) timedOut.set(true);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            if (background.get() != null) background.get().join();
            if (workerBlocked.get()) {
                blockedRounds++;
                assertFalse(timedOut.get(), "round " + round + ": the caller left the pieces to the blocked worker");
            }
        }
        assertTrue(blockedRounds > 0, "the worker never took a chunk in 200 rounds");
    }

    @Test
    void backgroundFailuresReachJoin() {
        Parallel.setThreads(2);
        Parallel.Background b = Parallel.background(8, i -> {
            if (i == 5) throw new IllegalArgumentException("piece 5 failed");
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::join);
        assertEquals("piece 5 failed", e.getMessage());
        Parallel.background(0, i -> { }).join(); // nothing to do
    }
}
