package org.deltagrad.cli.explain;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.deltagrad.cli.explain.Explainer.Check;
import org.deltagrad.cli.explain.Explainer.Comparison;
import org.deltagrad.cli.explain.Explainer.Explanation;
import org.deltagrad.cli.explain.Explainer.Step;
import org.deltagrad.cli.explain.Explainer.Term;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code deltagrad explain}: shows backpropagation at work, either on an expression (forward values, each
 * adjoint with the chain-rule terms summed into it, gradient, Hessian, finite-difference check, Graphviz
 * drawings of G and B) or, with {@code --network}, on one example through a small sigmoid network.
 */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Show how backpropagation computes the derivatives of an expression, node by node.",
                "Example: explain \"x*y + sin(x)\" --at x=1.5,y=-2 --order 2 --check",
                "Put '--' before an expression that starts with '-': explain --at x=2 -- \"-x^2\""})
public final class ExplainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "EXPR",
            description = "Expression: numbers, variables, + - * / ^ (right-associative, tighter than unary minus), "
                    + "parentheses, exp log sqrt abs sin cos tanh sigmoid relu; on tensors also @ (matrix product), T(A), "
                    + "sum/mean (whole or sum(A, dim)), softmax(A[, dim]), logsumexp(A[, dim]).")
    String expression;

    @Option(names = "--at", paramLabel = "NAME=VALUE",
            description = "The point: a value for every variable, e.g. x=1.5,y=-2; tensors as nested lists or by shape, "
                    + "e.g. \"W=[[1,2],[3,4]],x=[0.5,-1],b=randn(2)\".")
    List<String> at = new ArrayList<>();

    @Option(names = "--order", defaultValue = "1", paramLabel = "N",
            description = "1: gradient; 2: also the Hessian, through the backward graph (default: ${DEFAULT-VALUE}).")
    int order;

    @Option(names = "--check", description = "Compare every derivative with central finite differences.")
    boolean check;

    @Option(names = "--dot", paramLabel = "DIR",
            description = "Write forward.dot, backward.dot and symbolic.dot to DIR (and .svg/.png when Graphviz's dot is on the PATH).")
    Path dotDir;

    @Option(names = "--html", paramLabel = "FILE",
            description = "Also write FILE: one self-contained page drawing G and B, with a step button that replays the backward sweep "
                    + "(with --network: BP1-BP4 per layer as heat maps of δ, ∂C/∂w and ∂C/∂b).")
    Path html;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(names = "--network", split = ",", paramLabel = "SIZES",
            description = "Explain BP1-BP4 on a sigmoid network of these layer sizes (e.g. 2,3,2) instead of an expression.")
    int[] network;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the network's weights and example, and of randn(...) values in --at (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        if (network != null) {
            if (expression != null) throw usage("give either an expression or --network, not both");
            checkNetworkSize();
            NetworkExplainer.Result r = NetworkExplainer.explain(network, seed);
            if (html != null) NetworkHtmlPage.write(html, NetworkExplainer.toJson(r, mapper));
            if (json) out.println(mapper.writeValueAsString(NetworkExplainer.toJson(r, mapper)));
            else NetworkExplainer.printText(r, out);
            wrotePage(out);
            return 0;
        }
        if (expression == null) throw usage("give an expression to explain (or --network SIZES)");
        if (order != 1 && order != 2) throw usage("--order must be 1 or 2, not " + order);

        Map<String, String> values;
        try {
            values = TensorExplainer.assignments(at);
        } catch (IllegalArgumentException ex) {
            throw usage(ex.getMessage());
        }
        if (values.values().stream().anyMatch(v -> !TensorExplainer.isNumber(v)) || Expr.usesTensorOps(ExpressionParser.parse(expression))) {
            return explainTensors(values, mapper, out);
        }
        Map<String, Double> point = new LinkedHashMap<>();
        for (Map.Entry<String, String> v : values.entrySet()) {
            try {
                point.put(v.getKey(), Double.parseDouble(v.getValue()));
            } catch (NumberFormatException ex) {
                throw usage("--at " + v.getKey() + ": '" + v.getValue() + "' is not a number");
            }
        }
        Explanation e = Explainer.explain(expression, point, order);
        Check c = check ? Explainer.check(e) : null;
        List<Path> files = dotDir != null ? DotWriter.write(e, dotDir) : List.of();
        if (html != null) HtmlPage.write(html, toJson(e, c, files, mapper));
        if (json) out.println(mapper.writeValueAsString(toJson(e, c, files, mapper)));
        else printText(e, c, files, out);
        wrotePage(out);
        return 0;
    }

    /** --check on tensors costs two evaluations of f per input element (and a Hessian's check, four per pair). */
    static final long MAX_CHECKED_ELEMENTS = 20_000;

    private Integer explainTensors(Map<String, String> values, ObjectMapper mapper, PrintWriter out) throws Exception {
        if (dotDir != null) throw usage("--dot draws scalar expressions only; drop it for tensor values");
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        Map<String, org.deltagrad.Tensor> point = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> v : values.entrySet()) point.put(v.getKey(), TensorExplainer.value(v.getKey(), v.getValue(), rng));
        } catch (IllegalArgumentException ex) {
            throw usage(ex.getMessage());
        }
        long elements = point.values().stream().mapToLong(org.deltagrad.Tensor::numel).sum();
        if (check && elements > MAX_CHECKED_ELEMENTS) {
            throw usage(String.format(Locale.ROOT, "--check evaluates f twice per input element; these inputs have %,d, "
                    + "explain checks at most %,d", elements, MAX_CHECKED_ELEMENTS));
        }
        TensorExplainer.Explanation e = TensorExplainer.explain(expression, point, order, seed);
        TensorExplainer.Check c = check ? TensorExplainer.check(e) : null;
        if (html != null) HtmlPage.write(html, TensorReport.toJson(e, c, mapper));
        if (json) out.println(mapper.writeValueAsString(TensorReport.toJson(e, c, mapper)));
        else TensorReport.printText(e, c, out);
        wrotePage(out);
        return 0;
    }

    /** Text mode names the page it wrote; --json output stays one JSON object. */
    private void wrotePage(PrintWriter out) {
        if (html != null && !json) {
            out.println();
            out.println("wrote " + html);
        }
        out.flush();
    }

    /**
     * The finite-difference check costs two forward passes per weight, so time grows with the square of the
     * parameter count, and the report prints every gradient: explain is for networks one can read.
     */
    static final long MAX_NETWORK_PARAMETERS = 30_000; // Nielsen's 784,30,10 (23,860) fits

    private void checkNetworkSize() {
        if (network.length < 2) throw usage("--network needs at least an input and an output size, e.g. 2,3,2");
        for (int n : network) if (n < 1) throw usage("--network sizes must be positive, got " + join(network));
        long parameters = org.deltagrad.cli.Memory.mlpParameters(network, "--network");
        if (parameters > MAX_NETWORK_PARAMETERS) {
            throw usage(String.format(Locale.ROOT, "--network %s has %,d weights and biases; explain checks and prints each "
                    + "one, so it takes at most %,d (use train for larger networks)", join(network), parameters, MAX_NETWORK_PARAMETERS));
        }
    }

    private static String join(int[] sizes) {
        return String.join(",", java.util.Arrays.stream(sizes).mapToObj(Integer::toString).toList());
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** The text report; every number goes through {@link Explainer#format} so the output is stable. */
    static void printText(Explanation e, Check c, List<Path> files, PrintWriter out) {
        List<String> at = new ArrayList<>();
        for (int i = 0; i < e.variables().size(); i++) at.add(e.variables().get(i) + " = " + Explainer.format(e.point()[i]));
        out.println("f = " + e.expression() + (at.isEmpty() ? "" : "   at " + String.join(", ", at)));
        Step output = e.output();
        if (output == null) {
            out.println("f = " + Explainer.format(e.value()) + " is a constant: it has no variables to differentiate");
            return;
        }

        out.println();
        out.println("forward (graph G, in the order the engine created the nodes)");
        int width = 0;
        for (Step s : e.steps()) width = Math.max(width, s.formula().length());
        for (Step s : e.steps()) {
            String op = s.isVariable() ? "input" : s.op();
            out.println("  " + s.id() + " = " + pad(s.formula(), width) + "  " + pad(op, 8) + " = " + Explainer.format(s.value()));
        }
        out.println("  f = " + output.id() + " = " + Explainer.format(e.value()));

        out.println();
        out.println("backward (graph B, exactly the reverse order; ∂f/∂u is the adjoint of node u)");
        for (int k = e.steps().size() - 1; k >= 0; k--) {
            Step s = e.steps().get(k);
            StringBuilder line = new StringBuilder("  ∂f/∂" + s.id() + " = ");
            if (s == output) {
                line.append("1   (seed: f = ").append(s.id()).append(")");
            } else {
                List<String> terms = new ArrayList<>();
                for (Term t : s.terms()) {
                    terms.add("∂f/∂" + t.consumer() + "·∂" + t.consumer() + "/∂" + s.id() + " (= "
                            + Explainer.format(t.consumerAdjoint()) + " · " + Explainer.format(t.local()) + ")");
                }
                line.append(String.join(" + ", terms)).append(" = ").append(Explainer.format(s.adjoint()));
            }
            if (s.terms().size() > 1) {
                line.append("   [fan-out: ").append(s.id()).append(" feeds ").append(String.join(", ", s.consumers()))
                        .append("; the ").append(s.terms().size()).append(" terms are summed once, here]");
            }
            int uses = (int) s.inputs().stream().filter(i -> i.matches("u\\d+")).count();
            if (uses > 1) {
                line.append("   [memo: stored once, reused by the ").append(uses).append(" terms below for ")
                        .append(String.join(", ", s.inputs().stream().filter(i -> i.matches("u\\d+")).toList())).append("]");
            }
            out.println(line);
        }

        out.println();
        out.println("gradient");
        int nameWidth = 0;
        for (String v : e.variables()) nameWidth = Math.max(nameWidth, v.length());
        for (int i = 0; i < e.variables().size(); i++) {
            out.println("  ∂f/∂" + pad(e.variables().get(i), nameWidth) + " = " + Explainer.format(e.gradient()[i]));
        }

        if (e.hessian() != null) {
            out.println();
            out.println("hessian (one more backward sweep per gradient component, through graph B)");
            int n = e.variables().size();
            int cell = nameWidth;
            for (double[] row : e.hessian()) for (double v : row) cell = Math.max(cell, Explainer.format(v).length());
            StringBuilder head = new StringBuilder("  " + " ".repeat(nameWidth));
            for (String v : e.variables()) head.append("  ").append(pad(v, cell));
            out.println(head.toString().stripTrailing());
            for (int i = 0; i < n; i++) {
                StringBuilder row = new StringBuilder("  " + pad(e.variables().get(i), nameWidth));
                for (int j = 0; j < n; j++) row.append("  ").append(pad(Explainer.format(e.hessian()[i][j]), cell));
                out.println(row.toString().stripTrailing());
            }
        }

        if (c != null) {
            out.println();
            out.println("check against central finite differences of f");
            out.println("  (step " + step(c.gradientStep()) + "·max(1,|x|) for ∂f, " + step(c.hessianStep())
                    + "·max(1,|x|) for ∂²f; error = |backprop − numeric| / max(1, |backprop|, |numeric|))");
            int w = 0, bw = 0, nw = 0;
            for (Comparison k : c.comparisons()) {
                w = Math.max(w, k.derivative().length());
                bw = Math.max(bw, Explainer.format(k.backprop()).length());
                nw = Math.max(nw, Explainer.format(k.numeric()).length());
            }
            for (Comparison k : c.comparisons()) {
                out.println("  " + pad(k.derivative(), w) + "  backprop " + pad(Explainer.format(k.backprop()), bw)
                        + "  numeric " + pad(Explainer.format(k.numeric()), nw) + "  error " + error(k.error()));
            }
            if (c.worst() != null) out.println("  worst error: " + error(c.worst().error()) + " (" + c.worst().derivative() + ")");
        }

        if (!files.isEmpty()) {
            out.println();
            out.println("wrote " + String.join(", ", files.stream().map(Path::toString).toList()));
        }
    }

    static ObjectNode toJson(Explanation e, Check c, List<Path> files, ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        root.put("expression", e.expression());
        ObjectNode point = root.putObject("at");
        for (int i = 0; i < e.variables().size(); i++) point.put(e.variables().get(i), e.point()[i]);
        root.put("value", e.value());
        ObjectNode gradient = root.putObject("gradient");
        for (int i = 0; i < e.variables().size(); i++) gradient.put(e.variables().get(i), e.gradient()[i]);
        if (e.hessian() != null) {
            ObjectNode hessian = root.putObject("hessian");
            for (int i = 0; i < e.variables().size(); i++) {
                ObjectNode row = hessian.putObject(e.variables().get(i));
                for (int j = 0; j < e.variables().size(); j++) row.put(e.variables().get(j), e.hessian()[i][j]);
            }
        }
        ArrayNode nodes = root.putArray("nodes");
        for (Step s : e.steps()) {
            ObjectNode n = nodes.addObject();
            n.put("id", s.id());
            n.put("op", s.op());
            if (s.isVariable()) n.put("variable", s.variable());
            n.put("formula", s.formula());
            ArrayNode inputs = n.putArray("inputs");
            s.inputs().forEach(inputs::add);
            n.put("value", s.value());
            n.put("adjoint", s.adjoint());
            ArrayNode consumers = n.putArray("consumers");
            s.consumers().forEach(consumers::add);
            ArrayNode terms = n.putArray("terms");
            for (Term t : s.terms()) {
                ObjectNode term = terms.addObject();
                term.put("consumer", t.consumer());
                term.put("consumerAdjoint", t.consumerAdjoint());
                term.put("local", t.local());
                term.put("contribution", t.contribution());
            }
        }
        if (c != null) {
            ArrayNode list = checkJson(root, c.gradientStep(), c.hessianStep(), c.worst() == null ? null : c.worst().derivative(),
                    c.worst() == null ? 0 : c.worst().error());
            for (Comparison k : c.comparisons()) {
                ObjectNode o = list.addObject();
                o.put("derivative", k.derivative());
                o.put("backprop", k.backprop());
                o.put("numeric", k.numeric());
                o.put("error", k.error());
            }
        }
        if (!files.isEmpty()) {
            ArrayNode dot = root.putArray("files");
            files.forEach(f -> dot.add(f.toString()));
        }
        return root;
    }

    /** The "check" object both reports share; returns its empty "comparisons" array. */
    static ArrayNode checkJson(ObjectNode root, double gradientStep, double hessianStep, String worstDerivative, double worstError) {
        ObjectNode check = root.putObject("check");
        check.put("gradientStep", gradientStep);
        check.put("hessianStep", hessianStep);
        if (worstDerivative != null) {
            check.put("worstError", worstError);
            check.put("worstDerivative", worstDerivative);
        }
        return check.putArray("comparisons");
    }

    static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    /** A step size such as 1e-5. */
    static String step(double h) {
        return String.format(Locale.ROOT, "%.0e", h).replace("e-0", "e-");
    }

    static String error(double e) {
        return String.format(Locale.ROOT, "%.1e", e);
    }
}
