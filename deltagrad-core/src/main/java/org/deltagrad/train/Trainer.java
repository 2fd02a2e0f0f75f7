package org.deltagrad.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.AnomalyException;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.BatchNorm;
import org.deltagrad.nn.Conv2d;
import org.deltagrad.nn.Dropout;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.Module;
import org.deltagrad.nn.Sequential;
import org.deltagrad.optim.LrSchedule;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.train.step.EagerStep;
import org.deltagrad.train.step.Prefetcher;
import org.deltagrad.train.step.StepBatch;
import org.deltagrad.train.step.TrainingStep;

/**
 * Mini-batch training of a model an {@link Architecture} describes (a multilayer perceptron or a convolutional network): for each batch, forward, loss, backward, optimiser step (by the
 * compiled {@link TrainingStep}, which is tested against the eager one, see {@code org.deltagrad.train.step}); after
 * each epoch, test accuracy (and, if asked, the per-layer learning-slowdown diagnostics).
 * Same configuration and seed: the same numbers, bit for bit, on any thread count.
 *
 * <p>Threads. A fit runs on the calling thread, with the kernels' shared worker pool. Fits on separate threads
 * (of one Trainer or several) each build their own model, optimiser and step; what they share is that pool, and
 * each runs with its own thread count ({@link Parallel#withThreads}). A model must not be
 * trained by two fits or optimisers at once; it may be evaluated from other threads once training returned.
 * {@link TrainConfig#detectAnomaly} runs every step eagerly inside {@link Autograd#detectAnomaly()}.
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
    public record Result(Architecture architecture, Sequential model, List<EpochStats> epochs, long parameterCount) {
        public EpochStats last() {
            return epochs.get(epochs.size() - 1);
        }
    }

    private final TrainConfig config;
    private Path checkpointFile;
    private Map<String, String> checkpointNotes = Map.of();
    private Checkpoint resumeFrom;

    public Trainer(TrainConfig config) {
        this.config = config.validate();
    }

    /**
     * Writes a {@link Checkpoint} to {@code file} atomically before the first epoch and after every epoch (those in a
     * background thread; the last is on disk when {@link #fit} returns), with {@code notes} (the caller's, e.g. where
     * its outputs go) in it; returns this.
     */
    public Trainer checkpointTo(Path file, Map<String, String> notes) {
        this.checkpointFile = file;
        this.checkpointNotes = Map.copyOf(notes);
        return this;
    }

    /**
     * Continues the run {@code checkpoint} recorded instead of starting afresh: the result is the one the run
     * would have had without the interruption, bit for bit. This trainer's configuration must be the recorded one
     * (the thread count aside); returns this.
     */
    public Trainer resumeFrom(Checkpoint checkpoint) {
        this.resumeFrom = checkpoint;
        return this;
    }

    /**
     * Trains on {@code data}; this call's kernels use {@code config.threads} threads (0: the caller's count), through a
     * {@link Parallel#withThreads} scope, so that concurrent fits with their own counts do not change each other's.
     */
    public Result fit(Datasets.TrainTest data, Listener listener) {
        if (config.threads <= 0) return run(data, listener);
        try (Parallel.Scope threads = Parallel.withThreads(config.threads)) {
            return run(data, listener);
        }
    }

    private Result run(Datasets.TrainTest data, Listener listener) {
        CheckpointWriter writer = checkpointFile == null ? null : new CheckpointWriter();
        try {
            Result result = epochs(data, listener, writer);
            if (writer != null) writer.finish(); // the last checkpoint is on disk when fit returns
            return result;
        } finally {
            if (writer != null) writer.abandon(); // on failure too, so no write goes on after fit
        }
    }

    private Result epochs(Datasets.TrainTest data, Listener listener, CheckpointWriter writer) {
        TrainingGuard guard = new TrainingGuard(config, data);
        Dataset train = data.train(), test = data.test();
        boolean mse = config.loss == TrainConfig.LossKind.MSE;
        Architecture spec = config.architecture(train);
        Sequential model = withDropout(spec.build(config.seed));
        Optimizer optimizer = config.newOptimizer(model.parameters());
        LrSchedule schedule = config.newSchedule();
        DataLoader loader = new DataLoader(train, config.batch).shuffled(config.seed);
        Diagnostics diagnostics = config.diagnostics ? new Diagnostics(model, config.activation, mse, test) : null;
        // The compiled step when it knows the model (the Trainer's always), else the eager reference step.
        TrainingStep step = config.detectAnomaly ? new EagerStep(model, optimizer, config.loss, config.clipNorm)
                : TrainingStep.of(model, optimizer, config.loss, config.clipNorm);
        if (listener != null) listener.trainingStep(step.description());
        Prefetcher prefetcher = new Prefetcher(loader);

        List<EpochStats> history = new ArrayList<>();
        Set<Integer> warned = diagnostics != null ? diagnostics.warned : new HashSet<>();
        if (resumeFrom != null) {
            resumeFrom.restore(config, model, optimizer, history, warned);
            guard.resumeWith(resumeFrom.firstLoss()); // the run's reference loss, not the resumed epoch's first batch
        }
        int firstEpoch = history.size() + 1;
        if (checkpointFile != null) {
            Checkpoint.deleteTemporaries(checkpointFile); // left by a run killed while writing one
            // at once, so that a run killed in its first epoch can be resumed
            if (resumeFrom == null) Checkpoint.snapshot(checkpointFile, config, 0, model, optimizer, history, warned, guard.firstLoss(), checkpointNotes).run();
        }
        optimizer.zeroGrad(); // the step leaves no gradients behind after it, so each step starts without any
        for (int epoch = firstEpoch; epoch <= config.epochs; epoch++) {
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
                try (Autograd.Scope anomaly = config.detectAnomaly ? Autograd.detectAnomaly() : null) {
                    long t0 = System.nanoTime();
                    double value = step.forward(b);
                    guard.checkLoss(epoch, batchIndex, loader.batchesPerEpoch(), value);
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
                } catch (AnomalyException e) {
                    throw e.in("epoch " + epoch + ", batch " + batchIndex + " of " + loader.batchesPerEpoch());
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            guard.checkWeights(epoch, batchIndex, model);
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
            // after the warnings, which it records as given
            if (writer != null) writer.submit(Checkpoint.snapshot(checkpointFile, config, epoch, model, optimizer, history, warned, guard.firstLoss(), checkpointNotes));
        }
        return new Result(spec, model, history, model.parameterCount());
    }

    /**
     * The network with dropout after the activation of each hidden fc layer, as one unit with it (no parameters), so
     * parameter names, and the saved model, are those of the network without dropout.
     */
    private Sequential withDropout(Sequential net) {
        if (config.dropout == 0) return net;
        Sequential out = new Sequential();
        for (int i = 0; i < net.size(); i++) {
            Module layer = net.get(i);
            int before = i > 0 && net.get(i - 1) instanceof BatchNorm ? i - 2 : i - 1; // fc, bn, activation
            boolean hiddenActivation = isActivation(layer, config.activation) && before >= 0 && net.get(before) instanceof Linear
                    && i + 1 < net.size();
            out.add(hiddenActivation ? new Sequential(layer, new Dropout(config.dropout, config.seed * 31 + i)) : layer);
        }
        return out;
    }

    /** Whether {@code layer} is the architecture's activation (or --dropout's unit of it and its dropout). */
    private static boolean isActivation(Module layer, Activation activation) {
        Module m = layer instanceof Sequential unit && unit.size() > 0 ? unit.get(0) : layer;
        return m.getClass() == activation.module().getClass();
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
            // Each Linear and Conv2d is a layer: δ is the gradient of its output, saturation that of the activation after it.
            for (Module layer : model.layers()) {
                a = layer.forward(a);
                if (layer instanceof Linear || layer instanceof Conv2d) {
                    zs.add(a);
                    activations.add(null);
                    weights.add(layer instanceof Linear lin ? lin.weight() : ((Conv2d) layer).weight());
                    biases.add(layer instanceof Linear lin ? lin.bias() : ((Conv2d) layer).bias());
                } else if (!zs.isEmpty() && activations.get(activations.size() - 1) == null && isActivation(layer, activation)) {
                    activations.set(activations.size() - 1, a);
                }
            }
            Tensor loss = EagerStep.loss(mse ? TrainConfig.LossKind.MSE : TrainConfig.LossKind.CROSS_ENTROPY, a, labels);
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

        final Set<Integer> warned = new HashSet<>();

        /** One warning per layer, the first epoch it is mostly saturated (not a flood every epoch). */
        List<String> warnings(List<LayerDiagnostics> diag, int epoch) {
            List<String> w = new ArrayList<>();
            for (LayerDiagnostics d : diag) {
                if (d.saturatedFraction() > 0.5 && warned.add(d.layer())) {
                    w.add(String.format(java.util.Locale.ROOT, "epoch %d: layer %d is mostly saturated (%.0f%% of units have "
                            + "f'(z) < 0.01), so it learns slowly; try a smaller learning rate, another activation or the "
                            + "cross-entropy loss", epoch, d.layer(), 100 * d.saturatedFraction()));
                }
            }
            return w;
        }
    }
}
