package org.deltagrad.cli.explain;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.classic.Network;
import org.deltagrad.classic.Network.Gradients;

/**
 * {@code explain --network}: one example through a small sigmoid network, with zˡ, aˡ and δˡ per layer and
 * the BP3/BP4 gradients from Nielsen's four equations ({@link Network#backprop}), each confirmed against the
 * autograd engine on the same weights and against central finite differences of the cost.
 */
public final class NetworkExplainer {
    private NetworkExplainer() {}

    /** Largest absolute differences between the hand-written backprop and the two independent references. */
    public record Differences(double deltaVsAutograd, double biasVsAutograd, double weightVsAutograd,
                              double biasVsFiniteDifferences, double weightVsFiniteDifferences) {
        public double max() {
            return Math.max(Math.max(Math.max(deltaVsAutograd, biasVsAutograd), Math.max(weightVsAutograd,
                    biasVsFiniteDifferences)), weightVsFiniteDifferences);
        }
    }

    /** The example, the trace of backprop on it, and the differences. */
    public record Result(int[] sizes, long seed, Tensor x, Tensor y, Gradients gradients, Differences differences) {}

    /** Step of the central differences: the cost is smooth and O(1), so h ≈ ε^(1/3) balances the two errors. */
    private static final double H = 1e-6;

    public static Result explain(int[] sizes, long seed) {
        Network net = new Network(sizes, seed, DType.FLOAT64, Network.Cost.QUADRATIC);
        // The example comes from its own stream, so changing the network's size does not change how it is drawn.
        SplittableRandom data = new SplittableRandom(seed ^ 0x5DEECE66DL);
        Tensor x = Tensor.randn(DType.FLOAT64, data, sizes[0], 1);
        Tensor y = Tensor.rand(DType.FLOAT64, data, sizes[sizes.length - 1], 1);
        Gradients g = net.backprop(x, y);

        Gradients auto = net.backpropByAutograd(x, y); // the same network, differentiated by the engine

        int layers = sizes.length - 1;
        double dDelta = 0, dBias = 0, dWeight = 0, fdBias = 0, fdWeight = 0;
        for (int l = 1; l <= layers; l++) {
            dWeight = Math.max(dWeight, maxAbsDiff(g.weightGrads().get(l), auto.weightGrads().get(l)));
            dBias = Math.max(dBias, maxAbsDiff(g.biasGrads().get(l), auto.biasGrads().get(l)));
            dDelta = Math.max(dDelta, maxAbsDiff(g.deltas().get(l), auto.deltas().get(l)));
            fdWeight = Math.max(fdWeight, maxAbsDiff(g.weightGrads().get(l), finiteDifferences(net, net.weight(l), x, y)));
            fdBias = Math.max(fdBias, maxAbsDiff(g.biasGrads().get(l), finiteDifferences(net, net.bias(l), x, y)));
        }
        return new Result(sizes.clone(), seed, x, y, g, new Differences(dDelta, dBias, dWeight, fdBias, fdWeight));
    }

