package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.deltagrad.DType;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    private static List<Batch> collect(Iterable<Batch> batches) {
        List<Batch> out = new ArrayList<>();
        batches.forEach(out::add);
        return out;
    }

    private static int[] visited(List<Batch> batches) {
        return batches.stream().flatMapToInt(b -> Arrays.stream(b.indices())).toArray();
    }

    @Test
    void sequentialBatchesKeepLastPartial() {
        Dataset d = DatasetTest.numbered(10);
        List<Batch> batches = collect(new DataLoader(d, 4).epoch(0));
        assertEquals(3, batches.size());
        assertArrayEquals(new int[] {4, 4, 2}, batches.stream().mapToInt(Batch::size).toArray());
        assertArrayEquals(IntStream.range(0, 10).toArray(), visited(batches));
        Batch last = batches.get(2);
        assertEquals(DType.FLOAT32, last.x().dtype());
        assertArrayEquals(new int[] {2, 2}, last.x().shape());
        assertArrayEquals(new float[] {8, -8, 9, -9}, last.x().toFloatArray());
        assertArrayEquals(new int[] {2, 0}, last.labels());
        assertEquals(3, new DataLoader(d, 4).batchesPerEpoch());
    }

    @Test
    void dropLastDropsPartialBatch() {
        DataLoader loader = new DataLoader(DatasetTest.numbered(10), 4).dropLast(true);
        assertEquals(2, loader.batchesPerEpoch());
        assertEquals(2, collect(loader.epoch(0)).size());
        assertEquals(3, collect(loader.dropLast(false).epoch(0)).size());
    }

    @Test
    void shuffledEpochIsAFunctionOfSeedAndEpoch() {
        Dataset d = DatasetTest.numbered(50);
        DataLoader a = new DataLoader(d, 8).shuffled(123);
        DataLoader b = new DataLoader(d, 8).shuffled(123);
        int[] e0 = visited(collect(a.epoch(0)));
        int[] e1 = visited(collect(a.epoch(1)));
        assertArrayEquals(e0, visited(collect(b.epoch(0))));
        assertArrayEquals(e1, visited(collect(b.epoch(1))));
        assertArrayEquals(e1, visited(collect(a.epoch(1))), "re-iterating an epoch repeats it");
        assertFalse(Arrays.equals(e0, e1), "epochs differ");
        assertFalse(Arrays.equals(e0, visited(collect(new DataLoader(d, 8).shuffled(124).epoch(0)))), "seeds differ");
        int[] sorted = e0.clone();
        Arrays.sort(sorted);
        assertArrayEquals(IntStream.range(0, 50).toArray(), sorted, "a permutation: every row once");
        for (Batch batch : a.epoch(3)) {
            assertArrayEquals(d.labels(batch.indices()), batch.labels());
            assertArrayEquals(d.features(batch.indices()).toFloatArray(), batch.x().toFloatArray());
        }
    }

    @Test
    void iteratingTheLoaderAdvancesEpochs() {
        DataLoader loader = new DataLoader(DatasetTest.numbered(20), 6).shuffled(9);
        int[] first = visited(collect(loader));
        int[] second = visited(collect(loader));
        assertArrayEquals(visited(collect(loader.epoch(0))), first);
        assertArrayEquals(visited(collect(loader.epoch(1))), second);
        assertArrayEquals(loader.order(1), second);
    }

    @Test
    void rejectsBadArguments() {
        Dataset d = DatasetTest.numbered(3);
        assertThrows(IllegalArgumentException.class, () -> new DataLoader(d, 0));
        assertThrows(IllegalArgumentException.class, () -> new DataLoader(d, 2).epoch(-1));
    }
}
