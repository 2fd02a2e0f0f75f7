package org.deltagrad.cli.explain;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.deltagrad.Tensor;
import org.deltagrad.cli.explain.TensorExplainer.Check;
import org.deltagrad.cli.explain.TensorExplainer.Comparison;
import org.deltagrad.cli.explain.TensorExplainer.Explanation;
import org.deltagrad.cli.explain.TensorExplainer.SecondOrder;
import org.deltagrad.cli.explain.TensorExplainer.Step;
import org.deltagrad.cli.explain.TensorExplainer.Term;

/** The text and JSON reports of a {@link TensorExplainer} trace. */
final class TensorReport {
    private TensorReport() {}

    static void printText(Explanation e, Check c, PrintWriter out) {
        out.println("f = " + e.expression());
        for (int i = 0; i < e.variables().size(); i++) {
            Tensor x = e.point().get(i);
            out.println("  " + e.variables().get(i) + " " + TensorExplainer.shape(x) + " = " + TensorExplainer.show(x));
        }
        out.println();
        out.println("forward (graph G, in the order the engine created the nodes; [shape] = value)");
        int width = 0, opWidth = 0;
        for (Step s : e.steps()) {
            width = Math.max(width, s.formula().length());
            opWidth = Math.max(opWidth, label(s).length());
        }
        for (Step s : e.steps()) {
            out.println("  " + s.id() + " = " + ExplainCommand.pad(s.formula(), width) + "  " + ExplainCommand.pad(label(s), opWidth) + "  "
                    + TensorExplainer.shape(s.value()) + " = " + TensorExplainer.show(s.value()));
        }
        out.println("  f = " + e.output().id() + " = " + Explainer.format(e.value()));

        out.println();
        out.println("backward (graph B, exactly the reverse order; G is the consumer's adjoint, ∂f/∂u the adjoint of node u)");
        for (int k = e.steps().size() - 1; k >= 0; k--) {
            Step s = e.steps().get(k);
            String head = "  ∂f/∂" + s.id() + " " + TensorExplainer.shape(s.adjoint()) + " = ";
            if (s == e.output()) {
                out.println(head + TensorExplainer.show(s.adjoint()) + "   (seed: f = " + s.id() + ")");
                continue;
            }
            List<String> parts = new ArrayList<>();
            for (Term t : s.terms()) parts.add("(from " + t.consumer() + ")");
            out.println(head + (s.terms().size() > 1 ? String.join(" + ", parts) + " = " : "") + TensorExplainer.show(s.adjoint()));
            for (Term t : s.terms()) {
                StringBuilder line = new StringBuilder("      from " + t.consumer() + ": " + t.rule());
                if (t.local() != null) line.append("; local derivative ").append(TensorExplainer.show(t.local()));
                line.append(" → ").append(TensorExplainer.show(t.contribution()));
                if (t.summedBackFrom() != null) {
                    line.append("   [broadcast: summed back from ").append(TensorExplainer.shape(t.summedBackFrom())).append(" to ")
                            .append(TensorExplainer.shape(s.value())).append(", the engine's fitToInput]");
                }
                out.println(line);
            }
            if (s.terms().size() > 1) {
                out.println("      [fan-out: " + s.id() + " feeds " + String.join(", ", s.consumers()) + "; its adjoint is the sum of these "
                        + s.terms().size() + " terms]");
            }
        }

        out.println();
        out.println("gradient");
        for (int i = 0; i < e.variables().size(); i++) {
            Tensor g = e.gradient().get(i);
            out.println("  ∂f/∂" + e.variables().get(i) + " " + TensorExplainer.shape(g) + " = " + TensorExplainer.show(g));
        }

        SecondOrder s = e.secondOrder();
        if (s != null && s.hessian() != null) {
            out.println();
            out.println("hessian over the " + s.labels().size() + " input elements (one more backward sweep per gradient element, through graph B)");
            int cell = 0;
            for (String l : s.labels()) cell = Math.max(cell, l.length());
            for (double[] row : s.hessian()) for (double v : row) cell = Math.max(cell, Explainer.format(v).length());
            StringBuilder head = new StringBuilder("  " + " ".repeat(cell));
            for (String l : s.labels()) head.append("  ").append(ExplainCommand.pad(l, cell));
            out.println(head.toString().stripTrailing());
            for (int i = 0; i < s.labels().size(); i++) {
                StringBuilder row = new StringBuilder("  " + ExplainCommand.pad(s.labels().get(i), cell));
                for (double v : s.hessian()[i]) row.append("  ").append(ExplainCommand.pad(Explainer.format(v), cell));
                out.println(row.toString().stripTrailing());
            }
        } else if (s != null) {
            out.println();
            out.println("hessian-vector product H·v (over " + TensorExplainer.FULL_HESSIAN + " input elements, so not the full Hessian; "
                    + "v is standard normal from --seed + 1; one backward sweep of v·∇f through graph B)");
            for (int i = 0; i < e.variables().size(); i++) {
                out.println("  v for " + e.variables().get(i) + " = " + TensorExplainer.show(s.v().get(i)));
                out.println("  (H·v) for " + e.variables().get(i) + " = " + TensorExplainer.show(s.hv().get(i)));
            }
        }

        if (c != null) {
            out.println();
            out.println("check against central finite differences of f");
            out.println("  (step " + ExplainCommand.step(c.gradientStep()) + "·max(1,|x|) per element for ∂f, " + ExplainCommand.step(c.hessianStep())
                    + "·max(1,|x|) for ∂²f; error = worst element's |backprop − numeric| / max(1, |backprop|, |numeric|))");
            for (Comparison k : c.comparisons()) {
                out.println("  " + k.derivative() + "  numeric " + TensorExplainer.show(k.numeric()) + "  error " + ExplainCommand.error(k.error()));
            }
            if (c.worst() != null) out.println("  worst error: " + ExplainCommand.error(c.worst().error()) + " (" + c.worst().derivative() + ")");
        }
    }

