package org.deltagrad.train;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes a run's checkpoints in a background thread, so that training does not wait for the disk: a synced write
 * can take longer than a small network's epoch. When epochs end faster than the disk takes them, a snapshot still
 * waiting is replaced by the newer one (each is a whole epoch-end state, so resuming from any of them is exact).
 */
final class CheckpointWriter {
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "deltagrad-checkpoint");
        t.setDaemon(true);
        return t;
    });
    private final AtomicReference<Runnable> newest = new AtomicReference<>();
    private volatile RuntimeException failure;
    private Future<?> last;

    /** Queues the write of a snapshot; the failure of an earlier write is thrown here. */
    void submit(Runnable write) {
        if (failure != null) throw failure;
        newest.set(write);
        // Each task writes the newest snapshot not yet taken, or nothing when an earlier task took it.
        last = thread.submit(() -> {
            Runnable w = newest.getAndSet(null);
            if (w == null || failure != null) return;
            try {
                w.run();
            } catch (RuntimeException e) {
                failure = e;
            }
        });
    }

    /** Waits until the last snapshot submitted is on disk and stops the thread; throws a write's failure. */
    void finish() {
        try {
            await();
        } finally {
            thread.shutdown();
        }
        if (failure != null) throw failure;
    }

    /** Waits for the writes queued and stops the thread, ignoring their failures: the run failed already. */
    void abandon() {
        try {
            await();
        } finally {
            thread.shutdown();
        }
    }

    private void await() {
        if (last == null) return;
        try {
            last.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException("writing a checkpoint failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
