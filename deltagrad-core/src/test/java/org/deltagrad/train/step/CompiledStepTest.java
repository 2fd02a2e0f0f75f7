package org.deltagrad.train.step;

import org.deltagrad.train.TrainConfig.LossKind;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.deltagrad.Tensor;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.nn.Dropout;
import org.deltagrad.nn.Identity;
import org.deltagrad.nn.Init;
import org.deltagrad.nn.LeakyReLU;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.Module;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.deltagrad.nn.Sigmoid;
import org.deltagrad.nn.Softmax;
import org.deltagrad.nn.Tanh;
import org.deltagrad.optim.Adam;
import org.deltagrad.optim.AdamW;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.optim.RMSprop;
import org.deltagrad.optim.SGD;
import org.junit.jupiter.api.Test;

/**
 * The compiled step against the eager one, step by step on the same batches from two copies of one model.
 *
 * <p>What holds, per optimiser: for every optimiser that is not folded (SGD with momentum or Nesterov, Adam, AdamW,
 * RMSprop, and plain SGD with clipping) the compiled step computes every gradient element with the eager rule's
 * arithmetic in the eager order (the same GEMM calls, the same float32 element-wise expressions, cross-entropy in
 * float64 per row, bias gradients summed row by row) and then calls the same {@code Optimizer.step()}: the losses,
 * predictions and parameters are the same bits after any number of steps. Plain SGD without clipping is folded into
 * the weight-gradient GEMM (W ← βW − lr·δᵀa in one call, beta ≠ 0) where the eager step rounds the product, scales
 * it, then adds it; a GEMM may round that differently (OpenBLAS with an FMA, the pure-Java kernel in another order),
 * so the weights differ by a rounding error per step, which training then carries along (below: a bound relative to
 * the weights' size). The biases are updated by the same float expressions as the eager step.
 */
class CompiledStepTest {
    private static final int STEPS = 200;

    /** A model of Linear layers with {@code activation} after each hidden one (and after the last if asked). */
    private static Sequential mlp(int[] sizes, Supplier<Module> activation, boolean activateOutput, double dropout, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential net = new Sequential();
        for (int l = 0; l + 1 < sizes.length; l++) {
            net.add(new Linear(sizes[l], sizes[l + 1], Init.PYTORCH_DEFAULT, rng));
            boolean last = l + 2 == sizes.length;
            if (!last || activateOutput) net.add(activation.get());
            if (!last && dropout > 0) net.add(new Dropout(dropout, seed + l));
        }
        return net;
    }

