package org.deltagrad.autograd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.deltagrad.Tensor;

/**
 * Entry points of reverse-mode automatic differentiation: grad mode, anomaly detection, gradients of outputs
 * w.r.t. inputs. Grad mode and anomaly detection are per thread.
 */
public final class Autograd {
    private Autograd() {}

    /** This thread's switches, in one object so that an op reads them with one thread-local lookup. */
    static final class Mode {
        boolean gradEnabled = true;
        boolean detectAnomaly;
        /** A sweep is running: the ops of its rules are checked as the rules' results, not as forward ops. */
        boolean inBackward;
    }

    private static final ThreadLocal<Mode> MODE = ThreadLocal.withInitial(Mode::new);

    static Mode mode() {
        return MODE.get();
    }

    /** Whether ops on tensors that require grad record graph nodes on this thread. */
    public static boolean isGradEnabled() {
        return MODE.get().gradEnabled;
    }

    /** A scope in which grad mode is set as given; closing it restores the previous mode. */
    public static Scope setGradEnabled(boolean enabled) {
        Mode mode = MODE.get();
        boolean previous = mode.gradEnabled;
        mode.gradEnabled = enabled;
        return () -> mode.gradEnabled = previous;
    }

    /** {@code try (var s = Autograd.noGrad()) { ... }}: no graph is recorded inside (inference, optimiser updates). */
    public static Scope noGrad() {
        return setGradEnabled(false);
    }

    /**
     * {@code try (var s = Autograd.detectAnomaly()) { ... }}, like PyTorch's {@code detect_anomaly}: inside, on this
     * thread, the first op that makes a NaN or an infinity from finite inputs throws an {@link AnomalyException}
     * naming the op, forward or backward, the shapes, and where the forward op was created. Forward ops are
     * checked when they run (also without grad), backward rules when the sweep runs them; a leaf that requires
     * grad and reaches an op already non-finite (an optimiser step made it so) is reported by that op. Every op
     * then scans its output and every recorded node keeps its creation stack trace: for debugging, not for speed.
     * Scopes nest; closing one restores the previous setting.
     */
    public static Scope detectAnomaly() {
        Mode mode = MODE.get();
        boolean previous = mode.detectAnomaly;
        mode.detectAnomaly = true;
        return () -> mode.detectAnomaly = previous;
    }

    /** Whether anomaly detection is on on this thread. */
    public static boolean isAnomalyDetectionEnabled() {
        return MODE.get().detectAnomaly;
    }

    /** An {@link AutoCloseable} whose close cannot fail. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * The gradients of a scalar {@code output} with respect to {@code inputs}, without touching any
     * {@code grad()}. With {@code createGraph} the gradients are themselves graph nodes (the backward graph B),
     * so they can be differentiated again. An input that {@code output} does not depend on gets zeros.
     */
    public static List<Tensor> grad(Tensor output, List<Tensor> inputs, boolean createGraph) {
        return grad(output, inputs, null, createGraph, createGraph, null);
    }

    /**
     * The general form: {@code gradOutput} seeds a non-scalar output (null for a scalar), {@code retainGraph}
     * keeps the saved tensors for another sweep, and {@code observer} (nullable) sees every node processed.
     */
    public static List<Tensor> grad(Tensor output, List<Tensor> inputs, Tensor gradOutput, boolean retainGraph,
                                    boolean createGraph, BackwardObserver observer) {
        List<Node> targets = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            Tensor in = inputs.get(i);
            if (!in.requiresGrad()) {
                throw new IllegalArgumentException("Autograd.grad: input " + i + " (shape "
                        + Arrays.toString(in.shape()) + ") does not require grad; call requiresGrad(true) on it "
                        + "before computing the output");
            }
            targets.add(edge(in));
        }
        List<Tensor> result = Engine.run(output, gradOutput, targets, retainGraph, createGraph, observer);
        for (int i = 0; i < result.size(); i++) {
            if (result.get(i) == null) result.set(i, Tensor.zeros(inputs.get(i).dtype(), inputs.get(i).shape()));
        }
        return result;
    }

    /** Accumulates d(output)/d(leaf) into every leaf's {@code grad()}, as {@link Tensor#backward()} does. */
    public static void backward(Tensor output, Tensor gradOutput, boolean retainGraph, boolean createGraph,
                                BackwardObserver observer) {
        Engine.run(output, gradOutput, null, retainGraph, createGraph, observer);
    }

    /** The node a gradient for {@code t} is sent to: its grad_fn, or its leaf accumulator. */
    static Node edge(Tensor t) {
        return t.autogradMeta().edge(t);
    }
}
