package org.deltagrad.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

class AutogradTest {

    static Tensor var(double v) {
        return Tensor.scalar(v).requiresGrad(true);
    }

    @Test
    void chainOfThreeGivesProductOfDerivatives() {
        // x = f(w), y = f(x), z = f(y) with f = sin: dz/dw = f'(y) f'(x) f'(w) (Goodfellow §6.5).
        Tensor w = var(0.7);
        Tensor x = w.sin(), y = x.sin(), z = y.sin();
        z.backward();
        double xv = Math.sin(0.7), yv = Math.sin(xv);
        assertEquals(Math.cos(yv) * Math.cos(xv) * Math.cos(0.7), w.grad().item(), 1e-15);
    }

    @Test
    void fanOutSumsOverConsumers() {
        Tensor x = var(3);
        Tensor y = x.mul(x).add(x.exp()).add(x.mul(2)); // x² + eˣ + 2x
        y.backward();
        assertEquals(2 * 3 + Math.exp(3) + 2, x.grad().item(), 1e-12);
    }

    @Test
    void eachRuleRunsOncePerNodeInADeepGraphWithHeavyReuse() {
        // Every level uses the previous one twice: naive chain-rule expansion would take 2^60 paths.
        Tensor x = var(0.5);
        Tensor h = x;
        int depth = 60;
        for (int i = 0; i < depth; i++) h = h.mul(h).mul(0.5).add(h.mul(0.5));
        Map<Node, Integer> visits = new HashMap<>();
        Autograd.grad(h, List.of(x), null, false, false, (node, g, gi) -> visits.merge(node, 1, Integer::sum));
        assertEquals(4 * depth + 1, visits.size(), "mul, mul, mul, add per level, plus the leaf");
        assertTrue(visits.values().stream().allMatch(c -> c == 1), "every backward rule ran exactly once");
    }

    @Test
    void backwardVisitsNodesInExactlyReverseForwardOrder() {
        Tensor x = var(1.2), y = var(-0.4);
        Tensor u = x.mul(y), v = u.sin(), w = v.add(x);
        List<Node> seen = new java.util.ArrayList<>();
        Autograd.grad(w, List.of(x, y), null, false, false, (node, g, gi) -> seen.add(node));
        assertEquals(List.of(w.gradFn(), v.gradFn(), u.gradFn()), seen.subList(0, 3));
        for (int i = 1; i < seen.size(); i++) assertTrue(seen.get(i - 1).sequence() > seen.get(i).sequence());
    }

    @Test
    void logSoftmaxDerivativeMatchesClosedForm() {
        // d/dx_j of log softmax(x)_i = δ_ij − softmax(x)_j.
        double[] xs = {0.3, -1.2, 2.0, 0.5};
        Tensor x = Tensor.of(xs.clone(), 4).requiresGrad(true);
        double[] sm = x.softmax(0).toDoubleArray();
        for (int i = 0; i < 4; i++) {
            x.zeroGrad();
            x.logSoftmax(0).narrow(0, i, 1).sum().backward();
            double[] g = x.grad().toDoubleArray();
            for (int j = 0; j < 4; j++) assertEquals((i == j ? 1 : 0) - sm[j], g[j], 1e-14);
        }
    }

    @Test
    void hessianOfQuadraticFormIsAPlusATranspose() {
        int n = 4;
        Tensor a = Tensor.randn(DType.FLOAT64, new SplittableRandom(7), n, n);
        Tensor x = Tensor.randn(DType.FLOAT64, new SplittableRandom(8), n).requiresGrad(true);
        Tensor f = x.matmul(a.matmul(x)); // xᵀAx
        Tensor g = Autograd.grad(f, List.of(x), true).get(0);
        double[] av = a.toDoubleArray();
        for (int i = 0; i < n; i++) {
            // Each row sweeps the same graph again, so it is retained (as in PyTorch).
            Tensor row = Autograd.grad(g.narrow(0, i, 1).sum(), List.of(x), null, true, false, null).get(0);
            for (int j = 0; j < n; j++) assertEquals(av[i * n + j] + av[j * n + i], row.get(j), 1e-12);
        }
    }

    @Test
    void thirdDerivativeThroughTheBackwardGraph() {
        Tensor x = var(1.3);
        Tensor y = x.pow(4).add(x.sin());
        Tensor d1 = Autograd.grad(y, List.of(x), true).get(0);
        Tensor d2 = Autograd.grad(d1, List.of(x), true).get(0);
        Tensor d3 = Autograd.grad(d2, List.of(x), false).get(0);
        assertEquals(4 * Math.pow(1.3, 3) + Math.cos(1.3), d1.item(), 1e-12);
        assertEquals(12 * Math.pow(1.3, 2) - Math.sin(1.3), d2.item(), 1e-12);
        assertEquals(24 * 1.3 - Math.cos(1.3), d3.item(), 1e-12);
    }

