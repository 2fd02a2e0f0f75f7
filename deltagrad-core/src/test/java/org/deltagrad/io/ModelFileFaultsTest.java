package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A saved model is one atomic unit: faults between or during writes never pair new weights with an old architecture. */
class ModelFileFaultsTest {
    @TempDir
    Path dir;

    private static final Architecture OLD = Architecture.mlp(4, new int[] {5}, 3, Activation.RELU, false, List.of("a", "b", "c"), null);
    private static final Architecture NEW = Architecture.mlp(4, new int[] {6, 2}, 3, Activation.TANH, false, null, null);

    private Path file() {
        return dir.resolve("model.safetensors");
    }

    private static float[] predict(Sequential model) {
        model.eval();
        try (Autograd.Scope s = Autograd.noGrad()) {
            return model.forward(Tensor.of(new float[] {0.5f, -1, 2, 0.25f, 1, 1, -1, 0}, 2, 4)).toFloatArray();
        }
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Writes through AtomicFiles, but the content of {@code failing} breaks after its first bytes. */
    private static ModelFile.FileWriter failingOn(Path failing) {
        return (target, content) -> AtomicFiles.write(target, target.equals(failing) ? out -> {
            content.writeTo(new OutputStream() {
                int written;

                @Override
                public void write(int b) throws IOException {
                    if (++written > 16) throw new IOException("injected: no space left on device");
                    out.write(b);
                }
            });
        } : content);
    }

    @Test
    void theArchitectureTravelsInsideTheWeightsFile() throws IOException {
        Sequential model = NEW.build(3);
        ModelFile.save(file(), NEW, model, Map.of("dataset", "zoo"));
        Map<String, String> metadata = SafeTensors.read(file()).metadata();
        assertTrue(metadata.get("architecture").contains("\"layers\": [\"fc6\", \"fc2\"]"), metadata.toString());
        Files.delete(ModelFile.configPath(file())); // the readable copy is not needed to load
        ModelFile.Loaded loaded = ModelFile.load(file());
        assertEquals(NEW, loaded.architecture());
        assertEquals(file(), loaded.source());
        assertEquals("zoo", loaded.training().get("dataset"));
        assertArrayEquals(predict(model), predict(loaded.model()));
    }

    @Test
    void aModelJsonThatDisagreesWithTheWeightsFileIsRefusedNamingBoth() throws IOException {
        ModelFile.save(file(), NEW, NEW.build(3), null);
        Path json = ModelFile.configPath(file());
        Files.writeString(json, Files.readString(json).replace("\"tanh\"", "\"sigmoid\""));
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file())).getMessage();
        assertTrue(m.contains("model.json") && m.contains("model.safetensors") && m.contains("__metadata__"), m);
    }

    @Test
    void aFaultWhileWritingTheWeightsKeepsThePreviousModelWhole() throws IOException {
        Sequential old = OLD.build(1);
        ModelFile.save(file(), OLD, old, null);
        List<String> before = listing();
        IOException e = assertThrows(IOException.class,
                () -> ModelFile.save(file(), NEW, NEW.build(2), null, failingOn(file().toAbsolutePath())));
        assertTrue(e.getMessage().contains("injected"), e.getMessage());
        assertEquals(before, listing(), "no temporary file left, nothing replaced");
        ModelFile.Loaded loaded = ModelFile.load(file());
        assertEquals(OLD, loaded.architecture());
        assertArrayEquals(predict(old), predict(loaded.model()));
    }

    @Test
    void aFaultWhileWritingTheCopyLeavesTheNewModelWholeAndNoStaleCopy() throws IOException {
        ModelFile.save(file(), OLD, OLD.build(1), null);
        Sequential fresh = NEW.build(2);
        Path json = ModelFile.configPath(file());
        IOException e = assertThrows(IOException.class,
                () -> ModelFile.save(file(), NEW, fresh, null, failingOn(json.toAbsolutePath())));
        assertTrue(e.getMessage().contains("model.json") && e.getMessage().contains("complete in"), e.getMessage());
        assertEquals(List.of("model.safetensors"), listing(), "the old copy, describing the old model, is gone");
        ModelFile.Loaded loaded = ModelFile.load(file());
        assertEquals(NEW, loaded.architecture());
        assertArrayEquals(predict(fresh), predict(loaded.model()));
    }

    @Test
    void anUnwritableModelJsonNeverPairsNewWeightsWithTheOldArchitecture() throws IOException {
        Path json = ModelFile.configPath(file());
        Files.createDirectories(json.resolve("in-the-way")); // a non-empty directory: rename onto it fails, even as root
        Sequential fresh = NEW.build(2);
        IOException e = assertThrows(IOException.class, () -> ModelFile.save(file(), NEW, fresh, null));
        assertTrue(e.getMessage().startsWith(json + ": could not write") && e.getMessage().contains("(Is a directory)"),
                e.getMessage());
        ModelFile.Loaded loaded = ModelFile.load(file());
        assertEquals(NEW, loaded.architecture());
        assertArrayEquals(predict(fresh), predict(loaded.model()));
        assertEquals(List.of("model.json", "model.safetensors"), listing(), "no temporary files");
    }

    @Test
    void aHugeArchitectureBesideSmallWeightsIsRefusedBeforeAnythingIsBuilt() throws IOException {
        // 40000 x 40000 floats would be 6.4 GB: building the model first would run out of memory.
        String arch = "{\"inputs\": 4, \"hidden\": [40000, 40000], \"outputs\": 3, \"activation\": \"relu\"}";
        SafeTensors.write(file(), OLD.build(1).stateDict(), Map.of("format", "pt", "architecture", arch));
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file())).getMessage();
        assertTrue(m.contains("[4] fc40000,fc40000 -> 3") && m.contains("'0.weight'") && m.contains("[5, 4]")
                && m.contains("[40000, 4]"), m);
    }

    @Test
    void nonFiniteWeightsAreRefusedWhenLoadingAndWhenSaving() throws IOException {
        Sequential model = OLD.build(1);
        ModelFile.save(file(), OLD, model, null);
        LinkedHashMap<String, Tensor> state = model.stateDict();
        float[] w = state.get("2.weight").toFloatArray();
        w[7] = Float.NaN;
        w[8] = Float.POSITIVE_INFINITY;
        state.put("2.weight", Tensor.of(w, 3, 5));
        SafeTensors.write(file(), state, SafeTensors.read(file()).metadata());
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file())).getMessage();
        assertTrue(m.contains("model.safetensors") && m.contains("'2.weight'") && m.contains("1 NaN and 1 infinite")
                && m.contains("index 7"), m);

        Sequential broken = OLD.build(2);
        broken.loadStateDict(state);
        byte[] before = Files.readAllBytes(file());
        m = assertThrows(IllegalArgumentException.class, () -> ModelFile.save(file(), OLD, broken, null)).getMessage();
        assertTrue(m.contains("not saved") && m.contains("'2.weight'"), m);
        assertArrayEquals(before, Files.readAllBytes(file()));
    }

    @Test
    void badArchitectureFieldsAreNamedNotCastExceptions() throws IOException {
        String good = "\"inputs\": 4, \"hidden\": [5], \"outputs\": 3, \"activation\": \"relu\"";
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put(good + ", \"class_names\": [\"a\"]", "\"class_names\": expected 3 strings");
        cases.put("\"inputs\": 4, \"hidden\": \"5\", \"outputs\": 3, \"activation\": \"relu\"", "\"hidden\": expected an array");
        cases.put("\"inputs\": 4, \"hidden\": [5], \"outputs\": 3, \"activation\": 3", "\"activation\": expected a string");
        cases.put("\"inputs\": 4.5, \"hidden\": [5], \"outputs\": 3, \"activation\": \"relu\"", "\"inputs\": expected a positive integer");
        cases.put(good + ", \"image_shape\": [3, 3]", "\"image_shape\": [3, 3] holds 9 pixels");
        cases.put(good + ", \"activate_output\": \"yes\"", "\"activate_output\": expected true or false");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String arch = "{" + c.getKey() + "}";
            SafeTensors.write(file(), OLD.build(1).stateDict(), Map.of("architecture", arch));
            String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file()), arch).getMessage();
            assertTrue(m.startsWith(file() + ": architecture") && m.contains(c.getValue()), arch + " -> " + m);
        }
    }

    @Test
    void aNonUtf8ModelJsonIsNamed() throws IOException {
        ModelFile.save(file(), OLD, OLD.build(1), null);
        SafeTensors.write(file(), OLD.build(1).stateDict()); // an older model: its JSON is all there is
        Files.write(ModelFile.configPath(file()), new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'});
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file())).getMessage();
        assertTrue(m.contains("model.json") && m.contains("UTF-8"), m);
    }

    @Test
    void aModelCannotBeSavedUnderTheNameOfItsCopy() {
        Path json = dir.resolve("model.json");
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.save(json, OLD, OLD.build(1), null)).getMessage();
        assertTrue(m.contains("model.json") && m.contains(".safetensors"), m);
        assertFalse(Files.exists(json));
    }

    @Test
    void stringsInTheFileAreUtf8() throws IOException {
        Architecture named = Architecture.mlp(4, new int[] {5}, 3, Activation.RELU, false, List.of("ß", "猫", "é"), null);
        ModelFile.save(file(), named, named.build(1), null);
        assertTrue(Files.readString(ModelFile.configPath(file()), StandardCharsets.UTF_8).contains("猫"));
        assertEquals(named.classNames(), ModelFile.load(file()).architecture().classNames());
    }

    /**
     * Mutated architecture JSON, in the metadata and in an old model's model.json: loading either succeeds or throws
     * an exception that names the file (IllegalArgumentException, or the project's own), never a cast, index or
     * parse exception from inside. A fixed seed, so a failure repeats.
     */
    @Test
    void mutatedArchitecturesFailWithAMessageNamingTheFile() throws IOException {
        ModelFile.save(file(), OLD, OLD.build(1), Map.of("dataset", "zoo"));
        String arch = SafeTensors.read(file()).metadata().get("architecture");
        String json = Files.readString(ModelFile.configPath(file()));
        LinkedHashMap<String, Tensor> state = OLD.build(1).stateDict();
        java.util.SplittableRandom rng = new java.util.SplittableRandom(13);
        String alphabet = "{}[]\",:0123456789-.eE truefalsnul\\ü";
        for (int trial = 0; trial < 200; trial++) {
            boolean old = trial % 2 == 1;
            StringBuilder m = new StringBuilder(old ? json : arch);
            for (int edits = 1 + rng.nextInt(3); edits > 0; edits--) {
                int at = rng.nextInt(m.length());
                switch (rng.nextInt(3)) {
                    case 0 -> m.deleteCharAt(at);
                    case 1 -> m.insert(at, alphabet.charAt(rng.nextInt(alphabet.length())));
                    default -> m.setCharAt(at, alphabet.charAt(rng.nextInt(alphabet.length())));
                }
            }
            Files.deleteIfExists(ModelFile.configPath(file()));
            if (old) {
                SafeTensors.write(file(), state);
                Files.writeString(ModelFile.configPath(file()), m);
            } else {
                SafeTensors.write(file(), state, Map.of("architecture", m.toString()));
            }
            Path named = old ? ModelFile.configPath(file()) : file();
            try {
                ModelFile.load(file());
            } catch (IllegalArgumentException | org.deltagrad.DeltagradException e) {
                assertTrue(e.getMessage().contains(named.toString()), m + " -> " + e.getMessage());
            }
        }
    }
}
