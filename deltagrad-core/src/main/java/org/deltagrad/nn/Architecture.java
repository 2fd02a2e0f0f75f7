package org.deltagrad.nn;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.deltagrad.DType;

/**
 * A model as the command line's {@code --arch} describes it: the input (a flat row of {@code inputs} values, or an
 * image of {@code imageShape}), the hidden layers ({@code conv16x5,maxpool2,fc100}), the output layer for
 * {@code outputs} classes, the activation after every conv and fc (and after the output too for Nielsen's quadratic
 * cost), and the class names. Enough to rebuild the model from a file.
 *
 * <p>{@link #build} makes a flat {@link Sequential} like PyTorch's: an image model starts with
 * {@code Unflatten(C, H, W)} (so it takes the flat rows a multilayer perceptron takes), each conv and fc is followed
 * by its {@code bn} (if written right after it) and the activation, a {@code Flatten} goes before the first fc after
 * the image layers. Its parameters are named as in the same {@code nn.Sequential} (first conv {@code 1.weight}).
 * Shapes are checked when the architecture is made, naming the layer that does not fit.
 */
public final class Architecture {

    /** One layer of the grammar; {@link #token()} is its canonical spelling. */
    public sealed interface Layer permits Conv, Pool, Norm, Drop, Fc {
        String token();
    }

    /** {@code conv<C>x<K>[s<S>][p<P>]}: a C-channel K×K convolution, stride S (1), zero padding P (0). */
    public record Conv(int channels, int kernel, int stride, int padding) implements Layer {
        public String token() {
            return "conv" + channels + "x" + kernel + (stride != 1 ? "s" + stride : "") + (padding != 0 ? "p" + padding : "");
        }
    }

    /** {@code maxpool<K>} or {@code avgpool<K>}: a K×K window, stride K. */
    public record Pool(boolean max, int kernel) implements Layer {
        public String token() {
            return (max ? "maxpool" : "avgpool") + kernel;
        }
    }

    /** {@code bn}: batch normalisation, between a conv/fc and its activation when written right after it. */
    public record Norm() implements Layer {
        public String token() {
            return "bn";
        }
    }

    /** {@code dropout<P>}: dropout with probability P in [0, 1) while training. */
    public record Drop(double p) implements Layer {
        public String token() {
            return "dropout" + BigDecimal.valueOf(p).stripTrailingZeros().toPlainString();
        }
    }

    /** {@code fc<N>}: a fully connected layer of N units. */
    public record Fc(int units) implements Layer {
        public String token() {
            return "fc" + units;
        }
    }

    /** The grammar, as errors quote it. */
    public static final String GRAMMAR = "conv<C>x<K>[s<S>][p<P>], maxpool<K>, avgpool<K>, bn, dropout<P> or fc<N>";

    /** The most elements a Java array (and so one weight tensor) holds. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * One module of the built Sequential: its class name, the layer token it comes from (empty for the inserted
     * Unflatten/Flatten and the output layer's own), its output shape per example, its parameter count, and the
     * multiply-adds of its forward pass per example (convolutions and matrix products only).
     */
    public record Stage(String module, String layer, int[] output, long parameters, long multiplyAdds) {}

    /** How {@link #build} makes one module: from the shared generator, the weights' Init and the build's seed. */
    @FunctionalInterface
    private interface Maker {
        Module make(SplittableRandom rng, Init init, long seed);
    }

    /** What {@link #build} makes at one index: how to make the module, and its state dict's shapes (parameters, then buffers). */
    private record Planned(Stage stage, Map<String, int[]> state, Maker make) {}

    private final int inputs;
    private final int[] imageShape;
    private final List<Layer> layers;
    private final int outputs;
    private final Activation activation;
    private final boolean activateOutput;
    private final List<String> classNames;
    private final boolean image;
    private final List<Planned> plan;

