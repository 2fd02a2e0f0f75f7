package org.deltagrad.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.deltagrad.Tensor;

/**
 * The backward sweep. Nodes are visited in exactly the reverse of the order the forward pass created them (a
 * valid reverse topological order), so when a node is reached every consumer has already added its term: its
 * adjoint is the sum over its consumers (fan-out), computed once, and its rule runs once. A gradient for a
 * broadcast input is summed back to the input's shape here, not in each rule; a leaf adds its adjoint into
 * {@code grad()}. Cost is linear in the size of the graph.
 */
final class Engine {
    private Engine() {}

    /**
     * @param targets null to accumulate into the leaves' grad(); otherwise the nodes whose adjoints to return
     *                (the sweep then skips every node that leads to none of them)
     */
    static List<Tensor> run(Tensor output, Tensor gradOutput, List<Node> targets, boolean retainGraph,
                            boolean createGraph, BackwardObserver observer) {
        Tensor seed = seed(output, gradOutput);
        Node root = Autograd.edge(output);
        List<Node> order = reverseCreationOrder(root);
        Set<Node> needed = targets == null ? null : leadingTo(targets, order);
        Map<Node, Tensor> adjoint = new HashMap<>();
        adjoint.put(root, seed);
        Map<Node, Tensor> targetAdjoints = new HashMap<>();
        Autograd.Mode mode = Autograd.mode();
        boolean outerSweep = mode.inBackward;
        mode.inBackward = true; // anomaly mode checks what each rule returns, not the ops inside it

        try (Autograd.Scope scope = Autograd.setGradEnabled(createGraph)) {
            for (Node node : order) {
                Tensor g = adjoint.remove(node);
                if (g == null || (needed != null && !needed.contains(node))) continue;
                if (targets != null && targets.contains(node)) targetAdjoints.put(node, g);
                if (node.isLeaf()) {
                    if (targets == null) accumulate(node, g, createGraph);
                    if (observer != null) observer.visit(node, g, new Tensor[0]);
                    continue;
                }
                Tensor[] grads = node.applyRule(g);
                if (grads == null || grads.length != node.next.length) {
                    throw new IllegalStateException("the backward rule of '" + node.name() + "' returned "
                            + (grads == null ? "null" : grads.length + " gradients") + " for " + node.next.length + " inputs");
                }
                for (int i = 0; i < grads.length; i++) {
                    Node input = node.next[i];
                    grads[i] = input == null || grads[i] == null ? null : fitToInput(node, i, grads[i]);
                }
                if (mode.detectAnomaly) Anomaly.checkBackward(node, g, grads);
                for (int i = 0; i < grads.length; i++) {
                    Node input = node.next[i];
                    if (grads[i] != null && (needed == null || needed.contains(input))) adjoint.merge(input, grads[i], Tensor::add);
                }
                if (observer != null) observer.visit(node, g, grads);
                if (!retainGraph) node.release();
            }
        } finally {
            mode.inBackward = outerSweep;
        }
        if (targets == null) return List.of();
        List<Tensor> result = new ArrayList<>(targets.size());
        for (Node t : targets) result.add(targetAdjoints.get(t));
        return result;
    }

    /** ∂output/∂output: ones for a scalar output, else the caller's gradOutput of the output's shape. */
    private static Tensor seed(Tensor output, Tensor gradOutput) {
        if (!output.requiresGrad()) {
            throw new IllegalStateException("backward: the output does not require grad; no input of the computation "
                    + "had requiresGrad(true), or it was computed inside Autograd.noGrad()");
        }
        if (gradOutput == null && output.numel() != 1) {
            throw new IllegalArgumentException("backward: the output has shape " + Arrays.toString(output.shape())
                    + "; gradients can be created implicitly only for a scalar output. Pass a gradOutput of that "
                    + "shape (e.g. backward(Tensor.ones(...))), or reduce the output to a scalar first (sum/mean).");
        }
        if (gradOutput != null && !Arrays.equals(gradOutput.shape(), output.shape())) {
            throw new IllegalArgumentException("backward: gradOutput has shape " + Arrays.toString(gradOutput.shape())
                    + " but the output has shape " + Arrays.toString(output.shape()));
        }
        return gradOutput != null ? gradOutput.to(output.dtype()) : Tensor.ones(output.dtype(), output.shape());
    }

    /** Broadcasting: a gradient is summed back to its input's shape (and converted to its dtype). */
    private static Tensor fitToInput(Node node, int i, Tensor g) {
        int[] shape = node.inputShapes[i];
        if (!Arrays.equals(g.shape(), shape)) {
            try {
                g = g.sumToShape(shape);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("the backward rule of '" + node.name() + "' returned a gradient of shape "
                        + Arrays.toString(g.shape()) + " for input " + i + " of shape " + Arrays.toString(shape), e);
            }
        }
        return g.dtype() == node.inputDtypes[i] ? g : g.to(node.inputDtypes[i]);
    }

    /**
     * Adds g into the leaf's grad. Locked per leaf, so sweeps on several threads that share the leaf add up
     * (PyTorch locks its AccumulateGrad node the same way). A first gradient is copied, because g may be held
     * elsewhere (the caller's seed, the same gradient sent to another input) and later sums write into grad in place.
     */
    private static void accumulate(Node accumulator, Tensor g, boolean createGraph) {
        Tensor leaf = accumulator.variable;
        synchronized (accumulator) {
            Tensor current = leaf.grad();
            if (current == null) leaf.setGrad(createGraph ? g : g.copy());
            else if (createGraph || current.requiresGrad()) leaf.setGrad(current.add(g));
            else current.addInPlace(g);
        }
    }

    /** All nodes reachable from {@code root}, latest-created first. */
    private static List<Node> reverseCreationOrder(Node root) {
        List<Node> nodes = new ArrayList<>();
        Set<Node> seen = new HashSet<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        stack.push(root);
        seen.add(root);
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            nodes.add(n);
            for (Node m : n.next) {
                if (m != null && seen.add(m)) stack.push(m);
            }
        }
        nodes.sort(Comparator.comparingLong((Node n) -> n.sequence).reversed());
        return nodes;
    }

    /** The nodes from which some target can be reached: the only ones whose rules matter for Autograd.grad. */
    private static Set<Node> leadingTo(List<Node> targets, List<Node> order) {
        Set<Node> needed = new HashSet<>(targets);
        for (int k = order.size() - 1; k >= 0; k--) {
            Node n = order.get(k);
            for (Node m : n.next) {
                if (m != null && needed.contains(m)) {
                    needed.add(n);
                    break;
                }
            }
        }
        return needed;
    }
}
