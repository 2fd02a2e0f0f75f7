package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.deltagrad.data.Idx;
import org.deltagrad.io.ModelFile;
import org.deltagrad.io.SafeTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deltagrad predict}: feature vectors on a spirals model; PNG, PGM (P2, P5) and IDX inputs on a tiny
 * image model trained from generated 4×4 IDX files in which class c is a bright pixel c.
 */
class PredictCommandTest {
    @TempDir
    static Path shared;
    @TempDir
    Path tmp;

    static Path spirals;
    static Path images;
    static Path imageData;

    @BeforeAll
    static void trainModels() throws IOException {
        spirals = Cli.trainSpirals(shared.resolve("spirals"));
        imageData = Cli.writeTinyImageDataset(Files.createDirectories(shared.resolve("data")), 500, 100);
        Path out = shared.resolve("tiny");
        Cli.run("train", "--dataset", "mnist", "--data-dir", imageData, "--layers", 16, "--lr", 0.03, "--epochs", 10,
                "--threads", 1, "--out", out).ok();
        images = out.resolve("model.safetensors");
        double accuracy = Cli.readJson(out.resolve("report.json")).get("test_accuracy").asDouble();
        assertTrue(accuracy >= 0.95, "the tiny image model must have learned its classes: test accuracy " + accuracy);
    }

    private static final Pattern ROW = Pattern.compile("^  (.+?)\\s+([01]\\.\\d{4})$");

    /** The "  name  p" rows of a plain-text prediction, in order. */
    private static List<String[]> probabilityRows(String out) {
        List<String[]> rows = new ArrayList<>();
        for (String line : out.lines().toList()) {
            Matcher m = ROW.matcher(line);
            if (m.matches()) rows.add(new String[] {m.group(1), m.group(2)});
        }
        return rows;
    }

    @Test
    void valuesGiveProbabilitiesThatSumToOne() {
        Cli.Result r = Cli.run("predict", "--model", spirals, "--values", "0.2,-0.5").ok();
        List<String[]> rows = probabilityRows(r.out());
        assertEquals(3, rows.size(), r.out());
        double sum = rows.stream().mapToDouble(row -> Double.parseDouble(row[1])).sum();
        assertEquals(1.0, sum, 2e-4, r.out()); // each printed to 4 decimals
        // The first line names the most probable class, which heads the sorted list.
        assertTrue(r.outLines().get(0).startsWith(rows.get(0)[0] + " ("), r.out());
        for (int i = 1; i < rows.size(); i++) {
            assertTrue(Double.parseDouble(rows.get(i - 1)[1]) >= Double.parseDouble(rows.get(i)[1]), r.out());
        }
    }

    @Test
    void jsonProbabilitiesSumToOneAndFollowTheSpiralArms() throws IOException {
        // A point half way out on arm k (Datasets.spirals: angle 2πk/3 + 3πr) belongs to class k.
        for (int k = 0; k < 3; k++) {
            double r = 0.5, angle = 2 * Math.PI * k / 3 + 3 * Math.PI * r;
            String values = (r * Math.cos(angle)) + "," + (r * Math.sin(angle));
            JsonNode p = Cli.parseJson(Cli.run("predict", "--model", spirals, "--values", values, "--json").ok().out())
                    .get("predictions").get(0);
            assertEquals("" + k, p.get("predicted").asText(), p.toString());
            double sum = 0;
            for (JsonNode v : p.get("probabilities")) sum += v.asDouble();
            assertEquals(1.0, sum, 1e-6, p.toString());
            assertTrue(p.get("probabilities").get("" + k).asDouble() > 0.5, p.toString());
        }
    }

    @Test
    void topLimitsTheList() {
        Cli.Result r = Cli.run("predict", "--model", spirals, "--values", "0.2,-0.5", "--top", 1).ok();
        assertEquals(1, probabilityRows(r.out()).size(), r.out());
    }

    @Test
    void wrongNumberOfValuesIsOneLine() {
        String line = Cli.run("predict", "--model", spirals, "--values", "1,2,3").oneErrorLine();
        assertTrue(line.contains("3 values") && line.contains("expects 2"), line);
    }

    @Test
    void exactlyOneInputIsRequired() throws IOException {
        Cli.run("predict", "--model", spirals).oneErrorLine();
        Path png = writePng(tmp.resolve("x.png"), bright(3), 4);
        Cli.run("predict", "--model", spirals, "--values", "1,2", "--input", png).oneErrorLine();
    }

