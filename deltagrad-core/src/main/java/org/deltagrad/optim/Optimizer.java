package org.deltagrad.optim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;

/**
 * Updates parameters from their accumulated gradients. Every update runs inside {@link Autograd#noGrad()}
 * with in-place ops, so it is never recorded and the parameters stay the same leaf tensors. Per-parameter
 * state (momentum, moment estimates) is made with the optimiser, zeros like each parameter, so that a step
 * allocates nothing that must outlive it. Parameters without a gradient are skipped, as in PyTorch.
 */
public abstract class Optimizer {
    protected final List<Tensor> params;
    private double lr;

    protected Optimizer(List<Tensor> params, double lr) {
        if (params.isEmpty()) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters given");
        if (!(lr >= 0)) throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be >= 0, got " + lr);
        for (int i = 0; i < params.size(); i++) {
            if (!params.get(i).requiresGrad()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + i + " does not require grad");
            }
        }
        this.params = new ArrayList<>(params);
        this.lr = lr;
    }

    /** One update of every parameter that has a gradient. */
    public final void step() {
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                if (p.grad() != null) update(i, p, p.grad());
            }
        }
    }

    /** Updates parameter {@code index} in place from its gradient (grad mode is off). */
    protected abstract void update(int index, Tensor param, Tensor grad);

    /** One state tensor per parameter, zeros of its shape and dtype (moments, velocities). */
    protected static Tensor[] zerosLike(List<Tensor> params) {
        Tensor[] state = new Tensor[params.size()];
        for (int i = 0; i < state.length; i++) state[i] = Tensor.zeros(params.get(i).dtype(), params.get(i).shape());
        return state;
    }

    public final void zeroGrad() {
        for (Tensor p : params) p.zeroGrad();
    }

    public final double learningRate() {
        return lr;
    }

    /** Changes the learning rate for the following steps (e.g. from an {@link LrSchedule}). */
    public final void setLearningRate(double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("setLearningRate: learning rate must be >= 0, got " + lr);
        this.lr = lr;
    }

    public final List<Tensor> parameters() {
        return Collections.unmodifiableList(params);
    }

    // ---------------------------------------------------------------- state, for checkpoints

    /**
     * The state later steps depend on besides the parameters and the learning rate, like the "state" of PyTorch's
     * {@code optimizer.state_dict()}: keys {@code "<parameter index>.<name>"} ({@code 0.exp_avg}, {@code 0.step}),
     * values copies that later steps leave alone; step counts are float64 scalars. A parameter not updated yet has
     * no entries. {@link #loadState} on an optimiser of the same kind and parameters continues bit for bit.
     */
    public Map<String, Tensor> state() {
        return new LinkedHashMap<>();
    }

    /**
     * Replaces the state by one {@link #state()} returned. Everything is checked before anything changes; a key
     * this optimiser does not keep, an index out of range, a shape or dtype unlike the parameter's, or a parameter
     * with only some of its entries throws an IllegalArgumentException naming it.
     */
    public void loadState(Map<String, Tensor> state) {
        new StateReader(state);
    }

    /** Adds {@code i.name → copy} for every parameter {@code i} whose {@code started[i]} is set. */
    protected static void putState(Map<String, Tensor> out, String name, Tensor[] perParam, boolean[] started) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int i = 0; i < perParam.length; i++) if (started[i]) out.put(i + "." + name, perParam[i].copy());
        }
    }

    /** Adds {@code i.name → count} (a float64 scalar) for every parameter {@code i} whose count is positive. */
    protected static void putCounts(Map<String, Tensor> out, String name, int[] counts) {
        for (int i = 0; i < counts.length; i++) if (counts[i] > 0) out.put(i + "." + name, Tensor.scalar(counts[i]));
    }

    /**
     * A state map checked against this optimiser's parameters when it is made: every key is {@code i.name} with
     * {@code name} among {@code names}, each parameter has all of them or none, tensors match their parameter,
     * counts are positive integer scalars. Then {@link #tensors} and {@link #counts} cannot fail.
     */
    protected final class StateReader {
        private final Map<String, Tensor> state;

        /** {@code names} are the keys of tensors shaped like the parameter; {@code countNames} of scalar counts. */
        protected StateReader(Map<String, Tensor> state, String... names) {
            this(state, names, new String[0]);
        }

        protected StateReader(Map<String, Tensor> state, String[] names, String[] countNames) {
            this.state = state;
            String who = Optimizer.this.getClass().getSimpleName();
            List<String> tensorNames = Arrays.asList(names), counts = Arrays.asList(countNames);
            Map<Integer, TreeSet<String>> seen = new TreeMap<>();
            for (Map.Entry<String, Tensor> e : state.entrySet()) {
                String key = e.getKey();
                int dot = key.indexOf('.');
                int i = dot > 0 ? parseIndex(key.substring(0, dot)) : -1;
                String name = dot > 0 ? key.substring(dot + 1) : key;
                if (i < 0 || !(tensorNames.contains(name) || counts.contains(name))) {
                    throw new IllegalArgumentException(who + ".loadState: unexpected key '" + key + "' (expected <parameter index>."
                            + String.join("|", concat(names, countNames)) + ")");
                }
                if (i >= params.size()) {
                    throw new IllegalArgumentException(who + ".loadState: '" + key + "' names parameter " + i + " but there are "
                            + params.size());
                }
                Tensor t = e.getValue(), p = params.get(i);
                if (tensorNames.contains(name) && (!Arrays.equals(t.shape(), p.shape()) || t.dtype() != p.dtype())) {
                    throw new IllegalArgumentException(who + ".loadState: '" + key + "' is " + t.dtype() + " " + Arrays.toString(t.shape())
                            + " but parameter " + i + " is " + p.dtype() + " " + Arrays.toString(p.shape()));
                }
                if (counts.contains(name) && (t.numel() != 1 || !(t.item() >= 1 && t.item() <= Integer.MAX_VALUE && t.item() == Math.rint(t.item())))) {
                    throw new IllegalArgumentException(who + ".loadState: '" + key + "' must be one positive whole number");
                }
                seen.computeIfAbsent(i, k -> new TreeSet<>()).add(name);
            }
            TreeSet<String> all = new TreeSet<>(concat(names, countNames));
            seen.forEach((i, present) -> {
                if (!present.equals(all)) {
                    throw new IllegalArgumentException(who + ".loadState: parameter " + i + " has " + present + " but needs " + all);
                }
            });
        }

        /**
         * Writes the entries called {@code name} into {@code into} (the optimiser's own state tensors), zeros where a
         * parameter has none; returns which parameters had one.
         */
        protected boolean[] load(String name, Tensor[] into) {
            boolean[] present = new boolean[params.size()];
            try (Autograd.Scope s = Autograd.noGrad()) {
                for (int i = 0; i < present.length; i++) {
                    Tensor t = state.get(i + "." + name);
                    present[i] = t != null;
                    if (into != null) into[i].copyFrom(t != null ? t : Tensor.scalar(0));
                }
            }
            return present;
        }

        /** The counts called {@code name}, by parameter index (0 where absent). */
        protected int[] counts(String name) {
            int[] out = new int[params.size()];
            for (int i = 0; i < out.length; i++) {
                Tensor t = state.get(i + "." + name);
                if (t != null) out[i] = (int) t.item();
            }
            return out;
        }

    }

    private static int parseIndex(String s) {
        return s.matches("[0-9]{1,9}") ? Integer.parseInt(s) : -1;
    }

    private static List<String> concat(String[] a, String[] b) {
        List<String> all = new ArrayList<>(Arrays.asList(a));
        all.addAll(Arrays.asList(b));
        return all;
    }

    /** g + wd·p, the L2 penalty's gradient folded into the gradient (a new tensor; grad() is left as it is). */
    static Tensor withWeightDecay(Tensor grad, Tensor param, double weightDecay) {
        return weightDecay == 0 ? grad : grad.add(param.mul(weightDecay));
    }

    static void checkNonNegative(String owner, String name, double value) {
        if (!(value >= 0)) throw new IllegalArgumentException(owner + ": " + name + " must be >= 0, got " + value);
    }
}
