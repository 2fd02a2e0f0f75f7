package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.deltagrad.io.ModelFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --arch}: train, evaluate, predict, bench train and the diagnostics on a small convolutional model, in seconds. */
class ArchCommandTest {
    private static final String ARCH = "conv6x3p1,maxpool2,fc24";

    @TempDir
    Path tmp;
    Path data;

    @BeforeEach
    void tinyImages() throws IOException {
        data = Cli.writeTinyImageDataset(Files.createDirectories(tmp.resolve("data")), 600, 200);
    }

    private Object[] train(Object... more) {
        return Cli.args(new Object[] {"train", "--dataset", "mnist", "--data-dir", data, "--out", tmp.resolve("run"),
                "--lr", 0.01, "--batch", 32}, more);
    }

    @Test
    void aConvolutionalModelTrainsIsSavedEvaluatedAndPredictsImages() throws IOException {
        Cli.Result r = Cli.run(train("--arch", ARCH, "--epochs", 8)).ok();
        assertTrue(r.out().contains("layers " + ARCH + ", relu"), r.out());
        // the summary: one line per module of the Sequential, as the parameter names count them
        assertTrue(r.outLines().stream().anyMatch(l -> l.matches("1 +Conv2d +conv6x3p1 +\\[6, 4, 4\\] +60")), r.out());
        assertTrue(r.outLines().stream().anyMatch(l -> l.matches("5 +Linear +fc24 +\\[24\\] +600")), r.out());
        assertTrue(r.outLines().stream().anyMatch(l -> l.matches(" +total +910")), r.out());
        JsonNode report = Cli.readJson(tmp.resolve("run/report.json"));
        assertEquals(ARCH, report.get("config").get("arch").asText());
        assertTrue(report.get("config").get("layers") == null, "--layers does not apply: " + report.get("config"));
        double accuracy = report.get("test_accuracy").asDouble();
        assertTrue(accuracy > 0.8, "test accuracy " + accuracy + " (chance is 0.1)");

        Path model = tmp.resolve("run/model.safetensors");
        ModelFile.Loaded loaded = ModelFile.load(model);
        assertEquals(ARCH, loaded.architecture().arch());
        assertEquals(List.of("1.weight", "1.bias", "5.weight", "5.bias", "7.weight", "7.bias"),
                List.copyOf(loaded.model().stateDict().keySet()));

        String evaluated = Cli.run("evaluate", "--model", model, "--data-dir", data).ok().outLines().get(0);
        assertEquals(String.format(Locale.ROOT, "mnist test: 200 examples, accuracy %.4f", accuracy), evaluated);

        // Class c lights pixel c: a PNG lighting pixel 6 is a 6.
        BufferedImage png = new BufferedImage(Cli.SIDE, Cli.SIDE, BufferedImage.TYPE_BYTE_GRAY);
        png.getRaster().setSample(6 % Cli.SIDE, 6 / Cli.SIDE, 0, 240);
        Path image = tmp.resolve("six.png");
        ImageIO.write(png, "png", image.toFile());
        String predicted = Cli.run("predict", "--model", model, "--input", image, "--top", 1).ok().outLines().get(0);
        assertTrue(predicted.startsWith("6 ("), predicted);
    }

    @Test
    void theDiagnosticsReportEveryConvAndFcLayerByName() throws Exception {
        Cli.run(train("--arch", ARCH, "--epochs", 2, "--diagnostics")).ok();
        JsonNode layers = Cli.readJson(tmp.resolve("run/report.json")).get("epochs").get(1).get("diagnostics");
        assertEquals(3, layers.size(), layers.toString());
        assertEquals(List.of("conv6x3p1", "fc24", "output fc10"),
                List.of(layers.get(0).get("name").asText(), layers.get(1).get("name").asText(), layers.get(2).get("name").asText()));
        for (JsonNode l : layers) {
            assertTrue(l.get("mean_abs_delta").asDouble() > 0 && l.get("weight_grad_norm").asDouble() > 0, l.toString());
        }
        // ReLU after the conv: some units are inactive, so its saturated fraction is a number; the output has none
        assertTrue(layers.get(0).get("saturated_fraction").isNumber(), layers.toString());
        assertEquals("NaN", layers.get(2).get("saturated_fraction").asText());
        String dom = HeadlessChromium.dumpDom(tmp, tmp.resolve("run/loss-diagnostics.html"), "");
        for (String heading : List.of("layer 1 (conv6x3p1)", "layer 2 (fc24)", "layer 3 (output fc10)")) {
            assertTrue(dom.contains("<h2>" + heading + "</h2>"), heading + " in " + dom);
        }
    }

