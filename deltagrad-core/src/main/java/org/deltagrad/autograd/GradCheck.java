package org.deltagrad.autograd;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * Checks backprop against central finite differences in float64: first order (the gradient) and second
 * order (the gradient of the gradient, through the backward graph). The output is contracted with a fixed
 * random tensor, so every element of the vector–Jacobian product is checked, and the report names the
 * worst element.
 */
public final class GradCheck {
    private GradCheck() {}

    /** The function under test: float64 inputs to an output of any shape. */
    @FunctionalInterface
    public interface Fn {
        Tensor apply(List<Tensor> inputs);
    }

    /** Tolerances: an element passes when |analytic − numeric| ≤ atol + rtol·|numeric|. */
    public record Options(double eps, double atol, double rtol, long seed) {
        public static Options defaults() {
            return new Options(1e-6, 1e-6, 1e-4, 42);
        }
    }

    /** The outcome: the worst element, by its error relative to the tolerance. */
    public record Report(String order, boolean passed, int input, int element, double analytic, double numeric,
                         double absError, double relError, int checked) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s-order gradcheck %s: %d elements checked; worst is input %d element %d: "
                            + "backprop %.12g vs finite differences %.12g (abs error %.3g, rel error %.3g)",
                    order, passed ? "passed" : "FAILED", checked, input, element, analytic, numeric, absError, relError);
        }
    }

    /** First order: d⟨f(x), w⟩/dx by backprop vs central differences. */
    public static Report check(Fn f, List<Tensor> inputs, Options o) {
        List<Tensor> xs = prepare(inputs);
        Tensor w = weights(f, xs, o.seed());
        Fn scalar = in -> f.apply(in).mul(w).sum();
        return compare("first", scalar, xs, o);
    }

    public static Report check(Fn f, List<Tensor> inputs) {
        return check(f, inputs, Options.defaults());
    }

    /**
     * Second order: with g(x) = ∇ₓ⟨f(x), w⟩ built as a graph (createGraph), checks d⟨g(x), v⟩/dx by backprop
     * through the backward graph against central differences of g.
     */
    public static Report checkSecondOrder(Fn f, List<Tensor> inputs, Options o) {
        List<Tensor> xs = prepare(inputs);
        Tensor w = weights(f, xs, o.seed());
        SplittableRandom rng = new SplittableRandom(o.seed() + 1);
        List<Tensor> vs = new ArrayList<>();
        for (Tensor x : xs) vs.add(Tensor.randn(DType.FLOAT64, rng, x.shape()));
        Fn gradDotV = in -> {
            Tensor out = f.apply(in).mul(w).sum();
            if (!out.requiresGrad()) return Tensor.scalar(0);
            List<Tensor> g = Autograd.grad(out, in, true);
            Tensor acc = Tensor.scalar(0);
            for (int i = 0; i < g.size(); i++) acc = acc.add(g.get(i).mul(vs.get(i)).sum());
            return acc;
        };
        return compare("second", gradDotV, xs, o);
    }

    public static Report checkSecondOrder(Fn f, List<Tensor> inputs) {
        return checkSecondOrder(f, inputs, Options.defaults());
    }

    private static List<Tensor> prepare(List<Tensor> inputs) {
        List<Tensor> xs = new ArrayList<>();
        for (Tensor t : inputs) xs.add(Tensor.of(t.toDoubleArray(), t.shape()).requiresGrad(true));
        return xs;
    }

    private static Tensor weights(Fn f, List<Tensor> xs, long seed) {
        Tensor probe;
        try (Autograd.Scope s = Autograd.noGrad()) {
            probe = f.apply(detached(xs));
        }
        return Tensor.randn(DType.FLOAT64, new SplittableRandom(seed), probe.shape());
    }

    private static List<Tensor> detached(List<Tensor> xs) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor x : xs) out.add(Tensor.of(x.toDoubleArray(), x.shape()).requiresGrad(true));
        return out;
    }

    private static Report compare(String order, Fn scalar, List<Tensor> xs, Options o) {
        Tensor out = scalar.apply(xs);
        List<Tensor> analytic = out.requiresGrad() ? Autograd.grad(out, xs, false) : zerosLike(xs);
        Report worst = null;
        double worstScore = -1;
        int checked = 0;
        for (int i = 0; i < xs.size(); i++) {
            double[] base = xs.get(i).toDoubleArray();
            double[] a = analytic.get(i).toDoubleArray();
            for (int e = 0; e < base.length; e++) {
                double plus = evalAt(scalar, xs, i, base, e, base[e] + o.eps());
                double minus = evalAt(scalar, xs, i, base, e, base[e] - o.eps());
                double numeric = (plus - minus) / (2 * o.eps());
                double abs = Math.abs(a[e] - numeric);
                double rel = abs / Math.max(Math.abs(numeric), 1e-12);
                double score = abs / (o.atol() + o.rtol() * Math.abs(numeric));
                if (Double.isNaN(score)) score = Double.POSITIVE_INFINITY;
                checked++;
                if (score > worstScore) {
                    worstScore = score;
                    worst = new Report(order, false, i, e, a[e], numeric, abs, rel, 0);
                }
            }
        }
        if (worst == null) return new Report(order, true, -1, -1, 0, 0, 0, 0, 0);
        return new Report(order, worstScore <= 1, worst.input(), worst.element(), worst.analytic(), worst.numeric(),
                worst.absError(), worst.relError(), checked);
    }

    private static double evalAt(Fn scalar, List<Tensor> xs, int i, double[] base, int e, double value) {
        List<Tensor> probe = new ArrayList<>(xs);
        double[] moved = base.clone();
        moved[e] = value;
        probe.set(i, Tensor.of(moved, xs.get(i).shape()).requiresGrad(true));
        return scalar.apply(probe).item();
    }

    private static List<Tensor> zerosLike(List<Tensor> xs) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor x : xs) out.add(Tensor.zeros(DType.FLOAT64, x.shape()));
        return out;
    }
}
