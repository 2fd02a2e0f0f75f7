package org.deltagrad.openblas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The same bits on 1, 2 and 3 threads on every CPU target OpenBLAS may pick, not only on this machine's: OpenBLAS
 * chooses its kernels (and so the rounding of a product) by target and by the shape of each call, and honours
 * {@code OPENBLAS_CORETYPE}. {@link ThreadCountCheck} runs in a child JVM per target that this CPU can execute, on
 * a JDK 22+ (this one, or the newest installed, where OpenBLAS reads the tensors in place, names its target, and
 * small-kernel pieces come into play), and also on this JDK when it is older. The short runs include the compiled
 * step of a convolutional network (its convolutions cut into chunks of images fixed by the shape).
 */
class ThreadCountDeterminismTest {
    /** OPENBLAS_CORETYPE values, each with the /proc/cpuinfo flags its kernels need. */
    private static final Map<String, List<String>> TARGETS = new LinkedHashMap<>();

    static {
        TARGETS.put("Nehalem", List.of("ssse3"));
        TARGETS.put("Sandybridge", List.of("avx"));
        TARGETS.put("Haswell", List.of("avx2", "fma"));
        TARGETS.put("Zen", List.of("avx2", "fma"));
        TARGETS.put("SkylakeX", List.of("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"));
        TARGETS.put("Cooperlake", List.of("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512_bf16"));
    }

    private static final Pattern SUMMARY = Pattern.compile("core=(\\S+) products=(\\d+) runs=(\\d+) differences=(\\d+)");

    @Test
    void productsAndTrainingGiveTheSameBitsOnAnyThreadCountOnEveryTarget() throws Exception {
        Set<String> flags = cpuFlags();
        List<String> targets = new ArrayList<>();
        targets.add(null); // OpenBLAS's own pick (the inherited environment, unchanged)
        for (Map.Entry<String, List<String>> t : TARGETS.entrySet()) {
            if (flags.containsAll(t.getValue())) targets.add(t.getKey());
        }
        // Every target on a JDK 22+ (in place, so also the small-kernel pieces), and on this JDK if it is older,
        // OpenBLAS's pick (copied operands: the same pieces as the targets without small kernels).
        Path thisJava = Path.of(System.getProperty("java.home"), "bin", "java");
        Optional<Path> jdk22 = Runtime.version().feature() >= 22 ? Optional.of(thisJava) : InPlaceBlasTest.newestJdk22();
        Map<Path, List<String>> runs = new LinkedHashMap<>();
        if (jdk22.isEmpty() || !jdk22.get().equals(thisJava)) runs.put(thisJava, jdk22.isEmpty() ? targets : targets.subList(0, 1));
        jdk22.ifPresent(java -> runs.put(java, targets));

        List<String> failures = new ArrayList<>();
        for (Path java : runs.keySet()) {
            for (String target : runs.get(java)) {
                String out = runCheck(java, target);
                Matcher m = SUMMARY.matcher(out);
                String where = java + " with OPENBLAS_CORETYPE=" + (target == null ? "(inherited)" : target);
                if (!m.find()) {
                    failures.add(where + ": no summary\n" + out);
                    continue;
                }
                assertEquals(ThreadCountCheck.cases().size() * 6, Integer.parseInt(m.group(2)), where + ": products checked");
                assertTrue(Integer.parseInt(m.group(3)) > 0, where + ": training runs checked");
                if (!m.group(4).equals("0") || !out.endsWith("exit code 0")) failures.add(where + ":\n" + out);
                boolean namesCore = !m.group(1).equals("null");
                if (target != null && namesCore && !m.group(1).equals(target.toLowerCase(Locale.ROOT))) {
                    failures.add(where + ": OpenBLAS ran " + m.group(1) + " instead\n" + out);
                }
            }
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    /** {@link ThreadCountCheck} in a child JVM; its whole output (which ends with the summary line). */
    private static String runCheck(Path java, String target) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx1g"));
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            command.addAll(List.of("--add-modules", "jdk.incubator.vector"));
        }
        if (!java.startsWith(System.getProperty("java.home")) || Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ThreadCountCheck.class.getName()));
        Path log = Files.createTempFile("thread-count-check", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            if (target != null) pb.environment().put("OPENBLAS_CORETYPE", target);
            Process p = pb.start();
            boolean finished = p.waitFor(5, TimeUnit.MINUTES);
            if (!finished) p.destroyForcibly().waitFor();
            String out = Files.readString(log, StandardCharsets.UTF_8);
            return finished ? out + "\nexit code " + p.exitValue() : "did not finish in 5 minutes\n" + out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The CPU's feature flags, from /proc/cpuinfo; none where it cannot be read (then only OpenBLAS's pick runs). */
    private static Set<String> cpuFlags() {
        try {
            Optional<String> line = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("flags")).findFirst();
            return line.map(l -> Set.copyOf(Arrays.asList(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))))
                    .orElse(Set.of());
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
    }
}
