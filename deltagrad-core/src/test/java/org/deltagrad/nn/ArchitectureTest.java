package org.deltagrad.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.junit.jupiter.api.Test;

/** The --arch grammar, the shapes it is checked against, and the Sequential it builds (PyTorch's names and layout). */
class ArchitectureTest {
    private static final String LENET = "conv16x5,maxpool2,conv32x5,maxpool2,fc100";

    private static Architecture fashion(String arch) {
        return new Architecture(784, new int[] {28, 28}, Architecture.parse(arch), 10, Activation.RELU, false, null);
    }

    @Test
    void validDescriptionsParseToTheirLayersAndBackToTheCanonicalSpelling() {
        Map<String, List<Architecture.Layer>> cases = new LinkedHashMap<>();
        cases.put("conv16x5", List.of(new Architecture.Conv(16, 5, 1, 0)));
        cases.put("conv32x3s2p1", List.of(new Architecture.Conv(32, 3, 2, 1)));
        cases.put("conv8x3p1", List.of(new Architecture.Conv(8, 3, 1, 1)));
        cases.put("maxpool2,avgpool3", List.of(new Architecture.Pool(true, 2), new Architecture.Pool(false, 3)));
        cases.put("fc100,bn,dropout0.25", List.of(new Architecture.Fc(100), new Architecture.Norm(), new Architecture.Drop(0.25)));
        cases.put("dropout0", List.of(new Architecture.Drop(0)));
        for (Map.Entry<String, List<Architecture.Layer>> c : cases.entrySet()) {
            List<Architecture.Layer> layers = Architecture.parse(c.getKey());
            assertEquals(c.getValue(), layers, c.getKey());
            assertEquals(c.getKey(), Architecture.format(layers), "canonical spelling of " + c.getKey());
        }
        // Spaces, capitals, redundant defaults and other spellings of a number parse to the canonical form.
        assertEquals("conv16x5,maxpool2,dropout0.5,fc10", Architecture.format(Architecture.parse(" Conv16x5s1p0 , MAXPOOL2,dropout.50,fc010")));
    }

