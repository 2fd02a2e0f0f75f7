package org.deltagrad.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.MlpSpec;
import org.deltagrad.nn.Module;
import org.deltagrad.nn.Sequential;
import org.deltagrad.optim.Adam;
import org.deltagrad.optim.AdamW;
import org.deltagrad.optim.LrSchedule;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.optim.RMSprop;
import org.deltagrad.optim.SGD;
import org.deltagrad.train.step.EagerStep;
import org.deltagrad.train.step.LossKind;
import org.deltagrad.train.step.Prefetcher;
import org.deltagrad.train.step.StepBatch;
import org.deltagrad.train.step.TrainingStep;

/**
 * Mini-batch training of a multilayer perceptron: for each batch, forward, loss, backward, optimiser step (by the
 * compiled {@link TrainingStep}, which is tested against the eager one, see {@code org.deltagrad.train.step}); after
 * each epoch, test accuracy (and, if asked, the per-layer learning-slowdown diagnostics).
 * Same configuration and seed, same thread count: the same numbers, bit for bit.
 */
public final class Trainer {

    /** Hooks for progress display; every method is optional. */
    public interface Listener {
        default void batch(int epoch, int samples, double loss) {}

        default void epoch(EpochStats stats) {}

        default void warning(String message) {}

        /** Once, before the first batch: which training step runs, e.g. "compiled: ..." or "eager: ...". */
        default void trainingStep(String description) {}
    }

    /** A finished run: the model, its architecture, and every epoch's figures. */
    public record Result(MlpSpec spec, Sequential model, List<EpochStats> epochs, long parameterCount) {
        public EpochStats last() {
            return epochs.get(epochs.size() - 1);
        }
    }

    private final TrainConfig config;

    public Trainer(TrainConfig config) {
        this.config = config.validate();
    }

    /** Trains on {@code data}; the kernels use {@code config.threads} threads meanwhile (0: leave as is). */
    public Result fit(Datasets.TrainTest data, Listener listener) {
        int threadsBefore = Parallel.threads();
        boolean setThreads = config.threads > 0 && config.threads != threadsBefore;
        if (setThreads) Parallel.setThreads(config.threads);
        try {
            return run(data, listener);
        } finally {
            if (setThreads) Parallel.setThreads(threadsBefore);
        }
    }

