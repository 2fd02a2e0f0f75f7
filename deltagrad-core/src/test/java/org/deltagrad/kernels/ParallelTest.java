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

    @Test
    void piecesRunOnceEachAndInOrderOnOneThread() {
        for (int threads : new int[] {1, 2, 3}) {
            Parallel.setThreads(threads);
            for (int pieces : new int[] {1, 2, 5, 64}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(pieces);
                java.util.List<Integer> order = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                Parallel.forEachPiece(pieces, q -> {
                    hits.incrementAndGet(q);
                    order.add(q);
                });
                for (int q = 0; q < pieces; q++) assertEquals(1, hits.get(q), "piece " + q + " of " + pieces);
                if (threads == 1) {
                    for (int q = 0; q < pieces; q++) assertEquals(q, order.get(q), "one thread runs the pieces in order");
                }
            }
        }
    }

    @Test
    void aScopeSetsTheCountForItsOwnThreadOnlyAndRestoresIt() throws Exception {
        Parallel.setThreads(2);
        try (Parallel.Scope outer = Parallel.withThreads(1)) {
            assertEquals(1, Parallel.threads());
            assertEquals(2, Parallel.defaultThreads());
            try (Parallel.Scope inner = Parallel.withThreads(5)) {
                assertEquals(5, inner.threads());
                assertEquals(5, Parallel.threads());
                int[] elsewhere = new int[1];
                Thread other = new Thread(() -> elsewhere[0] = Parallel.threads());
                other.start();
                other.join();
                assertEquals(2, elsewhere[0], "another thread keeps the process default");
                assertThrows(IllegalStateException.class, outer::close, "closing the outer scope first");
            }
            assertEquals(1, Parallel.threads());
        }
        assertEquals(2, Parallel.threads());
        assertThrows(IllegalArgumentException.class, () -> Parallel.withThreads(0));
    }

    @Test
    void workersReportTheCallersScopedCount() {
        Parallel.setThreads(2);
        java.util.Set<Integer> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.Set<Thread> runners = java.util.concurrent.ConcurrentHashMap.newKeySet();
        try (Parallel.Scope s = Parallel.withThreads(3)) {
            for (int round = 0; round < 200 && runners.size() < 2; round++) {
                Parallel.forEachPiece(3, q -> {
                    seen.add(Parallel.threads());
                    runners.add(Thread.currentThread());
                    long until = System.nanoTime() + 200_000; // time for the workers to take the other pieces
                    while (System.nanoTime() < until) Thread.onSpinWait();
                });
            }
        }
        assertTrue(runners.size() >= 2, "no worker took a piece in 200 rounds");
        assertEquals(java.util.Set.of(3), seen);
    }

    @Test
    void aScopeLargerThanTheDefaultGetsItsThreads() throws Exception {
        Parallel.setThreads(1);
        // Three pieces that each wait for all three to have started: they finish only if three threads run them.
        CountDownLatch started = new CountDownLatch(3);
        AtomicBoolean timedOut = new AtomicBoolean();
        try (Parallel.Scope s = Parallel.withThreads(3)) {
            Parallel.forEachPiece(3, q -> {
                started.countDown();
                try {
                    if (!started.await(10, TimeUnit.SECONDS)) timedOut.set(true);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertFalse(timedOut.get(), "fewer than three threads ran the scope's pieces");
        assertEquals(1, Parallel.threads());
    }
}
