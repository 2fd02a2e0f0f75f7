package org.deltagrad.classic;

import static java.util.Collections.unmodifiableList;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;

/**
 * Nielsen's feedforward sigmoid network with backpropagation written out by hand: the four fundamental
 * equations BP1–BP4 in matrix form over a whole mini-batch, one matrix product per layer, no autograd.
 * It is the reference the autograd engine is checked against, and what {@code deltagrad explain --network}
 * prints.
 *
 * <p>Layout: an activation matrix has one <em>column</em> per example (Nielsen's convention), so layer l
 * computes zˡ = wˡ aˡ⁻¹ + bˡ with wˡ of shape (nₗ, nₗ₋₁) and bˡ of shape (nₗ, 1) broadcast over the columns.
 * Layers are numbered 1..L−1 after the input layer 0, so {@code weight(1)} maps the input to the first
 * hidden layer.
 *
 * <p>The cost of a batch is the mean of the per-example costs C = (1/m) Σₓ Cₓ, so the gradients here are
 * those of the mean (Nielsen's update rule w → w − (η/m) Σₓ ∂Cₓ/∂w is one step on them).
 */
public final class Network {

    /** The cost of one example, Cₓ, and the output error δᴸ it gives with sigmoid output neurons (BP1). */
    public enum Cost {
        /** Cₓ = ½‖aᴸ − y‖²; ∇ₐCₓ = aᴸ − y, so δᴸ = (aᴸ − y) ⊙ σ′(zᴸ). */
        QUADRATIC {
            @Override
            public Tensor perExample(Tensor a, Tensor y) {
                return a.sub(y).square().sum(0, false).mul(0.5);
            }

            @Override
            public Tensor outputError(Tensor z, Tensor a, Tensor y) {
                return a.sub(y).mul(sigmoidPrime(z));
            }
        },
        /**
         * Cₓ = −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)]; its ∇ₐC has σ′(z) in the denominator, which cancels BP1's
         * factor, so δᴸ = aᴸ − y and a saturated output neuron still learns quickly.
         */
        CROSS_ENTROPY {
            @Override
            public Tensor perExample(Tensor a, Tensor y) {
                Tensor one = Tensor.scalar(1, a.dtype());
                return y.mul(a.log()).add(one.sub(y).mul(one.sub(a).log())).sum(0, false).neg();
            }

            @Override
            public Tensor outputError(Tensor z, Tensor a, Tensor y) {
                return a.sub(y);
            }
        };

        /** Cₓ for each column of a (outputs) against y (targets): a vector of length m. */
        public abstract Tensor perExample(Tensor a, Tensor y);

        /** δᴸ = ∂Cₓ/∂zᴸ for each column (BP1). */
        public abstract Tensor outputError(Tensor z, Tensor a, Tensor y);

        /** C = (1/m) Σₓ Cₓ, a 0-dimensional tensor (differentiable when the inputs require grad). */
        public Tensor mean(Tensor a, Tensor y) {
            return perExample(a, y).mean();
        }
    }

    /**
     * Everything one backprop computed, indexed by layer l = 0..L−1 (entries at index 0 are null except
     * the input activation a⁰ = x): the weighted inputs zˡ, activations aˡ, errors δˡ = ∂Cₓ/∂zˡ (one column
     * per example, not averaged), and the gradients of the mean cost ∂C/∂bˡ (BP3) and ∂C/∂wˡ (BP4).
     */
    public record Gradients(List<Tensor> z, List<Tensor> activations, List<Tensor> deltas,
                            List<Tensor> weightGrads, List<Tensor> biasGrads, double cost) {}

    private final int[] sizes;
    private final DType dtype;
    private final Cost cost;
    private final List<Tensor> weights = new ArrayList<>();
    private final List<Tensor> biases = new ArrayList<>();

    /** A network with the quadratic cost (the one Nielsen derives BP1–BP4 with). */
    public Network(int[] sizes, long seed, DType dtype) {
        this(sizes, seed, dtype, Cost.QUADRATIC);
    }

    /**
     * Initialised as Nielsen's improved {@code network2.py}: biases N(0, 1) and weights N(0, 1/nₗ₋₁), i.e.
     * standard deviation 1/√(fan-in), so a neuron's weighted input starts with variance about 1 and the
     * sigmoids do not start saturated (the N(0, 1) weights of {@code network.py} do that for wide layers).
     */
    public Network(int[] sizes, long seed, DType dtype, Cost cost) {
        if (sizes.length < 2) throw new IllegalArgumentException("Network: need at least an input and an output layer, got "
                + Arrays.toString(sizes));
        for (int n : sizes) {
            if (n < 1) throw new IllegalArgumentException("Network: layer sizes must be positive, got " + Arrays.toString(sizes));
        }
        this.sizes = sizes.clone();
        this.dtype = dtype;
        this.cost = cost;
        SplittableRandom rng = new SplittableRandom(seed);
        weights.add(null);
        biases.add(null);
        for (int l = 1; l < sizes.length; l++) {
            Tensor w = Tensor.randn(dtype, rng, sizes[l], sizes[l - 1]);
            weights.add(w.mulInPlace(1 / Math.sqrt(sizes[l - 1])));
            biases.add(Tensor.randn(dtype, rng, sizes[l], 1));
        }
    }

