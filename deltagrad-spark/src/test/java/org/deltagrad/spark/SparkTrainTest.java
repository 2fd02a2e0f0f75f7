package org.deltagrad.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.deltagrad.cli.Json;
import org.deltagrad.data.Datasets;
import org.deltagrad.io.ModelFile;
import org.deltagrad.train.Evaluation;
import org.deltagrad.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spark-train command: train's flags, its progress lines, and a model file that loads. */
class SparkTrainTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = SparkTrain.run(SharedSpark.get(), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void trainsWritesTheModelFileAndItLoadsWithTheSameWeights() throws java.io.IOException {
        Run r = run("--dataset", "spirals", "--layers", "8", "--batch", "100", "--epochs", "2", "--seed", "3",
                "--partitions", "3", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("epoch 1/2  loss "), r.out());
        assertTrue(r.out().contains("Spark overhead"), r.out());
        Path model = dir.resolve("model.safetensors");
        assertTrue(r.out().contains("wrote " + model), r.out());
        for (String plot : new String[] {"loss.png", "regions.png"}) { // the plots train writes, for 2-feature data too
            assertTrue(r.out().contains("wrote " + dir.resolve(plot)) && java.nio.file.Files.size(dir.resolve(plot)) > 1000, r.out());
        }

        ModelFile.Loaded loaded = ModelFile.load(model);
        TrainConfig config = new TrainConfig();
        config.hidden = new int[] {8};
        config.batch = 100;
        config.epochs = 2;
        config.seed = 3;
        TrainingData spirals = TrainingData.named(Datasets.SPIRALS, null);
        SparkTrainer.Result split = new SparkTrainer(config, 3).fitLocally(spirals, null);
        SparkTrainerTest.assertSameWeights(split.model(), loaded.model());
        double accuracy = Evaluation.of(loaded.model(), spirals.get().test(), 1000).accuracy();
        assertTrue(r.out().contains(String.format(Locale.ROOT, "test accuracy %.4f after 2 epochs", accuracy)), r.out());
        assertEquals(3, ((Number) loaded.training().get("seed")).intValue());

        // train's report, plus where the run went; and train's loss plot.
        Map<?, ?> report = Json.read(dir.resolve("report.json"), Map.class);
        assertEquals(accuracy, ((Number) report.get("test_accuracy")).doubleValue(), 0.0);
        assertEquals(2, ((List<?>) report.get("epochs")).size());
        Map<?, ?> spark = (Map<?, ?>) report.get("spark");
        assertEquals(3, ((Number) spark.get("partitions")).intValue());
        assertEquals(2, ((List<?>) spark.get("epochs")).size());
        assertTrue(Files.size(dir.resolve("loss.png")) > 1000, "a PNG with two panels");
    }

    @Test
    void aUriOutputIsWrittenThroughHadoopsFileSystem() {
        Path target = dir.resolve("remote");
        String uri = "file://" + target;
        Run r = run("--layers", "4", "--batch", "300", "--epochs", "1", "--partitions", "2", "--out", uri);
        assertEquals(0, r.code(), r.err());
        for (String name : List.of("model.safetensors", "model.json", "report.json", "loss.png", "regions.png")) {
            assertTrue(r.out().contains("wrote " + uri + "/" + name), r.out());
            assertTrue(Files.isRegularFile(target.resolve(name)), name);
        }
        assertEquals(5, target.toFile().list().length, "no temporary or checksum files left: " + List.of(target.toFile().list()));
        assertEquals(1, ModelFile.load(target.resolve("model.safetensors")).architecture().layers().size());
    }

    @Test
    void badFlagsAreUsageErrorsNamingTheFlag() {
        Run zero = run("--partitions", "0");
        assertEquals(2, zero.code());
        assertTrue(zero.err().startsWith("--partitions must be at least 1 (got 0)"), zero.err());
        Run batch = run("--batch", "0");
        assertEquals(2, batch.code());
        assertTrue(batch.err().contains("--batch"), batch.err());
        Run dropout = run("--dropout", "0.2");
        assertEquals(2, dropout.code());
        assertTrue(dropout.err().startsWith("--dropout is not supported by spark-train"), dropout.err());
        Run token = run("--arch", "fc8,dropout0.2");
        assertEquals(2, token.code());
        assertTrue(token.err().startsWith("--arch: dropout layers are not supported by spark-train (got fc8,dropout0.2)"), token.err());
        Run bn = run("--arch", "fc8,bn");
        assertEquals(2, bn.code());
        assertTrue(bn.err().startsWith("--arch: bn layers are not supported by spark-train (got fc8,bn)"), bn.err());
        Run own = run("--data", dir.resolve("any.csv").toString());
        assertEquals(2, own.code());
        assertTrue(own.err().startsWith("--data is not supported by spark-train"), own.err());
    }

    @Test
    void aFailedDownloadNamesTheDataDirFlag() {
        // An empty home and the discard port for MNIST's downloads: nothing serves there.
        try (Properties set = new Properties("deltagrad.home", dir.resolve("home").toString(),
                "deltagrad.mnist.baseUrl", "http://127.0.0.1:9/")) {
            Run r = run("--dataset", "mnist", "--out", dir.resolve("o").toString());
            assertEquals(1, r.code());
            assertTrue(r.err().contains(" or pass a data directory (--data-dir DIR)"), r.err());
        }
    }

    /** System properties set for a test, and put back as they were when it closes. */
    private static final class Properties implements AutoCloseable {
        private final Map<String, String> before = new java.util.HashMap<>();

        Properties(String... keysAndValues) {
            for (int i = 0; i < keysAndValues.length; i += 2) {
                before.put(keysAndValues[i], System.setProperty(keysAndValues[i], keysAndValues[i + 1]));
            }
        }

        @Override
        public void close() {
            before.forEach((k, v) -> {
                if (v == null) System.clearProperty(k);
                else System.setProperty(k, v);
            });
        }
    }
}
