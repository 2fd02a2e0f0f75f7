package org.deltagrad.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes files so that readers see either the old content or the complete new content, never a
 * half-written file: a crash or an exception during the write leaves the target untouched.
 *
 * <p>The content goes to {@code .NAME.PID-RANDOM.tmp} beside the target, is forced to disk, then
 * renamed over the target. A temporary file is deleted when the writer fails and, on SIGTERM or
 * any other orderly JVM exit, by a shutdown hook; one that a SIGKILL or power loss leaves behind
 * is swept by the next write of the same target ({@link #sweepStale}).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content of a file to {@code out}; it must not close {@code out}. */
    @FunctionalInterface
    public interface StreamWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final long PID = ProcessHandle.current().pid();
    // A temp file last modified before this class loaded cannot be one this process is writing. (The OS's
    // process start time is not used: Linux reports it rounded to whole seconds.)
    private static final Instant PROCESS_START = Instant.now();
    private static final Set<Path> IN_FLIGHT = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                for (Path p : IN_FLIGHT) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ignored) {
                        // Best effort at exit; the next write of the same target sweeps it.
                    }
                }
            }, "deltagrad-temp-cleanup"));
        } catch (IllegalStateException shuttingDown) {
            // First used from another shutdown hook: too late to register; sweeping still covers a kill.
        }
    }

    /** Replaces {@code target} with {@code bytes}. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /**
     * Replaces {@code target} with what {@code writer} writes. If the writer throws, the target is
     * unchanged, the temporary file is deleted and the exception propagates. Stale temporary files
     * of the same target left by killed processes are removed first.
     */
    public static void write(Path target, StreamWriter writer) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        try {
            sweepStale(absolute);
        } catch (IOException | SecurityException leftovers) {
            // Sweeping is housekeeping: a file we may not delete must not stop the write.
        }
        // Same directory as the target, so the final rename never crosses file systems. Created
        // with CREATE_NEW rather than Files.createTempFile so the file gets the usual permissions.
        Path temp = dir.resolve("." + absolute.getFileName() + "." + PID + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        IN_FLIGHT.add(temp);
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                writer.writeTo(out);
                out.flush();
                // Data on disk before the rename makes it visible; otherwise a crash could leave
                // the new name pointing at an empty or partial file.
                channel.force(true);
            }
            Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(temp);
            throw e;
        } finally {
            IN_FLIGHT.remove(temp);
        }
        syncDirectory(dir);
    }

    /**
     * Deletes the temporary files of {@code target} that a killed writer left: only names of our own
     * pattern ({@code .NAME.PID-RANDOM.tmp}, or {@code .NAME.RANDOM.tmp} from older versions), last
     * modified before this process first wrote a file, and not belonging to a process that is still running.
     * Returns how many it deleted.
     */
    public static int sweepStale(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (!Files.isDirectory(dir)) return 0;
        String name = absolute.getFileName().toString();
        Pattern ours = Pattern.compile("\\." + Pattern.quote(name) + "\\.(?:(\\d{1,19})-)?[0-9a-f]{1,16}\\.tmp");
        int deleted = 0;
        // A filter, not a glob: file names may hold glob characters such as [ or {.
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith("." + name + "."))) {
            for (Path p : entries) {
                Matcher m = ours.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isRegularFile(p)) continue;
                FileTime modified = Files.getLastModifiedTime(p);
                if (!modified.toInstant().isBefore(PROCESS_START)) continue;
                if (m.group(1) != null && isOtherLiveProcess(Long.parseLong(m.group(1)))) continue;
                if (Files.deleteIfExists(p)) deleted++;
            }
        }
        return deleted;
    }

    private static boolean isOtherLiveProcess(long pid) {
        return pid != PID && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /**
     * Creates {@code dir} if needed and checks that a file can be created in it, by creating and
     * deleting an empty temporary file; throws an {@link IOException} naming the directory if not.
     */
    public static void checkWritable(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        try {
            Files.createDirectories(absolute);
            Path probe = absolute.resolve(".deltagrad-probe." + PID + "-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            Files.newByteChannel(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
            Files.delete(probe);
        } catch (IOException e) {
            throw new IOException(dir + ": cannot write files in this directory (" + reason(e) + ")", e);
        }
    }

    /** Why {@code e} happened, in words (a FileSystemException's message is often just the path). */
    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof FileAlreadyExistsException f) return f.getFile() + " exists and is not a directory";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        return String.valueOf(e.getMessage());
    }

    /** Makes the rename itself durable. Some platforms (Windows) cannot open a directory; skip there. */
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException ignored) {
            // The file content is already synced; only the rename's durability is best-effort here.
        }
    }
}
