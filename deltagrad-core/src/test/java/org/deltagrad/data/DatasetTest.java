package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

public class DatasetTest {
    /** n rows of 2 features: row i holds (i, -i), label i % 3. */
    public static Dataset numbered(int n) {
        float[] x = new float[n * 2];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
            y[i] = i % 3;
        }
        return new Dataset(x, 2, y, 3, List.of("a", "b", "c"), null);
    }

    @Test
    void gathersRowsAsFloat32Tensor() {
        Dataset d = numbered(5);
        Tensor t = d.features(new int[] {4, 0, 4});
        assertEquals(DType.FLOAT32, t.dtype());
        assertArrayEquals(new int[] {3, 2}, t.shape());
        assertArrayEquals(new float[] {4, -4, 0, 0, 4, -4}, t.toFloatArray());
        assertArrayEquals(new int[] {1, 0, 1}, d.labels(new int[] {4, 0, 4}));
        assertArrayEquals(new float[] {3, -3}, d.row(3));
        assertEquals(2, d.label(2));
    }

    @Test
    void validatesShapesAndLabels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset(new float[6], 2, new int[4], 1, null, null));
        assertTrue(e.getMessage().contains("4 labels for 3 feature rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[5], 2, new int[2], 1, null, null));
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[2], 1, new int[] {0, 3}, 3, null, null));
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[2], 1, new int[] {0, 1}, 2, List.of("x"), null));
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[8], 4, new int[2], 1, null, new int[] {3, 3}));
        assertThrows(IndexOutOfBoundsException.class, () -> numbered(3).features(new int[] {3}));
    }

    @Test
    void ofDerivesClassCount() {
        Dataset d = Dataset.of(new float[] {1, 2, 3}, 1, new int[] {0, 4, 2});
        assertEquals(5, d.numClasses());
        assertEquals(List.of("0", "1", "2", "3", "4"), d.classNames());
    }

    @Test
    void subsetKeepsClassesAndImageShape() {
        Dataset d = new Dataset(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 4, new int[] {1, 0}, 2, List.of("no", "yes"), new int[] {2, 2});
        Dataset s = d.subset(new int[] {1});
        assertEquals(1, s.size());
        assertArrayEquals(new int[] {2, 2}, s.imageShape());
        assertEquals(List.of("no", "yes"), s.classNames());
        assertArrayEquals(new float[] {5, 6, 7, 8}, s.row(0));
    }

    @Test
    void splitIsDeterministicDisjointAndOrdered() {
        Dataset d = numbered(101);
        Dataset.Split a = d.split(0.2, 42);
        Dataset.Split b = d.split(0.2, 42);
        assertEquals(20, a.validation().size());
        assertEquals(81, a.train().size());
        assertArrayEquals(a.validation().features().toFloatArray(), b.validation().features().toFloatArray());
        List<Integer> seen = new ArrayList<>();
        for (Dataset part : List.of(a.train(), a.validation())) {
            float[] x = part.features().toFloatArray();
            for (int i = 0; i < part.size(); i++) {
                seen.add((int) x[2 * i]);
                if (i > 0) assertTrue(x[2 * i] > x[2 * i - 2], "original order kept");
                assertEquals((int) x[2 * i] % 3, part.label(i), "labels follow their rows");
            }
        }
        seen.sort(null);
        assertEquals(IntStream.range(0, 101).boxed().toList(), seen);
        assertFalse(Arrays.equals(a.validation().labels(), d.split(0.2, 43).validation().labels())
                && Arrays.equals(a.validation().features().toFloatArray(), d.split(0.2, 43).validation().features().toFloatArray()));
        assertThrows(IllegalArgumentException.class, () -> d.split(1.5, 0));
    }

    @Test
    void stratifiedSplitTakesEachClassShareAndKeepsOneToTrainOn() {
        int[] labels = new int[23];
        for (int i = 0; i < 20; i++) labels[i] = i % 2; // 10 of class 0, 10 of class 1
        labels[20] = labels[21] = labels[22] = 2; // 3 of class 2
        float[] x = new float[23];
        for (int i = 0; i < 23; i++) x[i] = i;
        Dataset d = new Dataset(x, 1, labels, 3, null, null);
        Dataset.Split s = d.stratifiedSplit(0.3, 9);
        int[] perClass = new int[3];
        for (int y : s.validation().labels()) perClass[y]++;
        assertArrayEquals(new int[] {3, 3, 1}, perClass, "round(n_k x 0.3) of each class");
        assertArrayEquals(new int[] {1, 1, 1}, countPerClass(d.stratifiedSplit(0.99, 9).train()), "one of each class stays");
        assertArrayEquals(s.validation().features().toFloatArray(), d.stratifiedSplit(0.3, 9).validation().features().toFloatArray());
        boolean differs = false;
        for (long seed = 10; seed < 20 && !differs; seed++) {
            differs = !java.util.Arrays.equals(s.validation().features().toFloatArray(),
                    d.stratifiedSplit(0.3, seed).validation().features().toFloatArray());
        }
        assertTrue(differs, "the seed chooses the rows");
    }

    private static int[] countPerClass(Dataset d) {
        int[] n = new int[d.numClasses()];
        for (int y : d.labels()) n[y]++;
        return n;
    }
}
