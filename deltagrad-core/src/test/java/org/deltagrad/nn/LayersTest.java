package org.deltagrad.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.autograd.GradCheck;
import org.junit.jupiter.api.Test;

/** Each layer's forward against numbers worked out by hand, Linear's gradients against finite differences. */
class LayersTest {

    static Tensor f64(double[] v, int... shape) {
        return Tensor.of(v, shape);
    }

    /** A float64 Linear(2, 3) with W = [[1,2],[3,4],[5,6]], b = [1,0,−1]. */
    static Linear handLinear() {
        Linear l = new Linear(2, 3, Init.NIELSEN, new SplittableRandom(0), DType.FLOAT64, true);
        l.loadStateDict(Map.of("weight", f64(new double[] {1, 2, 3, 4, 5, 6}, 3, 2), "bias", f64(new double[] {1, 0, -1}, 3)));
        return l;
    }

    @Test
    void linearForwardIsXTimesWTransposePlusB() {
        Linear l = handLinear();
        // rows of x·Wᵀ: [1+2, 3+4, 5+6] and [2, 6, 10]; then + b
        Tensor y = l.forward(f64(new double[] {1, 1, 2, 0}, 2, 2));
        assertArrayEquals(new int[] {2, 3}, y.shape());
        assertArrayEquals(new double[] {4, 7, 10, 3, 6, 9}, y.toDoubleArray(), 0);
        // a single example (1-D) and a batch with extra leading axes
        assertArrayEquals(new double[] {4, 7, 10}, l.forward(f64(new double[] {1, 1}, 2)).toDoubleArray(), 0);
        Tensor y3 = l.forward(f64(new double[] {1, 1, 2, 0}, 2, 1, 2));
        assertArrayEquals(new int[] {2, 1, 3}, y3.shape());
        assertArrayEquals(new double[] {4, 7, 10, 3, 6, 9}, y3.toDoubleArray(), 0);
    }

