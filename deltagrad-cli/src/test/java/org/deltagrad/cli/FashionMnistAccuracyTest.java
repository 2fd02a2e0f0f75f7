package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deltagrad.io.ModelFile;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real data, real accuracy: the two Fashion-MNIST runs, through the command line. Minutes each.
 *
 * <p>The data comes from Debian's dataset-fashion-mnist package, which CI installs. Locally the test is skipped
 * without it; in CI ({@code CI=true}) a missing dataset fails, so the check cannot silently vanish.
 */
class FashionMnistAccuracyTest {
    static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");

    @TempDir
    Path tmp;

    @BeforeEach
    void needTheDataset() {
        boolean present = Files.isDirectory(DATA);
        if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(DATA + " is missing; CI must install Debian's dataset-fashion-mnist package");
        }
        assumeTrue(present, DATA + " is missing (apt install dataset-fashion-mnist)");
    }

    /** Trains with {@code flags} on the system copy of Fashion-MNIST; returns the report's epochs. */
    private JsonNode train(Object... flags) throws IOException {
        Path report = tmp.resolve("report.json");
        Object[] args = Cli.args(new Object[] {"train", "--dataset", "fashion-mnist", "--data-dir", DATA,
                "--out", tmp.resolve("run"), "--report", report}, flags);
        Cli.run(args).ok();
        JsonNode epochs = Cli.readJson(report).get("epochs");
        List<String> lines = new ArrayList<>();
        for (JsonNode e : epochs) {
            lines.add(String.format(Locale.ROOT, "epoch %d: loss %.4f, train %.4f, test %.4f, %.1f s", e.get("epoch").asInt(),
                    e.get("train_loss").asDouble(), e.get("train_accuracy").asDouble(), e.get("test_accuracy").asDouble(),
                    e.get("seconds").asDouble()));
        }
        System.out.println("fashion-mnist " + List.of(flags) + ":\n  " + String.join("\n  ", lines));
        return epochs;
    }

    /** Trains {@code epochs} epochs with {@code flags} and requires a final test accuracy of at least {@code least}. */
    private void assertReaches(double least, int epochs, Object... flags) throws IOException {
        JsonNode run = train(Cli.args(flags, "--epochs", epochs));
        assertEquals(epochs, run.size());
        double accuracy = run.get(epochs - 1).get("test_accuracy").asDouble();
        assertTrue(accuracy >= least, "test accuracy " + accuracy + " after " + epochs + " epochs; per epoch: " + run);
    }

    @Test
    void twoHiddenLayersReach89Percent() throws IOException {
        assertReaches(0.89, 15, "--layers", "256,128");
    }

    /** The CNN, Adam and the image-set defaults; PyTorch with the same architecture and settings: 0.904. */
    @Test
    void aSmallConvolutionalNetworkReaches90Percent() throws IOException {
        assertReaches(0.90, 10, "--arch", "conv16x5,maxpool2,conv32x5,maxpool2,fc100");
    }

    @Test
    void nielsensSigmoidNetworkWithQuadraticCostReaches82Percent() throws IOException {
        assertReaches(0.82, 3, "--layers", 30, "--activation", "sigmoid", "--loss", "mse", "--optimizer", "sgd", "--lr", 3.0, "--batch", 10);
    }

    @Test
    void anExplodingLearningRateStopsTheRunAndKeepsThePreviousModel() throws IOException {
        Path out = tmp.resolve("exploding");
        Architecture good = Architecture.mlp(784, new int[] {8}, 10, Activation.RELU, false, null, new int[] {28, 28});
        Path model = out.resolve("model.safetensors");
        ModelFile.save(model, good, good.build(1), Map.of("dataset", "fashion-mnist"));
        byte[] before = Files.readAllBytes(model);
        // Adam moves every weight by about lr per step: with lr 1000 the loss was 3.8e30 after a run that exited 0.
        String line = Cli.run("train", "--dataset", "fashion-mnist", "--data-dir", DATA, "--lr", 1000, "--epochs", 1,
                "--out", out).oneErrorLine();
        assertTrue(line.matches("deltagrad: training diverged at epoch 1, batch \\d+ of 938: the loss exploded to .*"
                + "try a lower --lr \\(now 1000.0\\) or --clip-norm 1 \\(nothing was written\\)"), line);
        assertArrayEquals(before, Files.readAllBytes(model), "the previous model is untouched");
    }
}
