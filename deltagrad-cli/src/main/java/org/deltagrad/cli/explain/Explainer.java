package org.deltagrad.cli.explain;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.autograd.Node;

/**
 * Builds an expression's computational graph G with the engine (float64 scalar tensors, one leaf per
 * variable) and records what the engine's backward sweep does on it: each node's adjoint ∂f/∂u, summed over
 * the node's consumers, and the chain-rule term ∂f/∂c·∂c/∂u each consumer c sent. The Hessian is taken
 * through the backward graph B (createGraph), one more sweep per gradient component.
 *
 * <p>Nothing here re-derives a rule: adjoints, terms and the Hessian are the engine's own numbers, seen
 * through a {@link org.deltagrad.autograd.BackwardObserver}; the local derivatives ∂c/∂u shown beside them are
 * the engine's rule applied to the same op on fresh leaves.
 */
public final class Explainer {
    private Explainer() {}

    /** One chain-rule term of an adjoint: what consumer {@code consumer} sent along one edge. */
    public record Term(String consumer, double consumerAdjoint, double local, double contribution) {}

    /**
     * One node of G, in forward order. {@code inputs} names the producing node's id or holds a constant's value;
     * {@code terms} are the contributions summed into {@code adjoint}, one per outgoing edge (so a node that
     * fans out has several); {@code consumers} lists those edges' targets (a node used twice by one op appears
     * twice).
     */
    public record Step(String id, String op, String variable, List<String> inputs, String formula, double value,
                       double adjoint, List<Term> terms, List<String> consumers) {
        public boolean isVariable() {
            return variable != null;
        }
    }

    /** The whole trace. {@code hessian} is null unless order 2 was asked for. */
    public record Explanation(String expression, Expr tree, List<String> variables, double[] point, List<Step> steps,
                              double value, double[] gradient, double[][] hessian) {
        /** The node that is f (the last one), or null for an expression without variables. */
        public Step output() {
            return steps.isEmpty() ? null : steps.get(steps.size() - 1);
        }
    }

    /** A derivative compared with central finite differences. */
    public record Comparison(String derivative, double backprop, double numeric, double error) {}

    /**
     * All comparisons, the worst first-order and overall, with the step sizes (relative to max(1, |x|)).
     * The error is |backprop − numeric| / max(1, |backprop|, |numeric|): relative for large values, absolute
     * for small ones, so an exact zero does not turn rounding noise into an infinite relative error.
     */
    public record Check(double gradientStep, double hessianStep, List<Comparison> comparisons, Comparison worst) {}

    /** Builds and differentiates {@code expression} at the point {@code at} (variable → value); order 1 or 2. */
    public static Explanation explain(String expression, Map<String, Double> at, int order) {
        if (order != 1 && order != 2) throw new IllegalArgumentException("--order must be 1 or 2, not " + order);
        Expr tree = ExpressionParser.parse(expression);
        if (Expr.usesTensorOps(tree)) {
            throw new IllegalArgumentException("explain: " + expression + " uses @ or a tensor function; explain it with tensor values (TensorExplainer)");
        }
        List<String> variables = variables(expression, tree, at);
        return new Builder(expression, tree, variables, at).run(order == 2);
    }

    /**
     * The variables in order of first appearance, each checked to have a value; every name in {@code at}
     * must appear (a name that does not is almost always a typo).
     */
    private static List<String> variables(String expression, Expr tree, Map<String, Double> at) {
        List<Expr.Var> occurrences = new ArrayList<>();
        collectVariables(tree, occurrences);
        occurrences.sort(Comparator.comparingInt(Expr.Var::column));
        List<String> names = new ArrayList<>();
        for (Expr.Var v : occurrences) {
            if (names.contains(v.name())) continue;
            if (!at.containsKey(v.name())) {
                throw new ExpressionParser.ExpressionException(expression, v.column(),
                        "variable '" + v.name() + "' has no value in --at");
            }
            names.add(v.name());
        }
        for (String name : at.keySet()) {
            if (!names.contains(name)) {
                throw new IllegalArgumentException("--at gives a value for '" + name + "', which the expression "
                        + expression + " does not use");
            }
        }
        return names;
    }

    private static void collectVariables(Expr e, List<Expr.Var> out) {
        for (Expr node : postOrder(e)) if (node instanceof Expr.Var v) out.add(v);
    }