    @Test
    void hessianVectorProduct() {
        // f = Σ exp(x_i) x_{i+1}: Hv by differentiating ⟨∇f, v⟩, checked against the explicit Hessian.
        Tensor x = Tensor.of(new double[] {0.1, -0.3, 0.7}, 3).requiresGrad(true);
        Tensor v = Tensor.of(new double[] {1, 2, -1}, 3);
        Tensor f = x.narrow(0, 0, 2).exp().mul(x.narrow(0, 1, 2)).sum();
        Tensor g = Autograd.grad(f, List.of(x), true).get(0);
        Tensor hv = Autograd.grad(g.mul(v).sum(), List.of(x), false).get(0);
        double e0 = Math.exp(0.1), e1 = Math.exp(-0.3);
        double[][] h = {{e0 * -0.3, e0, 0}, {e0, e1 * 0.7, e1}, {0, e1, 0}};
        double[] vv = {1, 2, -1};
        for (int i = 0; i < 3; i++) {
            double expect = 0;
            for (int j = 0; j < 3; j++) expect += h[i][j] * vv[j];
            assertEquals(expect, hv.get(i), 1e-12);
        }
    }

    @Test
    void leavesAccumulateAcrossCallsUntilZeroed() {
        Tensor x = var(2);
        x.mul(x).backward();
        x.mul(x).backward();
        assertEquals(8, x.grad().item());
        x.zeroGrad();
        x.mul(3).backward();
        assertEquals(3, x.grad().item());
    }

