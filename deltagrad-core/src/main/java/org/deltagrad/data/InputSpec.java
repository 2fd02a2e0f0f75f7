package org.deltagrad.data;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How raw input becomes a model's input row, saved with the model so that {@code predict} prepares new input exactly
 * as training did: for a CSV file the feature columns (by name, in row order), the label column and each feature's
 * standardisation (mean and standard deviation of the training split); for an image folder the channels (1 grey,
 * 3 RGB) and the size images are resized to. Both record the class names in class order.
 */
public final class InputSpec {
    /** Where rows come from. */
    public enum Kind {
        CSV, IMAGES;

        String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Training and test sets made from raw input, and the spec that prepares new input the same way. */
    public record Prepared(Dataset train, Dataset test, InputSpec input) {
        public Datasets.TrainTest trainTest() {
            return new Datasets.TrainTest(train, test);
        }
    }

    /**
     * New input prepared for a model: {@code count} rows of {@link #rowSize} values, each named for messages and output
     * (a CSV line, an image file), and their class ids when the input is labelled (else null).
     */
    public record Rows(float[] values, List<String> names, int[] labels) {
        public int count() {
            return names.size();
        }

        /** The labelled rows as a dataset of the spec's classes. */
        public Dataset toDataset(InputSpec spec, int[] imageShape) {
            if (labels == null) throw new IllegalStateException("unlabelled rows");
            return new Dataset(values, spec.rowSize(), labels, spec.classes().size(), spec.classes(), imageShape);
        }
    }

    private final Kind kind;
    private final List<String> features;
    private final String label;
    private final double[] mean;
    private final double[] std;
    private final int channels;
    private final int height;
    private final int width;
    private final List<String> classes;

    private InputSpec(Kind kind, List<String> features, String label, double[] mean, double[] std, int channels, int height,
                      int width, List<String> classes) {
        this.kind = kind;
        this.features = features;
        this.label = label;
        this.mean = mean;
        this.std = std;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.classes = List.copyOf(classes);
    }

    /** A CSV model's input: features standardised as (x - mean) / std, column by column. */
    public static InputSpec csv(List<String> features, String label, double[] mean, double[] std, List<String> classes) {
        if (features.isEmpty() || mean.length != features.size() || std.length != features.size()) {
            throw new IllegalArgumentException("InputSpec.csv: " + features.size() + " features need as many means and "
                    + "standard deviations, got " + mean.length + " and " + std.length);
        }
        for (double s : std) {
            if (!(s > 0) || !Double.isFinite(s)) throw new IllegalArgumentException("InputSpec.csv: standard deviations must be positive, got " + s);
        }
        return new InputSpec(Kind.CSV, List.copyOf(features), Objects.requireNonNull(label), mean.clone(), std.clone(), 0, 0, 0, classes);
    }

    /** An image model's input: {@code channels} × height × width pixels in [0, 1], NCHW. */
    public static InputSpec images(int channels, int height, int width, List<String> classes) {
        if ((channels != 1 && channels != 3) || height < 1 || width < 1) {
            throw new IllegalArgumentException("InputSpec.images: expected 1 or 3 channels and a positive size, got " + channels
                    + " × " + height + " × " + width);
        }
        return new InputSpec(Kind.IMAGES, List.of(), null, null, null, channels, height, width, classes);
    }

    public Kind kind() {
        return kind;
    }

    /** The CSV feature columns, in the order of a row's values (empty for images). */
    public List<String> features() {
        return features;
    }

    /** The CSV label column (null for images). */
    public String label() {
        return label;
    }

    public double[] mean() {
        return mean == null ? null : mean.clone();
    }