    @Test
    void dropoutWorksAsATokenAndAsTheFlag() throws IOException {
        Cli.run(train("--arch", "conv6x3p1,dropout0.1,maxpool2,fc24", "--dropout", 0.2, "--epochs", 2)).ok();
        ModelFile.Loaded loaded = ModelFile.load(tmp.resolve("run/model.safetensors"));
        // the token is a layer of the saved model (index 3); --dropout is not saved
        assertEquals(List.of("1.weight", "1.bias", "6.weight", "6.bias", "8.weight", "8.bias"),
                List.copyOf(loaded.model().stateDict().keySet()));
        assertEquals(0.2, Cli.readJson(tmp.resolve("run/report.json")).get("config").get("dropout").asDouble());
    }

    @Test
    void batchNormTrainsAndTheSavedModelEvaluatesWithItsRunningStatistics() throws IOException {
        Cli.Result r = Cli.run(train("--arch", "conv6x3p1,bn,maxpool2,fc24,bn", "--epochs", 3)).ok();
        assertTrue(r.outLines().stream().anyMatch(l -> l.matches("2 +BatchNorm2d +bn +\\[6, 4, 4\\] +12")), r.out());
        double accuracy = Cli.readJson(tmp.resolve("run/report.json")).get("test_accuracy").asDouble();
        assertTrue(accuracy > 0.5, "test accuracy " + accuracy);
        String evaluated = Cli.run("evaluate", "--model", tmp.resolve("run/model.safetensors"), "--data-dir", data).ok().outLines().get(0);
        assertEquals(String.format(Locale.ROOT, "mnist test: 200 examples, accuracy %.4f", accuracy), evaluated);
    }

    @Test
    void badArchitecturesAreUsageErrorsNamingTheLayer() {
        Object[][] cases = {
            {"--arch: 'conv6x' (layer 1): expected conv<C>x<K>[s<S>][p<P>], e.g. conv16x5 or conv32x3s1p1", "--arch", "conv6x"},
            {"--arch: 'conv6x5' (layer 1) would shrink the image below 1x1: its input, the data, is [1, 4, 4], and a 5x5 kernel "
                    + "with padding 0 needs at least 5x5", "--arch", "conv6x5"},
            {"--arch and --layers both describe the model; give one (--layers 8,4 is --arch fc8,fc4)", "--arch", "fc8", "--layers", "8,4"},
        };
        for (Object[] c : cases) {
            Object[] flags = java.util.Arrays.copyOfRange(c, 1, c.length);
            Cli.Result r = Cli.run(train(flags));
            assertEquals(2, r.exit(), r.toString());
            assertEquals("deltagrad: " + c[0] + " (see 'deltagrad train --help')", r.oneErrorLine());
        }
        Cli.Result spirals = Cli.run("train", "--arch", "conv4x3", "--out", tmp.resolve("s"));
        assertEquals(2, spirals.exit(), spirals.toString());
        assertEquals("deltagrad: --arch: 'conv4x3' (layer 1) needs an image [C, H, W], but its input, the data, is flat [2] "
                + "(the data have no image shape) (see 'deltagrad train --help')", spirals.oneErrorLine());
        Cli.Result bench = Cli.run("bench", "train", "--arch", "fc4", "--layers", "4");
        assertEquals(2, bench.exit(), bench.toString());
    }

    @Test
    void benchTrainTimesAConvolutionalModel() throws IOException {
        Cli.Result r = Cli.run("bench", "train", "--dataset", "mnist", "--data-dir", data, "--arch", ARCH, "--warmup", 0, "--timed", 1,
                "--json").ok();
        JsonNode j = Cli.parseJson(r.out());
        assertEquals(ARCH, j.get("config").get("arch").asText());
        // 6·9 multiply-adds per output of [6, 4, 4], 24·24 and 24·10 for the fcs: 6x forward less the first layer's input gradient
        double flopsPerExample = 6.0 * (6 * 9 * 16 + 24 * 24 + 24 * 10) - 2.0 * (6 * 9 * 16);
        assertEquals(flopsPerExample * 600 / j.get("median_epoch_seconds").asDouble() / 1e9, j.get("gflops").asDouble(), 1e-9);
    }
}
