package org.deltagrad.cli.explain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.autograd.Node;

/**
 * {@code explain} on vectors and matrices: the expression is built with the engine's float64 tensor ops, one
 * node of the trace per subexpression (an op such as softmax that the engine composes of several nodes is one
 * node here), and the engine's backward sweep is watched as in {@link Explainer}: each node's adjoint, the term
 * each consumer sent it with the rule in tensor form, where broadcasting was summed back, and the fan-out sums.
 */
public final class TensorExplainer {
    private TensorExplainer() {}

    /** Above this many elements a tensor is summarised (shape, min, max, mean, norm) instead of printed. */
    static final int FULL = 12;
    /** Up to this many input elements in total, order 2 gives the full Hessian; above, a Hessian-vector product. */
    static final int FULL_HESSIAN = 16;

    /** One chain-rule term: what {@code consumer} sent along one edge, by {@code rule}. */
    public record Term(String consumer, String rule, Tensor contribution, Tensor local, int[] summedBackFrom) {}

    /** One node of the trace, in forward order; {@code inputs} are node ids or constants' values. */
    public record Step(String id, String op, String variable, List<String> inputs, String formula, Tensor value,
                       Tensor adjoint, List<Term> terms, List<String> consumers) {
        public boolean isVariable() {
            return variable != null;
        }
    }

    /**
     * Second order: the full Hessian over the flattened inputs ({@code labels} such as {@code W[0,1]}), or,
     * for larger inputs, the product H·v with {@code v} drawn from --seed + 1 (one tensor per variable).
     */
    public record SecondOrder(List<String> labels, double[][] hessian, List<Tensor> v, List<Tensor> hv) {}

    /** The whole trace. {@code secondOrder} is null unless order 2 was asked for. */
    public record Explanation(String expression, Expr tree, List<String> variables, List<Tensor> point, List<Step> steps,
                              double value, List<Tensor> gradient, SecondOrder secondOrder, long seed) {
        public Step output() {
            return steps.get(steps.size() - 1);
        }
    }

    /** A derivative (a whole tensor) compared with central finite differences; error is the worst element's. */
    public record Comparison(String derivative, Tensor backprop, Tensor numeric, double error) {}

    public record Check(double gradientStep, double hessianStep, List<Comparison> comparisons, Comparison worst) {}

    // ---------------------------------------------------------------- the point: --at values

