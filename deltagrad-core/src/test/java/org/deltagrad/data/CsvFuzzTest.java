package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import java.util.Arrays;
import org.deltagrad.FuzzFiles;

/**
 * Csv.read on arbitrary text: a dataset, or a DataException naming the file. The first byte picks the
 * options (header detected, present or absent; label first or last; ',' or ';'), the rest is the file. The same
 * file read as {@code train --data} reads it (CsvData.load) gives finite standardised rows or such an exception.
 * Without JAZZER_FUZZ=1 this replays the saved inputs in CsvFuzzTestInputs/ (see the README's "Fuzzing").
 */
class CsvFuzzTest {
    @FuzzTest
    void read(byte[] input) {
        if (input.length == 0) return;
        int pick = input[0];
        Csv.Options options = Csv.Options.defaults();
        if ((pick & 3) == 1) options = options.header(true);
        if ((pick & 3) == 2) options = options.header(false);
        if ((pick & 4) != 0) options = options.labelColumn(0);
        if ((pick & 8) != 0) options = options.delimiter(';');
        Path file = FuzzFiles.write("input.csv", Arrays.copyOfRange(input, 1, input.length));
        try {
            Dataset d = Csv.read(file, options);
            assertTrue(d.size() > 0 && d.numClasses() <= Math.max(Csv.MAX_SPARSE_CLASSES, d.size()));
        } catch (DataException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
        try {
            InputSpec.Prepared p = CsvData.load(file, null, null, 0.5, 1);
            assertTrue(p.train().size() > 0 && p.train().numClasses() >= 2);
            for (float v : p.train().features().toFloatArray()) assertTrue(Float.isFinite(v), "standardised value " + v);
        } catch (DataException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
    }
}
