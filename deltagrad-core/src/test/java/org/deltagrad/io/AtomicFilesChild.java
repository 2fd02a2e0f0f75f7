package org.deltagrad.io;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A separate JVM for {@link AtomicFilesKillTest}: {@code hang TARGET} starts an atomic write of TARGET, says
 * "writing" once the temporary file holds data, and waits to be killed; {@code write TARGET TEXT} writes TEXT.
 */
public final class AtomicFilesChild {
    private AtomicFilesChild() {}

    public static void main(String[] args) throws Exception {
        Path target = Path.of(args[1]);
        if (args[0].equals("write")) {
            AtomicFiles.write(target, args[2].getBytes(StandardCharsets.UTF_8));
            return;
        }
        AtomicFiles.write(target, out -> {
            out.write("partial".getBytes(StandardCharsets.UTF_8));
            out.flush();
            System.out.println("writing");
            System.out.flush();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
