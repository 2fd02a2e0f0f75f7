package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<Path> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void writesBytesAndCreatesParents() throws IOException {
        Path target = dir.resolve("a/b/c.bin");
        AtomicFiles.write(target, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
    }

    @Test
    void replacesExistingFileAndLeavesNoTemporaries() throws IOException {
        Path target = dir.resolve("f.txt");
        Files.writeString(target, "old");
        AtomicFiles.write(target, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
        assertEquals("new", Files.readString(target));
        assertEquals(List.of(target), listing());
    }

    @Test
    void failingWriterLeavesOldContentAndNoTemporaries() throws IOException {
        Path target = dir.resolve("f.txt");
        Files.writeString(target, "old");
        IOException boom = new IOException("boom");
        IOException thrown = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write("partial".getBytes(StandardCharsets.UTF_8));
            throw boom;
        }));
        assertSame(boom, thrown);
        assertEquals("old", Files.readString(target));
        assertEquals(List.of(target), listing());
    }

    @Test
    void runtimeExceptionAlsoCleansUp() throws IOException {
        Path target = dir.resolve("new.txt");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            throw new IllegalStateException("no");
        }));
        assertEquals(List.of(), listing());
    }

    @Test
    void relativePathWorks() throws IOException {
        Path target = dir.resolve("rel.bin");
        Path relative = Path.of("").toAbsolutePath().relativize(target);
        AtomicFiles.write(relative, new byte[] {9});
        assertArrayEquals(new byte[] {9}, Files.readAllBytes(target));
    }
}
