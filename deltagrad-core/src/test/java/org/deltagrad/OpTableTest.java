package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.deltagrad.autograd.GradCheck;
import org.deltagrad.autograd.Node;
import org.junit.jupiter.api.Test;

/**
 * The one table of every differentiable op. Each entry is gradchecked in float64 at first and second order
 * on random shapes (broadcasting included). A public Tensor op that is neither in the table nor declared
 * non-differentiable fails {@link #everyPublicOpIsInTheTable()}; an op of the rule table ({@link Ops.Op}) that
 * no entry records fails {@link #everyRecordedOpIsGradchecked()}; and an op recorded outside the rule table fails
 * {@link #onlyTheRuleTableRecordsOps()}.
 */
class OpTableTest {

    /** How inputs are drawn: values away from kinks and outside domains where the op is not smooth. */
    enum Domain { ANY, POSITIVE, AWAY_FROM_ZERO }

    /**
     * An op under test: its Tensor method (or rule-table entry) name, how to build inputs from a random source, how
     * many of them (the first ones) are differentiable (the rest are constants such as an axis), and the call.
     */
    record OpCase(String method, String label, Function<SplittableRandom, List<Tensor>> inputs, int differentiable,
                  GradCheck.Fn fn) {
        @Override
        public String toString() {
            return label;
        }
    }

    /** Public Tensor methods that return a tensor but have no gradient (constants, factories, in-place writes). */
    static final Set<String> NOT_DIFFERENTIABLE = Set.of("of", "scalar", "zeros", "ones", "full", "arange", "rand", "randn",
            "sign", "gt", "lt", "ge", "le", "eq", "ne", "argmax", "detach", "grad", "requiresGrad",
            "addInPlace", "mulInPlace", "copyFrom", "fill", "set");

    /**
     * Public Tensor ops that are piecewise constant: recorded (so they sit in a graph like PyTorch's) with gradient 0
     * everywhere, which {@link #piecewiseConstantOpsHaveZeroGradient()} checks exactly.
     */
    static final Set<String> ZERO_GRADIENT = Set.of("floor", "round");

    /** Sources allowed to call Node.record: the rule table, and Function, whose ops users define and name. */
    static final Set<String> RECORDERS = Set.of("org/deltagrad/Ops.java", "org/deltagrad/autograd/Function.java",
            "org/deltagrad/autograd/Node.java");

    static final List<OpCase> TABLE = new ArrayList<>();

