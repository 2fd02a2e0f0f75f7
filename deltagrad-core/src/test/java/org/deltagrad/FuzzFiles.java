package org.deltagrad;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Scratch files for fuzz tests, which run their method many times in one JVM and cannot use @TempDir. */
public final class FuzzFiles {
    private FuzzFiles() {}

    private static final Path DIR = createDir();

    private static Path createDir() {
        try {
            Path dir = Files.createTempDirectory("deltagrad-fuzz");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code name} in a temporary directory deleted when the JVM exits; the file too, once it exists. */
    public static Path scratch(String name) {
        Path file = DIR.resolve(name);
        file.toFile().deleteOnExit();
        return file;
    }

    /** Writes {@code bytes} to {@link #scratch}{@code (name)} and returns the file. */
    public static Path write(String name, byte[] bytes) {
        try {
            return Files.write(scratch(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
