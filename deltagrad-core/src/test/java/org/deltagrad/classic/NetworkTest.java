package org.deltagrad.classic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.classic.Network.Cost;
import org.deltagrad.classic.Network.Gradients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class NetworkTest {
    private static final int[] SIZES = {3, 5, 4, 2};
    private static final int BATCH = 6;

    private static Tensor inputs(long seed) {
        return Tensor.randn(DType.FLOAT64, new SplittableRandom(seed), SIZES[0], BATCH);
    }

    private static Tensor targets(long seed) {
        return Tensor.rand(DType.FLOAT64, new SplittableRandom(seed), SIZES[SIZES.length - 1], BATCH);
    }

    private static double maxRelativeError(Tensor expected, Tensor actual) {
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        assertEquals(e.length, a.length);
        double worst = 0;
        for (int i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(e[i] - a[i]) / Math.max(Math.abs(e[i]), 1e-3));
        return worst;
    }

    @ParameterizedTest
    @EnumSource(Cost.class)
    void bp1ToBp4MatchTheAutogradEngineAndFiniteDifferences(Cost cost) {
        Network net = new Network(SIZES, 7, DType.FLOAT64, cost);
        Tensor x = inputs(1), y = targets(2);
        Gradients g = net.backprop(x, y);

        Gradients auto = net.backpropByAutograd(x, y);
        int layers = net.layers() - 1;
        assertEquals(g.cost(), auto.cost(), 1e-14);
        for (int l = 1; l <= layers; l++) {
            assertTrue(maxRelativeError(auto.weightGrads().get(l), g.weightGrads().get(l)) < 1e-12, "∂C/∂w" + l);
            assertTrue(maxRelativeError(auto.biasGrads().get(l), g.biasGrads().get(l)) < 1e-12, "∂C/∂b" + l);
            assertTrue(maxRelativeError(auto.deltas().get(l), g.deltas().get(l)) < 1e-12, "δ" + l);
        }

        double h = 1e-6;
        for (int l = 1; l <= layers; l++) {
            for (Tensor p : List.of(net.weight(l), net.bias(l))) {
                Tensor analytic = p == net.weight(l) ? g.weightGrads().get(l) : g.biasGrads().get(l);
                int cols = p.shape(1);
                for (int i = 0; i < p.numel(); i++) {
                    int r = i / cols, c = i % cols;
                    double numeric = net.centralDifference(p, r, c, x, y, h);
                    assertEquals(numeric, analytic.get(r, c), 1e-8 + 1e-6 * Math.abs(numeric));
                }
            }
        }
    }

    @Test
    void float32MatchesFloat64() {
        Network n64 = new Network(SIZES, 3, DType.FLOAT64), n32 = new Network(SIZES, 3, DType.FLOAT32);
        Tensor x = inputs(4), y = targets(5);
        Gradients g64 = n64.backprop(x, y), g32 = n32.backprop(x.to(DType.FLOAT32), y);
        assertEquals(DType.FLOAT32, g32.weightGrads().get(1).dtype());
        for (int l = 1; l < SIZES.length; l++) {
            assertArrayEquals(g64.weightGrads().get(l).toDoubleArray(), g32.weightGrads().get(l).toDoubleArray(), 1e-5);
        }
    }

    @Test
    void sgdLearnsTwoSeparableClusters() {
        // Two Gaussian blobs in the plane, one-hot labels: a 2-4-2 network should classify them all.
        SplittableRandom rng = new SplittableRandom(11);
        int n = 200;
        Tensor x = Tensor.randn(DType.FLOAT64, rng, 2, n).mul(0.5);
        Tensor y = Tensor.zeros(DType.FLOAT64, 2, n);
        for (int i = 0; i < n; i++) {
            int label = i % 2;
            double shift = label == 0 ? -1.5 : 1.5;
            x.set(x.get(0, i) + shift, 0, i);
            x.set(x.get(1, i) + shift, 1, i);
            y.set(1, label, i);
        }
        Network net = new Network(new int[] {2, 4, 2}, 5, DType.FLOAT64, Cost.CROSS_ENTROPY);
        double before = net.cost(x, y);
        double[] costs = net.train(x, y, 30, 10, 0.5, 0.1, 6);
        assertTrue(costs[costs.length - 1] < before / 4, "cost " + before + " -> " + costs[costs.length - 1]);
        assertTrue(net.evaluate(x, y) >= n - 2, "correct: " + net.evaluate(x, y));
    }

    @Test
    void sgdStepMovesAgainstTheGradient() {
        Network net = new Network(SIZES, 8, DType.FLOAT64);
        Tensor x = inputs(9), y = targets(10);
        double before = net.cost(x, y);
        net.sgdStep(x, y, 0.1);
        assertTrue(net.cost(x, y) < before);
    }

    @Test
    void rejectsMisshapedInputs() {
        Network net = new Network(SIZES, 1, DType.FLOAT64);
        assertThrows(IllegalArgumentException.class, () -> net.feedforward(Tensor.zeros(DType.FLOAT64, 2, 3)));
        assertThrows(IllegalArgumentException.class, () -> net.backprop(inputs(1), Tensor.zeros(DType.FLOAT64, 3, BATCH)));
        assertThrows(IllegalArgumentException.class, () -> new Network(new int[] {3}, 1, DType.FLOAT64));
        assertEquals(3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2, net.parameterCount());
    }
}
