package org.deltagrad.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.junit.jupiter.api.Test;

/** Conv2d, the pooling layers and Flatten: PyTorch's names, layouts and initial bounds, and hand-worked outputs. */
class ConvLayersTest {

    @Test
    void unflattenTurnsRowsIntoImagesAndNamesBadInput() {
        Tensor rows = Tensor.arange(24).reshape(2, 12);
        Tensor images = new Unflatten(3, 2, 2).forward(rows);
        assertArrayEquals(new int[] {2, 3, 2, 2}, images.shape());
        assertEquals(rows.get(1, 7), images.get(1, 1, 1, 1));
        assertArrayEquals(new int[] {2, 12}, new Flatten().forward(images).shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Unflatten(1, 28, 28).forward(rows));
        assertEquals("Unflatten: expected input [N, 784] to unflatten to [N, 1, 28, 28], got [2, 12]", e.getMessage());
        assertEquals("Unflatten(dim=1, unflattened_size=(1, 28, 28))", new Unflatten(1, 28, 28).toString());
    }

    @Test
    void conv2dHasPyTorchsParametersAndInitialBounds() {
        Conv2d c = new Conv2d(3, 8, 5, 7);
        assertEquals(List.of("weight", "bias"), List.copyOf(c.namedParameters().keySet()));
        assertArrayEquals(new int[] {8, 3, 5, 5}, c.weight().shape());
        assertArrayEquals(new int[] {8}, c.bias().shape());
        assertEquals(DType.FLOAT32, c.weight().dtype());
        assertTrue(c.weight().requiresGrad() && c.bias().requiresGrad());
        double bound = 1 / Math.sqrt(3 * 5 * 5); // PyTorch: kaiming_uniform(a=√5) and the bias, both 1/√fan_in
        for (float v : c.weight().toFloatArray()) assertTrue(Math.abs(v) <= bound, "weight " + v);
        for (float v : c.bias().toFloatArray()) assertTrue(Math.abs(v) <= bound, "bias " + v);
        Conv2d noBias = new Conv2d(3, 8, 5, 2, 1, Init.PYTORCH_DEFAULT, new SplittableRandom(1), DType.FLOAT32, false);
        assertEquals(List.of("weight"), List.copyOf(noBias.namedParameters().keySet()));
    }

    @Test
    void conv2dForwardWithLoadedWeights() {
        Conv2d c = new Conv2d(1, 1, 2, 2, 1, Init.PYTORCH_DEFAULT, new SplittableRandom(0), DType.FLOAT64, true);
        c.loadStateDict(Map.of("weight", Tensor.of(new double[] {1, 1, 1, 1}, 1, 1, 2, 2), "bias", Tensor.of(new double[] {10}, 1)));
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        // stride 2, padding 1: windows {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}
        assertArrayEquals(new double[] {11, 15, 21, 38}, c.forward(x).toDoubleArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.forward(Tensor.zeros(DType.FLOAT64, 1, 2, 3, 3)));
        assertTrue(e.getMessage().startsWith("Conv2d(in=1, out=1, kernel=2): input of shape [1, 2, 3, 3]"), e.getMessage());
    }

    @Test
    void poolingAndFlatten() {
        Tensor x = Tensor.of(new double[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 1, 1, 4, 4);
        assertArrayEquals(new double[] {5, 7, 13, 15}, new MaxPool2d(2).forward(x).toDoubleArray());
        assertArrayEquals(new double[] {2.5, 4.5, 10.5, 12.5}, new AvgPool2d(2).forward(x).toDoubleArray());
        assertArrayEquals(new double[] {10, 11, 14, 15}, new MaxPool2d(3, 1).forward(x).toDoubleArray());
        assertArrayEquals(new int[] {1, 16}, new Flatten().forward(x).shape());
        assertArrayEquals(new int[] {2, 12}, new Flatten().forward(Tensor.zeros(DType.FLOAT64, 2, 3, 2, 2)).shape());
        assertThrows(IllegalArgumentException.class, () -> new AvgPool2d(0));
        assertEquals("MaxPool2d(kernel=2, stride=1)", new MaxPool2d(2, 1).toString().strip());
    }

    @Test
    void aSmallCnnTrainsDownhill() {
        Sequential net = new Sequential(new Conv2d(1, 4, 3, 1), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 3 * 3, 2, 2));
        SplittableRandom r = new SplittableRandom(5);
        Tensor x = Tensor.randn(DType.FLOAT32, r, 8, 1, 8, 8);
        int[] labels = {0, 1, 0, 1, 1, 0, 1, 0};
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++) {
            for (Tensor p : net.parameters()) p.zeroGrad();
            Tensor loss = net.forward(x).crossEntropy(labels);
            loss.backward();
            try (var scope = Autograd.noGrad()) {
                for (Tensor p : net.parameters()) p.addInPlace(p.grad(), -0.1);
            }
            if (step == 0) first = loss.item();
            last = loss.item();
        }
        assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
    }
}
