package org.deltagrad.autograd;

import java.util.ArrayList;
import java.util.List;

import org.deltagrad.Tensor;

/** Entry points of reverse-mode automatic differentiation: grad mode, gradients of outputs w.r.t. inputs. */
public final class Autograd {
    private Autograd() {}

    static volatile TensorAccess ACCESS;

    /** Called once by {@link Tensor}'s static initialiser. */
    public static void install(TensorAccess access) {
        if (ACCESS == null) ACCESS = access;
    }

    private static final ThreadLocal<boolean[]> GRAD_ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    /** Whether ops on tensors that require grad record graph nodes on this thread. */
    public static boolean isGradEnabled() {
        return GRAD_ENABLED.get()[0];
    }

    /** A scope in which grad mode is set as given; closing it restores the previous mode. */
    public static Scope setGradEnabled(boolean enabled) {
        boolean[] flag = GRAD_ENABLED.get();
        boolean previous = flag[0];
        flag[0] = enabled;
        return () -> flag[0] = previous;
    }

    /** {@code try (var s = Autograd.noGrad()) { ... }}: no graph is recorded inside (inference, optimiser updates). */
    public static Scope noGrad() {
        return setGradEnabled(false);
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
                        + java.util.Arrays.toString(in.shape()) + ") does not require grad; call requiresGrad(true) on it "
                        + "before computing the output");
            }
            targets.add(ACCESS.edgeTo(in));
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
}
