package org.deltagrad.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.data.InputSpec;
import org.deltagrad.io.ModelFile;
import org.deltagrad.nn.Architecture;
import org.deltagrad.train.Checkpoint;
import org.deltagrad.train.EpochStats;
import org.deltagrad.train.Evaluation;
import org.deltagrad.train.LayerDiagnostics;
import org.deltagrad.train.TrainConfig;
import org.deltagrad.train.Trainer;
import org.deltagrad.train.TrainingDivergedException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code deltagrad train}: trains a model (--layers or --arch) and writes the model, a report and pictures. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a multilayer perceptron (--layers) or a convolutional network (--arch) by mini-batch backpropagation.",
                "Without flags: the built-in 3-class spirals set, in seconds; writes the model, report.json, "
                        + "loss.png and regions.png (what it learned) to runs/spirals/."})
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    TrainOptions options;

    @Option(names = "--epochs", paramLabel = "N", description = "Passes over the training set (default: 100 on spirals, 10 on the image sets).")
    Integer epochs;
    @Option(names = "--schedule", paramLabel = "NAME", description = "Learning-rate schedule: constant, cosine or step (default: cosine).")
    String schedule;
    @Option(names = "--diagnostics", description = "Record per-layer |delta|, gradient norms and saturated units each epoch.")
    boolean diagnostics;
    @Option(names = "--detect-anomaly", description = "Stop at the first op (forward or backward) that makes a NaN or an infinity from finite inputs, naming it and where it was created (slow: for debugging).")
    boolean detectAnomaly;
    @Option(names = "--out", paramLabel = "DIR", description = "Where outputs go unless named below (default: runs/<dataset>).")
    Path out;
    @Option(names = "--save", paramLabel = "FILE", description = "Model weights (.safetensors; architecture JSON beside it).")
    Path save;
    @Option(names = "--report", paramLabel = "FILE", description = "Report JSON: config, parameter count, per-epoch figures.")
    Path report;
    @Option(names = "--plot", paramLabel = "FILE", description = "Loss and accuracy curves (PNG).")
    Path plot;
    @Option(names = "--resume", paramLabel = "DIR", description = {"Continue the interrupted run whose output directory is DIR "
            + "(its " + Checkpoint.FILE_NAME + ") with its recorded configuration and outputs; it ends as the run would have "
            + "without the interruption, bit for bit. Only --threads may be given with it."})
    Path resume;

    /** Flags that do not change a run's bits, so they may come with --resume. */
    private static final Set<String> RESUME_FLAGS = Set.of("--resume", "--threads", Main.DEBUG);

    @Override
    public Integer call() throws Exception {
        PrintWriter log = spec.commandLine().getOut();
        Checkpoint checkpoint = resume == null ? null : checkpointToResume();
        TrainConfig config = checkpoint == null ? options.config(spec) : resumedConfig(checkpoint);
        if (epochs != null) config.epochs = epochs;
        config.diagnostics = diagnostics;
        config.detectAnomaly = detectAnomaly;
        try {
            if (schedule != null) config.schedule = TrainConfig.ScheduleKind.parse(schedule);
            config.validate();
        } catch (IllegalArgumentException e) {
            throw TrainOptions.usageError(spec, e);
        }
        OwnData own = checkpoint == null ? options.ownData(spec) : OwnData.fromNotes(checkpoint.notes(), checkpoint.file());
        InputSpec.Prepared prepared = OwnData.load(own, config);
        Datasets.TrainTest data = prepared.trainTest();
        Architecture architecture;
        try {
            architecture = config.architecture(data.train()); // a layer that does not fit the data is a usage error
        } catch (IllegalArgumentException e) {
            throw TrainOptions.usageError(spec, e);
        }
        Path dir = out != null ? out : Path.of("runs", config.dataset);
        Path modelPath = save != null ? save : dir.resolve("model.safetensors");
        Path reportPath = report != null ? report : dir.resolve("report.json");
        Path plotPath = plot != null ? plot : dir.resolve("loss.png");
        Path diagnosticsPath = plotPath.resolveSibling(stem(plotPath) + "-diagnostics.png");
        Path diagnosticsPage = plotPath.resolveSibling(stem(plotPath) + "-diagnostics.html");
        Path regionsPath = dir.resolve("regions.png");
        boolean regions = data.train().numFeatures() == 2;

        // Everything that can be known before a long run is checked before it: outputs, then memory.
        Map<String, Path> outputs = new LinkedHashMap<>();
        outputs.put(save != null ? "--save" : "the model", modelPath);
        outputs.put("the model's readable copy", ModelFile.configPath(modelPath));
        outputs.put(report != null ? "--report" : "the report", reportPath);
        outputs.put(plot != null ? "--plot" : "the loss plot", plotPath);
        if (config.diagnostics) {
            outputs.put("the diagnostics plot", diagnosticsPath);
            outputs.put("the diagnostics page", diagnosticsPage);
        }
        if (regions) outputs.put("the decision-regions picture", regionsPath);
        OutputPaths.check(outputs);
        checkMemory(config, architecture, data.train());

        Path checkpointPath = dir.resolve(Checkpoint.FILE_NAME);
        if (checkpoint != null && checkpoint.finished() && "written".equals(checkpoint.notes().get(OUTPUTS_WRITTEN))) {
            log.printf(Locale.ROOT, "%s: the run is complete (%d of %d epochs); its model is %s%n", dir, checkpoint.epoch(),
                    config.epochs, modelPath);
            return 0;
        }
        Map<String, String> notes = outputNotes(dir, modelPath, reportPath, plotPath);
        if (own != null) notes.putAll(own.notes());
        Trainer trainer = new Trainer(config).checkpointTo(checkpointPath, notes);
        if (checkpoint != null) trainer.resumeFrom(checkpoint);
        log.printf(Locale.ROOT, "deltagrad train: %s (%d train, %d test, %d features, %d classes), layers %s, %s, %s loss, %s lr=%s, batch %d, %d epoch%s%n",
                config.dataset, data.train().size(), data.test().size(), data.train().numFeatures(), data.train().numClasses(),
                config.describeLayers(), config.activation.id(), config.loss.id(), config.optimizer.id(),
                Double.toString(config.lr), config.batch, config.epochs, config.epochs == 1 ? "" : "s");
        if (config.arch != null) log.print(summary(architecture)); // --layers' header line says all there is
        log.println("GEMM backend: " + org.deltagrad.kernels.Gemm.backend().name());
        if (checkpoint != null) log.printf(Locale.ROOT, "resuming after epoch %d of %d from %s%n", checkpoint.epoch(), config.epochs, checkpoint.file());
        Trainer.Result result;
        try {
            result = trainer.fit(data, new ProgressListener(config, data.train().size(), log));
        } catch (TrainingDivergedException e) {
            // A diverged run resumed would diverge again (same configuration, same bits): its checkpoint goes too.
            try {
                Files.deleteIfExists(checkpointPath);
            } catch (java.io.IOException ignored) {
                // the message below is what matters; a leftover checkpoint only offers a resume that diverges again
            }
            throw new UserException(e.message(TrainOptions::flag) + " (nothing was written)", e);
        }

        Map<String, Object> reportJson = report(config, result);
        ModelFile.save(modelPath, result.architecture(), result.model(), config.toMap(),
                prepared.input() == null ? null : prepared.input().toMap());
        Json.write(reportPath, reportJson);
        Plots.multiPanel(plotPath, "deltagrad train: " + config.dataset, "epoch", curves(result.epochs()));
        List<Path> written = new ArrayList<>(List.of(modelPath, ModelFile.configPath(modelPath), reportPath, plotPath));
        if (config.diagnostics) {
            Plots.multiPanel(diagnosticsPath, "learning slowdown diagnostics", "epoch", diagnosticsPanels(result.epochs(), result.architecture().weightLayers()));
            written.add(diagnosticsPath);
            DiagnosticsPage.write(diagnosticsPage, "learning slowdown diagnostics: " + config.dataset, (List<?>) reportJson.get("epochs"));
            written.add(diagnosticsPage);
        }
        if (regions) {
            decisionRegions(regionsPath, result, data.train());
            written.add(regionsPath);
        }
        EpochStats last = result.last();
        log.printf(Locale.ROOT, "test accuracy %.4f after %d epoch%s (%d parameters)%n", last.testAccuracy(), last.epoch(),
                last.epoch() == 1 ? "" : "s", result.parameterCount());
        for (Path p : written) log.println("wrote " + p);
        Checkpoint.addNote(checkpointPath, OUTPUTS_WRITTEN, "written"); // a resume of this run has nothing left to do
        return 0;
    }

    private static final String OUTPUTS_WRITTEN = "outputs";

    /** The checkpoint {@code --resume} names; any other flag but {@link #RESUME_FLAGS} is a usage error. */
    private Checkpoint checkpointToResume() {
        for (picocli.CommandLine.Model.OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            if (!RESUME_FLAGS.contains(o.longestName())) {
                throw new ParameterException(spec.commandLine(), o.longestName() + " cannot be given with --resume: a run continues "
                        + "with its recorded configuration (only --threads may change)");
            }
        }
        return Checkpoint.read(Files.isRegularFile(resume) ? resume : resume.resolve(Checkpoint.FILE_NAME));
    }

    /** The recorded configuration and output paths, as if they had been given as flags. */
    private TrainConfig resumedConfig(Checkpoint checkpoint) {
        TrainConfig config = checkpoint.config();
        if (options.threads != null) config.threads = options.threads;
        diagnostics = config.diagnostics;
        Path parent = checkpoint.file().getParent();
        out = parent != null ? parent : Path.of("");
        Map<String, String> notes = checkpoint.notes();
        save = out.resolve(notes.getOrDefault("model", "model.safetensors"));
        report = out.resolve(notes.getOrDefault("report", "report.json"));
        plot = out.resolve(notes.getOrDefault("plot", "loss.png"));
        return config;
    }

    /** Where the outputs go, relative to the output directory when inside it, so a moved run directory still resumes. */
    private static Map<String, String> outputNotes(Path dir, Path model, Path report, Path plot) {
        Path base = dir.toAbsolutePath().normalize();
        Map<String, String> notes = new LinkedHashMap<>();
        Map.of("model", model, "report", report, "plot", plot).forEach((k, p) -> {
            Path a = p.toAbsolutePath().normalize();
            notes.put(k, (a.startsWith(base) ? base.relativize(a) : a).toString());
        });
        return notes;
    }

    /** The 200 x 200 grid {@link #decisionRegions} classifies in one forward pass. */
    private static final int REGION_GRID = 200;

    /**
     * Refuses a network that cannot fit before training it: weights, gradients and the optimiser's state per
     * parameter, plus the activations of the largest forward pass (a batch, the evaluation's 1000 rows, or the
     * decision-regions grid).
     */
    private static void checkMemory(TrainConfig config, Architecture architecture, Dataset train) {
        long parameters = architecture.parameterCount();
        int state = switch (config.optimizer) {
            case SGD -> 0;
            case ADAM, ADAMW -> 2;
            case MOMENTUM, NESTEROV, RMSPROP -> 1;
        };
        long rows = Math.max(Math.max(Math.min(config.batch, train.size()), 1000), train.numFeatures() == 2 ? REGION_GRID * REGION_GRID : 0);
        long perRow = train.numFeatures();
        for (Architecture.Stage s : architecture.stages()) perRow += numel(s.output());
        long activations = rows * perRow * Float.BYTES * 3;
        Memory.require(String.format(Locale.ROOT, "training the network %s (%,d parameters, each with its gradient%s)",
                architecture, parameters, state == 0 ? "" : " and " + state + " optimiser value" + (state > 1 ? "s" : "")),
                parameters * Float.BYTES * (2 + state) + activations,
                "use smaller " + (config.arch != null ? "--arch" : "--layers") + " or --batch");
    }

    private static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** The model, one line per module of the built Sequential: its index (as in the parameter names), output shape, parameters. */
    static String summary(Architecture architecture) {
        List<String[]> rows = new ArrayList<>();
        List<Architecture.Stage> stages = architecture.stages();
        for (int i = 0; i < stages.size(); i++) {
            Architecture.Stage s = stages.get(i);
            rows.add(new String[] {Integer.toString(i), s.module(), s.layer(), java.util.Arrays.toString(s.output()),
                    String.format(Locale.ROOT, "%,d", s.parameters())});
        }
        rows.add(new String[] {"", "total", "", "", String.format(Locale.ROOT, "%,d", architecture.parameterCount())});
        return Tables.render(new String[] {"#", "module", "layer", "output", "parameters"}, rows);
    }

    private static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    public static Map<String, Object> report(TrainConfig config, Trainer.Result result) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("config", config.toMap());
        r.put("architecture", result.architecture().toString());
        r.put("parameters", result.parameterCount());
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (EpochStats e : result.epochs()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e.epoch());
            m.put("train_loss", e.trainLoss());
            m.put("train_accuracy", e.trainAccuracy());
            m.put("test_accuracy", e.testAccuracy());
            m.put("seconds", e.seconds());
            m.put("lr", e.learningRate());
            if (e.diagnostics() != null) {
                List<Map<String, Object>> layers = new ArrayList<>();
                List<String> names = result.architecture().weightLayers();
                for (LayerDiagnostics d : e.diagnostics()) {
                    Map<String, Object> l = new LinkedHashMap<>();
                    l.put("layer", d.layer());
                    if (d.layer() <= names.size()) l.put("name", names.get(d.layer() - 1));
                    l.put("mean_abs_delta", d.meanAbsDelta());
                    l.put("weight_grad_norm", d.weightGradNorm());
                    l.put("bias_grad_norm", d.biasGradNorm());
                    l.put("saturated_fraction", d.saturatedFraction());
                    layers.add(l);
                }
                m.put("diagnostics", layers);
            }
            epochs.add(m);
        }
        r.put("epochs", epochs);
        r.put("test_accuracy", result.last().testAccuracy());
        return r;
    }

    public static List<Plots.Panel> curves(List<EpochStats> epochs) {
        Map<String, double[][]> loss = new LinkedHashMap<>(), acc = new LinkedHashMap<>();
        loss.put("train loss", series(epochs, EpochStats::trainLoss));
        acc.put("train accuracy", series(epochs, EpochStats::trainAccuracy));
        acc.put("test accuracy", series(epochs, EpochStats::testAccuracy));
        return List.of(new Plots.Panel("loss", loss), new Plots.Panel("accuracy", acc));
    }

    private static List<Plots.Panel> diagnosticsPanels(List<EpochStats> epochs, List<String> names) {
        Map<String, double[][]> delta = new LinkedHashMap<>(), sat = new LinkedHashMap<>(), wnorm = new LinkedHashMap<>();
        int layers = epochs.get(0).diagnostics().size();
        for (int l = 0; l < layers; l++) {
            int li = l;
            delta.put(layerName(l, names), series(epochs, e -> e.diagnostics().get(li).meanAbsDelta()));
            wnorm.put(layerName(l, names), series(epochs, e -> e.diagnostics().get(li).weightGradNorm()));
            if (!Double.isNaN(epochs.get(0).diagnostics().get(l).saturatedFraction())) {
                sat.put(layerName(l, names), series(epochs, e -> e.diagnostics().get(li).saturatedFraction()));
            }
        }
        return List.of(new Plots.Panel("mean |delta|", delta), new Plots.Panel("|dC/dw|", wnorm),
                new Plots.Panel("saturated fraction", sat));
    }

    /** "layer 1 (conv16x5)": the diagnostics' layers are the model's convs and fcs, in order. */
    private static String layerName(int l, List<String> names) {
        return "layer " + (l + 1) + (l < names.size() ? " (" + names.get(l) + ")" : "");
    }

    private static double[][] series(List<EpochStats> epochs, java.util.function.ToDoubleFunction<EpochStats> f) {
        double[][] s = new double[epochs.size()][];
        for (int i = 0; i < s.length; i++) s[i] = new double[] {epochs.get(i).epoch(), f.applyAsDouble(epochs.get(i))};
        return s;
    }

    /** Colours the plane by the class the network predicts, with the training points on top (2-feature data). */
    public static void decisionRegions(Path png, Trainer.Result result, Dataset train) throws java.io.IOException {
        double xmin = Double.MAX_VALUE, xmax = -Double.MAX_VALUE, ymin = Double.MAX_VALUE, ymax = -Double.MAX_VALUE;
        double[][] points = new double[train.size()][];
        for (int i = 0; i < train.size(); i++) {
            float[] r = train.row(i);
            points[i] = new double[] {r[0], r[1]};
            xmin = Math.min(xmin, r[0]);
            xmax = Math.max(xmax, r[0]);
            ymin = Math.min(ymin, r[1]);
            ymax = Math.max(ymax, r[1]);
        }
        double mx = 0.1 * (xmax - xmin), my = 0.1 * (ymax - ymin);
        xmin -= mx;
        xmax += mx;
        ymin -= my;
        ymax += my;
        int rows = REGION_GRID, cols = REGION_GRID;
        double[][] centers = Plots.gridCenters(xmin, xmax, ymin, ymax, rows, cols);
        float[] grid = new float[rows * cols * 2];
        for (int i = 0; i < centers.length; i++) {
            grid[2 * i] = (float) centers[i][0];
            grid[2 * i + 1] = (float) centers[i][1];
        }
        int[] predicted;
        result.model().eval();
        try (Autograd.Scope s = Autograd.noGrad()) {
            predicted = Evaluation.predictions(result.model().forward(Tensor.of(grid, rows * cols, 2)));
        }
        int[][] classGrid = new int[rows][cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) classGrid[r][c] = predicted[r * cols + c];
        Plots.decisionRegions(png, String.format(Locale.ROOT, "what the network learned (test accuracy %.3f)",
                result.last().testAccuracy()), xmin, xmax, ymin, ymax, classGrid, points, train.labels());
    }

    /** A progress bar per epoch on a terminal, one line per epoch otherwise. */
    private static final class ProgressListener implements Trainer.Listener {
        private final TrainConfig config;
        private final long samples;
        private final PrintWriter log;
        private Progress progress;

        ProgressListener(TrainConfig config, long samples, PrintWriter log) {
            this.config = config;
            this.samples = samples;
            this.log = log;
        }

        @Override
        public void batch(int epoch, int size, double loss) {
            if (progress == null) progress = Progress.forEpoch(epoch, config.epochs, samples, log);
            progress.step(size, loss);
        }

        @Override
        public void epoch(EpochStats s) {
            String line = String.format(Locale.ROOT, "loss %.4f  train acc %.4f  test acc %.4f", s.trainLoss(),
                    s.trainAccuracy(), s.testAccuracy());
            if (progress != null) progress.close(line);
            progress = null;
        }

        @Override
        public void warning(String message) {
            log.println("warning: " + message);
        }
    }
}