    static {
        unary("neg", Domain.ANY, Tensor::neg);
        unary("exp", Domain.ANY, Tensor::exp);
        unary("log", Domain.POSITIVE, Tensor::log);
        unary("sqrt", Domain.POSITIVE, Tensor::sqrt);
        unary("abs", Domain.AWAY_FROM_ZERO, Tensor::abs);
        unary("tanh", Domain.ANY, Tensor::tanh);
        unary("sigmoid", Domain.ANY, Tensor::sigmoid);
        unary("relu", Domain.AWAY_FROM_ZERO, Tensor::relu);
        unary("sin", Domain.ANY, Tensor::sin);
        unary("cos", Domain.ANY, Tensor::cos);
        unary("square", Domain.ANY, Tensor::square);
        unary("erf", Domain.ANY, Tensor::erf);
        unary("gelu", "gelu()", Domain.ANY, Tensor::gelu);
        unary("gelu", "gelu(tanh)", Domain.ANY, x -> x.gelu("tanh"));
        // floor and round are piecewise constant: their gradient is 0 (PyTorch's too); the product keeps a
        // nonzero second derivative around them so that a wrong rule would show.
        unary("floor", Domain.ANY, x -> x.floor().add(x.square()).mul(x));
        unary("round", Domain.ANY, x -> x.round().add(x.square()).mul(x));
        unary("pow", "pow(0)", Domain.ANY, x -> x.pow(0).mul(x));
        unary("pow", "pow(2.5)", Domain.POSITIVE, x -> x.pow(2.5));
        unary("pow", "pow(-1)", Domain.POSITIVE, x -> x.pow(-1));
        unary("clamp", Domain.ANY, x -> x.clamp(-0.5, 0.7));
        // float32 rounding makes tiny steps meaningless, so the cast is checked on a linear function with a wide step.
        unary("to", Domain.ANY, x -> x.to(DType.FLOAT32).to(DType.FLOAT64).mul(3));
        unary("copy", Domain.ANY, x -> x.copy().mul(x));
        unary("contiguous", Domain.ANY, x -> x.contiguous().mul(x));
        unary("add", "add(double)", Domain.ANY, x -> x.add(1.5).mul(x));
        unary("sub", "sub(double)", Domain.ANY, x -> x.sub(1.5).mul(x));
        unary("mul", "mul(double)", Domain.ANY, x -> x.mul(-2.5).mul(x));
        unary("div", "div(double)", Domain.ANY, x -> x.div(3).mul(x));

        binary("add", Domain.ANY, Domain.ANY, Tensor::add);
        binary("sub", Domain.ANY, Domain.ANY, Tensor::sub);
        binary("mul", Domain.ANY, Domain.ANY, Tensor::mul);
        binary("div", Domain.ANY, Domain.AWAY_FROM_ZERO, Tensor::div);
        binary("pow", Domain.POSITIVE, Domain.ANY, Tensor::pow);
        binary("maximum", Domain.ANY, Domain.ANY, Tensor::maximum);
        binary("minimum", Domain.ANY, Domain.ANY, Tensor::minimum);
        add("where", "where", 2, r -> {
            int[][] s = broadcastPair(r);
            return List.of(draw(r, Domain.ANY, s[0]), draw(r, Domain.ANY, s[1]), draw(r, Domain.ANY, s[0]));
        }, in -> Tensor.where(in.get(2).gt(0), in.get(0).mul(in.get(0)), in.get(1).exp()));

        reduction("sum", "sum()", (x, a) -> x.sum());
        reduction("sum", "sum(axis)", (x, a) -> x.sum(a, false));
        reduction("sum", "sum(axis,keepDim)", (x, a) -> x.sum(new int[] {a}, true).mul(x));
        reduction("mean", "mean()", (x, a) -> x.mean());
        reduction("mean", "mean(axis)", (x, a) -> x.mean(a, true).mul(x));
        reduction("max", "max()", (x, a) -> x.max().mul(x));
        reduction("max", "max(axis)", (x, a) -> x.max(a, false));
        reduction("min", "min()", (x, a) -> x.min().mul(x));
        reduction("min", "min(axis)", (x, a) -> x.min(a, true).mul(x));
        reduction("prod", "prod()", (x, a) -> x.prod().mul(x));
        reduction("prod", "prod(axis)", (x, a) -> x.prod(a, false));
        reduction("prod", "prod(axis,keepDim)", (x, a) -> x.prod(a, true).mul(x));
        reduction("prod", "prod(axis) with a zero", (x, a) -> withZeros(x, 1).prod(a, true).mul(x));
        reduction("prod", "prod(axis) with two zeros", (x, a) -> withZeros(x, 2).prod(a, false).sum().mul(x));
        reduction("logsumexp", "logsumexp(axis)", (x, a) -> x.logsumexp(a, false));
        reduction("logsumexp", "logsumexp(axis,keepDim)", (x, a) -> x.logsumexp(a, true).mul(x));
        reduction("cumsum", "cumsum", (x, a) -> x.cumsum(a).square());
        reduction("flip", "flip", (x, a) -> x.flip(a).mul(x));
        reduction("flip", "flip(all)", (x, a) -> x.flip(reversed(x.rank())).exp().mul(x));
        reduction("repeat", "repeat", (x, a) -> {
            int[] reps = new int[x.rank() + 1];
            java.util.Arrays.fill(reps, 1);
            reps[0] = 2;
            reps[a + 1] = 3;
            return x.repeat(reps).square();
        });
        reduction("slice", "slice(step 2)", (x, a) -> x.slice(a, 0, x.shape(a), 2).exp());
        reduction("slice", "slice(from -2, step 3)", (x, a) -> x.slice(a, -2, Integer.MAX_VALUE, 3).square().mul(x.sum()));
        reduction("embedStrided", "embedStrided", (x, a) -> {
            int[] shape = x.shape();
            shape[a] = 2 * shape[a] + 1;
            return Ops.embedStrided(x, a, 1, 2, shape).square();
        });
        reduction("softmax", "softmax", (x, a) -> x.softmax(a));
        reduction("logSoftmax", "logSoftmax", (x, a) -> x.logSoftmax(a));
        reduction("transpose", "transpose", (x, a) -> x.transpose(a, 0).mul(x.transpose(a, 0)));
        reduction("permute", "permute", (x, a) -> x.permute(reversed(x.rank())).exp());
        reduction("reshape", "reshape", (x, a) -> x.exp().reshape(-1).mul(x.reshape(-1)));
        reduction("flatten", "flatten", (x, a) -> x.transpose(a, 0).flatten().square());
        reduction("unsqueeze", "unsqueeze", (x, a) -> x.unsqueeze(a).sin());
        reduction("squeeze", "squeeze", (x, a) -> x.unsqueeze(a).squeeze(a).sin());
        reduction("expand", "expand", (x, a) -> x.sum(a, true).expand(x.shape()).mul(x));
        reduction("narrow", "narrow", (x, a) -> x.narrow(a, 0, Math.max(1, x.shape(a) - 1)).square());
        reduction("slice", "slice", (x, a) -> x.slice(a, x.shape(a) - 1, x.shape(a)).exp());
        reduction("sumToShape", "sumToShape", (x, a) -> x.square().sumToShape(x.sum(a, true).shape()));
        reduction("gather", "gather", (x, a) -> x.gather(a, indexFor(x, a)).square());
        reduction("scatterAdd", "scatterAdd", (x, a) -> x.square().scatterAdd(a, indexFor(x, a), x.shape()).mul(x));
        reduction("concat", "concat", (x, a) -> Tensor.concat(a, x, x.square()).sin());
        reduction("stack", "stack", (x, a) -> Tensor.stack(List.of(x.exp(), x), a).sin());

        add("matmul", "matmul 2-D", 2, r -> {
            int m = 1 + r.nextInt(4), k = 1 + r.nextInt(4), n = 1 + r.nextInt(4);
            return List.of(draw(r, Domain.ANY, m, k), draw(r, Domain.ANY, k, n));
        }, in -> in.get(0).matmul(in.get(1)));
        add("matmul", "matmul transposed", 2, r -> {
            int m = 1 + r.nextInt(4), k = 1 + r.nextInt(4), n = 1 + r.nextInt(4);
            return List.of(draw(r, Domain.ANY, k, m), draw(r, Domain.ANY, n, k));
        }, in -> in.get(0).t().matmul(in.get(1).t()).tanh());
        add("matmul", "matmul batched+broadcast", 2, r -> {
            int b = 1 + r.nextInt(3), m = 1 + r.nextInt(3), k = 1 + r.nextInt(3), n = 1 + r.nextInt(3);
            return List.of(draw(r, Domain.ANY, b, m, k), draw(r, Domain.ANY, k, n));
        }, in -> in.get(0).matmul(in.get(1)).square());
        add("matmul", "matmul batched both", 2, r -> {
            int b = 1 + r.nextInt(3), m = 1 + r.nextInt(3), k = 1 + r.nextInt(3), n = 1 + r.nextInt(3);
            return List.of(draw(r, Domain.ANY, 1, m, k), draw(r, Domain.ANY, b, k, n));
        }, in -> in.get(0).matmul(in.get(1)).square());
        add("matmul", "matmul vector", 3, r -> {
            int m = 1 + r.nextInt(4), k = 1 + r.nextInt(4);
            return List.of(draw(r, Domain.ANY, m, k), draw(r, Domain.ANY, k), draw(r, Domain.ANY, m));
        }, in -> in.get(2).matmul(in.get(0).matmul(in.get(1)).exp()).mul(in.get(2).matmul(in.get(2))));
        add("linear", "linear", 3, r -> {
            int n = 1 + r.nextInt(4), in = 1 + r.nextInt(4), out = 1 + r.nextInt(4);
            return List.of(draw(r, Domain.ANY, n, in), draw(r, Domain.ANY, out, in), draw(r, Domain.ANY, out));
        }, in -> in.get(0).linear(in.get(1), in.get(2)).tanh());
        add("linear", "linear 3-D, no bias", 2, r -> {
            int b = 1 + r.nextInt(3), n = 1 + r.nextInt(3), in = 1 + r.nextInt(4), out = 1 + r.nextInt(4);
            return List.of(draw(r, Domain.ANY, b, n, in), draw(r, Domain.ANY, out, in));
        }, in -> in.get(0).linear(in.get(1), null).square());
        add("conv2d", "conv2d(bias, stride, padding)", 3, r -> {
            int[] c = convConfig(r);
            return List.of(draw(r, Domain.ANY, c[0], c[1], c[2], c[3]), draw(r, Domain.ANY, c[4], c[1], c[5], c[6]),
                    draw(r, Domain.ANY, c[4]), Tensor.scalar(c[7]), Tensor.scalar(c[8]));
        }, in -> in.get(0).conv2d(in.get(1), in.get(2), (int) in.get(3).item(), (int) in.get(4).item()).square());
        add("conv2d", "conv2d", 2, r -> {
            int[] c = convConfig(r, false);
            return List.of(draw(r, Domain.ANY, c[0], c[1], c[2], c[3]), draw(r, Domain.ANY, c[4], c[1], c[5], c[6]));
        }, in -> in.get(0).conv2d(in.get(1)).tanh());
        // The two backward primitives of conv2d, checked directly so that their own rules are checked at both orders.
        add("conv2dInputGrad", "conv2dInputGrad", 2, r -> {
            int[] c = convConfig(r);
            Tensor x = draw(r, Domain.ANY, c[0], c[1], c[2], c[3]), w = draw(r, Domain.ANY, c[4], c[1], c[5], c[6]);
            return List.of(draw(r, Domain.ANY, x.conv2d(w, null, c[7], c[8]).shape()), w, x, Tensor.scalar(c[7]), Tensor.scalar(c[8]));
        }, in -> Ops.conv2dInputGrad(in.get(0), in.get(1), in.get(2).shape(), (int) in.get(3).item(), (int) in.get(4).item()).square());
        add("conv2dWeightGrad", "conv2dWeightGrad", 2, r -> {
            int[] c = convConfig(r);
            Tensor x = draw(r, Domain.ANY, c[0], c[1], c[2], c[3]), w = draw(r, Domain.ANY, c[4], c[1], c[5], c[6]);
            return List.of(draw(r, Domain.ANY, x.conv2d(w, null, c[7], c[8]).shape()), x, w, Tensor.scalar(c[7]), Tensor.scalar(c[8]));
        }, in -> Ops.conv2dWeightGrad(in.get(0), in.get(1), in.get(2).shape(), (int) in.get(3).item(), (int) in.get(4).item()).square());
        pool("maxPool2d", "maxPool2d(kernel)", (x, k, st) -> x.maxPool2d(k).square());
        pool("maxPool2d", "maxPool2d(kernel, stride)", (x, k, st) -> x.maxPool2d(k, st).exp());
        pool("avgPool2d", "avgPool2d(kernel)", (x, k, st) -> x.avgPool2d(k).square());
        pool("avgPool2d", "avgPool2d(kernel, stride)", (x, k, st) -> x.avgPool2d(k, st).exp());
        pool("maxPool2dBackward", "maxPool2dBackward", (x, k, st) -> {
            TensorKernels.Pooled p = TensorKernels.maxPool2d(x.detach(), k, st);
            return Ops.maxPool2dBackward(x.maxPool2d(k, st).exp(), p.argmax(), x.shape()).square();
        });
        pool("avgPool2dBackward", "avgPool2dBackward", (x, k, st) -> Ops.avgPool2dBackward(x.avgPool2d(k, st), k, st, x.shape()).square());
        add("crossEntropy", "crossEntropy", 1, r -> List.of(draw(r, Domain.ANY, 1 + r.nextInt(4), 1 + r.nextInt(4))),
                in -> in.get(0).mul(2).crossEntropy(labelsFor(in.get(0))));
        binary("quadraticCost", Domain.ANY, Domain.ANY, true, Tensor::quadraticCost);
        binary("binaryCrossEntropyWithLogits", Domain.ANY, Domain.ANY, true, Tensor::binaryCrossEntropyWithLogits);

        // Entries of the rule table that only rules record (the backward ops of activations, narrow and
        // cross-entropy), checked directly so that their own rules are checked at first and second order too.
        binary("tanhBackward", Domain.ANY, Domain.ANY, true, Ops::tanhBackward);
        binary("sigmoidBackward", Domain.ANY, Domain.ANY, true, Ops::sigmoidBackward);
        add("reluBackward", "reluBackward", 1, r -> {
            int[] s = randomShape(r);
            return List.of(draw(r, Domain.ANY, s), draw(r, Domain.AWAY_FROM_ZERO, s));
        }, in -> Ops.reluBackward(in.get(0), in.get(1)).mul(in.get(0)));
        add("softmaxMinusOneHot", "softmaxMinusOneHot", 1, r -> List.of(draw(r, Domain.ANY, 1 + r.nextInt(4), 1 + r.nextInt(4))),
                in -> Ops.softmaxMinusOneHot(in.get(0), in.get(0).detach().softmax(1), labelsFor(in.get(0))).square());
        reduction("embed", "embed", (x, a) -> {
            int[] shape = x.shape();
            shape[a] += 2;
            return Ops.embed(x, a, 1, shape).square();
        });
        add("t", "t", 1, r -> List.of(draw(r, Domain.ANY, 1 + r.nextInt(4), 1 + r.nextInt(4))), in -> in.get(0).t().exp());
    }

