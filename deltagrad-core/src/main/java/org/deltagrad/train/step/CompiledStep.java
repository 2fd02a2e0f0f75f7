package org.deltagrad.train.step;

import org.deltagrad.train.TrainConfig.LossKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.TensorMemory;
import org.deltagrad.kernels.Conv;
import org.deltagrad.kernels.Elementwise;
import org.deltagrad.kernels.Elementwise.Unary;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.LossKernels;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.nn.AvgPool2d;
import org.deltagrad.nn.Conv2d;
import org.deltagrad.nn.Dropout;
import org.deltagrad.nn.Flatten;
import org.deltagrad.nn.Identity;
import org.deltagrad.nn.LeakyReLU;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.MaxPool2d;
import org.deltagrad.nn.Module;
import org.deltagrad.nn.Pool2d;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.deltagrad.nn.Sigmoid;
import org.deltagrad.nn.Tanh;
import org.deltagrad.nn.Unflatten;
import org.deltagrad.optim.GradClip;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.optim.SGD;

/**
 * The training step of a multilayer perceptron written out by hand, as {@code classic.Network} writes
 * backpropagation: the forward pass as one GEMM per linear layer into buffers made once, then the layer-by-layer
 * backward, BP1 (the loss's δ at the output), BP2 (δ·W back through a layer, times f′ of the activation), BP3 (bias
 * gradient: δ summed over the batch) and BP4 (weight gradient δᵀ·a), with no graph and no arrays made per step
 * (but dropout's masks).
 * The model is a {@link Sequential} of {@link Linear}, {@link ReLU}, {@link Sigmoid}, {@link Tanh},
 * {@link LeakyReLU}, {@link Identity} and {@link Dropout} layers in any order, float32, with cross-entropy or the
 * quadratic cost; anything else is not compilable ({@link TrainingStep#of} then runs the eager step).
 *
 * <p>A convolutional network is the same with an image part in front, PyTorch's flat {@code Sequential}:
 * {@link Unflatten} first, then {@link Conv2d}, {@link MaxPool2d}, {@link AvgPool2d} and the element-wise layers but
 * dropout, then {@link Flatten} before the first {@link Linear}. Inside the image part the activations are kept in
 * CNHW order ([channel][image][h][w]), which is the layout of the convolution's GEMM output W·cols, so no
 * permutation is made but at Unflatten (none for one channel) and Flatten. Each convolution runs
 * {@link Conv.Plan}, the same kernel as the eager {@code conv2d} ops (im2col over the batch, one GEMM), keeps its
 * im2col matrix for the weight gradient, and fuses the activation that follows; the first one computes no input
 * gradient; max pooling keeps its argmax indices.
 *
 * <p>How the gradients reach the parameters, by optimiser:
 * <ul>
 * <li>plain SGD (no momentum) without clipping: folded into the weight-gradient GEMM, W ← (1 − lr·wd)·W − lr·δᵀ·a,
 *     once the δ of the layer below, which needs the old W, has been computed; no weight gradient is stored;
 * <li>any other optimiser, or clipping: the gradients go into arrays made once that the parameters' {@code grad()}
 *     are, then {@link GradClip} when asked and one {@link Optimizer#step()} after the backward pass (updating each
 *     layer as soon as its gradients were ready measured no faster: docs/PERFORMANCE.md).
 * </ul>
 * Every element is computed by the same arithmetic as the eager step's, in the same order, except the folded
 * update's GEMM (see {@code CompiledStepTest}).
 */
public final class CompiledStep implements TrainingStep {
    /** Why a model, optimiser or loss cannot be compiled; the message says what. */
    public static final class NotCompilable extends Exception {
        NotCompilable(String message) {
            super(message, null, false, false);
        }
    }

    /** {@code -Ddeltagrad.step.profile=true}: each stage's forward and backward times are summed, for {@link #profile()}. */
    private static final boolean PROFILE = Boolean.getBoolean("deltagrad.step.profile");

    /** Element-wise kernels over at least twice this many elements run in ranges on the pool, as the eager ops do. */
    private static final int GRAIN = 16384;

    private final Optimizer optimizer;
    private final LossKind lossKind;
    private final double clipNorm;
    /** Plain SGD folded into the weight-gradient GEMM, with its weight decay; -1 when the optimiser is not folded. */
    private final double foldedWeightDecay;
    private final List<Stage> stages;
    private final int inputWidth;
    private final int classes;
    /** The first stage with parameters: nothing before it needs a gradient. */
    private final int firstTrained;
    private final List<Tensor> parameters;

