package org.deltagrad.train.step;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.deltagrad.data.Batch;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.DatasetTest;
import org.deltagrad.kernels.Parallel;
import org.junit.jupiter.api.Test;

class PrefetcherTest {
    /** Two buffers per batch size, made once: the same arrays every epoch, used in turn. */
    @Test
    void buffersAreMadeOnceAndUsedInTurn() {
        Prefetcher prefetcher = new Prefetcher(new DataLoader(DatasetTest.numbered(20), 8).shuffled(1)); // batches of 8, 8 and 4
        List<float[]> first = new ArrayList<>(), second = new ArrayList<>();
        prefetcher.epoch(0).forEachRemaining(b -> first.add(b.features()));
        prefetcher.epoch(1).forEachRemaining(b -> second.add(b.features()));
        assertEquals(3, first.size());
        for (int i = 0; i < 3; i++) assertSame(first.get(i), second.get(i), "batch " + i);
        assertNotSame(first.get(0), first.get(1));
        assertEquals(8, first.get(2).length, "the last batch of 4 rows has buffers of its own size");
    }

    /** The same batches as DataLoader.epoch, whichever thread gathered them; x is a tensor over the same array. */
    @Test
    void prefetchedBatchesEqualTheLoadersOnes() {
        int before = Parallel.threads();
        try {
            DataLoader loader = new DataLoader(DatasetTest.numbered(103), 8).shuffled(5);
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                Prefetcher prefetcher = new Prefetcher(loader);
                for (int epoch = 0; epoch < 4; epoch++) {
                    List<Batch> plain = new ArrayList<>();
                    loader.epoch(epoch).forEach(plain::add);
                    int i = 0;
                    for (Iterator<StepBatch> it = prefetcher.epoch(epoch); it.hasNext(); ) {
                        StepBatch b = it.next(); // checked within its step, as the Trainer uses it
                        Batch want = plain.get(i++);
                        assertArrayEquals(want.indices(), b.batch().indices());
                        assertArrayEquals(want.labels(), b.labels());
                        assertArrayEquals(want.x().shape(), b.batch().x().shape());
                        assertArrayEquals(want.x().toFloatArray(), b.features(), "epoch " + epoch + " batch " + i);
                        assertArrayEquals(b.features(), b.batch().x().toFloatArray());
                    }
                    assertEquals(plain.size(), i);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void aBadRowIsNamed() {
        Dataset d = DatasetTest.numbered(3);
        assertThrows(IndexOutOfBoundsException.class, () -> d.featuresInto(new int[] {0, 5}, 0, 2, new float[4]));
    }
}
