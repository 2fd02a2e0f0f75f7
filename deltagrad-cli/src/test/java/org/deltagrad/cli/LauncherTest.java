package org.deltagrad.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./deltagrad} launcher's choice of JVM. It is a shell script, so it runs here for real: a copy of it
 * beside an up-to-date stand-in for the jar (so it never builds), with fake JDKs whose {@code java} prints its
 * own name and arguments.
 */
class LauncherTest {
    @TempDir
    Path tmp;

    private Path repo;
    private Path jdks;
    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void copyTheLauncher() throws IOException {
        repo = tmp.resolve("repo");
        jdks = tmp.resolve("jvm");
        Files.createDirectories(repo.resolve("deltagrad-cli/target"));
        Files.createDirectories(jdks);
        Path launcher = Files.copy(Path.of("..", "deltagrad"), repo.resolve("deltagrad"));
        assertTrue(launcher.toFile().setExecutable(true));
        Files.writeString(repo.resolve("deltagrad-cli/target/deltagrad.jar"), "stands in for the jar");
        Path onPath = fakeJdk(tmp.resolve("path-jdk"), "path17", "17.0.15");
        env.put("PATH", onPath.resolve("bin") + ":" + System.getenv("PATH"));
        env.put("DELTAGRAD_JDKS_DIR", jdks.toString());
    }

    @Test
    void runsTheNewestJdkItFinds() throws Exception {
        fakeJdk(jdks.resolve("jdk-21"), "jdk21", "21.0.2");
        fakeJdk(jdks.resolve("jdk-25"), "jdk25", "25.0.3");
        fakeJdk(jdks.resolve("jdk-8"), "jdk8", "1.8.0_402");
        String out = run();
        assertTrue(out.startsWith("jdk25 "), out);
        assertTrue(out.endsWith(" -XX:+UseSerialGC -Xmn64m -Xss8m -jar " + repo.resolve("deltagrad-cli/target/deltagrad.jar")
                + " train --epochs 1"), "default JVM options, the jar, then the arguments: " + out);
    }

    @Test
    void keepsTheJavaOnThePathWhenNothingIsNewer() throws Exception {
        fakeJdk(jdks.resolve("jdk-11"), "jdk11", "11.0.22");
        Files.createDirectories(jdks.resolve("not-a-jdk"));
        assertTrue(run().startsWith("path17 "));
    }

    @Test
    void javaHomeAndDeltagradJavaComeFirst() throws Exception {
        fakeJdk(jdks.resolve("jdk-25"), "jdk25", "25.0.3");
        Path home21 = fakeJdk(tmp.resolve("elsewhere/jdk-21"), "jdk21", "21.0.2");
        env.put("JAVA_HOME", home21.toString());
        assertTrue(run().startsWith("jdk21 "), "JAVA_HOME is the user's choice");
        Path other = fakeJdk(tmp.resolve("elsewhere/jdk-17"), "chosen", "17.0.1");
        env.put("DELTAGRAD_JAVA", other.resolve("bin/java").toString());
        assertTrue(run().startsWith("chosen "), "DELTAGRAD_JAVA names the java to run");
    }

    @Test
    void deltagradJavaOptsReplaceTheDefaults() throws Exception {
        env.put("DELTAGRAD_JAVA_OPTS", "-Xmx1g");
        String out = run();
        assertTrue(out.startsWith("path17 -Xmx1g -jar "), out);
    }

    private String run() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", repo.resolve("deltagrad").toString(), "train", "--epochs", "1");
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("DELTAGRAD_JAVA");
        pb.environment().remove("DELTAGRAD_JAVA_OPTS");
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    /** A JDK home with a release file of the given version and a bin/java that prints its name and arguments. */
    private static Path fakeJdk(Path home, String name, String version) throws IOException {
        Files.createDirectories(home.resolve("bin"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        Path java = home.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\necho \"" + name + " $*\"\n");
        assertTrue(java.toFile().setExecutable(true));
        return home;
    }
}
