package org.deltagrad.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.GradCheck;
import org.deltagrad.optim.SGD;
import org.junit.jupiter.api.Test;

/** BatchNorm1d/2d against hand computations and closed forms: batch and running statistics, modes, gradients, state. */
class BatchNormTest {
    private static final double EPS = 1e-5;

    private static BatchNorm1d bn1d(int features) {
        return new BatchNorm1d(features, EPS, 0.1, true, true, DType.FLOAT64);
    }

    private static void setAffine(BatchNorm bn, double[] weight, double[] bias) {
        LinkedHashMap<String, Tensor> state = bn.stateDict();
        state.put("weight", Tensor.of(weight, weight.length));
        state.put("bias", Tensor.of(bias, bias.length));
        bn.loadStateDict(state);
    }

    @Test
    void trainingModeNormalisesEachFeatureWithTheBatchsBiasedVariance() {
        BatchNorm1d bn = bn1d(2);
        setAffine(bn, new double[] {2, 0.5}, new double[] {1, -1});
        Tensor x = Tensor.of(new double[] {1, 10, 2, 20, 3, 30, 4, 40}, 4, 2);
        double[] y = bn.forward(x).toDoubleArray();
        // feature 0: mean 2.5, biased variance 1.25; feature 1: mean 25, variance 125
        for (int n = 0; n < 4; n++) {
            assertEquals((n + 1 - 2.5) / Math.sqrt(1.25 + EPS) * 2 + 1, y[2 * n], 1e-12, "row " + n + " feature 0");
            assertEquals((10 * (n + 1) - 25) / Math.sqrt(125 + EPS) * 0.5 - 1, y[2 * n + 1], 1e-12, "row " + n + " feature 1");
        }
    }

    @Test
    void batchNorm2dAndThreeAxisBatchNorm1dNormaliseEachChannelOverBatchAndSpace() {
        SplittableRandom r = new SplittableRandom(3);
        Tensor x = Tensor.randn(DType.FLOAT64, r, 3, 2, 4, 5).mul(3).add(1);
        double[] in = x.toDoubleArray();
        BatchNorm2d bn = new BatchNorm2d(2, EPS, 0.1, true, true, DType.FLOAT64);
        setAffine(bn, new double[] {1.5, -0.5}, new double[] {0.25, 2});
        double[] y = bn.forward(x).toDoubleArray();
        double[] y1d = new BatchNorm1d(2, EPS, 0.1, false, true, DType.FLOAT64).forward(x.reshape(3, 2, 20)).toDoubleArray();
        for (int c = 0; c < 2; c++) {
            double sum = 0, sq = 0;
            for (int n = 0; n < 3; n++) for (int i = 0; i < 20; i++) sum += in[(n * 2 + c) * 20 + i];
            double mean = sum / 60;
            for (int n = 0; n < 3; n++) for (int i = 0; i < 20; i++) sq += Math.pow(in[(n * 2 + c) * 20 + i] - mean, 2);
            double std = Math.sqrt(sq / 60 + EPS);
            for (int n = 0; n < 3; n++) {
                for (int i = 0; i < 20; i++) {
                    int at = (n * 2 + c) * 20 + i;
                    double xhat = (in[at] - mean) / std;
                    assertEquals(xhat * (c == 0 ? 1.5 : -0.5) + (c == 0 ? 0.25 : 2), y[at], 1e-12);
                    assertEquals(xhat, y1d[at], 1e-12);
                }
            }
        }
    }

    @Test
    void runningStatisticsAfterSeveralBatchesMatchTheirClosedForm() {
        double[][] batches = {{1, 2, 4}, {-3, 0, 3}, {10, 12, 20}};
        double m = 0.1;
        BatchNorm1d ema = bn1d(1);
        BatchNorm1d cumulative = new BatchNorm1d(1, EPS, null, true, true, DType.FLOAT64);
        for (double[] b : batches) {
            ema.forward(Tensor.of(b, 3, 1));
            cumulative.forward(Tensor.of(b, 3, 1));
        }
        // batch means 7/3, 0, 14; unbiased variances 7/3, 9, 28
        double[] means = {7.0 / 3, 0, 14}, vars = {7.0 / 3, 9, 28};
        double mean = 0 * Math.pow(1 - m, 3), var = 1 * Math.pow(1 - m, 3);
        for (int k = 0; k < 3; k++) {
            mean += m * Math.pow(1 - m, 2 - k) * means[k];
            var += m * Math.pow(1 - m, 2 - k) * vars[k];
        }
        assertEquals(mean, ema.runningMean().item(), 1e-12);
        assertEquals(var, ema.runningVar().item(), 1e-12);
        assertEquals(3, ema.numBatchesTracked());
        // momentum=None: the plain average of the batches' statistics
        assertEquals((7.0 / 3 + 0 + 14) / 3, cumulative.runningMean().item(), 1e-12);
        assertEquals((7.0 / 3 + 9 + 28) / 3, cumulative.runningVar().item(), 1e-12);
    }

