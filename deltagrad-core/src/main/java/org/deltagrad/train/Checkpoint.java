package org.deltagrad.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32C;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.io.SafeTensors;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Dropout;
import org.deltagrad.nn.Module;
import org.deltagrad.optim.Optimizer;

/**
 * A training run at the end of an epoch, in one safetensors file written atomically: everything the rest of the
 * run depends on, so that continuing from it gives the bits an uninterrupted run gives.
 * <ul>
 * <li>tensors {@code model.<name>}: the parameters; {@code optimizer.<i>.<name>}: the optimiser's
 *   {@link Optimizer#state()}; {@code history} (float64, one row per epoch: epoch, train loss, train accuracy, test
 *   accuracy, seconds, learning rate, forward, backward and step seconds) and {@code history.diagnostics} (per
 *   epoch and layer: layer, mean |δ|, weight and bias gradient norms, saturated fraction), exact to the bit;</li>
 * <li>{@code __metadata__}: {@code epoch} (epochs done), {@code config.<key>} (the configuration, as
 *   {@link TrainConfig#toMap()} names it, plus data_dir, diagnostics and evaluate_each_epoch),
 *   {@code dropout_calls.<module>} (how many masks each dropout layer drew: its generator's position),
 *   {@code first_loss} (the divergence guard's reference), {@code warned_layers}, {@code note.<key>} (the caller's, e.g. where the command line writes its outputs), and
 *   {@code crc32c} of the tensor data, so a damaged file is refused instead of continuing from wrong numbers.</li>
 * </ul>
 * The other randomness needs no state: initial weights come from the seed (and are overwritten here), and the
 * loader's order in epoch e is a function of (seed, e); the learning-rate schedule is a function of the epoch.
 */
public final class Checkpoint {
    /** The checkpoint's name in a run's output directory. */
    public static final String FILE_NAME = "checkpoint.safetensors";
    private static final String FORMAT = "deltagrad-checkpoint/1";
    private static final String[] HISTORY_COLUMNS = {"epoch", "train_loss", "train_accuracy", "test_accuracy", "seconds",
        "lr", "forward_seconds", "backward_seconds", "step_seconds"};
    /** Keys that may differ between the recorded run and the one that continues it: they do not change the bits. */
    private static final Set<String> FREE_KEYS = Set.of("threads", "data_dir");

    private final Path file;
    private final int epoch;
    private final Map<String, String> config;
    private final Map<String, Tensor> model = new LinkedHashMap<>();
    private final Map<String, Tensor> optimizer = new LinkedHashMap<>();
    private final List<EpochStats> history;
    private final Map<String, Long> dropoutCalls = new TreeMap<>();
    private final Set<Integer> warnedLayers = new TreeSet<>();
    private final Map<String, String> notes = new LinkedHashMap<>();
    /** The run's first batch loss, the divergence guard's reference (NaN before the first batch). */
    private double firstLoss = Double.NaN;

    private Checkpoint(Path file, int epoch, Map<String, String> config, List<EpochStats> history) {
        this.file = file;
        this.epoch = epoch;
        this.config = config;
        this.history = history;
    }

    /** The first batch loss of the run, which the divergence guard compares later losses with. */
    double firstLoss() {
        return firstLoss;
    }

    public Path file() {
        return file;
    }

    /** Epochs done. */
    public int epoch() {
        return epoch;
    }

    /** True when every epoch of the recorded configuration is done. */
    public boolean finished() {
        return epoch >= Integer.parseInt(config.get("epochs"));
    }

    /** The per-epoch figures of the epochs done. */
    public List<EpochStats> history() {
        return List.copyOf(history);
    }

    /** The caller's notes, as given to {@link Trainer#checkpointTo}. */
    public Map<String, String> notes() {
        return Map.copyOf(notes);
    }

