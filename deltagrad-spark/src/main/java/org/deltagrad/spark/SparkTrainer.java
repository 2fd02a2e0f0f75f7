package org.deltagrad.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deltagrad.Tensor;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.Module;
import org.deltagrad.nn.Sequential;
import org.deltagrad.optim.GradClip;
import org.deltagrad.optim.LrSchedule;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.train.EpochStats;
import org.deltagrad.train.Evaluation;
import org.deltagrad.train.TrainConfig;
import org.deltagrad.train.TrainingDivergedException;

/**
 * Synchronous data-parallel training on Spark whose result is the single-machine result. The driver owns the model
 * and the optimiser; the training rows are cached on the executors as one contiguous shard per partition. Each step
 * the driver broadcasts the weights and the batch's row indices (batch b of epoch e is exactly the rows the
 * single-machine loader gives for (seed, e, b)), every partition returns the gradient of (Σ its rows' losses)/B,
 * and the driver sums them in partition order ({@code collect}, not {@code treeAggregate}, whose merge order follows
 * task finish order), clips, steps and destroys the broadcast. A retried task computes the same bits.
 *
 * <p>With one partition the result equals the single-machine step's bit for bit; with k partitions it equals the
 * same split run on one machine bit for bit, and the single-machine result within float rounding (the k partial
 * matrix products and their sum round differently from one product over the whole batch).
 */
public final class SparkTrainer {

    /** Progress hooks; every method is optional. */
    public interface Listener {
        default void epoch(EpochStats stats, Timing timing) {}
    }

    /** Where an epoch's time went: the steps' wall time, and within it the slowest partition's compute per step. */
    public record Timing(int steps, double stepSeconds, double computeSeconds) {
        /** What Spark adds per step (broadcast, scheduling, collect, the driver's sum and optimiser step). */
        public double overheadPerStep() {
            return steps == 0 ? 0 : (stepSeconds - computeSeconds) / steps;
        }
    }

    /** A finished run: the model, its architecture, and every epoch's figures. */
    public record Result(Architecture architecture, Sequential model, List<EpochStats> epochs, List<Timing> timings) {
        public EpochStats last() {
            return epochs.get(epochs.size() - 1);
        }
    }

    private final TrainConfig config;
    private final int partitions;
    private long failStep = -1;
    private int failPartition = -1;

    public SparkTrainer(TrainConfig config, int partitions) {
        this.config = config.validate();
        if (partitions < 1) throw new IllegalArgumentException("spark-train: --partitions must be at least 1, got " + partitions);
        this.partitions = partitions;
    }

    /** Test hook: the first attempt of {@code partition}'s task at step {@code step} (from 0) throws. */
    SparkTrainer failingOnce(long step, int partition) {
        this.failStep = step;
        this.failPartition = partition;
        return this;
    }

    /** Trains on {@code data} with the executors of {@code sc}. */
    public Result fit(JavaSparkContext sc, TrainingData data, Listener listener) {
        Datasets.TrainTest local = data.get();
        int n = local.train().size(), k = partitions;
        if (k > n) throw new IllegalArgumentException("spark-train: " + k + " partitions for " + n + " training rows; use at most " + n);
        JavaRDD<Shard> shards = sc.parallelize(placeholders(k), k).mapPartitionsWithIndex((p, ignored) -> {
            Dataset train = data.get().train();
            int first = Shard.start(p, k, train.size());
            return List.of(Shard.of(p, train, first, Shard.start(p + 1, k, train.size()) - first)).iterator();
        }, true).persist(StorageLevel.MEMORY_ONLY());
        try {
            checkShards(shards.map(s -> new int[] {s.partition, s.first, s.size, s.features}).collect(), local.train(), k);
            return run(local, step -> onSpark(sc, shards, step), listener);
        } finally {
            shards.unpersist(false);
        }
    }

    /** The executors must have loaded the driver's rows: a different file at the same path would train on other data. */
    private static void checkShards(List<int[]> shards, Dataset train, int k) {
        if (shards.size() != k) throw new IllegalStateException("spark-train: " + shards.size() + " shards cached for " + k + " partitions");
        int n = train.size();
        for (int[] s : shards) {
            int p = s[0], first = Shard.start(p, k, n), size = Shard.start(p + 1, k, n) - first;
            if (s[1] != first || s[2] != size || s[3] != train.numFeatures()) {
                throw new IllegalStateException("spark-train: partition " + p + " loaded rows " + s[1] + ".." + (s[1] + s[2])
                        + " with " + s[3] + " features, expected rows " + first + ".." + (first + size) + " with "
                        + train.numFeatures() + "; do the executors read the same dataset as the driver?");
            }
        }
    }

    /** The same split as {@link #fit}, the partitions computed one after another on this machine. */
    Result fitLocally(TrainingData data, Listener listener) {
        Dataset train = data.get().train();
        int n = train.size(), k = partitions;
        List<Shard> shards = new ArrayList<>();
        for (int p = 0; p < k; p++) shards.add(Shard.of(p, train, Shard.start(p, k, n), Shard.start(p + 1, k, n) - Shard.start(p, k, n)));
        return run(data.get(), step -> {
            List<PartialGradient> parts = new ArrayList<>();
            for (Shard s : shards) parts.add(PartitionGradient.compute(step.shape, step.input, s));
            return parts;
        }, listener);
    }

    /** One step's partial gradients, in partition order. */
    private interface Workers {
        List<PartialGradient> step(Step step);
    }

    private record Step(ModelShape shape, StepInput input) {}

    private List<PartialGradient> onSpark(JavaSparkContext sc, JavaRDD<Shard> shards, Step step) {
        Broadcast<StepInput> input = sc.broadcast(step.input);
        try {
            return shards.mapPartitions(new TaskFunction(step.shape, input, config.threads, failStep, failPartition)).collect();
        } finally {
            input.destroy();
        }
    }

