package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Set;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Parallel;
import org.junit.jupiter.api.Test;

/** {@code TrainConfig.threads} (the CLI's --threads) sets the kernels' thread count for the run, then restores it. */
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
}
