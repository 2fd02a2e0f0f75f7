package org.deltagrad.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link Optimizer#backward(Tensor)}: plain SGD adds a weight gradient that is one product straight into the weight
 * during the sweep; the result must be that of {@code loss.backward(); step()}, and the shortcut must stand aside
 * wherever something else could see the weight change (or has a gradient already).
 */
class BackwardAndStepTest {
    static final int[] LABELS = {0, 2, 1, 2, 0};

    /** A 4-3-3 MLP in float64: W1, b1, W2, b2, with input x [5, 4]. */
    static List<Tensor> mlp(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Tensor> p = new ArrayList<>();
        p.add(Tensor.randn(DType.FLOAT64, r, 3, 4).requiresGrad(true));
        p.add(Tensor.randn(DType.FLOAT64, r, 3).requiresGrad(true));
        p.add(Tensor.randn(DType.FLOAT64, r, 3, 3).requiresGrad(true));
        p.add(Tensor.randn(DType.FLOAT64, r, 3).requiresGrad(true));
        return p;
    }

    static Tensor input() {
        return Tensor.randn(DType.FLOAT64, new SplittableRandom(99), 5, 4);
    }

    static Tensor mlpLoss(List<Tensor> p) {
        return input().linear(p.get(0), p.get(1)).relu().linear(p.get(2), p.get(3)).crossEntropy(LABELS);
    }

    /** Three steps each way, from the same start: {@code backwardAndStep} against {@code backward(); step()}. */
    static void assertSameTraining(Function<List<Tensor>, Optimizer> make, Function<List<Tensor>, Tensor> loss, double tol) {
        List<Tensor> fused = mlp(1), plain = mlp(1);
        Optimizer of = make.apply(fused), op = make.apply(plain);
        for (int step = 0; step < 3; step++) {
            of.zeroGrad();
            of.backwardAndStep(loss.apply(fused));
            op.zeroGrad();
            loss.apply(plain).backward();
            op.step();
        }
        for (int i = 0; i < fused.size(); i++) {
            assertArrayEquals(plain.get(i).toDoubleArray(), fused.get(i).toDoubleArray(), tol, "parameter " + i);
        }
    }

    @Test
    void plainSgdAddsTheWeightGradientsIntoTheWeightsDuringTheSweep() {
        List<Tensor> p = mlp(1);
        double[] w1 = p.get(0).toDoubleArray();
        SGD sgd = new SGD(p, 0.5);
        sgd.backward(mlpLoss(p));
        // The weights were updated by the sweep and never got a gradient; the biases' gradients (sums) wait for step.
        assertNull(p.get(0).grad());
        assertNull(p.get(2).grad());
        assertNotNull(p.get(1).grad());
        assertNotNull(p.get(3).grad());
        assertFalse(java.util.Arrays.equals(w1, p.get(0).toDoubleArray()));

        // W1 after the sweep is W1 − lr·∂W1, ∂W1 from an ordinary backward at the same start.
        List<Tensor> q = mlp(1);
        mlpLoss(q).backward();
        double[] expected = q.get(0).toDoubleArray(), g = q.get(0).grad().toDoubleArray();
        for (int i = 0; i < expected.length; i++) expected[i] -= 0.5 * g[i];
        assertArrayEquals(expected, p.get(0).toDoubleArray(), 1e-14);
    }

    @Test
    void sgdMatchesBackwardThenStep() {
        assertSameTraining(p -> new SGD(p, 0.3), BackwardAndStepTest::mlpLoss, 1e-13);
    }

    @Test
    void sgdWithWeightDecayMatchesBackwardThenStep() {
        assertSameTraining(p -> new SGD(p, 0.3, 0, 0, false, 0.01), BackwardAndStepTest::mlpLoss, 1e-13);
    }

    @Test
    void optimisersWithStateTakeEveryGradientAsUsualBitForBit() {
        assertSameTraining(p -> new SGD(p, 0.1, 0.9), BackwardAndStepTest::mlpLoss, 0);
        assertSameTraining(p -> new Adam(p, 0.01), BackwardAndStepTest::mlpLoss, 0);
        List<Tensor> p = mlp(1);
        new SGD(p, 0.1, 0.9).backward(mlpLoss(p));
        assertNotNull(p.get(0).grad());
    }

