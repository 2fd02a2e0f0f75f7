package org.deltagrad.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Each optimiser against its PyTorch update rule worked out by hand for a two-element parameter
 * p₀ = [1, 2] and the gradient sequence g₁ = [1, −2], g₂ = [0.5, 0.5], g₃ = [−1, 0].
 */
class OptimizerTest {
    static final double[] G1 = {1, -2}, G2 = {0.5, 0.5}, G3 = {-1, 0};
    static final double EPS = 1e-8;

    static Tensor param() {
        return Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
    }

    /** Sets the gradient directly (so each step's g is known exactly) and steps. */
    static void step(Optimizer o, Tensor p, double[] g) {
        p.setGrad(Tensor.of(g.clone(), 2));
        o.step();
    }

    static void assertParam(Tensor p, double... expected) {
        assertArrayEquals(expected, p.toDoubleArray(), 1e-12);
    }

    // ---------------------------------------------------------------- SGD

    @Test
    void plainSgdFollowsTheGradientOfARealLoss() {
        Tensor p = param();
        SGD sgd = new SGD(List.of(p), 0.1);
        for (int i = 0; i < 2; i++) {
            sgd.zeroGrad();
            p.square().sum().div(2).backward(); // ∇ ½‖p‖² = p, so each step multiplies p by 0.9
            sgd.step();
        }
        assertParam(p, 0.81, 1.62);
        assertTrue(p.isLeaf() && p.requiresGrad());
    }

    @Test
    void sgdWithMomentum() {
        Tensor p = param();
        SGD sgd = new SGD(List.of(p), 0.1, 0.9);
        step(sgd, p, G1); // v = g₁ = [1, −2]; p = [1 − 0.1, 2 + 0.2]
        assertParam(p, 0.9, 2.2);
        step(sgd, p, G2); // v = 0.9·[1, −2] + [0.5, 0.5] = [1.4, −1.3]
        assertParam(p, 0.76, 2.33);
        step(sgd, p, G3); // v = 0.9·[1.4, −1.3] + [−1, 0] = [0.26, −1.17]
        assertParam(p, 0.734, 2.447);
    }

    @Test
    void sgdWithNesterovMomentum() {
        Tensor p = param();
        SGD sgd = new SGD(List.of(p), 0.1, 0.9, 0, true, 0);
        step(sgd, p, G1); // v = [1, −2]; d = g + 0.9v = [1.9, −3.8]
        assertParam(p, 0.81, 2.38);
        step(sgd, p, G2); // v = [1.4, −1.3]; d = [0.5 + 1.26, 0.5 − 1.17] = [1.76, −0.67]
        assertParam(p, 0.634, 2.447);
        step(sgd, p, G3); // v = [0.26, −1.17]; d = [−1 + 0.234, −1.053]
        assertParam(p, 0.7106, 2.5523);
    }

    @Test
    void sgdWithDampeningSkipsItOnTheFirstStep() {
        Tensor p = param();
        SGD sgd = new SGD(List.of(p), 0.1, 0.9, 0.5, false, 0);
        step(sgd, p, G1); // v = g₁ (PyTorch starts the buffer at g, undamped)
        assertParam(p, 0.9, 2.2);
        step(sgd, p, G2); // v = 0.9·[1, −2] + 0.5·[0.5, 0.5] = [1.15, −1.55]
        assertParam(p, 0.785, 2.355);
    }

    @Test
    void sgdWithWeightDecay() {
        Tensor p = param();
        SGD sgd = new SGD(List.of(p), 0.1, 0, 0, false, 0.1);
        step(sgd, p, G1); // d = g + 0.1p = [1.1, −1.8]
        assertParam(p, 0.89, 2.18);
        step(sgd, p, G2); // d = [0.5 + 0.089, 0.5 + 0.218]
        assertParam(p, 0.8311, 2.1082);
        assertArrayEquals(G2, p.grad().toDoubleArray(), 0); // the decay does not touch grad()
    }

