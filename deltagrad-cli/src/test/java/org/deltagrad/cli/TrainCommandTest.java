package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.deltagrad.data.Idx;
import org.deltagrad.data.IdxArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code deltagrad train} end to end: outputs, determinism, diagnostics, and one-line errors. */
class TrainCommandTest {
    @TempDir
    Path tmp;

    private static final List<String> EPOCH_KEYS = List.of("epoch", "train_loss", "train_accuracy", "test_accuracy", "seconds");
    private static final List<String> DIAGNOSTIC_KEYS = List.of("mean_abs_delta", "weight_grad_norm", "bias_grad_norm",
            "saturated_fraction");

    static BufferedImage png(Path file) throws IOException {
        assertTrue(Files.isRegularFile(file), file + " missing");
        byte[] head = Files.readAllBytes(file);
        assertTrue(head.length > 8 && (head[0] & 0xff) == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G',
                file + " is not a PNG");
        BufferedImage img = ImageIO.read(file.toFile());
        assertNotNull(img, file + " is not readable by ImageIO");
        assertTrue(img.getWidth() >= 100 && img.getHeight() >= 100, file + " is " + img.getWidth() + "x" + img.getHeight());
        return img;
    }

    @Test
    void spiralsByDefaultWritesModelReportAndPicturesAndLearns() throws IOException {
        Path out = tmp.resolve("run");
        Cli.Result r = Cli.run("train", "--epochs", 30, "--out", out).ok();

        assertTrue(Files.size(out.resolve("model.safetensors")) > 0);
        JsonNode model = Cli.readJson(out.resolve("model.json"));
        assertEquals(2, model.at("/architecture/inputs").asInt());
        assertEquals(3, model.at("/architecture/outputs").asInt());
        assertEquals("spirals", model.at("/training/dataset").asText());

        JsonNode report = Cli.readJson(out.resolve("report.json"));
        assertTrue(report.has("config") && report.has("parameters") && report.has("epochs"), report.toString());
        assertEquals("spirals", report.at("/config/dataset").asText());
        assertEquals(30, report.at("/config/epochs").asInt());
        // Default [64, 64] on 2 inputs and 3 classes: (2*64+64) + (64*64+64) + (64*3+3).
        assertEquals(4547, report.get("parameters").asLong());
        JsonNode epochs = report.get("epochs");
        assertEquals(30, epochs.size());
        for (int i = 0; i < epochs.size(); i++) {
            JsonNode e = epochs.get(i);
            for (String key : EPOCH_KEYS) assertTrue(e.get(key) != null && e.get(key).isNumber(), key + " in " + e);
            assertEquals(i + 1, e.get("epoch").asInt());
            assertTrue(e.get("seconds").asDouble() >= 0);
            assertFalse(e.has("diagnostics"), "diagnostics only with --diagnostics");
        }
        JsonNode last = epochs.get(29);
        double accuracy = last.get("test_accuracy").asDouble();
        assertTrue(accuracy > 0.8, "test accuracy " + accuracy);
        assertTrue(last.get("train_loss").asDouble() < epochs.get(0).get("train_loss").asDouble(), "the loss fell");

        png(out.resolve("loss.png"));
        png(out.resolve("regions.png"));
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f after 30 epochs (4547 parameters)",
                accuracy)), r.out());
        assertTrue(r.out().contains("wrote " + out.resolve("report.json")), r.out());
        assertFalse(r.out().contains("warning:"), "a healthy run has no warnings:\n" + r.out());
    }

    @Test
    void oneEpochIsSingular() {
        Cli.Result r = Cli.run("train", "--epochs", 1, "--out", tmp.resolve("one")).ok();
        assertTrue(r.out().contains(", 1 epoch\n") && r.out().matches("(?s).*test accuracy [0-9.]+ after 1 epoch \\(4547.*"), r.out());
    }

    @Test
    void reportPlotAndSavePutFilesWhereAsked() throws IOException {
        Path out = tmp.resolve("out");
        Path report = tmp.resolve("reports/r1.json");
        Path plot = tmp.resolve("plots/curves.png");
        Path save = tmp.resolve("models/net.safetensors");
        Cli.run("train", "--epochs", 3, "--out", out, "--report", report, "--plot", plot, "--save", save, "--diagnostics").ok();

        assertEquals(3, Cli.readJson(report).get("epochs").size());
        png(plot);
        png(tmp.resolve("plots/curves-diagnostics.png"));
        assertTrue(Files.size(save) > 0);
        assertEquals("spirals", Cli.readJson(tmp.resolve("models/net.json")).at("/training/dataset").asText());
        // Only what was not named goes to --out.
        png(out.resolve("regions.png"));
        for (String f : List.of("report.json", "loss.png", "model.safetensors", "model.json", "loss-diagnostics.png")) {
            assertFalse(Files.exists(out.resolve(f)), f + " should not be in --out");
        }
    }

    @Test
    void diagnosticsPageBesideThePngHoldsTheReportsFigures() throws Exception {
        Path out = tmp.resolve("diag");
        Cli.Result r = Cli.run("train", "--epochs", 3, "--out", out, "--diagnostics").ok();
        Path page = out.resolve("loss-diagnostics.html");
        assertTrue(r.out().contains("wrote " + page), r.out());
        String html = Files.readString(page);
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.endsWith("</html>\n"));
        for (String external : List.of(" src=", " href=", "@import", "url(http", "<link")) {
            assertFalse(html.contains(external), "the page must not fetch anything, found " + external);
        }
        JsonNode epochs = Cli.readJson(out.resolve("report.json")).get("epochs");
        java.util.regex.Matcher embedded = java.util.regex.Pattern.compile(
                "<script type=\"application/json\" id=\"data\">(.*?)</script>", java.util.regex.Pattern.DOTALL).matcher(html);
        assertTrue(embedded.find());
        assertEquals(epochs, new com.fasterxml.jackson.databind.ObjectMapper().readTree(embedded.group(1)), "the page embeds report.json's epochs");

        java.util.Map<String, Double> expected = new java.util.LinkedHashMap<>();
        for (JsonNode e : epochs) {
            for (JsonNode d : e.get("diagnostics")) {
                for (String key : DIAGNOSTIC_KEYS) expected.put(d.get("layer").asInt() + " " + e.get("epoch").asInt() + " " + key, d.get(key).asDouble());
            }
        }
        assertEquals(3 * 3 * DIAGNOSTIC_KEYS.size(), expected.size(), "3 epochs, 3 weight layers: " + expected.keySet());
        java.util.Map<String, Double> shown = new java.util.LinkedHashMap<>();
        java.util.regex.Matcher m = DIAGNOSTIC_CELL.matcher(HeadlessChromium.dumpDom(tmp, page, ""));
        while (m.find()) shown.put(m.group(1) + " " + m.group(2) + " " + m.group(3), Double.parseDouble(m.group(4)));
        assertEquals(expected, shown);
    }

    private static final java.util.regex.Pattern DIAGNOSTIC_CELL = java.util.regex.Pattern.compile(
            "data-layer=\"(\\d+)\" data-epoch=\"(\\d+)\" data-metric=\"(\\w+)\" data-value=\"([^\"]*)\"");

    /** The report without the wall-clock times, which are the only thing allowed to differ. */
    private static JsonNode reportWithoutSeconds(Path report) throws IOException {
        JsonNode r = Cli.readJson(report);
        for (JsonNode e : r.get("epochs")) ((ObjectNode) e).remove("seconds");
        return r;
    }

    private JsonNode trainForDeterminism(String name, int threads, int seed) throws IOException {
        Path out = tmp.resolve(name);
        Cli.run("train", "--epochs", 8, "--threads", threads, "--seed", seed, "--out", out).ok();
        return reportWithoutSeconds(out.resolve("report.json"));
    }

    @Test
    void sameSeedAndThreadsGiveIdenticalNumbers() throws IOException {
        for (int threads : new int[] {1, 2}) {
            JsonNode a = trainForDeterminism("a" + threads, threads, 7);
            JsonNode b = trainForDeterminism("b" + threads, threads, 7);
            assertEquals(a, b, "two runs with --threads " + threads);
            assertEquals(threads, a.at("/config/threads").asInt());
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a" + threads + "/model.safetensors")),
                    Files.readAllBytes(tmp.resolve("b" + threads + "/model.safetensors")), "weights, --threads " + threads);
        }
        // The comparison can fail: another seed gives other numbers.
        JsonNode other = trainForDeterminism("c", 1, 8);
        assertNotEquals(trainForDeterminism("d", 1, 7).get("epochs"), other.get("epochs"));
    }

    @Test
    void diagnosticsAreRecordedPerLayerAndEpoch() throws IOException {
        Path out = tmp.resolve("diag");
        Cli.run("train", "--epochs", 4, "--diagnostics", "--out", out).ok();
        JsonNode epochs = Cli.readJson(out.resolve("report.json")).get("epochs");
        assertEquals(4, epochs.size());
        for (JsonNode e : epochs) {
            JsonNode layers = e.get("diagnostics");
            assertNotNull(layers, e.toString());
            assertEquals(3, layers.size(), "two hidden layers and the output layer: " + layers);
            for (int l = 0; l < 3; l++) {
                JsonNode d = layers.get(l);
                assertEquals(l + 1, d.get("layer").asInt());
                for (String key : DIAGNOSTIC_KEYS) assertNotNull(d.get(key), key + " in " + d);
                for (String key : List.of("mean_abs_delta", "weight_grad_norm", "bias_grad_norm")) {
                    double v = d.get(key).asDouble();
                    assertTrue(Double.isFinite(v) && v >= 0, key + " = " + v);
                }
                assertTrue(d.get("weight_grad_norm").asDouble() > 0, "a learning layer has a gradient: " + d);
            }
            for (int l = 0; l < 2; l++) { // hidden ReLU layers: a fraction of units; the logits layer has none
                double sat = layers.get(l).get("saturated_fraction").asDouble();
                assertTrue(sat >= 0 && sat <= 1, "saturated_fraction " + sat);
            }
        }
        png(out.resolve("loss-diagnostics.png"));
    }

    @Test
    void saturatedSigmoidNetworkIsWarnedAbout() throws IOException {
        Path out = tmp.resolve("sat");
        Cli.Result r = Cli.run("train", "--epochs", 3, "--activation", "sigmoid", "--loss", "mse", "--lr", 50,
                "--diagnostics", "--out", out).ok();
        List<String> warnings = r.outLines().stream().filter(l -> l.startsWith("warning:")).toList();
        assertFalse(warnings.isEmpty(), r.out());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("layer 1") && w.contains("saturated")), warnings.toString());
        JsonNode first = Cli.readJson(out.resolve("report.json")).at("/epochs/0/diagnostics/0/saturated_fraction");
        assertTrue(first.asDouble() > 0.5, "layer 1 saturated fraction " + first);
    }

    static Stream<Arguments> badFlags() {
        return Stream.of(
                Arguments.of(new String[] {"--frobnicate"}, "--frobnicate"),
                Arguments.of(new String[] {"--dataset", "cifar"}, "cifar"),
                Arguments.of(new String[] {"--lr", "-1"}, "--lr"),
                Arguments.of(new String[] {"--lr", "fast"}, "--lr"),
                Arguments.of(new String[] {"--layers", "0"}, "--layers"),
                Arguments.of(new String[] {"--layers", "32,-4"}, "--layers"),
                Arguments.of(new String[] {"--loss", "foo"}, "--loss 'foo'"),
                Arguments.of(new String[] {"--optimizer", "foo"}, "--optimizer 'foo'"),
                Arguments.of(new String[] {"--activation", "foo"}, "foo"),
                Arguments.of(new String[] {"--schedule", "foo"}, "--schedule 'foo'"),
                Arguments.of(new String[] {"--weight-decay", "-1"}, "--weight-decay must"),
                Arguments.of(new String[] {"--clip-norm", "-1"}, "--clip-norm must"),
                Arguments.of(new String[] {"--momentum", "1"}, "--momentum must"),
                Arguments.of(new String[] {"--batch", "0"}, "--batch"));
    }

    @ParameterizedTest
    @MethodSource("badFlags")
    void badFlagIsOneLineNamingIt(String[] flags, String named) {
        Path out = tmp.resolve("bad");
        Cli.Result r = Cli.run(Cli.args(new Object[] {"train", "--epochs", 1, "--out", out}, (Object[]) flags));
        String line = r.oneErrorLine();
        assertTrue(line.contains(named), line);
        assertEquals(2, r.exit(), "a bad flag is a usage error: " + line);
        assertFalse(Files.exists(out), "nothing written on a usage error");
    }

    @Test
    void emptyDataDirSaysWhichFilesToPutWhere() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        String line = Cli.run("train", "--dataset", "fashion-mnist", "--data-dir", empty, "--out", tmp.resolve("o"))
                .oneErrorLine();
        assertTrue(line.contains(empty.toString()), line);
        for (String f : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")) {
            assertTrue(line.contains(f), line);
        }
    }

    @Test
    void truncatedIdxFileIsOneLineNamingTheFile() throws IOException {
        Path dir = Cli.writeTinyImageDataset(Files.createDirectories(tmp.resolve("data")), 50, 20);
        Path images = dir.resolve("train-images-idx3-ubyte");
        byte[] bytes = Files.readAllBytes(images);
        Files.write(images, java.util.Arrays.copyOf(bytes, bytes.length - 7));
        String line = Cli.run("train", "--dataset", "mnist", "--data-dir", dir, "--epochs", 1, "--out", tmp.resolve("o"))
                .oneErrorLine();
        assertTrue(line.contains(images.toString()), line);
        assertTrue(line.contains("ends after"), line);
    }

    @Test
    void garbageIdxFileIsOneLine() throws IOException {
        Path dir = Cli.writeTinyImageDataset(Files.createDirectories(tmp.resolve("data")), 50, 20);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte");
        Files.writeString(labels, "this is not an IDX file");
        String line = Cli.run("train", "--dataset", "mnist", "--data-dir", dir, "--epochs", 1, "--out", tmp.resolve("o"))
                .oneErrorLine();
        assertTrue(line.contains(labels.toString()) && line.contains("magic"), line);
    }

    @Test
    void labelCountMustMatchImageCount() throws IOException {
        Path dir = Cli.writeTinyImageDataset(Files.createDirectories(tmp.resolve("data")), 50, 20);
        Idx.write(dir.resolve("train-labels-idx1-ubyte"), Cli.tinyImages(49, 1)[1]);
        String line = Cli.run("train", "--dataset", "mnist", "--data-dir", dir, "--epochs", 1, "--out", tmp.resolve("o"))
                .oneErrorLine();
        assertTrue(line.contains("49 labels") && line.contains("50 images"), line);
    }

    @Test
    void tinyImageDatasetTrainsFromDataDir() throws IOException {
        Path dir = Cli.writeTinyImageDataset(Files.createDirectories(tmp.resolve("data")), 500, 100);
        Path out = tmp.resolve("img");
        Cli.run("train", "--dataset", "mnist", "--data-dir", dir, "--layers", 16, "--lr", 0.01, "--epochs", 5, "--out", out).ok();
        JsonNode arch = Cli.readJson(out.resolve("model.json")).get("architecture");
        assertEquals(16, arch.get("inputs").asInt());
        assertEquals("[4,4]", arch.get("image_shape").toString());
        double accuracy = Cli.readJson(out.resolve("report.json")).get("test_accuracy").asDouble();
        assertTrue(accuracy > 0.9, "test accuracy " + accuracy);
        assertFalse(Files.exists(out.resolve("regions.png")), "decision regions only for 2-feature data");
    }

    @Test
    void divergingRunStopsNamingEpochAndBatchAndSuggestsLowerLr() {
        Path out = tmp.resolve("nan");
        Cli.Result r = Cli.run("train", "--optimizer", "sgd", "--lr", "1e6", "--epochs", 5, "--out", out);
        String line = r.oneErrorLine();
        assertTrue(line.matches(".*epoch 1, batch \\d+.*"), line);
        assertTrue(line.contains("lower --lr"), line);
        assertFalse(Files.exists(out.resolve("model.safetensors")), "a diverged model is not saved");
    }

    @Test
    void idxArrayHelperMakesValidFiles() {
        // Guards the fixtures above: the files the error tests corrupt are valid to begin with.
        IdxArray[] d = Cli.tinyImages(30, 3);
        assertArrayEquals(new int[] {30, Cli.SIDE, Cli.SIDE}, d[0].shape());
        assertEquals(30, d[1].numel());
    }
}