    /** The recorded configuration, as the run had it. */
    public TrainConfig config() {
        try {
            TrainConfig c = new TrainConfig();
            c.dataset = get("dataset");
            if (config.containsKey("arch")) {
                c.arch = config.get("arch");
            } else {
                String layers = get("layers");
                c.hidden = layers.isEmpty() ? new int[0] : Arrays.stream(layers.split(",")).mapToInt(Integer::parseInt).toArray();
            }
            c.activation = Activation.parse(get("activation"));
            c.loss = TrainConfig.LossKind.parse(get("loss"));
            c.optimizer = TrainConfig.OptimizerKind.parse(get("optimizer"));
            c.lr = Double.parseDouble(get("lr"));
            c.momentum = Double.parseDouble(get("momentum"));
            c.weightDecay = Double.parseDouble(get("weight_decay"));
            c.batch = Integer.parseInt(get("batch"));
            c.epochs = Integer.parseInt(get("epochs"));
            c.seed = Long.parseLong(get("seed"));
            c.threads = Integer.parseInt(get("threads"));
            c.schedule = TrainConfig.ScheduleKind.parse(get("schedule"));
            c.clipNorm = Double.parseDouble(get("clip_norm"));
            c.dropout = Double.parseDouble(config.getOrDefault("dropout", "0"));
            c.dataDir = config.containsKey("data_dir") ? Path.of(config.get("data_dir")) : null;
            c.diagnostics = Boolean.parseBoolean(get("diagnostics"));
            c.evaluateEachEpoch = Boolean.parseBoolean(get("evaluate_each_epoch"));
            return c.validate();
        } catch (RuntimeException e) {
            throw new CheckpointException(file + ": the recorded configuration is not valid: " + e.getMessage(), e);
        }
    }

    private String get(String key) {
        String v = config.get(key);
        if (v == null) throw new IllegalArgumentException("config." + key + " is missing");
        return v;
    }

    /** The configuration as recorded: toMap's entries as strings, and what toMap leaves out that the run uses. */
    static Map<String, String> flat(TrainConfig c) {
        Map<String, String> out = new LinkedHashMap<>();
        c.toMap().forEach((k, v) -> out.put(k, v instanceof int[] a
                ? String.join(",", Arrays.stream(a).mapToObj(Integer::toString).toList()) : String.valueOf(v)));
        if (c.dataDir != null) out.put("data_dir", c.dataDir.toAbsolutePath().normalize().toString());
        out.put("diagnostics", Boolean.toString(c.diagnostics));
        out.put("evaluate_each_epoch", Boolean.toString(c.evaluateEachEpoch));
        return out;
    }

    // ---------------------------------------------------------------- writing

