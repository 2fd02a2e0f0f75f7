package org.deltagrad.data;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A classification problem from CSV files with a header row: one label column (by name, by default the last) and
 * numeric feature columns. Labels are class names: integers sort by value, any other text by its characters. Features
 * are standardised with the mean and (population) standard deviation of the training rows only, a constant column
 * keeping standard deviation 1; the {@link InputSpec} records all of it for {@code predict}.
 */
public final class CsvData {
    private CsvData() {}

    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");

    /**
     * Reads {@code file}; the test set is {@code testFile} (same header) or, if that is null, a stratified
     * {@code testFraction} of the rows chosen by {@code seed}. {@code label} null means the last column.
     */
    public static InputSpec.Prepared load(Path file, String label, Path testFile, double testFraction, long seed) {
        Csv.Table table = Csv.table(file);
        int labelColumn = labelColumn(table, label);
        if (table.columns().size() < 2) {
            throw new DataException(file + ": only the label column \"" + table.columns().get(labelColumn)
                    + "\"; expected feature columns beside it");
        }
        List<String> features = new ArrayList<>(table.columns());
        features.remove(labelColumn);
        String[] labelCells = labels(table, labelColumn);
        List<String> classes = classes(labelCells);
        if (classes.size() < 2) {
            throw new DataException(file + ": the label column \"" + table.columns().get(labelColumn) + "\" holds one class only (\""
                    + classes.get(0) + "\"); expected at least 2 classes to tell apart");
        }
        Map<String, Integer> ids = ids(classes);
        int[] y = new int[labelCells.length];
        for (int i = 0; i < y.length; i++) y[i] = ids.get(labelCells[i]);
        float[] x = features(table, labelColumn);
        int d = features.size();

        float[] trainX, testX;
        int[] trainY, testY;
        if (testFile != null) {
            Csv.Table test = Csv.table(testFile);
            if (!test.columns().equals(table.columns())) {
                throw new DataException(testFile + ": expected the header of " + file + " (" + String.join(", ", table.columns())
                        + "), found " + String.join(", ", test.columns()));
            }
            String[] testCells = labels(test, labelColumn);
            testY = new int[testCells.length];
            for (int i = 0; i < testY.length; i++) {
                Integer id = ids.get(testCells[i]);
                if (id == null) {
                    throw new DataException(testFile + ": line " + test.lines()[i] + ": label \"" + testCells[i] + "\" does not occur in "
                            + "the training data " + file + " (classes: " + String.join(", ", classes) + ")");
                }
                testY[i] = id;
            }
            trainX = x;
            trainY = y;
            testX = features(test, labelColumn);
        } else {
            if (!(testFraction > 0 && testFraction < 1)) {
                throw new IllegalArgumentException("CsvData: the test fraction must be in (0, 1), got " + testFraction);
            }
            int[][] parts = Dataset.stratifiedRows(y, classes.size(), testFraction, seed);
            trainX = rows(x, d, parts[0]);
            trainY = pick(y, parts[0]);
            testX = rows(x, d, parts[1]);
            testY = pick(y, parts[1]);
        }
        double[] mean = new double[d], std = new double[d];
        moments(trainX, d, mean, std);
        InputSpec spec = InputSpec.csv(features, table.columns().get(labelColumn), mean, std, classes);
        spec.standardise(trainX);
        spec.standardise(testX);
        checkFinite(testX, spec, testFile != null ? testFile : file);
        return new InputSpec.Prepared(new Dataset(trainX, d, trainY, classes.size(), classes, null),
                new Dataset(testX, d, testY, classes.size(), classes, null), spec);
    }

