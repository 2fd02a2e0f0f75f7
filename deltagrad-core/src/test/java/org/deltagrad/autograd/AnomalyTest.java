package org.deltagrad.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

import org.deltagrad.DType;
import org.deltagrad.DeltagradException;
import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

class AnomalyTest {

    private static Tensor of(double... v) {
        return Tensor.of(v, v.length);
    }

    /** The line of the caller, to compare with the creation site an anomaly names. */
    private static String here() {
        StackTraceElement e = new Throwable().getStackTrace()[1];
        return e.getMethodName() + "(AnomalyTest.java:" + e.getLineNumber() + ")";
    }

    private static boolean traceHas(Throwable t, String methodName) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals(AnomalyTest.class.getName())
                && f.getMethodName().equals(methodName));
    }

    @Test
    void forwardOpThatMakesNanOrInfinityFromFiniteInputsThrowsNamingOpShapesAndSite() {
        Tensor x = of(1, 0).requiresGrad(true);
        String site;
        AnomalyException e;
        try (var s = Autograd.detectAnomaly()) {
            site = here(); e = assertThrows(AnomalyException.class, () -> x.log().mul(0)); // log(0)·0: the NaN's origin is log
        }
        assertEquals("log", e.op());
        assertFalse(e.inBackward());
        assertTrue(e.createdAt().contains("AnomalyTest") && e.createdAt().contains(site.substring(site.indexOf('('))), e.createdAt());
        String m = e.getMessage();
        assertTrue(m.startsWith("anomaly in the forward of 'log': it made -Infinity from finite inputs"), m);
        assertTrue(m.contains("(input shapes [2]; output shape [2])"), m);
        assertTrue(m.contains("created at " + e.createdAt()), m);
        assertTrue(traceHas(e.getCause(), "forwardOpThatMakesNanOrInfinityFromFiniteInputsThrowsNamingOpShapesAndSite"),
                "the cause holds the full creation trace");
        assertTrue(e instanceof DeltagradException, "a problem with the computation, shown without a trace by front ends");
    }

    @Test
    void forwardOpsAreCheckedWithoutGradToo() {
        Tensor x = of(3, -1);
        try (var s = Autograd.detectAnomaly(); var n = Autograd.noGrad()) {
            AnomalyException e = assertThrows(AnomalyException.class, () -> x.sqrt());
            assertEquals("sqrt", e.op());
            assertTrue(e.getMessage().contains("it made NaN from finite inputs"), e.getMessage());
        }
        Tensor y = of(1, 2);
        try (var s = Autograd.detectAnomaly()) {
            AnomalyException e = assertThrows(AnomalyException.class, () -> y.div(0));
            assertEquals("div", e.op());
            assertTrue(e.getMessage().contains("(input shapes [2], []; output shape [2])"), e.getMessage());
        }
    }

    @Test
    void backwardRuleThatMakesInfinityFromAFiniteGradientThrowsNamingWhereTheForwardOpWasCreated() {
        Tensor x = of(0, 4).requiresGrad(true);
        AnomalyException e;
        String site;
        try (var s = Autograd.detectAnomaly()) {
            site = here(); Tensor y = x.sqrt(); // forward finite (0, 2); backward 1/(2·sqrt(0)) = Infinity
            Tensor loss = y.sum();
            e = assertThrows(AnomalyException.class, loss::backward);
        }
        assertEquals("sqrt", e.op());
        assertTrue(e.inBackward());
        assertTrue(e.createdAt().contains(site.substring(site.indexOf('('))), e.createdAt() + " vs " + site);
        String m = e.getMessage();
        assertTrue(m.startsWith("anomaly in the backward of 'sqrt': it made Infinity in the gradient of input 0 (shape [2]) "
                + "from a finite gradient of its output (shape [2]); the forward op was created at "), m);
        assertTrue(traceHas(e.getCause(), "backwardRuleThatMakesInfinityFromAFiniteGradientThrowsNamingWhereTheForwardOpWasCreated"));
    }

    @Test
    void nothingIsCheckedOrThrownWhenOff() {
        Tensor x = of(0, 4).requiresGrad(true);
        Tensor y = x.log().mul(0);
        assertTrue(Double.isNaN(y.get(0)));
        x.sqrt().sum().backward();
        assertEquals(Double.POSITIVE_INFINITY, x.grad().get(0));
        assertFalse(Autograd.isAnomalyDetectionEnabled());
    }

    @Test
    void scopesNestAndBelongToOneThread() throws Exception {
        try (var outer = Autograd.detectAnomaly()) {
            try (var inner = Autograd.detectAnomaly()) {
                assertTrue(Autograd.isAnomalyDetectionEnabled());
            }
            assertTrue(Autograd.isAnomalyDetectionEnabled(), "closing the inner scope keeps the outer one");
            boolean other = CompletableFuture.supplyAsync(() -> {
                of(0).log(); // another thread is not checked
                return Autograd.isAnomalyDetectionEnabled();
            }).get();
            assertFalse(other);
            assertThrows(AnomalyException.class, () -> of(0).log());
        }
        assertFalse(Autograd.isAnomalyDetectionEnabled());
    }

    @Test
    void aNonFiniteParameterIsReportedByTheFirstOpThatReadsIt() {
        Tensor w = Tensor.of(new float[] {1, Float.POSITIVE_INFINITY, 0, 1}, 2, 2).requiresGrad(true);
        Tensor x = Tensor.ones(DType.FLOAT32, 3, 2);
        try (var s = Autograd.detectAnomaly()) {
            AnomalyException e = assertThrows(AnomalyException.class, () -> x.matmul(w));
            assertEquals("matmul", e.op());
            assertTrue(e.getMessage().contains("input 1 is a leaf that requires grad (a parameter) holding Infinity, "
                    + "written outside the graph"), e.getMessage());
        }
    }

    @Test
    void valuesMadeNonFiniteUpstreamAreNotReportedAgain() {
        Tensor y = of(0, 1).log(); // made outside the scope
        Tensor x = of(1, 2).requiresGrad(true);
        try (var s = Autograd.detectAnomaly()) {
            Tensor z = x.mul(y).exp(); // non-finite in, non-finite out: not this op's doing
            assertEquals(0, z.get(0));
            x.mul(2).sum().backward(of(Double.NaN).reshape()); // a rule passing on a NaN it was given
        }
        assertTrue(Double.isNaN(x.grad().get(0)));
    }

    @Test
    void aBackwardOfAGraphRecordedOutsideTheScopeSaysItsSiteIsUnknown() {
        Tensor x = of(0).requiresGrad(true);
        Tensor y = x.sqrt().sum();
        try (var s = Autograd.detectAnomaly()) {
            AnomalyException e = assertThrows(AnomalyException.class, y::backward);
            assertTrue(e.createdAt().startsWith("unknown"), e.createdAt());
        }
    }

    @Test
    void finiteFirstAndSecondOrderGradientsAreUntouched() {
        Tensor x = of(0.5, -1.5, 2).requiresGrad(true);
        Tensor off = Autograd.grad(Autograd.grad(x.pow(3).sum(), java.util.List.of(x), true).get(0).sum(),
                java.util.List.of(x), false).get(0);
        Tensor on;
        try (var s = Autograd.detectAnomaly()) {
            on = Autograd.grad(Autograd.grad(x.pow(3).sum(), java.util.List.of(x), true).get(0).sum(),
                    java.util.List.of(x), false).get(0);
        }
        assertEquals(java.util.Arrays.toString(off.toDoubleArray()), java.util.Arrays.toString(on.toDoubleArray()));
        assertEquals(6 * 0.5, on.get(0)); // d²(x³)/dx² = 6x
    }

    @Test
    void aFunctionsBackwardIsNamedByTheFunction() {
        Function reciprocalGrad = new Function() {
            @Override
            public String name() {
                return "reciprocalGrad";
            }

            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                ctx.saveForBackward(in[0]);
                return in[0].mul(1);
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor g) {
                return new Tensor[] {g.div(ctx.saved(0))}; // the ops inside the rule are not reported as forward ops
            }
        };
        Tensor x = of(0, 1).requiresGrad(true);
        try (var s = Autograd.detectAnomaly()) {
            Tensor y = reciprocalGrad.apply(x).sum();
            AnomalyException e = assertThrows(AnomalyException.class, y::backward);
            assertEquals("reciprocalGrad", e.op());
            assertTrue(e.inBackward());
        }
    }
}
