package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

/** The background writer: a snapshot still waiting is replaced by a newer one; failures reach the training thread. */
class CheckpointWriterTest {
    @Test
    void whileOneWriteIsInProgressOnlyTheNewestWaitingSnapshotIsWritten() throws InterruptedException {
        List<Integer> written = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch started = new CountDownLatch(1), release = new CountDownLatch(1);
        CheckpointWriter w = new CheckpointWriter();
        w.submit(() -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            written.add(1);
        });
        started.await(); // the first write has begun; the next two wait behind it
        w.submit(() -> written.add(2));
        w.submit(() -> written.add(3));
        release.countDown();
        w.finish();
        assertEquals(List.of(1, 3), written);
    }

    @Test
    void aFailedWriteIsThrownByTheNextSubmitOrByFinish() throws InterruptedException {
        IllegalStateException disk = new IllegalStateException("disk full");
        CheckpointWriter w = new CheckpointWriter();
        w.submit(() -> {
            throw disk;
        });
        assertSame(disk, assertThrows(IllegalStateException.class, w::finish));

        CheckpointWriter v = new CheckpointWriter();
        CountDownLatch failed = new CountDownLatch(1);
        v.submit(() -> {
            failed.countDown();
            throw disk;
        });
        failed.await();
        v.abandon(); // waits for the failing write, reports nothing
        assertSame(disk, assertThrows(IllegalStateException.class, () -> v.submit(() -> {})));
    }
}
