package org.deltagrad.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deltagrad.Tensor;
import org.deltagrad.kernels.Gather;

/**
 * An in-memory classification dataset: n rows of d float32 features (one row-major array) and one
 * class id in [0, numClasses) per row. Immutable: it never hands out its arrays.
 */
public final class Dataset {
    private final float[] features;
    private final int numFeatures;
    private final int[] labels;
    private final int numClasses;
    private final List<String> classNames;
    private final int[] imageShape;

    /** A train/validation pair made by {@link #split}. */
    public record Split(Dataset train, Dataset validation) {}

    /**
     * @param features   n × numFeatures values, row-major; kept without copying, so the caller
     *                   must not change it afterwards
     * @param labels     n class ids in [0, numClasses)
     * @param classNames one name per class, or null for "0", "1", ...
     * @param imageShape how a row is displayed as an image: [H, W] (grey, e.g. [28, 28]) or [C, H, W] (channels first,
     *                   as image folders make); null if it is not one
     */
    public Dataset(float[] features, int numFeatures, int[] labels, int numClasses, List<String> classNames, int[] imageShape) {
        if (numFeatures < 1) throw new IllegalArgumentException("Dataset: numFeatures must be at least 1, got " + numFeatures);
        if (features.length % numFeatures != 0) {
            throw new IllegalArgumentException("Dataset: " + features.length + " feature values do not divide into rows of "
                    + numFeatures);
        }
        int rows = features.length / numFeatures;
        if (labels.length != rows) {
            throw new IllegalArgumentException("Dataset: " + labels.length + " labels for " + rows + " feature rows ("
                    + features.length + " values / " + numFeatures + " features); expected one label per row");
        }
        if (numClasses < 1) throw new IllegalArgumentException("Dataset: numClasses must be at least 1, got " + numClasses);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("Dataset: label " + labels[i] + " of row " + i + " is outside [0, " + numClasses + ")");
            }
        }
        if (classNames != null && classNames.size() != numClasses) {
            throw new IllegalArgumentException("Dataset: " + classNames.size() + " class names for " + numClasses + " classes");
        }
        if (imageShape != null && Arrays.stream(imageShape).asLongStream().reduce(1, (a, b) -> a * b) != numFeatures) {
            throw new IllegalArgumentException("Dataset: image shape " + Arrays.toString(imageShape) + " does not hold "
                    + numFeatures + " features");
        }
        this.features = features;
        this.numFeatures = numFeatures;
        this.labels = labels.clone();
        this.numClasses = numClasses;
        this.classNames = classNames != null ? List.copyOf(classNames) : defaultNames(numClasses);
        this.imageShape = imageShape != null ? imageShape.clone() : null;
    }

    /** A dataset whose classes are 0..max(label), named by their numbers, not an image. */
    public static Dataset of(float[] features, int numFeatures, int[] labels) {
        int numClasses = Arrays.stream(labels).max().orElse(0) + 1;
        return new Dataset(features, numFeatures, labels, numClasses, null, null);
    }

    private static List<String> defaultNames(int numClasses) {
        List<String> names = new ArrayList<>(numClasses);
        for (int i = 0; i < numClasses; i++) names.add(Integer.toString(i));
        return List.copyOf(names);
    }

    public int size() {
        return labels.length;
    }

    public int numFeatures() {
        return numFeatures;
    }

    public int numClasses() {
        return numClasses;
    }

    public List<String> classNames() {
        return classNames;
    }

    /** The shape a row is displayed as (e.g. [28, 28]), or null when rows are not images. */
    public int[] imageShape() {
        return imageShape == null ? null : imageShape.clone();
    }

    public int label(int row) {
        return labels[checkRow(row)];
    }

    /** A copy of one row's features. */
    public float[] row(int row) {
        checkRow(row);
        return Arrays.copyOfRange(features, row * numFeatures, (row + 1) * numFeatures);
    }

    /** The given rows' features as a float32 tensor [rows.length, numFeatures] (a copy). */
    public Tensor features(int[] rows) {
        for (int r : rows) checkRow(r);
        return Tensor.of(Gather.rows(features, numFeatures, rows), rows.length, numFeatures);
    }

    /**
     * Copies the features of {@code rows[from..to)} into rows {@code from..to} of {@code batch}, a row-major
     * [rows.length × numFeatures] array: a batch buffer filled in pieces, possibly on several threads at once.
     */
    public void featuresInto(int[] rows, int from, int to, float[] batch) {
        for (int i = from; i < to; i++) checkRow(rows[i]);
        Gather.rows(features, numFeatures, rows, from, to, batch);
    }

    /** All features as a float32 tensor [size, numFeatures] (a copy). */
    public Tensor features() {
        return Tensor.of(features.clone(), size(), numFeatures);
    }

    public int[] labels(int[] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) out[i] = labels[checkRow(rows[i])];
        return out;
    }

    /** A copy of all labels. */
    public int[] labels() {
        return labels.clone();
    }

    /** The given rows, in the given order, with the same classes and image shape. */
    public Dataset subset(int[] rows) {
        float[] x = new float[rows.length * numFeatures];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(features, checkRow(rows[i]) * numFeatures, x, i * numFeatures, numFeatures);
        }
        return new Dataset(x, numFeatures, labels(rows), numClasses, classNames, imageShape);
    }

    /**
     * Puts round(size × validationFraction) randomly chosen rows into the validation set and the
     * rest into the training set, each keeping the original row order. The choice depends only on
     * {@code seed}.
     */
    public Split split(double validationFraction, long seed) {
        if (!(validationFraction >= 0 && validationFraction <= 1)) {
            throw new IllegalArgumentException("Dataset.split: validation fraction must be in [0, 1], got " + validationFraction);
        }
        int[] perm = new Rng(seed).permutation(size());
        int nValidation = (int) Math.round(size() * validationFraction);
        int[] validation = Arrays.copyOfRange(perm, 0, nValidation);
        int[] train = Arrays.copyOfRange(perm, nValidation, perm.length);
        Arrays.sort(validation);
        Arrays.sort(train);
        return new Split(subset(train), subset(validation));
    }

    /**
     * Like {@link #split}, but class by class: round(n_k × validationFraction) of each class's n_k rows go to the
     * validation set, at most n_k - 1 so that every class is trained on. The choice depends only on {@code seed}.
     */
    public Split stratifiedSplit(double validationFraction, long seed) {
        int[][] parts = stratifiedRows(labels, numClasses, validationFraction, seed);
        return new Split(subset(parts[0]), subset(parts[1]));
    }

    /** The rows {@link #stratifiedSplit} puts in the training set ([0]) and the validation set ([1]), each ascending. */
    static int[][] stratifiedRows(int[] labels, int numClasses, double validationFraction, long seed) {
        if (!(validationFraction >= 0 && validationFraction <= 1)) {
            throw new IllegalArgumentException("Dataset.stratifiedSplit: validation fraction must be in [0, 1], got " + validationFraction);
        }
        int[] count = new int[numClasses];
        for (int y : labels) count[y]++;
        int[][] byClass = new int[numClasses][];
        for (int k = 0; k < numClasses; k++) byClass[k] = new int[count[k]];
        int[] filled = new int[numClasses];
        for (int i = 0; i < labels.length; i++) byClass[labels[i]][filled[labels[i]]++] = i;
        boolean[] validation = new boolean[labels.length];
        int nValidation = 0;
        for (int k = 0; k < numClasses; k++) {
            // One stream per class: a class's choice does not depend on how many rows the others have.
            int[] perm = Rng.forStream(seed, k).permutation(count[k]);
            int take = (int) Math.min(Math.round(count[k] * validationFraction), Math.max(0, count[k] - 1));
            for (int j = 0; j < take; j++) validation[byClass[k][perm[j]]] = true;
            nValidation += take;
        }
        int[] train = new int[labels.length - nValidation], val = new int[nValidation];
        for (int i = 0, t = 0, v = 0; i < labels.length; i++) {
            if (validation[i]) val[v++] = i;
            else train[t++] = i;
        }
        return new int[][] {train, val};
    }

    private int checkRow(int row) {
        if (row < 0 || row >= labels.length) {
            throw new IndexOutOfBoundsException("row " + row + " is outside a dataset of " + labels.length + " rows");
        }
        return row;
    }

    @Override
    public String toString() {
        return "Dataset[" + size() + " rows × " + numFeatures + " features, " + numClasses + " classes]";
    }
}