    /** acts[i] is stage i's input, acts[n] the output; in-place stages share their input's array. */
    private float[][] acts;
    /** grads[i] is ∂loss/∂acts[i] (null where nothing needs it); element-wise stages work in place. */
    private float[][] grads;
    private int capacity;
    /** The softmax of the output (cross-entropy), kept by the forward pass for BP1. */
    private float[] softmax;
    private double[] rowLoss;
    private int rows;
    private int[] labels;

    private CompiledStep(Optimizer optimizer, LossKind lossKind, double clipNorm, List<Module> layers) throws NotCompilable {
        this.optimizer = optimizer;
        this.lossKind = lossKind;
        this.clipNorm = clipNorm;
        // The fold is the linear layers' GEMM; a convolution's weight gradient is the eager kernel's, stepped after.
        boolean convolutional = layers.stream().anyMatch(m -> m instanceof Conv2d);
        this.foldedWeightDecay = optimizer instanceof SGD sgd && sgd.momentum() == 0 && clipNorm == 0 && !convolutional
                ? sgd.weightDecay() : -1;
        this.stages = new ArrayList<>();
        int width = -1, first = -1, inputs = -1;
        int[] image = null; // [C, H, W] while the activations are images, else null
        for (Module m : layers) {
            int index = stages.size();
            Stage stage;
            if (m instanceof Unflatten u) {
                if (index != 0) throw new NotCompilable("Unflatten is layer " + index + ", not the first");
                image = u.shape();
                if (image.length != 3) throw new NotCompilable("Unflatten to " + image.length + " axes, not [C, H, W]");
                stage = new LayoutStage(index, image, true);
                inputs = stage.width;
            } else if (m instanceof Conv2d conv) {
                if (image == null) throw new NotCompilable("layer " + index + " (Conv2d) gets no images: Unflatten first");
                ConvStage c = new ConvStage(index, conv, image);
                image = c.outShape;
                stage = c;
            } else if (m instanceof Pool2d pool) {
                if (image == null) throw new NotCompilable("layer " + index + " (" + m.getClass().getSimpleName() + ") gets no images");
                PoolStage p = new PoolStage(index, image, pool.kernel(), pool.stride(), m instanceof MaxPool2d);
                image = p.outShape;
                stage = p;
            } else if (m instanceof Flatten) {
                if (image == null) throw new NotCompilable("layer " + index + " (Flatten) gets no images");
                stage = new LayoutStage(index, image, false);
                image = null;
            } else if (image != null && (m instanceof Linear || m instanceof Dropout)) {
                throw new NotCompilable("layer " + index + " (" + m.getClass().getSimpleName() + ") works on images (Flatten first)");
            } else {
                if (m instanceof Linear lin) {
                    if (width >= 0 && lin.inFeatures() != width) {
                        throw new NotCompilable("layer " + index + " takes " + lin.inFeatures() + " inputs, but gets " + width);
                    }
                    if (inputs < 0) inputs = lin.inFeatures();
                }
                stage = stage(m, index, width);
            }
            if (first < 0 && stage instanceof WeightStage) first = index;
            width = stage.width;
            stages.add(stage);
        }
        if (first < 0) throw new NotCompilable("the model has no Linear layer");
        if (image != null) throw new NotCompilable("the model's output is images, not a row of class scores (Flatten missing)");
        this.inputWidth = inputs;
        this.firstTrained = first;
        this.classes = width;
        this.parameters = new ArrayList<>();
        for (Stage s : stages) s.addParameters(parameters);
    }