    /**
     * Splits --at arguments into NAME=VALUE pairs at the commas outside brackets and parentheses, so that
     * {@code W=[[1,2],[3,4]],x=randn(2)} is two assignments.
     */
    public static Map<String, String> assignments(List<String> arguments) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String argument : arguments) {
            int depth = 0, start = 0;
            for (int i = 0; i <= argument.length(); i++) {
                char c = i < argument.length() ? argument.charAt(i) : ',';
                if (c == '[' || c == '(') depth++;
                else if (c == ']' || c == ')') depth--;
                else if (c == ',' && depth <= 0) {
                    String pair = argument.substring(start, i).trim();
                    start = i + 1;
                    if (pair.isEmpty()) continue; // "x=1," as picocli's split allowed
                    int eq = pair.indexOf('=');
                    if (eq <= 0) throw new IllegalArgumentException("--at: expected NAME=VALUE, got '" + pair + "'");
                    String name = pair.substring(0, eq).trim();
                    if (out.put(name, pair.substring(eq + 1).trim()) != null) {
                        throw new IllegalArgumentException("--at gives '" + name + "' more than one value");
                    }
                }
            }
        }
        return out;
    }

    /** Whether a --at value is a single number (a scalar explain) rather than a list or randn(...). */
    public static boolean isNumber(String value) {
        return !value.startsWith("[") && !value.startsWith("randn");
    }

    /**
     * A --at value as a float64 tensor: a number, a nested list such as {@code [[1,2],[3,4]]} (rectangular), or
     * {@code randn(3,2)}, standard normal entries drawn from {@code rng}.
     */
    public static Tensor value(String name, String text, SplittableRandom rng) {
        String s = text.replace(" ", "");
        if (s.startsWith("randn(") && s.endsWith(")")) {
            String inner = s.substring(6, s.length() - 1);
            int[] shape;
            try {
                shape = inner.isEmpty() ? new int[0] : Arrays.stream(inner.split(",")).mapToInt(Integer::parseInt).toArray();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--at " + name + ": randn takes positive integer sizes, e.g. randn(3,2), not '" + text + "'");
            }
            long count = 1;
            for (int n : shape) {
                if (n < 1) throw new IllegalArgumentException("--at " + name + ": randn sizes must be positive, got '" + text + "'");
                count *= n;
                if (count > 1_000_000) throw new IllegalArgumentException("--at " + name + ": " + text + " has over a million elements; explain is for tensors one can read");
            }
            return Tensor.randn(DType.FLOAT64, rng, shape);
        }
        if (s.startsWith("[")) {
            List<Integer> shape = new ArrayList<>();
            List<Double> data = new ArrayList<>();
            int end = list(name, text, s, 0, 0, shape, data);
            if (end != s.length()) throw new IllegalArgumentException("--at " + name + ": unexpected text after the list in '" + text + "'");
            return Tensor.of(data.stream().mapToDouble(Double::doubleValue).toArray(), shape.stream().mapToInt(Integer::intValue).toArray());
        }
        return Tensor.scalar(number(name, text, s));
    }

    private static double number(String name, String text, String s) {
        try {
            double v = Double.parseDouble(s);
            if (Double.isFinite(v)) return v;
        } catch (NumberFormatException e) {
            // reported below with the whole value
        }
        throw new IllegalArgumentException("--at " + name + ": '" + s + "' in '" + text + "' is not a finite number "
                + "(values are numbers, nested lists such as [[1,2],[3,4]], or randn(3,2))");
    }

    /** Parses the list starting at s[at] (a '['), at nesting level {@code level}; returns the index after its ']'. */
    private static int list(String name, String text, String s, int at, int level, List<Integer> shape, List<Double> data) {
        if (level > 8) throw new IllegalArgumentException("--at " + name + ": lists nested more than 8 deep in '" + text + "'");
        int i = at + 1, count = 0;
        if (shape.size() == level) shape.add(-1); // filled in at this list's ']', once its length is known
        if (i < s.length() && s.charAt(i) == ']') throw new IllegalArgumentException("--at " + name + ": an empty list in '" + text + "' has no value to differentiate at");
        boolean nested = i < s.length() && s.charAt(i) == '[';
        while (true) {
            if (i >= s.length()) throw new IllegalArgumentException("--at " + name + ": '[' is never closed in '" + text + "'");
            if (nested) {
                if (s.charAt(i) != '[') throw new IllegalArgumentException("--at " + name + ": ragged list in '" + text + "' (mixes lists and numbers)");
                i = list(name, text, s, i, level + 1, shape, data);
            } else {
                int j = i;
                while (j < s.length() && ",]".indexOf(s.charAt(j)) < 0) j++;
                if (s.substring(i, j).contains("[")) throw new IllegalArgumentException("--at " + name + ": ragged list in '" + text + "' (mixes lists and numbers)");
                data.add(number(name, text, s.substring(i, j)));
                i = j;
            }
            count++;
            if (i >= s.length()) throw new IllegalArgumentException("--at " + name + ": '[' is never closed in '" + text + "'");
            char c = s.charAt(i++);
            if (c == ']') break;
            if (c != ',') throw new IllegalArgumentException("--at " + name + ": unexpected '" + c + "' in '" + text + "'");
        }
        if (shape.get(level) == -1) shape.set(level, count);
        else if (shape.get(level) != count) {
            throw new IllegalArgumentException("--at " + name + ": ragged list in '" + text + "' (rows of " + shape.get(level) + " and " + count + " elements)");
        }
        if (nested == (shape.size() == level + 1)) throw new IllegalArgumentException("--at " + name + ": ragged list in '" + text + "' (mixes lists and numbers)");
        return i;
    }

    // ---------------------------------------------------------------- evaluation

    /** The operator at the root of {@code e} applied to its computed operands, on tensors: engine ops only. */
    static Tensor apply(Expr e, Tensor... args) {
        if (e instanceof Expr.Binary b && b.op() == '@') return args[0].matmul(args[1]);
        if (e instanceof Expr.Binary b && b.op() == '^' && !args[1].requiresGrad() && args[1].numel() != 1) return args[0].pow(args[1]);
        if (!(e instanceof Expr.TensorCall c)) return Explainer.apply(e, args);
        Tensor a = args[0];
        if (c.function().equals("T")) {
            if (a.rank() != 2) throw new IllegalArgumentException("T(A): A must be a matrix, got shape " + shape(a) + " at column " + (c.column() + 1));
            return a.t();
        }
        Integer dim = c.dim() == null && c.function().equals("softmax") ? Integer.valueOf(-1) : c.dim();
        if (dim != null) {
            if (dim < -a.rank() || dim >= a.rank()) {
                throw new IllegalArgumentException(c.function() + "(A, " + dim + "): A of shape " + shape(a) + " has no dimension " + dim);
            }
            dim = dim < 0 ? dim + a.rank() : dim;
        }
        return switch (c.function()) {
            case "sum" -> dim == null ? a.sum() : a.sum(dim, false);
            case "mean" -> dim == null ? a.mean() : a.mean(dim, false);
            case "softmax" -> a.softmax(dim);
            case "logsumexp" -> {
                // Shifted by the (constant) maximum so exp cannot overflow; the shift cancels in value and gradient.
                if (dim == null) {
                    Tensor m = a.max().detach();
                    yield a.sub(m).exp().sum().log().add(m);
                }
                Tensor m = a.max(dim, true).detach();
                yield a.sub(m).exp().sum(dim, false).log().add(m.squeeze(dim));
            }
            default -> throw new IllegalStateException("function " + c.function());
        };
    }

    /** f at a point, without recording a graph (the finite differences' evaluations). */
    static double evaluate(Expr tree, Map<String, Tensor> at) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            Map<Expr, Tensor> values = new IdentityHashMap<>();
            for (Expr node : Explainer.postOrder(tree)) {
                Tensor t;
                if (node instanceof Expr.Num n) t = Tensor.scalar(n.value());
                else if (node instanceof Expr.Var v) t = at.get(v.name());
                else t = apply(node, Explainer.operands(node).stream().map(values::get).toArray(Tensor[]::new));
                values.put(node, t);
            }
            return values.get(tree).item();
        }
    }

    /** Builds and differentiates {@code expression} at {@code at} (variable → float64 tensor); order 1 or 2. */
    public static Explanation explain(String expression, Map<String, Tensor> at, int order, long seed) {
        if (order != 1 && order != 2) throw new IllegalArgumentException("--order must be 1 or 2, not " + order);
        Expr tree = ExpressionParser.parse(expression);
        List<String> variables = new ArrayList<>();
        for (Expr node : Explainer.postOrder(tree)) {
            if (node instanceof Expr.Var v && !variables.contains(v.name())) {
                if (!at.containsKey(v.name())) {
                    throw new ExpressionParser.ExpressionException(expression, v.column(), "variable '" + v.name() + "' has no value in --at");
                }
                variables.add(v.name());
            }
        }
        for (String name : at.keySet()) {
            if (!variables.contains(name)) {
                throw new IllegalArgumentException("--at gives a value for '" + name + "', which the expression " + expression + " does not use");
            }
        }
        if (variables.isEmpty()) throw new IllegalArgumentException("explain: " + expression + " has no variables to differentiate");
        Map<String, Tensor> point = new LinkedHashMap<>();
        for (String name : variables) point.put(name, at.get(name).to(DType.FLOAT64));
        return new Builder(expression, tree, variables, point, seed).run(order == 2);
    }

    private static final class Draft {
        final String id, op, variable;
        final Expr expr;
        final List<Draft> operands; // null entries are constants
        final List<String> inputs;
        final Tensor value;
        Tensor adjoint;
        Tensor local; // f'(A) for an element-wise function f, computed before the sweep
        final List<Term> terms = new ArrayList<>();
        final List<String> consumers = new ArrayList<>();

        Draft(String id, String op, String variable, Expr expr, List<Draft> operands, List<String> inputs, Tensor value) {
            this.id = id;
            this.op = op;
            this.variable = variable;
            this.expr = expr;
            this.operands = operands;
            this.inputs = inputs;
            this.value = value;
        }

        int[] shape() {
            return value.shape();
        }
    }

    private static final class Builder {
        final String expression;
        final Expr tree;
        final List<String> variables;
        final Map<String, Tensor> point;
        final long seed;
        final List<Draft> drafts = new ArrayList<>();
        final Map<String, Tensor> leaves = new LinkedHashMap<>();
        final Map<Tensor, Draft> byLeaf = new IdentityHashMap<>();
        final Map<Node, Draft> byOutput = new IdentityHashMap<>(); // the engine node that produced a draft's value
        final Map<Node, Draft> owner = new IdentityHashMap<>();    // every engine node, to the draft whose op made it

        Builder(String expression, Expr tree, List<String> variables, Map<String, Tensor> point, long seed) {
            this.expression = expression;
            this.tree = tree;
            this.variables = variables;
            this.point = point;
            this.seed = seed;
        }

        Explanation run(boolean secondOrder) {
            Map<String, Draft> leafDrafts = new LinkedHashMap<>();
            for (String name : variables) {
                Tensor leaf = point.get(name).copy().requiresGrad(true);
                Draft d = new Draft(nextId(), "variable", name, null, List.of(), List.of(), point.get(name));
                drafts.add(d);
                leaves.put(name, leaf);
                leafDrafts.put(name, d);
                byLeaf.put(leaf, d);
            }
            Map<Expr, Tensor> tensors = new IdentityHashMap<>();
            Map<Expr, Draft> built = new IdentityHashMap<>();
            for (Expr e : Explainer.postOrder(tree)) {
                if (e instanceof Expr.Num n) {
                    tensors.put(e, Tensor.scalar(n.value()));
                } else if (e instanceof Expr.Var v) {
                    tensors.put(e, leaves.get(v.name()));
                    built.put(e, leafDrafts.get(v.name()));
                } else {
                    List<Expr> ops = Explainer.operands(e);
                    Tensor t = apply(e, ops.stream().map(tensors::get).toArray(Tensor[]::new));
                    tensors.put(e, t);
                    if (t.requiresGrad()) built.put(e, draft(e, t, ops.stream().map(built::get).toList(),
                            ops.stream().map(tensors::get).toList()));
                }
            }
            Tensor root = tensors.get(tree);
            if (root.numel() != 1) {
                throw new IllegalArgumentException("explain: " + expression + " has shape " + shape(root)
                        + "; a gradient needs a scalar, so reduce it, e.g. sum(...) or mean(...)");
            }
            if (!root.requiresGrad()) throw new IllegalArgumentException("explain: " + expression + " does not depend on its variables");
            List<Tensor> inputs = new ArrayList<>(leaves.values());
            List<Tensor> grads = Autograd.grad(root, inputs, null, secondOrder, secondOrder, this::observe);
            List<Tensor> gradient = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) gradient.add(orZeros(grads.get(i), inputs.get(i)).detach());
            SecondOrder second = secondOrder ? secondOrder(inputs, grads) : null;
            List<Step> steps = new ArrayList<>();
            for (Draft d : drafts) {
                d.terms.sort(Comparator.comparingInt(t -> Integer.parseInt(t.consumer().substring(1))));
                Tensor adjoint = d.adjoint != null ? d.adjoint : Tensor.zeros(DType.FLOAT64, d.shape());
                steps.add(new Step(d.id, d.op, d.variable, d.inputs, formula(d), d.value, adjoint, List.copyOf(d.terms), List.copyOf(d.consumers)));
            }
            return new Explanation(expression, tree, List.copyOf(variables), List.copyOf(point.values()), List.copyOf(steps),
                    root.item(), List.copyOf(gradient), second, seed);
        }

        private String nextId() {
            return "u" + (drafts.size() + 1);
        }

        private Draft draft(Expr e, Tensor t, List<Draft> operands, List<Tensor> operandTensors) {
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < operands.size(); i++) {
                Tensor o = operandTensors.get(i);
                labels.add(operands.get(i) != null ? operands.get(i).id : o.numel() == 1 ? Explainer.format(o.item()) : "const" + shape(o));
            }
            Draft d = new Draft(nextId(), opName(e), null, e, operands, List.copyOf(labels), t.detach());
            for (Draft o : operands) if (o != null) o.consumers.add(d.id);
            if (e instanceof Expr.Call) d.local = local(e, operandTensors.get(0));
            drafts.add(d);
            byOutput.put(t.gradFn(), d);
            // Every engine node this op created (several for softmax, logsumexp, a product with a vector) is its.
            List<Node> pending = new ArrayList<>(List.of(t.gradFn()));
            while (!pending.isEmpty()) {
                Node n = pending.remove(pending.size() - 1);
                if (n == null || n.isLeaf() || owner.containsKey(n)) continue;
                owner.put(n, d);
                pending.addAll(n.inputs());
            }
            return d;
        }

        /** Called by the engine once per node, in the reverse of creation order, after its rule ran. */
        private void observe(Node node, Tensor gradOutput, Tensor[] gradInputs) {
            if (node.isLeaf()) {
                byLeaf.get(node.variable()).adjoint = gradOutput.detach();
                return;
            }
            Draft d = owner.get(node);
            if (byOutput.get(node) == d) d.adjoint = gradOutput.detach();
            for (int i = 0; i < gradInputs.length; i++) {
                Node in = node.inputs().get(i);
                if (gradInputs[i] == null || in == null) continue;
                Draft target = in.isLeaf() ? byLeaf.get(in.variable()) : byOutput.get(in);
                if (target == null || target == d) continue; // an edge inside d's own composite
                int k = operandIndex(d, target, node, i);
                int[] from = null;
                if (d.expr instanceof Expr.Binary b && b.op() != '@' && !Arrays.equals(d.shape(), target.shape())) from = d.shape();
                target.terms.add(new Term(d.id, rule(d, k), gradInputs[i].detach(), d.local, from));
            }
        }

        /** Which operand of d the edge into {@code target} is (x*x and x@x have the same draft twice). */
        private static int operandIndex(Draft d, Draft target, Node node, int i) {
            if (d.operands.size() == 1) return 0;
            if (d.operands.get(0) != d.operands.get(1)) return d.operands.get(0) == target ? 0 : 1;
            // Both operands are target: a single engine node keeps the input order; a vector in A@B is first
            // unsqueezed, to a row [1,n] on the left and a column [n,1] on the right.
            if (node.inputs().size() == 2) return i;
            int[] s = node.outputShape();
            return s.length == 2 && s[0] == 1 ? 0 : 1;
        }

        /** An element-wise function's derivative f'(A) at the operand's value: the engine's rule on a fresh leaf. */
        private static Tensor local(Expr call, Tensor operand) {
            Tensor a = operand.detach().copy().requiresGrad(true);
            return Autograd.grad(Explainer.apply(call, a).sum(), List.of(a), false).get(0).detach();
        }

        private SecondOrder secondOrder(List<Tensor> inputs, List<Tensor> grads) {
            int total = 0;
            for (Tensor t : inputs) total += t.numel();
            if (total <= FULL_HESSIAN) {
                List<String> labels = new ArrayList<>();
                for (int a = 0; a < inputs.size(); a++) {
                    for (int k = 0; k < inputs.get(a).numel(); k++) labels.add(elementName(variables.get(a), inputs.get(a).shape(), k));
                }
                double[][] h = new double[total][];
                int row = 0;
                for (int a = 0; a < inputs.size(); a++) {
                    Tensor g = grads.get(a);
                    for (int k = 0; k < inputs.get(a).numel(); k++, row++) {
                        if (g == null || !g.requiresGrad()) {
                            h[row] = new double[total]; // a constant component of the gradient: its row is zero
                            continue;
                        }
                        Tensor component = g.reshape(-1).narrow(0, k, 1).sum();
                        h[row] = flatten(Autograd.grad(component, inputs, null, true, false, null), inputs);
                    }
                }
                return new SecondOrder(List.copyOf(labels), h, null, null);
            }
            SplittableRandom rng = new SplittableRandom(seed + 1);
            List<Tensor> v = new ArrayList<>();
            Tensor s = null;
            for (int a = 0; a < inputs.size(); a++) {
                Tensor va = Tensor.randn(DType.FLOAT64, rng, inputs.get(a).shape());
                v.add(va);
                Tensor g = grads.get(a);
                if (g != null && g.requiresGrad()) s = s == null ? g.mul(va).sum() : s.add(g.mul(va).sum());
            }
            List<Tensor> hv = new ArrayList<>();
            List<Tensor> raw = s == null ? null : Autograd.grad(s, inputs, null, true, false, null);
            for (int a = 0; a < inputs.size(); a++) hv.add(orZeros(raw == null ? null : raw.get(a), inputs.get(a)).detach());
            return new SecondOrder(null, null, List.copyOf(v), List.copyOf(hv));
        }
    }

    private static Tensor orZeros(Tensor g, Tensor like) {
        return g != null ? g : Tensor.zeros(DType.FLOAT64, like.shape());
    }

    private static double[] flatten(List<Tensor> parts, List<Tensor> like) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < like.size(); i++) for (double x : orZeros(parts.get(i), like.get(i)).toDoubleArray()) out.add(x);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** {@code W[0,1]} for element k of W in row-major order; a scalar variable is just its name. */
    static String elementName(String name, int[] shape, int k) {
        if (shape.length == 0) return name;
        int[] index = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = k % shape[d];
            k /= shape[d];
        }
        return name + Arrays.toString(index).replace(" ", "");
    }

    private static String opName(Expr e) {
        if (e instanceof Expr.Neg) return "neg";
        if (e instanceof Expr.Binary b) {
            return switch (b.op()) {
                case '+' -> "add";
                case '-' -> "sub";
                case '*' -> "mul";
                case '/' -> "div";
                case '^' -> "pow";
                default -> "matmul";
            };
        }
        if (e instanceof Expr.Call c) return c.function();
        return ((Expr.TensorCall) e).function();
    }

    private static String formula(Draft d) {
        if (d.variable != null) return d.variable;
        List<String> in = d.inputs;
        if (d.expr instanceof Expr.Neg) return "-" + in.get(0);
        if (d.expr instanceof Expr.Binary b) return in.get(0) + " " + b.op() + " " + in.get(1);
        if (d.expr instanceof Expr.Call c) return c.function() + "(" + in.get(0) + ")";
        Expr.TensorCall c = (Expr.TensorCall) d.expr;
        return c.function() + "(" + in.get(0) + (c.dim() == null ? "" : ", " + c.dim()) + ")";
    }

    /** The rule d's op applies to send G, its adjoint, to operand k, in tensor form. */
    static String rule(Draft d, int k) {
        String a = k == 0 ? "A" : "B";
        if (d.expr instanceof Expr.Neg) return "∂/∂A of −A: −G";
        if (d.expr instanceof Expr.Binary b) {
            String of = "∂/∂" + a + " of A" + b.op() + "B: ";
            return of + switch (b.op()) {
                case '+' -> "G";
                case '-' -> k == 0 ? "G" : "−G";
                case '*' -> k == 0 ? "G ⊙ B" : "G ⊙ A";
                case '/' -> k == 0 ? "G ⊘ B" : "−G ⊙ A ⊘ B²";
                case '^' -> k == 0 ? "G ⊙ B·A^(B−1)" : "G ⊙ A^B·log(A)";
                default -> k == 0 ? "G·Bᵀ" : "Aᵀ·G";
            };
        }
        if (d.expr instanceof Expr.Call c) {
            String f = c.function();
            return "∂/∂A of " + f + "(A): G ⊙ " + switch (f) {
                case "exp" -> "exp(A)";
                case "log" -> "1/A";
                case "sqrt" -> "1/(2·sqrt(A))";
                case "abs" -> "sign(A)";
                case "sin" -> "cos(A)";
                case "cos" -> "(−sin(A))";
                case "tanh" -> "(1 − tanh²(A))";
                case "sigmoid" -> "σ(A)·(1 − σ(A))";
                default -> "[A > 0]";
            };
        }
        Expr.TensorCall c = (Expr.TensorCall) d.expr;
        int[] in = d.operands.get(0).shape();
        String call = c.function() + "(A" + (c.dim() == null ? "" : ", " + c.dim()) + ")";
        String along = c.dim() == null ? "" : " along dim " + c.dim();
        int n = c.dim() == null ? shapeCount(in) : in[c.dim() < 0 ? c.dim() + in.length : c.dim()];
        return "∂/∂A of " + call + ": " + switch (c.function()) {
            case "T" -> "Gᵀ";
            case "sum" -> "broadcast G back" + along + " to shape " + shape(in);
            case "mean" -> "broadcast G/" + n + " back" + along + " to shape " + shape(in);
            case "softmax" -> "S ⊙ (G − sum(G ⊙ S, " + (c.dim() == null ? -1 : c.dim()) + ")) with S = softmax(A)";
            default -> "G (broadcast" + along + ") ⊙ softmax(A" + (c.dim() == null ? "" : ", " + c.dim()) + ")";
        };
    }

    private static int shapeCount(int[] shape) {
        int n = 1;
        for (int s : shape) n *= s;
        return n;
    }

    // ---------------------------------------------------------------- finite differences

    /**
     * Compares each gradient with central differences of f (h = 1e-5·max(1, |x|) per element), and the second
     * order with second differences of f (h = 1e-4·max(1, |x|)) for the full Hessian, or with central differences
     * of the backprop gradient along v (h = 1e-5) for H·v.
     */
    public static Check check(Explanation e) {
        double hg = 1e-5, hh = 1e-4;
        List<Comparison> out = new ArrayList<>();
        for (int a = 0; a < e.variables().size(); a++) {
            double[] x = e.point().get(a).toDoubleArray();
            double[] numeric = new double[x.length];
            for (int k = 0; k < x.length; k++) {
                double h = hg * Math.max(1, Math.abs(x[k]));
                numeric[k] = (f(e, a, k, h, -1, -1, 0) - f(e, a, k, -h, -1, -1, 0)) / (2 * h);
            }
            out.add(compare("∂f/∂" + e.variables().get(a), e.gradient().get(a), Tensor.of(numeric, e.point().get(a).shape())));
        }
        SecondOrder s = e.secondOrder();
        if (s != null && s.hessian() != null) {
            int n = s.labels().size();
            int[][] at = new int[n][2]; // (variable, element) of each flattened input
            for (int a = 0, r = 0; a < e.variables().size(); a++) for (int k = 0; k < e.point().get(a).numel(); k++) at[r++] = new int[] {a, k};
            double f0 = f(e, -1, -1, 0, -1, -1, 0);
            double[] numeric = new double[n * n], backprop = new double[n * n];
            for (int i = 0; i < n; i++) {
                double hi = hh * Math.max(1, Math.abs(e.point().get(at[i][0]).toDoubleArray()[at[i][1]]));
                for (int j = 0; j < n; j++) {
                    double hj = hh * Math.max(1, Math.abs(e.point().get(at[j][0]).toDoubleArray()[at[j][1]]));
                    int ai = at[i][0], ki = at[i][1], aj = at[j][0], kj = at[j][1];
                    numeric[i * n + j] = i == j
                            ? (f(e, ai, ki, hi, -1, -1, 0) - 2 * f0 + f(e, ai, ki, -hi, -1, -1, 0)) / (hi * hi)
                            : (f(e, ai, ki, hi, aj, kj, hj) - f(e, ai, ki, hi, aj, kj, -hj) - f(e, ai, ki, -hi, aj, kj, hj)
                                    + f(e, ai, ki, -hi, aj, kj, -hj)) / (4 * hi * hj);
                    backprop[i * n + j] = s.hessian()[i][j];
                }
            }
            out.add(compare("∂²f (Hessian)", Tensor.of(backprop, n, n), Tensor.of(numeric, n, n)));
        } else if (s != null) {
            List<Tensor> plus = gradientAt(e, s.v(), hg), minus = gradientAt(e, s.v(), -hg);
            for (int a = 0; a < e.variables().size(); a++) {
                Tensor numeric = plus.get(a).sub(minus.get(a)).div(2 * hg);
                out.add(compare("(H·v) for " + e.variables().get(a), s.hv().get(a), numeric));
            }
        }
        Comparison worst = out.stream().max(Comparator.comparingDouble(Comparison::error)).orElse(null);
        return new Check(hg, hh, List.copyOf(out), worst);
    }

    /** f with element k of variable a moved by da and element l of variable b by db (a variable of -1: none). */
    private static double f(Explanation e, int a, int k, double da, int b, int l, double db) {
        Map<String, Tensor> at = new LinkedHashMap<>();
        for (int v = 0; v < e.variables().size(); v++) {
            double[] x = e.point().get(v).toDoubleArray().clone();
            if (v == a) x[k] += da;
            if (v == b) x[l] += db;
            at.put(e.variables().get(v), Tensor.of(x, e.point().get(v).shape()));
        }
        return evaluate(e.tree(), at);
    }

    /** The backprop gradient at the point moved by t·v. */
    private static List<Tensor> gradientAt(Explanation e, List<Tensor> v, double t) {
        Map<String, Tensor> at = new LinkedHashMap<>();
        for (int a = 0; a < e.variables().size(); a++) at.put(e.variables().get(a), e.point().get(a).add(v.get(a).mul(t)));
        return explain(e.expression(), at, 1, e.seed()).gradient();
    }

    private static Comparison compare(String name, Tensor backprop, Tensor numeric) {
        double[] b = backprop.toDoubleArray(), n = numeric.toDoubleArray();
        double worst = 0;
        for (int i = 0; i < b.length; i++) worst = Math.max(worst, Explainer.compare(name, b[i], n[i]).error());
        return new Comparison(name, backprop, numeric, worst);
    }

    // ---------------------------------------------------------------- printing

    static String shape(Tensor t) {
        return shape(t.shape());
    }

    static String shape(int[] shape) {
        return Arrays.toString(shape).replace(" ", "");
    }

    /** A tensor for people: nested brackets when it has at most {@link #FULL} elements, else a summary. */
    static String show(Tensor t) {
        double[] x = t.toDoubleArray();
        if (t.rank() == 0) return Explainer.format(x[0]);
        if (x.length <= FULL) {
            StringBuilder sb = new StringBuilder();
            nested(sb, x, t.shape(), 0, new int[] {0});
            return sb.toString();
        }
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0, squares = 0;
        for (double v : x) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
            squares += v * v;
        }
        return String.format(Locale.ROOT, "(%s: min %s, max %s, mean %s, norm %s)", shape(t), Explainer.format(min),
                Explainer.format(max), Explainer.format(sum / x.length), Explainer.format(Math.sqrt(squares)));
    }

    private static void nested(StringBuilder sb, double[] x, int[] shape, int level, int[] next) {
        sb.append('[');
        for (int i = 0; i < shape[level]; i++) {
            if (i > 0) sb.append(", ");
            if (level == shape.length - 1) sb.append(Explainer.format(x[next[0]++]));
            else nested(sb, x, shape, level + 1, next);
        }
        sb.append(']');
    }
}
