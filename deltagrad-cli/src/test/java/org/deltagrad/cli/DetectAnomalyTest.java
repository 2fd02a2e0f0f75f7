package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --detect-anomaly} (issue 13): the run stops at the op that first made a NaN or infinity. */
class DetectAnomalyTest {
    @TempDir
    Path tmp;

    @Test
    void stopsARunWithAHugeLearningRateNamingTheOpAndTheBatch() {
        Path out = tmp.resolve("run");
        Cli.Result r = Cli.run("train", "--optimizer", "sgd", "--lr", "1e300", "--epochs", 1, "--detect-anomaly", "--out", out);
        String line = r.oneErrorLine();
        // The first step's update makes the weights infinite; the next step's first linear layer reads them.
        assertTrue(line.matches("deltagrad: epoch 1, batch 2 of \\d+: anomaly in the forward of 'linear': input 1 is a leaf "
                + "that requires grad \\(a parameter\\) holding -?(Infinity|NaN), .*; created at org\\.deltagrad\\.nn\\.Linear\\.forward\\(Linear\\.java:\\d+\\)"),
                line);
        assertFalse(Files.exists(out.resolve("model.safetensors")), "nothing is saved");
    }

    @Test
    void withoutTheFlagTheSameRunStopsOnlyAtTheLossCheck() {
        Cli.Result r = Cli.run("train", "--optimizer", "sgd", "--lr", "1e300", "--epochs", 1, "--out", tmp.resolve("run"));
        String line = r.oneErrorLine();
        assertFalse(line.contains("anomaly"), line);
        assertTrue(line.contains("the loss became"), line);
    }
}
