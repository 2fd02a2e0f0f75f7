package org.deltagrad.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.GradCheck;
import org.junit.jupiter.api.Test;

/** Each loss against its closed form on small inputs, and gradchecked at first and second order. */
class LossesTest {

    static Tensor f64(double... v) {
        return Tensor.of(v, v.length);
    }

    static Tensor f64(double[] v, int... shape) {
        return Tensor.of(v, shape);
    }

    static void assertGradChecks(GradCheck.Fn f, Tensor... inputs) {
        GradCheck.Report first = GradCheck.check(f, List.of(inputs));
        assertTrue(first.passed(), first.toString());
        GradCheck.Report second = GradCheck.checkSecondOrder(f, List.of(inputs));
        assertTrue(second.passed(), second.toString());
    }

    static Tensor randn(long seed, int... shape) {
        return Tensor.randn(DType.FLOAT64, new SplittableRandom(seed), shape);
    }

    // ---------------------------------------------------------------- quadratic, mse, l2

    @Test
    void quadraticIsNielsensCost() {
        // two examples; ‖y − a‖² = (1 + 0 + 4) and (4 + 9 + 1); C = (5 + 14)/(2·2)
        Tensor a = f64(new double[] {1, 2, 3, 3, 4, 5}, 2, 3), y = f64(new double[] {0, 2, 1, 1, 1, 4}, 2, 3);
        assertEquals(19.0 / 4, Losses.quadratic(a, y).item(), 1e-15);
        assertEquals(19.0 / 4, Losses.quadratic().apply(a, y).item(), 1e-15);
        // its gradient is (a − y)/n: Nielsen's ∇ₐC for one example, averaged
        Tensor av = a.detach().requiresGrad(true);
        Losses.quadratic(av, y).backward();
        assertArrayEquals(new double[] {0.5, 0, 1, 1, 1.5, 0.5}, av.grad().toDoubleArray(), 1e-15);
        assertGradChecks(in -> Losses.quadratic(in.get(0), in.get(1)), randn(1, 3, 2), randn(2, 3, 2));
    }

    @Test
    void mseIsTheMeanOverAllElements() {
        Tensor a = f64(new double[] {1, 2, 3, 3, 4, 5}, 2, 3), y = f64(new double[] {0, 2, 1, 1, 1, 4}, 2, 3);
        assertEquals(19.0 / 6, Losses.mse(a, y).item(), 1e-15);
        assertEquals(19.0 / 6, Losses.mse().apply(a, y).item(), 1e-15);
        assertGradChecks(in -> Losses.mse(in.get(0), in.get(1)), randn(3, 4, 2), randn(4, 4, 2));
        assertThrows(IllegalArgumentException.class, () -> Losses.mse(Tensor.zeros(2, 3), Tensor.zeros(3)));
    }

    @Test
    void l2IsLambdaOverTwoNTimesSumOfSquares() {
        Tensor w1 = f64(new double[] {1, 2}, 1, 2), w2 = f64(3);
        assertEquals(0.1 / (2 * 10) * 14, Losses.l2(List.of(w1, w2), 0.1, 10).item(), 1e-15);
        assertEquals(0, Losses.l2(List.of(), 0.1, 10).item());
        assertGradChecks(in -> Losses.l2(in, 0.3, 4), randn(5, 2, 3), randn(6, 3));
    }

    // ---------------------------------------------------------------- cross-entropy

    /** log Σ exp, written out directly (fine for small values). */
    static double logSumExp(double... z) {
        double s = 0;
        for (double v : z) s += Math.exp(v);
        return Math.log(s);
    }

    @Test
    void crossEntropyWithLabelsIsMeanOfLogSumExpMinusTheTrueLogit() {
        Tensor z = f64(new double[] {1, 2, 3, 1, 1, 1}, 2, 3);
        double expected = ((logSumExp(1, 2, 3) - 3) + (logSumExp(1, 1, 1) - 1)) / 2;
        assertEquals(expected, Losses.crossEntropy(z, f64(2, 0)).item(), 1e-15);
        assertEquals(expected, Losses.crossEntropy(z, new int[] {2, 0}).item(), 1e-15);
        assertEquals(expected, Losses.crossEntropy().apply(z, f64(2, 0)).item(), 1e-15);
        assertEquals(expected, z.crossEntropy(new int[] {2, 0}).item(), 1e-15);
        // labels may come in a float32 tensor; the loss keeps the logits' dtype
        assertEquals(DType.FLOAT64, Losses.crossEntropy(z, Tensor.of(new float[] {2, 0}, 2)).dtype());
        // one example: logits [C] and a 0-D label
        assertEquals(logSumExp(1, 2, 3) - 2, Losses.crossEntropy(f64(1, 2, 3), Tensor.scalar(1)).item(), 1e-15);
    }

