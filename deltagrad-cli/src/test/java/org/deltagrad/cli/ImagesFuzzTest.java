package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The image input of {@code predict} on arbitrary bytes, as a .pgm (our own parser) and as any other file (ImageIO's
 * decoders): an image, or a UserException naming the file. Without JAZZER_FUZZ=1 this replays the saved inputs in
 * ImagesFuzzTestInputs/ (see the README's "Fuzzing").
 */
class ImagesFuzzTest {
    private static final Path DIR = createDir();

    private static Path createDir() {
        try {
            Path dir = Files.createTempDirectory("images-fuzz");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest
    void pgm(byte[] input) throws IOException {
        readChecked("input.pgm", input);
    }

    @FuzzTest
    void image(byte[] input) throws IOException {
        readChecked("input.png", input);
    }

    private static void readChecked(String name, byte[] input) throws IOException {
        Path file = DIR.resolve(name);
        file.toFile().deleteOnExit();
        Files.write(file, input);
        try {
            Images.read(file);
        } catch (UserException e) {
            assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        }
    }
}
