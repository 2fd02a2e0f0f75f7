package org.deltagrad.autograd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * One recorded operation of the forward graph G (PyTorch's {@code grad_fn}): the op's name, an edge to
 * the node that produced each input, the tensors its backward rule needs, and that rule. A leaf that
 * requires grad gets an accumulator node, whose "backward" adds the incoming gradient into
 * {@link Tensor#grad()}.
 */
public final class Node {
    /**
     * A backward rule: given ∂out/∂(this op's output), return ∂out/∂(each input), in input order (null for
     * an input that needs none). Rules are written with differentiable tensor ops, so when the sweep runs
     * with {@code createGraph} they record the backward graph B themselves.
     */
    @FunctionalInterface
    public interface Rule {
        Tensor[] backward(Tensor gradOutput, Node node);
    }

    private static final AtomicLong SEQUENCE = new AtomicLong();

    final long sequence = SEQUENCE.incrementAndGet();
    private final String name;
    private final Rule rule;
    final Node[] next;
    final int[][] inputShapes;
    final DType[] inputDtypes;
    private final int[] outputShape;
    private Tensor[] saved;
    private int[] savedVersions;
    private boolean released;
    final Tensor variable;
    /** Where the forward op was created, kept only under {@link Autograd#detectAnomaly()} (else null). */
    final Throwable creation;

    private Node(String name, Rule rule, Node[] next, int[][] inputShapes, DType[] inputDtypes,
                 int[] outputShape, Tensor[] saved, Tensor variable, Throwable creation) {
        this.name = name;
        this.rule = rule;
        this.next = next;
        this.inputShapes = inputShapes;
        this.inputDtypes = inputDtypes;
        this.outputShape = outputShape;
        this.saved = saved;
        this.variable = variable;
        this.creation = creation;
        if (saved != null) {
            savedVersions = new int[saved.length];
            for (int i = 0; i < saved.length; i++) savedVersions[i] = saved[i] == null ? 0 : saved[i].version();
        }
    }

    /** The accumulator node of a leaf tensor that requires grad (made once per leaf, by its {@link AutogradMeta}). */
    static Node accumulator(Tensor leaf) {
        return new Node("AccumulateGrad", null, new Node[0], new int[0][], new DType[0], leaf.shape(), null, leaf, null);
    }

    /**
     * Records {@code output = name(inputs)} in the graph if grad mode is on and any input requires grad;
     * otherwise returns {@code output} untouched. Every differentiable op passes through here, with or without
     * grad, which is why anomaly detection checks forward ops here.
     */
    public static Tensor record(String name, Rule rule, Tensor output, Tensor[] saved, Tensor... inputs) {
        Autograd.Mode mode = Autograd.mode();
        if (mode.detectAnomaly && !mode.inBackward) Anomaly.checkForward(name, output, inputs);
        if (!mode.gradEnabled) return output;
        Node[] next = null;
        for (int i = 0; i < inputs.length; i++) {
            Tensor in = inputs[i];
            if (in != null && in.requiresGrad()) {
                if (next == null) next = new Node[inputs.length];
                next[i] = Autograd.edge(in);
            }
        }
        if (next == null) return output;
        int[][] shapes = new int[inputs.length][];
        DType[] dtypes = new DType[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) continue;
            shapes[i] = inputs[i].shape();
            dtypes[i] = inputs[i].dtype();
        }
        Throwable creation = mode.detectAnomaly ? new Throwable("the forward op '" + name + "' was created here") : null;
        output.autogradMeta().setGradFn(new Node(name, rule, next, shapes, dtypes, output.shape(), saved, null, creation));
        return output.requiresGrad(true);
    }

    /** The op's name, e.g. {@code mul}; accumulator nodes of leaves are named {@code AccumulateGrad}. */
    public String name() {
        return name;
    }

    /** True for the accumulator node of a leaf tensor. */
    public boolean isLeaf() {
        return variable != null;
    }

    /** For an accumulator node, the leaf tensor it accumulates into; otherwise null. */
    public Tensor variable() {
        return variable;
    }

    /** The nodes that produced this op's inputs, in input order; null where an input needs no gradient. */
    public List<Node> inputs() {
        return Collections.unmodifiableList(Arrays.asList(next));
    }

    /** Whether the rule must produce a gradient for input {@code i} (false lets it skip needless work). */
    public boolean needsInputGrad(int i) {
        return next[i] != null;
    }

    /** Shape of the op's output (the tensor whose gradient arrives at this node). */
    public int[] outputShape() {
        return outputShape.clone();
    }

    /** Creation order; nodes created later come first in the backward sweep. */
    public long sequence() {
        return sequence;
    }

    /** The i-th tensor saved for backward, checked to be still available and unmodified. */
    public Tensor saved(int i) {
        if (released) {
            throw new IllegalStateException("Trying to backward through the graph a second time: the tensors saved by '"
                    + name + "' were released after the first backward. Pass retainGraph=true to the first "
                    + "backward (or Autograd.grad) if you need to backward through the same graph again.");
        }
        Tensor t = saved[i];
        if (t.version() != savedVersions[i]) {
            throw new IllegalStateException("A tensor of shape " + Arrays.toString(t.shape()) + " that '" + name
                    + "' saved for backward was modified in place (its version is " + t.version() + ", expected "
                    + savedVersions[i] + "). Modify a copy (copy()) instead, or modify it only after backward.");
        }
        return t;
    }

    Tensor[] applyRule(Tensor gradOutput) {
        return rule.backward(gradOutput, this);
    }

    /** Frees the saved tensors; a later backward through this node fails with a clear message. */
    void release() {
        if (variable == null && saved != null) {
            saved = null;
            released = true;
        }
    }

    @Override
    public String toString() {
        List<String> ins = new ArrayList<>();
        for (Node n : next) ins.add(n == null ? "-" : n.name);
        return name + ins;
    }
}
