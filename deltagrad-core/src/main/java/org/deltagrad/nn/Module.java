package org.deltagrad.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.deltagrad.DType;
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
 * {@link Dropout} in training mode counts its calls and a {@link BatchNorm} in training mode updates its running
 * statistics, so each serves one thread in training mode.
 *
 * <p>Buffers ({@link #registerBuffer}) are state that is not trained, such as a batch norm's running statistics:
 * not in {@link #parameters()} (so no optimiser touches them), but in {@link #stateDict()}, after the module's
 * own parameters, as PyTorch orders them.
 */
public abstract class Module {
    private final LinkedHashMap<String, Tensor> parameters = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private final Set<String> int64Buffers = new HashSet<>();
    private boolean training = true;

    /** The layer's function; records the graph when its parameters (or input) require grad. */
    public abstract Tensor forward(Tensor x);

    /** Registers a trainable tensor under {@code name} and marks it as requiring grad. Returns it. */
    protected final Tensor registerParameter(String name, Tensor parameter) {
        checkName(name);
        parameters.put(name, parameter.requiresGrad(true));
        return parameter;
    }

    /**
     * Registers state that is saved and loaded with the parameters but not trained (PyTorch's register_buffer).
     * The tensor is kept as given, outside the graph; the module updates it in place. Returns it.
     */
    protected final Tensor registerBuffer(String name, Tensor buffer) {
        checkName(name);
        if (buffer == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": buffer '" + name + "' is null");
        if (buffer.requiresGrad()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": buffer '" + name + "' requires grad; a buffer is not trained");
        }
        buffers.put(name, buffer);
        return buffer;
    }

    /**
     * A buffer holding a count that PyTorch keeps as int64 (e.g. num_batches_tracked): held here as a float64
     * tensor, exact below 2^53, and written to files as I64 (see {@link #int64StateKeys()}). Returns it.
     */
    protected final Tensor registerInt64Buffer(String name, Tensor buffer) {
        if (buffer != null && buffer.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": int64 buffer '" + name + "' must be held as float64");
        }
        registerBuffer(name, buffer);
        int64Buffers.add(name);
        return buffer;
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
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
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
        collect("", out, true, false);
        return out;
    }

    /** Every buffer of this module and its descendants by dotted name (e.g. {@code 2.running_mean}). */
    public final LinkedHashMap<String, Tensor> namedBuffers() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false, true);
        return out;
    }

    /** Every buffer of this module and its descendants, in the order of {@link #namedBuffers()}. */
    public final List<Tensor> buffers() {
        return new ArrayList<>(namedBuffers().values());
    }

    /**
     * The keys of {@link #stateDict()} that PyTorch holds as int64 (held here as float64): a safetensors writer
     * stores them as I64, so the file is the one PyTorch writes.
     */
    public final Set<String> int64StateKeys() {
        Set<String> out = new LinkedHashSet<>();
        collectInt64("", out);
        return out;
    }

    private void collectInt64(String prefix, Set<String> out) {
        for (String name : buffers.keySet()) if (int64Buffers.contains(name)) out.add(prefix + name);
        children.forEach((name, child) -> child.collectInt64(prefix + name + ".", out));
    }

    /** Module by module as PyTorch walks them: its own parameters, then its own buffers, then each child's. */
    private void collect(String prefix, LinkedHashMap<String, Tensor> out, boolean withParameters, boolean withBuffers) {
        if (withParameters) parameters.forEach((name, p) -> out.put(prefix + name, p));
        if (withBuffers) buffers.forEach((name, b) -> out.put(prefix + name, b));
        children.forEach((name, child) -> child.collect(prefix + name + ".", out, withParameters, withBuffers));
    }

    /** Parameters and buffers by dotted name, in PyTorch's state_dict order. */
    private LinkedHashMap<String, Tensor> namedState() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true, true);
        return out;
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
     * The parameters and buffers by name, in PyTorch's order (each module's parameters, then its buffers, then its
     * children's), as tensors detached from the graph that share storage with the module's (so saving reads the
     * live values, as PyTorch's {@code state_dict} does).
     */
    public final LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        namedState().forEach((name, p) -> out.put(name, p.detach()));
        return out;
    }

    /**
     * Copies {@code state} into the parameters and buffers. Everything is checked before anything is written, so a
     * mismatch leaves the module unchanged; the exception names the first mismatch: a missing key, an
     * unexpected key, a shape or a dtype.
     */
    public final void loadStateDict(Map<String, Tensor> state) {
        LinkedHashMap<String, Tensor> own = namedState();
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
