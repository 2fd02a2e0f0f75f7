package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {
    @TempDir
    Path dir;

    private Path csv(String text) throws IOException {
        Path f = Files.createTempFile(dir, "data", ".csv");
        Files.writeString(f, text);
        return f;
    }

    private static float[] all(Dataset d) {
        return d.features().toFloatArray();
    }

    private static void assertFails(Path file, Csv.Options options, String... fragments) {
        DataException e = assertThrows(DataException.class, () -> Csv.read(file, options));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    @Test
    void integerLabelsLastColumnNoHeader() throws IOException {
        Dataset d = Csv.read(csv("1,2,0\n3.5,-4e-1,2\n\n5,.5,1\n"));
        assertEquals(3, d.size());
        assertEquals(2, d.numFeatures());
        assertEquals(3, d.numClasses());
        assertArrayEquals(new float[] {1, 2, 3.5f, -0.4f, 5, 0.5f}, all(d));
        assertArrayEquals(new int[] {0, 2, 1}, d.labels());
        assertEquals(List.of("0", "1", "2"), d.classNames());
        assertNull(d.imageShape());
    }

    @Test
    void integerLabelsUsedAsIsEvenWithGaps() throws IOException {
        Dataset d = Csv.read(csv("0.1,5\n0.2,3\n"));
        assertArrayEquals(new int[] {5, 3}, d.labels());
        assertEquals(6, d.numClasses());
    }

    @Test
    void stringLabelsSortedWithNamesKept() throws IOException {
        Dataset d = Csv.read(csv("sepal,petal,species\n1,2,virginica\n3,4,setosa\n5,6,\"versicolor\"\n7,8,setosa\n"));
        assertEquals(List.of("setosa", "versicolor", "virginica"), d.classNames());
        assertArrayEquals(new int[] {2, 0, 1, 0}, d.labels());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, all(d));
    }

    @Test
    void negativeIntegersAreNotClassIds() throws IOException {
        Dataset d = Csv.read(csv("1,-1\n2,1\n3,-1\n"));
        assertEquals(List.of("-1", "1"), d.classNames());
        assertArrayEquals(new int[] {0, 1, 0}, d.labels());
    }

    @Test
    void labelByNameAnywhere() throws IOException {
        Dataset d = Csv.read(csv("y,a,b\n1,10,20\n0,30,40\n"), Csv.Options.defaults().labelColumn("y"));
        assertArrayEquals(new int[] {1, 0}, d.labels());
        assertArrayEquals(new float[] {10, 20, 30, 40}, all(d));
    }

    @Test
    void labelByIndexPositiveAndNegative() throws IOException {
        Path f = csv("1,10,20\n0,30,40\n");
        Dataset first = Csv.read(f, Csv.Options.defaults().labelColumn(0));
        Dataset fromEnd = Csv.read(f, Csv.Options.defaults().labelColumn(-3));
        assertArrayEquals(first.labels(), fromEnd.labels());
        assertArrayEquals(new int[] {1, 0}, first.labels());
        assertArrayEquals(new float[] {10, 20, 30, 40}, all(fromEnd));
        Dataset middle = Csv.read(f, Csv.Options.defaults().labelColumn(-2));
        assertArrayEquals(new int[] {10, 30}, middle.labels());
    }

    @Test
    void headerDetectedFromLabelCellAlone() throws IOException {
        // Numeric-looking feature names would hide the header; a non-numeric label name above a
        // numeric label still reveals it.
        Dataset d = Csv.read(csv("1,2,label\n5,6,1\n7,8,0\n"));
        assertEquals(2, d.size());
    }

    @Test
    void headerFlagOverridesDetection() throws IOException {
        Path f = csv("1,2,3\n4,5,1\n");
        assertEquals(2, Csv.read(f).size());
        assertEquals(1, Csv.read(f, Csv.Options.defaults().header(true)).size());
    }

    @Test
    void otherDelimiterAndQuotedCells() throws IOException {
        Dataset d = Csv.read(csv("\uFEFF\"a;b\";\"c\"\"\";label\n 1 ; 2 ;x\n"), Csv.Options.defaults().delimiter(';'));
        assertEquals(1, d.size());
        assertArrayEquals(new float[] {1, 2}, all(d));
        assertEquals(List.of("x"), d.classNames());
    }

    @Test
    void nonNumericCellNamesLineColumnAndHeader() throws IOException {
        assertFails(csv("a,b,y\n1,2,0\n3,oops,1\n"), Csv.Options.defaults(),
                "line 3, column 2 (\"b\"): expected a number, found \"oops\"");
        assertFails(csv("1,2,0\n3,,1\n"), Csv.Options.defaults(), "line 2, column 2: expected a number, found an empty cell");
        assertFails(csv("1,2,0\n3,1e99,1\n"), Csv.Options.defaults(), "line 2, column 2", "float32 range");
        assertFails(csv("1,2,0\n3,0x10,1\n"), Csv.Options.defaults(), "found \"0x10\"");
        assertFails(csv("1,2,0\n3,4,\n"), Csv.Options.defaults(), "line 2, column 3: expected a label, found an empty cell");
    }

    @Test
    void raggedRows() throws IOException {
        assertFails(csv("1,2,0\n\n3,1\n"), Csv.Options.defaults(), "line 3: expected 3 columns (as on line 1), found 2");
        assertFails(csv("a,b,y\n1,2,0,9\n"), Csv.Options.defaults(), "line 2: expected 3 columns (as on line 1), found 4");
    }

    @Test
    void otherErrors() throws IOException {
        assertFails(csv(""), Csv.Options.defaults(), "empty file");
        assertFails(csv("a,b,y\n"), Csv.Options.defaults().header(true), "found none");
        assertFails(csv("1\n2\n"), Csv.Options.defaults(), "at least 2 columns");
        assertFails(csv("a,b\n1,2\n"), Csv.Options.defaults().labelColumn("y"), "expected a column named \"y\"");
        assertFails(csv("1,2\n"), Csv.Options.defaults().labelColumn(5), "label column index 5 is outside the 2 columns");
        assertFails(csv("a,y\n1,2\n"), Csv.Options.defaults().labelColumn("y").header(false), "without a header");
        assertFails(csv("\"1,2\n"), Csv.Options.defaults(), "line 1: unterminated quoted field");
        assertFails(dir.resolve("absent.csv"), Csv.Options.defaults(), "no such file");
    }

    @Test
    void classIdsBeyondTheLimitAreOneLineNotTenToTheNineClasses() throws IOException {
        assertFails(csv("x,y,label\n1,2,0\n3,4,999999999\n"), Csv.Options.defaults(),
                "line 3, column 3 (\"label\"): expected a class id in [0, 65536) (labels that are not all integers are taken "
                        + "as class names instead), found \"999999999\"");
    }

    @Test
    void sparseClassIdsNeedOneRowPerClassBeyond1024() throws IOException {
        assertEquals(1024, Csv.read(csv("1,0\n2,1023\n")).numClasses());
        assertFails(csv("1,0\n2,1024\n3,5\n"), Csv.Options.defaults(),
                "line 2: label 1024 makes 1025 classes (0..1024) for 3 rows; expected class ids 0, 1, 2, ... without large gaps");
        StringBuilder dense = new StringBuilder();
        for (int i = 0; i < 2000; i++) dense.append(i).append(',').append(i).append('\n');
        assertEquals(2000, Csv.read(csv(dense.toString())).numClasses());
    }

    @Test
    void quoteAfterQuotedEmptyCellReopensItAsBefore() throws IOException {
        // The quote rule (a quote opens a field only where the cell is still blank) kept when made linear-time.
        Dataset d = Csv.read(csv("\"\" \"1\",x\n"), Csv.Options.defaults().header(false));
        assertArrayEquals(new float[] {1}, all(d));
        assertFails(csv("a\"\"1,x\n"), Csv.Options.defaults().header(false), "column 1: expected a number, found \"a\"\"1\"");
    }
}