    /**
     * Every node of {@code root}, each after its operands (left to right): the order a recursive walk would build
     * them in, found with a stack of our own so that a deep tree cannot overflow the thread's stack.
     */
    static List<Expr> postOrder(Expr root) {
        List<Expr> order = new ArrayList<>();
        ArrayDeque<Expr> pending = new ArrayDeque<>(List.of(root));
        Set<Expr> expanded = Collections.newSetFromMap(new IdentityHashMap<>()); // identity: records compare by value
        while (!pending.isEmpty()) {
            Expr e = pending.peek();
            List<Expr> operands = operands(e);
            if (operands.isEmpty() || !expanded.add(e)) {
                order.add(pending.pop());
            } else {
                for (int i = operands.size() - 1; i >= 0; i--) pending.push(operands.get(i));
            }
        }
        return order;
    }

    /** f at a point, without recording a graph (the finite differences' evaluations). */
    static double evaluate(Expr e, Map<String, Double> at) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            Map<Expr, Tensor> values = new IdentityHashMap<>();
            for (Expr node : postOrder(e)) {
                Tensor t;
                if (node instanceof Expr.Num n) t = Tensor.scalar(n.value());
                else if (node instanceof Expr.Var v) t = Tensor.scalar(at.get(v.name()));
                else t = apply(node, operands(node).stream().map(values::get).toArray(Tensor[]::new));
                values.put(node, t);
            }
            return values.get(e).item();
        }
    }

    /** The operator at the root of {@code e}, applied to already computed operands: one engine op. */
    static Tensor apply(Expr e, Tensor... args) {
        if (e instanceof Expr.Neg) return args[0].neg();
        if (e instanceof Expr.Binary b) {
            return switch (b.op()) {
                case '+' -> args[0].add(args[1]);
                case '-' -> args[0].sub(args[1]);
                case '*' -> args[0].mul(args[1]);
                case '/' -> args[0].div(args[1]);
                // A constant exponent uses the one-input power rule: x^3 has one edge, not a second one to 3.
                case '^' -> args[1].requiresGrad() ? args[0].pow(args[1]) : args[0].pow(args[1].item());
                default -> throw new IllegalStateException("operator " + b.op());
            };
        }
        if (e instanceof Expr.Call c) {
            return switch (c.function()) {
                case "exp" -> args[0].exp();
                case "log" -> args[0].log();
                case "sqrt" -> args[0].sqrt();
                case "abs" -> args[0].abs();
                case "sin" -> args[0].sin();
                case "cos" -> args[0].cos();
                case "tanh" -> args[0].tanh();
                case "sigmoid" -> args[0].sigmoid();
                case "relu" -> args[0].relu();
                default -> throw new IllegalStateException("function " + c.function());
            };
        }
        throw new IllegalStateException("not an operator: " + e);
    }

    /** The operands of the operator at the root of {@code e}, in the engine's input order. */
    static List<Expr> operands(Expr e) {
        if (e instanceof Expr.Neg n) return List.of(n.operand());
        if (e instanceof Expr.Binary b) return List.of(b.left(), b.right());
        if (e instanceof Expr.Call c) return List.of(c.argument());
        if (e instanceof Expr.TensorCall c) return List.of(c.argument());
        return List.of();
    }

    /** A node under construction: mutable while the forward and backward passes fill it in. */
    private static final class Draft {
        final String id;
        final String op;
        final String variable;
        final Expr expr;
        final List<Operand> operands;
        final double value;
        /** ∂(this node)/∂(each operand) at the forward values. */
        final double[] local;
        double adjoint;
        final List<Term> terms = new ArrayList<>();
        final List<String> consumers = new ArrayList<>();

        Draft(String id, String op, String variable, Expr expr, List<Operand> operands, double value) {
            this.id = id;
            this.op = op;
            this.variable = variable;
            this.expr = expr;
            this.operands = operands;
            this.value = value;
            this.local = expr == null ? new double[0] : localPartials(expr, operands);
        }
    }

    /**
     * ∂c/∂(each operand) for the operator at the root of {@code expr}: the same op applied to fresh leaves
     * holding the operands' values, differentiated by the engine. A fresh leaf per operand keeps the two
     * edges of x*x apart.
     */
    private static double[] localPartials(Expr expr, List<Operand> operands) {
        List<Tensor> args = new ArrayList<>(), fresh = new ArrayList<>();
        for (Operand o : operands) {
            Tensor t = Tensor.scalar(o.node != null ? o.node.value : o.constant);
            if (o.node != null) fresh.add(t.requiresGrad(true));
            args.add(t);
        }
        List<Tensor> partials = Autograd.grad(apply(expr, args.toArray(new Tensor[0])), fresh, false);
        double[] local = new double[args.size()];
        for (int i = 0, k = 0; i < args.size(); i++) if (args.get(i).requiresGrad()) local[i] = partials.get(k++).item();
        return local;
    }

    /** An operand: a node of G, or a constant (a number, or a subexpression without variables, folded). */
    private record Operand(Draft node, double constant) {
        String label() {
            return node != null ? node.id : format(constant);
        }
    }

    private static final class Builder {
        final String expression;
        final Expr tree;
        final List<String> variables;
        final Map<String, Double> at;
        final List<Draft> drafts = new ArrayList<>();
        final Map<String, Tensor> leaves = new LinkedHashMap<>();
        final Map<String, Draft> leafDrafts = new LinkedHashMap<>();
        final Map<Node, Draft> byNode = new IdentityHashMap<>();
        final Map<Tensor, Draft> byLeaf = new IdentityHashMap<>();

        Builder(String expression, Expr tree, List<String> variables, Map<String, Double> at) {
            this.expression = expression;
            this.tree = tree;
            this.variables = variables;
            this.at = at;
        }

        Explanation run(boolean secondOrder) {
            // Variables come first, u1..uk, as the inputs u(1)..u(nᵢ) of Goodfellow's §6.5.
            for (String name : variables) {
                Tensor leaf = Tensor.scalar(at.get(name)).requiresGrad(true);
                Draft d = new Draft(nextId(), "variable", name, null, List.of(), at.get(name));
                drafts.add(d);
                leaves.put(name, leaf);
                leafDrafts.put(name, d);
                byLeaf.put(leaf, d);
            }
            Map<Expr, Built> built = new IdentityHashMap<>();
            for (Expr e : postOrder(tree)) built.put(e, build(e, built));
            Built root = built.get(tree);
            double[] point = new double[variables.size()];
            for (int i = 0; i < point.length; i++) point[i] = at.get(variables.get(i));
            int n = variables.size();
            double[] gradient = new double[n];
            double[][] hessian = secondOrder ? new double[n][n] : null;
            if (root.tensor.requiresGrad()) {
                List<Tensor> inputs = new ArrayList<>(leaves.values());
                // With createGraph the gradients are nodes of B, so each can be differentiated once more.
                List<Tensor> grads = Autograd.grad(root.tensor, inputs, null, secondOrder, secondOrder, this::observe);
                for (int i = 0; i < n; i++) gradient[i] = grads.get(i).item();
                if (secondOrder) {
                    for (int i = 0; i < n; i++) {
                        Tensor g = grads.get(i);
                        if (!g.requiresGrad()) continue; // a constant component: its row is zero
                        List<Tensor> row = Autograd.grad(g, inputs, null, true, false, null);
                        for (int j = 0; j < n; j++) hessian[i][j] = row.get(j).item();
                    }
                }
            }
            List<Step> steps = new ArrayList<>();
            for (Draft d : drafts) {
                d.terms.sort(Comparator.comparingInt(t -> Integer.parseInt(t.consumer().substring(1))));
                List<String> inputs = d.operands.stream().map(Operand::label).toList();
                steps.add(new Step(d.id, d.op, d.variable, inputs, formula(d), d.value, d.adjoint,
                        List.copyOf(d.terms), List.copyOf(d.consumers)));
            }
            return new Explanation(expression, tree, List.copyOf(variables), point, List.copyOf(steps),
                    root.tensor.item(), gradient, hessian);
        }

        private String nextId() {
            return "u" + (drafts.size() + 1);
        }

        /** A built subexpression: its tensor, and its node of G (null for a constant). */
        private record Built(Tensor tensor, Draft draft) {}

        /** Builds {@code e} from its operands, already in {@code built}: called in post-order, so ids follow creation. */
        private Built build(Expr e, Map<Expr, Built> built) {
            if (e instanceof Expr.Num n) return new Built(Tensor.scalar(n.value()), null);
            if (e instanceof Expr.Var v) return new Built(leaves.get(v.name()), leafDrafts.get(v.name()));
            List<Built> args = new ArrayList<>();
            for (Expr operand : operands(e)) args.add(built.get(operand));
            Tensor t = apply(e, args.stream().map(Built::tensor).toArray(Tensor[]::new));
            if (!t.requiresGrad()) return new Built(t, null);
            List<Operand> ops = new ArrayList<>();
            for (Built b : args) ops.add(new Operand(b.draft, b.draft == null ? b.tensor.item() : 0));
            Draft d = new Draft(nextId(), t.gradFn().name(), null, e, List.copyOf(ops), t.item());
            for (Operand o : ops) if (o.node != null) o.node.consumers.add(d.id);
            drafts.add(d);
            byNode.put(t.gradFn(), d);
            return new Built(t, d);
        }

        /** Called by the engine once per node, in the reverse of forward order, after the node's rule ran. */
        private void observe(Node node, Tensor gradOutput, Tensor[] gradInputs) {
            Draft d = node.isLeaf() ? byLeaf.get(node.variable()) : byNode.get(node);
            d.adjoint = gradOutput.item();
            if (node.isLeaf()) return;
            for (int i = 0; i < gradInputs.length; i++) {
                if (gradInputs[i] == null) continue;
                d.operands.get(i).node.terms.add(new Term(d.id, d.adjoint, d.local[i], gradInputs[i].item()));
            }
        }

        private static String formula(Draft d) {
            if (d.variable != null) return d.variable;
            List<String> in = d.operands.stream().map(Operand::label).toList();
            if (d.expr instanceof Expr.Neg) return "-" + in.get(0);
            if (d.expr instanceof Expr.Binary b) return in.get(0) + " " + b.op() + " " + in.get(1);
            return ((Expr.Call) d.expr).function() + "(" + in.get(0) + ")";
        }
    }

    /**
     * Compares the gradient (and the Hessian, when present) with central finite differences of f itself,
     * evaluated by the engine without a graph: first derivatives with step h = 1e-5·max(1, |x|), second ones
     * with h = 1e-4·max(1, |x|) (a second difference divides rounding noise by h², so it needs a wider step).
     */
    public static Check check(Explanation e) {
        double hg = 1e-5, hh = 1e-4;
        List<String> vars = e.variables();
        int n = vars.size();
        double[] x = e.point();
        List<Comparison> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double h = hg * Math.max(1, Math.abs(x[i]));
            double numeric = (f(e, x, i, h, -1, 0) - f(e, x, i, -h, -1, 0)) / (2 * h);
            out.add(compare("∂f/∂" + vars.get(i), e.gradient()[i], numeric));
        }
        if (e.hessian() != null) {
            double f0 = f(e, x, -1, 0, -1, 0);
            for (int i = 0; i < n; i++) {
                double hi = hh * Math.max(1, Math.abs(x[i]));
                for (int j = 0; j < n; j++) {
                    double hj = hh * Math.max(1, Math.abs(x[j]));
                    double numeric = i == j
                            ? (f(e, x, i, hi, -1, 0) - 2 * f0 + f(e, x, i, -hi, -1, 0)) / (hi * hi)
                            : (f(e, x, i, hi, j, hj) - f(e, x, i, hi, j, -hj) - f(e, x, i, -hi, j, hj)
                                    + f(e, x, i, -hi, j, -hj)) / (4 * hi * hj);
                    String name = i == j ? "∂²f/∂" + vars.get(i) + "²" : "∂²f/∂" + vars.get(i) + "∂" + vars.get(j);
                    out.add(compare(name, e.hessian()[i][j], numeric));
                }
            }
        }
        Comparison worst = out.stream().max(Comparator.comparingDouble(Comparison::error)).orElse(null);
        return new Check(hg, hh, List.copyOf(out), worst);
    }

    /** f at the point with variable i moved by di and variable j by dj (an index of -1 moves nothing). */
    private static double f(Explanation e, double[] x, int i, double di, int j, double dj) {
        Map<String, Double> at = new LinkedHashMap<>();
        for (int k = 0; k < x.length; k++) at.put(e.variables().get(k), x[k] + (k == i ? di : 0) + (k == j ? dj : 0));
        return evaluate(e.tree(), at);
    }

    static Comparison compare(String name, double backprop, double numeric) {
        double error = Math.abs(backprop - numeric) / Math.max(1, Math.max(Math.abs(backprop), Math.abs(numeric)));
        if (Double.isNaN(error)) error = Double.isNaN(backprop) && Double.isNaN(numeric) ? 0 : Double.POSITIVE_INFINITY;
        return new Comparison(name, backprop, numeric, error);
    }

    /**
     * A number for people and for diffs: 12 significant digits, trailing zeros dropped, plain notation from
     * 1e-5 up to 1e12 and scientific outside; the same double always prints the same way.
     */
    public static String format(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        if (v == 0) return "0"; // also -0.0, which would only confuse
        BigDecimal d = new BigDecimal(v).round(new MathContext(12, RoundingMode.HALF_EVEN)).stripTrailingZeros();
        double abs = Math.abs(v);
        if (abs >= 1e-5 && abs < 1e12) return d.toPlainString();
        return d.toString().replace("E", "e");
    }
}
