package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model files of --arch models (format deltagrad-model/2), and the MLP files earlier versions wrote. */
class ConvModelFileTest {
    @TempDir
    Path dir;

    private static final Architecture CNN = new Architecture(64, new int[] {8, 8}, Architecture.parse("conv4x3p1,maxpool2,conv6x3,fc12"),
            3, Activation.RELU, false, List.of("a", "b", "c"));

    private Path file() {
        return dir.resolve("model.safetensors");
    }

    private static float[] predict(Sequential model, Tensor x) {
        model.eval();
        try (Autograd.Scope s = Autograd.noGrad()) {
            return model.forward(x).toFloatArray();
        }
    }

    @Test
    void aConvolutionalModelComesBackWithItsLayersAndIdenticalLogits() throws IOException {
        Sequential model = CNN.build(5);
        ModelFile.save(file(), CNN, model, Map.of("dataset", "tiny"));
        Map<String, String> metadata = SafeTensors.read(file()).metadata();
        assertEquals(ModelFile.FORMAT, metadata.get("deltagrad"));
        assertEquals("deltagrad-model/2", ModelFile.FORMAT);
        ModelFile.Loaded loaded = ModelFile.load(file());
        assertEquals(CNN, loaded.architecture());
        assertEquals("conv4x3p1,maxpool2,conv6x3,fc12", loaded.architecture().arch());
        assertArrayEquals(new int[] {8, 8}, loaded.architecture().imageShape());
        assertEquals(List.of("a", "b", "c"), loaded.architecture().classNames());
        Tensor x = Tensor.rand(9, 5, 64);
        float[] expected = predict(model, x);
        assertArrayEquals(expected, predict(loaded.model(), x));
        assertFalse(Arrays.equals(expected, predict(CNN.build(6), x)), "another initialisation predicts otherwise");
    }

