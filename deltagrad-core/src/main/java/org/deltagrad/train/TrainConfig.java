package org.deltagrad.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import org.deltagrad.data.Dataset;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;

/** Everything that decides a training run; the command line's flags map one to one onto these fields. */
public final class TrainConfig {
    /** The training loss. */
    public enum LossKind {
        /** Softmax cross-entropy of the logits (the network's output is not activated). */
        CROSS_ENTROPY,
        /** Nielsen's quadratic cost against one-hot targets, on the activated output. */
        MSE;

        public String id() { return TrainConfig.id(this); }

        public static LossKind parse(String id) { return TrainConfig.parse(LossKind.class, "loss", id); }
    }

    /** The optimiser: plain SGD, SGD with (Nesterov) momentum, Adam, AdamW or RMSprop. */
    public enum OptimizerKind {
        SGD, MOMENTUM, NESTEROV, ADAM, ADAMW, RMSPROP;

        public String id() { return TrainConfig.id(this); }

        public static OptimizerKind parse(String id) { return TrainConfig.parse(OptimizerKind.class, "optimizer", id); }
    }

    /** The learning-rate schedule over the epochs: constant, cosine annealing to 0, or ×0.1 every third of the run. */
    public enum ScheduleKind {
        CONSTANT, COSINE, STEP;

        public String id() { return TrainConfig.id(this); }

        public static ScheduleKind parse(String id) { return TrainConfig.parse(ScheduleKind.class, "schedule", id); }
    }

    /** A bad value, with the name of its field, so that a command line can name its own flag instead. */
    public static final class InvalidValue extends IllegalArgumentException {
        private final String field;
        private final String before;
        private final String after;

        InvalidValue(String before, String field, String after) {
            super(before + field + after);
            this.field = field;
            this.before = before;
            this.after = after;
        }

        /** The field's name, e.g. {@code weightDecay}. */
        public String field() {
            return field;
        }

        /** The message with the field called {@code name} instead (e.g. by its command-line flag). */
        public String messageNaming(String name) {
            return before + name + after;
        }
    }

    public String dataset = "spirals";
    public Path dataDir;
    /** The hidden sizes of a multilayer perceptron (--layers), used when {@link #arch} is null. */
    public int[] hidden = {64, 64};
    /** The hidden layers in the {@link Architecture} grammar, e.g. "conv16x5,maxpool2,fc100" (--arch); null: {@link #hidden}. */
    public String arch;
    public Activation activation = Activation.RELU;
    public LossKind loss = LossKind.CROSS_ENTROPY;
    public OptimizerKind optimizer = OptimizerKind.ADAM;
    public double lr = 0.01;
    public double momentum = 0.9;
    public double weightDecay = 0;
    public int batch = 32;
    public int epochs = 100;
    public long seed = 1;
    /** Worker threads for the kernels (0: all cores). */
    public int threads = 0;
    public ScheduleKind schedule = ScheduleKind.COSINE;
    /** Clip the global gradient norm to this (0: no clipping). */
    public double clipNorm = 0;
    /** Dropout probability after each hidden fc layer's activation (0: none); the saved model is the same network without it. */
    public double dropout = 0;
    /** Record per-layer δ, gradient norms and saturation every epoch (issue: learning slowdown). */
    public boolean diagnostics;
    /** Measure test accuracy after every epoch (benchmarks turn this off). */
    public boolean evaluateEachEpoch = true;
    /** Run every step under {@code Autograd.detectAnomaly()}: stop at the first op that makes a NaN or an infinity. */
    public boolean detectAnomaly;

    /** Checks the values and names a bad one (by its field) in one line. */
    public TrainConfig validate() {
        require(epochs >= 1, "epochs", " must be at least 1 (got " + epochs + ")");
        require(batch >= 1, "batch", " must be at least 1 (got " + batch + ")");
        require(lr > 0 && Double.isFinite(lr), "lr", " must be a positive number (got " + lr + ")");
        require(momentum >= 0 && momentum < 1, "momentum", " must be in [0, 1) (got " + momentum + ")");
        require(weightDecay >= 0, "weightDecay", " must be non-negative (got " + weightDecay + ")");
        require(threads >= 0, "threads", " must be non-negative (got " + threads + ")");
        require(dropout >= 0 && dropout < 1, "dropout", " must be in [0, 1) (got " + dropout + ")");
        require(clipNorm >= 0, "clipNorm", " must be non-negative (got " + clipNorm + ")");
        for (int h : hidden) require(h > 0, "hidden", " sizes must be positive (got " + Arrays.toString(hidden) + ")");
        if (arch != null) {
            try {
                arch = Architecture.format(Architecture.parse(arch));
            } catch (IllegalArgumentException e) {
                throw new InvalidValue("", "arch", ": " + e.getMessage());
            }
        }
        require(activation != null, "activation", " must be set");
        require(loss != null, "loss", " must be set");
        require(optimizer != null, "optimizer", " must be set");
        require(schedule != null, "schedule", " must be set");
        return this;
    }

