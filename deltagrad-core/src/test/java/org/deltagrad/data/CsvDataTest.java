package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvDataTest {
    @TempDir
    Path dir;

    private Path file(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    private static String message(Path file, String label, Path test) {
        return assertThrows(DataException.class, () -> CsvData.load(file, label, test, 0.25, 1)).getMessage();
    }

    /** 20 rows: x grows with the row, y is constant, the class alternates a, b. */
    private Path twenty() throws IOException {
        StringBuilder s = new StringBuilder("x,y,class\n");
        for (int i = 0; i < 20; i++) s.append(i).append(",5,").append(i % 2 == 0 ? "a" : "b").append('\n');
        return file("twenty.csv", s.toString());
    }

    @Test
    void standardisesWithTheTrainingRowsStatisticsOnly() throws IOException {
        InputSpec.Prepared p = CsvData.load(twenty(), null, null, 0.2, 3);
        Dataset train = p.train(), test = p.test();
        assertEquals(16, train.size());
        assertEquals(4, test.size());
        // Recover the raw x (whole numbers 0..19) of each row: the training rows and the test rows are the 20 rows.
        double[] mean = p.input().mean(), std = p.input().std();
        long[] raw = new long[20];
        for (int i = 0; i < 16; i++) raw[i] = Math.round(train.row(i)[0] * std[0] + mean[0]);
        for (int i = 0; i < 4; i++) raw[16 + i] = Math.round(test.row(i)[0] * std[0] + mean[0]);
        long[] sorted = raw.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 20; i++) assertEquals(i, sorted[i]);
        // The spec's mean and standard deviation are the training rows' own, not all rows'.
        double sum = 0, sq = 0;
        for (int i = 0; i < 16; i++) sum += raw[i];
        for (int i = 0; i < 16; i++) sq += (raw[i] - sum / 16) * (raw[i] - sum / 16);
        assertEquals(sum / 16, mean[0], 1e-12);
        assertEquals(Math.sqrt(sq / 16), std[0], 1e-12);
        assertNotEquals(9.5, mean[0], "the mean of all 20 rows would be 9.5");
        // A constant column keeps standard deviation 1: it becomes 0, not NaN.
        assertEquals(5.0, mean[1]);
        assertEquals(1.0, std[1]);
        assertEquals(0f, train.row(0)[1]);
        assertEquals(List.of("x", "y"), p.input().features());
        assertEquals("class", p.input().label());
        assertEquals(List.of("a", "b"), train.classNames());
    }

    @Test
    void standardisationMatchesHandComputedFigures() throws IOException {
        Path train = file("t.csv", "u,label\n1,p\n3,q\n");
        Path test = file("s.csv", "u,label\n5,q\n");
        InputSpec.Prepared p = CsvData.load(train, null, test, 0.2, 1);
        assertArrayEquals(new double[] {2}, p.input().mean());
        assertArrayEquals(new double[] {1}, p.input().std());
        assertArrayEquals(new float[] {-1, 1}, p.train().features().toFloatArray());
        assertArrayEquals(new float[] {3}, p.test().features().toFloatArray(), "the test file uses the training statistics");
        assertArrayEquals(new int[] {1}, p.test().labels());
    }

    @Test
    void splitIsStratifiedAndDependsOnlyOnTheSeed() throws IOException {
        Path f = twenty();
        InputSpec.Prepared a = CsvData.load(f, null, null, 0.25, 3), b = CsvData.load(f, null, null, 0.25, 3);
        assertArrayEquals(a.test().features().toFloatArray(), b.test().features().toFloatArray());
        assertArrayEquals(a.train().features().toFloatArray(), b.train().features().toFloatArray());
        int[] perClass = new int[2];
        for (int y : a.test().labels()) perClass[y]++;
        assertArrayEquals(new int[] {3, 3}, perClass, "round(10 x 0.25) of each class");
        boolean differs = false;
        for (long seed = 4; seed < 10 && !differs; seed++) {
            differs = !Arrays.equals(CsvData.load(f, null, null, 0.25, seed).input().mean(), a.input().mean());
        }
        assertEquals(true, differs, "another seed chooses other rows");
    }

    @Test
    void labelColumnByNameAndClassOrder() throws IOException {
        Path f = file("n.csv", "grade,h,w\n10,1,2\n9,3,4\n10,5,6\n-1,7,8\n");
        InputSpec.Prepared p = CsvData.load(f, "grade", f, 0.2, 1);
        assertEquals(List.of("-1", "9", "10"), p.train().classNames(), "integers sort by value");
        assertEquals(List.of("h", "w"), p.input().features());
        assertArrayEquals(new int[] {2, 1, 2, 0}, p.train().labels());
        Path s = file("s.csv", "a,kind\n1,beta\n2,Alpha\n3,alpha\n");
        assertEquals(List.of("Alpha", "alpha", "beta"), CsvData.load(s, null, s, 0.2, 1).train().classNames(),
                "text sorts by its characters");
    }

    @Test
    void errorsNameTheFileLineColumnAndValue() throws IOException {
        Path ragged = file("ragged.csv", "a,b,y\n1,2,p\n3,q\n");
        assertEquals(ragged + ": line 3: expected 3 columns (as in the header on line 1), found 2", message(ragged, null, null));
        Path text = file("text.csv", "a,b,y\n1,2,p\n3,oops,q\n");
        assertEquals(text + ": line 3, column 2 (\"b\"): expected a number, found \"oops\"", message(text, null, null));
        Path nan = file("nan.csv", "a,b,y\n1,NaN,p\n3,4,q\n");
        assertEquals(nan + ": line 2, column 2 (\"b\"): expected a finite number, found \"NaN\"", message(nan, null, null));
        Path inf = file("inf.csv", "a,b,y\n1,2,p\n-Infinity,4,q\n");
        assertEquals(inf + ": line 3, column 1 (\"a\"): expected a finite number, found \"-Infinity\"", message(inf, null, null));
        Path big = file("big.csv", "a,b,y\n1,2,p\n1e39,4,q\n");
        assertEquals(big + ": line 3, column 1 (\"a\"): expected a number within float32 range, found \"1e39\"", message(big, null, null));
        Path empty = file("empty.csv", "\n\n");
        assertEquals(empty + ": empty file; expected a header row naming the columns, then data rows", message(empty, null, null));
        Path header = file("header.csv", "a,b,y\n");
        assertEquals(header + ": expected data rows after the header, found none", message(header, null, null));
        Path ok = file("ok.csv", "a,b,y\n1,2,p\n3,4,q\n");
        assertEquals(ok + ": no column named \"species\" for the label; the columns are a, b, y", message(ok, "species", null));
        Path one = file("one.csv", "a,b,y\n1,2,p\n3,4,p\n");
        assertEquals(one + ": the label column \"y\" holds one class only (\"p\"); expected at least 2 classes to tell apart",
                message(one, null, null));
        Path noLabel = file("nolabel.csv", "a,b,y\n1,2,p\n3,4,\n");
        assertEquals(noLabel + ": line 3, column 3 (\"y\"): expected a label, found an empty cell", message(noLabel, null, null));
        Path twice = file("twice.csv", "a,a,y\n1,2,p\n");
        assertEquals(twice + ": line 1: columns 1 and 2 are both named \"a\"; expected distinct column names", message(twice, null, null));
        Path alone = file("alone.csv", "y\np\nq\n");
        assertEquals(alone + ": only the label column \"y\"; expected feature columns beside it", message(alone, null, null));
        Path binary = Files.write(dir.resolve("picture.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        assertEquals(binary + ": not UTF-8 text; expected a CSV file", message(binary, null, null));
        Path missing = dir.resolve("missing.csv");
        assertEquals(missing + ": no such file", message(missing, null, null));
    }

    @Test
    void testFileMustShareTheHeaderAndTheClasses() throws IOException {
        Path train = file("train.csv", "a,b,y\n1,2,p\n3,4,q\n");
        Path other = file("other.csv", "a,c,y\n1,2,p\n");
        assertEquals(other + ": expected the header of " + train + " (a, b, y), found a, c, y", message(train, null, other));
        Path unseen = file("unseen.csv", "a,b,y\n1,2,p\n5,6,r\n");
        assertEquals(unseen + ": line 3: label \"r\" does not occur in the training data " + train + " (classes: p, q)",
                message(train, null, unseen));
    }

    @Test
    void aTestValueTooFarFromATinySpreadIsRefused() throws IOException {
        Path train = file("tiny.csv", "x,y\n1e-30,p\n2e-30,q\n");
        Path test = file("far.csv", "x,y\n1e30,p\n");
        assertEquals(test + ": a value of column \"x\" lies beyond float32's range once standardised (mean 1.5000000047566153E-30, "
                + "standard deviation 5.000000015855384E-31 in the training rows)", message(train, null, test));
    }

    @Test
    void rowsForPredictionFindColumnsByNameInAnyOrder() throws IOException {
        Path train = file("train.csv", "a,b,y\n1,10,p\n3,30,q\n");
        InputSpec spec = CsvData.load(train, null, train, 0.2, 1).input();
        Path input = file("in.csv", "id,b,a\n7,20,2\n8,10,1\n");
        InputSpec.Rows rows = CsvData.rows(spec, input);
        assertArrayEquals(new float[] {0, 0, -1, -1}, rows.values());
        assertEquals(List.of("line 2", "line 3"), rows.names());
        assertNull(rows.labels(), "no label column: unlabelled rows");
        Path labelled = file("lab.csv", "y,a,b\nq,3,30\n");
        assertArrayEquals(new int[] {1}, CsvData.rows(spec, labelled).labels());
        Path wrong = file("wrong.csv", "y,a,b\nz,3,30\n");
        assertEquals(wrong + ": line 2: label \"z\" is not one of the model's classes (p, q)",
                assertThrows(DataException.class, () -> CsvData.rows(spec, wrong)).getMessage());
        Path lacking = file("lacking.csv", "a,c\n1,2\n");
        assertEquals(lacking + ": no column named b; the model needs the columns a, b (found a, c)",
                assertThrows(DataException.class, () -> CsvData.rows(spec, lacking)).getMessage());
    }
}