    private static String label(Step s) {
        return s.isVariable() ? "input" : s.op();
    }

    static ObjectNode toJson(Explanation e, Check c, ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        root.put("expression", e.expression());
        ObjectNode point = root.putObject("at");
        for (int i = 0; i < e.variables().size(); i++) point.set(e.variables().get(i), nested(e.point().get(i), mapper));
        root.put("value", e.value());
        ObjectNode gradient = root.putObject("gradient");
        for (int i = 0; i < e.variables().size(); i++) gradient.set(e.variables().get(i), nested(e.gradient().get(i), mapper));
        SecondOrder s = e.secondOrder();
        if (s != null && s.hessian() != null) {
            ObjectNode h = root.putObject("hessian");
            ArrayNode labels = h.putArray("elements");
            s.labels().forEach(labels::add);
            ArrayNode rows = h.putArray("matrix");
            for (double[] r : s.hessian()) {
                ArrayNode row = rows.addArray();
                for (double v : r) row.add(v);
            }
        } else if (s != null) {
            ObjectNode hvp = root.putObject("hessianVectorProduct");
            ObjectNode v = hvp.putObject("v"), hv = hvp.putObject("hv");
            for (int i = 0; i < e.variables().size(); i++) {
                v.set(e.variables().get(i), nested(s.v().get(i), mapper));
                hv.set(e.variables().get(i), nested(s.hv().get(i), mapper));
            }
        }
        ArrayNode nodes = root.putArray("nodes");
        for (Step st : e.steps()) {
            ObjectNode n = nodes.addObject();
            n.put("id", st.id());
            n.put("op", st.op());
            if (st.isVariable()) n.put("variable", st.variable());
            n.put("formula", st.formula());
            ArrayNode shape = n.putArray("shape");
            for (int d : st.value().shape()) shape.add(d);
            ArrayNode inputs = n.putArray("inputs");
            st.inputs().forEach(inputs::add);
            n.set("value", nested(st.value(), mapper));
            n.set("adjoint", nested(st.adjoint(), mapper));
            ArrayNode consumers = n.putArray("consumers");
            st.consumers().forEach(consumers::add);
            ArrayNode terms = n.putArray("terms");
            for (Term t : st.terms()) {
                ObjectNode term = terms.addObject();
                term.put("consumer", t.consumer());
                term.put("rule", t.rule());
                if (t.local() != null) term.set("local", nested(t.local(), mapper));
                term.set("contribution", nested(t.contribution(), mapper));
                if (t.summedBackFrom() != null) {
                    ArrayNode from = term.putArray("summedBackFrom");
                    for (int d : t.summedBackFrom()) from.add(d);
                }
            }
        }
        if (c != null) {
            ArrayNode list = ExplainCommand.checkJson(root, c.gradientStep(), c.hessianStep(), c.worst() == null ? null : c.worst().derivative(),
                    c.worst() == null ? 0 : c.worst().error());
            for (Comparison k : c.comparisons()) {
                ObjectNode o = list.addObject();
                o.put("derivative", k.derivative());
                o.set("backprop", nested(k.backprop(), mapper));
                o.set("numeric", nested(k.numeric(), mapper));
                o.put("error", k.error());
            }
        }
        return root;
    }

    /** A tensor as nested JSON arrays of its shape (a number for a scalar). */
    static JsonNode nested(Tensor t, ObjectMapper mapper) {
        double[] x = t.toDoubleArray();
        if (t.rank() == 0) return mapper.getNodeFactory().numberNode(x[0]);
        return nested(x, t.shape(), 0, new int[] {0}, mapper);
    }

    private static ArrayNode nested(double[] x, int[] shape, int level, int[] next, ObjectMapper mapper) {
        ArrayNode a = mapper.createArrayNode();
        for (int i = 0; i < shape[level]; i++) {
            if (level == shape.length - 1) a.add(x[next[0]++]);
            else a.add(nested(x, shape, level + 1, next, mapper));
        }
        return a;
    }
}
