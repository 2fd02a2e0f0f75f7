package org.deltagrad.cli;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.data.Idx;
import org.deltagrad.data.ImageFolder;
import org.deltagrad.data.InputSpec;
import org.deltagrad.data.IdxArray;
import org.deltagrad.io.ModelFile;
import org.deltagrad.nn.Architecture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code deltagrad predict}: class probabilities for an image, the images of an IDX file, or a feature vector. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Print class probabilities for inputs: a PNG/JPEG/PGM image, an IDX file of images, or --values.",
                "A model trained with --data takes what it was trained on: a CSV file with its feature columns (by name, any "
                        + "order; with the label column, accuracy is printed too), or an image file or folder (images, or one "
                        + "sub-folder per class), prepared as in training."})
public final class PredictCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "Model weights (.safetensors) written by train.")
    Path model;
    @Option(names = "--input", paramLabel = "FILE", description = "A PNG/JPEG/PGM image or an IDX file (one image or many); for a "
            + "model trained with --data, a CSV file, an image, or a folder of images.")
    Path input;
    @Option(names = "--values", paramLabel = "X", split = ",", description = "A feature vector, e.g. 0.2,-0.5 for spirals.")
    double[] values;
    @Option(names = "--invert", description = "Invert grey levels (for dark drawings on white; the datasets are light on black).")
    boolean invert;
    @Option(names = "--limit", paramLabel = "N", description = "At most this many images of an IDX file (default: ${DEFAULT-VALUE}).")
    int limit = 10;
    @Option(names = "--top", paramLabel = "K", description = "Show the K most probable classes (default: all).")
    Integer top;
    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if ((input == null) == (values == null)) throw new UserException("give exactly one of --input FILE or --values X,Y,...");
        if (limit < 1) throw new ParameterException(spec.commandLine(), "--limit must be at least 1 (got " + limit + ")");
        float[] given = values == null ? null : toFloats(values);
        ModelFile.Loaded loaded = ModelFile.load(model);
        Architecture s = loaded.architecture();
        InputSpec own = inputSpec(loaded, model);
        List<String> rowNames = null;
        int[] labels = null;
        float[][] rows;
        if (own != null && input != null) {
            // The model was trained on the user's own files: prepare these exactly as training did.
            InputSpec.Rows r = own.kind() == InputSpec.Kind.IMAGES && input.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".pgm")
                    ? pgm(own, input) : own.rows(input);
            if (invert && own.kind() == InputSpec.Kind.CSV) throw new UserException("--invert is for images; " + model + " takes CSV rows");
            rows = new float[r.count()][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = Arrays.copyOfRange(r.values(), i * s.inputs(), (i + 1) * s.inputs());
                for (int j = 0; j < rows[i].length; j++) rows[i][j] = pixel(rows[i][j]);
            }
            rowNames = r.names();
            labels = r.labels();
        } else {
            rows = input != null ? readInput(input, s) : new float[][] {given};
            if (own != null && own.kind() == InputSpec.Kind.CSV && given.length == own.features().size()) own.standardise(rows[0]);
        }
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != s.inputs()) {
                throw new UserException("the input has " + rows[i].length + " values but the model expects " + s.inputs());
            }
            for (int j = 0; j < rows[i].length; j++) {
                if (!Float.isFinite(rows[i][j])) {
                    throw new UserException(input + ": image " + i + " holds " + rows[i][j] + " at value " + j
                            + "; expected finite numbers");
                }
            }
        }
        float[] flat = new float[rows.length * s.inputs()];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * s.inputs(), s.inputs());
        double[] probs;
        loaded.model().eval();
        try (Autograd.Scope sc = Autograd.noGrad()) {
            Tensor out = loaded.model().forward(Tensor.of(flat, rows.length, s.inputs()));
            // Logits go through softmax; an activated (quadratic-cost) output is normalised to sum to one.
            probs = (s.activateOutput() ? out.div(out.sum(1, true)) : out.softmax(1)).toDoubleArray();
        }
        List<String> names = EvaluateCommand.classNames(s.classNames(), s.outputs());
        PrintWriter out = spec.commandLine().getOut();
        int k = top == null ? s.outputs() : Math.max(1, Math.min(top, s.outputs()));
        List<Object> all = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Integer[] order = new Integer[s.outputs()];
            for (int c = 0; c < order.length; c++) order[c] = c;
            int base = i * s.outputs();
            Arrays.sort(order, (a, b) -> Double.compare(probs[base + b], probs[base + a]));
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("index", i);
                if (rowNames != null) m.put("input", rowNames.get(i));
                if (labels != null) m.put("label", names.get(labels[i]));
                m.put("predicted", names.get(order[0]));
                Map<String, Object> p = new LinkedHashMap<>();
                for (int j = 0; j < k; j++) p.put(names.get(order[j]), probs[base + order[j]]);
                m.put("probabilities", p);
                all.add(m);
                continue;
            }
            String name = rowNames != null ? rowNames.get(i) + ": " : rows.length > 1 ? "#" + i + ": " : "";
            out.printf(Locale.ROOT, "%s%s (%.4f)%s%n", name, names.get(order[0]), probs[base + order[0]],
                    labels == null ? "" : "  true: " + names.get(labels[i]));
            for (int j = 0; j < k; j++) {
                out.printf(Locale.ROOT, "  %-14s %.4f%n", names.get(order[j]), probs[base + order[j]]);
            }
        }
        int correct = 0;
        for (int i = 0; labels != null && i < rows.length; i++) if (predicted(probs, i, s.outputs()) == labels[i]) correct++;
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("predictions", all);
            if (labels != null) m.put("accuracy", (double) correct / rows.length);
            out.print(Json.toJson(m));
            out.println();
        } else if (labels != null) {
            out.printf(Locale.ROOT, "accuracy %.4f (%d of %d)%n", (double) correct / rows.length, correct, rows.length);
        }
        return 0;
    }

    /** A greymap (which ImageIO does not read) prepared for an image-folder model as its training images were. */
    private static InputSpec.Rows pgm(InputSpec own, Path file) throws IOException {
        float[] row = new float[own.rowSize()];
        ImageFolder.pixels(Images.read(file), own, row, 0);
        return new InputSpec.Rows(row, List.of(file.toString()), null);
    }

    /** The most probable class of row {@code i} (the first of equals, as the sorted order has it). */
    private static int predicted(double[] probs, int i, int classes) {
        int best = 0;
        for (int c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
        return best;
    }

    /** How the model turns raw input into rows, if it was trained on the user's own files (else null). */
    static InputSpec inputSpec(ModelFile.Loaded loaded, Path model) {
        if (loaded.input() == null) return null;
        InputSpec spec = InputSpec.fromMap(loaded.input(), model + ": __metadata__ \"input\"");
        if (spec.rowSize() != loaded.architecture().inputs() || spec.classes().size() != loaded.architecture().outputs()) {
            throw new UserException(model + ": __metadata__ \"input\" makes rows of " + spec.rowSize() + " values in "
                    + spec.classes().size() + " classes, but the model has " + loaded.architecture().inputs() + " inputs and "
                    + loaded.architecture().outputs() + " outputs");
        }
        return spec;
    }

    /** The --values as floats, the type the model computes in: NaN, infinities and overflow are refused. */
    private float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
            if (!Float.isFinite(f[i])) {
                throw new ParameterException(spec.commandLine(), "--values: value " + (i + 1) + " is " + v[i]
                        + (Double.isFinite(v[i]) ? ", beyond the float range (±" + Float.MAX_VALUE + ")" : "")
                        + "; expected finite numbers");
            }
        }
        return f;
    }

    private float[][] readInput(Path file, Architecture s) throws IOException {
        if (!Files.isRegularFile(file)) throw new UserException(file + ": no such file");
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.contains("idx") || name.endsWith(".gz")) {
            IdxArray a = Idx.read(file);
            int[] shape = a.shape();
            if (a.numel() == 0) throw new UserException(file + ": the IDX file holds no values (shape " + Arrays.toString(shape) + ")");
            // One input when the whole file fits the model (e.g. one [28, 28] image); else the first dimension counts inputs.
            boolean single = shape.length <= 1 || a.numel() == s.inputs();
            int per = single ? a.numel() : a.numel() / shape[0];
            int n = single ? 1 : Math.min(shape[0], limit);
            float[] v = a.toFloatArray();
            boolean bytes = a.type() == IdxArray.Type.UBYTE;
            float[][] rows = new float[n][per];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < per; j++) rows[i][j] = pixel(bytes ? v[i * per + j] / 255f : v[i * per + j]);
            }
            return rows;
        }
        BufferedImage img = Images.read(file);
        int[] shape = s.imageShape();
        int h = shape != null && shape.length == 2 ? shape[0] : img.getHeight();
        int w = shape != null && shape.length == 2 ? shape[1] : img.getWidth();
        BufferedImage grey = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = grey.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        float[] row = new float[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) row[y * w + x] = pixel((grey.getRaster().getSample(x, y, 0)) / 255f);
        return new float[][] {row};
    }

    private float pixel(float v) {
        return invert ? 1 - v : v;
    }
}