    // ------------------------------------------------------------------ image inputs

    /** A 4×4 grey image, dim everywhere but pixel {@code c} (row-major). */
    private static int[] bright(int c) {
        int[] g = new int[16];
        Arrays.fill(g, 10);
        g[c] = 240;
        return g;
    }

    /** Writes a 4×4 grey image scaled up {@code scale} times (nearest neighbour) as a PNG. */
    private static Path writePng(Path file, int[] grey, int scale) throws IOException {
        BufferedImage img = new BufferedImage(4 * scale, 4 * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4 * scale; y++) {
            for (int x = 0; x < 4 * scale; x++) {
                int v = grey[(y / scale) * 4 + x / scale];
                img.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        }
        assertTrue(ImageIO.write(img, "png", file.toFile()));
        return file;
    }

    private static String predicted(Cli.Result r) throws IOException {
        return Cli.parseJson(r.ok().out()).get("predictions").get(0).get("predicted").asText();
    }

    @Test
    void pngIsClassified() throws IOException {
        for (int c : new int[] {0, 3, 9}) {
            Path png = writePng(tmp.resolve("digit" + c + ".png"), bright(c), 1);
            assertEquals("" + c, predicted(Cli.run("predict", "--model", images, "--input", png, "--json")));
        }
    }

    @Test
    void largerPngIsScaledToTheModelsImageSize() throws IOException {
        Path png = writePng(tmp.resolve("big.png"), bright(6), 8);
        assertEquals("6", predicted(Cli.run("predict", "--model", images, "--input", png, "--json")));
    }

    @Test
    void invertTurnsDarkOnWhiteIntoTheDatasetsLightOnBlack() throws IOException {
        int[] g = bright(5);
        for (int i = 0; i < g.length; i++) g[i] = 255 - g[i];
        Path png = writePng(tmp.resolve("inverted.png"), g, 1);
        assertEquals("5", predicted(Cli.run("predict", "--model", images, "--input", png, "--invert", "--json")));
    }

    @Test
    void plainPgmIsClassified() throws IOException {
        StringBuilder pgm = new StringBuilder("P2\n# a comment\n4 4\n255\n");
        for (int v : bright(7)) pgm.append(v).append(' ');
        Path file = Files.writeString(tmp.resolve("seven.pgm"), pgm.append('\n'));
        Cli.Result r = Cli.run("predict", "--model", images, "--input", file);
        assertTrue(r.ok().outLines().get(0).startsWith("7 ("), r.out());
        double sum = probabilityRows(r.out()).stream().mapToDouble(row -> Double.parseDouble(row[1])).sum();
        assertEquals(1.0, sum, 1e-3, r.out());
    }

    @Test
    void rawPgmIsClassified() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("P5\n4 4\n255\n".getBytes(StandardCharsets.US_ASCII));
        for (int v : bright(2)) b.write(v);
        Path eight = Files.write(tmp.resolve("two.pgm"), b.toByteArray());
        assertEquals("2", predicted(Cli.run("predict", "--model", images, "--input", eight, "--json")));

        ByteArrayOutputStream wide = new ByteArrayOutputStream();
        wide.writeBytes("P5 4 4 65535\n".getBytes(StandardCharsets.US_ASCII));
        for (int v : bright(8)) {
            wide.write(v); // 16-bit big-endian: v * 257 scales 0..255 to 0..65535
            wide.write(v);
        }
        Path sixteen = Files.write(tmp.resolve("eight16.pgm"), wide.toByteArray());
        assertEquals("8", predicted(Cli.run("predict", "--model", images, "--input", sixteen, "--json")));
    }

    @Test
    void truncatedPgmIsOneLine() throws IOException {
        Path file = Files.write(tmp.resolve("short.pgm"), "P5\n4 4\n255\n\1\2\3".getBytes(StandardCharsets.US_ASCII));
        assertTrue(Cli.run("predict", "--model", images, "--input", file).oneErrorLine().contains("truncated"));
    }

