package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deltagrad.io.ModelFile;
import org.deltagrad.io.SafeTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deltagrad evaluate} on a model freshly trained by {@code deltagrad train}. */
class EvaluateCommandTest {
    @TempDir
    static Path shared;
    @TempDir
    Path tmp;

    static Path model;
    static double reportedAccuracy;

    @BeforeAll
    static void trainOnce() throws IOException {
        model = Cli.trainSpirals(shared.resolve("spirals"));
        JsonNode epochs = Cli.readJson(shared.resolve("spirals/report.json")).get("epochs");
        reportedAccuracy = epochs.get(epochs.size() - 1).get("test_accuracy").asDouble();
    }

    @Test
    void printsAccuracyPerClassTableAndConfusionMatrix() {
        Cli.Result r = Cli.run("evaluate", "--model", model).ok();
        List<String> lines = r.outLines();
        assertEquals(String.format(Locale.ROOT, "spirals test: 300 examples, accuracy %.4f", reportedAccuracy), lines.get(0));
        for (int c = 0; c < 3; c++) {
            int k = c;
            assertTrue(lines.stream().anyMatch(l -> l.matches("\\s*" + k + "\\s+" + k + "\\s+[01]\\.\\d{4}\\W*")),
                    "per-class row " + c + ":\n" + r.out());
        }
        int at = lines.indexOf("confusion matrix (rows: true class, columns: predicted)");
        assertTrue(at > 0, r.out());
        // The matrix rows: the true class, then one count per predicted class; 100 test points per class.
        long[][] confusion = new long[3][];
        int found = 0;
        for (String l : lines.subList(at + 1, lines.size())) {
            long[] numbers = Arrays.stream(l.split("\\D+")).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
            if (numbers.length == 4 && numbers[0] == found) confusion[found++] = Arrays.copyOfRange(numbers, 1, 4);
            if (found == 3) break;
        }
        assertEquals(3, found, r.out());
        long diagonal = 0;
        for (int c = 0; c < 3; c++) {
            assertEquals(100, Arrays.stream(confusion[c]).sum(), "row " + c + " of\n" + r.out());
            diagonal += confusion[c][c];
        }
        assertEquals(reportedAccuracy, diagonal / 300.0, 1e-12);
    }

    @Test
    void jsonAccuracyEqualsTheReportsFinalTestAccuracy() throws IOException {
        JsonNode j = Cli.parseJson(Cli.run("evaluate", "--model", model, "--json").ok().out());
        assertEquals("spirals", j.get("dataset").asText());
        assertEquals("test", j.get("split").asText());
        assertEquals(300, j.get("examples").asInt());
        assertEquals(reportedAccuracy, j.get("accuracy").asDouble(), 0.0, "bit for bit: the same weights, the same data");
        assertEquals(3, j.get("per_class_accuracy").size());
        long total = 0, correct = 0;
        JsonNode confusion = j.get("confusion");
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < 3; p++) total += confusion.get(c).get(p).asLong();
            correct += confusion.get(c).get(c).asLong();
            assertEquals(confusion.get(c).get(c).asDouble() / 100, j.get("per_class_accuracy").get("" + c).asDouble(), 1e-12);
        }
        assertEquals(300, total);
        assertEquals(reportedAccuracy, correct / 300.0, 1e-12);
    }

    @Test
    void trainSplitOnRequest() throws IOException {
        JsonNode j = Cli.parseJson(Cli.run("evaluate", "--model", model, "--split", "train", "--json").ok().out());
        assertEquals(900, j.get("examples").asInt());
        assertTrue(j.get("accuracy").asDouble() > 0.8);
        Cli.run("evaluate", "--model", model, "--split", "validation").oneErrorLine();
    }

    @Test
    void missingModelFileIsOneLine() {
        Path nowhere = tmp.resolve("none.safetensors");
        assertTrue(Cli.run("evaluate", "--model", nowhere).oneErrorLine().contains(nowhere.toString()));
    }

    @Test
    void anOldModelWithoutItsJsonIsOneLineNamingIt() throws IOException {
        Path copy = tmp.resolve("lonely.safetensors");
        SafeTensors.write(copy, SafeTensors.read(model).tensors()); // no architecture inside, as older versions wrote
        String line = Cli.run("evaluate", "--model", copy).oneErrorLine();
        assertTrue(line.contains(tmp.resolve("lonely.json").toString()) && line.contains("missing"), line);
    }

    @Test
    void weightsOfAnotherArchitectureAreRefused() throws IOException {
        Cli.run("train", "--epochs", 1, "--layers", 8, "--out", tmp.resolve("small")).ok();
        Path other = tmp.resolve("small/model.safetensors");
        Path dir = Files.createDirectories(tmp.resolve("mixed"));
        Files.copy(ModelFile.configPath(model), dir.resolve("model.json"));
        Files.copy(other, dir.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
        // The weights file describes itself: a JSON beside it that says otherwise is refused, naming both.
        String line = Cli.run("evaluate", "--model", dir.resolve("model.safetensors")).oneErrorLine();
        assertTrue(line.contains("model.json does not match") && line.contains("model.safetensors"), line);
        // An older weights file, which relies on the JSON: its tensors do not fit the architecture there.
        SafeTensors.write(dir.resolve("model.safetensors"), SafeTensors.read(other).tensors());
        line = Cli.run("evaluate", "--model", dir.resolve("model.safetensors")).oneErrorLine();
        assertTrue(line.contains("does not match the architecture"), line);
        assertTrue(line.contains("0.weight"), "names the first mismatching tensor: " + line);
    }

    @Test
    void corruptWeightsAreOneLine() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("corrupt"));
        Files.copy(ModelFile.configPath(model), dir.resolve("model.json"));
        byte[] bytes = Files.readAllBytes(model);
        Files.write(dir.resolve("model.safetensors"), Arrays.copyOf(bytes, bytes.length - 100));
        String line = Cli.run("evaluate", "--model", dir.resolve("model.safetensors")).oneErrorLine();
        assertTrue(line.contains("truncated"), line);
    }

    @Test
    void datasetOfTheWrongShapeIsOneLine() throws IOException {
        Path data = Cli.writeTinyImageDataset(Files.createDirectories(tmp.resolve("data")), 20, 20);
        String line = Cli.run("evaluate", "--model", model, "--dataset", "mnist", "--data-dir", data).oneErrorLine();
        assertTrue(line.contains("16 features") && line.contains("expects 2"), line);
    }
}
