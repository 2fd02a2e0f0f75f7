package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model files: weights in safetensors under PyTorch's nn.Sequential names, architecture and training in JSON. */
class ModelFileTest {
    @TempDir
    Path dir;

    private static final Architecture SPEC = Architecture.mlp(5, new int[] {7, 6}, 3, Activation.TANH, false,
            List.of("cat", "dog", "emu"), null);

    private static float[] predict(Sequential model, Tensor x) {
        model.eval();
        try (Autograd.Scope s = Autograd.noGrad()) {
            return model.forward(x).toFloatArray();
        }
    }

    private static Map<String, Object> training() {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("dataset", "zoo");
        t.put("lr", 0.125);
        t.put("epochs", 3);
        return t;
    }

    @Test
    void saveThenLoadPredictsBitForBit() throws IOException {
        Sequential model = SPEC.build(42);
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(file, SPEC, model, training());
        ModelFile.Loaded loaded = ModelFile.load(file);

        Tensor batch = Tensor.randn(7, 16, 5);
        float[] expected = predict(model, batch);
        assertArrayEquals(expected, predict(loaded.model(), batch));
        assertEquals(SPEC, loaded.architecture());
        assertEquals(SPEC.classNames(), loaded.architecture().classNames());
        // The comparison can fail: another initialisation predicts otherwise.
        assertTrue(!java.util.Arrays.equals(expected, predict(SPEC.build(43), batch)));
    }

    @Test
    void activatedOutputAndImageShapeSurviveTheRoundTrip() throws IOException {
        Architecture nielsen = Architecture.mlp(16, new int[] {4}, 10, Activation.SIGMOID, true, null, new int[] {4, 4});
        Sequential model = nielsen.build(1);
        Path file = dir.resolve("sub/dir/n.safetensors"); // parent directories are created
        ModelFile.save(file, nielsen, model, null);
        ModelFile.Loaded loaded = ModelFile.load(file);
        assertTrue(loaded.architecture().activateOutput());
        assertEquals(Activation.SIGMOID, loaded.architecture().activation());
        assertArrayEquals(new int[] {4, 4}, loaded.architecture().imageShape());
        assertEquals(Map.of(), loaded.training());
        Tensor x = Tensor.rand(3, 2, 16);
        assertArrayEquals(predict(model, x), predict(loaded.model(), x));
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsonHoldsArchitectureAndTrainingConfig() throws Exception {
        Path file = dir.resolve("model.safetensors");
        ModelFile.save(file, SPEC, SPEC.build(1), training());
        Path json = dir.resolve("model.json");
        assertEquals(json, ModelFile.configPath(file));
        Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(json));
        assertEquals("deltagrad-model/2", m.get("format"));
        assertEquals("model.safetensors", m.get("weights"));
        Map<String, Object> arch = (Map<String, Object>) m.get("architecture");
        assertEquals(5L, arch.get("inputs"));
        assertEquals(List.of("fc7", "fc6"), arch.get("layers"));
        assertEquals(3L, arch.get("outputs"));
        assertEquals("tanh", arch.get("activation"));
        assertEquals(false, arch.get("activate_output"));
        assertEquals(List.of("cat", "dog", "emu"), arch.get("class_names"));
        Map<String, Object> t = (Map<String, Object>) m.get("training");
        assertEquals("zoo", t.get("dataset"));
        assertEquals(0.125, ((Number) t.get("lr")).doubleValue());
        assertEquals(3L, t.get("epochs"));
        assertEquals("zoo", ModelFile.load(file).training().get("dataset"));
    }

    @Test
    void safetensorsNamesAndShapesArePyTorchs() throws IOException {
        Path file = dir.resolve("model.safetensors");
        ModelFile.save(file, SPEC, SPEC.build(1), null);
        SafeTensors.Contents c = SafeTensors.read(file);
        // nn.Sequential(Linear, Tanh, Linear, Tanh, Linear): the activations hold no parameters but take indices.
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"), new ArrayList<>(c.tensors().keySet()));
        // nn.Linear stores weight as [out_features, in_features].
        assertArrayEquals(new int[] {7, 5}, c.tensors().get("0.weight").shape());
        assertArrayEquals(new int[] {7}, c.tensors().get("0.bias").shape());
        assertArrayEquals(new int[] {6, 7}, c.tensors().get("2.weight").shape());
        assertArrayEquals(new int[] {3, 6}, c.tensors().get("4.weight").shape());
        for (Tensor t : c.tensors().values()) assertEquals(DType.FLOAT32, t.dtype());
        assertEquals("pt", c.metadata().get("format"));
    }

    // ------------------------------------------------------------------ what loading checks