    @Test
    void idxFileOfImagesIsClassifiedRowByRow() throws IOException {
        // The test images of the tiny set: labels are 0, 1, 2, ... in turn.
        Path idx = Files.copy(imageData.resolve("t10k-images-idx3-ubyte"), tmp.resolve("some-idx3-ubyte"));
        JsonNode all = Cli.parseJson(Cli.run("predict", "--model", images, "--input", idx, "--limit", 12, "--json")
                .ok().out()).get("predictions");
        assertEquals(12, all.size());
        int right = 0;
        for (int i = 0; i < all.size(); i++) {
            assertEquals(i, all.get(i).get("index").asInt());
            if (all.get(i).get("predicted").asText().equals("" + (i % 10))) right++;
        }
        assertTrue(right >= 11, right + " of 12 right: " + all);

        Cli.Result text = Cli.run("predict", "--model", images, "--input", idx).ok();
        assertEquals(10, text.outLines().stream().filter(l -> l.startsWith("#")).count(), "--limit defaults to 10");
        assertTrue(text.out().startsWith("#0: 0 ("), text.out());
    }

    @Test
    void idxFileOfOneImageWorks() throws IOException {
        Path one = tmp.resolve("one.idx");
        Idx.write(one, org.deltagrad.data.IdxArray.ofInts(org.deltagrad.data.IdxArray.Type.UBYTE, new int[] {4, 4}, bright(4)));
        // A rank-2 file is one image, not four rows of four.
        JsonNode all = Cli.parseJson(Cli.run("predict", "--model", images, "--input", one, "--json").ok().out())
                .get("predictions");
        assertEquals(1, all.size(), all.toString());
        assertEquals("4", all.get(0).get("predicted").asText());
    }

    @Test
    void imageForAFeatureModelIsOneLine() throws IOException {
        Path png = writePng(tmp.resolve("x.png"), bright(1), 1);
        String line = Cli.run("predict", "--model", spirals, "--input", png).oneErrorLine();
        assertTrue(line.contains("16 values") && line.contains("expects 2"), line);
    }

    @Test
    void unreadableImageIsOneLine() throws IOException {
        Path bogus = Files.writeString(tmp.resolve("bogus.png"), "not an image");
        assertTrue(Cli.run("predict", "--model", images, "--input", bogus).oneErrorLine().contains(bogus.toString()));
        Path missing = tmp.resolve("missing.png");
        assertTrue(Cli.run("predict", "--model", images, "--input", missing).oneErrorLine().contains(missing.toString()));
    }

    // ------------------------------------------------------------------ broken model files

    @Test
    void weightsOfAnotherArchitectureAreOneLine() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("mixed"));
        Files.copy(ModelFile.configPath(spirals), dir.resolve("model.json"));
        Files.copy(images, dir.resolve("model.safetensors"));
        String line = Cli.run("predict", "--model", dir.resolve("model.safetensors"), "--values", "0,0").oneErrorLine();
        assertTrue(line.contains("does not match"), line);
    }

    @Test
    void theWeightsFileAloneIsTheModelAndAnOldOneWithoutItsJsonIsOneLine() throws IOException {
        Path weights = Files.copy(spirals, tmp.resolve("w.safetensors")); // the architecture travels inside
        Cli.Result whole = Cli.run("predict", "--model", weights, "--values", "0,0").ok();
        assertEquals(Cli.run("predict", "--model", spirals, "--values", "0,0").ok().out(), whole.out());

        SafeTensors.write(weights, SafeTensors.read(spirals).tensors()); // as older versions wrote
        String line = Cli.run("predict", "--model", weights, "--values", "0,0").oneErrorLine();
        assertTrue(line.contains("w.json") && line.contains("missing"), line);
    }

    @Test
    void corruptSafetensorsIsOneLine() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("corrupt"));
        Files.copy(ModelFile.configPath(spirals), dir.resolve("model.json"));
        Files.writeString(dir.resolve("model.safetensors"), "certainly not safetensors, but long enough");
        String line = Cli.run("predict", "--model", dir.resolve("model.safetensors"), "--values", "0,0").oneErrorLine();
        assertTrue(line.contains("model.safetensors"), line);
    }

    @Test
    void corruptModelJsonIsOneLine() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("badjson"));
        Files.copy(spirals, dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("model.json"), "{\"architecture\": {\"inputs\": 2");
        String line = Cli.run("predict", "--model", dir.resolve("model.safetensors"), "--values", "0,0").oneErrorLine();
        assertTrue(line.contains("model.json"), line);
    }
}
