package org.deltagrad.autograd;

import java.util.ArrayList;
import java.util.List;

import org.deltagrad.Tensor;

/**
 * A user-defined differentiable op, like PyTorch's {@code autograd.Function}: write the forward (it runs
 * without recording) and the backward rule (with tensor ops, so it can be differentiated again when the
 * sweep creates a graph). Check it with {@link GradCheck}.
 *
 * <pre>{@code
 * Function cube = new Function() {
 *     protected Tensor forward(Context ctx, Tensor... in) { ctx.saveForBackward(in[0]); return in[0].pow(3); }
 *     protected Tensor[] backward(Context ctx, Tensor g) { return new Tensor[] {g.mul(ctx.saved(0).pow(2)).mul(3)}; }
 * };
 * Tensor y = cube.apply(x);
 * }</pre>
 */
public abstract class Function {

    /** What forward leaves for backward. */
    public static final class Context {
        private final List<Tensor> toSave = new ArrayList<>();
        private Node node;

        /** Keeps tensors for backward; save inputs (not outputs) so higher-order gradients flow through them. */
        public void saveForBackward(Tensor... tensors) {
            toSave.addAll(List.of(tensors));
        }

        /** A saved tensor, checked not to have been modified in place since it was saved. */
        public Tensor saved(int i) {
            return node != null ? node.saved(i) : toSave.get(i);
        }

        /** Whether backward must produce a gradient for input i. */
        public boolean needsInputGrad(int i) {
            return node != null && node.needsInputGrad(i);
        }
    }

    /** The name shown in graphs and error messages; the class name by default. */
    public String name() {
        String n = getClass().getSimpleName();
        return n.isEmpty() ? "function" : n;
    }

    /** Computes the output from the inputs; nothing here is recorded in the graph. */
    protected abstract Tensor forward(Context ctx, Tensor... inputs);

    /** ∂out/∂(each input) given ∂out/∂(output), one entry per input (null where none is needed). */
    protected abstract Tensor[] backward(Context ctx, Tensor gradOutput);

    /** Runs forward and records the op in the graph when any input requires grad. */
    public final Tensor apply(Tensor... inputs) {
        Context ctx = new Context();
        Tensor out;
        try (Autograd.Scope s = Autograd.noGrad()) {
            out = forward(ctx, inputs);
        }
        // A new tensor object, so an op that returns an input (or a view of it) never rewires that input.
        out = out.detach();
        return Node.record(name(), (g, node) -> {
            ctx.node = node;
            return backward(ctx, g);
        }, out, ctx.toSave.toArray(new Tensor[0]), inputs);
    }
}