    private static void require(boolean ok, String field, String problem) {
        if (!ok) throw new InvalidValue("", field, problem);
    }

    /** The hidden layers: {@link #arch}'s, or {@link #hidden} as fc layers. */
    public java.util.List<Architecture.Layer> layers() {
        return arch != null ? Architecture.parse(arch) : Architecture.fc(hidden);
    }

    /** The hidden layers for a log line: [256, 128] for --layers, the --arch description otherwise. */
    public String describeLayers() {
        return arch != null ? arch : Arrays.toString(hidden);
    }

    /**
     * The model this configuration trains on {@code train}: its layers for the data's features, image shape and
     * classes. A layer that does not fit the data (a kernel larger than the image) is an InvalidValue naming
     * {@code arch} (or {@code hidden}) and the layer.
     */
    public Architecture architecture(Dataset train) {
        // PyTorch fails in the epoch's last batch; the run is refused before it starts instead.
        if (train.size() % batch == 1 && layers().stream().anyMatch(l -> l instanceof Architecture.Norm)) {
            throw new InvalidValue("", "batch", " " + batch + " leaves a last batch of 1 of the " + train.size()
                    + " training examples, and bn needs more than one value per channel when training; choose another batch size");
        }
        try {
            return new Architecture(train.numFeatures(), train.imageShape(), layers(), train.numClasses(), activation,
                    loss == LossKind.MSE, train.classNames());
        } catch (IllegalArgumentException e) {
            throw new InvalidValue("", arch != null ? "arch" : "hidden", ": " + e.getMessage());
        }
    }

    /** A choice's name in reports, model files and on the command line: CROSS_ENTROPY is "cross-entropy". */
    private static String id(Enum<?> choice) {
        return choice.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static <E extends Enum<E>> E parse(Class<E> kind, String field, String id) {
        for (E e : kind.getEnumConstants()) if (id(e).equals(id)) return e;
        String choices = Arrays.stream(kind.getEnumConstants()).map(TrainConfig::id).collect(Collectors.joining(", "));
        throw new InvalidValue("unknown ", field, " '" + id + "' (choose " + choices + ")");
    }

    /** The optimiser this configuration names, over {@code params}, with the hyper-parameters the Trainer uses. */
    public org.deltagrad.optim.Optimizer newOptimizer(java.util.List<org.deltagrad.Tensor> params) {
        return switch (optimizer) {
            case SGD -> new org.deltagrad.optim.SGD(params, lr, 0, 0, false, weightDecay);
            case MOMENTUM -> new org.deltagrad.optim.SGD(params, lr, momentum, 0, false, weightDecay);
            case NESTEROV -> new org.deltagrad.optim.SGD(params, lr, momentum, 0, true, weightDecay);
            case ADAM -> new org.deltagrad.optim.Adam(params, lr, 0.9, 0.999, 1e-8, weightDecay);
            case ADAMW -> new org.deltagrad.optim.AdamW(params, lr, 0.9, 0.999, 1e-8, weightDecay == 0 ? 0.01 : weightDecay);
            case RMSPROP -> new org.deltagrad.optim.RMSprop(params, lr, 0.99, 1e-8, 0, weightDecay);
        };
    }

    /** The learning-rate schedule this configuration names (step: ×0.1 every third of the run). */
    public org.deltagrad.optim.LrSchedule newSchedule() {
        return switch (schedule) {
            case COSINE -> org.deltagrad.optim.LrSchedule.cosine(lr, epochs, 0);
            case STEP -> org.deltagrad.optim.LrSchedule.step(lr, Math.max(1, epochs / 3), 0.1);
            case CONSTANT -> org.deltagrad.optim.LrSchedule.constant(lr);
        };
    }

    /** The configuration as it goes into reports and model files. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dataset", dataset);
        if (arch != null) m.put("arch", arch);
        else m.put("layers", hidden.clone());
        m.put("activation", activation.id());
        m.put("loss", loss.id());
        m.put("optimizer", optimizer.id());
        m.put("lr", lr);
        m.put("momentum", momentum);
        m.put("weight_decay", weightDecay);
        m.put("batch", batch);
        m.put("epochs", epochs);
        m.put("seed", seed);
        m.put("threads", threads);
        m.put("schedule", schedule.id());
        m.put("clip_norm", clipNorm);
        if (dropout > 0) m.put("dropout", dropout);
        return m;
    }
}
