package org.deltagrad.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.deltagrad.Tensor;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Module;
import org.deltagrad.train.EpochStats;
import org.deltagrad.train.TrainConfig;
import org.deltagrad.train.Trainer;
import org.junit.jupiter.api.Test;

/** Training on Spark (local mode) against the single-machine loop and against the same split on one machine. */
class SparkTrainerTest {
    /** 450 rows: batches of 64 end with a partial batch of 2, so B varies. */
    private static final TrainingData DATA = new Spirals(150);

    private static TrainConfig adamWithClip() {
        TrainConfig c = new TrainConfig();
        c.hidden = new int[] {16, 16};
        c.batch = 64;
        c.epochs = 2;
        c.lr = 0.02;
        c.clipNorm = 0.5; // small enough to clip: the clip sees the summed gradient
        c.seed = 7;
        return c;
    }

    private static TrainConfig momentumQuadratic() {
        TrainConfig c = new TrainConfig();
        c.hidden = new int[] {12};
        c.activation = Activation.SIGMOID;
        c.loss = TrainConfig.LossKind.MSE;
        c.optimizer = TrainConfig.OptimizerKind.MOMENTUM;
        c.lr = 0.5;
        c.batch = 50;
        c.epochs = 2;
        c.schedule = TrainConfig.ScheduleKind.STEP;
        return c;
    }

    private static SparkTrainer.Result onSpark(TrainConfig config, int partitions) {
        return new SparkTrainer(config, partitions).fit(SharedSpark.get(), DATA, null);
    }

    @Test
    void onePartitionEqualsTheSingleMachineLoopBitForBit() {
        for (TrainConfig config : List.of(adamWithClip(), momentumQuadratic())) {
            SparkTrainer.Result spark = onSpark(config, 1);
            EagerReference.Run eager = EagerReference.fit(config, DATA.get());
            assertSameWeights(eager.model(), spark.model());
            // The per-epoch mean loss, from the same per-batch float32 losses.
            int perEpoch = eager.losses().size() / config.epochs, rows = DATA.get().train().size();
            for (int e = 0; e < config.epochs; e++) {
                double sum = 0;
                for (int b = 0; b < perEpoch; b++) {
                    sum += eager.losses().get(e * perEpoch + b) * Math.min(config.batch, rows - b * config.batch);
                }
                assertEquals(sum / rows, spark.epochs().get(e).trainLoss(), 0.0, "epoch " + (e + 1) + " loss");
            }
        }
    }

    @Test
    void onePartitionEqualsTheTrainerBitForBit() {
        TrainConfig config = adamWithClip();
        SparkTrainer.Result spark = onSpark(config, 1);
        Trainer.Result trainer = new Trainer(config).fit(DATA.get(), null);
        assertSameWeights(trainer.model(), spark.model());
        for (int e = 0; e < config.epochs; e++) {
            EpochStats a = trainer.epochs().get(e), b = spark.epochs().get(e);
            assertEquals(a.trainLoss(), b.trainLoss(), 0.0);
            assertEquals(a.trainAccuracy(), b.trainAccuracy(), 0.0);
            assertEquals(a.testAccuracy(), b.testAccuracy(), 0.0);
        }
    }

    @Test
    void aConvolutionalModelTrainsOnSparkAsOnOneMachine() {
        TrainingData bars = new Bars(130);
        TrainConfig config = new TrainConfig();
        config.arch = "conv3x3,maxpool2,fc8";
        config.batch = 32;
        config.epochs = 2;
        SparkTrainer.Result one = new SparkTrainer(config, 1).fit(SharedSpark.get(), bars, null);
        assertEquals("conv3x3,maxpool2,fc8", one.architecture().arch());
        Trainer.Result trainer = new Trainer(config).fit(bars.get(), null);
        assertSameWeights(trainer.model(), one.model());
        SparkTrainer.Result two = new SparkTrainer(config, 2).fit(SharedSpark.get(), bars, null);
        assertSameWeights(new SparkTrainer(config, 2).fitLocally(bars, null).model(), two.model());
    }