    /**
     * The run's state after {@code epoch} epochs, copied now, and its write to {@code file}, atomic (temp file, fsync,
     * rename), to run later, in another thread if need be: training may go on meanwhile.
     */
    static Runnable snapshot(Path file, TrainConfig config, int epoch, Module model, Optimizer optimizer, List<EpochStats> history,
                             Collection<Integer> warnedLayers, double firstLoss, Map<String, String> notes) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (Autograd.Scope s = Autograd.noGrad()) {
            model.stateDict().forEach((k, v) -> tensors.put("model." + k, v.copy()));
        }
        optimizer.state().forEach((k, v) -> tensors.put("optimizer." + k, v));
        if (!history.isEmpty()) tensors.put("history", historyTensor(history));
        Tensor diagnostics = diagnosticsTensor(history);
        if (diagnostics != null) tensors.put("history.diagnostics", diagnostics);

        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("epoch", Integer.toString(epoch));
        flat(config).forEach((k, v) -> meta.put("config." + k, v));
        meta.put("history_columns", String.join(",", HISTORY_COLUMNS));
        dropouts(model).forEach((path, d) -> meta.put("dropout_calls." + path, Long.toString(d.calls())));
        meta.put("first_loss", Double.toString(firstLoss));
        meta.put("warned_layers", String.join(",", new TreeSet<>(warnedLayers).stream().map(String::valueOf).toList()));
        notes.forEach((k, v) -> meta.put("note." + k, v));
        return () -> {
            meta.put("crc32c", crc(tensors));
            SafeTensors.write(file, tensors, meta);
        };
    }

    /** Rewrites {@code file} with one more note (atomically), e.g. that the outputs of the finished run exist. */
    public static void addNote(Path file, String key, String value) {
        SafeTensors.Contents c = readContents(file);
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        meta.put("note." + key, value);
        SafeTensors.write(file, c.tensors(), meta);
    }

    /**
     * Deletes temporary files that a write of {@code file} killed before its rename left behind (the atomic write's
     * {@code .<name>.<random>.tmp} siblings); the file itself is always whole.
     */
    static void deleteTemporaries(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, "." + file.getFileName() + ".*.tmp")) {
            for (Path t : temps) Files.deleteIfExists(t);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot remove the temporary files of " + file.getFileName() + ": " + e.getMessage(), e);
        }
    }

    private static Tensor historyTensor(List<EpochStats> history) {
        double[] rows = new double[history.size() * HISTORY_COLUMNS.length];
        int k = 0;
        for (EpochStats e : history) {
            for (double v : new double[] {e.epoch(), e.trainLoss(), e.trainAccuracy(), e.testAccuracy(), e.seconds(),
                e.learningRate(), e.forwardSeconds(), e.backwardSeconds(), e.stepSeconds()}) {
                rows[k++] = v;
            }
        }
        return Tensor.of(rows, history.size(), HISTORY_COLUMNS.length);
    }

    private static Tensor diagnosticsTensor(List<EpochStats> history) {
        if (history.isEmpty() || history.get(0).diagnostics() == null) return null;
        int layers = history.get(0).diagnostics().size();
        double[] values = new double[history.size() * layers * 5];
        int k = 0;
        for (EpochStats e : history) {
            for (LayerDiagnostics d : e.diagnostics()) {
                for (double v : new double[] {d.layer(), d.meanAbsDelta(), d.weightGradNorm(), d.biasGradNorm(), d.saturatedFraction()}) {
                    values[k++] = v;
                }
            }
        }
        return Tensor.of(values, history.size(), layers, 5);
    }

    /** Every dropout layer by its dotted module path (e.g. {@code 1.1}), in registration order. */
    static Map<String, Dropout> dropouts(Module model) {
        Map<String, Dropout> out = new LinkedHashMap<>();
        collectDropouts("", model, out);
        return out;
    }

    private static void collectDropouts(String path, Module m, Map<String, Dropout> out) {
        if (m instanceof Dropout d) out.put(path.isEmpty() ? "root" : path, d);
        m.children().forEach((name, child) -> collectDropouts(path.isEmpty() ? name : path + "." + name, child, out));
    }

    /** CRC-32C of every tensor's little-endian bytes, tensors in name order: what the file's data must still be. */
    private static String crc(Map<String, Tensor> tensors) {
        CRC32C crc = new CRC32C();
        for (String name : new TreeSet<>(tensors.keySet())) {
            Tensor t = tensors.get(name);
            ByteBuffer buf = ByteBuffer.allocate(t.numel() * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            if (t.dtype() == DType.FLOAT32) buf.asFloatBuffer().put(t.toFloatArray());
            else buf.asDoubleBuffer().put(t.toDoubleArray());
            crc.update(buf.array());
        }
        return String.format(Locale.ROOT, "%08x", crc.getValue());
    }

    // ---------------------------------------------------------------- reading

    /** Reads and checks {@code file}; anything wrong with it is a {@link CheckpointException} naming it, in one line. */
    public static Checkpoint read(Path file) {
        SafeTensors.Contents contents = readContents(file);
        Map<String, String> meta = contents.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new CheckpointException(file + ": not a deltagrad checkpoint (expected __metadata__ format \"" + FORMAT
                    + "\", found " + (meta.get("format") == null ? "none" : "\"" + meta.get("format") + "\"") + ")");
        }
        if (!crc(contents.tensors()).equals(meta.get("crc32c"))) {
            throw new CheckpointException(file + ": the tensor data does not match its checksum (the file is damaged)");
        }
        try {
            Map<String, String> config = new LinkedHashMap<>();
            meta.forEach((k, v) -> {
                if (k.startsWith("config.")) config.put(k.substring("config.".length()), v);
            });
            int epoch = Integer.parseInt(required(meta, "epoch"));
            if (epoch < 0 || !String.join(",", HISTORY_COLUMNS).equals(required(meta, "history_columns"))) {
                throw new IllegalArgumentException("unexpected epoch or history columns");
            }
            Map<String, Tensor> tensors = contents.tensors();
            List<EpochStats> history = history(tensors.get("history"), tensors.get("history.diagnostics"), epoch);
            Checkpoint c = new Checkpoint(file, epoch, config, history);
            tensors.forEach((k, v) -> {
                if (k.startsWith("model.")) c.model.put(k.substring("model.".length()), v);
                else if (k.startsWith("optimizer.")) c.optimizer.put(k.substring("optimizer.".length()), v);
                else if (!k.startsWith("history")) throw new IllegalArgumentException("unexpected tensor " + k);
            });
            meta.forEach((k, v) -> {
                if (k.startsWith("dropout_calls.")) c.dropoutCalls.put(k.substring("dropout_calls.".length()), Long.parseLong(v));
                else if (k.startsWith("note.")) c.notes.put(k.substring("note.".length()), v);
            });
            c.firstLoss = Double.parseDouble(required(meta, "first_loss"));
            String warned = required(meta, "warned_layers");
            if (!warned.isEmpty()) for (String w : warned.split(",")) c.warnedLayers.add(Integer.parseInt(w));
            c.config(); // a recorded configuration that is not valid is found here, not halfway through a restore
            return c;
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CheckpointException(file + ": not a valid deltagrad checkpoint: " + e.getMessage(), e);
        }
    }

    private static SafeTensors.Contents readContents(Path file) {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file + ": no such checkpoint");
        try {
            return SafeTensors.read(file);
        } catch (UncheckedIOException e) {
            throw new CheckpointException(file + ": cannot read the checkpoint: " + e.getCause().getMessage(), e);
        } catch (RuntimeException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new CheckpointException(m.startsWith(file.toString()) ? m : file + ": " + m, e);
        }
    }

    private static String required(Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new IllegalArgumentException("__metadata__ has no \"" + key + "\"");
        return v;
    }

    private static List<EpochStats> history(Tensor rows, Tensor diagnostics, int epoch) {
        boolean wellShaped = rows == null || (rows.dtype() == DType.FLOAT64 && rows.rank() == 2 && rows.shape(1) == HISTORY_COLUMNS.length);
        int n = rows == null || !wellShaped ? 0 : rows.shape(0);
        if (!wellShaped || n != epoch) {
            throw new IllegalArgumentException("expected a float64 history of " + epoch + " rows of " + HISTORY_COLUMNS.length);
        }
        if (diagnostics != null && (diagnostics.dtype() != DType.FLOAT64 || diagnostics.rank() != 3
                || diagnostics.shape(0) != n || diagnostics.shape(2) != 5)) {
            throw new IllegalArgumentException("expected float64 history.diagnostics of shape [" + n + ", layers, 5]");
        }
        double[] h = n == 0 ? new double[0] : rows.toDoubleArray();
        double[] d = diagnostics == null ? null : diagnostics.toDoubleArray();
        int layers = diagnostics == null ? 0 : diagnostics.shape(1);
        List<EpochStats> out = new ArrayList<>();
        for (int i = 0, c = HISTORY_COLUMNS.length; i < n; i++) {
            List<LayerDiagnostics> diag = null;
            if (d != null) {
                diag = new ArrayList<>();
                for (int l = 0; l < layers; l++) {
                    int at = (i * layers + l) * 5;
                    diag.add(new LayerDiagnostics((int) d[at], d[at + 1], d[at + 2], d[at + 3], d[at + 4]));
                }
            }
            if (h[i * c] != i + 1) throw new IllegalArgumentException("history row " + i + " is for epoch " + h[i * c]);
            out.add(new EpochStats(i + 1, h[i * c + 1], h[i * c + 2], h[i * c + 3], h[i * c + 4], h[i * c + 5], diag,
                    h[i * c + 6], h[i * c + 7], h[i * c + 8]));
        }
        return out;
    }

    // ---------------------------------------------------------------- restoring

    /**
     * Puts the recorded state into a freshly built run of {@code config}: the parameters, the optimiser's state, the
     * dropout generators' positions, the history and the warnings already given. The configuration must be the
     * recorded one (the thread count and data directory aside).
     */
    void restore(TrainConfig config, Module model, Optimizer opt, List<EpochStats> historyOut, Set<Integer> warnedOut) {
        Map<String, String> now = flat(config);
        for (String key : union(now.keySet(), this.config.keySet())) {
            if (FREE_KEYS.contains(key) || java.util.Objects.equals(now.get(key), this.config.get(key))) continue;
            throw new CheckpointException(file + ": recorded " + key + "=" + this.config.getOrDefault(key, "(none)") + " but this run has "
                    + key + "=" + now.getOrDefault(key, "(none)") + "; a run continues with its recorded configuration");
        }
        Map<String, Dropout> drops = dropouts(model);
        if (!drops.keySet().equals(dropoutCalls.keySet())) {
            throw new CheckpointException(file + ": records dropout layers " + dropoutCalls.keySet() + " but the model has " + drops.keySet());
        }
        try {
            opt.loadState(optimizer);
            model.loadStateDict(this.model);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": does not fit this run: " + e.getMessage(), e);
        }
        drops.forEach((path, d) -> d.setCalls(dropoutCalls.get(path)));
        historyOut.addAll(history);
        warnedOut.addAll(warnedLayers);
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }
}