    public double[] std() {
        return std == null ? null : std.clone();
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public List<String> classes() {
        return classes;
    }

    /** The number of values in a row: features, or channels × height × width. */
    public int rowSize() {
        return kind == Kind.CSV ? features.size() : channels * height * width;
    }

    /** The rows of a CSV file ({@link CsvData#rows}) or of image files ({@link ImageFolder#rows}), prepared for this model. */
    public Rows rows(java.nio.file.Path input) {
        return kind == Kind.CSV ? CsvData.rows(this, input) : ImageFolder.rows(this, input);
    }

    /** Standardises {@code values} (rows of the features, row-major) in place: (x - mean) / std, in double, stored as float. */
    public void standardise(float[] values) {
        int d = features.size();
        for (int i = 0; i < values.length; i++) {
            int c = i % d;
            values[i] = (float) ((values[i] - mean[c]) / std[c]);
        }
    }

    /** The spec as plain JSON-ready values: strings, numbers, lists. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind.id());
        if (kind == Kind.CSV) {
            m.put("features", features);
            m.put("label", label);
            m.put("mean", Arrays.stream(mean).boxed().toList());
            m.put("std", Arrays.stream(std).boxed().toList());
        } else {
            m.put("channels", channels);
            m.put("height", height);
            m.put("width", width);
        }
        m.put("classes", classes);
        return m;
    }

    /**
     * The spec {@link #toMap} wrote, each field checked; a {@link DataException} starting with {@code where} (e.g. the
     * model file and key) names a field that is missing or wrong.
     */
    public static InputSpec fromMap(Map<String, Object> m, String where) {
        Object kind = m.get("kind");
        List<String> classes = strings(m, "classes", where);
        if (classes.size() < 2) throw new DataException(where + " \"classes\": expected at least 2 class names, found " + classes.size());
        if (Kind.CSV.id().equals(kind)) {
            List<String> features = strings(m, "features", where);
            if (features.isEmpty() || new HashSet<>(features).size() != features.size()) {
                throw new DataException(where + " \"features\": expected distinct column names, found " + features);
            }
            if (!(m.get("label") instanceof String label)) throw field(where, "label", "a column name", m.get("label"));
            double[] mean = numbers(m, "mean", features.size(), where);
            double[] std = numbers(m, "std", features.size(), where);
            for (double s : std) if (!(s > 0)) throw field(where, "std", "positive numbers", m.get("std"));
            return csv(features, label, mean, std, classes);
        }
        if (Kind.IMAGES.id().equals(kind)) {
            int channels = positive(m, "channels", where);
            if (channels != 1 && channels != 3) throw field(where, "channels", "1 or 3", m.get("channels"));
            return images(channels, positive(m, "height", where), positive(m, "width", where), classes);
        }
        throw field(where, "kind", "\"csv\" or \"images\"", kind);
    }

    private static List<String> strings(Map<String, Object> m, String key, String where) {
        if (!(m.get(key) instanceof List<?> list) || !list.stream().allMatch(s -> s instanceof String)) {
            throw field(where, key, "an array of strings", m.get(key));
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) out.add((String) o);
        return out;
    }

    private static double[] numbers(Map<String, Object> m, String key, int n, String where) {
        if (!(m.get(key) instanceof List<?> list) || list.size() != n) throw field(where, key, n + " numbers", m.get(key));
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            Object o = list.get(i);
            // Parsed JSON holds Long and BigDecimal; a map straight from toMap holds Double.
            double v = o instanceof Long l ? l : o instanceof BigDecimal b ? b.doubleValue() : o instanceof Double d ? d : Double.NaN;
            if (!Double.isFinite(v)) throw field(where, key, n + " finite numbers", m.get(key));
            out[i] = v;
        }
        return out;
    }

    private static int positive(Map<String, Object> m, String key, String where) {
        if (!(m.get(key) instanceof Long v) || v < 1 || v > 1 << 16) throw field(where, key, "a positive integer", m.get(key));
        return (int) (long) v;
    }

    private static DataException field(String where, String key, String expected, Object found) {
        String shown = found == null ? "nothing" : found instanceof String s ? "\"" + s + "\"" : found.toString();
        return new DataException(where + " \"" + key + "\": expected " + expected + ", found " + shown);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InputSpec s && kind == s.kind && features.equals(s.features) && Objects.equals(label, s.label)
                && Arrays.equals(mean, s.mean) && Arrays.equals(std, s.std) && channels == s.channels && height == s.height
                && width == s.width && classes.equals(s.classes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, features, label, Arrays.hashCode(mean), classes, channels, height, width);
    }

    @Override
    public String toString() {
        return kind == Kind.CSV ? "csv " + features + " -> " + label + " " + classes
                : "images " + channels + "x" + height + "x" + width + " " + classes;
    }
}