    @Test
    void twoAndThreePartitionsEqualTheSameSplitOnOneMachineAndTheSingleMachineWithinRounding() {
        for (TrainConfig config : List.of(adamWithClip(), momentumQuadratic())) {
            EagerReference.Run eager = EagerReference.fit(config, DATA.get());
            for (int k : new int[] {2, 3}) {
                SparkTrainer.Result spark = onSpark(config, k);
                SparkTrainer.Result split = new SparkTrainer(config, k).fitLocally(DATA, null);
                assertSameWeights(split.model(), spark.model());
                assertEquals(split.epochs().get(1).trainLoss(), spark.epochs().get(1).trainLoss(), 0.0);
                assertEquals(split.epochs().get(1).trainAccuracy(), spark.epochs().get(1).trainAccuracy(), 0.0);
                // The partial products and their sum round differently from one product: a few float ulps a step.
                assertClose(eager.model(), spark.model(), 1e-4);
            }
        }
    }

    @Test
    void morePartitionsThanTaskSlotsWork() {
        TrainConfig config = adamWithClip();
        config.batch = 16; // with 7 shards of ~64 rows, some batches miss some shards entirely
        config.epochs = 1;
        int k = 7;
        assertTrue(k > SharedSpark.SLOTS);
        SparkTrainer.Result spark = onSpark(config, k);
        assertSameWeights(new SparkTrainer(config, k).fitLocally(DATA, null).model(), spark.model());
        assertClose(EagerReference.fit(config, DATA.get()).model(), spark.model(), 1e-4);
    }

    @Test
    void aFailedTaskIsRetriedAndChangesNothing() throws InterruptedException {
        TrainConfig config = adamWithClip();
        JavaSparkContext sc = SharedSpark.get();
        AtomicInteger failed = new AtomicInteger();
        SparkListener counter = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (!end.taskInfo().successful()) failed.incrementAndGet();
            }
        };
        sc.sc().addSparkListener(counter);
        try {
            SparkTrainer.Result clean = onSpark(config, 2);
            SparkTrainer.Result retried = new SparkTrainer(config, 2).failingOnce(3, 1).fit(sc, DATA, null);
            assertSameWeights(clean.model(), retried.model());
            assertEquals(clean.epochs().get(1).trainLoss(), retried.epochs().get(1).trainLoss(), 0.0);
            for (int i = 0; i < 100 && failed.get() == 0; i++) Thread.sleep(100); // listener events arrive asynchronously
            assertEquals(1, failed.get(), "the injected failure happened once, and its retry succeeded");
        } finally {
            sc.sc().removeSparkListener(counter);
        }
    }

    @Test
    void theSplitChangesTheRoundingSoTheBitForBitChecksCanFail() {
        // Guards the tests above: if partitions did not change the sums' rounding, "equal to the same split" would
        // prove nothing beyond "equal to one machine".
        TrainConfig config = adamWithClip();
        SparkTrainer.Result split = new SparkTrainer(config, 3).fitLocally(DATA, null);
        assertFalse(sameWeights(EagerReference.fit(config, DATA.get()).model(), split.model()));
    }

    @Test
    void badPartitionCountsAreRefusedInOneLine() {
        TrainConfig config = adamWithClip();
        IllegalArgumentException zero = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new SparkTrainer(config, 0));
        assertEquals("spark-train: --partitions must be at least 1, got 0", zero.getMessage());
        IllegalArgumentException tooMany = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new SparkTrainer(config, 451).fit(SharedSpark.get(), DATA, null));
        assertEquals("spark-train: 451 partitions for 450 training rows; use at most 450", tooMany.getMessage());
    }

    static void assertSameWeights(Module expected, Module actual) {
        Map<String, Tensor> e = expected.namedParameters(), a = actual.namedParameters();
        assertEquals(e.keySet(), a.keySet());
        for (String name : e.keySet()) assertArrayEquals(e.get(name).toFloatArray(), a.get(name).toFloatArray(), name);
    }

    private static boolean sameWeights(Module expected, Module actual) {
        for (Map.Entry<String, Tensor> p : expected.namedParameters().entrySet()) {
            if (!java.util.Arrays.equals(p.getValue().toFloatArray(), actual.namedParameters().get(p.getKey()).toFloatArray())) {
                return false;
            }
        }
        return true;
    }

    /** Every weight within {@code tolerance} of the reference, relative to the largest weight of its tensor. */
    private static void assertClose(Module expected, Module actual, double tolerance) {
        for (Map.Entry<String, Tensor> p : expected.namedParameters().entrySet()) {
            float[] e = p.getValue().toFloatArray(), a = actual.namedParameters().get(p.getKey()).toFloatArray();
            double scale = 0, worst = 0;
            for (float v : e) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(e[i] - a[i]));
            assertTrue(worst <= tolerance * scale, p.getKey() + ": differs by " + worst + " (largest weight " + scale + ")");
        }
    }
}