    @Test
    void aMatmulWeightIsUpdatedThroughTheSameShortcut() {
        // x·W with W stored [in, out] instead of linear: matmul's ∂W = xᵀ·g is a product too.
        Function<List<Tensor>, Tensor> loss = q -> input().matmul(q.get(0)).add(q.get(1)).relu()
                .linear(q.get(2), q.get(3)).crossEntropy(LABELS);
        List<Tensor> p = mlp(1);
        p.set(0, p.get(0).t().contiguous().detach().requiresGrad(true)); // [4, 3]
        List<Tensor> plain = new ArrayList<>();
        for (Tensor t : p) plain.add(t.detach().copy().requiresGrad(true));
        SGD fused = new SGD(p, 0.2), ordinary = new SGD(plain, 0.2);
        fused.backward(loss.apply(p));
        assertNull(p.get(0).grad());
        fused.step();
        loss.apply(plain).backward();
        ordinary.step();
        for (int i = 0; i < p.size(); i++) assertArrayEquals(plain.get(i).toDoubleArray(), p.get(i).toDoubleArray(), 1e-14);
    }

    @Test
    void aWeightThatAnotherOpAlsoUsesGetsItsGradientAsUsual() {
        // L2 penalty on W2 through the graph: W2 has two consumers, so its gradient is a sum, not one product.
        Function<List<Tensor>, Tensor> loss = p -> mlpLoss(p).add(p.get(2).square().sum().mul(0.1));
        List<Tensor> p = mlp(1);
        new SGD(p, 0.3).backward(loss.apply(p));
        assertNull(p.get(0).grad());
        assertNotNull(p.get(2).grad());
        assertSameTraining(q -> new SGD(q, 0.3), loss, 1e-13);
        // A second use that saves nothing (sum): W2's gradient is still two terms, and with weight decay applying one
        // of them in the sweep and the other in step() would decay W2 twice.
        Function<List<Tensor>, Tensor> withSum = q -> mlpLoss(q).add(q.get(2).sum().mul(0.1));
        assertSameTraining(q -> new SGD(q, 0.3, 0, 0, false, 0.1), withSum, 1e-13);
    }

    @Test
    void aWeightWhoseMemoryAnotherOpSavedIsNotChangedUnderIt() {
        // The first layer's bias is b1 ⊙ (a view of W1's first row, detached): mul saves that view, and its rule runs
        // after linear's (it was recorded before). Updating W1 in place inside linear's rule would change what mul
        // reads, so W1 must keep the ordinary path.
        Function<List<Tensor>, Tensor> loss = p -> {
            Tensor rowOfW1 = p.get(0).detach().narrow(0, 0, 1).narrow(1, 0, 3).reshape(3);
            Tensor bias = p.get(1).mul(rowOfW1);
            return input().linear(p.get(0), bias).relu().linear(p.get(2), p.get(3)).crossEntropy(LABELS);
        };
        List<Tensor> p = mlp(1);
        new SGD(p, 0.3).backward(loss.apply(p));
        assertNotNull(p.get(0).grad());
        assertNull(p.get(2).grad());
        assertSameTraining(q -> new SGD(q, 0.3), loss, 1e-13);
    }

    @Test
    void aParameterWithAGradientAlreadyAccumulatesAsUsual() {
        List<Tensor> p = mlp(1), q = mlp(1);
        SGD sgd = new SGD(p, 0.3), plainSgd = new SGD(q, 0.3);
        mlpLoss(p).backward(); // no zeroGrad in between: the second backward adds to these
        sgd.backward(mlpLoss(p));
        assertNotNull(p.get(0).grad());
        sgd.step();
        mlpLoss(q).backward();
        mlpLoss(q).backward();
        plainSgd.step();
        for (int i = 0; i < p.size(); i++) assertArrayEquals(q.get(i).toDoubleArray(), p.get(i).toDoubleArray(), 0);
    }

    @Test
    void float32OnTheGemmBackendStaysWithinRounding() {
        SplittableRandom r = new SplittableRandom(5);
        Tensor w = Tensor.randn(DType.FLOAT32, r, 30, 50).requiresGrad(true);
        Tensor x = Tensor.randn(DType.FLOAT32, r, 64, 50);
        int[] y = new int[64];
        for (int i = 0; i < y.length; i++) y[i] = i % 30;
        Tensor w2 = w.detach().copy().requiresGrad(true);
        new SGD(List.of(w), 0.1).backwardAndStep(x.linear(w, null).crossEntropy(y));
        x.linear(w2, null).crossEntropy(y).backward();
        new SGD(List.of(w2), 0.1).step();
        assertNull(w.grad());
        assertArrayEquals(w2.toDoubleArray(), w.toDoubleArray(), 1e-6);
    }

    @Test
    void theUpdateIsAnInPlaceWriteThatSavedTensorsNotice() {
        // A graph swept by backward() keeps nothing, but another graph that saved W sees the new version.
        List<Tensor> p = mlp(1);
        Tensor other = p.get(0).square().sum(); // square saves W1
        new SGD(p, 0.3).backward(mlpLoss(p));
        IllegalStateException e = assertThrows(IllegalStateException.class, other::backward);
        assertTrue(e.getMessage().contains("modified in place"), e.getMessage());
    }
}
