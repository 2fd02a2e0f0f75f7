package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deltagrad.data.Idx;
import org.deltagrad.data.IdxArray;

/** Test support: runs the real command line in-process and makes small IDX datasets. */
final class Cli {
    private Cli() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /** What one run of the command printed, and its exit status. */
    record Result(int exit, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        List<String> outLines() {
            return out.lines().toList();
        }

        /** Exit 0 and nothing on stderr; the streams are in the failure message otherwise. */
        Result ok() {
            assertEquals(0, exit, this::toString);
            assertEquals("", err, this::toString);
            return this;
        }

        /** The user-error contract: non-zero exit, exactly one line on stderr, "deltagrad: ...", no stack trace. */
        String oneErrorLine() {
            assertNotEquals(0, exit, this::toString);
            assertEquals(1, errLines().size(), this::toString);
            String line = errLines().get(0);
            assertTrue(line.startsWith("deltagrad: "), line);
            assertFalse(line.contains("Exception"), "exception class name leaked: " + line);
            assertFalse(line.contains("internal error"), "a user error reported as a bug: " + line);
            assertFalse(line.contains("--debug"), "a user error should not ask for a stack trace: " + line);
            return line;
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Result run(Object... args) {
        String[] words = new String[args.length];
        for (int i = 0; i < args.length; i++) words[i] = args[i].toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.run(words, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static JsonNode readJson(Path file) throws IOException {
        return JSON.readTree(file.toFile());
    }

    static JsonNode parseJson(String text) throws IOException {
        return JSON.readTree(text);
    }

    /** Trains spirals quickly (same settings every time) into {@code dir}; returns the weights file. */
    static Path trainSpirals(Path dir) {
        run("train", "--epochs", 30, "--out", dir).ok(); // default threads, as evaluate and predict use
        return dir.resolve("model.safetensors");
    }

    // ------------------------------------------------------------------ tiny image datasets

    static final int SIDE = 4;

    /**
     * A tiny learnable "image" dataset: 4×4 ubyte images, class c (0..9) lights pixel c brightly on a dim,
     * noisy background. Deterministic for a given seed.
     */
    static IdxArray[] tinyImages(int n, long seed) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        int[] pixels = new int[n * SIDE * SIDE];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
            for (int p = 0; p < SIDE * SIDE; p++) pixels[i * SIDE * SIDE + p] = rng.nextInt(40);
            pixels[i * SIDE * SIDE + labels[i]] = 200 + rng.nextInt(56);
        }
        return new IdxArray[] {
            IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {n, SIDE, SIDE}, pixels),
            IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {n}, labels)};
    }

    /** Writes the four MNIST-named IDX files of a tiny image dataset into {@code dir}. */
    static Path writeTinyImageDataset(Path dir, int trainSize, int testSize) {
        IdxArray[] train = tinyImages(trainSize, 1);
        IdxArray[] test = tinyImages(testSize, 2);
        Idx.write(dir.resolve("train-images-idx3-ubyte"), train[0]);
        Idx.write(dir.resolve("train-labels-idx1-ubyte"), train[1]);
        Idx.write(dir.resolve("t10k-images-idx3-ubyte"), test[0]);
        Idx.write(dir.resolve("t10k-labels-idx1-ubyte"), test[1]);
        return dir;
    }

    /** Command-line words joined with more words. */
    static Object[] args(Object[] first, Object... more) {
        List<Object> all = new ArrayList<>(List.of(first));
        all.addAll(List.of(more));
        return all.toArray();
    }
}
