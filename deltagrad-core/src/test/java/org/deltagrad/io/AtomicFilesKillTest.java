package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Temporary files of an atomic write: removed on SIGTERM, swept after SIGKILL, and nobody else's touched. */
class AtomicFilesKillTest {
    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Process child(String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                AtomicFilesChild.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** Starts a child that is in the middle of writing {@code target}; returns once its temporary file holds data. */
    private static Process midWrite(Path target) throws IOException {
        Process p = child("hang", target.toString());
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("writing", out.readLine());
        return p;
    }

    private static void awaitExit(Process p) throws InterruptedException {
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child did not exit");
    }

    @Test
    void sigtermRemovesTheTemporaryFileAndKeepsTheTarget() throws Exception {
        Path target = dir.resolve("model.safetensors");
        Files.writeString(target, "good");
        Process p = midWrite(target);
        assertEquals(2, listing().size(), "the temporary file exists while writing: " + listing());
        p.destroy(); // SIGTERM: shutdown hooks run
        awaitExit(p);
        assertEquals(List.of("model.safetensors"), listing());
        assertEquals("good", Files.readString(target));
    }

    @Test
    void aTemporaryFileLeftBySigkillIsSweptByTheNextWrite() throws Exception {
        Path target = dir.resolve("model.safetensors");
        Files.writeString(target, "good");
        Process p = midWrite(target);
        p.destroyForcibly(); // SIGKILL: nothing runs
        awaitExit(p);
        List<String> left = listing();
        assertEquals(2, left.size(), "SIGKILL leaves the temporary file: " + left);
        assertEquals("good", Files.readString(target));

        Process next = child("write", target.toString(), "better");
        awaitExit(next);
        assertEquals(0, next.exitValue());
        assertEquals(List.of("model.safetensors"), listing());
        assertEquals("better", Files.readString(target));
    }

    @Test
    void sweepingTouchesOnlyOurOwnStaleTemporaries() throws IOException {
        Path target = dir.resolve("model.safetensors");
        FileTime longAgo = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
        List<String> stale = List.of(".model.safetensors.4194999-1f2e3d.tmp", ".model.safetensors.9a8b7c6d5e4f3a2b.tmp");
        List<String> kept = List.of(".model.safetensors.4194999-fresh0.tmp".replace("fresh0", "abc123"), // written now
                ".model.json.4194999-1f2e3d.tmp", // another target's
                ".model.safetensors.notours.tmp", "model.safetensors.4194999-1f2e3d.tmp", ".model.safetensors.1-2.tmp.bak");
        for (String name : stale) Files.setLastModifiedTime(Files.writeString(dir.resolve(name), "x"), longAgo);
        for (int i = 0; i < kept.size(); i++) {
            Path p = Files.writeString(dir.resolve(kept.get(i)), "x");
            if (i > 0) Files.setLastModifiedTime(p, longAgo);
        }
        // pid 1 is alive (init): its temporaries might be in use, however old.
        Files.setLastModifiedTime(Files.writeString(dir.resolve(".model.safetensors.1-77.tmp"), "x"), longAgo);

        assertEquals(2, AtomicFiles.sweepStale(target));
        for (String name : stale) assertTrue(Files.notExists(dir.resolve(name)), name);
        for (String name : kept) assertTrue(Files.exists(dir.resolve(name)), name);
        assertTrue(Files.exists(dir.resolve(".model.safetensors.1-77.tmp")));
    }

    @Test
    void namesWithGlobCharactersAreSweptToo() throws IOException {
        Path target = dir.resolve("run[1]{a}.safetensors");
        Path stale = Files.writeString(dir.resolve(".run[1]{a}.safetensors.4194999-1f.tmp"), "x");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        AtomicFiles.write(target, new byte[] {1});
        assertEquals(List.of("run[1]{a}.safetensors"), listing());
    }

    @Test
    void checkWritableNamesTheDirectoryAndLeavesNothing() throws IOException {
        AtomicFiles.checkWritable(dir.resolve("a/b"));
        assertEquals(List.of(), Files.list(dir.resolve("a/b")).toList());
        Files.writeString(dir.resolve("file"), "x");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> AtomicFiles.checkWritable(dir.resolve("file/sub")));
        assertTrue(e.getMessage().startsWith(dir.resolve("file/sub") + ": cannot write") && e.getMessage().contains("Not a directory"),
                e.getMessage());
    }
}
