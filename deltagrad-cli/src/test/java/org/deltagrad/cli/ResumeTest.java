package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.deltagrad.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --resume DIR}: a run killed with SIGKILL at random moments (during training, during checkpoint
 * writes, while the outputs are written) and resumed ends with the model, plots and per-epoch figures of a run that
 * was never interrupted, bit for bit. The runs are real child JVMs, killed with {@link Process#destroyForcibly()}.
 */
class ResumeTest {
    private static final int EPOCHS = 8;
    /** The run under test: spirals, dropout (whose generator state must survive) and the cosine schedule. */
    private static final String[] RUN = {"train", "--epochs", Integer.toString(EPOCHS), "--dropout", "0.1", "--threads", "1"};

    @TempDir
    Path tmp;

    @Test
    void aRunKilledAtRandomMomentsAndResumedEndsBitIdenticalToAnUninterruptedOne() throws Exception {
        Path reference = tmp.resolve("reference");
        Child ref = Child.start(words(RUN, "--out", reference));
        assertEquals(0, ref.waitFor(), ref.output());

        Random random = new Random(20261205);
        int killsDuringCheckpointWrites = 0, kills = 0;
        for (int trial = 0; trial < 4; trial++) {
            Path dir = tmp.resolve("trial" + trial);
            Child run = Child.start(words(RUN, "--out", dir));
            boolean started = false;
            // Kill up to three times: the first run, then resumed runs, each at a random moment.
            for (int kill = 0; kill < 3; kill++) {
                boolean killed = run.killAtRandomMoment(random);
                if (!killed) break;
                kills++;
                try (Stream<Path> files = Files.list(dir)) {
                    if (files.anyMatch(f -> f.getFileName().toString().startsWith("." + Checkpoint.FILE_NAME))) killsDuringCheckpointWrites++;
                } catch (java.nio.file.NoSuchFileException e) {
                    // killed before the run made its directory
                }
                if (!Files.exists(dir.resolve(Checkpoint.FILE_NAME)) && !started) {
                    // killed before the first checkpoint: there is nothing to resume, and resume says so in one line
                    Cli.Result r = Cli.run("train", "--resume", dir);
                    assertTrue(r.oneErrorLine().contains(Checkpoint.FILE_NAME), r.toString());
                    run = Child.start(words(RUN, "--out", dir));
                    continue;
                }
                started = true;
                run = Child.start(List.of("train", "--resume", dir.toString(), "--threads", "1"));
            }
            assertEquals(0, run.waitFor(), run.output());
            assertSameRun(reference, dir, "trial " + trial);
            Cli.Result again = Cli.run("train", "--resume", dir).ok();
            assertTrue(again.out().contains("the run is complete (" + EPOCHS + " of " + EPOCHS + " epochs)"), again.out());
        }
        assertTrue(kills >= 5, "the trials killed " + kills + " times");
        System.out.println("ResumeTest: " + kills + " kills, " + killsDuringCheckpointWrites + " of them during a checkpoint write");
    }

    /** Same model, architecture file and pictures byte for byte; same report but for the wall-clock seconds. */
    private static void assertSameRun(Path expected, Path actual, String what) throws IOException {
        for (String f : List.of("model.safetensors", "model.json", "loss.png", "regions.png")) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(f)), Files.readAllBytes(actual.resolve(f)), what + ": " + f);
        }
        assertEquals(withoutSeconds(Cli.readJson(expected.resolve("report.json"))), withoutSeconds(Cli.readJson(actual.resolve("report.json"))),
                what + ": report.json");
    }

    private static JsonNode withoutSeconds(JsonNode report) {
        for (JsonNode epoch : report.get("epochs")) ((ObjectNode) epoch).remove("seconds");
        assertEquals(EPOCHS, report.get("epochs").size());
        return report;
    }

    @Test
    void aFinishedRunSaysItIsCompleteAndChangesNothing() throws IOException {
        Path dir = tmp.resolve("run");
        Cli.run("train", "--epochs", 2, "--out", dir).ok();
        byte[] model = Files.readAllBytes(dir.resolve("model.safetensors"));
        Cli.Result r = Cli.run("train", "--resume", dir).ok();
        assertEquals(List.of(dir + ": the run is complete (2 of 2 epochs); its model is " + dir.resolve("model.safetensors")),
                r.outLines());
        assertArrayEquals(model, Files.readAllBytes(dir.resolve("model.safetensors")));
    }

    @Test
    void aRunStoppedAfterItsLastCheckpointButBeforeItsOutputsWritesThemOnResume() throws IOException {
        Path reference = tmp.resolve("reference"), dir = tmp.resolve("run");
        Cli.run("train", "--epochs", 2, "--out", reference).ok();
        org.deltagrad.train.TrainConfig config = new org.deltagrad.train.TrainConfig(); // what `train --epochs 2` runs
        config.epochs = 2;
        new org.deltagrad.train.Trainer(config).checkpointTo(dir.resolve(Checkpoint.FILE_NAME), java.util.Map.of())
                .fit(org.deltagrad.data.Datasets.load("spirals", null), null);
        Cli.Result r = Cli.run("train", "--resume", dir, "--threads", 0, "--debug").ok();
        assertTrue(r.out().contains("resuming after epoch 2 of 2"), r.out());
        assertTrue(r.outLines().stream().noneMatch(l -> l.startsWith("epoch ")), "nothing left to train: " + r.out());
        assertTrue(Cli.run("train", "--epochs", 1, "--out", tmp.resolve("one")).ok().outLines().stream().anyMatch(l -> l.startsWith("epoch ")));
        assertArrayEquals(Files.readAllBytes(reference.resolve("model.safetensors")), Files.readAllBytes(dir.resolve("model.safetensors")));
        assertArrayEquals(Files.readAllBytes(reference.resolve("loss.png")), Files.readAllBytes(dir.resolve("loss.png")));
        assertTrue(Cli.run("train", "--resume", dir).ok().out().contains("the run is complete"));
    }

    @Test
    void flagsThatWouldChangeTheRunAreRefusedWithResume() {
        Path dir = tmp.resolve("run");
        Cli.run("train", "--epochs", 1, "--out", dir).ok();
        for (String[] flags : List.of(new String[] {"--lr", "0.5"}, new String[] {"--epochs", "3"}, new String[] {"--out", "x"},
                new String[] {"--dropout", "0.2"}, new String[] {"--diagnostics"})) {
            Cli.Result r = Cli.run(Cli.args(new Object[] {"train", "--resume", dir}, (Object[]) flags));
            assertEquals(2, r.exit(), r.toString());
            assertTrue(r.oneErrorLine().contains(flags[0] + " cannot be given with --resume"), r.toString());
        }
    }

    @Test
    void aDamagedOrMissingCheckpointIsOneLineNamingTheFile() throws IOException {
        Path dir = tmp.resolve("run");
        Cli.run("train", "--epochs", 1, "--out", dir).ok();
        Path checkpoint = dir.resolve(Checkpoint.FILE_NAME);
        byte[] bytes = Files.readAllBytes(checkpoint);
        Files.write(checkpoint, Arrays.copyOf(bytes, bytes.length / 2));
        String line = Cli.run("train", "--resume", dir).oneErrorLine();
        assertTrue(line.startsWith("deltagrad: " + checkpoint + ": "), line);
        assertTrue(line.contains("truncated"), line);

        String missing = Cli.run("train", "--resume", tmp.resolve("nothing")).oneErrorLine();
        assertTrue(missing.contains(tmp.resolve("nothing").resolve(Checkpoint.FILE_NAME) + ": no such checkpoint"), missing);
        assertFalse(Files.exists(tmp.resolve("nothing")), "a failed resume creates nothing");
    }

    private static List<String> words(String[] first, Object... more) {
        List<String> all = new ArrayList<>(List.of(first));
        for (Object o : more) all.add(o.toString());
        return all;
    }

    /** {@code deltagrad ...} in a child JVM with the test's class path, its output collected as it comes. */
    private static final class Child {
        private final Process process;
        private final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Thread reader;

        private Child(Process process) {
            this.process = process;
            this.reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) lines.add(line);
                } catch (IOException e) {
                    // the process was killed
                }
            });
            reader.start();
        }

        static Child start(List<String> args) throws IOException {
            String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "-XX:+UseSerialGC", "-cp", classPath, Main.class.getName()));
            command.addAll(args);
            return new Child(new ProcessBuilder(command).redirectErrorStream(true).start());
        }

        long epochLines() {
            synchronized (lines) {
                return lines.stream().filter(l -> l.startsWith("epoch")).count();
            }
        }

        /**
         * SIGKILL at a random moment: either a random time after the start, or just after a random epoch's line (when
         * that epoch's checkpoint is being written) plus a few milliseconds. False if the run ended first.
         */
        boolean killAtRandomMoment(Random random) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            if (random.nextInt(3) == 0) {
                Thread.sleep(random.nextInt(1500));
            } else {
                long epoch = 1 + random.nextInt(EPOCHS);
                while (process.isAlive() && epochLines() < epoch && System.nanoTime() < deadline) Thread.sleep(0, 200_000);
                Thread.sleep(random.nextInt(4));
            }
            if (!process.isAlive()) return false;
            process.destroyForcibly();
            process.waitFor();
            reader.join();
            return true;
        }

        int waitFor() throws InterruptedException {
            if (!process.waitFor(120, TimeUnit.SECONDS)) process.destroyForcibly();
            reader.join();
            return process.exitValue();
        }

        String output() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }
    }
}