    public int[] sizes() {
        return sizes.clone();
    }

    /** Number of layers L, the input layer included. */
    public int layers() {
        return sizes.length;
    }

    public DType dtype() {
        return dtype;
    }

    public Cost cost() {
        return cost;
    }

    /** wˡ for l = 1..L−1: the live tensor (writes change the network). */
    public Tensor weight(int l) {
        return weights.get(checkLayer(l));
    }

    /** bˡ for l = 1..L−1, shape (nₗ, 1): the live tensor. */
    public Tensor bias(int l) {
        return biases.get(checkLayer(l));
    }

    /** Total number of weights and biases. */
    public int parameterCount() {
        int n = 0;
        for (int l = 1; l < sizes.length; l++) n += sizes[l] * (sizes[l - 1] + 1);
        return n;
    }

    private int checkLayer(int l) {
        if (l < 1 || l >= sizes.length) {
            throw new IndexOutOfBoundsException("layer " + l + " is not in 1.." + (sizes.length - 1));
        }
        return l;
    }

    /** The output activations aᴸ⁻¹ for inputs x of shape (n₀, m), one column per example. */
    public Tensor feedforward(Tensor x) {
        Tensor a = input(x);
        for (int l = 1; l < sizes.length; l++) a = weights.get(l).matmul(a).add(biases.get(l)).sigmoid();
        return a;
    }