    /** A partition's task: one shard in, its partial gradient out, on as many kernel threads as the task has CPUs. */
    private static final class TaskFunction implements FlatMapFunction<Iterator<Shard>, PartialGradient> {
        private static final long serialVersionUID = 1L;
        private final ModelShape shape;
        private final Broadcast<StepInput> input;
        /** Kernel threads per task: --threads, else the task's CPUs (spark.task.cpus). */
        private final int threads;
        private final long failStep;
        private final int failPartition;

        TaskFunction(ModelShape shape, Broadcast<StepInput> input, int threads, long failStep, int failPartition) {
            this.shape = shape;
            this.input = input;
            this.threads = threads;
            this.failStep = failStep;
            this.failPartition = failPartition;
        }

        @Override
        public Iterator<PartialGradient> call(Iterator<Shard> shards) {
            TaskContext task = TaskContext.get();
            StepInput step = input.value();
            if (step.step == failStep && task.partitionId() == failPartition && task.attemptNumber() == 0) {
                throw new IllegalStateException("injected failure: step " + step.step + ", partition " + failPartition);
            }
            try (Parallel.Scope scope = Parallel.withThreads(threads > 0 ? threads : Math.max(1, task.cpus()))) {
                return PartitionGradient.over(shape, step, shards);
            }
        }
    }

    private Result run(Datasets.TrainTest data, Workers workers, Listener listener) {
        Dataset train = data.train(), test = data.test();
        boolean quadratic = config.loss == TrainConfig.LossKind.MSE;
        Architecture spec = config.architecture(train);
        ModelShape shape = new ModelShape(spec);
        Sequential model = spec.build(config.seed);
        List<Tensor> params = parameters(model);
        Optimizer optimizer = config.newOptimizer(params);
        LrSchedule schedule = config.newSchedule();
        DataLoader loader = new DataLoader(train, config.batch).shuffled(config.seed);
        int batches = loader.batchesPerEpoch();
        List<EpochStats> history = new ArrayList<>();
        List<Timing> timings = new ArrayList<>();
        long stepNumber = 0;
        optimizer.zeroGrad();
        for (int epoch = 1; epoch <= config.epochs; epoch++) {
            double lr = schedule.lr(epoch - 1);
            optimizer.setLearningRate(lr);
            model.train(); // evaluation left it in eval mode
            long start = System.nanoTime(), computeNanos = 0;
            double lossSum = 0;
            long correct = 0, seen = 0;
            int[] order = loader.order(epoch - 1);
            for (int b = 0; b < batches; b++) {
                int[] rows = Arrays.copyOfRange(order, b * config.batch, Math.min((b + 1) * config.batch, order.length));
                float[][] weights = new float[params.size()][];
                for (int i = 0; i < weights.length; i++) weights[i] = params.get(i).toFloatArray();
                List<PartialGradient> parts = workers.step(new Step(shape, new StepInput(weights, rows, stepNumber++)));
                if (parts.size() != partitions) {
                    throw new IllegalStateException("spark-train: " + parts.size() + " partial gradients for " + partitions + " partitions");
                }
                double total = 0;
                long slowest = 0;
                float[][] sum = null;
                for (PartialGradient part : parts) { // partition order: the sum's rounding is fixed
                    total += part.lossSum;
                    correct += part.correct;
                    slowest = Math.max(slowest, part.computeNanos);
                    if (part.rows == 0) continue;
                    if (sum == null) {
                        sum = new float[part.grads.length][];
                        for (int i = 0; i < sum.length; i++) sum[i] = part.grads[i].clone();
                    } else {
                        for (int i = 0; i < sum.length; i++) add(sum[i], part.grads[i]);
                    }
                }
                computeNanos += slowest;
                // The loss as the whole-batch op rounds it: the mean in double, then to float32.
                double value = (float) (quadratic ? total / (2.0 * rows.length) : total / rows.length);
                if (!Double.isFinite(value)) {
                    throw new TrainingDivergedException("the loss became " + value + " at epoch " + epoch + ", batch " + (b + 1)
                            + " of " + batches + "; training diverged: try a lower --lr (now " + lr + ")");
                }
                for (int i = 0; i < params.size(); i++) params.get(i).setGrad(Tensor.of(sum[i], params.get(i).shape()));
                if (config.clipNorm > 0) GradClip.clipGradNorm(params, config.clipNorm);
                optimizer.step();
                optimizer.zeroGrad();
                lossSum += value * rows.length;
                seen += rows.length;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double testAccuracy = config.evaluateEachEpoch || epoch == config.epochs
                    ? Evaluation.of(model, test, 1000).accuracy() : Double.NaN;
            EpochStats stats = new EpochStats(epoch, lossSum / seen, (double) correct / seen, testAccuracy, seconds, lr, null,
                    0, 0, 0);
            Timing timing = new Timing(batches, seconds, computeNanos / 1e9);
            history.add(stats);
            timings.add(timing);
            if (listener != null) listener.epoch(stats, timing);
        }
        return new Result(spec, model, history, timings);
    }

    /** The parameters in {@code namedParameters()} order: the order weights and gradients travel in. */
    static List<Tensor> parameters(Module model) {
        return new ArrayList<>(model.namedParameters().values());
    }

    private static void add(float[] into, float[] g) {
        for (int j = 0; j < into.length; j++) into[j] += g[j];
    }

    /** One element per partition: the partition's index, not the element, says which rows it loads. */
    private static List<Integer> placeholders(int k) {
        return new ArrayList<>(java.util.Collections.nCopies(k, 0));
    }
}
