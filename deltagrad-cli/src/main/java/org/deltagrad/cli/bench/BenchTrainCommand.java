package org.deltagrad.cli.bench;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.deltagrad.cli.Json;
import org.deltagrad.cli.TrainOptions;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.nn.Architecture;
import org.deltagrad.train.EpochStats;
import org.deltagrad.train.TrainConfig;
import org.deltagrad.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code deltagrad bench train}: the training flags of {@code train}, then warm-up epochs and timed epochs with
 * no evaluation in between; reports the median epoch time and its spread, GFLOP/s of the matrix products, the
 * forward/backward/step split and the allocation rate of the training thread.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time training epochs with the data, model and step flags of 'deltagrad train'.",
                "Constant learning rate, no evaluation between epochs, nothing written; the median of the timed "
                        + "epochs after warm-up; --json prints one object."})
public final class BenchTrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    TrainOptions train;

    /**
     * Three, like {@code bench/compare.sh}: on two cores the JIT compiles the training step for about the first
     * two and a half seconds (docs/PERFORMANCE.md, "Warm-up"), which at batch 64 is two to three epochs.
     */
    @Option(names = "--warmup", paramLabel = "N",
            description = "Untimed epochs first, while the JIT compiles (default: ${DEFAULT-VALUE}).")
    int warmup = 3;
    @Option(names = "--timed", paramLabel = "N", description = "Timed epochs (default: ${DEFAULT-VALUE}).")
    int timed = 5;
    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (warmup < 0 || timed < 1) throw new IllegalArgumentException("--warmup must be >= 0 and --timed >= 1");
        TrainConfig config = train.config(spec);
        config.epochs = warmup + timed;
        config.schedule = TrainConfig.ScheduleKind.CONSTANT;
        config.evaluateEachEpoch = false;
        long loadStart = System.nanoTime();
        Datasets.TrainTest data = train.load(spec, config);
        double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
        long jvmStartMillis = ManagementFactory.getRuntimeMXBean().getStartTime();
        double[] firstStep = {Double.NaN};
        int threads = config.threads > 0 ? config.threads : Parallel.threads();
        int samples = data.train().size();

        var threadBean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long threadId = Thread.currentThread().getId();
        List<Long> allocated = new ArrayList<>();
        long[] last = {threadBean.getThreadAllocatedBytes(threadId)};
        String[] trainingStep = {""};
        List<Long> cpu = new ArrayList<>();
        long[] lastCpu = {threadBean.getThreadCpuTime(threadId)};
        Trainer.Result result = new Trainer(config).fit(data, new Trainer.Listener() {
            @Override
            public void batch(int epoch, int size, double loss) {
                // From JVM start to the end of the first training step, data loading excluded.
                if (Double.isNaN(firstStep[0])) firstStep[0] = (System.currentTimeMillis() - jvmStartMillis) / 1e3 - loadSeconds;
            }

            @Override
            public void trainingStep(String description) {
                trainingStep[0] = description;
            }

            @Override
            public void epoch(EpochStats stats) {
                long now = threadBean.getThreadAllocatedBytes(threadId);
                allocated.add(now - last[0]);
                last[0] = now;
                long cpuNow = threadBean.getThreadCpuTime(threadId);
                cpu.add(cpuNow - lastCpu[0]);
                lastCpu[0] = cpuNow;
            }
        });

        List<EpochStats> timedEpochs = result.epochs().subList(warmup, warmup + timed);
        double[] seconds = timedEpochs.stream().mapToDouble(EpochStats::seconds).toArray();
        double median = median(seconds);
        double forward = median(timedEpochs.stream().mapToDouble(EpochStats::forwardSeconds).toArray());
        double backward = median(timedEpochs.stream().mapToDouble(EpochStats::backwardSeconds).toArray());
        double step = median(timedEpochs.stream().mapToDouble(EpochStats::stepSeconds).toArray());
        double flops = matmulFlops(result.architecture()) * samples;
        double allocPerEpoch = median(allocated.subList(warmup, warmup + timed).stream().mapToDouble(Long::doubleValue).toArray());

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("config", config.toMap());
        r.put("backend", Gemm.backend().name());
        r.put("java", java());
        r.put("threads", threads);
        r.put("step", trainingStep[0]);
        r.put("samples_per_epoch", samples);
        r.put("median_epoch_seconds", median);
        r.put("epoch_seconds", seconds);
        // The warm-up epochs too: on a JVM they show the JIT compiling the hot code (see docs/PERFORMANCE.md).
        r.put("warmup_epoch_seconds", result.epochs().subList(0, warmup).stream().mapToDouble(EpochStats::seconds).toArray());
        // The training thread's CPU time (the pool's workers not counted): on a busy machine it moves less than the clock.
        r.put("median_epoch_cpu_seconds", median(cpu.subList(warmup, warmup + timed).stream().mapToDouble(c -> c / 1e9).toArray()));
        r.put("min_epoch_seconds", Arrays.stream(seconds).min().orElse(Double.NaN));
        r.put("max_epoch_seconds", Arrays.stream(seconds).max().orElse(Double.NaN));
        r.put("gflops", flops / median / 1e9);
        r.put("forward_seconds", forward);
        r.put("backward_seconds", backward);
        r.put("step_seconds", step);
        r.put("forward_backward_ratio", (forward + backward) / forward);
        r.put("allocated_mb_per_epoch", allocPerEpoch / 1e6);
        r.put("allocated_bytes_per_step", allocPerEpoch / Math.ceil((double) samples / config.batch));
        r.put("startup_seconds", firstStep[0]);
        r.put("data_loading_seconds", loadSeconds);
        r.put("final_train_loss", result.last().trainLoss());
        r.put("final_test_accuracy", result.last().testAccuracy());

        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.print(Json.toJson(r));
            out.println();
            return 0;
        }
        out.printf(Locale.ROOT, "bench train: %s, layers %s, %s, batch %d, %s; GEMM %s, %d threads; Java %s%n", config.dataset,
                result.architecture(), config.activation.id(), config.batch, config.optimizer.id(),
                Gemm.backend().name(), threads, java());
        out.printf(Locale.ROOT, "epoch seconds (%d timed after %d warm-up): median %.3f, min %.3f, max %.3f%n", timed, warmup,
                median, r.get("min_epoch_seconds"), r.get("max_epoch_seconds"));
        if (warmup > 0) {
            StringBuilder w = new StringBuilder();
            for (double x : (double[]) r.get("warmup_epoch_seconds")) w.append(w.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", x));
            out.printf(Locale.ROOT, "warm-up epochs (the JIT compiling): %s s%n", w);
        }
        out.printf(Locale.ROOT, "training step: %s%n", trainingStep[0]);
        // The compiled step may update parameters during the backward pass: those updates are timed as backward.
        out.printf(Locale.ROOT, "matmul GFLOP/s: %.1f; forward %.3f s, backward %.3f s (updates made during it included), "
                + "step %.3f s per epoch; forward+backward = %.2f x forward%n", flops / median / 1e9, forward, backward, step,
                (forward + backward) / forward);
        out.printf(Locale.ROOT, "allocated on the training thread: %.1f MB per epoch (%.0f bytes per step)%n",
                allocPerEpoch / 1e6, (double) r.get("allocated_bytes_per_step"));
        out.printf(Locale.ROOT, "start-up to the end of the first training step: %.2f s (data loading, %.2f s, excluded)%n",
                firstStep[0], loadSeconds);
        return 0;
    }

    /**
     * Floating-point operations of the convolutions and matrix products per example: 2 per multiply-add forward, 4
     * backward (weights' and input's gradients), less the first layer's input gradient, which nobody needs.
     */
    static double matmulFlops(Architecture architecture) {
        long first = architecture.stages().stream().mapToLong(Architecture.Stage::multiplyAdds).filter(m -> m > 0).findFirst().orElse(0);
        return 6.0 * architecture.multiplyAdds() - 2.0 * first;
    }

    /** The JVM that ran the benchmark, e.g. "25.0.3+9-LTS (Eclipse Adoptium)": the timings depend on it. */
    private static String java() {
        String vendor = System.getProperty("java.vendor", "");
        return Runtime.version() + (vendor.isEmpty() ? "" : " (" + vendor + ")");
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