    static void add(String method, String label, int differentiable, Function<SplittableRandom, List<Tensor>> inputs,
                    GradCheck.Fn fn) {
        TABLE.add(new OpCase(method, label, inputs, differentiable, fn));
    }

    static void unary(String method, Domain d, Function<Tensor, Tensor> f) {
        unary(method, method, d, f);
    }

    static void unary(String method, String label, Domain d, Function<Tensor, Tensor> f) {
        add(method, label, 1, r -> List.of(draw(r, d, randomShape(r))), in -> f.apply(in.get(0)));
    }

    static void binary(String method, Domain da, Domain db, java.util.function.BiFunction<Tensor, Tensor, Tensor> f) {
        binary(method, da, db, false, f);
    }

    /** Two inputs, broadcast together or (sameShape) of one shape. */
    static void binary(String method, Domain da, Domain db, boolean sameShape,
                       java.util.function.BiFunction<Tensor, Tensor, Tensor> f) {
        add(method, method, 2, r -> {
            int[][] s = sameShape ? null : broadcastPair(r);
            int[] shape = sameShape ? randomShape(r) : null;
            return List.of(draw(r, da, sameShape ? shape : s[0]), draw(r, db, sameShape ? shape : s[1]));
        }, in -> f.apply(in.get(0), in.get(1)));
    }

