package org.deltagrad.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;

/**
 * A layer or a network of layers: a {@link #forward} function with named parameters and named child modules,
 * like PyTorch's {@code nn.Module}. Parameter names are dotted paths through the children in registration
 * order ({@code 0.weight}, {@code 0.bias}, {@code 2.weight} for a {@link Sequential}), so a state dict lines up
 * key for key with the one PyTorch writes for the same architecture.
 *
 * <p>Threads. Inference, {@link #forward} inside {@link Autograd#noGrad()} in eval mode, only reads the
 * parameters: one module may serve any number of threads at once. {@code forward} and {@code backward()} of
 * separate batches may also run on several threads at once: each records its own graph and the gradients add
 * up in the shared parameters' {@code grad()}. Nothing may run on the module while one thread changes it: an
 * optimiser step, {@link #zeroGrad()}, {@link #train(boolean)}/{@link #eval()}, loading a state dict; and a
 * {@link Dropout} in training mode counts its calls, so it serves one thread.
 */
public abstract class Module {
    private final LinkedHashMap<String, Tensor> parameters = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** The layer's function; records the graph when its parameters (or input) require grad. */
    public abstract Tensor forward(Tensor x);

    /** Registers a trainable tensor under {@code name} and marks it as requiring grad. Returns it. */
    protected final Tensor registerParameter(String name, Tensor parameter) {
        checkName(name);
        parameters.put(name, parameter.requiresGrad(true));
        return parameter;
    }

    /** Registers a sub-module, whose parameters are then named {@code name.<its name>}. Returns it. */
    protected final <M extends Module> M registerModule(String name, M module) {
        checkName(name);
        if (module == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": module '" + name + "' is null");
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' must be non-empty and contain no '.'");
        }
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' is already registered");
        }
    }

    /** The direct children by name, in registration order. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter of this module and its descendants, in the order of {@link #namedParameters()}. */
    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Every parameter by dotted name: this module's own first, then each child's in registration order. */
    public final LinkedHashMap<String, Tensor> namedParameters() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, LinkedHashMap<String, Tensor> out) {
        parameters.forEach((name, p) -> out.put(prefix + name, p));
        children.forEach((name, child) -> child.collect(prefix + name + ".", out));
    }

    /** Total number of scalar parameters. */
    public final long parameterCount() {
        long n = 0;
        for (Tensor p : parameters()) n += p.numel();
        return n;
    }

    // ---------------------------------------------------------------- modes

    /** Training mode (the default) for this module and all its descendants; returns this. */
    public final Module train() {
        return train(true);
    }

    public final Module train(boolean mode) {
        training = mode;
        for (Module child : children.values()) child.train(mode);
        return this;
    }

    /** Evaluation mode (e.g. dropout becomes the identity) for this module and all its descendants; returns this. */
    public final Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    /** Zeroes every parameter's accumulated gradient. */
    public final void zeroGrad() {
        for (Tensor p : parameters()) p.zeroGrad();
    }

    // ---------------------------------------------------------------- state

    /**
     * The parameters by name, as tensors detached from the graph that share storage with the parameters
     * (so saving reads the live values, as PyTorch's {@code state_dict} does).
     */
    public final LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((name, p) -> out.put(name, p.detach()));
        return out;
    }

    /**
     * Copies {@code state} into the parameters. Everything is checked before anything is written, so a
     * mismatch leaves the module unchanged; the exception names the first mismatch: a missing key, an
     * unexpected key, a shape or a dtype.
     */
    public final void loadStateDict(Map<String, Tensor> state) {
        LinkedHashMap<String, Tensor> own = namedParameters();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            String name = e.getKey();
            Tensor given = state.get(name);
            if (given == null) {
                throw new IllegalArgumentException("loadStateDict: missing key '" + name + "' (expected keys " + own.keySet() + ")");
            }
            Tensor p = e.getValue();
            if (!Arrays.equals(given.shape(), p.shape())) {
                throw new IllegalArgumentException("loadStateDict: '" + name + "' has shape " + Arrays.toString(given.shape())
                        + " in the state dict but " + Arrays.toString(p.shape()) + " in the module");
            }
            if (given.dtype() != p.dtype()) {
                throw new IllegalArgumentException("loadStateDict: '" + name + "' has dtype " + given.dtype()
                        + " in the state dict but " + p.dtype() + " in the module");
            }
        }
        for (String name : state.keySet()) {
            if (!own.containsKey(name)) {
                throw new IllegalArgumentException("loadStateDict: unexpected key '" + name + "' (expected keys " + own.keySet() + ")");
            }
        }
        // Parameters require grad, so the in-place copy must not be recorded.
        try (Autograd.Scope s = Autograd.noGrad()) {
            own.forEach((name, p) -> p.copyFrom(state.get(name)));
        }
    }

    // ---------------------------------------------------------------- description

    /** What goes inside the parentheses of this module's line in {@link #describe()}, e.g. sizes. */
    protected String extraRepr() {
        return "";
    }

    /** The module tree in PyTorch's layout, one layer per line, then the parameter count. */
    public String describe() {
        return tree() + "\n(" + parameterCount() + " parameters)";
    }

    private String tree() {
        String head = getClass().getSimpleName() + "(" + extraRepr();
        if (children.isEmpty()) return head + ")";
        StringBuilder sb = new StringBuilder(head);
        if (!extraRepr().isEmpty()) sb.append(',');
        for (Map.Entry<String, Module> e : children.entrySet()) {
            String child = e.getValue().tree().replace("\n", "\n  ");
            sb.append("\n  (").append(e.getKey()).append("): ").append(child);
        }
        return sb.append("\n)").toString();
    }

    @Override
    public String toString() {
        return tree();
    }
}
