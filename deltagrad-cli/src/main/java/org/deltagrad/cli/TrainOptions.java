package org.deltagrad.cli;

import java.nio.file.Files;
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
    @Option(names = "--dataset", paramLabel = "NAME", description = "spirals (built in), mnist or fashion-mnist (default: spirals).")
    String dataset;
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Directory holding the dataset's IDX files.")
    Path dataDir;
    @Option(names = "--data", paramLabel = "FILE.csv|DIR", description = {"Your own data instead of --dataset: a CSV file with a "
            + "header row (numeric feature columns and a label column; features standardised by the training rows' mean and "
            + "standard deviation), or a folder with one sub-folder of images (png, jpg, jpeg, bmp, gif) per class. Other "
            + "defaults: a CSV file's are spirals', an image folder's the image sets'."})
    Path data;
    @Option(names = "--label", paramLabel = "COLUMN", description = "With a CSV --data: the label column (default: the last column).")
    String label;
    @Option(names = "--test", paramLabel = "FILE.csv|DIR", description = "With --data: the test set, with the same columns or class "
            + "folders (default: a seeded, stratified --test-fraction of --data).")
    Path test;
    @Option(names = "--test-fraction", paramLabel = "F", description = "With --data and no --test: the part of each class held out "
            + "for testing, chosen by --seed (default: 0.2).")
    Double testFraction;
    @Option(names = "--image-size", paramLabel = "N|HxW", description = "With an image folder: resize every image (bilinear) to N x N "
            + "or H x W pixels (default: the images' size, when they all have the same).")
    String imageSize;
    @Option(names = "--channels", paramLabel = "1|3", description = "With an image folder: 1 (grey) or 3 (RGB) (default: 3 if any "
            + "image has colour, else 1).")
    Integer channels;
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

    /** Whether --data names the user's own data (commands that read only the built-in datasets refuse it). */
    public boolean hasOwnData() {
        return data != null;
    }

    /**
     * The user's own data the flags name, or null for a built-in dataset; flags that do not go together are a usage
     * error naming them.
     */
    OwnData ownData(CommandSpec spec) {
        try {
            return ownData();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    private OwnData ownData() {
        if (data == null) {
            String given = label != null ? "--label" : test != null ? "--test" : testFraction != null ? "--test-fraction"
                    : imageSize != null ? "--image-size" : channels != null ? "--channels" : null;
            if (given != null) throw new IllegalArgumentException(given + " is for your own data: give it with --data FILE.csv|DIR");
            return null;
        }
        if (dataset != null || dataDir != null) {
            throw new IllegalArgumentException("--data cannot be given with " + (dataset != null ? "--dataset" : "--data-dir")
                    + ": train on either your own data or a built-in dataset");
        }
        boolean images = Files.isDirectory(data);
        if (images && label != null) throw new IllegalArgumentException("--label is for a CSV file, but --data " + data + " is a folder");
        if (!images && (imageSize != null || channels != null)) {
            throw new IllegalArgumentException((imageSize != null ? "--image-size" : "--channels") + " is for an image folder, but --data "
                    + data + " is not a folder");
        }
        if (test != null && testFraction != null) {
            throw new IllegalArgumentException("--test-fraction cannot be given with --test: the test set is --test");
        }
        double fraction = testFraction != null ? testFraction : OwnData.DEFAULT_TEST_FRACTION;
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("--test-fraction must be between 0 and 1 (got " + testFraction + ")");
        }
        if (channels != null && channels != 1 && channels != 3) {
            throw new IllegalArgumentException("--channels must be 1 (grey) or 3 (RGB) (got " + channels + ")");
        }
        return new OwnData(data, label, test, fraction, imageSize == null ? null : OwnData.imageSize(imageSize), channels);
    }

    /** The training and test sets the flags name (for a command without --resume). */
    public Datasets.TrainTest load(CommandSpec spec, TrainConfig config) {
        return OwnData.load(ownData(spec), config).trainTest();
    }

    /** Flags over dataset-specific defaults: tuned for seconds on spirals (and CSV files), a strong MLP on images. */
    TrainConfig config() {
        OwnData own = ownData();
        String name = own != null ? own.name() : dataset != null ? dataset : Datasets.SPIRALS;
        TrainConfig c = new TrainConfig();
        c.dataset = name;
        c.dataDir = dataDir;
        if (own != null ? own.images() : !name.equals(Datasets.SPIRALS)) {
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
        if (own == null && !Datasets.names().contains(name)) {
            throw new UserException("unknown dataset '" + name + "' (choose " + String.join(", ", Datasets.names())
                    + ", or give your own with --data FILE.csv|DIR)");
        }
        return c.validate();
    }
}