    /** Saves a good model, then replaces its weights with {@code state}; returns the message loading gives. */
    private String loadWith(Map<String, Tensor> state) throws IOException {
        Path file = dir.resolve("model.safetensors");
        ModelFile.save(file, SPEC, SPEC.build(1), null);
        SafeTensors.write(file, state);
        return assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file)).getMessage();
    }

    private static LinkedHashMap<String, Tensor> goodState() {
        return SPEC.build(1).stateDict();
    }

    @Test
    void wrongShapeIsNamed() throws IOException {
        LinkedHashMap<String, Tensor> state = goodState();
        state.put("2.weight", Tensor.zeros(7, 6)); // transposed: a classic mistake when converting by hand
        String m = loadWith(state);
        assertTrue(m.contains("'2.weight'") && m.contains("[7, 6]") && m.contains("[6, 7]"), m);
        assertTrue(m.contains("model.safetensors") && m.contains("model.json"), "names both files: " + m);
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        LinkedHashMap<String, Tensor> state = goodState();
        state.remove("4.bias");
        String m = loadWith(state);
        assertTrue(m.contains("missing") && m.contains("'4.bias'"), m);
    }

    @Test
    void unexpectedTensorIsNamed() throws IOException {
        LinkedHashMap<String, Tensor> state = goodState();
        state.put("6.weight", Tensor.zeros(3, 3));
        String m = loadWith(state);
        assertTrue(m.contains("unexpected") && m.contains("'6.weight'"), m);
    }

    @Test
    void wrongDtypeIsNamed() throws IOException {
        LinkedHashMap<String, Tensor> state = goodState();
        state.put("0.bias", state.get("0.bias").to(DType.FLOAT64));
        String m = loadWith(state);
        assertTrue(m.contains("'0.bias'") && m.contains("dtype"), m);
    }

    @Test
    void unsupportedDtypeIsNamed() throws IOException {
        Path file = dir.resolve("model.safetensors");
        ModelFile.save(file, SPEC, SPEC.build(1), null);
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.ISO_8859_1).replaceFirst("\"F32\"", "\"I32\"");
        Files.write(file, text.getBytes(StandardCharsets.ISO_8859_1));
        RuntimeException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(file));
        assertTrue(e.getMessage().contains("I32"), e.getMessage());
    }

    /** A model as versions before the single-file format wrote it: weights without architecture, model.json beside. */
    private Path oldStyleModel() throws IOException {
        Path file = dir.resolve("model.safetensors");
        ModelFile.save(file, SPEC, SPEC.build(1), null);
        SafeTensors.write(file, goodState(), Map.of("format", "pt"));
        return file;
    }

    @Test
    void inputSpecIsSavedUnderItsOwnKeyAndOlderModelsHaveNone() throws Exception {
        Path file = dir.resolve("own.safetensors");
        Map<String, Object> input = org.deltagrad.data.InputSpec.csv(List.of("a", "b", "c", "d", "e"), "kind",
                new double[] {1, 2, 3, 4, 0.1}, new double[] {1, 1, 2, 2, 1e-3}, SPEC.classNames()).toMap();
        ModelFile.save(file, SPEC, SPEC.build(1), training(), input);
        ModelFile.Loaded loaded = ModelFile.load(file);
        assertEquals(org.deltagrad.data.InputSpec.fromMap(input, "x"), org.deltagrad.data.InputSpec.fromMap(loaded.input(), "y"));
        assertTrue(SafeTensors.read(file).metadata().get("input").contains("\"mean\""), "in the weights file's __metadata__");
        assertTrue(Files.readString(ModelFile.configPath(file)).contains("\"input\": {"), "and in its readable copy");

        Path plain = dir.resolve("plain.safetensors");
        ModelFile.save(plain, SPEC, SPEC.build(1), training());
        assertEquals(null, ModelFile.load(plain).input(), "a model without one (built-in data, or older) still loads");
        assertEquals(null, ModelFile.load(oldStyleModel()).input());

        // The readable copy must agree with the weights file about the input too.
        Path copy = ModelFile.configPath(file);
        Files.writeString(copy, Files.readString(copy).replace("\"kind\",", "\"species\","));
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file)).getMessage();
        assertTrue(m.startsWith(copy + " does not match"), m);
    }

    @Test
    void oldModelsWithoutMetadataLoadFromTheirJsonAndBrokenJsonIsExplained() throws IOException {
        Path file = oldStyleModel();
        ModelFile.Loaded old = ModelFile.load(file);
        assertEquals(SPEC, old.architecture());
        assertEquals(ModelFile.configPath(file), old.source());
        Path json = ModelFile.configPath(file);

        Files.writeString(json, "{\"architecture\": {\"inputs\": 5,");
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file)).getMessage();
        assertTrue(m.contains("model.json") && m.contains("not valid JSON"), m);

        Files.writeString(json, "{\"architecture\": {\"inputs\": 5, \"outputs\": 3, \"activation\": \"tanh\"}}");
        m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file)).getMessage();
        assertTrue(m.contains("model.json") && m.contains("hidden"), m);

        Files.delete(json);
        m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file)).getMessage();
        assertTrue(m.contains("model.json") && m.contains("missing"), m);

        m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(dir.resolve("nope.safetensors"))).getMessage();
        assertTrue(m.contains("nope.safetensors"), m);
    }

    @Test
    void failedLoadDoesNotHalfLoad() throws IOException {
        // loadStateDict checks everything before writing anything, so a bad file never yields a mixed model.
        LinkedHashMap<String, Tensor> state = goodState();
        state.put("0.weight", Tensor.ones(7, 5));
        state.put("4.bias", Tensor.zeros(4));
        loadWith(state);
        Sequential fresh = SPEC.build(1);
        assertThrows(IllegalArgumentException.class, () -> fresh.loadStateDict(state));
        assertArrayEquals(SPEC.build(1).stateDict().get("0.weight").toFloatArray(), fresh.stateDict().get("0.weight").toFloatArray());
    }

    // ------------------------------------------------------------------ PyTorch interop

    private static final String PYTHON = PyTorch.PYTHON;

    private static boolean torchAvailable() {
        return PyTorch.installedOrFailInCi();
    }

    private String python(String script, Object... args) throws IOException, InterruptedException {
        return PyTorch.run(dir, script, args);
    }

    private static final String READ_SAFETENSORS = PyTorch.SAFETENSORS_PY;

    private static String floats(float[] values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) b.append(i == 0 ? "" : ",").append(values[i]);
        return b.append(']').toString();
    }

    @SuppressWarnings("unchecked")
    private static float[] parseFloats(String json) throws Json.ParseException {
        List<Object> list = (List<Object>) Json.parse(json.strip());
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) list.get(i)).floatValue();
        return out;
    }

    private static final Architecture SMALL = Architecture.mlp(5, new int[] {8}, 3, Activation.RELU, false, null, null);

    @Test
    void pytorchLoadsOurFileIntoSequentialAndAgrees() throws Exception {
        assumeTrue(torchAvailable(), "PyTorch is not installed (" + PYTHON + " -c 'import torch' failed)");
        Sequential model = SMALL.build(5);
        Path file = dir.resolve("ours.safetensors");
        ModelFile.save(file, SMALL, model, null);
        Tensor x = Tensor.randn(11, 6, 5);
        Files.writeString(dir.resolve("x.json"), floats(x.toFloatArray()));

        String out = python(READ_SAFETENSORS + """
                net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
                net.load_state_dict(load(sys.argv[1]), strict=True)
                x = torch.tensor(json.load(open(sys.argv[2])), dtype=torch.float32).reshape(6, 5)
                with torch.no_grad():
                    print(json.dumps(net(x).reshape(-1).tolist()))
                """, file, dir.resolve("x.json"));
        float[] theirs = parseFloats(out);
        float[] ours = predict(model, x);
        assertEquals(ours.length, theirs.length);
        for (int i = 0; i < ours.length; i++) assertEquals(ours[i], theirs[i], 1e-5, "output " + i);
    }

    @Test
    void weLoadAFileWrittenByHandFromATorchStateDict() throws Exception {
        assumeTrue(torchAvailable(), "PyTorch is not installed (" + PYTHON + " -c 'import torch' failed)");
        // Our JSON beside the weights; PyTorch then overwrites the weights with its own.
        Path file = dir.resolve("theirs.safetensors");
        ModelFile.save(file, SMALL, SMALL.build(0), null);
        Tensor x = Tensor.randn(12, 4, 5);
        Files.writeString(dir.resolve("x.json"), floats(x.toFloatArray()));

        String out = python("""
                import json, struct, sys, torch
                torch.manual_seed(0)
                net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
                header, body = {'__metadata__': {'format': 'pt'}}, b''
                for name, t in net.state_dict().items():
                    values = t.detach().reshape(-1).tolist()
                    raw = struct.pack('<%df' % len(values), *values)
                    header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [len(body), len(body) + len(raw)]}
                    body += raw
                h = json.dumps(header).encode('utf-8')
                h += b' ' * (-len(h) % 8)
                with open(sys.argv[1], 'wb') as f:
                    f.write(struct.pack('<Q', len(h)) + h + body)
                x = torch.tensor(json.load(open(sys.argv[2])), dtype=torch.float32).reshape(4, 5)
                with torch.no_grad():
                    print(json.dumps(net(x).reshape(-1).tolist()))
                """, file, dir.resolve("x.json"));
        float[] theirs = parseFloats(out);
        float[] ours = predict(ModelFile.load(file).model(), x);
        assertEquals(theirs.length, ours.length);
        for (int i = 0; i < ours.length; i++) assertEquals(theirs[i], ours[i], 1e-5, "output " + i);
        // Not a vacuous match: PyTorch's weights differ from the ones we saved first.
        assertTrue(!java.util.Arrays.equals(ours, predict(SMALL.build(0), x)));
    }
}
