package org.deltagrad.cli.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.classic.Network;
import org.deltagrad.classic.Network.Gradients;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code deltagrad bench fd-vs-backprop}: the argument for backpropagation in numbers. A full gradient by
 * central finite differences costs two forward passes per parameter, so its cost over backprop's grows
 * linearly with the parameter count, while backprop (forward + backward) stays within a small constant of
 * one forward pass.
 */
@Command(name = "fd-vs-backprop", mixinStandardHelpOptions = true,
        description = {"Time one gradient by central finite differences against one backprop, for growing networks.",
                "Finite differences on a large network would take minutes: past --samples parameters they are timed "
                        + "on a random sample and extrapolated (the output says so)."})
public final class FdVsBackpropCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--layers", split = ",", paramLabel = "SIZES", defaultValue = "784,30,10",
            description = "Input, hidden and output sizes of the sigmoid network (default: ${DEFAULT-VALUE}).")
    int[] layers;

    @Option(names = "--sizes", split = ",", paramLabel = "N", defaultValue = "5,10,20,40,80",
            description = "Hidden sizes to try: each replaces every hidden size of --layers (default: ${DEFAULT-VALUE}).")
    int[] sizes;

    @Option(names = "--batch", defaultValue = "10", description = "Examples in the mini-batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--samples", defaultValue = "200", paramLabel = "K",
            description = "Most parameters to perturb; larger networks are extrapolated from K random ones (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of weights, data and sample (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    /** One network's timings; seconds are per full gradient (or per forward pass). */
    public record Row(int[] sizes, int parameters, double fdSeconds, int perturbed, double backpropSeconds,
                      double forwardSeconds, double maxAbsDifference) {
        public boolean extrapolated() {
            return perturbed < parameters;
        }

        public double fdOverBackprop() {
            return fdSeconds / backpropSeconds;
        }

        public double backpropOverForward() {
            return backpropSeconds / forwardSeconds;
        }
    }

    /** Central-difference step for float64 and an O(1) cost. */
    private static final double H = 1e-6;

    @Override
    public Integer call() throws Exception {
        if (layers.length < 2) throw usage("--layers needs at least an input and an output size");
        if (batch < 1 || samples < 1) throw usage("--batch and --samples must be positive");
        for (int s : sizes) if (s < 1) throw usage("--sizes must be positive, got " + s);
        // A discarded first run lets the JIT compile the hot loops, so the first row is not timed cold.
        measure(withHidden(hiddenSizes()[0]));
        List<Row> rows = new ArrayList<>();
        for (int hidden : hiddenSizes()) rows.add(measure(withHidden(hidden)));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            out.println(mapper.writeValueAsString(toJson(rows, mapper)));
        } else {
            printText(rows, out);
        }
        out.flush();
        return 0;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** A network without hidden layers has nothing to grow: it is measured once, as given. */
    private int[] hiddenSizes() {
        return layers.length == 2 ? new int[] {0} : sizes;
    }

    private int[] withHidden(int hidden) {
        int[] s = layers.clone();
        for (int i = 1; i < s.length - 1; i++) s[i] = hidden;
        return s;
    }

    private Row measure(int[] netSizes) {
        Network net = new Network(netSizes, seed, DType.FLOAT64);
        SplittableRandom rng = new SplittableRandom(seed + 1);
        Tensor x = Tensor.randn(DType.FLOAT64, rng, netSizes[0], batch);
        Tensor y = Tensor.rand(DType.FLOAT64, rng, netSizes[netSizes.length - 1], batch);

        double forward = secondsPerCall(() -> net.cost(x, y));
        double backprop = secondsPerCall(() -> net.backprop(x, y));
        Gradients g = net.backprop(x, y);

        // Every parameter as (layer, weight or bias, flat index); a seeded sample when there are too many.
        List<int[]> params = new ArrayList<>();
        for (int l = 1; l < netSizes.length; l++) {
            for (int i = 0; i < net.weight(l).numel(); i++) params.add(new int[] {l, 0, i});
            for (int i = 0; i < net.bias(l).numel(); i++) params.add(new int[] {l, 1, i});
        }
        int total = params.size();
        List<int[]> chosen = params;
        if (total > samples) {
            SplittableRandom pick = new SplittableRandom(seed + 2);
            for (int i = 0; i < samples; i++) {
                int j = i + pick.nextInt(total - i); // partial Fisher–Yates: the first `samples` are the sample
                int[] t = params.get(i);
                params.set(i, params.get(j));
                params.set(j, t);
            }
            chosen = params.subList(0, samples);
        }

        double[] worst = {0};
        List<int[]> perturbed = chosen;
        double perParameter = secondsPerCall(() -> {
            for (int[] p : perturbed) {
                Tensor t = p[1] == 0 ? net.weight(p[0]) : net.bias(p[0]);
                int r = p[2] / t.shape(1), c = p[2] % t.shape(1);
                double numeric = net.centralDifference(t, r, c, x, y, H);
                Tensor analytic = p[1] == 0 ? g.weightGrads().get(p[0]) : g.biasGrads().get(p[0]);
                worst[0] = Math.max(worst[0], Math.abs(numeric - analytic.get(r, c)));
            }
        }) / chosen.size();
        return new Row(netSizes, total, perParameter * total, chosen.size(), backprop, forward, worst[0]);
    }

    /**
     * Seconds per call: the fastest of 5 rounds (each of at least 3 calls and 20 ms), after a warm-up call.
     * The minimum, not the mean, because other processes only ever add time.
     */
    private static double secondsPerCall(Runnable task) {
        task.run();
        double best = Double.POSITIVE_INFINITY;
        for (int round = 0; round < 5; round++) {
            int calls = 0;
            long start = System.nanoTime(), elapsed;
            do {
                task.run();
                calls++;
                elapsed = System.nanoTime() - start;
            } while (calls < 3 || elapsed < 20_000_000L);
            best = Math.min(best, elapsed * 1e-9 / calls);
        }
        return best;
    }

    private void printText(List<Row> rows, PrintWriter out) {
        out.println("one gradient of the mean quadratic cost over " + batch + " examples (float64): central finite "
                + "differences (2 forward passes per parameter) vs backprop (1 forward + 1 backward)");
        String[] head = {"layers", "parameters", "FD s", "backprop s", "forward s", "FD/backprop", "backprop/forward", "max |FD-BP|"};
        List<String[]> table = new ArrayList<>();
        table.add(head);
        boolean anyExtrapolated = false;
        for (Row r : rows) {
            anyExtrapolated |= r.extrapolated();
            table.add(new String[] {
                    String.join("-", Arrays.stream(r.sizes()).mapToObj(Integer::toString).toList()),
                    Integer.toString(r.parameters()),
                    seconds(r.fdSeconds()) + (r.extrapolated() ? "*" : ""),
                    seconds(r.backpropSeconds()),
                    seconds(r.forwardSeconds()),
                    String.format(Locale.ROOT, "%.1f", r.fdOverBackprop()),
                    String.format(Locale.ROOT, "%.2f", r.backpropOverForward()),
                    String.format(Locale.ROOT, "%.1e", r.maxAbsDifference())});
        }
        int[] width = new int[head.length];
        for (String[] row : table) for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].length());
        for (String[] row : table) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                String cell = row[i];
                String pad = " ".repeat(width[i] - cell.length());
                line.append("  ").append(i == 0 ? cell + pad : pad + cell); // names left, numbers right
            }
            out.println(line);
        }
        if (anyExtrapolated) {
            out.println("* extrapolated: finite differences timed on " + samples + " random parameters and scaled to all of them");
        }
        if (rows.size() >= 2) {
            // Least-squares slope of log(FD/backprop) against log(parameters): 1 means proportional growth.
            double sx = 0, sy = 0, sxx = 0, sxy = 0, lo = Double.MAX_VALUE, hi = 0;
            for (Row r : rows) {
                double x = Math.log(r.parameters()), y = Math.log(r.fdOverBackprop());
                sx += x; sy += y; sxx += x * x; sxy += x * y;
                lo = Math.min(lo, r.backpropOverForward());
                hi = Math.max(hi, r.backpropOverForward());
            }
            int n = rows.size();
            double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
            out.printf(Locale.ROOT, "measured: FD/backprop grows as parameters^%.2f (1 = in proportion to the parameter count); "
                    + "backprop/forward stays between %.2f and %.2f%n", slope, lo, hi);
        }
    }

    private ObjectNode toJson(List<Row> rows, ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        ArrayNode l = root.putArray("layers");
        for (int s : layers) l.add(s);
        root.put("batch", batch);
        root.put("samples", samples);
        ArrayNode list = root.putArray("rows");
        for (Row r : rows) {
            ObjectNode o = list.addObject();
            ArrayNode s = o.putArray("sizes");
            for (int n : r.sizes()) s.add(n);
            o.put("parameters", r.parameters());
            o.put("fdSeconds", r.fdSeconds());
            o.put("fdExtrapolated", r.extrapolated());
            o.put("fdPerturbed", r.perturbed());
            o.put("backpropSeconds", r.backpropSeconds());
            o.put("forwardSeconds", r.forwardSeconds());
            o.put("fdOverBackprop", r.fdOverBackprop());
            o.put("backpropOverForward", r.backpropOverForward());
            o.put("maxAbsDifference", r.maxAbsDifference());
        }
        return root;
    }

    private static String seconds(double s) {
        return String.format(Locale.ROOT, "%.3g", s);
    }
}
