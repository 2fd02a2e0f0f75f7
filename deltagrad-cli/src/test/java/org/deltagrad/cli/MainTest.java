package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

class MainTest {
    /** Test-only subcommand that fails in the ways real subcommands can. */
    @Command(name = "boom", description = "Fails on purpose.")
    static final class Boom implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Option(names = "--kind", required = true)
        String kind;

        @Option(names = "--count")
        int count;

        @Override
        public Integer call() throws Exception {
            switch (kind) {
                case "user" -> throw new UserException("column 'label' not found in data.csv");
                case "file" -> Files.readAllBytes(Path.of("/no/such/dir/data.csv"));
                case "bug" -> throw new IllegalStateException("graph\nhas a cycle");
                case "npe" -> throw new NullPointerException();
                case "oom" -> throw new OutOfMemoryError("Java heap space");
                case "diverged" -> throw new org.deltagrad.train.TrainingDivergedException(
                        "diverged at epoch 2; try a lower {lr} or {clipNorm=1}, not {noSuchField=3}");
                case "debugflag" -> main.spec.commandLine().getOut().println("debug=" + main.debug());
                default -> main.spec.commandLine().getOut().println("ok");
            }
            return 0;
        }
    }

    record Result(int exit, String out, String err) {
        long errLines() {
            return err.lines().count();
        }
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand(new Boom());
        int exit = Main.execute(cl, args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void assertOneErrorLine(Result r, int exit) {
        assertEquals(exit, r.exit(), r.err());
        assertEquals(1, r.errLines(), r.err());
        assertTrue(r.err().startsWith("deltagrad: "), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --debug: " + r.err());
    }

    @Test
    void outOfMemoryIsOneLineNamingTheHeapLimitAndATraceOnlyWithDebug() {
        Result r = run("boom", "--kind", "oom");
        assertOneErrorLine(r, 1);
        assertTrue(r.err().contains("out of memory") && r.err().contains("Runtime.maxMemory") && r.err().contains("-Xmx"), r.err());
        Result debug = run("boom", "--kind", "oom", "--debug");
        assertEquals(1, debug.exit());
        assertTrue(debug.err().contains("\tat ") && debug.err().contains("OutOfMemoryError"), debug.err());
    }

    @Test
    void aDivergedRunsHintNamesFlagsNotConfigFields() {
        Result r = run("boom", "--kind", "diverged");
        assertOneErrorLine(r, 1);
        assertEquals("deltagrad: diverged at epoch 2; try a lower --lr or --clip-norm 1, not noSuchField = 3\n", r.err());
    }

    @Test
    void noArgumentsPrintsUsage() {
        Result r = run();
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("Usage: deltagrad"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void realRunWithoutSubcommandsPrintsUsageAndHelpWorks() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = Main.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        assertEquals(0, exit);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--debug"));
    }

    @Test
    void unknownFlagIsOneLineAndExit2() {
        Result r = run("--frobnicate");
        assertOneErrorLine(r, 2);
        assertTrue(r.err().contains("--frobnicate"), r.err());
        assertTrue(r.err().contains("(see 'deltagrad --help')"), r.err());
    }

    @Test
    void unknownFlagOnSubcommandPointsToItsHelp() {
        Result r = run("boom", "--kind", "x", "--nope");
        assertOneErrorLine(r, 2);
        assertTrue(r.err().contains("(see 'deltagrad boom --help')"), r.err());
    }

    @Test
    void unknownSubcommandIsOneLineAndExit2() {
        Result r = run("trian");
        assertOneErrorLine(r, 2);
        assertTrue(r.err().startsWith("deltagrad: unknown command 'trian'"), r.err());
        Result typo = run("bom");
        assertOneErrorLine(typo, 2);
        assertTrue(typo.err().contains("did you mean 'boom'?"), typo.err());
    }

    @Test
    void helpForUnknownSubcommandIsOneLine() {
        Result r = run("help", "nosuch");
        assertOneErrorLine(r, 2);
        assertEquals("deltagrad: Unknown subcommand 'nosuch' (see 'deltagrad --help')", r.err().strip());
    }

    @Test
    void badValueAndMissingOptionAreUsageErrors() {
        assertOneErrorLine(run("boom", "--kind", "x", "--count", "many"), 2);
        assertOneErrorLine(run("boom"), 2);
    }

    @Test
    void userExceptionIsOneLineExit1WithoutHint() {
        Result r = run("boom", "--kind", "user");
        assertOneErrorLine(r, 1);
        assertEquals("deltagrad: column 'label' not found in data.csv", r.err().strip());
    }

    @Test
    void missingFileIsOneLine() {
        Result r = run("boom", "--kind", "file");
        assertOneErrorLine(r, 1);
        assertEquals("deltagrad: no such file: /no/such/dir/data.csv", r.err().strip());
    }

    @Test
    void unexpectedExceptionIsOneLineNamingTheType() {
        Result r = run("boom", "--kind", "bug");
        assertOneErrorLine(r, 1);
        assertTrue(r.err().contains("internal error: IllegalStateException: graph has a cycle"), r.err());
        assertTrue(r.err().contains("--debug"), r.err());
        assertOneErrorLine(run("boom", "--kind", "npe"), 1);
    }

    @Test
    void debugShowsStackTraceBeforeOrAfterSubcommand() {
        for (String[] args : new String[][] {
                {"--debug", "boom", "--kind", "bug"}, {"boom", "--kind", "bug", "--debug"}}) {
            Result r = run(args);
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("\tat "), r.err());
            assertTrue(r.err().contains("java.lang.IllegalStateException"), r.err());
            assertTrue(r.err().lines().reduce((a, b) -> b).orElseThrow().startsWith("deltagrad: "), r.err());
        }
        Result parse = run("--debug", "--frobnicate");
        assertEquals(2, parse.exit());
        assertTrue(parse.err().contains("\tat "), parse.err());
    }

    @Test
    void debugFlagReachesTheRootCommand() {
        assertEquals("debug=true", run("boom", "--kind", "debugflag", "--debug").out().strip());
        assertEquals("debug=true", run("--debug", "boom", "--kind", "debugflag").out().strip());
        assertEquals("debug=false", run("boom", "--kind", "debugflag").out().strip());
    }

    @Test
    void subcommandOutputIsCaptured() {
        Result r = run("boom", "--kind", "fine");
        assertEquals(0, r.exit());
        assertEquals("ok", r.out().strip());
        assertEquals("", r.err());
    }
}