    @Test
    void evalModeUsesTheRunningStatisticsAndLeavesThemAlone() {
        BatchNorm1d bn = bn1d(2);
        setAffine(bn, new double[] {2, 3}, new double[] {0.5, -0.5});
        bn.forward(Tensor.of(new double[] {0, 4, 2, 8, 4, 0}, 3, 2));
        double[] rm = bn.runningMean().toDoubleArray(), rv = bn.runningVar().toDoubleArray();
        assertArrayEquals(new double[] {0.2, 0.4}, rm, 1e-12);
        assertArrayEquals(new double[] {0.9 + 0.1 * 4, 0.9 + 0.1 * 16}, rv, 1e-12);
        bn.eval();
        // one row is fine in eval mode: nothing is estimated from the batch
        double[] y = bn.forward(Tensor.of(new double[] {1, 1}, 1, 2)).toDoubleArray();
        assertEquals((1 - rm[0]) / Math.sqrt(rv[0] + EPS) * 2 + 0.5, y[0], 1e-12);
        assertEquals((1 - rm[1]) / Math.sqrt(rv[1] + EPS) * 3 - 0.5, y[1], 1e-12);
        assertArrayEquals(rm, bn.runningMean().toDoubleArray());
        assertEquals(1, bn.numBatchesTracked());
        // in training mode the same row is the batch itself: normalised to 0, then shifted by the bias
        bn.train();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensor.of(new double[] {1, 1}, 1, 2)));
        assertEquals("BatchNorm1d(2): Expected more than 1 value per channel when training, got input size [1, 2]", e.getMessage());
        assertEquals(1, bn.numBatchesTracked());
    }

    @Test
    void withoutRunningStatisticsEvalModeNormalisesWithTheBatchAndStateHasNoBuffers() {
        BatchNorm2d bn = new BatchNorm2d(1, EPS, 0.1, false, false, DType.FLOAT64);
        assertEquals(List.of(), List.copyOf(bn.stateDict().keySet()));
        bn.eval();
        double[] y = bn.forward(Tensor.of(new double[] {1, 3}, 2, 1, 1, 1)).toDoubleArray();
        assertArrayEquals(new double[] {-1 / Math.sqrt(1 + EPS), 1 / Math.sqrt(1 + EPS)}, y, 1e-12);
        assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(DType.FLOAT64, 1, 1, 1, 1)));
    }

    @Test
    void wrongRankOrChannelCountNamesTheLayerAndBothShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(4).forward(Tensor.zeros(2, 3, 5, 5)));
        assertEquals("BatchNorm2d(4): expected input [N, 4, H, W], got [2, 3, 5, 5]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(4).forward(Tensor.zeros(2, 4)));
        assertEquals("BatchNorm2d(4): expected input [N, 4, H, W], got [2, 4]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(6).forward(Tensor.zeros(2, 4)));
        assertEquals("BatchNorm1d(6): expected input [N, 6] or [N, 6, L], got [2, 4]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(0));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(3, EPS, 1.5, true, true));
    }

    @Test
    void gradientsThroughTrainingModeBatchNormPassFirstAndSecondOrderGradcheck() {
        SplittableRandom r = new SplittableRandom(11);
        BatchNorm2d bn2 = new BatchNorm2d(2, EPS, 0.1, true, true, DType.FLOAT64);
        setAffine(bn2, new double[] {1.3, -0.7}, new double[] {0.2, 0.1});
        BatchNorm1d bn1 = bn1d(3);
        setAffine(bn1, new double[] {0.5, 2, -1}, new double[] {0, 1, 2});
        // a non-linear read-out, so the second order is not trivially zero
        GradCheck.Fn f2 = in -> bn2.forward(in.get(0)).tanh();
        GradCheck.Fn f1 = in -> bn1.forward(in.get(0)).tanh();
        List<Tensor> x2 = List.of(Tensor.randn(DType.FLOAT64, r, 3, 2, 2, 3));
        List<Tensor> x1 = List.of(Tensor.randn(DType.FLOAT64, r, 5, 3));
        for (GradCheck.Report report : new GradCheck.Report[] {GradCheck.check(f2, x2), GradCheck.checkSecondOrder(f2, x2),
            GradCheck.check(f1, x1), GradCheck.checkSecondOrder(f1, x1)}) {
            assertTrue(report.passed(), report.toString());
        }
    }

    @Test
    void parameterGradientsAreTheClosedForms() {
        BatchNorm1d bn = bn1d(2);
        setAffine(bn, new double[] {2, 3}, new double[] {1, 1});
        Tensor x = Tensor.randn(DType.FLOAT64, new SplittableRandom(2), 6, 2);
        Tensor g = Tensor.randn(DType.FLOAT64, new SplittableRandom(3), 6, 2);
        bn.forward(x).backward(g);
        // dL/dγ = Σ g·x̂, dL/dβ = Σ g, per feature
        Tensor xhat = new BatchNorm1d(2, EPS, 0.1, false, true, DType.FLOAT64).forward(x);
        assertArrayEquals(xhat.mul(g).sum(0, false).toDoubleArray(), bn.weight().grad().toDoubleArray(), 1e-12);
        assertArrayEquals(g.sum(0, false).toDoubleArray(), bn.bias().grad().toDoubleArray(), 1e-12);
    }

    @Test
    void stateDictHasPyTorchsNamesAndOrderAndBuffersAreNotTrained() {
        Sequential net = new Sequential(new Linear(3, 4, 0), new BatchNorm1d(4), new ReLU(), new Linear(4, 2, 1));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                "3.weight", "3.bias"), List.copyOf(net.stateDict().keySet()));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"), List.copyOf(net.namedParameters().keySet()));
        assertEquals(List.of("1.running_mean", "1.running_var", "1.num_batches_tracked"), List.copyOf(net.namedBuffers().keySet()));
        assertEquals(List.of("1.num_batches_tracked"), List.copyOf(net.int64StateKeys()));
        assertArrayEquals(new int[0], net.stateDict().get("1.num_batches_tracked").shape());
        assertEquals(DType.FLOAT64, net.stateDict().get("1.num_batches_tracked").dtype());
        assertEquals(3 * 4 + 4 + 4 + 4 + 4 * 2 + 2, net.parameterCount());

        SGD sgd = new SGD(net.parameters(), 0.1);
        Tensor x = Tensor.randn(4, 5, 3);
        for (int step = 0; step < 2; step++) {
            net.zeroGrad();
            net.forward(x).sum().backward();
            sgd.step();
        }
        BatchNorm1d bn = (BatchNorm1d) net.get(1);
        assertEquals(2, bn.numBatchesTracked());
        assertTrue(bn.runningMean().grad() == null && !bn.runningMean().requiresGrad());

        // loading copies the buffers too: the eval outputs become the same
        Sequential other = new Sequential(new Linear(3, 4, 0), new BatchNorm1d(4), new ReLU(), new Linear(4, 2, 1));
        net.eval();
        other.eval();
        assertTrue(!java.util.Arrays.equals(net.forward(x).toFloatArray(), other.forward(x).toFloatArray()));
        other.loadStateDict(net.stateDict());
        assertArrayEquals(net.forward(x).toFloatArray(), other.forward(x).toFloatArray());
        assertEquals(2, ((BatchNorm1d) other.get(1)).numBatchesTracked());

        LinkedHashMap<String, Tensor> missing = net.stateDict();
        missing.remove("1.running_var");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> other.loadStateDict(missing)).getMessage()
                .startsWith("loadStateDict: missing key '1.running_var'"));
        LinkedHashMap<String, Tensor> wrong = net.stateDict();
        wrong.put("1.running_mean", Tensor.zeros(5));
        assertEquals("loadStateDict: '1.running_mean' has shape [5] in the state dict but [4] in the module",
                assertThrows(IllegalArgumentException.class, () -> other.loadStateDict(wrong)).getMessage());
        assertTrue(net.describe().contains("BatchNorm1d(4, eps=1.0E-5, momentum=0.1, affine=true, track_running_stats=true)"),
                net.describe());
    }

    @Test
    void buffersAreRegisteredLikeParametersButOutsideTheGraph() {
        class Counter extends Module {
            final Tensor seen = registerBuffer("seen", Tensor.zeros(DType.FLOAT64, 2));

            @Override
            public Tensor forward(Tensor x) {
                return x;
            }
        }
        Counter c = new Counter();
        assertEquals(Map.of("seen", c.seen), c.namedBuffers());
        assertEquals(List.of(), c.parameters());
        assertThrows(IllegalArgumentException.class, () -> c.registerBuffer("seen", Tensor.zeros(1)));
        assertThrows(IllegalArgumentException.class, () -> c.registerBuffer("w", Tensor.zeros(1).requiresGrad(true)));
    }
}
