package org.deltagrad.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
        Map<Path, String> seen = new LinkedHashMap<>(); // in the given order, so the message is stable
        for (Map.Entry<String, Path> e : outputs.entrySet()) {
            if (Files.isDirectory(e.getValue())) {
                throw new UserException(e.getKey() + " " + e.getValue() + " is a directory; expected a file name");
            }
            Path path = canonical(e.getValue());
            String other = seen.putIfAbsent(path, e.getKey());
            if (other != null) {
                throw new UserException(e.getKey() + " " + e.getValue() + " is the same file as " + other
                        + ": give each output its own name");
            }
        }
        for (Map.Entry<Path, String> file : seen.entrySet()) {
            for (Map.Entry<Path, String> inside : seen.entrySet()) {
                if (inside.getKey().startsWith(file.getKey()) && !inside.getKey().equals(file.getKey())) {
                    throw new UserException(inside.getValue() + " " + inside.getKey() + " would be inside "
                            + file.getValue() + " " + file.getKey() + ", which is a file: give each output its own place");
                }
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