    @Test
    void batchNormRunningStatisticsAreSavedAndUsedInEvalMode() throws IOException {
        Architecture bn = new Architecture(64, new int[] {8, 8}, Architecture.parse("conv4x3,bn,maxpool2,fc12,bn"), 3, Activation.RELU,
                false, null);
        Sequential model = bn.build(2);
        model.train();
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int i = 0; i < 3; i++) model.forward(Tensor.rand(20 + i, 16, 64).mul(3)); // moves the running statistics
        }
        ModelFile.save(file(), bn, model, null);
        // PyTorch's int64 counter: stored as I64, read back exactly into float64
        assertEquals(org.deltagrad.DType.FLOAT64, SafeTensors.read(file()).tensors().get("2.num_batches_tracked").dtype());
        ModelFile.Loaded loaded = ModelFile.load(file());
        assertEquals(3.0, loaded.model().stateDict().get("2.num_batches_tracked").item());
        assertArrayEquals(model.stateDict().get("7.running_var").toFloatArray(), loaded.model().stateDict().get("7.running_var").toFloatArray());
        Tensor x = Tensor.rand(9, 4, 64);
        float[] expected = predict(model, x);
        assertArrayEquals(expected, predict(loaded.model(), x));
        assertFalse(Arrays.equals(expected, predict(bn.build(2), x)), "fresh running statistics predict otherwise");
    }

    @Test
    void anArchModelIsThePyTorchTwinThatConvInteropTestChecks() {
        Architecture arch = new Architecture(784, new int[] {28, 28}, Architecture.parse("conv4x3,bn,maxpool2,conv6x3p1,avgpool2,fc10,bn"),
                3, Activation.RELU, false, null);
        Sequential built = arch.build(1), twin = ConvInteropTest.model(1);
        assertEquals(twin.layers().stream().map(m -> m.getClass()).toList(), built.layers().stream().map(m -> m.getClass()).toList());
        Map<String, Tensor> expected = twin.stateDict(), actual = built.stateDict();
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
        expected.forEach((k, v) -> assertArrayEquals(v.shape(), actual.get(k).shape(), k));
        built.loadStateDict(expected); // so PyTorch's state dict of the twin loads into it
        Tensor x = Tensor.rand(3, 4, 784);
        assertArrayEquals(predict(twin, x), predict(built, x));
    }

    /** Writes {@code layers} as the file's architecture, beside the weights of {@link #CNN}. */
    private String loadWithLayers(String layers) {
        String arch = "{\"inputs\": 64, \"image_shape\": [8, 8], \"layers\": " + layers + ", \"outputs\": 3, \"activation\": \"relu\"}";
        SafeTensors.write(file(), CNN.build(1).stateDict(), Map.of("deltagrad", ModelFile.FORMAT, "architecture", arch));
        return assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file()), layers).getMessage();
    }

    @Test
    void aCorruptOrInconsistentArchitectureIsOneLineNamingTheFileAndWhatWasExpected() {
        String where = file() + ": architecture ";
        assertEquals(where + "\"layers\": 'conv4x' (layer 1): expected conv<C>x<K>[s<S>][p<P>], e.g. conv16x5 or conv32x3s1p1",
                loadWithLayers("[\"conv4x\", \"fc12\"]"));
        assertEquals(where + "\"layers\": expected an array of layers such as [\"conv16x5\", \"maxpool2\", \"fc100\"], found \"conv4x3\"",
                loadWithLayers("\"conv4x3\""));
        assertEquals(where + "\"layers\": expected an array of layers such as [\"conv16x5\", \"maxpool2\", \"fc100\"], found an array of 2",
                loadWithLayers("[\"conv4x3,fc2\", 7]"));
        assertEquals(file() + ": architecture: 'conv4x9' (layer 1) would shrink the image below 1x1: its input, the data, is "
                + "[1, 8, 8], and a 9x9 kernel with padding 0 needs at least 9x9", loadWithLayers("[\"conv4x9\"]"));
        for (String m : List.of(loadWithLayers("[\"conv4x\"]"), loadWithLayers("[\"conv4x9\"]"))) assertFalse(m.contains("\n"), m);
    }

    @Test
    void weightsThatDoNotFitTheArchitectureNameTheTensorAndBothShapes() {
        Architecture wider = new Architecture(64, new int[] {8, 8}, Architecture.parse("conv5x3p1,maxpool2,conv6x3,fc12"), 3,
                Activation.RELU, false, null);
        String arch = "{\"inputs\": 64, \"image_shape\": [8, 8], \"layers\": [\"conv4x3p1\", \"maxpool2\", \"conv6x3\", \"fc12\"], "
                + "\"outputs\": 3, \"activation\": \"relu\"}";
        SafeTensors.write(file(), wider.build(1).stateDict(), Map.of("deltagrad", ModelFile.FORMAT, "architecture", arch));
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file())).getMessage();
        assertEquals(file() + ": does not match the architecture " + CNN + " in its __metadata__: '1.weight' has shape [5, 1, 3, 3] "
                + "but the architecture needs [4, 1, 3, 3]", m);
    }

    @Test
    void aMultilayerPerceptronFileOfTheFirstFormatStillLoads() throws IOException {
        // What deltagrad wrote before --arch: format deltagrad-mlp/1, hidden sizes under "hidden".
        Architecture mlp = Architecture.mlp(4, new int[] {6, 5}, 3, Activation.TANH, false, List.of("x", "y", "z"), new int[] {2, 2});
        Sequential model = mlp.build(3);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("deltagrad", "deltagrad-mlp/1");
        metadata.put("architecture", "{\"inputs\": 4, \"hidden\": [6, 5], \"outputs\": 3, \"activation\": \"tanh\", "
                + "\"activate_output\": false, \"class_names\": [\"x\", \"y\", \"z\"], \"image_shape\": [2, 2]}");
        metadata.put("training", "{\"dataset\": \"zoo\"}");
        SafeTensors.write(file(), model.stateDict(), metadata);
        ModelFile.Loaded loaded = ModelFile.load(file());
        assertEquals(mlp, loaded.architecture());
        assertEquals("fc6,fc5", loaded.architecture().arch());
        assertEquals(Map.of("dataset", "zoo"), loaded.training());
        Tensor x = Tensor.rand(2, 7, 4);
        assertArrayEquals(predict(model, x), predict(loaded.model(), x));
    }

    @Test
    void aFormatFromTheFutureIsRefusedByName() {
        SafeTensors.write(file(), CNN.build(1).stateDict(), Map.of("deltagrad", "deltagrad-model/3", "architecture", "{}"));
        String m = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file())).getMessage();
        assertEquals(file() + ": __metadata__ \"deltagrad\" is \"deltagrad-model/3\"; this deltagrad reads deltagrad-model/2 and "
                + "deltagrad-mlp/1 (a newer deltagrad wrote it?)", m);
        assertFalse(Files.exists(ModelFile.configPath(file())));
    }
}
