package org.deltagrad.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import org.deltagrad.io.AtomicFiles;

/** The files a command will write, checked before it starts: no two the same file, every directory writable. */
final class OutputPaths {
    private OutputPaths() {}

    /**
     * {@code outputs} maps what each file is (a flag such as {@code --report}, or a description) to its path.
     * Throws a {@link UserException} naming both when two are the same file, and an IOException naming the
     * directory when one cannot be written (it is created if missing, then probed with a temporary file).
     */
    static void check(Map<String, Path> outputs) throws IOException {
        Map<Path, String> seen = new HashMap<>();
        for (Map.Entry<String, Path> e : outputs.entrySet()) {
            String other = seen.putIfAbsent(canonical(e.getValue()), e.getKey());
            if (other != null) {
                throw new UserException(e.getKey() + " " + e.getValue() + " is the same file as " + other
                        + ": give each output its own name");
            }
        }
        Set<Path> dirs = new LinkedHashSet<>();
        for (Path p : outputs.values()) dirs.add(p.toAbsolutePath().normalize().getParent());
        for (Path dir : dirs) AtomicFiles.checkWritable(dir);
    }

    /** Absolute, normalised, and with the symbolic links of its directory resolved when that exists. */
    private static Path canonical(Path p) {
        Path absolute = p.toAbsolutePath().normalize();
        Path parent = absolute.getParent();
        try {
            if (parent != null && Files.isDirectory(parent)) return parent.toRealPath().resolve(absolute.getFileName());
        } catch (IOException unreadable) {
            // Compare the plain path then; writing will report the directory.
        }
        return absolute;
    }
}