    private Result run(Datasets.TrainTest data, Listener listener) {
        Dataset train = data.train(), test = data.test();
        boolean mse = config.loss.equals("mse");
        MlpSpec spec = new MlpSpec(train.numFeatures(), config.hidden, train.numClasses(), config.activation, mse,
                train.classNames(), train.imageShape());
        Sequential model = spec.build(config.seed);
        Optimizer optimizer = optimizer(model.parameters());
        LrSchedule schedule = schedule();
        DataLoader loader = new DataLoader(train, config.batch).shuffled(config.seed);
        Diagnostics diagnostics = config.diagnostics ? new Diagnostics(model, config.activation, mse, test) : null;
        // The compiled step when it knows the model (the Trainer's always), else the eager reference step.
        TrainingStep step = TrainingStep.of(model, optimizer, lossKind(mse), config.clipNorm);
        if (listener != null) listener.trainingStep(step.description());
        Prefetcher prefetcher = new Prefetcher(loader);

        List<EpochStats> history = new ArrayList<>();
        for (int epoch = 1; epoch <= config.epochs; epoch++) {
            double lr = schedule.lr(epoch - 1);
            optimizer.setLearningRate(lr);
            model.train();
            long start = System.nanoTime();
            double lossSum = 0;
            long correct = 0, seen = 0;
            int batchIndex = 0;
            long forwardNs = 0, backwardNs = 0, stepNs = 0;
            Iterator<StepBatch> batches = prefetcher.epoch(epoch - 1);
            while (batches.hasNext()) {
                StepBatch b = batches.next();
                batchIndex++;
                long t0 = System.nanoTime();
                double value = step.forward(b);
                if (!Double.isFinite(value)) {
                    throw new TrainingDivergedException("the loss became " + value + " at epoch " + epoch + ", batch "
                            + batchIndex + " of " + loader.batchesPerEpoch() + "; training diverged: try a lower --lr (now "
                            + lr + ")" + (config.clipNorm == 0 ? " or --clip-norm 1" : ""));
                }
                long t1 = System.nanoTime();
                step.backward();
                long t2 = System.nanoTime();
                step.update();
                long t3 = System.nanoTime();
                forwardNs += t1 - t0;
                backwardNs += t2 - t1;
                stepNs += t3 - t2;
                lossSum += value * b.rows();
                seen += b.rows();
                correct += step.correct();
                if (listener != null) listener.batch(epoch, b.rows(), value);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double testAccuracy = config.evaluateEachEpoch || epoch == config.epochs
                    ? Evaluation.of(model, test, 1000).accuracy() : Double.NaN;
            List<LayerDiagnostics> diag = diagnostics == null ? null : diagnostics.measure();
            EpochStats stats = new EpochStats(epoch, lossSum / seen, (double) correct / seen, testAccuracy, seconds, lr, diag,
                    forwardNs / 1e9, backwardNs / 1e9, stepNs / 1e9);
            history.add(stats);
            if (listener != null) {
                listener.epoch(stats);
                if (diag != null) for (String w : diagnostics.warnings(diag, epoch)) listener.warning(w);
            }
        }
        return new Result(spec, model, history, model.parameterCount());
    }

    private Optimizer optimizer(List<Tensor> params) {
        return switch (config.optimizer) {
            case "sgd" -> new SGD(params, config.lr, 0, 0, false, config.weightDecay);
            case "momentum" -> new SGD(params, config.lr, config.momentum, 0, false, config.weightDecay);
            case "nesterov" -> new SGD(params, config.lr, config.momentum, 0, true, config.weightDecay);
            case "adam" -> new Adam(params, config.lr, 0.9, 0.999, 1e-8, config.weightDecay);
            case "adamw" -> new AdamW(params, config.lr, 0.9, 0.999, 1e-8, config.weightDecay == 0 ? 0.01 : config.weightDecay);
            case "rmsprop" -> new RMSprop(params, config.lr, 0.99, 1e-8, 0, config.weightDecay);
            default -> throw new IllegalArgumentException("unknown optimizer " + config.optimizer);
        };
    }

    private LrSchedule schedule() {
        return switch (config.schedule) {
            case "cosine" -> LrSchedule.cosine(config.lr, config.epochs, 0);
            case "step" -> LrSchedule.step(config.lr, Math.max(1, config.epochs / 3), 0.1);
            default -> LrSchedule.constant(config.lr);
        };
    }

    private static LossKind lossKind(boolean quadratic) {
        return quadratic ? LossKind.QUADRATIC : LossKind.CROSS_ENTROPY;
    }

    /** Per-layer δ, gradient norms and saturation on a fixed held-out batch. */
    static final class Diagnostics {
        private final Sequential model;
        private final Activation activation;
        private final boolean mse;
        private final Tensor x;
        private final int[] labels;

        Diagnostics(Sequential model, Activation activation, boolean mse, Dataset heldOut) {
            this.model = model;
            this.activation = activation;
            this.mse = mse;
            int n = Math.min(1000, heldOut.size());
            int[] rows = new int[n];
            for (int i = 0; i < n; i++) rows[i] = i;
            this.x = heldOut.features(rows);
            this.labels = heldOut.labels(rows);
        }

        List<LayerDiagnostics> measure() {
            model.eval();
            List<Tensor> zs = new ArrayList<>(), activations = new ArrayList<>(), weights = new ArrayList<>(), biases = new ArrayList<>();
            Tensor a = x;
            for (Module layer : model.layers()) {
                a = layer.forward(a);
                if (layer instanceof Linear lin) {
                    zs.add(a);
                    activations.add(null);
                    weights.add(lin.weight());
                    biases.add(lin.bias());
                } else {
                    activations.set(activations.size() - 1, a);
                }
            }
            Tensor loss = EagerStep.loss(lossKind(mse), a, labels);
            List<Tensor> targets = new ArrayList<>(zs);
            targets.addAll(weights);
            targets.addAll(biases);
            List<Tensor> g = Autograd.grad(loss, targets, false);
            int layers = zs.size();
            List<LayerDiagnostics> out = new ArrayList<>();
            try (Autograd.Scope s = Autograd.noGrad()) {
                for (int l = 0; l < layers; l++) {
                    Tensor delta = g.get(l);
                    double meanAbsDelta = delta.abs().mean().item();
                    double wNorm = Math.sqrt(g.get(layers + l).square().sum().item());
                    double bNorm = Math.sqrt(g.get(2 * layers + l).square().sum().item());
                    Tensor act = activations.get(l);
                    double saturated = act == null ? Double.NaN
                            : activation.derivativeFromOutput(act).lt(0.01).mean().item();
                    out.add(new LayerDiagnostics(l + 1, meanAbsDelta, wNorm, bNorm, saturated));
                }
            }
            model.train();
            return out;
        }

        private final java.util.Set<Integer> warned = new java.util.HashSet<>();

        /** One warning per layer, the first epoch it is mostly saturated (not a flood every epoch). */
        List<String> warnings(List<LayerDiagnostics> diag, int epoch) {
            List<String> w = new ArrayList<>();
            for (LayerDiagnostics d : diag) {
                if (d.saturatedFraction() > 0.5 && warned.add(d.layer())) {
                    w.add(String.format(java.util.Locale.ROOT, "epoch %d: layer %d is mostly saturated (%.0f%% of units have "
                            + "f'(z) < 0.01), so it learns slowly; try a smaller --lr, another --activation or the "
                            + "cross-entropy loss", epoch, d.layer(), 100 * d.saturatedFraction()));
                }
            }
            return w;
        }
    }
}