    /** The compiled step for {@code model}, or {@link NotCompilable} naming what it does not know. */
    public static CompiledStep compile(Module model, Optimizer optimizer, LossKind loss, double clipNorm) throws NotCompilable {
        if (!(model instanceof Sequential seq)) throw new NotCompilable("the model is a " + model.getClass().getSimpleName() + ", not a Sequential");
        List<Module> layers = new ArrayList<>();
        flatten(seq, layers);
        Set<Module> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Module m : layers) {
            if (!seen.add(m)) throw new NotCompilable("a layer appears twice in the model (shared weights)");
        }
        CompiledStep step = new CompiledStep(optimizer, loss, clipNorm, layers);
        Set<Tensor> own = Collections.newSetFromMap(new IdentityHashMap<>());
        own.addAll(step.parameters);
        Set<Tensor> optimised = Collections.newSetFromMap(new IdentityHashMap<>());
        optimised.addAll(optimizer.parameters());
        if (!own.equals(optimised)) throw new NotCompilable("the optimiser's parameters are not the model's");
        return step;
    }

    /** The layers in forward order, nested Sequentials (e.g. an activation with its dropout) opened up. */
    private static void flatten(Sequential seq, List<Module> into) {
        for (Module m : seq.layers()) {
            if (m instanceof Sequential inner) flatten(inner, into); else into.add(m);
        }
    }

    private Stage stage(Module m, int index, int width) throws NotCompilable {
        if (m instanceof Linear lin) return new LinearStage(index, lin);
        if (width < 0) throw new NotCompilable("the model starts with a " + m.getClass().getSimpleName() + " before any Linear layer");
        // element-wise: the layout of the values (rows or CNHW images) does not matter
        if (m instanceof ReLU) return new ActivationStage(index, width, Unary.RELU);
        if (m instanceof Sigmoid) return new ActivationStage(index, width, Unary.SIGMOID);
        if (m instanceof Tanh) return new ActivationStage(index, width, Unary.TANH);
        if (m instanceof LeakyReLU l) return new LeakyReluStage(index, width, l.slope());
        if (m instanceof Dropout d) return new DropoutStage(index, width, d);
        if (m instanceof Identity) return new IdentityStage(index, width);
        throw new NotCompilable("it does not know the layer " + m.getClass().getSimpleName());
    }

    @Override
    public String description() {
        return "compiled: " + (foldedWeightDecay >= 0 ? "SGD folded into the weight-gradient GEMMs"
                : optimizer.getClass().getSimpleName() + " after the backward pass" + (clipNorm > 0 ? ", gradients clipped" : ""));
    }

    // ---------------------------------------------------------------- buffers

    /** Arrays for {@code n} rows: made on the first batch (and again only for a larger one). */
    private void ensureCapacity(int n) {
        if (n <= capacity) return;
        int count = stages.size();
        acts = new float[count + 1][];
        int[] producer = new int[count + 1];
        producer[0] = -1; // the batch: never written
        for (Stage s : stages) {
            int i = s.index;
            s.allocate(n);
            if (s.sharesArrays()) {
                acts[i + 1] = acts[i];
                producer[i + 1] = producer[i];
            } else if (s.elementwise() && !s.needsInput() && producer[i] >= 0 && !stages.get(producer[i]).needsOutput()) {
                acts[i + 1] = acts[i]; // in place: nothing reads the input later
                producer[i + 1] = i;
                if (s instanceof ActivationStage a && i > 0 && stages.get(i - 1).fuse(a)) a.fused = true;
            } else {
                acts[i + 1] = new float[n * s.width];
                producer[i + 1] = i;
            }
        }
        for (Stage s : stages) {
            // A ReLU in place before a max pooling: the pooling's backward applies the ReLU's (the select needs its output).
            if (s instanceof PoolStage p && p.max && p.index > 0 && stages.get(p.index - 1) instanceof ActivationStage a
                    && a.op == Unary.RELU && acts[a.index] == acts[a.index + 1] && p.inputGradWanted()) {
                p.relu = a;
                a.absorbed = true;
            }
        }
        grads = new float[count + 1][];
        grads[count] = new float[n * classes];
        for (int i = count - 1; i > firstTrained; i--) {
            Stage s = stages.get(i);
            grads[i] = s.elementwise() || s.sharesArrays() ? grads[i + 1] : new float[n * s.inWidth()];
        }
        softmax = new float[n * classes];
        rowLoss = new double[n];
        capacity = n;
    }

    // ---------------------------------------------------------------- the step

    @Override
    public double forward(StepBatch batch) {
        int n = batch.rows();
        float[] x = batch.features();
        if (x.length < (long) n * inputWidth || batch.batch().x().shape(1) != inputWidth) {
            throw new IllegalArgumentException("compiled step: a batch of " + batch.batch().x().shape(1) + " features for a model with "
                    + inputWidth + " inputs");
        }
        int[] y = batch.labels();
        for (int r = 0; r < n; r++) {
            if (y[r] < 0 || y[r] >= classes) {
                throw new IllegalArgumentException("compiled step: label " + y[r] + " at row " + r + " is not a class index in [0, "
                        + classes + ")");
            }
        }
        ensureCapacity(n);
        rows = n;
        labels = y;
        acts[0] = x;
        for (int i = 0; i < stages.size() && stages.get(i).sharesArrays(); i++) acts[i + 1] = x; // e.g. a one-channel Unflatten
        for (Stage s : stages) {
            long t0 = PROFILE ? clock() : 0;
            s.forward(n);
            if (PROFILE) s.forwardNanos += clock() - t0;
        }
        return lossKind == LossKind.CROSS_ENTROPY ? crossEntropy(n) : quadratic(n);
    }

    @Override
    public void backward() {
        int n = rows;
        float[] g = grads[stages.size()];
        float[] out = acts[stages.size()];
        int count = n * classes;
        if (lossKind == LossKind.CROSS_ENTROPY) {
            // BP1 for softmax and cross-entropy: (p − onehot(y))/n; the label's entry rounded as the eager rule does.
            float scale = 1f / (float) n;
            for (int i = 0; i < count; i++) g[i] = softmax[i] * scale;
            for (int r = 0; r < n; r++) {
                int at = r * classes + labels[r];
                g[at] = (float) ((double) softmax[at] - 1) * scale;
            }
        } else {
            // ∂C/∂a = (a − y)/n
            float scale = 1f / (float) n;
            for (int i = 0; i < count; i++) g[i] = out[i] * scale;
            for (int r = 0; r < n; r++) {
                int at = r * classes + labels[r];
                g[at] = (out[at] - 1f) * scale;
            }
        }
        for (int i = stages.size() - 1; i >= firstTrained; i--) {
            long t0 = PROFILE ? clock() : 0;
            stages.get(i).backward(n);
            if (PROFILE) stages.get(i).backwardNanos += clock() - t0;
        }
    }

    /** The profile's clock: the calling thread's CPU time, which other processes' load does not inflate. */
    private static long clock() {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    /**
     * With {@code -Ddeltagrad.step.profile=true}, one line per stage: the calling thread's CPU milliseconds in its
     * forward and backward since the last call (which resets them; run on one thread to see whole stages); else "".
     */
    public String profile() {
        StringBuilder out = new StringBuilder();
        for (Stage s : stages) {
            if (!PROFILE) break;
            out.append(String.format(java.util.Locale.ROOT, "%3d %-16s forward %9.1f ms  backward %9.1f ms%n", s.index, s.getClass().getSimpleName(),
                    s.forwardNanos / 1e6, s.backwardNanos / 1e6));
            s.forwardNanos = 0;
            s.backwardNanos = 0;
        }
        return out.toString();
    }

    @Override
    public void update() {
        if (foldedWeightDecay < 0) {
            if (clipNorm > 0) GradClip.clipGradNorm(parameters, clipNorm);
            optimizer.step();
        }
        for (Tensor p : parameters) p.zeroGrad();
    }

    @Override
    public int correct() {
        float[] out = acts[stages.size()];
        int c = 0;
        for (int r = 0; r < rows; r++) if (argmax(out, r * classes, classes) == labels[r]) c++;
        return c;
    }

    /** The first index of the largest of n values (a NaN counts as largest), as {@code Evaluation.predictions} picks. */
    private static int argmax(float[] v, int at, int n) {
        int best = 0;
        float bv = v[at];
        for (int j = 1; j < n && !Float.isNaN(bv); j++) {
            float c = v[at + j];
            if (Float.isNaN(c) || c > bv) {
                bv = c;
                best = j;
            }
        }
        return best;
    }

    // ---------------------------------------------------------------- losses (forward)

    /** Mean cross-entropy of the logits, in float64 per row as the eager op, which also leaves the softmax. */
    private double crossEntropy(int n) {
        float[] z = acts[stages.size()];
        int c = classes;
        Parallel.forRange(n, Math.max(1, LossKernels.CROSS_ENTROPY_GRAIN / c), (from, to) -> LossKernels.crossEntropyRows(z, 0, softmax, from, to, c, labels, rowLoss));
        double total = 0;
        for (int r = 0; r < n; r++) total += rowLoss[r];
        return (float) (total / n);
    }

    /** 1/(2n)·Σ‖y − a‖² in float64, as the eager op. */
    private double quadratic(int n) {
        float[] a = acts[stages.size()];
        double sum = 0;
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < classes; j++) {
                int i = r * classes + j;
                double d = (double) a[i] - (j == labels[r] ? 1 : 0);
                sum += d * d;
            }
        }
        return (float) (sum / (2.0 * n));
    }

    // ---------------------------------------------------------------- stages

    /** One layer: reads acts[index], writes acts[index + 1]; backward turns grads[index + 1] into grads[index]. */
    private abstract class Stage {
        final int index;
        final int width;
        long forwardNanos;
        long backwardNanos;

        Stage(int index, int width) {
            this.index = index;
            this.width = width;
        }

        abstract void forward(int n);

        abstract void backward(int n);

        /** Whether this stage's output array may be this stage's input array. */
        boolean elementwise() {
            return true;
        }

        /** Whether backward reads the stage's input (then nothing may overwrite it). */
        boolean needsInput() {
            return false;
        }

        /** Whether backward reads the stage's output (then the next stage may not work in place). */
        boolean needsOutput() {
            return false;
        }

        /** Whether the gradient of the input is wanted (a trained layer lies before this one). */
        boolean inputGradWanted() {
            return index > firstTrained;
        }

        /** Values per row of the input. */
        int inWidth() {
            return width;
        }

        /** Whether the output is the input's array itself, unchanged (and the gradients likewise). */
        boolean sharesArrays() {
            return false;
        }

        /** Makes the stage's own buffers for n rows. */
        void allocate(int n) {
        }

        /** Adds the stage's parameters, in the module's order. */
        void addParameters(List<Tensor> out) {
        }

        /** Whether this stage applies the in-place activation that follows it in its own forward (then it will). */
        boolean fuse(ActivationStage next) {
            return false;
        }
    }

    /** z = a·Wᵀ + b; backward BP2 (δ·W for the layer below), BP3 and BP4, and the update. */
    /** A layer with a float32 weight and maybe a bias, which applies the in-place activation after it itself. */
    private abstract class WeightStage extends Stage {
        final Tensor weight;
        final Tensor bias;
        final float[] w;
        final float[] b;
        /** The activation that follows in place, applied by this stage's forward (set when the arrays are planned). */
        ActivationStage activation;

        WeightStage(int index, int width, Tensor weight, Tensor bias) throws NotCompilable {
            super(index, width);
            if (weight.dtype() != DType.FLOAT32 || (bias != null && bias.dtype() != DType.FLOAT32)) {
                throw new NotCompilable("layer " + index + " is " + weight.dtype() + ", not float32");
            }
            this.weight = weight;
            this.bias = bias;
            this.w = TensorMemory.floats(weight);
            this.b = bias == null ? null : TensorMemory.floats(bias);
        }

        @Override
        void addParameters(List<Tensor> out) {
            out.add(weight);
            if (bias != null) out.add(bias);
        }

        @Override
        boolean fuse(ActivationStage next) {
            activation = next;
            return true;
        }

        @Override
        boolean elementwise() {
            return false;
        }
    }

    private final class LinearStage extends WeightStage {
        final int in;
        final float[] gw;
        final float[] gb;
        final Tensor gwTensor;
        final Tensor gbTensor;

        LinearStage(int index, Linear lin) throws NotCompilable {
            super(index, lin.outFeatures(), lin.weight(), lin.bias());
            this.in = lin.inFeatures();
            boolean folded = foldedWeightDecay >= 0;
            this.gw = folded ? null : new float[width * in];
            this.gwTensor = folded ? null : Tensor.of(gw, width, in);
            this.gb = bias == null ? null : new float[width];
            this.gbTensor = bias == null ? null : Tensor.of(gb, width);
        }

        @Override
        int inWidth() {
            return in;
        }

        @Override
        boolean needsInput() {
            return true;
        }

        @Override
        void forward(int n) {
            float[] x = acts[index], z = acts[index + 1];
            int out = width;
            Gemm.sgemm(false, true, n, out, in, 1f, x, 0, in, w, 0, in, 0f, z, 0, out);
            if (b == null && activation == null) return;
            // The bias, then the activation in place, over rows still in cache
            Parallel.forRange(n, Math.max(1, GRAIN / out), (from, to) -> {
                if (b != null) {
                    for (int r = from; r < to; r++) {
                        int o = r * out;
                        for (int j = 0; j < out; j++) z[o + j] += b[j];
                    }
                }
                if (activation != null) Elementwise.unary(activation.op, 0, 0, z, from * out, z, from * out, (to - from) * out);
            });
        }

        @Override
        void backward(int n) {
            float[] d = grads[index + 1], a = acts[index];
            int out = width;
            // BP2 first: it needs W as it was in the forward pass, before any update below.
            if (inputGradWanted()) Gemm.sgemm(false, false, n, in, out, 1f, d, 0, out, w, 0, in, 0f, grads[index], 0, in);
            if (gb != null) {
                java.util.Arrays.fill(gb, 0f);
                for (int r = 0; r < n; r++) { // BP3, rows in order, as the eager sum
                    int o = r * out;
                    for (int j = 0; j < out; j++) gb[j] += d[o + j];
                }
            }
            if (foldedWeightDecay >= 0) {
                double lr = optimizer.learningRate();
                float alpha = (float) -lr, beta = foldedWeightDecay == 0 ? 1f : (float) (1 - lr * foldedWeightDecay);
                // BP4 and SGD in one GEMM: W ← beta·W − lr·δᵀ·a
                Gemm.sgemm(true, false, out, in, n, alpha, d, 0, out, a, 0, in, beta, TensorMemory.floatsToWrite(weight), 0, in);
                if (b != null) {
                    float[] bw = TensorMemory.floatsToWrite(bias);
                    for (int j = 0; j < out; j++) bw[j] = bw[j] * beta + alpha * gb[j];
                }
                return;
            }
            Gemm.sgemm(true, false, out, in, n, 1f, d, 0, out, a, 0, in, 0f, gw, 0, in); // BP4
            weight.setGrad(gwTensor);
            if (bias != null) bias.setGrad(gbTensor);
        }
    }

    /** ReLU, sigmoid or tanh; backward multiplies by f′ computed from the output. */
    private final class ActivationStage extends Stage {
        final Unary op;
        /** Applied by the layer before, over the values its product just wrote. */
        boolean fused;
        /** Its backward is done by the max pooling after it. */
        boolean absorbed;

        ActivationStage(int index, int width, Unary op) {
            super(index, width);
            this.op = op;
        }

        @Override
        boolean needsOutput() {
            return true;
        }

        @Override
        void forward(int n) {
            if (fused) return; // done by the layer before
            float[] x = acts[index], y = acts[index + 1];
            Parallel.forRange(n * width, GRAIN, (from, to) -> Elementwise.unary(op, 0, 0, x, from, y, from, to - from));
        }

        @Override
        void backward(int n) {
            if (absorbed) return;
            float[] g = grads[index + 1], s = acts[index + 1], o = grads[index];
            // ReLU's mask from its output: relu(z) > 0 exactly when z > 0, so the eager rule's kernel applies as it is.
            Elementwise.ActivationBackward f = switch (op) {
                case RELU -> Elementwise.ActivationBackward.RELU;
                case SIGMOID -> Elementwise.ActivationBackward.SIGMOID;
                default -> Elementwise.ActivationBackward.TANH;
            };
            Parallel.forRange(n * width, GRAIN, (from, to) -> Elementwise.backward(f, g, s, o, from, to));
        }
    }

    /** x for x &gt; 0, else slope·x; the gradient sums the two branches of the eager {@code where}. */
    private final class LeakyReluStage extends Stage {
        final float slope;

        LeakyReluStage(int index, int width, double slope) {
            super(index, width);
            this.slope = (float) slope;
        }

        @Override
        boolean needsInput() {
            return true;
        }

        @Override
        void forward(int n) {
            float[] x = acts[index], y = acts[index + 1];
            for (int i = 0, count = n * width; i < count; i++) y[i] = x[i] > 0f ? x[i] : x[i] * slope;
        }

        @Override
        void backward(int n) {
            float[] g = grads[index + 1], x = acts[index], o = grads[index];
            for (int i = 0, count = n * width; i < count; i++) {
                boolean pos = x[i] > 0f;
                o[i] = (pos ? g[i] : 0f) + (pos ? 0f : g[i]) * slope;
            }
        }
    }

    /** Inverted dropout with the module's own masks (drawn in the same order as its forward would). */
    private final class DropoutStage extends Stage {
        final Dropout dropout;
        /** This step's mask: null for the identity (evaluation mode or p = 0), zeros for p = 1. */
        float[] mask;

        DropoutStage(int index, int width, Dropout dropout) {
            super(index, width);
            this.dropout = dropout;
        }

        @Override
        void forward(int n) {
            float[] x = acts[index], y = acts[index + 1];
            double p = dropout.p();
            int count = n * width;
            if (!dropout.isTraining() || p == 0) {
                mask = null;
                if (y != x) System.arraycopy(x, 0, y, 0, count);
                return;
            }
            mask = p == 1 ? new float[count] : TensorMemory.floats(dropout.nextMask(DType.FLOAT32, n, width));
            for (int i = 0; i < count; i++) y[i] = x[i] * mask[i];
        }

        @Override
        void backward(int n) {
            float[] g = grads[index + 1], o = grads[index];
            int count = n * width;
            if (mask == null) {
                if (o != g) System.arraycopy(g, 0, o, 0, count);
                return;
            }
            for (int i = 0; i < count; i++) o[i] = g[i] * mask[i];
        }
    }

    /** Passes its input on; shares its arrays. */
    private final class IdentityStage extends Stage {
        IdentityStage(int index, int width) {
            super(index, width);
        }

        @Override
        boolean sharesArrays() {
            return true;
        }

        @Override
        void forward(int n) {
        }

        @Override
        void backward(int n) {
        }
    }

    /** Unflatten (rows to CNHW images) or Flatten (CNHW images to rows); with one channel the two orders coincide. */
    private final class LayoutStage extends Stage {
        final int channels;
        final int plane;
        final boolean toImages;

        LayoutStage(int index, int[] image, boolean toImages) {
            super(index, image[0] * image[1] * image[2]);
            this.channels = image[0];
            this.plane = image[1] * image[2];
            this.toImages = toImages;
        }

        @Override
        boolean sharesArrays() {
            return channels == 1;
        }

        @Override
        boolean elementwise() {
            return false;
        }

        @Override
        void forward(int n) {
            if (channels > 1) permute(acts[index], acts[index + 1], n, toImages);
        }

        @Override
        void backward(int n) {
            if (channels > 1) permute(grads[index + 1], grads[index], n, !toImages);
        }

        /** Rows [N][C][P] to images [C][N][P], or back. */
        private void permute(float[] from, float[] to, int n, boolean rowsToImages) {
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < channels; c++) {
                    int row = (i * channels + c) * plane, img = (c * n + i) * plane;
                    if (rowsToImages) System.arraycopy(from, row, to, img, plane); else System.arraycopy(from, img, to, row, plane);
                }
            }
        }
    }

    /**
     * Conv2d on CNHW images through {@link Conv.Plan}: forward W·cols + b into the output (its CNHW layout), the
     * activation fused; backward the bias gradient, dW = g·colsᵀ with the forward's cols, and dx when wanted.
     */
    private final class ConvStage extends WeightStage {
        final int[] inShape;
        final int[] outShape;
        final int out;
        final int kernel;
        final int stride;
        final int padding;
        final float[] gw;
        final float[] gb;
        final Tensor gwTensor;
        final Tensor gbTensor;
        Conv.Plan plan;

        ConvStage(int index, Conv2d conv, int[] in) throws NotCompilable {
            super(index, outWidth(conv, in), conv.weight(), conv.bias());
            if (weight.shape(1) != in[0]) {
                throw new NotCompilable("layer " + index + " (Conv2d) takes " + weight.shape(1) + " channels, but gets " + in[0]);
            }
            this.inShape = in.clone();
            this.out = weight.shape(0);
            this.kernel = weight.shape(2);
            this.stride = conv.stride();
            this.padding = conv.padding();
            this.outShape = new int[] {out, (in[1] + 2 * padding - kernel) / stride + 1, (in[2] + 2 * padding - kernel) / stride + 1};
            this.gw = new float[w.length];
            this.gwTensor = Tensor.of(gw, weight.shape());
            this.gb = bias == null ? null : new float[out];
            this.gbTensor = bias == null ? null : Tensor.of(gb, out);
        }

        private static int outWidth(Conv2d conv, int[] in) throws NotCompilable {
            int k = conv.weight().shape(2), p = conv.padding(), s = conv.stride();
            if (k > in[1] + 2 * p || k > in[2] + 2 * p) {
                throw new NotCompilable("a " + k + "x" + k + " Conv2d does not fit its " + in[1] + "x" + in[2] + " input padded by " + p);
            }
            return conv.weight().shape(0) * ((in[1] + 2 * p - k) / s + 1) * ((in[2] + 2 * p - k) / s + 1);
        }

        @Override
        int inWidth() {
            return inShape[0] * inShape[1] * inShape[2];
        }

        @Override
        boolean needsInput() {
            return true; // the weight gradient builds its im2col matrices again, chunk by chunk
        }

        /** The kernel for a batch of n images (the last batch of an epoch may be smaller). */
        private Conv.Plan plan(int n) {
            if (plan == null || plan.n != n) plan = new Conv.Plan(n, inShape[0], inShape[1], inShape[2], out, kernel, kernel, stride, padding);
            return plan;
        }

        @Override
        void forward(int n) {
            float[] y = acts[index + 1];
            int plane = inShape[1] * inShape[2];
            plan(n).forward(acts[index], 0, plane, n * plane, w, 0, b, 0, y);
            if (activation != null) Parallel.forRange(n * width, GRAIN, (from, to) -> Elementwise.unary(activation.op, 0, 0, y, from, y, from, to - from));
        }

        @Override
        void backward(int n) {
            float[] g = grads[index + 1];
            Conv.Plan p = plan(n);
            int plane = inShape[1] * inShape[2];
            if (inputGradWanted()) p.inputGrad(g, 0, w, 0, grads[index], 0, plane, n * plane);
            if (gb != null) {
                Conv.biasGradCnhw(g, out, n, p.oh, p.ow, gb, GRAIN);
                bias.setGrad(gbTensor);
            }
            p.weightGrad(acts[index], 0, plane, n * plane, g, 0, gw, 0);
            weight.setGrad(gwTensor);
        }
    }

    /** MaxPool2d (keeping each window's argmax) or AvgPool2d, plane by plane: the same loops as the eager ops. */
    private final class PoolStage extends Stage {
        final int[] inShape;
        final int[] outShape;
        final int kernel;
        final int stride;
        final boolean max;
        /** Average pooling's window offsets (null for max pooling). */
        final int[] map;
        double[] argmax;
        /** The ReLU before a max pooling, whose backward this stage's backward does (set when the arrays are planned). */
        ActivationStage relu;

        PoolStage(int index, int[] in, int kernel, int stride, boolean max) throws NotCompilable {
            super(index, in[0] * ((in[1] - kernel) / stride + 1) * ((in[2] - kernel) / stride + 1));
            if (kernel > in[1] || kernel > in[2]) {
                throw new NotCompilable("a " + kernel + "x" + kernel + " pooling window is larger than its " + in[1] + "x" + in[2] + " input");
            }
            this.inShape = in.clone();
            this.outShape = new int[] {in[0], (in[1] - kernel) / stride + 1, (in[2] - kernel) / stride + 1};
            this.kernel = kernel;
            this.stride = stride;
            this.max = max;
            this.map = max ? null : Conv.windowMap(in[1], in[2], kernel, stride, outShape[1], outShape[2]); // max pooling reads its windows directly
        }

        @Override
        int inWidth() {
            return inShape[0] * inShape[1] * inShape[2];
        }

        @Override
        boolean elementwise() {
            return false;
        }

        @Override
        void allocate(int n) {
            argmax = max ? new double[n * width] : null;
        }

        @Override
        void forward(int n) {
            float[] x = acts[index], y = acts[index + 1];
            int inPlane = inShape[1] * inShape[2], outPlane = outShape[1] * outShape[2], kk = kernel * kernel;
            Parallel.forRange(n * inShape[0], Math.max(1, GRAIN / inPlane), (from, to) -> {
                for (int p = from; p < to; p++) {
                    if (max) Conv.maxPool(inShape[2], kernel, stride, outShape[1], outShape[2], x, p * inPlane, y, p * outPlane, argmax);
                    else Conv.avgPool(map, kk, x, p * inPlane, y, p * outPlane);
                }
            });
        }

        @Override
        void backward(int n) {
            float[] g = grads[index + 1], dx = grads[index], s = acts[index];
            int inPlane = inShape[1] * inShape[2], outPlane = outShape[1] * outShape[2], kk = kernel * kernel;
            Parallel.forRange(n * inShape[0], Math.max(1, GRAIN / inPlane), (from, to) -> {
                java.util.Arrays.fill(dx, from * inPlane, to * inPlane, 0f);
                for (int p = from; p < to; p++) {
                    if (relu != null) Conv.maxPoolReluBackward(argmax, p * outPlane, outPlane, g, p * outPlane, s, dx, p * inPlane);
                    else if (max) Conv.maxPoolBackward(argmax, p * outPlane, outPlane, g, p * outPlane, dx, p * inPlane);
                    else Conv.avgPoolBackward(map, kk, g, p * outPlane, dx, p * inPlane);
                }
            });
        }
    }
}