    @Test
    void crossEntropyGradientIsSoftmaxMinusOneHotOverB() {
        Tensor z = f64(new double[] {1, 2, 3, 1, 1, 1}, 2, 3).requiresGrad(true);
        Losses.crossEntropy(z, f64(2, 0)).backward();
        double s = Math.exp(1) + Math.exp(2) + Math.exp(3);
        double[] expected = {Math.exp(1) / s / 2, Math.exp(2) / s / 2, (Math.exp(3) / s - 1) / 2,
                (1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6};
        assertArrayEquals(expected, z.grad().toDoubleArray(), 1e-15);
    }

    @Test
    void crossEntropyPassesGradCheckFirstAndSecondOrder() {
        Tensor labels = f64(2, 0, 1, 2);
        assertGradChecks(in -> in.get(0).crossEntropy(new int[] {2, 0, 1, 2}), randn(7, 4, 3));
        assertGradChecks(in -> Losses.crossEntropy(in.get(0), labels), randn(8, 4, 3).mul(3));
    }

    @Test
    void crossEntropyIsStableForHugeLogits() {
        for (DType dt : DType.values()) {
            Tensor z = f64(new double[] {1000, 0, -1000, 1000, 1000, 0}, 2, 3).to(dt).requiresGrad(true);
            Tensor loss = Losses.crossEntropy(z, f64(0, 2));
            // row 0 is certain and right (loss 0); row 1 splits between two wrong classes: 1000 + ln 2
            assertEquals((1000 + Math.log(2)) / 2, loss.item(), dt == DType.FLOAT32 ? 1e-4 : 1e-12, dt.name());
            loss.backward();
            assertArrayEquals(new double[] {0, 0, 0, 0.25, 0.25, -0.5}, z.grad().toDoubleArray(), 1e-7, dt.name());
        }
    }

    @Test
    void crossEntropyAcceptsOneHotAndProbabilityTargets() {
        Tensor z = randn(9, 3, 4);
        Tensor oneHot = f64(new double[] {0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0}, 3, 4);
        assertEquals(Losses.crossEntropy(z, f64(1, 3, 0)).item(), Losses.crossEntropy(z, oneHot).item(), 1e-14);
        // soft targets: −(1/B) Σ t·log softmax(z), by hand for one row
        Tensor row = f64(new double[] {0, Math.log(3)}, 1, 2); // softmax = [1/4, 3/4]
        Tensor t = f64(new double[] {0.5, 0.5}, 1, 2);
        assertEquals(-(0.5 * Math.log(0.25) + 0.5 * Math.log(0.75)), Losses.crossEntropy(row, t).item(), 1e-15);
        Tensor probs = randn(10, 3, 4).softmax(1);
        assertGradChecks(in -> Losses.crossEntropy(in.get(0), in.get(1)), z, probs);
    }

    @Test
    void crossEntropyRejectsBadLabels() {
        Tensor z = Tensor.zeros(DType.FLOAT64, 2, 3);
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, f64(0, 3)));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, f64(0.5, 1)));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, f64(0, 1, 2)));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, Tensor.zeros(DType.FLOAT64, 2, 2)));
    }

    // ---------------------------------------------------------------- binary cross-entropy

    @Test
    void binaryCrossEntropyFromProbabilities() {
        Tensor p = f64(0.9, 0.2, 0.6), y = f64(1, 0, 0.5);
        double expected = -(Math.log(0.9) + Math.log(0.8) + 0.5 * Math.log(0.6) + 0.5 * Math.log(0.4)) / 3;
        assertEquals(expected, Losses.binaryCrossEntropy(p, y).item(), 1e-15);
        assertEquals(expected, Losses.binaryCrossEntropy().apply(p, y).item(), 1e-15);
        // saturated and wrong: clamped to −log(eps) instead of infinity
        assertEquals(-Math.log(1e-7), Losses.binaryCrossEntropy(f64(0, 1), f64(1, 0)).item(), 1e-6);
        assertEquals(-Math.log(1e-3), Losses.binaryCrossEntropy(1e-3).apply(f64(0), f64(1)).item(), 1e-9);
        Tensor probs = randn(11, 3, 2).sigmoid().mul(0.8).add(0.1); // away from the clamp
        assertGradChecks(in -> Losses.binaryCrossEntropy(in.get(0), in.get(1)), probs, randn(12, 3, 2).sigmoid());
    }

    /**
     * The fused losses are one pass each, but give the bits of the tensor ops they replace: the element-wise
     * terms rounded to the dtype step by step, summed as sum() does (row by row), divided in the dtype.
     */
    @Test
    void fusedLossesHaveTheBitsOfTheirComposites() {
        int[][] shapes = {{}, {3}, {2, 2}, {5, 3}, {64, 10}, {1000, 2}, {2, 3, 4}, {0, 3}};
        for (DType dt : DType.values()) {
            // Many small cases: a float rounding step missed inside a term shows in some of them.
            for (int k = 0; k < 300; k++) {
                int[] shape = shapes[k < 270 ? k % 3 : k % shapes.length];
                SplittableRandom r = new SplittableRandom(k);
                Tensor z = Tensor.randn(dt, r, shape).mul(4), y = Tensor.rand(dt, r, shape);
                Tensor bce = z.relu().sub(z.mul(y)).add(z.abs().neg().exp().add(1).log()).mean();
                assertBitsEqual(bce, Losses.binaryCrossEntropyWithLogits(z, y), dt + " bce " + java.util.Arrays.toString(shape));
                double[] a = z.toDoubleArray(), t = y.toDoubleArray();
                double sum = 0;
                for (int i = 0; i < a.length; i++) sum += (a[i] - t[i]) * (a[i] - t[i]);
                Tensor quadratic = Tensor.scalar(sum / (2.0 * (shape.length == 0 ? 1 : shape[0])), dt);
                assertBitsEqual(quadratic, Losses.quadratic(z, y), dt + " quadratic " + java.util.Arrays.toString(shape));
            }
        }
    }

    static void assertBitsEqual(Tensor want, Tensor got, String what) {
        assertEquals(want.dtype(), got.dtype(), what);
        assertEquals(Double.doubleToRawLongBits(want.item()), Double.doubleToRawLongBits(got.item()),
                () -> what + ": " + want.item() + " vs " + got.item());
    }

    @Test
    void binaryCrossEntropyWithLogitsIsStableAndExactAtZero() {
        Tensor z = f64(-2, 0, 3), y = f64(0, 1, 0.3);
        double expected = (Math.log1p(Math.exp(-2)) + Math.log(2) - 0 + Math.log1p(Math.exp(3)) - 3 * 0.3) / 3;
        assertEquals(expected, Losses.binaryCrossEntropyWithLogits(z, y).item(), 1e-15);
        assertEquals(expected, Losses.binaryCrossEntropyWithLogits().apply(z, y).item(), 1e-15);
        // same value as BCE of σ(z)
        assertEquals(Losses.binaryCrossEntropy(z.sigmoid(), y).item(), expected, 1e-12);

        Tensor zv = z.detach().requiresGrad(true);
        Losses.binaryCrossEntropyWithLogits(zv, y).backward();
        double sig = 1 / (1 + Math.exp(2)), sig3 = 1 / (1 + Math.exp(-3));
        // (σ(z) − y)/N, including the exact σ(0) − y = −1/2 at z = 0
        assertArrayEquals(new double[] {sig / 3, -0.5 / 3, (sig3 - 0.3) / 3}, zv.grad().toDoubleArray(), 1e-15);

        Tensor big = f64(1000, -1000, 1000);
        assertEquals((1000 + 0 + 0) / 3.0, Losses.binaryCrossEntropyWithLogits(big, f64(0, 0, 1)).item(), 1e-12);
        assertGradChecks(in -> Losses.binaryCrossEntropyWithLogits(in.get(0), in.get(1)), randn(13, 3, 2).mul(2),
                randn(14, 3, 2).sigmoid());
    }
}
