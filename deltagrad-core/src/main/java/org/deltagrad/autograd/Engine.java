package org.deltagrad.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.deltagrad.Tensor;

/**
 * The backward sweep. Nodes are visited in exactly the reverse of the order the forward pass created
 * them (a valid reverse topological order), so when a node is reached every consumer has already added its
 * term: each node's adjoint is computed once, as the sum over its consumers, and each rule runs once.
 * Cost is linear in the size of the graph.
 */
final class Engine {
    private Engine() {}

    /**
     * @param targets null to accumulate into the leaves' grad(); otherwise the nodes whose adjoints to return
     *                (the sweep then skips every node that leads to none of them)
     */
    static List<Tensor> run(Tensor output, Tensor gradOutput, List<Node> targets, boolean retainGraph,
                            boolean createGraph, BackwardObserver observer) {
        if (!output.requiresGrad()) {
            throw new IllegalStateException("backward: the output does not require grad; no input of the computation "
                    + "had requiresGrad(true), or it was computed inside Autograd.noGrad()");
        }
        if (gradOutput == null) {
            if (output.numel() != 1) {
                throw new IllegalArgumentException("backward: the output has shape " + Arrays.toString(output.shape())
                        + "; gradients can be created implicitly only for a scalar output. Pass a gradOutput of that "
                        + "shape (e.g. backward(Tensor.ones(...))), or reduce the output to a scalar first (sum/mean).");
            }
        } else if (!Arrays.equals(gradOutput.shape(), output.shape())) {
            throw new IllegalArgumentException("backward: gradOutput has shape " + Arrays.toString(gradOutput.shape())
                    + " but the output has shape " + Arrays.toString(output.shape()));
        }

        long sweepStart = Autograd.ACCESS.nextSerial();
        Set<Long> adopted = new HashSet<>();
        // The implicit seed is made after the sweep's first serial, so leaves may adopt it; a caller's may not be.
        Tensor seed = gradOutput != null ? gradOutput.to(output.dtype()) : Tensor.ones(output.dtype(), output.shape());
        Node root = Autograd.ACCESS.edgeTo(output);
        List<Node> order = reverseTopological(root);
        Set<Node> needed = targets == null ? null : needed(order, targets);

        Map<Node, Tensor> adjoint = new HashMap<>();
        adjoint.put(root, seed);
        Map<Node, Tensor> captured = targets == null ? null : new IdentityHashMap<>();

        try (Autograd.Scope scope = Autograd.setGradEnabled(createGraph)) {
            for (Node node : order) {
                Tensor g = adjoint.remove(node);
                if (g == null || (needed != null && !needed.contains(node))) continue;
                if (captured != null && targets.contains(node)) captured.put(node, g);
                if (node.isLeaf()) {
                    if (targets == null) accumulate(node.variable, g, createGraph, sweepStart, adopted);
                    if (observer != null) observer.visit(node, g, new Tensor[0]);
                    continue;
                }
                Tensor[] grads = node.applyRule(g);
                if (grads == null || grads.length != node.next.length) {
                    throw new IllegalStateException("the backward rule of '" + node.name() + "' returned "
                            + (grads == null ? "null" : grads.length + " gradients") + " for " + node.next.length + " inputs");
                }
                for (int i = 0; i < node.next.length; i++) {
                    Node into = node.next[i];
                    if (into == null || grads[i] == null) {
                        grads[i] = null;
                        continue;
                    }
                    grads[i] = fitToInput(node, i, grads[i]);
                    if (needed != null && !needed.contains(into)) continue;
                    adjoint.merge(into, grads[i], Tensor::add);
                }
                if (observer != null) observer.visit(node, g, grads);
                if (!retainGraph) node.release();
            }
        }
        if (targets == null) return List.of();
        List<Tensor> result = new ArrayList<>(targets.size());
        for (Node t : targets) result.add(captured.get(t));
        return result;
    }

    /** Broadcast gradients are summed back to the input's shape here, in one place, not in each rule. */
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
        if (g.dtype() != node.inputDtypes[i]) g = g.to(node.inputDtypes[i]);
        return g;
    }

    /**
     * Adds g into the leaf's grad. A leaf without one adopts g when the sweep itself allocated it and no other
     * leaf took it (rules such as add's pass one gradient to several inputs); otherwise it gets a copy, so
     * that a later in-place accumulation never writes into a tensor someone else holds.
     */
    private static void accumulate(Tensor leaf, Tensor g, boolean createGraph, long sweepStart, Set<Long> adopted) {
        Tensor current = leaf.grad();
        if (current == null) {
            long serial = Autograd.ACCESS.storageSerial(g);
            boolean fresh = serial >= sweepStart && adopted.add(serial);
            leaf.setGrad(createGraph || fresh ? g : g.copy());
        } else if (createGraph || current.requiresGrad()) {
            leaf.setGrad(current.add(g));
        } else {
            current.addInPlace(g);
        }
    }

    /** All nodes reachable from {@code root}, latest-created first. */
    private static List<Node> reverseTopological(Node root) {
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

    /** Nodes from which some target can be reached (the only ones whose rules matter for grad()). */
    private static Set<Node> needed(List<Node> order, List<Node> targets) {
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
