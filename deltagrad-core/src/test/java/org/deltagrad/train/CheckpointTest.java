package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.deltagrad.Tensor;
import org.deltagrad.data.Datasets;
import org.deltagrad.io.ModelFile;
import org.deltagrad.nn.Dropout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped after some epochs and continued from its checkpoint ends with the bits of the run that was never
 * stopped: the weights and every per-epoch figure but the timings, for every optimiser, with dropout and a
 * schedule that depends on the epoch.
 */
class CheckpointTest {
    private static final Datasets.TrainTest DATA = Datasets.load(Datasets.SPIRALS, null);

    @TempDir
    Path tmp;

    /** Thrown by a listener to stop a run after an epoch, as a kill would (that epoch's checkpoint is written). */
    private static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    private static TrainConfig config(String optimizer, String schedule) {
        TrainConfig c = new TrainConfig();
        c.optimizer = TrainConfig.OptimizerKind.parse(optimizer);
        c.lr = optimizer.startsWith("adam") || optimizer.equals("rmsprop") ? 0.01 : 0.1;
        c.hidden = new int[] {24, 16};
        c.epochs = 6;
        c.schedule = TrainConfig.ScheduleKind.parse(schedule);
        c.dropout = 0.2;
        c.weightDecay = 1e-4;
        return c;
    }

    private static Trainer.Listener stopAfter(int epoch) {
        return new Trainer.Listener() {
            @Override
            public void batch(int e, int samples, double loss) {
                if (e == epoch + 1) throw new Stop();
            }
        };
    }

    /** Trains {@code config} but stops after {@code stopAt} epochs, leaving its checkpoint in {@code file}. */
    private static void interrupted(TrainConfig config, Path file, int stopAt) {
        Trainer t = new Trainer(config).checkpointTo(file, Map.of());
        assertThrows(Stop.class, () -> t.fit(DATA, stopAfter(stopAt)));
    }