    @Test
    void linearLayoutAndDefaults() {
        Linear l = new Linear(5, 3, 42);
        assertArrayEquals(new int[] {3, 5}, l.weight().shape());
        assertArrayEquals(new int[] {3}, l.bias().shape());
        assertEquals(DType.FLOAT32, l.weight().dtype());
        assertTrue(l.weight().requiresGrad() && l.bias().requiresGrad());
        assertEquals(List.of("weight", "bias"), List.copyOf(l.namedParameters().keySet()));
        Linear noBias = new Linear(5, 3, Init.HE_NORMAL, new SplittableRandom(1), DType.FLOAT32, false);
        assertEquals(List.of("weight"), List.copyOf(noBias.namedParameters().keySet()));
        assertEquals(15, noBias.parameterCount());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.forward(Tensor.zeros(2, 4)));
        assertTrue(e.getMessage().contains("[2, 4]"), e.getMessage());
    }

    @Test
    void linearInputGradientPassesGradCheckFirstAndSecondOrder() {
        Linear l = new Linear(3, 4, Init.XAVIER_NORMAL, new SplittableRandom(3), DType.FLOAT64, true);
        // tanh after the layer, so the second derivative with respect to x is not trivially zero
        GradCheck.Fn f = in -> l.forward(in.get(0)).tanh();
        List<Tensor> x = List.of(Tensor.randn(DType.FLOAT64, new SplittableRandom(4), 2, 3));
        GradCheck.Report first = GradCheck.check(f, x);
        assertTrue(first.passed(), first.toString());
        GradCheck.Report second = GradCheck.checkSecondOrder(f, x);
        assertTrue(second.passed(), second.toString());
    }

    @Test
    void linearParameterGradientsMatchFiniteDifferences() {
        Linear l = new Linear(3, 4, Init.XAVIER_NORMAL, new SplittableRandom(5), DType.FLOAT64, true);
        Tensor x = Tensor.randn(DType.FLOAT64, new SplittableRandom(6), 5, 3);
        Tensor w = Tensor.randn(DType.FLOAT64, new SplittableRandom(7), 5, 4);
        java.util.function.Supplier<Tensor> loss = () -> l.forward(x).tanh().mul(w).sum();
        loss.get().backward();
        for (Tensor p : l.parameters()) {
            double[] analytic = p.grad().toDoubleArray();
            double[] numeric = finiteDifferences(loss, p);
            assertArrayEquals(numeric, analytic, 1e-7);
        }
    }

    /** Central differences of a scalar loss with respect to each element of p (moved in place, then restored). */
    static double[] finiteDifferences(java.util.function.Supplier<Tensor> loss, Tensor p) {
        double eps = 1e-6;
        double[] base = p.toDoubleArray();
        double[] out = new double[base.length];
        int[] shape = p.shape();
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int e = 0; e < base.length; e++) {
                int[] idx = unravel(e, shape);
                p.set(base[e] + eps, idx);
                double plus = loss.get().item();
                p.set(base[e] - eps, idx);
                double minus = loss.get().item();
                p.set(base[e], idx);
                out[e] = (plus - minus) / (2 * eps);
            }
        }
        return out;
    }

    static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    @Test
    void activationsMatchHandValues() {
        assertArrayEquals(new double[] {0.5, 0.75}, new Sigmoid().forward(f64(new double[] {0, Math.log(3)}, 2)).toDoubleArray(), 1e-15);
        // tanh(ln 2) = (4 − 1)/(4 + 1)
        assertArrayEquals(new double[] {0, 0.6}, new Tanh().forward(f64(new double[] {0, Math.log(2)}, 2)).toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {0, 0, 2}, new ReLU().forward(f64(new double[] {-1, 0, 2}, 3)).toDoubleArray(), 0);
        assertArrayEquals(new double[] {-0.2, 0, 3}, new LeakyReLU(0.1).forward(f64(new double[] {-2, 0, 3}, 3)).toDoubleArray(), 1e-15);
        assertEquals(0.01, new LeakyReLU().slope());
        // softmax of [0, ln 3] is [1/4, 3/4]; along axis 1 each row is normalised separately
        Tensor s = new Softmax(1).forward(f64(new double[] {0, Math.log(3), 5, 5}, 2, 2));
        assertArrayEquals(new double[] {0.25, 0.75, 0.5, 0.5}, s.toDoubleArray(), 1e-15);
        Tensor x = f64(new double[] {1, 2}, 2);
        assertSame(x, new Identity().forward(x));
    }

    @Test
    void leakyReluGradientIsOneOrSlope() {
        Tensor x = f64(new double[] {-2, 0, 3}, 3).requiresGrad(true);
        new LeakyReLU(0.1).forward(x).sum().backward();
        // PyTorch's convention: the slope applies at x = 0
        assertArrayEquals(new double[] {0.1, 0.1, 1}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void dropoutZeroesAboutPAndScalesSurvivors() {
        Dropout d = new Dropout(0.25, 11);
        Tensor y = d.forward(Tensor.ones(DType.FLOAT64, 4000));
        int zeros = 0;
        for (double v : y.toDoubleArray()) {
            if (v == 0) zeros++;
            else assertEquals(1 / 0.75, v, 1e-15);
        }
        assertEquals(0.25, zeros / 4000.0, 0.03);
        assertEquals(1, d.calls());
    }

    @Test
    void dropoutIsDeterministicGivenSeedAndCallCount() {
        Dropout a = new Dropout(0.5, 7), b = new Dropout(0.5, 7);
        Tensor x = Tensor.ones(64);
        double[] a1 = a.forward(x).toDoubleArray(), a2 = a.forward(x).toDoubleArray();
        b.forward(Tensor.ones(3)); // a different shape on the first call does not shift the second call's mask
        assertArrayEquals(a2, b.forward(x).toDoubleArray(), 0);
        assertNotEquals(java.util.Arrays.toString(a1), java.util.Arrays.toString(a2));
        assertArrayEquals(a1, new Dropout(0.5, 7).forward(x).toDoubleArray(), 0);
    }

    @Test
    void dropoutIsIdentityInEvalModeAndItsGradientIsTheMask() {
        Dropout d = new Dropout(0.5, 3);
        d.eval();
        Tensor x = Tensor.randn(9, 10);
        assertSame(x, d.forward(x));
        d.train();
        Tensor v = Tensor.randn(DType.FLOAT64, new SplittableRandom(1), 10).requiresGrad(true);
        Tensor y = d.forward(v);
        y.sum().backward();
        double[] yv = y.toDoubleArray(), xv = v.toDoubleArray(), g = v.grad().toDoubleArray();
        for (int i = 0; i < 10; i++) assertEquals(yv[i], xv[i] * g[i], 1e-12);
        assertArrayEquals(new double[] {0, 0}, new Dropout(1, 0).forward(Tensor.ones(DType.FLOAT64, 2)).toDoubleArray(), 0);
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.5, 0));
    }

    @Test
    void initSchemesHaveTheirDocumentedScale() {
        SplittableRandom rng = new SplittableRandom(9);
        int in = 200, out = 300;
        assertEquals(Math.sqrt(1.0 / in), std(Init.NIELSEN.weight(DType.FLOAT64, rng, in, out)), 0.005);
        assertEquals(1, std(Init.NIELSEN.bias(DType.FLOAT64, rng, in, 5000)), 0.05);
        assertEquals(Math.sqrt(2.0 / (in + out)), std(Init.XAVIER_NORMAL.weight(DType.FLOAT64, rng, in, out)), 0.002);
        assertEquals(Math.sqrt(2.0 / in), std(Init.HE_NORMAL.weight(DType.FLOAT64, rng, in, out)), 0.003);
        assertBound(Init.XAVIER_UNIFORM.weight(DType.FLOAT64, rng, in, out), Math.sqrt(6.0 / (in + out)));
        assertBound(Init.HE_UNIFORM.weight(DType.FLOAT64, rng, in, out), Math.sqrt(6.0 / in));
        assertBound(Init.PYTORCH_DEFAULT.weight(DType.FLOAT64, rng, in, out), 1 / Math.sqrt(in));
        assertBound(Init.PYTORCH_DEFAULT.bias(DType.FLOAT64, rng, in, 5000), 1 / Math.sqrt(in));
        for (Init zeroBias : new Init[] {Init.XAVIER_UNIFORM, Init.XAVIER_NORMAL, Init.HE_NORMAL, Init.HE_UNIFORM}) {
            assertArrayEquals(new double[7], zeroBias.bias(DType.FLOAT32, rng, in, 7).toDoubleArray(), 0, zeroBias.name());
        }
        // the same seed gives the same layer
        assertArrayEquals(new Linear(4, 3, 5).weight().toFloatArray(), new Linear(4, 3, 5).weight().toFloatArray());
    }

    private static double std(Tensor t) {
        double[] v = t.toDoubleArray();
        double mean = 0, sq = 0;
        for (double x : v) mean += x / v.length;
        for (double x : v) sq += (x - mean) * (x - mean) / v.length;
        assertEquals(0, mean, 4 * Math.sqrt(sq / v.length));
        return Math.sqrt(sq);
    }

    /** Uniform on (−bound, bound): inside, and filling it (the extremes come within 2% of the bound). */
    private static void assertBound(Tensor t, double bound) {
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (double x : t.toDoubleArray()) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        assertTrue(lo >= -bound && hi <= bound, lo + ".." + hi + " vs " + bound);
        assertTrue(lo < -0.98 * bound && hi > 0.98 * bound, lo + ".." + hi + " vs " + bound);
    }
}