    /**
     * The rows of {@code file} prepared for a model of {@code spec}: its feature columns found by name (in any order;
     * other columns are ignored) and standardised; labelled when the file has the label column.
     */
    public static InputSpec.Rows rows(InputSpec spec, Path file) {
        Csv.Table table = Csv.table(file);
        List<String> features = spec.features();
        int[] columns = new int[features.size()];
        List<String> missing = new ArrayList<>();
        for (int j = 0; j < columns.length; j++) {
            columns[j] = table.column(features.get(j));
            if (columns[j] < 0) missing.add(features.get(j));
        }
        if (!missing.isEmpty()) {
            throw new DataException(file + ": no column" + (missing.size() > 1 ? "s" : "") + " named " + String.join(", ", missing)
                    + "; the model needs the columns " + String.join(", ", features) + " (found " + String.join(", ", table.columns()) + ")");
        }
        int n = table.rows().size(), d = columns.length;
        float[] x = new float[n * d];
        List<String> names = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < d; j++) x[r * d + j] = table.number(r, columns[j]);
            names.add("line " + table.lines()[r]);
        }
        spec.standardise(x);
        checkFinite(x, spec, file);
        int labelColumn = table.column(spec.label());
        int[] y = null;
        if (labelColumn >= 0) {
            Map<String, Integer> ids = ids(spec.classes());
            y = new int[n];
            for (int r = 0; r < n; r++) {
                String cell = table.label(r, labelColumn);
                Integer id = ids.get(cell);
                if (id == null) {
                    throw new DataException(file + ": line " + table.lines()[r] + ": label \"" + cell + "\" is not one of the model's "
                            + "classes (" + String.join(", ", spec.classes()) + ")");
                }
                y[r] = id;
            }
        }
        return new InputSpec.Rows(x, List.copyOf(names), y);
    }

    /** Standardised rows must stay floats: a value very far from a column of tiny spread would not. */
    private static void checkFinite(float[] x, InputSpec spec, Path file) {
        int d = spec.features().size();
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw new DataException(file + ": a value of column \"" + spec.features().get(i % d) + "\" lies beyond float32's range "
                        + "once standardised (mean " + spec.mean()[i % d] + ", standard deviation " + spec.std()[i % d]
                        + " in the training rows)");
            }
        }
    }

    private static int labelColumn(Csv.Table table, String label) {
        if (label == null) return table.columns().size() - 1;
        int c = table.column(label);
        if (c < 0) {
            throw new DataException(table.file() + ": no column named \"" + label + "\" for the label; the columns are "
                    + String.join(", ", table.columns()));
        }
        return c;
    }

    private static String[] labels(Csv.Table table, int column) {
        String[] cells = new String[table.rows().size()];
        for (int r = 0; r < cells.length; r++) cells[r] = table.label(r, column);
        return cells;
    }

    /** The distinct labels in class order: by value when all are integers, else by their text. */
    static List<String> classes(String[] labels) {
        boolean integers = java.util.Arrays.stream(labels).allMatch(s -> INTEGER.matcher(s).matches());
        Comparator<String> order = integers
                ? Comparator.comparing((String s) -> new BigInteger(s.startsWith("+") ? s.substring(1) : s)).thenComparing(s -> s)
                : Comparator.naturalOrder();
        TreeSet<String> set = new TreeSet<>(order);
        java.util.Collections.addAll(set, labels);
        return List.copyOf(set);
    }

    private static Map<String, Integer> ids(List<String> classes) {
        Map<String, Integer> ids = new HashMap<>();
        for (String c : classes) ids.put(c, ids.size());
        return ids;
    }

    /** Every column but the label's, row-major, each cell checked to be a finite number. */
    private static float[] features(Csv.Table table, int labelColumn) {
        int n = table.rows().size(), columns = table.columns().size(), d = columns - 1;
        if ((long) n * d > Integer.MAX_VALUE - 8) {
            throw new DataException(table.file() + ": " + n + " rows of " + d + " features are more values than a Java array holds");
        }
        float[] x = new float[n * d];
        for (int r = 0; r < n; r++) {
            for (int c = 0, k = 0; c < columns; c++) if (c != labelColumn) x[r * d + k++] = table.number(r, c);
        }
        return x;
    }

    private static float[] rows(float[] x, int d, int[] rows) {
        float[] out = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) System.arraycopy(x, rows[i] * d, out, i * d, d);
        return out;
    }

    private static int[] pick(int[] y, int[] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) out[i] = y[rows[i]];
        return out;
    }

    /** Per-column mean and population standard deviation in double, in row order; a constant column gets 1. */
    static void moments(float[] x, int d, double[] mean, double[] std) {
        int n = x.length / d;
        for (int i = 0; i < x.length; i++) mean[i % d] += x[i];
        for (int j = 0; j < d; j++) mean[j] /= n;
        for (int i = 0; i < x.length; i++) {
            double dev = x[i] - mean[i % d];
            std[i % d] += dev * dev;
        }
        for (int j = 0; j < d; j++) {
            std[j] = Math.sqrt(std[j] / n);
            if (!(std[j] > 0)) std[j] = 1;
        }
    }
}
