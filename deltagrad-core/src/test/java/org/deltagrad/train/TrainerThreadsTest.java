package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deltagrad.Tensor;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Parallel;
import org.junit.jupiter.api.Test;

/** {@code TrainConfig.threads} (the CLI's --threads) sets the kernels' thread count for the run only, and for its caller only. */
class TrainerThreadsTest {
    @Test
    void threadsApplyDuringTrainingOnly() {
        int before = Parallel.threads();
        Parallel.setThreads(3);
        try {
            TrainConfig config = new TrainConfig();
            config.epochs = 1;
            config.hidden = new int[] {8};
            config.threads = 1;
            Set<Integer> seen = new HashSet<>();
            new Trainer(config).fit(Datasets.load(Datasets.SPIRALS, null), new Trainer.Listener() {
                @Override
                public void batch(int epoch, int samples, double loss) {
                    seen.add(Parallel.threads());
                }
            });
            assertEquals(Set.of(1), seen);
            assertEquals(3, Parallel.threads(), "restored after the run");

            config.threads = 0; // 0: leave the thread count alone
            seen.clear();
            new Trainer(config).fit(Datasets.load(Datasets.SPIRALS, null), new Trainer.Listener() {
                @Override
                public void batch(int epoch, int samples, double loss) {
                    seen.add(Parallel.threads());
                }
            });
            assertEquals(Set.of(3), seen);
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void concurrentFitsWithTheirOwnThreadCountsGiveTheBitsTheyGiveAlone() throws Exception {
        int before = Parallel.threads();
        Datasets.TrainTest data = Datasets.load(Datasets.SPIRALS, null);
        float[] aloneOne = weights(fit(data, 1, ConcurrentHashMap.newKeySet()));
        float[] aloneThree = weights(fit(data, 3, ConcurrentHashMap.newKeySet()));
        assertArrayEquals(aloneOne, aloneThree, "1 and 3 threads");

        Set<Integer> seenOne = ConcurrentHashMap.newKeySet(), seenThree = ConcurrentHashMap.newKeySet();
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService callers = Executors.newFixedThreadPool(2);
        try {
            Future<float[]> one = callers.submit(() -> {
                start.await();
                return weights(fit(data, 1, seenOne));
            });
            Future<float[]> three = callers.submit(() -> {
                start.await();
                return weights(fit(data, 3, seenThree));
            });
            assertArrayEquals(aloneOne, one.get(), "1 thread, next to a run on 3");
            assertArrayEquals(aloneThree, three.get(), "3 threads, next to a run on 1");
        } finally {
            callers.shutdown();
        }
        assertEquals(Set.of(1), seenOne, "what the 1-thread run's kernels saw");
        assertEquals(Set.of(3), seenThree, "what the 3-thread run's kernels saw");
        assertEquals(before, Parallel.threads(), "the process default is untouched");
    }

    private static Trainer.Result fit(Datasets.TrainTest data, int threads, Set<Integer> seen) {
        TrainConfig config = new TrainConfig();
        config.epochs = 4;
        config.hidden = new int[] {48, 48};
        config.threads = threads;
        return new Trainer(config).fit(data, new Trainer.Listener() {
            @Override
            public void batch(int epoch, int samples, double loss) {
                seen.add(Parallel.threads());
            }
        });
    }

    private static float[] weights(Trainer.Result result) {
        return result.model().parameters().stream().map(Tensor::toFloatArray)
                .reduce(new float[0], (x, y) -> {
                    float[] joined = java.util.Arrays.copyOf(x, x.length + y.length);
                    System.arraycopy(y, 0, joined, x.length, y.length);
                    return joined;
                });
    }
}
