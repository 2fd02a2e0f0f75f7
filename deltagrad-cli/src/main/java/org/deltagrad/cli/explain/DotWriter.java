package org.deltagrad.cli.explain;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.deltagrad.cli.explain.Explainer.Explanation;
import org.deltagrad.cli.explain.Explainer.Step;
import org.deltagrad.cli.explain.Explainer.Term;

/**
 * Graphviz drawings of an explanation, as in the figures of Goodfellow et al. §6.5: the forward graph G
 * (an edge x → y where y is computed from x), the backward graph B (one node ∂f/∂u per node u of G, every
 * edge reversed and labelled with the local derivative it multiplies by), and both together, with dashed
 * edges from the forward values each local derivative reads.
 */
public final class DotWriter {
    private DotWriter() {}

    /** G: variables and intermediate values, labelled with their op and value, inputs drawn at the bottom. */
    public static String forward(Explanation e) {
        StringBuilder sb = new StringBuilder("digraph G {\n");
        header(sb, "  ");
        forwardBody(sb, e, "  ");
        return sb.append("}\n").toString();
    }

    /** B: ∂f/∂u for every u, the output's seed at the bottom, each edge of G reversed. */
    public static String backward(Explanation e) {
        StringBuilder sb = new StringBuilder("digraph B {\n");
        header(sb, "  ");
        backwardBody(sb, e, "  ");
        return sb.append("}\n").toString();
    }

    /** G and B side by side, with dashed edges from the forward values that B's local derivatives read. */
    public static String symbolic(Explanation e) {
        StringBuilder sb = new StringBuilder("digraph symbolic {\n");
        header(sb, "  ");
        sb.append("  subgraph cluster_G {\n    label=\"forward graph G\";\n");
        forwardBody(sb, e, "    ");
        sb.append("  }\n  subgraph cluster_B {\n    label=\"backward graph B\";\n");
        backwardBody(sb, e, "    ");
        sb.append("  }\n");
        // B's node for u reads exactly the forward values that each local derivative ∂c/∂u needs.
        Set<String> reads = new LinkedHashSet<>();
        for (Step s : e.steps()) {
            for (Term t : s.terms()) {
                for (String operand : localDerivativeReads(step(e, t.consumer()), s.id())) {
                    if (isNode(operand)) reads.add("  " + operand + " -> d" + s.id().substring(1) + " [style=dashed, color=gray50, constraint=false];\n");
                }
            }
        }
        reads.forEach(sb::append);
        return sb.append("}\n").toString();
    }

    /**
     * The forward values ∂c/∂u depends on: none for add/sub/neg, the other factor for mul, the divisor (and
     * for the divisor's own term, both) for div, base and exponent for pow and powTensor, the output itself for
     * exp/sqrt/tanh/sigmoid, and u for the rest (log, sin, cos, abs, relu).
     */
    static List<String> localDerivativeReads(Step c, String u) {
        List<String> in = c.inputs();
        return switch (c.op()) {
            case "add", "sub", "neg" -> List.of();
            case "mul" -> {
                List<String> other = new java.util.ArrayList<>(in);
                other.remove(u);
                yield other.isEmpty() ? List.of(u) : other;
            }
            case "div" -> u.equals(in.get(0)) && !u.equals(in.get(1)) ? List.of(in.get(1)) : in;
            case "pow", "powTensor" -> in;
            case "exp", "sqrt", "tanh", "sigmoid" -> List.of(c.id());
            default -> List.of(u);
        };
    }

    private static void header(StringBuilder sb, String indent) {
        sb.append(indent).append("rankdir=BT;\n");
        sb.append(indent).append("node [fontname=\"Helvetica\", fontsize=11];\n");
        sb.append(indent).append("edge [fontname=\"Helvetica\", fontsize=9];\n");
    }

    private static void forwardBody(StringBuilder sb, Explanation e, String indent) {
        for (Step s : e.steps()) {
            String label = s.isVariable()
                    ? s.id() + " = " + s.variable() + "\\n" + Explainer.format(s.value())
                    : s.id() + " = " + s.formula() + "\\n" + s.op() + " = " + Explainer.format(s.value());
            sb.append(indent).append(s.id()).append(" [label=\"").append(escape(label)).append("\", shape=")
                    .append(s.isVariable() ? "box" : "ellipse").append("];\n");
        }
        for (Step s : e.steps()) {
            for (String operand : s.inputs()) {
                if (isNode(operand)) sb.append(indent).append(operand).append(" -> ").append(s.id()).append(";\n");
            }
        }
    }

    private static void backwardBody(StringBuilder sb, Explanation e, String indent) {
        Step out = e.output();
        for (Step s : e.steps()) {
            String label = "∂f/∂" + s.id() + "\\n= " + Explainer.format(s.adjoint()) + (s == out ? " (seed)" : "");
            sb.append(indent).append('d').append(s.id().substring(1)).append(" [label=\"").append(escape(label))
                    .append("\", shape=box, style=rounded];\n");
        }
        // Listed from the output down, the order in which B computes them.
        for (int k = e.steps().size() - 1; k >= 0; k--) {
            Step consumer = e.steps().get(k);
            for (Step s : e.steps()) {
                for (Term t : s.terms()) {
                    if (!t.consumer().equals(consumer.id())) continue;
                    String label = "×∂" + consumer.id() + "/∂" + s.id() + " = " + Explainer.format(t.local());
                    sb.append(indent).append('d').append(consumer.id().substring(1)).append(" -> d")
                            .append(s.id().substring(1)).append(" [label=\"").append(escape(label)).append("\"];\n");
                }
            }
        }
    }

    private static Step step(Explanation e, String id) {
        return e.steps().get(Integer.parseInt(id.substring(1)) - 1);
    }

    /** Operands are node ids (u1, u2, ...) or formatted constants. */
    private static boolean isNode(String operand) {
        return operand.matches("u\\d+");
    }

    private static String escape(String label) {
        // \n in our labels is Graphviz's line break and is already escaped; only quotes need escaping.
        return label.replace("\"", "\\\"");
    }

    /**
     * Writes forward.dot, backward.dot and symbolic.dot into {@code dir} (created if needed) and, when
     * Graphviz's {@code dot} is on the PATH, renders each as .svg and .png. Returns the files written.
     */
    public static List<Path> write(Explanation e, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        boolean render = graphvizAvailable();
        for (String[] graph : new String[][] {{"forward", forward(e)}, {"backward", backward(e)}, {"symbolic", symbolic(e)}}) {
            Path dot = dir.resolve(graph[0] + ".dot");
            Files.writeString(dot, graph[1], StandardCharsets.UTF_8);
            written.add(dot);
            if (!render) continue;
            for (String format : new String[] {"svg", "png"}) {
                Path image = dir.resolve(graph[0] + "." + format);
                render(dot, format, image);
                written.add(image);
            }
        }
        return written;
    }

    /** Whether an executable named {@code dot} is on the PATH. */
    public static boolean graphvizAvailable() {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "dot"))) return true;
        }
        return false;
    }

    /** Runs {@code dot -T<format> in -o out}; a failure carries Graphviz's own message. */
    public static void render(Path in, String format, Path out) throws IOException {
        Process p = new ProcessBuilder("dot", "-T" + format, in.toString(), "-o", out.toString())
                .redirectErrorStream(true).start();
        String messages = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            int status = p.waitFor();
            if (status != 0) throw new IOException("dot -T" + format + " " + in + " failed (status " + status + "): " + messages);
        } catch (InterruptedException ex) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while rendering " + in, ex);
        }
    }
}
