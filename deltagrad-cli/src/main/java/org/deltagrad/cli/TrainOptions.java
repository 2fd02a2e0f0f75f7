package org.deltagrad.cli;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

import org.deltagrad.data.Datasets;
import org.deltagrad.nn.Activation;
import org.deltagrad.train.TrainConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The flags that define a training run's data, model and step, shared (as a picocli mixin) by
 * {@code train} and {@code bench train}, so the benchmark measures exactly what {@code train} runs.
 */
public final class TrainOptions {
    @Option(names = "--dataset", paramLabel = "NAME", description = "spirals (built in), mnist or fashion-mnist (default: ${DEFAULT-VALUE}).")
    String dataset = "spirals";
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Directory holding the dataset's IDX files.")
    Path dataDir;
    @Option(names = "--layers", paramLabel = "SIZES", split = ",", description = "Hidden layer sizes, e.g. 30 or 256,128 (default: 64,64 on spirals, 256,128 on the image sets).")
    int[] layers;
    @Option(names = "--arch", paramLabel = "LAYERS", description = {"The hidden layers, comma-separated, e.g. conv16x5,maxpool2,conv32x5,maxpool2,fc100: "
            + "conv<C>x<K>[s<S>][p<P>], maxpool<K>, avgpool<K>, bn, dropout<P>, fc<N>. The activation follows every conv and fc; "
            + "the output layer for the classes is added. Not with --layers (which is the fc-only shorthand)."})
    String arch;
    @Option(names = "--activation", paramLabel = "NAME", description = "relu, sigmoid or tanh (default: relu).")
    String activation;
    @Option(names = "--loss", paramLabel = "NAME", description = "cross-entropy (logits out) or mse (Nielsen's quadratic cost, activated output) (default: cross-entropy).")
    String loss;
    @Option(names = "--optimizer", paramLabel = "NAME", description = "sgd, momentum, nesterov, adam, adamw or rmsprop (default: adam).")
    String optimizer;
    @Option(names = "--lr", paramLabel = "RATE", description = "Learning rate (default: 0.1 for the sgd family; otherwise 0.01 on spirals, 0.001 on the image sets).")
    Double lr;
    @Option(names = "--momentum", paramLabel = "MU", description = "Momentum for momentum/nesterov (default: 0.9).")
    Double momentum;
    @Option(names = "--weight-decay", paramLabel = "LAMBDA", description = "L2 weight decay (default: 0).")
    Double weightDecay;
    @Option(names = "--batch", paramLabel = "N", description = "Mini-batch size (default: 32 on spirals, 64 on the image sets).")
    Integer batch;
    @Option(names = "--seed", paramLabel = "N", description = "Seed for initial weights and shuffling (default: 1).")
    Long seed;
    @Option(names = "--threads", paramLabel = "N", description = "Kernel threads (default: all cores).")
    Integer threads;
    @Option(names = "--clip-norm", paramLabel = "MAX", description = "Clip the global gradient norm (default: off).")
    Double clipNorm;
    @Option(names = "--dropout", paramLabel = "P", description = "Dropout probability after each hidden fc layer's activation while training (default: 0, none; --arch also takes dropout<P> layers).")
    Double dropout;

    /**
     * A {@link TrainConfig} field as the flag that sets it ({@code clipNorm} -> {@code --clip-norm}), followed by
     * {@code value} if given: how the command line shows core messages that name config fields.
     */
    static String flag(String field, String value) {
        String name = field.equals("hidden") ? "layers" : field;
        for (Class<?> c : new Class<?>[] {TrainOptions.class, TrainCommand.class}) {
            try {
                Option o = c.getDeclaredField(name).getAnnotation(Option.class);
                if (o != null) return o.names()[0] + (value == null ? "" : " " + value);
            } catch (NoSuchFieldException notThisClass) {
                // try the next
            }
        }
        return field + (value == null ? "" : " = " + value);
    }

    /** The configuration, or a usage error (exit 2, pointing to --help) for a bad flag value. */
    public TrainConfig config(CommandSpec spec) {
        try {
            return config();
        } catch (IllegalArgumentException e) {
            throw usageError(spec, e);
        } catch (UserException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /** A usage error for a bad value; one the configuration refused is named by its flag, not by its field. */
    public static ParameterException usageError(CommandSpec spec, IllegalArgumentException e) {
        String message = e instanceof TrainConfig.InvalidValue bad ? bad.messageNaming(flag(bad.field())) : e.getMessage();
        return new ParameterException(spec.commandLine(), message, e);
    }

    /** The flag that sets a {@link TrainConfig} field: {@code hidden} is --layers, {@code weightDecay} --weight-decay. */
    static String flag(String field) {
        if (field.equals("hidden")) return "--layers";
        return "--" + field.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
    }

    private static String join(int[] v) {
        return String.join(",", java.util.Arrays.stream(v).mapToObj(Integer::toString).toList());
    }

    private static final Set<TrainConfig.OptimizerKind> SGD_FAMILY =
            EnumSet.of(TrainConfig.OptimizerKind.SGD, TrainConfig.OptimizerKind.MOMENTUM, TrainConfig.OptimizerKind.NESTEROV);

    /** Flags over dataset-specific defaults: tuned for seconds on spirals, a strong MLP on the image sets. */
    TrainConfig config() {
        TrainConfig c = new TrainConfig();
        c.dataset = dataset;
        c.dataDir = dataDir;
        if (!dataset.equals(Datasets.SPIRALS)) {
            c.hidden = new int[] {256, 128};
            c.lr = 1e-3;
            c.batch = 64;
            c.epochs = 10;
        }
        if (layers != null && arch != null) {
            throw new UserException("--arch and --layers both describe the model; give one (--layers " + join(layers) + " is --arch "
                    + org.deltagrad.nn.Architecture.format(org.deltagrad.nn.Architecture.fc(layers)) + ")");
        }
        if (layers != null) c.hidden = layers;
        c.arch = arch;
        if (activation != null) c.activation = Activation.parse(activation);
        if (loss != null) c.loss = TrainConfig.LossKind.parse(loss);
        if (optimizer != null) c.optimizer = TrainConfig.OptimizerKind.parse(optimizer);
        if (SGD_FAMILY.contains(c.optimizer) && lr == null) c.lr = 0.1;
        if (lr != null) c.lr = lr;
        if (momentum != null) c.momentum = momentum;
        if (weightDecay != null) c.weightDecay = weightDecay;
        if (batch != null) c.batch = batch;
        if (seed != null) c.seed = seed;
        if (threads != null) c.threads = threads;
        if (clipNorm != null) c.clipNorm = clipNorm;
        if (dropout != null) c.dropout = dropout;
        if (!Datasets.names().contains(dataset)) {
            throw new UserException("unknown dataset '" + dataset + "' (choose " + String.join(", ", Datasets.names()) + ")");
        }
        return c.validate();
    }
}
