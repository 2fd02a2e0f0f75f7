package org.deltagrad.spark;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deltagrad.cli.Json;
import org.deltagrad.cli.Plots;
import org.deltagrad.cli.TrainCommand;
import org.deltagrad.cli.TrainOptions;
import org.deltagrad.data.Datasets;
import org.deltagrad.io.ModelFile;
import org.deltagrad.nn.Architecture;
import org.deltagrad.train.EpochStats;
import org.deltagrad.train.TrainConfig;
import org.deltagrad.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code spark-submit --class org.deltagrad.spark.SparkTrain deltagrad-spark.jar <train flags>} (or
 * {@code ./deltagrad spark-train}): {@code deltagrad train} on Spark, with the same flags and defaults plus
 * {@code --master} and {@code --partitions}, the same progress lines and the same model file.
 */
@Command(name = "spark-train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a multilayer perceptron (--layers) or a convolutional network (--arch) by synchronous data-parallel backpropagation on Apache Spark.",
                "Same flags and same result as 'deltagrad train' (bit for bit with one partition)."})
public final class SparkTrain implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    TrainOptions options;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master, e.g. local[2] or spark://host:7077 (default: spark-submit's, else local[*]).")
    String master;
    @Option(names = "--partitions", paramLabel = "K", description = "Data partitions, one task each per step (default: the cluster's default parallelism).")
    Integer partitions;
    @Option(names = "--epochs", paramLabel = "N", description = "Passes over the training set (default: 100 on spirals, 10 on the image sets).")
    Integer epochs;
    @Option(names = "--schedule", paramLabel = "NAME", description = "constant, cosine or step (default: cosine).")
    String schedule;
    @Option(names = "--out", paramLabel = "DIR", description = "Where the model, report and plot go: a directory, or a URI such as hdfs://host/dir (default: runs/<dataset>).")
    String out;

    /** The context to train with; null: one made from --master and closed at the end. */
    private final JavaSparkContext given;

    SparkTrain(JavaSparkContext given) {
        this.given = given;
    }

    public static void main(String[] args) {
        System.exit(run(null, new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command; exit code 0, 1 (failure) or 2 (bad flags). */
    static int run(JavaSparkContext sc, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new SparkTrain(sc)).setOut(out).setErr(err);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            err.println("deltagrad spark-train: " + (e instanceof Datasets.DownloadFailed d ? d.messageNaming("--data-dir DIR") : e.getMessage()));
            return 1;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter log = spec.commandLine().getOut();
        TrainConfig config = config();
        JavaSparkContext sc = given;
        if (sc == null) {
            SparkConf conf = new SparkConf().setAppName("deltagrad spark-train");
            if (master != null) conf.setMaster(master);
            else if (!conf.contains("spark.master")) conf.setMaster("local[*]");
            sc = new JavaSparkContext(conf);
        }
        try {
            int k = partitions != null ? partitions : sc.defaultParallelism();
            TrainingData data = TrainingData.named(config.dataset, config.dataDir);
            Datasets.TrainTest loaded = data.get();
            SparkTrainer trainer = new SparkTrainer(config, k);
            log.printf(Locale.ROOT, "deltagrad spark-train: %s (%d train, %d test, %d features, %d classes), layers %s, %s, %s loss, %s lr=%s, batch %d, %d epoch%s%n",
                    config.dataset, loaded.train().size(), loaded.test().size(), loaded.train().numFeatures(),
                    loaded.train().numClasses(), config.describeLayers(), config.activation.id(), config.loss.id(),
                    config.optimizer.id(), Double.toString(config.lr), config.batch, config.epochs, config.epochs == 1 ? "" : "s");
            log.printf(Locale.ROOT, "Spark %s, master %s, %d partition%s%n", sc.version(), sc.master(), k, k == 1 ? "" : "s");
            int digits = String.valueOf(config.epochs).length();
            int rows = loaded.train().size();
            SparkTrainer.Result result = trainer.fit(sc, data, new SparkTrainer.Listener() {
                @Override
                public void epoch(EpochStats s, SparkTrainer.Timing t) {
                    log.printf(Locale.ROOT, "epoch %" + digits + "d/%d  loss %.4f  train acc %.4f  test acc %.4f  (%.1f s, %.0f samples/s, %.1f ms/step Spark overhead)%n",
                            s.epoch(), config.epochs, s.trainLoss(), s.trainAccuracy(), s.testAccuracy(), s.seconds(),
                            rows / s.seconds(), 1e3 * t.overheadPerStep());
                }
            });
            data.release();
            try (OutputDir dir = OutputDir.of(out != null ? out : Path.of("runs", config.dataset).toString(), sc.hadoopConfiguration())) {
                write(dir, config, k, sc, result, loaded.train(), log);
            }
            return 0;
        } finally {
            if (given == null) sc.stop();
        }
    }

    private static void write(OutputDir dir, TrainConfig config, int k, JavaSparkContext sc, SparkTrainer.Result result,
                              org.deltagrad.data.Dataset train, PrintWriter log) throws java.io.IOException {
        Path modelPath = dir.file("model.safetensors"), reportPath = dir.file("report.json"), plotPath = dir.file("loss.png");
        Path regionsPath = dir.file("regions.png");
        ModelFiles.save(modelPath, result.architecture(), result.model(), config.toMap());
        long parameters = result.model().parameterCount();
        Map<String, Object> report = TrainCommand.report(config,
                new Trainer.Result(result.architecture(), result.model(), result.epochs(), parameters));
        report.put("spark", sparkReport(sc, k, result));
        Json.write(reportPath, report);
        Plots.multiPanel(plotPath, "deltagrad spark-train: " + config.dataset, "epoch", TrainCommand.curves(result.epochs()));
        List<Path> outputs = new ArrayList<>(List.of(modelPath, ModelFile.configPath(modelPath), reportPath, plotPath));
        Trainer.Result asTrainer = new Trainer.Result(result.architecture(), result.model(), result.epochs(), parameters);
        if (train.numFeatures() == 2) { // as train does: what the network learned, over the plane
            TrainCommand.decisionRegions(regionsPath, asTrainer, train);
            outputs.add(regionsPath);
        }
        EpochStats last = result.last();
        log.printf(Locale.ROOT, "test accuracy %.4f after %d epoch%s (%d parameters)%n", last.testAccuracy(), last.epoch(),
                last.epoch() == 1 ? "" : "s", parameters);
        for (String p : dir.publish(outputs)) {
            log.println("wrote " + p);
        }
    }

    /** Where the run went: the master, the partitions, and each epoch's step time and Spark overhead. */
    private static Map<String, Object> sparkReport(JavaSparkContext sc, int partitions, SparkTrainer.Result result) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", sc.version());
        m.put("master", sc.master());
        m.put("partitions", partitions);
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (SparkTrainer.Timing t : result.timings()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("steps", t.steps());
            e.put("step_seconds", t.stepSeconds());
            e.put("compute_seconds", t.computeSeconds());
            e.put("overhead_seconds_per_step", t.overheadPerStep());
            epochs.add(e);
        }
        m.put("epochs", epochs);
        return m;
    }

    /** train's flags and defaults, then this command's own; a bad value is a usage error naming its flag. */
    private TrainConfig config() {
        if (options.hasOwnData()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--data is not supported by spark-train "
                    + "(its workers read the built-in datasets); use train");
        }
        TrainConfig c = options.config(spec);
        if (epochs != null) c.epochs = epochs;
        try {
            if (partitions != null && partitions < 1) {
                throw new IllegalArgumentException("--partitions must be at least 1 (got " + partitions + ")");
            }
            if (schedule != null) c.schedule = TrainConfig.ScheduleKind.parse(schedule);
            // The partitions build the network without dropout: refused rather than silently trained without it.
            if (c.dropout > 0) throw new IllegalArgumentException("--dropout is not supported by spark-train (got " + c.dropout + ")");
            if (c.layers().stream().anyMatch(l -> l instanceof Architecture.Drop)) {
                throw new IllegalArgumentException("--arch: dropout layers are not supported by spark-train (got " + c.arch + ")");
            }
            // Each partition would normalise with its own rows' statistics and keep the running ones to itself.
            if (c.layers().stream().anyMatch(l -> l instanceof Architecture.Norm)) {
                throw new IllegalArgumentException("--arch: bn layers are not supported by spark-train (got " + c.arch + ")");
            }
            return c.validate();
        } catch (IllegalArgumentException e) {
            throw TrainOptions.usageError(spec, e);
        }
    }
}
