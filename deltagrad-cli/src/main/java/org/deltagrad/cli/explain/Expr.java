package org.deltagrad.cli.explain;

import java.util.Set;

/**
 * The syntax tree of an {@code explain} expression. Every node remembers the column (0-based character
 * index) it starts at, so later errors, such as a variable without a value, can point at it.
 */
public sealed interface Expr {
    /** The functions the grammar accepts, each applied to one argument. */
    Set<String> FUNCTIONS = Set.of("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu");

    /** The functions on tensors: T(A) transposes; the others take an optional dimension, e.g. sum(A, 0). */
    Set<String> TENSOR_FUNCTIONS = Set.of("T", "sum", "mean", "softmax", "logsumexp");

    int column();

    /** A numeric literal such as {@code 2}, {@code 0.5} or {@code 1e-3}. */
    record Num(double value, int column) implements Expr {
        @Override
        public String toString() {
            return Explainer.format(value);
        }
    }

    /** A variable; every occurrence of one name is the same leaf of the graph. */
    record Var(String name, int column) implements Expr {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Unary minus. */
    record Neg(Expr operand, int column) implements Expr {
        @Override
        public String toString() {
            return "(-" + operand + ")";
        }
    }

    /** One of {@code + - * / ^}, element-wise with broadcasting, or {@code @}, the matrix product. */
    record Binary(char op, Expr left, Expr right, int column) implements Expr {
        @Override
        public String toString() {
            return "(" + left + " " + op + " " + right + ")";
        }
    }

    /** A function of {@link #FUNCTIONS} applied to its argument. */
    record Call(String function, Expr argument, int column) implements Expr {
        @Override
        public String toString() {
            return function + "(" + argument + ")";
        }
    }

    /** A function of {@link #TENSOR_FUNCTIONS}; {@code dim} is null when none was given (the whole tensor). */
    record TensorCall(String function, Expr argument, Integer dim, int column) implements Expr {
        @Override
        public String toString() {
            return function + "(" + argument + (dim == null ? "" : ", " + dim) + ")";
        }
    }

    /** Whether {@code e} uses {@code @} or a tensor function anywhere: then only the tensor explainer can run it. */
    static boolean usesTensorOps(Expr e) {
        for (Expr node : Explainer.postOrder(e)) {
            if (node instanceof TensorCall || node instanceof Binary b && b.op() == '@') return true;
        }
        return false;
    }
}