    @Test
    void leavesNeverShareAGradientBufferWithAnythingElse() {
        // add passes one gradient to both inputs; user gradOutputs and saved tensors are not the sweep's to give away.
        Tensor a = Tensor.ones(DType.FLOAT64, 2).requiresGrad(true), b = Tensor.ones(DType.FLOAT64, 2).requiresGrad(true);
        Tensor seed = Tensor.of(new double[] {1, 2}, 2);
        a.add(b).backward(seed);
        a.add(b).backward(seed);
        assertArrayEquals(new double[] {2, 4}, a.grad().toDoubleArray(), "accumulating into a must not touch b");
        assertArrayEquals(new double[] {2, 4}, b.grad().toDoubleArray());
        assertArrayEquals(new double[] {1, 2}, seed.toDoubleArray(), "the caller's gradOutput is never written");

        Tensor kept = Tensor.of(new double[] {5}, 1);
        Function returnsSaved = new Function() {
            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                return in[0].mul(5);
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor g) {
                return new Tensor[] {kept};
            }
        };
        Tensor x = Tensor.of(new double[] {1}, 1).requiresGrad(true);
        returnsSaved.apply(x).sum().backward();
        returnsSaved.apply(x).sum().backward();
        assertEquals(10, x.grad().item());
        assertEquals(5, kept.item(), "a tensor the rule did not make is copied, not adopted");
    }

    @Test
    void broadcastGradientsAreSummedBackToTheInputShape() {
        Tensor a = Tensor.ones(DType.FLOAT64, 2, 3).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor c = Tensor.scalar(2).requiresGrad(true);
        a.mul(b).mul(c).sum().backward();
        assertArrayEquals(new int[] {3}, b.grad().shape());
        assertArrayEquals(new double[] {4, 4, 4}, b.grad().toDoubleArray());
        assertEquals(12, c.grad().item());
        assertArrayEquals(new double[] {2, 4, 6, 2, 4, 6}, a.grad().toDoubleArray());
    }

    @Test
    void noGradRecordsNothingAndDetachCutsTheGraph() {
        Tensor x = var(1);
        try (var s = Autograd.noGrad()) {
            Tensor y = x.mul(2);
            assertFalse(y.requiresGrad());
            assertNull(y.gradFn());
        }
        assertTrue(Autograd.isGradEnabled());
        Tensor z = x.mul(x).detach().mul(x); // only the last factor is differentiated
        z.backward();
        assertEquals(1, x.grad().item());
    }

    @Test
    void gradReturnsGradientsWithoutTouchingLeaves() {
        Tensor x = var(2), y = var(5);
        List<Tensor> g = Autograd.grad(x.mul(y), List.of(x, y), false);
        assertEquals(5, g.get(0).item());
        assertEquals(2, g.get(1).item());
        assertNull(x.grad());
        Tensor unused = var(1);
        assertEquals(0, Autograd.grad(x.mul(3), List.of(unused), false).get(0).item());
    }

    @Test
    void gradWithRespectToAnIntermediateTensor() {
        Tensor x = var(0.4);
        Tensor u = x.exp();
        Tensor y = u.mul(u).add(x);
        assertEquals(2 * Math.exp(0.4), Autograd.grad(y, List.of(u), false).get(0).item(), 1e-15);
    }

    @Test
    void nonScalarBackwardNeedsAGradient() {
        Tensor x = Tensor.ones(DType.FLOAT64, 3).requiresGrad(true);
        Tensor y = x.mul(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, y::backward);
        assertTrue(e.getMessage().contains("shape [3]") && e.getMessage().contains("gradOutput"), e.getMessage());
        y.backward(Tensor.of(new double[] {1, 2, 3}, 3));
        assertArrayEquals(new double[] {2, 4, 6}, x.grad().toDoubleArray());
    }

    @Test
    void secondBackwardThroughAReleasedGraphSaysWhatToDo() {
        Tensor x = var(2);
        Tensor y = x.mul(x);
        y.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("second time") && e.getMessage().contains("retainGraph"), e.getMessage());

        Tensor z = x.mul(x);
        z.backward(null, true, false);
        z.backward();
        assertEquals(4 + 4 + 4, x.grad().item());
    }

    @Test
    void modifyingASavedTensorInPlaceIsDetected() {
        Tensor x = var(2);
        Tensor e = x.exp(); // exp saves its output
        Tensor y = e.mul(3);
        try (var s = Autograd.noGrad()) {
            e.mulInPlace(2);
        }
        IllegalStateException ex = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(ex.getMessage().contains("modified in place") && ex.getMessage().contains("'exp'"), ex.getMessage());
    }

    @Test
    void inPlaceOnALeafThatRequiresGradNeedsNoGrad() {
        Tensor w = var(1);
        assertThrows(IllegalStateException.class, () -> w.addInPlace(Tensor.scalar(1)));
        try (var s = Autograd.noGrad()) {
            w.addInPlace(Tensor.scalar(1), -0.5);
        }
        assertEquals(0.5, w.item());
    }

    @Test
    void shapeMismatchNamesTheOpAndBothShapes() {
        Tensor a = Tensor.zeros(2, 3), b = Tensor.zeros(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().startsWith("add:") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.matmul(Tensor.zeros(2, 3)));
        assertTrue(e.getMessage().startsWith("matmul:") && e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    @Test
    void backwardOfATensorThatDoesNotRequireGradIsAnError() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.scalar(1).mul(2).backward());
        assertTrue(e.getMessage().contains("requiresGrad"), e.getMessage());
    }

    /** A user-defined op: softplus, with its own forward and a backward written in tensor ops. */
    static final class Softplus extends Function {
        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            ctx.saveForBackward(in[0]);
            return in[0].exp().add(1).log();
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor g) {
            return new Tensor[] {g.mul(ctx.saved(0).sigmoid())};
        }
    }

    @Test
    void customFunctionIsGradcheckedAtFirstAndSecondOrder() {
        Softplus sp = new Softplus();
        Tensor x = Tensor.randn(DType.FLOAT64, new SplittableRandom(3), 2, 3);
        GradCheck.Fn f = in -> sp.apply(in.get(0)).mul(in.get(0));
        GradCheck.Report r1 = GradCheck.check(f, List.of(x));
        assertTrue(r1.passed(), r1.toString());
        GradCheck.Report r2 = GradCheck.checkSecondOrder(f, List.of(x));
        assertTrue(r2.passed(), r2.toString());
        Tensor y = sp.apply(x.requiresGrad(true));
        assertEquals("Softplus", y.gradFn().name());
    }

    @Test
    void gradcheckCatchesAWrongRule() {
        Function wrong = new Function() {
            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                ctx.saveForBackward(in[0]);
                return in[0].sin();
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor g) {
                return new Tensor[] {g.mul(ctx.saved(0).cos()).mul(1.001)};
            }
        };
        GradCheck.Report r = GradCheck.check(in -> wrong.apply(in.get(0)), List.of(Tensor.of(new double[] {0.5, 1.5}, 2)));
        assertFalse(r.passed());
        assertTrue(r.toString().contains("FAILED") && r.toString().contains("worst is input 0"), r.toString());
    }

    @Test
    void aRuleReturningTheWrongShapeIsReportedByName() {
        Function bad = new Function() {
            @Override
            public String name() {
                return "badShape";
            }

            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                return in[0].mul(2);
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor g) {
                return new Tensor[] {Tensor.ones(DType.FLOAT64, 5)};
            }
        };
        Tensor x = Tensor.ones(DType.FLOAT64, 2).requiresGrad(true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> bad.apply(x).sum().backward());
        assertTrue(e.getMessage().contains("badShape") && e.getMessage().contains("[5]"), e.getMessage());
    }

    @Test
    void float32GraphsGiveFloat32Gradients() {
        Tensor w = Tensor.randn(11, 3, 2).requiresGrad(true);
        Tensor x = Tensor.randn(12, 4, 3);
        x.matmul(w).relu().sum().backward();
        assertEquals(DType.FLOAT32, w.grad().dtype());
        assertArrayEquals(new int[] {3, 2}, w.grad().shape());
    }
}