    static void assertSameRun(Trainer.Result expected, Trainer.Result actual, String what) {
        List<Tensor> a = expected.model().parameters(), b = actual.model().parameters();
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).toFloatArray(), b.get(i).toFloatArray(), 0, what + ": parameter " + i);
        }
        assertEquals(figures(expected.epochs()), figures(actual.epochs()), what + ": per-epoch figures");
    }

    /** Every figure of every epoch except the wall-clock timings, as exact bits. */
    static List<String> figures(List<EpochStats> epochs) {
        List<String> out = new ArrayList<>();
        for (EpochStats e : epochs) {
            out.add(e.epoch() + " " + bits(e.trainLoss()) + " " + bits(e.trainAccuracy()) + " " + bits(e.testAccuracy()) + " "
                    + bits(e.learningRate()) + " " + e.diagnostics());
        }
        return out;
    }

    private static String bits(double v) {
        return Long.toHexString(Double.doubleToRawLongBits(v));
    }

    @Test
    void stoppedHalfwayAndResumedEndsWithTheBitsOfAnUninterruptedRunForEveryOptimiser() {
        String[] optimizers = {"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"};
        for (int k = 0; k < optimizers.length; k++) {
            String name = optimizers[k];
            TrainConfig config = config(name, k % 2 == 0 ? "cosine" : "step");
            config.diagnostics = k == 3;
            Trainer.Result whole = new Trainer(config).fit(DATA, null);

            Path file = tmp.resolve(name + ".safetensors");
            interrupted(config, file, 3);
            Checkpoint c = Checkpoint.read(file);
            assertEquals(3, c.epoch());
            assertFalse(c.finished());
            Trainer.Result resumed = new Trainer(config).resumeFrom(c).checkpointTo(file, Map.of()).fit(DATA, null);
            assertSameRun(whole, resumed, name);
            assertEquals(6, Checkpoint.read(file).epoch());
            assertTrue(Checkpoint.read(file).finished());
        }
    }

    /** The divergence guard compares every loss with the run's first; a resumed run must keep that reference. */
    @Test
    void theGuardsReferenceLossSurvivesAResume() {
        TrainConfig config = config("adam", "cosine");
        config.epochs = 3;
        Path first = tmp.resolve("first.safetensors"), second = tmp.resolve("second.safetensors");
        double[] firstBatch = {Double.NaN};
        Trainer t = new Trainer(config).checkpointTo(first, Map.of());
        assertThrows(Stop.class, () -> t.fit(DATA, new Trainer.Listener() {
            @Override
            public void batch(int e, int samples, double loss) {
                if (Double.isNaN(firstBatch[0])) firstBatch[0] = loss;
                if (e == 2) throw new Stop();
            }
        }));
        assertEquals(firstBatch[0], Checkpoint.read(first).firstLoss(), 0);
        new Trainer(config).checkpointTo(second, Map.of()).resumeFrom(Checkpoint.read(first)).fit(DATA, null);
        assertEquals(firstBatch[0], Checkpoint.read(second).firstLoss(), 0, "not the resumed epoch's first batch");
    }

    @Test
    void theDropoutGeneratorsPositionIsPartOfTheState() {
        TrainConfig config = config("adam", "constant");
        Path file = tmp.resolve("c.safetensors");
        interrupted(config, file, 2);
        Trainer.Result whole = new Trainer(config).fit(DATA, null);
        Trainer.Result resumed = new Trainer(config).resumeFrom(Checkpoint.read(file)).fit(DATA, null);
        assertSameRun(whole, resumed, "dropout");
        long batches = (DATA.train().size() + config.batch - 1) / config.batch;
        List<Dropout> drops = List.copyOf(Checkpoint.dropouts(resumed.model()).values());
        assertEquals(2, drops.size(), "one dropout layer after each hidden activation");
        for (Dropout d : drops) assertEquals(config.epochs * batches, d.calls(), "one mask per training step");
        // the saved model is the network without dropout: same parameter names as the architecture's
        assertEquals(resumed.architecture().build(0).namedParameters().keySet(), resumed.model().namedParameters().keySet());
    }

    @Test
    void aCheckpointIsWrittenBeforeTheFirstEpochAndResumingAFinishedRunTrainsNothing() throws IOException {
        TrainConfig config = config("momentum", "cosine");
        config.epochs = 2;
        Path file = tmp.resolve("c.safetensors");
        Trainer.Result whole = new Trainer(config).checkpointTo(file, Map.of("out", "somewhere")).fit(DATA, new Trainer.Listener() {
            @Override
            public void batch(int epoch, int samples, double loss) {
                if (epoch == 1) assertEquals(0, Checkpoint.read(file).epoch(), "the first epoch starts from a checkpoint");
            }
        });
        Checkpoint done = Checkpoint.read(file);
        assertTrue(done.finished());
        assertEquals(Map.of("out", "somewhere"), done.notes());
        int[] batches = {0};
        Trainer.Result again = new Trainer(config).resumeFrom(done).fit(DATA, new Trainer.Listener() {
            @Override
            public void batch(int epoch, int samples, double loss) {
                batches[0]++;
            }
        });
        assertEquals(0, batches[0]);
        assertSameRun(whole, again, "finished");
        assertEquals(whole.epochs(), again.epochs(), "the timings too are the recorded ones");

        Checkpoint.addNote(file, "outputs", "written");
        assertEquals(Map.of("out", "somewhere", "outputs", "written"), Checkpoint.read(file).notes());
    }

    @Test
    void theRecordedConfigurationRoundTripsAndADifferentOneIsRefused() {
        TrainConfig config = config("rmsprop", "step");
        config.dataDir = tmp;
        config.threads = 1;
        Path file = tmp.resolve("c.safetensors");
        interrupted(config, file, 1);
        Checkpoint c = Checkpoint.read(file);
        assertEquals(Checkpoint.flat(config), Checkpoint.flat(c.config()));

        TrainConfig other = config("rmsprop", "step");
        other.lr = 0.02;
        CheckpointException e = assertThrows(CheckpointException.class, () -> new Trainer(other).resumeFrom(c).fit(DATA, null));
        assertEquals(file + ": recorded lr=0.01 but this run has lr=0.02; a run continues with its recorded configuration", e.getMessage());

        TrainConfig moreThreads = config("rmsprop", "step");
        moreThreads.dataDir = tmp;
        moreThreads.threads = 2;
        assertEquals(6, new Trainer(moreThreads).resumeFrom(c).fit(DATA, null).epochs().size(), "the thread count may change");
    }

    @Test
    void aDamagedOrForeignFileIsOneLineNamingIt() throws IOException {
        TrainConfig config = config("adam", "cosine");
        Path file = tmp.resolve("c.safetensors");
        interrupted(config, file, 1);
        byte[] good = Files.readAllBytes(file);

        Files.write(file, Arrays.copyOf(good, good.length - 100));
        assertReadFails(file, "truncated");

        byte[] flipped = good.clone();
        flipped[flipped.length - 3] ^= 1;
        Files.write(file, flipped);
        assertReadFails(file, "does not match its checksum");

        Files.write(file, new byte[] {1, 2, 3});
        assertReadFails(file, "expected an 8-byte header length");

        Path model = tmp.resolve("model.safetensors");
        Trainer.Result r = new Trainer(config).fit(DATA, null);
        ModelFile.save(model, r.architecture(), r.model(), config.toMap());
        assertReadFails(model, "not a deltagrad checkpoint");

        assertReadFails(tmp.resolve("none.safetensors"), "no such checkpoint");
    }

    private static void assertReadFails(Path file, String expected) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void temporariesOfAKilledWriteAreRemovedWhenTheNextRunWrites() throws IOException {
        Path file = tmp.resolve("c.safetensors");
        Path stale = tmp.resolve(".c.safetensors.1234abcd.tmp"), unrelated = tmp.resolve(".other.safetensors.1234abcd.tmp");
        Files.write(stale, new byte[10]);
        Files.write(unrelated, new byte[10]);
        TrainConfig config = config("sgd", "constant");
        config.epochs = 1;
        new Trainer(config).checkpointTo(file, Map.of()).fit(DATA, null);
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(unrelated));
        assertNotEquals(0, Files.size(file));
    }

    @Test
    void warningsGivenBeforeTheStopAreNotGivenAgain() {
        TrainConfig config = new TrainConfig();
        config.activation = org.deltagrad.nn.Activation.TANH;
        config.loss = TrainConfig.LossKind.MSE;
        config.optimizer = TrainConfig.OptimizerKind.SGD;
        config.lr = 30;
        config.hidden = new int[] {16, 16};
        config.epochs = 4;
        config.diagnostics = true;
        List<String> whole = new ArrayList<>(), parts = new ArrayList<>();
        new Trainer(config).fit(DATA, warnings(whole, Integer.MAX_VALUE));
        assertFalse(whole.isEmpty(), "the setting saturates a layer");
        Path file = tmp.resolve("c.safetensors");
        assertThrows(Stop.class, () -> new Trainer(config).checkpointTo(file, Map.of()).fit(DATA, warnings(parts, 1)));
        new Trainer(config).resumeFrom(Checkpoint.read(file)).fit(DATA, warnings(parts, Integer.MAX_VALUE));
        assertEquals(whole, parts);
    }

    private static Trainer.Listener warnings(List<String> into, int stopAfter) {
        return new Trainer.Listener() {
            @Override
            public void batch(int epoch, int samples, double loss) {
                if (epoch == stopAfter + 1) throw new Stop();
            }

            @Override
            public void warning(String message) {
                into.add(message);
            }
        };
    }

    @Test
    void aCheckpointThatCannotBeWrittenStopsTheRunNamingIt() throws IOException {
        Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
        Path file = notADirectory.resolve("c.safetensors");
        java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
                () -> new Trainer(config("sgd", "constant")).checkpointTo(file, Map.of()).fit(DATA, null));
        assertTrue(e.getMessage().contains(notADirectory.toString()), e.getMessage());
    }

    /** A batch norm's running statistics are state like the weights: a resumed run must carry them on, bit for bit. */
    @Test
    void batchNormRunningStatisticsArePartOfTheCheckpoint() {
        TrainConfig config = config("adam", "constant");
        Tensor x = Tensor.randn(7, 16, 2);
        int[] labels = new int[16];
        for (int i = 0; i < 16; i++) labels[i] = i % 3;
        java.util.function.Supplier<org.deltagrad.nn.Sequential> net = () -> new org.deltagrad.nn.Sequential(
                new org.deltagrad.nn.Linear(2, 8, 1), new org.deltagrad.nn.BatchNorm1d(8), new org.deltagrad.nn.ReLU(),
                new org.deltagrad.nn.Linear(8, 3, 2));
        org.deltagrad.nn.Sequential whole = net.get();
        org.deltagrad.optim.Optimizer opt = config.newOptimizer(whole.parameters());
        java.util.function.BiConsumer<org.deltagrad.nn.Module, org.deltagrad.optim.Optimizer> step = (m, o) -> {
            o.zeroGrad();
            m.forward(x).crossEntropy(labels).backward();
            o.step();
        };
        for (int i = 0; i < 3; i++) step.accept(whole, opt);
        Path file = tmp.resolve("bn.safetensors");
        Checkpoint.snapshot(file, config, 0, whole, opt, List.of(), List.of(), 1, Map.of()).run();
        for (int i = 0; i < 3; i++) step.accept(whole, opt);

        org.deltagrad.nn.Sequential resumed = net.get();
        org.deltagrad.optim.Optimizer resumedOpt = config.newOptimizer(resumed.parameters());
        Checkpoint.read(file).restore(config, resumed, resumedOpt, new ArrayList<>(), new java.util.HashSet<>());
        assertEquals(3, ((org.deltagrad.nn.BatchNorm1d) resumed.get(1)).numBatchesTracked());
        for (int i = 0; i < 3; i++) step.accept(resumed, resumedOpt);
        Map<String, Tensor> a = whole.stateDict(), b = resumed.stateDict();
        a.putAll(whole.namedBuffers());
        b.putAll(resumed.namedBuffers());
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k).toDoubleArray(), b.get(k).toDoubleArray(), 0, k);
    }
}