    /** Ops taking one tensor of rank ≥ 1 and an axis. */
    static void reduction(String method, String label, java.util.function.BiFunction<Tensor, Integer, Tensor> f) {
        add(method, label, 1, r -> {
            int[] shape = randomShape(r);
            if (shape.length == 0) shape = new int[] {1 + r.nextInt(4)};
            return List.of(draw(r, Domain.ANY, shape), Tensor.scalar(r.nextInt(shape.length)));
        }, in -> f.apply(in.get(0), (int) in.get(1).item()));
    }

    /** A small random conv2d: {N, C, H, W, O, kH, kW, stride, padding}, the kernel fitting the padded input. */
    static int[] convConfig(SplittableRandom r) {
        return convConfig(r, true);
    }

    /** As {@link #convConfig(SplittableRandom)}; without strideAndPadding, stride 1 and padding 0. */
    static int[] convConfig(SplittableRandom r, boolean strideAndPadding) {
        int kh = 1 + r.nextInt(3), kw = 1 + r.nextInt(3);
        int stride = strideAndPadding ? 1 + r.nextInt(2) : 1, pad = strideAndPadding ? r.nextInt(2) : 0;
        return new int[] {1 + r.nextInt(2), 1 + r.nextInt(2), Math.max(1, kh - 2 * pad) + r.nextInt(3),
                Math.max(1, kw - 2 * pad) + r.nextInt(3), 1 + r.nextInt(2), kh, kw, stride, pad};
    }

