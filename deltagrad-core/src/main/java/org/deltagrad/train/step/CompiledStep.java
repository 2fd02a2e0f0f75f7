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
import org.deltagrad.kernels.Elementwise;
import org.deltagrad.kernels.Elementwise.Unary;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.LossKernels;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.nn.Dropout;
import org.deltagrad.nn.Identity;
import org.deltagrad.nn.LeakyReLU;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.Module;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.deltagrad.nn.Sigmoid;
import org.deltagrad.nn.Tanh;
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
        this.foldedWeightDecay = optimizer instanceof SGD sgd && sgd.momentum() == 0 && clipNorm == 0 ? sgd.weightDecay() : -1;
        this.stages = new ArrayList<>();
        int width = -1, first = -1, inputs = -1;
        for (Module m : layers) {
            if (m instanceof Linear lin) {
                if (width >= 0 && lin.inFeatures() != width) {
                    throw new NotCompilable("layer " + stages.size() + " takes " + lin.inFeatures() + " inputs, but gets " + width);
                }
                if (first < 0) {
                    first = stages.size();
                    inputs = lin.inFeatures();
                }
                width = lin.outFeatures();
            }
            stages.add(stage(m, stages.size(), width));
        }
        if (first < 0) throw new NotCompilable("the model has no Linear layer");
        this.inputWidth = inputs;
        this.firstTrained = first;
        this.classes = width;
        this.parameters = new ArrayList<>();
        for (Stage s : stages) if (s instanceof LinearStage l) l.addParameters(parameters);
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
            if (s instanceof IdentityStage) {
                acts[i + 1] = acts[i];
                producer[i + 1] = producer[i];
            } else if (s.elementwise() && !s.needsInput() && producer[i] >= 0 && !stages.get(producer[i]).needsOutput()) {
                acts[i + 1] = acts[i]; // in place: nothing reads the input later
                producer[i + 1] = i;
                if (s instanceof ActivationStage a && i > 0 && stages.get(i - 1) instanceof LinearStage l) l.activation = a;
            } else {
                acts[i + 1] = new float[n * s.width];
                producer[i + 1] = i;
            }
        }
        grads = new float[count + 1][];
        grads[count] = new float[n * classes];
        for (int i = count - 1; i > firstTrained; i--) {
            Stage s = stages.get(i);
            grads[i] = s.elementwise() ? grads[i + 1] : new float[n * ((LinearStage) s).in];
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
        for (Stage s : stages) s.forward(n);
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
        for (int i = stages.size() - 1; i >= firstTrained; i--) stages.get(i).backward(n);
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
    }

    /** z = a·Wᵀ + b; backward BP2 (δ·W for the layer below), BP3 and BP4, and the update. */
    private final class LinearStage extends Stage {
        final Tensor weight;
        final Tensor bias;
        final int in;
        final float[] w;
        final float[] b;
        final float[] gw;
        final float[] gb;
        final Tensor gwTensor;
        final Tensor gbTensor;
        /** The activation that follows in place, applied by this stage's forward (set when the arrays are planned). */
        ActivationStage activation;

        LinearStage(int index, Linear lin) throws NotCompilable {
            super(index, lin.outFeatures());
            this.weight = lin.weight();
            this.bias = lin.bias();
            this.in = lin.inFeatures();
            if (weight.dtype() != DType.FLOAT32 || (bias != null && bias.dtype() != DType.FLOAT32)) {
                throw new NotCompilable("layer " + index + " is " + weight.dtype() + ", not float32");
            }
            this.w = TensorMemory.floats(weight);
            this.b = bias == null ? null : TensorMemory.floats(bias);
            boolean folded = foldedWeightDecay >= 0;
            this.gw = folded ? null : new float[width * in];
            this.gwTensor = folded ? null : Tensor.of(gw, width, in);
            this.gb = bias == null ? null : new float[width];
            this.gbTensor = bias == null ? null : Tensor.of(gb, width);
        }

        void addParameters(List<Tensor> out) {
            out.add(weight);
            if (bias != null) out.add(bias);
        }

        @Override
        boolean elementwise() {
            return false;
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
            if (stages.get(index - 1) instanceof LinearStage l && l.activation == this) return; // done there
            float[] x = acts[index], y = acts[index + 1];
            Parallel.forRange(n * width, GRAIN, (from, to) -> Elementwise.unary(op, 0, 0, x, from, y, from, to - from));
        }

        @Override
        void backward(int n) {
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
        void forward(int n) {
        }

        @Override
        void backward(int n) {
        }
    }
}
