package org.deltagrad.openblas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.deltagrad.kernels.GemmCase;
import org.junit.jupiter.api.Test;

/**
 * OpenBLAS on the tensors' own arrays (JDK 22+, {@link InPlaceBlas}). The build may run on JDK 17, where that path
 * cannot come up; the table then runs in a child JVM of the newest JDK 22+ installed under /usr/lib/jvm (the
 * Temurin JDK on this project's CI machines), and is skipped, saying so, where there is none.
 */
class InPlaceBlasTest {

    @Test
    void theBackendNamesThePathItTakesOnThisJdk() {
        String name = new OpenBlasGemm().name();
        int jdk = Runtime.version().feature();
        if (jdk >= 22) assertTrue(name.contains("tensors read in place"), name);
        else assertTrue(name.contains("operands copied off-heap: JDK " + jdk + " (in place needs 22+)"), name);
    }

    /**
     * The table in a JVM of JDK 22+, with float32 products cut into pieces for OpenBLAS's small kernels
     * ({@code -Ddeltagrad.openblas.smallPieces=true}, also where the CPU has no such kernels: then the pieces are just
     * smaller packed calls) and without: every product right, and with pieces the same bits on one and two threads.
     */
    @Test
    void gemmTableMatchesTheNaiveLoopInPlace() throws Exception {
        int products = 4 * GemmCase.table().size();
        long cut = GemmCase.table().stream().filter(g -> OpenBlasGemm.smallPieces(g.transA(), g.transB(), g.m(), g.n(), g.k()) != 0).count();
        assertTrue(cut >= 4, "the table has products that are cut into pieces");
        Optional<Path> java = Runtime.version().feature() >= 22
                ? Optional.of(Path.of(System.getProperty("java.home"), "bin", "java")) : newestJdk22();
        assumeTrue(java.isPresent(), "no JDK 22+ under /usr/lib/jvm: the in-place path is not exercised here");
        for (boolean pieces : new boolean[] {true, false}) {
            Process p = new ProcessBuilder(java.get().toString(), "--enable-native-access=ALL-UNNAMED",
                    "-Ddeltagrad.openblas.smallPieces=" + pieces, "-cp", System.getProperty("java.class.path"),
                    InPlaceCheck.class.getName()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            long expected = products + (pieces ? 2 * cut : 0);
            assertTrue(out.contains("in place: " + expected + " products checked, small pieces " + pieces), out);
        }
    }

    /** bin/java of the newest JDK 22+ under /usr/lib/jvm, judged by each one's release file. */
    static Optional<Path> newestJdk22() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) return Optional.empty();
        try (Stream<Path> homes = Files.list(jvms)) {
            return homes.filter(h -> Files.isExecutable(h.resolve("bin/java")) && feature(h) >= 22)
                    .max(Comparator.comparingInt(InPlaceBlasTest::feature))
                    .map(h -> h.resolve("bin/java"));
        }
    }

    private static int feature(Path home) {
        try {
            for (String line : Files.readAllLines(home.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=\"")) {
                    String v = line.substring("JAVA_VERSION=\"".length());
                    int end = 0;
                    while (end < v.length() && Character.isDigit(v.charAt(end))) end++;
                    return end == 0 ? 0 : Integer.parseInt(v.substring(0, end));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not a JDK we can read: skip it
        }
        return 0;
    }
}
