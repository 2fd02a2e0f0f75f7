package org.deltagrad.autograd;

import org.deltagrad.Tensor;

/**
 * Watches a backward sweep node by node, in the order the nodes are processed (exactly the reverse of the
 * forward order). Used by {@code explain} to show each adjoint and chain-rule term, and by tests to count
 * rule invocations.
 */
@FunctionalInterface
public interface BackwardObserver {
    /**
     * Called once per node reached, after its rule ran.
     *
     * @param node          the forward node
     * @param gradOutput    its adjoint ∂out/∂(node's output), summed over all its consumers
     * @param gradInputs    the rule's contribution to each input's adjoint (already reduced to the input's
     *                      shape; null entries for inputs that need none); empty for leaf accumulators
     */
    void visit(Node node, Tensor gradOutput, Tensor[] gradInputs);
}