    /**
     * Checks every layer against the shape it receives and throws an IllegalArgumentException naming the first that
     * does not fit (e.g. a convolution whose kernel is larger than its input image).
     *
     * @param imageShape the data's image shape, [H, W] (one channel) or [C, H, W]; null for data that are not images
     */
    public Architecture(int inputs, int[] imageShape, List<Layer> layers, int outputs, Activation activation,
                        boolean activateOutput, List<String> classNames) {
        if (inputs <= 0 || outputs <= 0) {
            throw new IllegalArgumentException("a model needs positive input and output sizes, got " + inputs + " and " + outputs);
        }
        Objects.requireNonNull(activation, "activation");
        if (imageShape != null) {
            if (imageShape.length < 2 || imageShape.length > 3 || Arrays.stream(imageShape).anyMatch(d -> d <= 0)
                    || Arrays.stream(imageShape).asLongStream().reduce(1, (a, b) -> a * b) != inputs) {
                throw new IllegalArgumentException("image shape " + Arrays.toString(imageShape) + " is not [H, W] or [C, H, W] of "
                        + inputs + " values");
            }
        }
        if (classNames != null && classNames.size() != outputs) {
            throw new IllegalArgumentException(classNames.size() + " class names for " + outputs + " outputs");
        }
        this.inputs = inputs;
        this.imageShape = imageShape == null ? null : imageShape.clone();
        this.layers = List.copyOf(layers);
        this.outputs = outputs;
        this.activation = activation;
        this.activateOutput = activateOutput;
        this.classNames = classNames == null ? null : List.copyOf(classNames);
        this.image = this.layers.stream().anyMatch(l -> l instanceof Conv || l instanceof Pool);
        this.plan = plan();
    }

    /** A multilayer perceptron: {@code hidden} as fc layers (the {@code --layers} shorthand). */
    public static Architecture mlp(int inputs, int[] hidden, int outputs, Activation activation, boolean activateOutput,
                                   List<String> classNames, int[] imageShape) {
        return new Architecture(inputs, imageShape, fc(hidden), outputs, activation, activateOutput, classNames);
    }

    /** {@code --layers 256,128} as layers: fc256, fc128. */
    public static List<Layer> fc(int... hidden) {
        List<Layer> out = new ArrayList<>();
        for (int h : hidden) out.add(new Fc(h));
        return out;
    }

    // ---------------------------------------------------------------- grammar

    private static final Pattern CONV = Pattern.compile("conv(\\d+)x(\\d+)(?:s(\\d+))?(?:p(\\d+))?");
    private static final Pattern POOL = Pattern.compile("(max|avg)pool(\\d+)");
    private static final Pattern DROP = Pattern.compile("dropout(\\d*\\.?\\d+)");
    private static final Pattern FC = Pattern.compile("fc(\\d+)");

