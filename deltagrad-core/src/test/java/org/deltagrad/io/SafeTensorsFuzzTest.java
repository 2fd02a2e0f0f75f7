package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import java.util.Map;
import org.deltagrad.FuzzFiles;
import org.deltagrad.Tensor;

/**
 * SafeTensors.read on arbitrary bytes: tensors, or a SafeTensorsException naming the file; what it reads writes
 * back to a file that reads the same. Without JAZZER_FUZZ=1 this replays the saved inputs in
 * SafeTensorsFuzzTestInputs/ (see the README's "Fuzzing").
 */
class SafeTensorsFuzzTest {
    @FuzzTest
    void read(byte[] input) {
        Path file = FuzzFiles.write("input.safetensors", input);
        SafeTensors.Contents contents;
        try {
            contents = SafeTensors.read(file);
        } catch (SafeTensorsException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            return;
        }
        Path copy = FuzzFiles.scratch("copy.safetensors");
        SafeTensors.write(copy, contents.tensors(), contents.metadata());
        SafeTensors.Contents again = SafeTensors.read(copy);
        assertEquals(contents.metadata(), again.metadata());
        assertEquals(contents.tensors().keySet(), again.tensors().keySet());
        for (Map.Entry<String, Tensor> e : contents.tensors().entrySet()) {
            Tensor t = again.tensors().get(e.getKey());
            assertArrayEquals(e.getValue().shape(), t.shape());
            assertArrayEquals(e.getValue().toDoubleArray(), t.toDoubleArray());
        }
    }
}