    interface PoolFn {
        Tensor apply(Tensor x, int kernel, int stride);
    }

    /** A pooling op on a random [N, C, H, W] input with a random square kernel (that fits) and stride. */
    static void pool(String method, String label, PoolFn f) {
        add(method, label, 1, r -> {
            int k = 1 + r.nextInt(3), stride = 1 + r.nextInt(3);
            return List.of(draw(r, Domain.ANY, 1 + r.nextInt(2), 1 + r.nextInt(2), k + r.nextInt(4), k + r.nextInt(4)),
                    Tensor.scalar(k), Tensor.scalar(stride));
        }, in -> f.apply(in.get(0), (int) in.get(1).item(), (int) in.get(2).item()));
    }

    static int[] randomShape(SplittableRandom r) {
        int[] s = new int[r.nextInt(4)];
        for (int i = 0; i < s.length; i++) s[i] = 1 + r.nextInt(4);
        return s;
    }

    /** Two shapes that broadcast: the second is a suffix of the first, some sizes replaced by 1 (or vice versa). */
    static int[][] broadcastPair(SplittableRandom r) {
        int[] a = randomShape(r);
        int drop = a.length == 0 ? 0 : r.nextInt(a.length + 1);
        int[] b = java.util.Arrays.copyOfRange(a, drop, a.length);
        for (int i = 0; i < b.length; i++) if (r.nextInt(3) == 0) b[i] = 1;
        return r.nextBoolean() ? new int[][] {a, b} : new int[][] {b, a};
    }

