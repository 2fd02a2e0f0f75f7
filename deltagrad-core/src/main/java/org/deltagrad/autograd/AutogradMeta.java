package org.deltagrad.autograd;

import org.deltagrad.Tensor;

/**
 * A tensor's link into the graph (PyTorch's {@code AutogradMeta}): the node that computed it, or for a leaf
 * the accumulator node its gradient flows into. Every {@link Tensor} creates one; only this package wires it,
 * and the one public method answers what {@link Tensor#gradFn()} answers.
 */
public final class AutogradMeta {
    private Node gradFn;
    private Node accumulator;

    public AutogradMeta() {
    }

    /** The node that computed the tensor; null for a leaf. */
    public Node gradFn() {
        return gradFn;
    }

    void setGradFn(Node node) {
        gradFn = node;
    }

    /**
     * Where a gradient for {@code t} (this record's tensor) goes: its grad_fn, or its accumulator, which is
     * made once even when threads record ops on a shared leaf at the same time (the sweep locks it).
     */
    Node edge(Tensor t) {
        Node fn = gradFn;
        if (fn != null) return fn;
        synchronized (this) {
            if (accumulator == null) accumulator = Node.accumulator(t);
            return accumulator;
        }
    }
}