    /**
     * The layers of a comma-separated description, e.g. {@code conv16x5,maxpool2,fc100}; an IllegalArgumentException
     * names the first bad token, its position and what was expected.
     */
    public static List<Layer> parse(String arch) {
        if (arch == null || arch.isBlank()) {
            throw new IllegalArgumentException("empty: expected comma-separated layers (" + GRAMMAR + "), e.g. conv16x5,maxpool2,fc100");
        }
        String[] tokens = arch.split(",", -1);
        List<Layer> out = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) out.add(parseLayer(tokens[i].strip(), i + 1));
        return out;
    }

    private static Layer parseLayer(String token, int position) {
        String where = "'" + token + "' (layer " + position + ")";
        if (token.isEmpty()) throw new IllegalArgumentException("layer " + position + " is empty: expected " + GRAMMAR);
        String t = token.toLowerCase(Locale.ROOT);
        Matcher m;
        if (t.startsWith("conv")) {
            if (!(m = CONV.matcher(t)).matches()) {
                throw new IllegalArgumentException(where + ": expected conv<C>x<K>[s<S>][p<P>], e.g. conv16x5 or conv32x3s1p1");
            }
            return new Conv(number(m.group(1), 1, where, "channels"), number(m.group(2), 1, where, "kernel"),
                    m.group(3) == null ? 1 : number(m.group(3), 1, where, "stride"),
                    m.group(4) == null ? 0 : number(m.group(4), 0, where, "padding"));
        }
        if (t.startsWith("maxpool") || t.startsWith("avgpool")) {
            if (!(m = POOL.matcher(t)).matches()) {
                throw new IllegalArgumentException(where + ": expected " + t.substring(0, 7) + "<K>, e.g. " + t.substring(0, 7) + "2");
            }
            return new Pool(m.group(1).equals("max"), number(m.group(2), 1, where, "kernel"));
        }
        if (t.startsWith("dropout")) {
            if (!(m = DROP.matcher(t)).matches()) throw new IllegalArgumentException(where + ": expected dropout<P>, e.g. dropout0.25");
            double p = Double.parseDouble(m.group(1));
            if (!(p < 1)) throw new IllegalArgumentException(where + ": the dropout probability must be in [0, 1), got " + m.group(1));
            return new Drop(p);
        }
        if (t.startsWith("fc")) {
            if (!(m = FC.matcher(t)).matches()) throw new IllegalArgumentException(where + ": expected fc<N>, e.g. fc100");
            return new Fc(number(m.group(1), 1, where, "units"));
        }
        if (t.equals("bn")) return new Norm();
        throw new IllegalArgumentException(where + " is not a layer: expected " + GRAMMAR);
    }

    private static int number(String digits, int min, String where, String what) {
        int v;
        try {
            v = Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": " + what + " " + digits + " is too large");
        }
        if (v < min) throw new IllegalArgumentException(where + ": " + what + " must be at least " + min + ", got " + v);
        return v;
    }

    /** The canonical description, e.g. {@code conv16x5,maxpool2,fc100}: {@link #parse} gives {@code layers} back. */
    public static String format(List<Layer> layers) {
        return layers.stream().map(Layer::token).collect(Collectors.joining(","));
    }

    // ---------------------------------------------------------------- shapes

    /** Walks the layers with the shape each receives; every failure names the layer and the shapes. */
    private List<Planned> plan() {
        List<Planned> out = new ArrayList<>();
        int[] shape = image ? inputShape() : new int[] {inputs};
        if (image) {
            int[] s = shape.clone();
            out.add(new Planned(new Stage("Unflatten", "", s, 0, 0), Map.of(), (rng, init, seed) -> new Unflatten(s)));
        }
        String after = null; // the layer the next one's input comes from, for messages (null: the data)
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            String where = "'" + layer.token() + "' (layer " + (i + 1) + ")";
            boolean norm = i + 1 < layers.size() && layers.get(i + 1) instanceof Norm;
            if (layer instanceof Conv c) {
                requireImage(shape, where, after);
                int h = convolved(shape[1], c.kernel(), c.stride(), c.padding()), w = convolved(shape[2], c.kernel(), c.stride(), c.padding());
                if (h < 1 || w < 1) {
                    int least = c.kernel() - 2 * c.padding();
                    throw new IllegalArgumentException(where + " would shrink the image below 1x1: " + inputFrom(after) + " is "
                            + Arrays.toString(shape) + ", and a " + c.kernel() + "x" + c.kernel() + " kernel with padding "
                            + c.padding() + " needs at least " + least + "x" + least);
                }
                int in = shape[0];
                shape = new int[] {c.channels(), h, w};
                checkArray(where, (long) c.channels() * in * c.kernel() * c.kernel());
                Map<String, int[]> params = new LinkedHashMap<>();
                params.put("weight", new int[] {c.channels(), in, c.kernel(), c.kernel()});
                params.put("bias", new int[] {c.channels()});
                out.add(new Planned(new Stage("Conv2d", layer.token(), shape, count(params),
                        (long) in * c.kernel() * c.kernel() * c.channels() * h * w), params,
                        (rng, init, seed) -> new Conv2d(in, c.channels(), c.kernel(), c.stride(), c.padding(), init, rng, DType.FLOAT32, true)));
                if (norm) {
                    normalisation(out, shape);
                    i++;
                }
                activation(out, shape);
            } else if (layer instanceof Pool p) {
                requireImage(shape, where, after);
                if (shape[1] < p.kernel() || shape[2] < p.kernel()) {
                    throw new IllegalArgumentException(where + " would shrink the image below 1x1: " + inputFrom(after) + " is "
                            + Arrays.toString(shape) + ", smaller than its " + p.kernel() + "x" + p.kernel() + " window");
                }
                shape = new int[] {shape[0], convolved(shape[1], p.kernel(), p.kernel(), 0), convolved(shape[2], p.kernel(), p.kernel(), 0)};
                int k = p.kernel();
                out.add(new Planned(new Stage(p.max() ? "MaxPool2d" : "AvgPool2d", layer.token(), shape, 0, 0), Map.of(),
                        (rng, init, seed) -> p.max() ? new MaxPool2d(k) : new AvgPool2d(k)));
            } else if (layer instanceof Norm) {
                normalisation(out, shape);
            } else if (layer instanceof Drop d) {
                int index = out.size();
                // seeded like the Trainer's --dropout layers: by the run's seed and the module's index
                out.add(new Planned(new Stage("Dropout", layer.token(), shape, 0, 0), Map.of(),
                        (rng, init, seed) -> new Dropout(d.p(), seed * 31 + index)));
            } else if (layer instanceof Fc f) {
                shape = flatten(out, shape);
                linear(out, where, shape[0], f.units(), layer.token());
                shape = new int[] {f.units()};
                if (norm) {
                    normalisation(out, shape);
                    i++;
                }
                activation(out, shape);
            }
            after = where;
        }
        shape = flatten(out, shape);
        linear(out, "the output layer", shape[0], outputs, "");
        if (activateOutput) activation(out, new int[] {outputs});
        return List.copyOf(out);
    }

    private static int convolved(int size, int kernel, int stride, int padding) {
        long span = (long) size + 2L * padding - kernel;
        return span < 0 ? 0 : (int) (span / stride + 1);
    }

    private static String inputFrom(String layer) {
        return layer == null ? "its input, the data," : "its input from " + layer;
    }

    private static void requireImage(int[] shape, String where, String after) {
        if (shape.length != 3) {
            throw new IllegalArgumentException(where + " needs an image [C, H, W], but " + inputFrom(after) + " is flat "
                    + Arrays.toString(shape) + (after == null ? " (the data have no image shape)"
                    : "; convolutions and pooling go before the fc layers"));
        }
    }

    private static void checkArray(String where, long elements) {
        if (elements > MAX_ARRAY) {
            throw new IllegalArgumentException(where + ": its weight would have " + elements + " elements, more than one array holds ("
                    + MAX_ARRAY + ")");
        }
    }

    private static long count(Map<String, int[]> params) {
        long n = 0;
        for (int[] s : params.values()) n += Arrays.stream(s).asLongStream().reduce(1, (a, b) -> a * b);
        return n;
    }

    private static int[] flatten(List<Planned> out, int[] shape) {
        if (shape.length == 1) return shape;
        long n = Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b);
        int[] flat = {(int) Math.min(n, Integer.MAX_VALUE)};
        out.add(new Planned(new Stage("Flatten", "", flat, 0, 0), Map.of(), (rng, init, seed) -> new Flatten()));
        return flat;
    }

    private void linear(List<Planned> out, String where, int in, int units, String token) {
        checkArray(where, (long) in * units);
        Map<String, int[]> params = new LinkedHashMap<>();
        params.put("weight", new int[] {units, in});
        params.put("bias", new int[] {units});
        out.add(new Planned(new Stage("Linear", token, new int[] {units}, count(params), (long) in * units), params,
                (rng, init, seed) -> new Linear(in, units, init, rng, DType.FLOAT32, true)));
    }

    /** BatchNorm2d over the channels of an image, BatchNorm1d over the features of a flat row. */
    private static void normalisation(List<Planned> out, int[] shape) {
        int features = shape[0];
        boolean image = shape.length == 3;
        Map<String, int[]> state = new LinkedHashMap<>();
        for (String name : List.of("weight", "bias", "running_mean", "running_var")) state.put(name, new int[] {features});
        state.put("num_batches_tracked", new int[0]);
        out.add(new Planned(new Stage(image ? "BatchNorm2d" : "BatchNorm1d", "bn", shape, 2L * features, 0), state,
                (rng, init, seed) -> image ? new BatchNorm2d(features) : new BatchNorm1d(features)));
    }

    private void activation(List<Planned> out, int[] shape) {
        out.add(new Planned(new Stage(activation.module().getClass().getSimpleName(), "", shape, 0, 0), Map.of(),
                (rng, init, seed) -> activation.module()));
    }

    // ---------------------------------------------------------------- the model

    /**
     * The weight initialisation {@link #build(long)} uses: a multilayer perceptron's suits its activation (He for
     * ReLU, as deltagrad has always trained them); an image model's is PyTorch's default, as its PyTorch twin's.
     */
    public Init defaultInit() {
        return image ? Init.PYTORCH_DEFAULT : activation.defaultInit();
    }

    /** The model with {@link #defaultInit()}, drawn from {@code seed}. */
    public Sequential build(long seed) {
        return build(defaultInit(), seed);
    }

    /**
     * The model; every layer draws its weight, then its bias, from one generator seeded with {@code seed}, in order,
     * as the multilayer perceptron always has. A dropout layer's masks are seeded by {@code seed} and its index.
     */
    public Sequential build(Init init, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential net = new Sequential();
        for (Planned p : plan) net.add(p.make().make(rng, init, seed));
        return net;
    }

    /**
     * The state dict {@link #build} makes (parameters, and buffers such as a batch norm's running statistics) by name,
     * with the shapes, in PyTorch's order; nothing is allocated.
     */
    public Map<String, int[]> stateShapes() {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (int i = 0; i < plan.size(); i++) {
            int index = i;
            plan.get(i).state().forEach((name, shape) -> out.put(index + "." + name, shape.clone()));
        }
        return out;
    }

    /** Each module of the built model in order, with its output shape (per example) and parameter count. */
    public List<Stage> stages() {
        return plan.stream().map(Planned::stage).toList();
    }

    public long parameterCount() {
        return plan.stream().mapToLong(p -> p.stage().parameters()).sum();
    }

    /** Names of the layers with weights (each conv and fc, then the output layer): what the diagnostics report per layer. */
    public List<String> weightLayers() {
        List<String> out = new ArrayList<>();
        for (Stage s : stages()) {
            if (s.module().equals("Conv2d") || s.module().equals("Linear")) out.add(s.layer().isEmpty() ? "output fc" + outputs : s.layer());
        }
        return out;
    }

    /** Multiply-adds of one example's forward pass through the convolutions and matrix products. */
    public long multiplyAdds() {
        return stages().stream().mapToLong(Stage::multiplyAdds).sum();
    }

    // ---------------------------------------------------------------- fields

    public int inputs() {
        return inputs;
    }

    /** The data's image shape ([H, W] or [C, H, W]), or null. */
    public int[] imageShape() {
        return imageShape == null ? null : imageShape.clone();
    }

    /** Whether the model has convolutions or pooling, so takes its rows as images. */
    public boolean isImageModel() {
        return image;
    }

    /** What the first conv sees: [C, H, W] ([1, H, W] for a two-axis image shape); [inputs] for data that are not images. */
    public int[] inputShape() {
        if (imageShape == null) return new int[] {inputs};
        return imageShape.length == 3 ? imageShape.clone() : new int[] {1, imageShape[0], imageShape[1]};
    }

    public List<Layer> layers() {
        return layers;
    }

    public int outputs() {
        return outputs;
    }

    public Activation activation() {
        return activation;
    }

    /** Whether the output layer applies the activation too (Nielsen's quadratic cost) rather than emitting logits. */
    public boolean activateOutput() {
        return activateOutput;
    }

    public List<String> classNames() {
        return classNames;
    }

    /** The hidden layers in the grammar, e.g. {@code conv16x5,maxpool2,fc100} (empty for none). */
    public String arch() {
        return format(layers);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Architecture a && inputs == a.inputs && Arrays.equals(inputShape(), a.inputShape())
                && layers.equals(a.layers) && outputs == a.outputs && activation == a.activation && activateOutput == a.activateOutput;
    }

    @Override
    public int hashCode() {
        return Objects.hash(inputs, Arrays.hashCode(inputShape()), layers, outputs, activation, activateOutput);
    }

    /** E.g. {@code [1, 28, 28] conv16x5,maxpool2,fc100 -> 10 relu (logits)}. */
    @Override
    public String toString() {
        String hidden = arch();
        return Arrays.toString(inputShape()) + " " + (hidden.isEmpty() ? "" : hidden + " ") + "-> " + outputs + " " + activation.id()
                + (activateOutput ? " (activated output)" : " (logits)");
    }
}