    static Tensor draw(SplittableRandom r, Domain d, int... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT64, shape);
        double[] v = new double[t.numel()];
        for (int i = 0; i < v.length; i++) {
            double u = r.nextDouble(-2, 2);
            v[i] = switch (d) {
                case ANY -> u;
                case POSITIVE -> 0.3 + Math.abs(u);
                case AWAY_FROM_ZERO -> Math.copySign(0.2 + Math.abs(u), u);
            };
        }
        return Tensor.of(v, shape);
    }

    static Tensor indexFor(Tensor x, int axis) {
        int[] shape = x.shape();
        int size = shape[axis];
        Tensor idx = Tensor.zeros(DType.FLOAT64, shape);
        double[] v = new double[idx.numel()];
        for (int i = 0; i < v.length; i++) v[i] = (i * 7 + 3) % size;
        return Tensor.of(v, shape);
    }

    /** x with its first n elements (flat order) replaced by zeros, keeping the graph to the other elements. */
    static Tensor withZeros(Tensor x, int n) {
        double[] keep = new double[x.numel()];
        java.util.Arrays.fill(keep, 1);
        for (int i = 0; i < Math.min(n, keep.length); i++) keep[i] = 0;
        return x.mul(Tensor.of(keep, x.shape()));
    }

    static int[] reversed(int rank) {
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) p[i] = rank - 1 - i;
        return p;
    }

    /** A class index for each row of z [B, C]. */
    static int[] labelsFor(Tensor z) {
        int[] labels = new int[z.shape(0)];
        for (int i = 0; i < labels.length; i++) labels[i] = (i * 7 + 3) % z.shape(1);
        return labels;
    }

    static void checkBothOrders(OpCase c, long seed) {
        List<Tensor> all = c.inputs().apply(new SplittableRandom(seed));
        int nDiff = c.differentiable();
        List<Tensor> constants = all.subList(nDiff, all.size());
        GradCheck.Fn f = in -> {
            List<Tensor> full = new ArrayList<>(in);
            full.addAll(constants);
            return c.fn().apply(full);
        };
        List<Tensor> inputs = all.subList(0, nDiff);
        GradCheck.Options o = c.method().equals("to") ? new GradCheck.Options(1e-2, 1e-4, 1e-3, 42) : GradCheck.Options.defaults();
        GradCheck.Report first = GradCheck.check(f, inputs, o);
        assertTrue(first.passed(), () -> c + " (seed " + seed + "): " + first);
        GradCheck.Report second = GradCheck.checkSecondOrder(f, inputs, o);
        assertTrue(second.passed(), () -> c + " (seed " + seed + "): " + second);
    }

    @Test
    void everyOpInTheTablePassesFirstAndSecondOrder() {
        for (OpCase c : TABLE) {
            for (long seed = 1; seed <= 3; seed++) checkBothOrders(c, seed);
        }
    }

    @Property(tries = 300)
    void randomShapesAndValues(@ForAll("cases") OpCase c, @ForAll long seed) {
        checkBothOrders(c, seed);
    }

    @Provide
    Arbitrary<OpCase> cases() {
        return Arbitraries.of(TABLE);
    }

    @Test
    void everyPublicOpIsInTheTable() {
        Set<String> ops = new TreeSet<>();
        for (Method m : Tensor.class.getMethods()) {
            if (m.getReturnType() == Tensor.class && Modifier.isPublic(m.getModifiers())) ops.add(m.getName());
        }
        ops.removeAll(NOT_DIFFERENTIABLE);
        Set<String> tested = new TreeSet<>();
        for (OpCase c : TABLE) tested.add(c.method());
        ops.removeAll(tested);
        assertEquals(Set.of(), ops, "differentiable Tensor ops missing from OpTableTest.TABLE");
    }
    @Test
    void piecewiseConstantOpsHaveZeroGradient() throws ReflectiveOperationException {
        for (String name : ZERO_GRADIENT) {
            Tensor x = draw(new SplittableRandom(7), Domain.ANY, 3, 4).requiresGrad(true);
            ((Tensor) Tensor.class.getMethod(name).invoke(x)).sum().backward();
            assertEquals(0, x.grad().abs().sum().item(), name);
            assertTrue(TABLE.stream().anyMatch(c -> c.method().equals(name)), name + " is declared but not in TABLE");
        }
    }

    /** Every op of the rule table is recorded by some entry of TABLE, so it is gradchecked at both orders. */
    @Test
    void everyRecordedOpIsGradchecked() {
        Set<String> recorded = new TreeSet<>();
        for (OpCase c : TABLE) recorded.addAll(recordedOps(c));
        Set<String> missing = new TreeSet<>(), names = new TreeSet<>();
        for (Ops.Op op : Ops.Op.values()) {
            assertTrue(names.add(op.label), () -> "two ops of the rule table are both named " + op.label);
            if (!recorded.contains(op.label)) missing.add(op.label);
        }
        assertEquals(Set.of(), missing, "ops of the rule table that no OpTableTest.TABLE entry records (and so gradchecks)");
    }

    /** The names of the graph nodes that a case's forward pass records. */
    static Set<String> recordedOps(OpCase c) {
        List<Tensor> in = new ArrayList<>(c.inputs().apply(new SplittableRandom(1)));
        for (int i = 0; i < c.differentiable(); i++) in.set(i, in.get(i).detach().requiresGrad(true));
        Set<String> names = new TreeSet<>();
        Set<Node> seen = new HashSet<>();
        ArrayDeque<Node> todo = new ArrayDeque<>();
        Node root = c.fn().apply(in).gradFn();
        if (root != null) todo.add(root);
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            if (!seen.add(n) || n.isLeaf()) continue;
            names.add(n.name());
            for (Node next : n.inputs()) if (next != null) todo.add(next);
        }
        return names;
    }

    /**
     * No source outside the rule table records an op of its own (so none escapes this table): Node.record is called
     * only by Ops (always through its Op constants) and by Function, which internal code does not extend.
     */
    @Test
    void onlyTheRuleTableRecordsOps() throws IOException {
        List<Path> roots = new ArrayList<>();
        try (Stream<Path> modules = Files.list(moduleDir().getParent())) {
            modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).forEach(roots::add);
        }
        assertTrue(roots.contains(moduleDir().resolve("src/main/java")), () -> "core sources not found among " + roots);
        List<String> offences = new ArrayList<>();
        for (Path root : roots) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String rel = root.relativize(f).toString().replace('\\', '/');
                    String code = withoutComments(Files.readString(f));
                    boolean records = code.contains("Node.record") || code.contains("import static org.deltagrad.autograd.Node.");
                    if (records && !RECORDERS.contains(rel)) offences.add(rel + " records an op outside the rule table Ops");
                    boolean definesFunction = code.matches("(?s).*(extends\\s+Function\\b|new\\s+Function\\s*\\().*");
                    if (definesFunction && !rel.equals("org/deltagrad/autograd/Function.java")) {
                        offences.add(rel + " defines an autograd Function; make it an entry of the rule table Ops");
                    }
                    if (rel.equals("org/deltagrad/Ops.java")) {
                        if (code.split("Node\\.record\\(", -1).length != 2) offences.add(rel + " must call Node.record in one place only");
                        if (code.matches("(?s).*\\brecord\\(\\s*\".*")) offences.add(rel + " records an op by a string, not an Op constant");
                    }
                }
            }
        }
        assertEquals(List.of(), offences);
    }

    static Path moduleDir() {
        Path here = Path.of("").toAbsolutePath();
        return Files.isDirectory(here.resolve("deltagrad-core")) ? here.resolve("deltagrad-core") : here;
    }

    /** Java source without its comments (so a Javadoc example does not count as code). */
    static String withoutComments(String src) {
        return src.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
    }
}