    /** The mean cost C over the columns of x and y. */
    public double cost(Tensor x, Tensor y) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            return cost.mean(feedforward(x), target(y)).item();
        }
    }

    /**
     * The gradient of the mean cost over the batch (x, y), by the four equations:
     * BP1 δᴸ = ∇ₐC ⊙ σ′(zᴸ); BP2 δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ); BP3 ∂C/∂bˡ = δˡ; BP4 ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ,
     * the last two averaged over the m columns (BP4's matrix product sums over them in one go).
     */
    public Gradients backprop(Tensor x, Tensor y) {
        int layers = sizes.length;
        Tensor target = target(y);
        List<Tensor> zs = nulls(layers), as = nulls(layers), deltas = nulls(layers);
        List<Tensor> gw = nulls(layers), gb = nulls(layers);
        try (Autograd.Scope s = Autograd.noGrad()) {
            as.set(0, input(x));
            int m = as.get(0).shape(1);
            if (target.shape(1) != m || target.shape(0) != sizes[layers - 1]) {
                throw new IllegalArgumentException("backprop: targets of shape " + Arrays.toString(target.shape())
                        + " do not match " + m + " examples of " + sizes[layers - 1] + " outputs");
            }
            // Feedforward, keeping every zˡ and aˡ: the backward pass needs them all.
            for (int l = 1; l < layers; l++) {
                zs.set(l, weights.get(l).matmul(as.get(l - 1)).add(biases.get(l)));
                as.set(l, zs.get(l).sigmoid());
            }
            int last = layers - 1;
            deltas.set(last, cost.outputError(zs.get(last), as.get(last), target));                        // BP1
            for (int l = last - 1; l >= 1; l--) {
                deltas.set(l, weights.get(l + 1).t().matmul(deltas.get(l + 1)).mul(sigmoidPrime(zs.get(l))));  // BP2
            }
            for (int l = 1; l < layers; l++) {
                gb.set(l, deltas.get(l).sum(1, true).div(m));                                               // BP3
                gw.set(l, deltas.get(l).matmul(as.get(l - 1).t()).div(m));                                  // BP4
            }
            double c = cost.mean(as.get(last), target).item();
            return new Gradients(unmodifiableList(zs), unmodifiableList(as), unmodifiableList(deltas),
                    unmodifiableList(gw), unmodifiableList(gb), c);
        }
    }

    /**
     * The same gradients from the generic engine instead of the four equations: the network rebuilt from tensor
     * ops on leaf copies of the weights and one backward sweep. δˡ is m times the engine's adjoint of zˡ (the cost
     * is the mean over m examples, δ is per example), so every field is comparable with {@link #backprop}.
     */
    public Gradients backpropByAutograd(Tensor x, Tensor y) {
        int layers = sizes.length;
        Tensor target = target(y);
        List<Tensor> zs = nulls(layers), as = nulls(layers), params = new ArrayList<>();
        as.set(0, input(x));
        int m = as.get(0).shape(1);
        for (int l = 1; l < layers; l++) {
            Tensor w = Tensor.of(weights.get(l).toDoubleArray(), weights.get(l).shape()).requiresGrad(true);
            Tensor b = Tensor.of(biases.get(l).toDoubleArray(), biases.get(l).shape()).requiresGrad(true);
            params.add(w);
            params.add(b);
            zs.set(l, w.matmul(as.get(l - 1).to(DType.FLOAT64)).add(b));
            as.set(l, zs.get(l).sigmoid());
        }
        Tensor c = cost.mean(as.get(layers - 1), target.to(DType.FLOAT64));
        List<Tensor> targets = new ArrayList<>(params);
        targets.addAll(zs.subList(1, layers));
        List<Tensor> g = Autograd.grad(c, targets, false);
        List<Tensor> gw = nulls(layers), gb = nulls(layers), deltas = nulls(layers);
        for (int l = 1; l < layers; l++) {
            gw.set(l, g.get(2 * (l - 1)));
            gb.set(l, g.get(2 * (l - 1) + 1));
            deltas.set(l, g.get(params.size() + l - 1).mul(m));
        }
        return new Gradients(unmodifiableList(zs), unmodifiableList(as), unmodifiableList(deltas),
                unmodifiableList(gw), unmodifiableList(gb), c.item());
    }

    /** ∂C/∂p[r][c] by central differences: the mean cost with p[r][c] moved by +h and by −h (two forward passes). */
    public double centralDifference(Tensor p, int r, int c, Tensor x, Tensor y, double h) {
        double v = p.get(r, c);
        try (Autograd.Scope s = Autograd.noGrad()) {
            p.set(v + h, r, c);
            double plus = cost(x, y);
            p.set(v - h, r, c);
            double minus = cost(x, y);
            return (plus - minus) / (2 * h);
        } finally {
            p.set(v, r, c);
        }
    }

    /** One step of gradient descent on the mini-batch (x, y): w → w − η ∂C/∂w, b → b − η ∂C/∂b. */
    public double sgdStep(Tensor x, Tensor y, double eta) {
        return sgdStep(x, y, eta, 0, 1);
    }

    /**
     * As {@link #sgdStep(Tensor, Tensor, double)} with L2 regularisation (λ/2n)Σw² over a training set of n
     * examples: the weights first decay by the factor 1 − ηλ/n (biases are not regularised, as in Nielsen).
     * Returns the batch's mean cost before the step.
     */
    public double sgdStep(Tensor x, Tensor y, double eta, double lambda, int trainingSize) {
        Gradients g = backprop(x, y);
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int l = 1; l < sizes.length; l++) {
                if (lambda != 0) weights.get(l).mulInPlace(1 - eta * lambda / trainingSize);
                weights.get(l).addInPlace(g.weightGrads().get(l), -eta);
                biases.get(l).addInPlace(g.biasGrads().get(l), -eta);
            }
        }
        return g.cost();
    }

    /**
     * Mini-batch SGD over the columns of (x, y) for some epochs, reshuffled each epoch from {@code seed}.
     * Returns the mean cost over the training set after each epoch.
     */
    public double[] train(Tensor x, Tensor y, int epochs, int batchSize, double eta, double lambda, long seed) {
        int n = x.shape(1);
        SplittableRandom rng = new SplittableRandom(seed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        double[] costs = new double[epochs];
        for (int e = 0; e < epochs; e++) {
            for (int i = n - 1; i > 0; i--) { // Fisher–Yates
                int j = rng.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int start = 0; start < n; start += batchSize) {
                int[] cols = Arrays.copyOfRange(order, start, Math.min(n, start + batchSize));
                sgdStep(columns(x, cols), columns(y, cols), eta, lambda, n);
            }
            costs[e] = cost(x, y);
        }
        return costs;
    }

    /** How many columns of x the network classifies right: the largest output is the largest entry of y's column. */
    public int evaluate(Tensor x, Tensor y) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            double[] predicted = feedforward(x).argmax(0, false).toDoubleArray();
            double[] expected = target(y).argmax(0, false).toDoubleArray();
            int correct = 0;
            for (int i = 0; i < predicted.length; i++) if (predicted[i] == expected[i]) correct++;
            return correct;
        }
    }

    /** σ′(z) = σ(z)(1 − σ(z)). */
    public static Tensor sigmoidPrime(Tensor z) {
        Tensor s = z.sigmoid();
        return s.mul(s.neg().add(1));
    }

    /** The given columns of a matrix, copied (a mini-batch). */
    public static Tensor columns(Tensor t, int[] cols) {
        int rows = t.shape(0);
        double[] out = new double[rows * cols.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols.length; c++) out[r * cols.length + c] = t.get(r, cols[c]);
        }
        return Tensor.of(out, rows, cols.length).to(t.dtype());
    }

    private Tensor input(Tensor x) {
        if (x.rank() != 2 || x.shape(0) != sizes[0]) {
            throw new IllegalArgumentException("Network: input of shape " + Arrays.toString(x.shape()) + " should be ("
                    + sizes[0] + ", m), one column per example");
        }
        return x.dtype() == dtype ? x : x.to(dtype);
    }

    private Tensor target(Tensor y) {
        if (y.rank() != 2) {
            throw new IllegalArgumentException("Network: targets of shape " + Arrays.toString(y.shape()) + " should be ("
                    + sizes[sizes.length - 1] + ", m), one column per example");
        }
        return y.dtype() == dtype ? y : y.to(dtype);
    }

    private static List<Tensor> nulls(int n) {
        return new ArrayList<>(Collections.nCopies(n, (Tensor) null));
    }
}
