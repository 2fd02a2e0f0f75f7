package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** The pages we write, opened in headless Chromium: their DOM after their scripts ran. */
public final class HeadlessChromium {
    private HeadlessChromium() {}

    /** The page's DOM after its scripts ran, from headless Chromium; skipped without Chromium unless CI is set. */
    public static String dumpDom(Path dir, Path page, String fragment) throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        if (!Files.isExecutable(chromium)) {
            String message = "Chromium is not installed (apt-get install chromium chromium-driver): the page is not tested in a browser";
            if (System.getenv("CI") != null) fail(message);
            Assumptions.assumeTrue(false, message);
        }
        Path profile = Files.createTempDirectory(dir, "chromium-profile");
        Path dom = dir.resolve("dom.html"), log = dir.resolve("chromium.log");
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--dump-dom", page.toUri() + fragment)
                .redirectOutput(dom.toFile()).redirectError(log.toFile()).start();
        // A guard against a hung browser, not a timing assertion.
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("chromium --dump-dom did not finish: " + Files.readString(log));
        }
        assertEquals(0, p.exitValue(), Files.readString(log));
        return Files.readString(dom, StandardCharsets.UTF_8);
    }
}