    @Test
    void sgdValidatesNesterov() {
        assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(param()), 0.1, 0, 0, true, 0));
        assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(param()), 0.1, 0.9, 0.1, true, 0));
        assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(Tensor.zeros(2)), 0.1));
    }

    // ---------------------------------------------------------------- Adam family

    @Test
    void adamWithBiasCorrection() {
        Tensor p = param();
        Adam adam = new Adam(List.of(p), 0.1);
        // step 1: m = [0.1, −0.2], v = [0.001, 0.004]; corrected m̂ = [1, −2], v̂ = [1, 4]: a step of lr·sign(g)
        step(adam, p, G1);
        double p0 = 1 - 0.1 * 1 / (1 + EPS), p1 = 2 - 0.1 * -2 / (2 + EPS);
        assertParam(p, p0, p1);
        // step 2: m = 0.9m + 0.1g = [0.14, −0.13], v = 0.999v + 0.001g² = [0.001249, 0.004246]
        step(adam, p, G2);
        double bc1 = 1 - 0.9 * 0.9, bc2 = 1 - 0.999 * 0.999;
        p0 -= 0.1 / bc1 * 0.14 / (Math.sqrt(0.001249) / Math.sqrt(bc2) + EPS);
        p1 -= 0.1 / bc1 * -0.13 / (Math.sqrt(0.004246) / Math.sqrt(bc2) + EPS);
        assertParam(p, p0, p1);
        assertArrayEquals(new double[] {0.806782, 2.146947}, p.toDoubleArray(), 1e-6);
        // step 3: m = [0.9·0.14 − 0.1, 0.9·−0.13] = [0.026, −0.117], v = [0.999·0.001249 + 0.001, 0.999·0.004246]
        step(adam, p, G3);
        double bc1b = 1 - Math.pow(0.9, 3), bc2b = 1 - Math.pow(0.999, 3);
        p0 -= 0.1 / bc1b * 0.026 / (Math.sqrt(0.999 * 0.001249 + 0.001) / Math.sqrt(bc2b) + EPS);
        p1 -= 0.1 / bc1b * -0.117 / (Math.sqrt(0.999 * 0.004246) / Math.sqrt(bc2b) + EPS);
        assertParam(p, p0, p1);
    }

    @Test
    void adamWithL2WeightDecayAddsItToTheGradient() {
        Tensor p = param();
        Adam adam = new Adam(List.of(p), 0.1, 0.9, 0.999, EPS, 0.1);
        step(adam, p, G1); // g' = g + 0.1p = [1.1, −1.8]: still a step of lr·sign(g')
        double p0 = 1 - 0.1 * 1.1 / (1.1 + EPS), p1 = 2 + 0.1 * 1.8 / (1.8 + EPS);
        assertParam(p, p0, p1);
        // g' = [0.5 + 0.1·p0, 0.5 + 0.1·p1]; m = 0.9·[0.11, −0.18] + 0.1g'; v = 0.999·[0.00121, 0.00324] + 0.001g'²
        double g0 = 0.5 + 0.1 * p0, g1 = 0.5 + 0.1 * p1;
        double m0 = 0.9 * 0.11 + 0.1 * g0, m1 = 0.9 * -0.18 + 0.1 * g1;
        double v0 = 0.999 * 0.00121 + 0.001 * g0 * g0, v1 = 0.999 * 0.00324 + 0.001 * g1 * g1;
        step(adam, p, G2);
        double bc1 = 0.19, bc2 = 1 - 0.999 * 0.999;
        assertParam(p, p0 - 0.1 / bc1 * m0 / (Math.sqrt(v0 / bc2) + EPS), p1 - 0.1 / bc1 * m1 / (Math.sqrt(v1 / bc2) + EPS));
    }

    @Test
    void adamWDecaysTheWeightsBeforeThePlainAdamStep() {
        Tensor p = param();
        AdamW adamW = new AdamW(List.of(p), 0.1, 0.9, 0.999, EPS, 0.1);
        step(adamW, p, G1); // p·(1 − 0.1·0.1) = [0.99, 1.98], then the Adam step of lr·sign(g)
        double p0 = 0.99 - 0.1 / (1 + EPS), p1 = 1.98 + 0.1 * 2 / (2 + EPS);
        assertParam(p, p0, p1);
        step(adamW, p, G2); // decay again, then Adam's second step with the undecayed moments [0.14, −0.13], [0.001249, 0.004246]
        double bc1 = 0.19, bc2 = 1 - 0.999 * 0.999;
        p0 = 0.99 * p0 - 0.1 / bc1 * 0.14 / (Math.sqrt(0.001249) / Math.sqrt(bc2) + EPS);
        p1 = 0.99 * p1 - 0.1 / bc1 * -0.13 / (Math.sqrt(0.004246) / Math.sqrt(bc2) + EPS);
        assertParam(p, p0, p1);
    }

    // ---------------------------------------------------------------- RMSprop

    @Test
    void rmsprop() {
        Tensor p = param();
        RMSprop rms = new RMSprop(List.of(p), 0.01);
        step(rms, p, G1); // s = 0.01g² = [0.01, 0.04]; d = g/(√s + ε) ≈ [10, −10]
        double p0 = 1 - 0.01 * 1 / (0.1 + EPS), p1 = 2 + 0.01 * 2 / (0.2 + EPS);
        assertParam(p, p0, p1);
        step(rms, p, G2); // s = 0.99s + 0.01·0.25 = [0.0124, 0.0421]
        p0 -= 0.01 * 0.5 / (Math.sqrt(0.0124) + EPS);
        p1 -= 0.01 * 0.5 / (Math.sqrt(0.0421) + EPS);
        assertParam(p, p0, p1);
        assertArrayEquals(new double[] {0.8550987, 2.0756315}, p.toDoubleArray(), 1e-6);
    }

    @Test
    void rmspropWithMomentumAndWeightDecay() {
        Tensor p = param();
        RMSprop rms = new RMSprop(List.of(p), 0.01, 0.99, EPS, 0.9, 0.5);
        // g' = g + 0.5p = [1.5, −1]; s = 0.01g'² = [0.0225, 0.01]; d = g'/(√s + ε); b = d
        step(rms, p, G1);
        double d0 = 1.5 / (0.15 + EPS), d1 = -1 / (0.1 + EPS);
        double p0 = 1 - 0.01 * d0, p1 = 2 - 0.01 * d1;
        assertParam(p, p0, p1);
        double g0 = 0.5 + 0.5 * p0, g1 = 0.5 + 0.5 * p1;
        double s0 = 0.99 * 0.0225 + 0.01 * g0 * g0, s1 = 0.99 * 0.01 + 0.01 * g1 * g1;
        double b0 = 0.9 * d0 + g0 / (Math.sqrt(s0) + EPS), b1 = 0.9 * d1 + g1 / (Math.sqrt(s1) + EPS);
        step(rms, p, G2);
        assertParam(p, p0 - 0.01 * b0, p1 - 0.01 * b1);
    }

    // ---------------------------------------------------------------- shared behaviour

    @Test
    void stepsInPlaceSkipsParametersWithoutGradAndKeepsFloat32() {
        Tensor p = Tensor.ones(3).requiresGrad(true), idle = Tensor.ones(2).requiresGrad(true);
        for (Optimizer o : List.of(new SGD(List.of(p, idle), 0.1, 0.9), new Adam(List.of(p, idle), 0.1),
                new AdamW(List.of(p, idle), 0.1), new RMSprop(List.of(p, idle), 0.1))) {
            p.setGrad(Tensor.ones(3));
            int version = p.version();
            o.step();
            assertTrue(p.version() > version, o.getClass().getSimpleName());
            assertEquals(DType.FLOAT32, p.dtype());
            assertTrue(p.toDoubleArray()[0] < 1, o.getClass().getSimpleName());
            assertArrayEquals(new float[] {1, 1}, idle.toFloatArray());
            assertSame(p, o.parameters().get(0));
        }
    }

    @Test
    void learningRateCanBeChangedAndZeroGradClears() {
        Tensor p = param();
        SGD sgd = new SGD(List.of(p), 0.1);
        sgd.setLearningRate(0.5);
        assertEquals(0.5, sgd.learningRate());
        step(sgd, p, G1);
        assertParam(p, 0.5, 3);
        sgd.zeroGrad();
        assertNull(p.grad());
        assertThrows(IllegalArgumentException.class, () -> sgd.setLearningRate(-1));
    }

    /**
     * Updates of large parameters are split over the worker pool; being element-wise, the split must not change a
     * bit. Each optimiser takes three steps on a 100×784 float32 and float64 parameter with 1 and with 2 threads
     * (the rules themselves are checked by hand on the small parameter above).
     */
    @Test
    void largeUpdatesGiveTheSameBitsOnOneAndTwoThreads() {
        int before = org.deltagrad.kernels.Parallel.threads();
        try {
            for (DType dt : DType.values()) {
                for (int kind = 0; kind < 4; kind++) {
                    org.deltagrad.kernels.Parallel.setThreads(1);
                    double[] one = train(kind, dt);
                    org.deltagrad.kernels.Parallel.setThreads(2);
                    double[] two = train(kind, dt);
                    assertArrayEquals(one, two, 0.0, dt + " optimiser " + kind);
                }
            }
        } finally {
            org.deltagrad.kernels.Parallel.setThreads(before);
        }
    }

    private static double[] train(int kind, DType dt) {
        int n = 100 * 784;
        Tensor p = Tensor.rand(dt, new java.util.SplittableRandom(3), 100, 784).requiresGrad(true);
        Optimizer o = switch (kind) {
            case 0 -> new SGD(List.of(p), 0.1);
            case 1 -> new SGD(List.of(p), 0.1, 0.9, 0, true, 1e-3);
            case 2 -> new Adam(List.of(p), 0.01, 0.9, 0.999, 1e-8, 1e-4);
            default -> new AdamW(List.of(p), 0.01, 0.9, 0.999, 1e-8, 0.01);
        };
        java.util.SplittableRandom rng = new java.util.SplittableRandom(9);
        for (int s = 0; s < 3; s++) {
            p.setGrad(Tensor.randn(dt, rng, 100, 784));
            o.step();
        }
        double[] out = p.toDoubleArray();
        assertEquals(n, out.length);
        return out;
    }
}