    @Test
    void badTokensAreNamedWithTheirPositionAndWhatWasExpected() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("conv16x", "'conv16x' (layer 1): expected conv<C>x<K>[s<S>][p<P>], e.g. conv16x5 or conv32x3s1p1");
        cases.put("fc100,conv16x5q", "'conv16x5q' (layer 2): expected conv<C>x<K>[s<S>][p<P>], e.g. conv16x5 or conv32x3s1p1");
        cases.put("conv0x5", "'conv0x5' (layer 1): channels must be at least 1, got 0");
        cases.put("conv16x5s0", "'conv16x5s0' (layer 1): stride must be at least 1, got 0");
        cases.put("maxpool", "'maxpool' (layer 1): expected maxpool<K>, e.g. maxpool2");
        cases.put("avgpool2x2", "'avgpool2x2' (layer 1): expected avgpool<K>, e.g. avgpool2");
        cases.put("dropout", "'dropout' (layer 1): expected dropout<P>, e.g. dropout0.25");
        cases.put("dropout1", "'dropout1' (layer 1): the dropout probability must be in [0, 1), got 1");
        cases.put("dropout-0.1", "'dropout-0.1' (layer 1): expected dropout<P>, e.g. dropout0.25");
        cases.put("fc", "'fc' (layer 1): expected fc<N>, e.g. fc100");
        cases.put("fc0", "'fc0' (layer 1): units must be at least 1, got 0");
        cases.put("fc99999999999", "'fc99999999999' (layer 1): units 99999999999 is too large");
        cases.put("fc10,,fc10", "layer 2 is empty: expected " + Architecture.GRAMMAR);
        cases.put("fc10,relu", "'relu' (layer 2) is not a layer: expected " + Architecture.GRAMMAR);
        cases.put(" ", "empty: expected comma-separated layers (" + Architecture.GRAMMAR + "), e.g. conv16x5,maxpool2,fc100");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Architecture.parse(c.getKey()), c.getKey());
            assertEquals(c.getValue(), e.getMessage(), c.getKey());
        }
    }

    @Test
    void theFashionCnnIsPyTorchsSequentialWithItsNamesAndShapes() {
        Architecture a = fashion(LENET);
        Sequential net = a.build(1);
        // nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5),
        //     nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 100), nn.ReLU(), nn.Linear(100, 10))
        List<Class<?>> modules = net.layers().stream().<Class<?>>map(Object::getClass).toList();
        assertEquals(List.of(Unflatten.class, Conv2d.class, ReLU.class, MaxPool2d.class, Conv2d.class, ReLU.class, MaxPool2d.class,
                Flatten.class, Linear.class, ReLU.class, Linear.class), modules);
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("1.weight", new int[] {16, 1, 5, 5});
        expected.put("1.bias", new int[] {16});
        expected.put("4.weight", new int[] {32, 16, 5, 5});
        expected.put("4.bias", new int[] {32});
        expected.put("8.weight", new int[] {100, 512});
        expected.put("8.bias", new int[] {100});
        expected.put("10.weight", new int[] {10, 100});
        expected.put("10.bias", new int[] {10});
        assertShapes(expected, a.stateShapes());
        Map<String, int[]> built = new LinkedHashMap<>();
        net.namedParameters().forEach((k, v) -> built.put(k, v.shape()));
        assertShapes(expected, built);
        assertEquals(16 * 25 + 16 + 32 * 16 * 25 + 32 + 512 * 100 + 100 + 1010, a.parameterCount());
        assertEquals(a.parameterCount(), net.parameterCount());
        assertEquals(List.of("conv16x5", "conv32x5", "fc100", "output fc10"), a.weightLayers());
        // 16·25 per output of [16, 24, 24], 32·16·25 per output of [32, 8, 8], then the two matrix products
        assertEquals(16L * 25 * 24 * 24 + 32L * 16 * 25 * 8 * 8 + 512 * 100 + 100 * 10, a.multiplyAdds());
        assertArrayEquals(new int[] {32, 4, 4}, a.stages().get(6).output());
        try (Autograd.Scope s = Autograd.noGrad()) {
            assertArrayEquals(new int[] {3, 10}, net.forward(Tensor.rand(DType.FLOAT32, new SplittableRandom(2), 3, 784)).shape());
        }
        assertEquals("[1, 28, 28] " + LENET + " -> 10 relu (logits)", a.toString());
    }

    @Test
    void anImageModelUsesPyTorchsDefaultInitAndTheSeedDecidesTheWeights() {
        Architecture a = fashion("conv4x3,fc8");
        assertEquals(Init.PYTORCH_DEFAULT, a.defaultInit());
        Sequential net = a.build(7);
        double bound = 1 / Math.sqrt(9);
        for (float v : ((Conv2d) net.get(1)).weight().toFloatArray()) assertTrue(Math.abs(v) <= bound);
        assertArrayEquals(net.stateDict().get("1.weight").toFloatArray(), a.build(7).stateDict().get("1.weight").toFloatArray());
        assertFalse(Arrays.equals(net.stateDict().get("1.weight").toFloatArray(), a.build(8).stateDict().get("1.weight").toFloatArray()));
    }

    @Test
    void aMultilayerPerceptronIsBuiltAsItAlwaysWas() {
        Architecture mlp = Architecture.mlp(5, new int[] {7, 6}, 3, Activation.TANH, true, null, null);
        assertEquals(Architecture.parse("fc7,fc6"), mlp.layers());
        assertFalse(mlp.isImageModel());
        // Linear, tanh, Linear, tanh, Linear, tanh (activated output), weights from one generator in order, Glorot for tanh
        SplittableRandom rng = new SplittableRandom(4);
        Sequential byHand = new Sequential(new Linear(5, 7, Init.XAVIER_NORMAL, rng), new Tanh(), new Linear(7, 6, Init.XAVIER_NORMAL, rng),
                new Tanh(), new Linear(6, 3, Init.XAVIER_NORMAL, rng), new Tanh());
        Sequential built = mlp.build(4);
        assertEquals(byHand.size(), built.size());
        byHand.stateDict().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), built.stateDict().get(k).toFloatArray(), k));
        assertEquals("[5] fc7,fc6 -> 3 tanh (activated output)", mlp.toString());
        assertEquals("[5] -> 3 relu (logits)", Architecture.mlp(5, new int[0], 3, Activation.RELU, false, null, null).toString());
    }

    @Test
    void dropoutAndFcAfterPoolingSitWhereWritten() {
        Architecture a = fashion("conv4x3,dropout0.25,avgpool2,fc8,dropout0.5");
        Sequential net = a.build(1);
        List<String> modules = net.layers().stream().map(m -> m.getClass().getSimpleName()).toList();
        assertEquals(List.of("Unflatten", "Conv2d", "ReLU", "Dropout", "AvgPool2d", "Flatten", "Linear", "ReLU", "Dropout", "Linear"), modules);
        assertEquals(0.25, ((Dropout) net.get(3)).p());
        assertEquals(List.of("1.weight", "1.bias", "6.weight", "6.bias", "9.weight", "9.bias"), List.copyOf(net.stateDict().keySet()));
        assertArrayEquals(new int[] {8, 4 * 13 * 13}, a.stateShapes().get("6.weight"));
        // padding keeps the size; a stride halves it (floored)
        assertArrayEquals(new int[] {4, 28, 28}, fashion("conv4x3p1").stages().get(1).output());
        assertArrayEquals(new int[] {4, 13, 13}, fashion("conv4x3s2").stages().get(1).output());
    }

    @Test
    void bnGoesBetweenALayerAndItsActivationOrWhereWritten() {
        Architecture a = fashion("conv8x3,bn,maxpool2,fc16,bn,dropout0.1,bn");
        Sequential net = a.build(1);
        List<String> modules = net.layers().stream().map(m -> m.getClass().getSimpleName()).toList();
        assertEquals(List.of("Unflatten", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "BatchNorm1d", "ReLU",
                "Dropout", "BatchNorm1d", "Linear"), modules);
        assertEquals(8, ((BatchNorm) net.get(2)).numFeatures());
        assertEquals(16, ((BatchNorm) net.get(10)).numFeatures());
        // PyTorch's state dict: each module's parameters, then its buffers
        List<String> bn = List.of("2.weight", "2.bias", "2.running_mean", "2.running_var", "2.num_batches_tracked");
        assertEquals(bn, List.copyOf(a.stateShapes().keySet()).subList(2, 7));
        assertEquals(List.copyOf(net.stateDict().keySet()), List.copyOf(a.stateShapes().keySet()));
        net.stateDict().forEach((k, v) -> assertArrayEquals(v.shape(), a.stateShapes().get(k), k));
        assertEquals(net.parameterCount(), a.parameterCount());
        assertEquals("conv8x3,bn,maxpool2,fc16,bn,dropout0.1,bn", a.arch());
        // first: over the image's one channel; on flat rows: over the features
        assertEquals("BatchNorm2d", fashion("bn,conv4x3").stages().get(1).module());
        assertEquals("BatchNorm1d", new Architecture(5, null, Architecture.parse("bn,fc3"), 2, Activation.RELU, false, null)
                .stages().get(0).module());
    }

    @Test
    void layersThatDoNotFitTheDataAreNamedWithTheShapes() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("conv16x5,maxpool2,conv32x5,maxpool2,conv64x5", "'conv64x5' (layer 5) would shrink the image below 1x1: its input "
                + "from 'maxpool2' (layer 4) is [32, 4, 4], and a 5x5 kernel with padding 0 needs at least 5x5");
        cases.put("conv8x29", "'conv8x29' (layer 1) would shrink the image below 1x1: its input, the data, is [1, 28, 28], "
                + "and a 29x29 kernel with padding 0 needs at least 29x29");
        cases.put("maxpool16,maxpool2", "'maxpool2' (layer 2) would shrink the image below 1x1: its input from 'maxpool16' (layer 1) "
                + "is [1, 1, 1], smaller than its 2x2 window");
        cases.put("conv4x3,bn,maxpool27", "'maxpool27' (layer 3) would shrink the image below 1x1: its input from 'conv4x3' (layer 1) "
                + "is [4, 26, 26], smaller than its 27x27 window");
        cases.put("fc10,conv4x3", "'conv4x3' (layer 2) needs an image [C, H, W], but its input from 'fc10' (layer 1) is flat [10]; "
                + "convolutions and pooling go before the fc layers");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fashion(c.getKey()), c.getKey());
            assertEquals(c.getValue(), e.getMessage(), c.getKey());
        }
        IllegalArgumentException flat = assertThrows(IllegalArgumentException.class,
                () -> new Architecture(2, null, Architecture.parse("conv4x3"), 3, Activation.RELU, false, null));
        assertEquals("'conv4x3' (layer 1) needs an image [C, H, W], but its input, the data, is flat [2] (the data have no image shape)",
                flat.getMessage());
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class, () -> fashion("fc3000000"));
        assertTrue(huge.getMessage().startsWith("'fc3000000' (layer 1): its weight would have 2352000000 elements"), huge.getMessage());
    }

    @Test
    void colourImagesKeepTheirChannels() {
        Architecture rgb = new Architecture(3 * 8 * 8, new int[] {3, 8, 8}, Architecture.parse("conv5x3,maxpool2"), 2, Activation.RELU,
                false, List.of("cat", "dog"));
        assertArrayEquals(new int[] {3, 8, 8}, rgb.inputShape());
        assertArrayEquals(new int[] {5, 3, 3, 3}, rgb.stateShapes().get("1.weight"));
        assertArrayEquals(new int[] {2, 5 * 3 * 3}, rgb.stateShapes().get("5.weight"));
    }

    @Test
    void equalityIsTheModelNotItsLabels() {
        Architecture a = fashion(LENET);
        assertEquals(a, new Architecture(784, new int[] {1, 28, 28}, Architecture.parse(LENET), 10, Activation.RELU, false,
                List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")));
        assertEquals(a.hashCode(), fashion(LENET).hashCode());
        assertNotEquals(a, fashion("conv16x5,maxpool2,conv32x5,maxpool2,fc101"));
        assertNotEquals(a, new Architecture(784, new int[] {28, 28}, Architecture.parse(LENET), 10, Activation.TANH, false, null));
    }

    private static void assertShapes(Map<String, int[]> expected, Map<String, int[]> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
        expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), k));
    }
}
