package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deltagrad.Tensor;
import org.deltagrad.data.Idx;
import org.deltagrad.data.IdxArray;
import org.deltagrad.io.ModelFile;
import org.deltagrad.io.SafeTensors;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input, impossible sizes and faults, one row each: every one ends with ONE line on stderr naming the file
 * or flag and what was expected, a non-zero exit and no stack trace; none crashes, runs for minutes or prints a
 * class for an input that is not a number.
 */
class CliFaultsTest {
    @TempDir
    Path tmp;

    private static final Architecture SPEC = Architecture.mlp(2, new int[] {8}, 3, Activation.RELU, false, null, null);
    private static final String ARCH = "\"inputs\": 2, \"hidden\": [8], \"outputs\": 3, \"activation\": \"relu\"";

    /** Prepares files in its own directory and returns the command line to run there. */
    @FunctionalInterface
    interface Setup {
        Object[] args(Path dir) throws IOException;
    }

    private static Path model(Path dir) {
        return dir.resolve("model.safetensors");
    }

    /** A model whose weights file carries this architecture and training configuration (JSON) and no model.json. */
    private static Path withMetadata(Path dir, String architecture, String training) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("architecture", architecture);
        if (training != null) metadata.put("training", training);
        SafeTensors.write(model(dir), SPEC.build(1).stateDict(), metadata);
        return model(dir);
    }

    /** A model as older versions wrote it: weights without architecture, and this model.json beside them. */
    private static Path oldStyle(Path dir, byte[] json) throws IOException {
        SafeTensors.write(model(dir), SPEC.build(1).stateDict());
        Files.write(ModelFile.configPath(model(dir)), json);
        return model(dir);
    }

    private static Path goodModel(Path dir) throws IOException {
        ModelFile.save(model(dir), SPEC, SPEC.build(1), Map.of("dataset", "spirals"));
        return model(dir);
    }

    private static Object[] predict(Path model, Object... more) {
        return Cli.args(new Object[] {"predict", "--model", model}, more);
    }

    private static Arguments row(String name, Setup setup, String... fragments) {
        return Arguments.of(name, setup, List.of(fragments));
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                row("model.json claims hidden [40000, 40000] beside 18 KB of weights",
                        d -> predict(oldStyle(d, ("{\"architecture\": {\"inputs\": 2, \"hidden\": [40000, 40000], \"outputs\": 3, "
                                + "\"activation\": \"relu\"}}").getBytes(StandardCharsets.UTF_8)), "--values", "0.1,0.2"),
                        "model.json", "[2] fc40000,fc40000 -> 3", "'0.weight'", "[8, 2]"),
                row("the metadata claims hidden [40000, 40000]",
                        d -> predict(withMetadata(d, "{\"inputs\": 2, \"hidden\": [40000, 40000], \"outputs\": 3, \"activation\": \"relu\"}",
                                null), "--values", "0.1,0.2"),
                        "model.safetensors", "__metadata__", "[40000, 2]"),
                row("class_names shorter than the outputs",
                        d -> predict(oldStyle(d, ("{\"architecture\": {" + ARCH + ", \"class_names\": [\"a\"]}}")
                                .getBytes(StandardCharsets.UTF_8)), "--values", "0.1,0.2"),
                        "model.json", "\"class_names\": expected 3 strings"),
                row("class_names shorter than the outputs, in the metadata",
                        d -> predict(withMetadata(d, "{" + ARCH + ", \"class_names\": [\"a\", \"b\"]}", null), "--values", "0.1,0.2"),
                        "model.safetensors", "\"class_names\": expected 3 strings"),
                row("training.dataset is a number",
                        d -> new Object[] {"evaluate", "--model", oldStyle(d, ("{\"architecture\": {" + ARCH + "}, "
                                + "\"training\": {\"dataset\": 42}}").getBytes(StandardCharsets.UTF_8))},
                        "model.json", "\"dataset\"", "string", "42", "--dataset"),
                row("training.dataset is a number, in the metadata",
                        d -> new Object[] {"evaluate", "--model", withMetadata(d, "{" + ARCH + "}", "{\"dataset\": [1]}")},
                        "model.safetensors", "\"dataset\"", "string", "[1]"),
                row("model.json is not UTF-8",
                        d -> predict(oldStyle(d, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'}), "--values", "0.1,0.2"),
                        "model.json", "UTF-8"),
                row("a number too large for any type in model.json",
                        d -> predict(oldStyle(d, ("{\"architecture\": {\"inputs\": 1e99999999999, \"hidden\": [8], \"outputs\": 3, "
                                + "\"activation\": \"relu\"}}").getBytes(StandardCharsets.UTF_8)), "--values", "0.1,0.2"),
                        "model.json"),
                row("non-finite weights",
                        d -> {
                            goodModel(d);
                            LinkedHashMap<String, Tensor> state = SafeTensors.read(model(d)).tensors();
                            state.put("2.bias", Tensor.of(new float[] {0, Float.NaN, 0}, 3));
                            SafeTensors.write(model(d), state, SafeTensors.read(model(d)).metadata());
                            return predict(model(d), "--values", "0.1,0.2");
                        },
                        "model.safetensors", "'2.bias'", "1 NaN value"),
                row("model.json disagrees with the weights file",
                        d -> {
                            Path json = ModelFile.configPath(goodModel(d));
                            Files.writeString(json, Files.readString(json).replace("\"relu\"", "\"tanh\""));
                            return predict(model(d), "--values", "0.1,0.2");
                        },
                        "model.json does not match", "model.safetensors"),
                row("predict --model given the JSON copy",
                        d -> predict(ModelFile.configPath(goodModel(d)), "--values", "0.1,0.2"),
                        "model.json: this is a model's readable JSON copy", ".safetensors"),
                row("predict --limit -1", d -> predict(goodModel(d), "--values", "0.1,0.2", "--limit", "-1"),
                        "--limit must be at least 1"),
                row("predict --values NaN,NaN", d -> predict(goodModel(d), "--values", "NaN,NaN"), "--values", "NaN"),
                row("predict --values Infinity,1", d -> predict(goodModel(d), "--values", "Infinity,1"), "--values", "Infinity"),
                row("predict --values 1e39 overflows float", d -> predict(goodModel(d), "--values", "0,1e39"),
                        "--values: value 2 is 1.0E39", "float range"),
                row("a float IDX input holding NaN",
                        d -> {
                            Path idx = d.resolve("x-idx2-float");
                            Idx.write(idx, IdxArray.ofFloats(new int[] {2, 2}, new float[] {0.5f, 0.5f, Float.NaN, 1}));
                            return predict(goodModel(d), "--input", idx);
                        },
                        "x-idx2-float: image 1 holds NaN"),
                row("a PGM image claiming 100000 x 100000 pixels",
                        d -> predict(goodModel(d), "--input", Files.writeString(d.resolve("huge.pgm"), "P5 100000 100000 255\n\0\0")),
                        "huge.pgm", "truncated PGM", "100000 x 100000"),
                row("a PGM image claiming more pixels than its bytes",
                        d -> predict(goodModel(d), "--input", Files.writeString(d.resolve("big.pgm"), "P5 9000 9000 255\n\0\0")),
                        "big.pgm", "9000 x 9000", "room for at most"),
                row("a PGM image with a word for a pixel",
                        d -> predict(goodModel(d), "--input", Files.writeString(d.resolve("word.pgm"), "P2 1 2 255 7 seven")),
                        "word.pgm", "PGM pixel 1 is 'seven'; expected a whole number from 0 to 255"),
                row("train --layers 30000,30000", d -> new Object[] {"train", "--layers", "30000,30000", "--out", d},
                        "[2] fc30000,fc30000 -> 3", "needs about", "Runtime.maxMemory", "--layers"),
                row("train --layers 100000,100000: one layer larger than an array",
                        d -> new Object[] {"train", "--layers", "100000,100000", "--out", d}, "--layers", "more than one array holds"),
                row("explain --network 2,40000,40000,2", d -> new Object[] {"explain", "--network", "2,40000,40000,2"},
                        "--network 2,40000,40000,2 has 1,600,240,002 weights", "at most 30,000"),
                row("explain --network 2,100000,2 (minutes of finite differences)",
                        d -> new Object[] {"explain", "--network", "2,100000,2"}, "500,002", "at most 30,000"),
                row("train --report onto the model's JSON copy",
                        d -> new Object[] {"train", "--out", d, "--report", d.resolve("model.json")},
                        "--report", "model.json is the same file as the model's readable copy"),
                row("train --plot onto --save",
                        d -> new Object[] {"train", "--save", d.resolve("m.safetensors"), "--plot", d.resolve("m.safetensors")},
                        "--plot", "is the same file as --save"),
                row("train --save onto its own JSON copy", d -> new Object[] {"train", "--save", d.resolve("m.json")},
                        "the model's readable copy", "same file as --save"),
                row("train --out onto --save",
                        d -> new Object[] {"train", "--save", d.resolve("m.safetensors"), "--out", d.resolve("m.safetensors")},
                        "would be inside --save", "which is a file"),
                row("train --report onto a directory",
                        d -> new Object[] {"train", "--out", d, "--report", Files.createDirectories(d.resolve("reports"))},
                        "--report", "is a directory; expected a file name"),
                row("train into a directory that cannot be created",
                        d -> new Object[] {"train", "--out", Files.writeString(d.resolve("file"), "x").resolve("sub")},
                        "file/sub: cannot write files in this directory"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void oneLineNamingTheProblemAndNothingElse(String name, Setup setup, List<String> fragments) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("case"));
        Cli.Result r = Cli.run(setup.args(dir));
        String line = r.oneErrorLine();
        for (String f : fragments) assertTrue(line.contains(f), "expected '" + f + "' in: " + line);
        assertEquals("", r.out(), "fails before doing anything");
    }

    // ------------------------------------------------------------------ runs that start and then must stop

    @Test
    void aDivergingRunNamesEpochAndBatchInFlagsAndLeavesThePreviousModelUntouched() throws IOException {
        Path out = tmp.resolve("run");
        Path good = goodModel(Files.createDirectories(out));
        byte[] weights = Files.readAllBytes(good), json = Files.readAllBytes(ModelFile.configPath(good));
        Cli.Result r = Cli.run("train", "--optimizer", "sgd", "--lr", "1e300", "--batch", "100000", "--epochs", 1, "--out", out);
        String line = r.oneErrorLine();
        assertTrue(line.contains("epoch 1, batch 1 of 1") && line.contains("infinite") && line.contains("--lr (now 1.0E300)")
                && line.contains("--clip-norm 1"), line);
        assertArrayEquals(weights, Files.readAllBytes(good));
        assertArrayEquals(json, Files.readAllBytes(ModelFile.configPath(good)));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of("model.json", "model.safetensors"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void emptyTrainingOrTestSetsAreRefusedAndEvaluateNeverPrintsAccuracyNaN() throws IOException {
        Path noTrain = Cli.writeTinyImageDataset(Files.createDirectories(tmp.resolve("no-train")), 0, 50);
        String line = Cli.run("train", "--dataset", "mnist", "--data-dir", noTrain, "--out", tmp.resolve("a")).oneErrorLine();
        assertTrue(line.contains("no training examples"), line);

        Path noTest = Cli.writeTinyImageDataset(Files.createDirectories(tmp.resolve("no-test")), 50, 0);
        line = Cli.run("train", "--dataset", "mnist", "--data-dir", noTest, "--out", tmp.resolve("b")).oneErrorLine();
        assertTrue(line.contains("no test examples"), line);

        Architecture images = Architecture.mlp(16, new int[] {4}, 10, Activation.RELU, false, null, new int[] {4, 4});
        Path m = tmp.resolve("m/model.safetensors");
        ModelFile.save(m, images, images.build(1), Map.of("dataset", "mnist"));
        line = Cli.run("evaluate", "--model", m, "--data-dir", noTest).oneErrorLine();
        assertTrue(line.contains("mnist has no test examples"), line);
    }
}
