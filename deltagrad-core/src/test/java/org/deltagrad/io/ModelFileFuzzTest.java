package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.deltagrad.DeltagradException;
import org.deltagrad.FuzzFiles;

/**
 * ModelFile.load on arbitrary files. The input is model.json, a NUL byte, then model.safetensors (JSON text holds
 * no raw NUL). Loading gives a model, or one of the errors its callers report as a user's mistake: an
 * IllegalArgumentException (its documented contract), a DeltagradException, or an UncheckedIOException for a file
 * that cannot be read; each names a file. Without JAZZER_FUZZ=1 this replays the saved inputs in
 * ModelFileFuzzTestInputs/ (see the README's "Fuzzing").
 */
class ModelFileFuzzTest {
    @FuzzTest
    void load(byte[] input) {
        int nul = 0;
        while (nul < input.length && input[nul] != 0) nul++;
        FuzzFiles.write("model.json", Arrays.copyOfRange(input, 0, nul));
        Path weights = FuzzFiles.write("model.safetensors", Arrays.copyOfRange(input, Math.min(nul + 1, input.length), input.length));
        try {
            ModelFile.load(weights);
        } catch (IllegalArgumentException | DeltagradException | UncheckedIOException e) {
            String dir = weights.getParent().toString();
            assertTrue(e.getMessage() != null && e.getMessage().contains(dir), e.getClass().getName() + ": " + e.getMessage());
        }
    }
}