    /** ∂C/∂p for every entry of the parameter matrix p, by central differences (two costs per entry). */
    private static Tensor finiteDifferences(Network net, Tensor p, Tensor x, Tensor y) {
        int rows = p.shape(0), cols = p.shape(1);
        double[] out = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) out[r * cols + c] = net.centralDifference(p, r, c, x, y, H);
        }
        return Tensor.of(out, rows, cols);
    }

    private static double maxAbsDiff(Tensor a, Tensor b) {
        double[] u = a.toDoubleArray(), v = b.toDoubleArray();
        double worst = 0;
        for (int i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(u[i] - v[i]));
        return worst;
    }

    /** The human-readable report. */
    public static void printText(Result r, PrintWriter out) {
        Gradients g = r.gradients();
        int last = r.sizes().length - 1;
        out.println("network " + join(r.sizes()) + " (sigmoid neurons, quadratic cost C = ½‖aᴸ − y‖²), seed " + r.seed()
                + ", one example");
        out.println("  x = a⁰ = " + vector(r.x()));
        out.println("  y      = " + vector(r.y()));
        for (int l = 1; l <= last; l++) {
            String s = sup(l), p = sup(l - 1), n = sup(l + 1);
            out.println();
            out.println("layer " + l + (l == last ? " (output)" : " (hidden)") + ", " + r.sizes()[l] + " neurons");
            row(out, "z" + s + " = w" + s + "a" + p + " + b" + s, vector(g.z().get(l)), "");
            row(out, "a" + s + " = σ(z" + s + ")", vector(g.activations().get(l)), "");
            if (l == last) row(out, "δ" + s + " = (a" + s + " − y) ⊙ σ′(z" + s + ")", vector(g.deltas().get(l)), "BP1");
            else row(out, "δ" + s + " = ((w" + n + ")ᵀ δ" + n + ") ⊙ σ′(z" + s + ")", vector(g.deltas().get(l)), "BP2");
            row(out, "∂C/∂b" + s + " = δ" + s, vector(g.biasGrads().get(l)), "BP3");
            row(out, "∂C/∂w" + s + " = δ" + s + " (a" + p + ")ᵀ", matrix(g.weightGrads().get(l)), "BP4");
        }
        out.println();
        out.println("cost C = " + Explainer.format(g.cost()));
        Differences d = r.differences();
        out.println();
        out.println("checks (largest |difference| from BP1–BP4)");
        out.println("  δ      vs autograd ∂C/∂z          " + error(d.deltaVsAutograd()));
        out.println("  ∂C/∂b  vs autograd                " + error(d.biasVsAutograd()));
        out.println("  ∂C/∂w  vs autograd                " + error(d.weightVsAutograd()));
        out.println("  ∂C/∂b  vs central differences     " + error(d.biasVsFiniteDifferences()));
        out.println("  ∂C/∂w  vs central differences     " + error(d.weightVsFiniteDifferences()));
        out.println("  worst: " + error(d.max()));
    }

    /** The machine-readable report. */
    public static ObjectNode toJson(Result r, ObjectMapper mapper) {
        Gradients g = r.gradients();
        ObjectNode root = mapper.createObjectNode();
        ArrayNode sizes = root.putArray("network");
        for (int s : r.sizes()) sizes.add(s);
        root.put("seed", r.seed());
        root.put("cost", "quadratic");
        root.set("x", array(mapper, r.x()));
        root.set("y", array(mapper, r.y()));
        root.put("value", g.cost());
        ArrayNode layers = root.putArray("layers");
        for (int l = 1; l < r.sizes().length; l++) {
            ObjectNode layer = layers.addObject();
            layer.put("layer", l);
            layer.set("z", array(mapper, g.z().get(l)));
            layer.set("a", array(mapper, g.activations().get(l)));
            layer.set("delta", array(mapper, g.deltas().get(l)));
            layer.set("gradB", array(mapper, g.biasGrads().get(l)));
            ArrayNode w = layer.putArray("gradW");
            Tensor gw = g.weightGrads().get(l);
            for (int i = 0; i < gw.shape(0); i++) {
                ArrayNode row = w.addArray();
                for (int j = 0; j < gw.shape(1); j++) row.add(gw.get(i, j));
            }
        }
        Differences d = r.differences();
        ObjectNode check = root.putObject("check");
        check.put("deltaVsAutograd", d.deltaVsAutograd());
        check.put("biasVsAutograd", d.biasVsAutograd());
        check.put("weightVsAutograd", d.weightVsAutograd());
        check.put("biasVsFiniteDifferences", d.biasVsFiniteDifferences());
        check.put("weightVsFiniteDifferences", d.weightVsFiniteDifferences());
        check.put("max", d.max());
        return root;
    }

    private static void row(PrintWriter out, String label, String value, String equation) {
        String padded = label.length() >= 26 ? label : label + " ".repeat(26 - label.length());
        out.println(("  " + (equation.isEmpty() ? "    " : equation + " ") + padded + " = " + value).stripTrailing());
    }

    private static ArrayNode array(ObjectMapper mapper, Tensor t) {
        ArrayNode a = mapper.createArrayNode();
        for (double v : t.toDoubleArray()) a.add(v);
        return a;
    }

    private static String vector(Tensor t) {
        List<String> parts = new ArrayList<>();
        for (double v : t.toDoubleArray()) parts.add(Explainer.format(v));
        return "[" + String.join(", ", parts) + "]";
    }

    private static String matrix(Tensor t) {
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < t.shape(0); i++) rows.add(vector(t.narrow(0, i, 1)));
        return "[" + String.join(", ", rows) + "]";
    }

    private static String error(double e) {
        return String.format(Locale.ROOT, "%.1e", e);
    }

    private static String join(int[] sizes) {
        List<String> parts = new ArrayList<>();
        for (int s : sizes) parts.add(Integer.toString(s));
        return String.join("-", parts);
    }

    /** A layer index in superscript digits (Nielsen writes zˡ, aˡ, δˡ). */
    private static String sup(int n) {
        String digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        StringBuilder sb = new StringBuilder();
        for (char c : Integer.toString(n).toCharArray()) sb.append(digits.charAt(c - '0'));
        return sb.toString();
    }
}