    static Optimizer optimizer(String name, List<Tensor> params, double lr, double wd) {
        return switch (name) {
            case "sgd" -> new SGD(params, lr, 0, 0, false, wd);
            case "momentum" -> new SGD(params, lr, 0.9, 0, false, wd);
            case "nesterov" -> new SGD(params, lr, 0.9, 0, true, wd);
            case "adam" -> new Adam(params, lr, 0.9, 0.999, 1e-8, wd);
            case "adamw" -> new AdamW(params, lr, 0.9, 0.999, 1e-8, wd == 0 ? 0.01 : wd);
            case "rmsprop" -> new RMSprop(params, lr, 0.99, 1e-8, 0, wd);
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** What two runs ended with: every step's loss and correct count, and the parameters. */
    record Run(double[] losses, int[] correct, List<float[]> params) {}

    /** The eager and the compiled run of one configuration, side by side on the same batches. */
    record Pair(Run eager, Run compiled, String what) {
        void assertSameBits() {
            assertArrayEquals(eager.losses, compiled.losses, what + ": losses");
            assertArrayEquals(eager.correct, compiled.correct, what + ": correct counts");
            for (int i = 0; i < eager.params.size(); i++) assertArrayEquals(eager.params.get(i), compiled.params.get(i), what + ": parameter " + i);
        }

        /** The largest parameter difference relative to the largest parameter of the eager run. */
        double relativeParameterDifference() {
            double diff = 0, scale = 0;
            for (int i = 0; i < eager.params.size(); i++) {
                float[] a = eager.params.get(i), b = compiled.params.get(i);
                for (int k = 0; k < a.length; k++) {
                    diff = Math.max(diff, Math.abs(a[k] - b[k]));
                    scale = Math.max(scale, Math.abs(a[k]));
                }
            }
            return diff / scale;
        }
    }

    /** One configuration: a model maker, the loss, the optimiser and its settings. */
    record Config(Supplier<Sequential> model, LossKind loss, String optimizer, double lr, double wd, double clip,
                          int batch, String what) {}

    static Pair run(Dataset data, Config c) {
        Sequential eagerModel = c.model.get(), compiledModel = c.model.get();
        Optimizer eagerOpt = optimizer(c.optimizer, eagerModel.parameters(), c.lr, c.wd);
        Optimizer compiledOpt = optimizer(c.optimizer, compiledModel.parameters(), c.lr, c.wd);
        TrainingStep eager = new EagerStep(eagerModel, eagerOpt, c.loss, c.clip);
        TrainingStep compiled;
        try {
            compiled = CompiledStep.compile(compiledModel, compiledOpt, c.loss, c.clip);
        } catch (CompiledStep.NotCompilable e) {
            throw new AssertionError(c.what + ": " + e.getMessage());
        }
        double[][] losses = new double[2][STEPS];
        int[][] correct = new int[2][STEPS];
        Prefetcher batches = new Prefetcher(new DataLoader(data, c.batch).shuffled(3));
        int step = 0;
        for (int epoch = 0; step < STEPS; epoch++) {
            for (Iterator<StepBatch> it = batches.epoch(epoch); it.hasNext() && step < STEPS; step++) {
                StepBatch b = it.next();
                if (step == STEPS / 2) { // the learning rate changes between steps, as a schedule does
                    eagerOpt.setLearningRate(c.lr / 2);
                    compiledOpt.setLearningRate(c.lr / 2);
                }
                TrainingStep[] both = {eager, compiled};
                for (int k = 0; k < 2; k++) {
                    losses[k][step] = both[k].forward(b);
                    both[k].backward();
                    both[k].update();
                    correct[k][step] = both[k].correct();
                }
            }
        }
        for (Tensor p : compiledModel.parameters()) assertNull(p.grad(), c.what + ": a gradient was left behind");
        return new Pair(new Run(losses[0], correct[0], params(eagerModel)), new Run(losses[1], correct[1], params(compiledModel)), c.what);
    }

    private static List<float[]> params(Module m) {
        List<float[]> out = new ArrayList<>();
        for (Tensor p : m.parameters()) out.add(p.toFloatArray());
        return out;
    }

    private static final String[] NOT_FOLDED = {"momentum", "nesterov", "adam", "adamw", "rmsprop"};

    private static List<Supplier<Module>> activations() {
        return List.of(ReLU::new, Sigmoid::new, Tanh::new, () -> new LeakyReLU(0.1), Identity::new);
    }

    private static double lr(String optimizer) {
        return optimizer.startsWith("adam") || optimizer.equals("rmsprop") ? 0.01 : 0.1;
    }

    /** Every optimiser that is not folded, every activation, both losses, with and without clipping and weight decay. */
    @Test
    void unfoldedOptimisersGiveTheEagerBitsOnSpirals() {
        Dataset data = Datasets.load(Datasets.SPIRALS, null).train();
        int k = 0;
        for (String opt : NOT_FOLDED) {
            for (Supplier<Module> act : activations()) {
                LossKind loss = k % 2 == 0 ? LossKind.CROSS_ENTROPY : LossKind.MSE;
                double clip = k % 3 == 0 ? 0.5 : 0, wd = k % 4 < 2 ? 0 : 1e-3;
                boolean quadratic = loss == LossKind.MSE;
                String what = String.format(Locale.ROOT, "%s %s %s clip %s wd %s", opt, act.get().getClass().getSimpleName(), loss, clip, wd);
                run(data, new Config(() -> mlp(new int[] {2, 16, 12, 3}, act, quadratic, 0, 7), loss, opt, lr(opt), wd, clip, 32, what))
                        .assertSameBits();
                k++;
            }
        }
    }

    /** Plain SGD with clipping needs every gradient before any update, so it is not folded: the eager bits. */
    @Test
    void clippedSgdGivesTheEagerBits() {
        Dataset data = Datasets.load(Datasets.SPIRALS, null).train();
        for (LossKind loss : LossKind.values()) {
            run(data, new Config(() -> mlp(new int[] {2, 16, 3}, ReLU::new, loss == LossKind.MSE, 0, 3), loss, "sgd", 0.5, 1e-3,
                    0.3, 16, "clipped sgd " + loss)).assertSameBits();
        }
    }

    /** Dropout between layers, in every position relative to the activations, and an Identity: the eager bits. */
    @Test
    void dropoutAndMixedLayersGiveTheEagerBits() {
        Dataset data = Datasets.load(Datasets.SPIRALS, null).train();
        Supplier<Sequential> mixed = () -> {
            SplittableRandom rng = new SplittableRandom(11);
            return new Sequential(new Linear(2, 24, Init.HE_NORMAL, rng), new Dropout(0.2, 1), new ReLU(), new Identity(),
                    new Linear(24, 16, Init.XAVIER_NORMAL, rng), new Tanh(), new Dropout(0.3, 2), new Linear(16, 16, Init.HE_NORMAL, rng),
                    new LeakyReLU(0.05), new Dropout(0.1, 3), new Sigmoid(), new Linear(16, 3, Init.PYTORCH_DEFAULT, rng));
        };
        for (String opt : new String[] {"adam", "momentum"}) {
            run(data, new Config(mixed, LossKind.CROSS_ENTROPY, opt, lr(opt), 0, 0, 32, "mixed layers " + opt)).assertSameBits();
        }
        run(data, new Config(() -> mlp(new int[] {2, 32, 32, 3}, ReLU::new, false, 0.25, 5), LossKind.CROSS_ENTROPY, "rmsprop",
                0.01, 1e-4, 1, 64, "dropout rmsprop")).assertSameBits();
        // The Trainer's --dropout: each hidden activation and its dropout nested as one unit (same parameter names).
        run(data, new Config(() -> new Sequential(new Linear(2, 16, 1), new Sequential(new ReLU(), new Dropout(0.2, 4)),
                new Linear(16, 3, 2)), LossKind.CROSS_ENTROPY, "adam", 0.01, 0, 0, 32, "nested dropout")).assertSameBits();
        // Dropout of 1 and of 0 (the identity).
        run(data, new Config(() -> new Sequential(new Linear(2, 8, 1), new Dropout(1, 1), new ReLU(), new Linear(8, 3, 2),
                new Dropout(0, 2)), LossKind.MSE, "adam", 0.01, 0, 0, 32, "dropout 1 and 0")).assertSameBits();
    }

    /**
     * Folded plain SGD: a rounding difference per step, carried along by training. Over 200 steps (the learning rate
     * halved after 100) the weights stay within 1e-5 of the eager ones relative to the largest weight, for every
     * activation, both losses, with and without weight decay; the losses agree to 1e-5 relative (measured: 1e-7 to 4e-7).
     */
    @Test
    void foldedSgdStaysWithinRoundingOfTheEagerStep() {
        Dataset data = Datasets.load(Datasets.SPIRALS, null).train();
        int k = 0;
        for (Supplier<Module> act : activations()) {
            for (LossKind loss : LossKind.values()) {
                double wd = k++ % 2 == 0 ? 0 : 1e-3;
                boolean quadratic = loss == LossKind.MSE;
                String what = "sgd " + act.get().getClass().getSimpleName() + " " + loss + " wd " + wd;
                Pair p = run(data, new Config(() -> mlp(new int[] {2, 16, 12, 3}, act, quadratic, 0, 7), loss, "sgd", 0.1, wd, 0, 32, what));
                assertFolded(p, 1e-5);
            }
        }
    }

    private static void assertFolded(Pair p, double bound) {
        double rel = p.relativeParameterDifference();
        assertTrue(rel <= bound, p.what + ": parameters differ by " + rel + " of the largest");
        for (int s = 0; s < STEPS; s++) {
            double e = p.eager.losses[s], c = p.compiled.losses[s];
            assertTrue(Math.abs(e - c) <= bound * Math.abs(e), p.what + ": loss at step " + s + ": " + e + " vs " + c);
        }
    }

    /** A Fashion-MNIST subset, 784-64-32-10, batch 64: Adam the same bits, folded SGD within rounding. */
    @Test
    void fashionMnistSubset() {
        Dataset all = Datasets.load(Datasets.FASHION_MNIST, null).train();
        int[] rows = new int[4000];
        for (int i = 0; i < rows.length; i++) rows[i] = i;
        Dataset data = all.subset(rows);
        Supplier<Sequential> model = () -> mlp(new int[] {784, 64, 32, 10}, ReLU::new, false, 0, 1);
        run(data, new Config(model, LossKind.CROSS_ENTROPY, "adam", 0.001, 0, 0, 64, "fashion adam")).assertSameBits();
        run(data, new Config(model, LossKind.CROSS_ENTROPY, "adamw", 0.001, 0.01, 1, 64, "fashion adamw clipped")).assertSameBits();
        assertFolded(run(data, new Config(model, LossKind.CROSS_ENTROPY, "sgd", 0.1, 0, 0, 64, "fashion sgd")), 1e-5);
        Supplier<Sequential> nielsen = () -> mlp(new int[] {784, 30, 10}, Sigmoid::new, true, 0, 1);
        assertFolded(run(data, new Config(nielsen, LossKind.MSE, "sgd", 3.0, 0, 0, 10, "fashion nielsen")), 1e-5);
    }

    @Test
    void whatItCannotRunGoesToTheEagerStep() {
        Sequential softmax = new Sequential(new Linear(2, 3, 1), new Softmax(1));
        TrainingStep s = TrainingStep.of(softmax, new Adam(softmax.parameters(), 0.01), LossKind.CROSS_ENTROPY, 0);
        assertInstanceOf(EagerStep.class, s);
        assertEquals("eager: it does not know the layer Softmax", s.description());

        Linear shared = new Linear(3, 3, 1);
        Sequential twice = new Sequential(shared, new ReLU(), shared);
        assertEquals("eager: a layer appears twice in the model (shared weights)",
                TrainingStep.of(twice, new Adam(twice.parameters(), 0.01), LossKind.CROSS_ENTROPY, 0).description());

        Sequential net = new Sequential(new Linear(2, 3, 1));
        Sequential other = new Sequential(new Linear(2, 3, 1));
        assertEquals("eager: the optimiser's parameters are not the model's",
                TrainingStep.of(net, new Adam(other.parameters(), 0.01), LossKind.CROSS_ENTROPY, 0).description());

        assertEquals("eager: the model starts with a ReLU before any Linear layer", TrainingStep.of(new Sequential(new ReLU(), net.get(0)),
                new Adam(net.parameters(), 0.01), LossKind.CROSS_ENTROPY, 0).description());
        assertEquals("eager: the model has no Linear layer", TrainingStep.of(new Sequential(),
                new Adam(net.parameters(), 0.01), LossKind.CROSS_ENTROPY, 0).description());
        assertInstanceOf(CompiledStep.class, TrainingStep.of(net, new SGD(net.parameters(), 0.1), LossKind.MSE, 0));
    }

    @Test
    void badBatchesAreNamed() throws Exception {
        Sequential net = new Sequential(new Linear(3, 2, 1));
        CompiledStep step = CompiledStep.compile(net, new SGD(net.parameters(), 0.1), LossKind.CROSS_ENTROPY, 0);
        Dataset twoFeatures = Dataset.of(new float[] {1, 2, 3, 4}, 2, new int[] {0, 1});
        StepBatch wrongWidth = new Prefetcher(new DataLoader(twoFeatures, 2)).epoch(0).next();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> step.forward(wrongWidth)).getMessage()
                .contains("2 features for a model with 3 inputs"));
        Dataset threeClasses = Dataset.of(new float[] {1, 2, 3, 4, 5, 6}, 3, new int[] {0, 2});
        StepBatch badLabel = new Prefetcher(new DataLoader(threeClasses, 2)).epoch(0).next();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> step.forward(badLabel)).getMessage()
                .contains("label 2 at row 1 is not a class index in [0, 2)"));
    }
}
