package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.deltagrad.FuzzFiles;

/**
 * Idx.read on arbitrary bytes, as they are and gzipped: it returns an array or throws a DataException
 * naming the file; anything else (an OutOfMemoryError, an index or arithmetic exception) is a bug. Without
 * JAZZER_FUZZ=1 this replays the saved inputs in IdxFuzzTestInputs/ (see the README's "Fuzzing").
 */
class IdxFuzzTest {
    @FuzzTest
    void raw(byte[] input) {
        readChecked(input);
    }

    @FuzzTest
    void gzip(byte[] input) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(input);
        }
        readChecked(out.toByteArray());
    }

    private static void readChecked(byte[] bytes) {
        Path file = FuzzFiles.write("input-idx", bytes);
        try {
            IdxArray a = Idx.read(file);
            // What was read must be usable: every conversion either works or says why not.
            if (a.type().isInteger()) assertTrue(a.toIntArray().length == a.numel());
            assertTrue(a.toDoubleArray().length == a.numel());
        } catch (DataException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
    }
}
