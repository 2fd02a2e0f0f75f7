package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.deltagrad.train.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --data FILE.csv|DIR}, then {@code predict} and {@code evaluate} on the same kinds of input, end to end on
 * the README's example data, made by the README's own command ({@code java docs/examples/ExampleData.java}).
 */
class OwnDataTest {
    @TempDir
    static Path shared;
    @TempDir
    Path tmp;

    static Path penguins;
    static Path shapes;
    static Path csvRun;
    static Path imageRun;

    @BeforeAll
    static void trainOnTheReadmeExamples() throws Exception {
        penguins = exampleData("penguins", shared.resolve("penguins.csv"));
        shapes = exampleData("shapes", shared.resolve("shapes"), "60");
        csvRun = shared.resolve("runs/penguins");
        Cli.run("train", "--data", penguins, "--epochs", 30, "--threads", 1, "--out", csvRun).ok();
        imageRun = shared.resolve("runs/shapes");
        Cli.run("train", "--data", shapes, "--layers", 64, "--epochs", 30, "--threads", 1, "--out", imageRun).ok();
    }

    /** Runs {@code java docs/examples/ExampleData.java KIND TARGET [N]}, as the README does. */
    static Path exampleData(String kind, Path target, String... more) throws Exception {
        Path source = Path.of("..", "docs", "examples", "ExampleData.java").toAbsolutePath().normalize();
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                source.toString(), kind, target.toString()));
        command.addAll(List.of(more));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "ExampleData failed: " + output);
        return target;
    }

    private static double testAccuracy(Path run) throws IOException {
        return Cli.readJson(run.resolve("report.json")).get("test_accuracy").asDouble();
    }

    @Test
    void csvTrainsToAHighAccuracyAndRecordsItsStandardisation() throws IOException {
        assertTrue(testAccuracy(csvRun) >= 0.95, "penguins test accuracy " + testAccuracy(csvRun));
        JsonNode model = Cli.readJson(csvRun.resolve("model.json"));
        JsonNode input = model.get("input");
        assertEquals("csv", input.get("kind").asText());
        assertEquals("[\"bill_length_mm\",\"bill_depth_mm\",\"flipper_length_mm\",\"body_mass_g\"]", input.get("features").toString());
        assertEquals("species", input.get("label").asText());
        assertEquals("[\"Adelie\",\"Chinstrap\",\"Gentoo\"]", input.get("classes").toString());
        double mass = input.get("mean").get(3).asDouble();
        assertTrue(mass > 3500 && mass < 5000 && input.get("std").get(3).asDouble() > 100, input.toString());
        assertEquals("penguins", model.get("training").get("dataset").asText());
        assertEquals(List.of("Adelie", "Chinstrap", "Gentoo"), names(model.get("architecture").get("class_names")));
    }

    @Test
    void predictTakesTheColumnsByNameInAnyOrderAndPrintsClassNames() throws IOException {
        // The first 30 rows with the columns reversed and the label first.
        List<String> lines = Files.readAllLines(penguins);
        StringBuilder reversed = new StringBuilder();
        for (String line : lines.subList(0, 31)) {
            List<String> cells = new java.util.ArrayList<>(List.of(line.split(",")));
            java.util.Collections.reverse(cells);
            reversed.append(String.join(",", cells)).append('\n');
        }
        Path input = Files.writeString(tmp.resolve("reversed.csv"), reversed);
        Cli.Result r = Cli.run("predict", "--model", csvRun.resolve("model.safetensors"), "--input", input, "--top", 1).ok();
        assertTrue(r.outLines().get(0).matches("line 2: (Adelie|Chinstrap|Gentoo) \\(\\d\\.\\d{4}\\)  true: Adelie"), r.out());
        String last = r.outLines().get(r.outLines().size() - 1);
        assertTrue(last.matches("accuracy (0\\.9\\d{3}|1\\.0000) \\(\\d+ of 30\\)"), last);

        // Without the label column: predictions only, no accuracy.
        StringBuilder unlabelled = new StringBuilder();
        for (String line : reversed.toString().lines().toList()) unlabelled.append(line.substring(line.indexOf(',') + 1)).append('\n');
        Path noLabel = Files.writeString(tmp.resolve("unlabelled.csv"), unlabelled);
        Cli.Result u = Cli.run("predict", "--model", csvRun.resolve("model.safetensors"), "--input", noLabel, "--json").ok();
        JsonNode json = Cli.parseJson(u.out());
        assertEquals(30, json.get("predictions").size());
        assertEquals(null, json.get("accuracy"));
        assertEquals("line 2", json.get("predictions").get(0).get("input").asText());

        // --values are raw measurements in the model's column order: standardised as in training.
        Cli.Result v = Cli.run("predict", "--model", csvRun.resolve("model.safetensors"), "--values", "47.5,15.0,217,5076").ok();
        assertTrue(v.outLines().get(0).startsWith("Gentoo ("), v.out());
        Cli.Result a = Cli.run("predict", "--model", csvRun.resolve("model.safetensors"), "--values", "38.8,18.3,190,3700").ok();
        assertTrue(a.outLines().get(0).startsWith("Adelie ("), a.out());
    }

    @Test
    void evaluateOnACsvFile() throws IOException {
        Cli.Result r = Cli.run("evaluate", "--model", csvRun.resolve("model.safetensors"), "--data", penguins, "--json").ok();
        JsonNode json = Cli.parseJson(r.out());
        assertEquals(300, json.get("examples").asInt());
        assertTrue(json.get("accuracy").asDouble() >= 0.95, r.out());
        assertEquals(List.of("Adelie", "Chinstrap", "Gentoo"), List.copyOf(iterable(json.get("per_class_accuracy").fieldNames())));
        String line = Cli.run("evaluate", "--model", csvRun.resolve("model.safetensors")).oneErrorLine();
        assertTrue(line.contains("was trained on your own data; give a labelled CSV file or image folder with --data"), line);
        Path spirals = Cli.trainSpirals(tmp.resolve("spirals"));
        line = Cli.run("evaluate", "--model", spirals, "--data", penguins).oneErrorLine();
        assertTrue(line.endsWith(spirals + " was trained on a built-in dataset; --data is for models trained with --data (use --dataset)"), line);
        Path unlabelled = Files.writeString(tmp.resolve("unlabelled.csv"), "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\n"
                + "47.5,15.0,217,5076\n");
        line = Cli.run("evaluate", "--model", csvRun.resolve("model.safetensors"), "--data", unlabelled).oneErrorLine();
        assertTrue(line.endsWith(unlabelled + ": no labels to evaluate against (expected the label column \"species\")"), line);
    }

    @Test
    void imageFolderTrainsAnMlpToAHighAccuracyAndPredictsOnFilesAndFolders() throws Exception {
        assertTrue(testAccuracy(imageRun) >= 0.9, "shapes test accuracy " + testAccuracy(imageRun));
        JsonNode input = Cli.readJson(imageRun.resolve("model.json")).get("input");
        assertEquals("{\"kind\":\"images\",\"channels\":3,\"height\":32,\"width\":32,\"classes\":[\"circle\",\"cross\",\"square\"]}",
                input.toString());
        Path model = imageRun.resolve("model.safetensors");
        // New pictures, made like the training ones with another seed: one file, then a folder.
        Path fresh = exampleData("shapes", tmp.resolve("fresh"), "70", "2");
        Path square = fresh.resolve("square").resolve("070.png");
        Cli.Result one = Cli.run("predict", "--model", model, "--input", square).ok();
        assertTrue(one.outLines().get(0).startsWith(square + ": "), one.out());
        Cli.Result folder = Cli.run("predict", "--model", model, "--input", fresh, "--json").ok();
        JsonNode json = Cli.parseJson(folder.out());
        assertEquals(210, json.get("predictions").size());
        assertEquals(Path.of("circle", "001.png").toString(), json.get("predictions").get(0).get("input").asText());
        assertEquals("circle", json.get("predictions").get(0).get("label").asText());
        assertTrue(json.get("accuracy").asDouble() >= 0.9, "accuracy on the class folders " + json.get("accuracy"));
        Cli.Result flat = Cli.run("predict", "--model", model, "--input", fresh.resolve("cross"), "--top", 1).ok();
        assertTrue(flat.outLines().get(0).startsWith("001.png: "), flat.out());

        Cli.Result e = Cli.run("evaluate", "--model", model, "--data", fresh).ok();
        assertTrue(e.outLines().get(0).startsWith(fresh + ": 210 examples, accuracy 0.9")
                || e.outLines().get(0).startsWith(fresh + ": 210 examples, accuracy 1.0"), e.out());
    }

    /** The README's convolutional run on the same RGB folder: [3, 32, 32] images into conv layers, then predict on new ones. */
    @Test
    void imageFolderTrainsAConvolutionalNetworkOnRgbImages() throws Exception {
        Path run = tmp.resolve("runs/shapes-cnn");
        Cli.run("train", "--data", shapes, "--arch", "conv8x3,maxpool2,conv16x3,maxpool2,fc32", "--lr", "0.005", "--batch", 16,
                "--epochs", 30, "--threads", 1, "--out", run).ok();
        assertTrue(testAccuracy(run) >= 0.95, "shapes CNN test accuracy " + testAccuracy(run));
        JsonNode arch = Cli.readJson(run.resolve("model.json")).get("architecture");
        assertEquals("[3,32,32]", arch.get("image_shape").toString(), arch.toString());
        Path fresh = exampleData("shapes", tmp.resolve("fresh-cnn"), "20", "2");
        Cli.Result e = Cli.run("evaluate", "--model", run.resolve("model.safetensors"), "--data", fresh).ok();
        String first = e.outLines().get(0);
        double accuracy = Double.parseDouble(first.substring(first.lastIndexOf(' ') + 1));
        assertTrue(first.startsWith(fresh + ": 60 examples, accuracy ") && accuracy >= 0.95, e.out());
    }

    @Test
    void imageSizeAndChannelsAreRecordedAndUsedByPredict() throws IOException {
        Path run = tmp.resolve("small");
        Cli.run("train", "--data", shapes, "--image-size", "16x12", "--channels", 1, "--layers", 16, "--epochs", 2, "--out", run).ok();
        JsonNode model = Cli.readJson(run.resolve("model.json"));
        assertEquals("{\"kind\":\"images\",\"channels\":1,\"height\":16,\"width\":12,\"classes\":[\"circle\",\"cross\",\"square\"]}",
                model.get("input").toString());
        assertEquals("[1,16,12]", model.get("architecture").get("image_shape").toString());
        Path circle = shapes.resolve("circle/001.png");
        // A greymap of the same picture (grey levels rounded to bytes), as predict reads for the built-in image sets.
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(circle.toFile());
        StringBuilder pgm = new StringBuilder("P2\n" + img.getWidth() + " " + img.getHeight() + "\n255\n");
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                pgm.append(Math.round(0.299 * (p >> 16 & 0xff) + 0.587 * (p >> 8 & 0xff) + 0.114 * (p & 0xff))).append(' ');
            }
        }
        Path grey = Files.writeString(tmp.resolve("circle.pgm"), pgm);
        String fromPgm = Cli.run("predict", "--model", run.resolve("model.safetensors"), "--input", grey, "--top", 1).ok().outLines().get(0);
        String fromPng = Cli.run("predict", "--model", run.resolve("model.safetensors"), "--input", circle, "--top", 1).ok().outLines().get(0);
        String[] png = fromPng.split(" "), pgmWords = fromPgm.split(" ");
        assertEquals(png[1], pgmWords[1], fromPng + " vs " + fromPgm);
        assertEquals(Double.parseDouble(png[2].replaceAll("[()]", "")), Double.parseDouble(pgmWords[2].replaceAll("[()]", "")), 0.01);
        String plain = Cli.run("predict", "--model", run.resolve("model.safetensors"), "--input", circle, "--json").ok().out();
        String inverted = Cli.run("predict", "--model", run.resolve("model.safetensors"), "--input", circle, "--json", "--invert").ok().out();
        assertTrue(!plain.equals(inverted), "--invert applies to an image model's own input too");
        String line = Cli.run("predict", "--model", csvRun.resolve("model.safetensors"), "--input", penguins, "--invert").oneErrorLine();
        assertTrue(line.endsWith("--invert is for images; " + csvRun.resolve("model.safetensors") + " takes CSV rows"), line);
    }

    @Test
    void benchTrainMeasuresTheSameData() throws IOException {
        Cli.Result r = Cli.run("bench", "train", "--data", penguins, "--warmup", 0, "--timed", 1, "--json").ok();
        assertEquals(240, Cli.parseJson(r.out()).get("samples_per_epoch").asInt(), r.out());
    }

    @Test
    void aTestFileReplacesTheSplit() throws IOException {
        List<String> lines = Files.readAllLines(penguins);
        Path train = Files.write(tmp.resolve("train.csv"), lines.subList(0, 241));
        List<String> test = new java.util.ArrayList<>(List.of(lines.get(0)));
        test.addAll(lines.subList(241, 301));
        Path testFile = Files.write(tmp.resolve("test.csv"), test);
        Cli.Result r = Cli.run("train", "--data", train, "--test", testFile, "--epochs", 2, "--out", tmp.resolve("t")).ok();
        assertTrue(r.outLines().get(0).startsWith("deltagrad train: train (240 train, 60 test, 4 features, 3 classes)"), r.out());
    }

    @Test
    void flagsThatDoNotGoTogetherAreUsageErrors() throws IOException {
        Path csv = penguins, dir = shapes;
        Object[][] cases = {
            {"--data cannot be given with --dataset: train on either your own data or a built-in dataset", "--data", csv, "--dataset", "mnist"},
            {"--data cannot be given with --data-dir", "--data", csv, "--data-dir", dir},
            {"--label is for your own data: give it with --data FILE.csv|DIR", "--label", "species"},
            {"--image-size is for your own data", "--image-size", "28"},
            {"--label is for a CSV file, but --data " + dir + " is a folder", "--data", dir, "--label", "x"},
            {"--image-size is for an image folder, but --data " + csv + " is not a folder", "--data", csv, "--image-size", "28"},
            {"--channels is for an image folder", "--data", csv, "--channels", "1"},
            {"--test-fraction cannot be given with --test: the test set is --test", "--data", csv, "--test", csv, "--test-fraction", "0.3"},
            {"--test-fraction must be between 0 and 1 (got 1.0)", "--data", csv, "--test-fraction", "1"},
            {"--channels must be 1 (grey) or 3 (RGB) (got 2)", "--data", dir, "--channels", "2"},
            {"--image-size must be N or HxW with sides from 1 to 4096 pixels, e.g. 28 or 32x48 (got '0x5')", "--data", dir, "--image-size", "0x5"},
            {"--image-size must be N or HxW", "--data", dir, "--image-size", "big"},
        };
        for (Object[] c : cases) {
            Object[] flags = java.util.Arrays.copyOfRange(c, 1, c.length);
            Cli.Result r = Cli.run(Cli.args(new Object[] {"train", "--epochs", 1, "--out", tmp.resolve("never")}, flags));
            String line = r.oneErrorLine();
            assertTrue(line.contains((String) c[0]), line);
            assertEquals(2, r.exit(), r.toString());
            Cli.Result b = Cli.run(Cli.args(new Object[] {"bench", "train", "--timed", 1, "--warmup", 0}, flags));
            assertTrue(b.oneErrorLine().contains((String) c[0]), b.toString());
        }
        assertTrue(!Files.exists(tmp.resolve("never")), "nothing written on a usage error");
    }

    @Test
    void badDataIsOneLineNamingTheFile() throws IOException {
        Path ragged = Files.writeString(tmp.resolve("ragged.csv"), "a,b,y\n1,2,p\n3,q\n");
        String line = Cli.run("train", "--data", ragged, "--out", tmp.resolve("o")).oneErrorLine();
        assertEquals("deltagrad: " + ragged + ": line 3: expected 3 columns (as in the header on line 1), found 2", line);
        Path sizes = tmp.resolve("sizes");
        Files.createDirectories(sizes.resolve("a"));
        Files.copy(shapes.resolve("circle/001.png"), sizes.resolve("a/1.png"));
        Files.createDirectories(sizes.resolve("b"));
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
                sizes.resolve("b/1.png").toFile());
        line = Cli.run("train", "--data", sizes, "--out", tmp.resolve("o")).oneErrorLine();
        assertTrue(line.startsWith("deltagrad: " + sizes + ": images differ in size (")
                && line.endsWith("choose one size to resize them to (--image-size N or HxW)"), line);
        Path other = Files.writeString(tmp.resolve("other.csv"), "a,b\n1,2\n");
        String predict = Cli.run("predict", "--model", csvRun.resolve("model.safetensors"), "--input", other).oneErrorLine();
        assertTrue(predict.startsWith("deltagrad: " + other + ": no columns named bill_length_mm, bill_depth_mm"), predict);
    }

    @Test
    void resumeReadsTheSameDataTheSameWay() throws IOException {
        Path run = tmp.resolve("resume");
        Cli.run("train", "--data", penguins, "--test-fraction", 0.3, "--epochs", 3, "--out", run).ok();
        byte[] model = Files.readAllBytes(run.resolve("model.safetensors"));
        Files.delete(run.resolve("model.safetensors"));
        Checkpoint.addNote(run.resolve(Checkpoint.FILE_NAME), "outputs", "not yet"); // as if stopped before writing them
        Cli.Result r = Cli.run("train", "--resume", run).ok();
        assertTrue(r.out().contains("penguins (210 train, 90 test"), r.out());
        assertArrayEquals(model, Files.readAllBytes(run.resolve("model.safetensors")));
        Checkpoint.addNote(run.resolve(Checkpoint.FILE_NAME), "data.test_fraction", "a third");
        String line = Cli.run("train", "--resume", run).oneErrorLine();
        assertTrue(line.startsWith("deltagrad: " + run.resolve(Checkpoint.FILE_NAME) + ": the recorded data (data.* notes) is not valid"),
                line);
    }

    @Test
    void aFailedDownloadNamesTheDataDirFlag() throws IOException {
        String home = System.getProperty("deltagrad.home"), base = System.getProperty("deltagrad.mnist.baseUrl");
        try {
            System.setProperty("deltagrad.home", tmp.resolve("home").toString());
            System.setProperty("deltagrad.mnist.baseUrl", "http://127.0.0.1:9/"); // the discard port: nothing serves there
            String line = Cli.run("train", "--dataset", "mnist", "--out", tmp.resolve("o")).oneErrorLine();
            assertTrue(line.contains(" or pass a data directory (--data-dir DIR)"), line);
        } finally {
            restore("deltagrad.home", home);
            restore("deltagrad.mnist.baseUrl", base);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) System.clearProperty(key);
        else System.setProperty(key, value);
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
