package org.deltagrad.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Entry point of the {@code deltagrad} command.
 *
 * <p>Subcommands are registered in the {@code subcommands} list below. A subcommand writes its
 * results to {@code spec.commandLine().getOut()} (not {@code System.out}) so that
 * {@link #run(String[], PrintStream, PrintStream)} can capture them, throws {@link UserException}
 * for user mistakes, and leaves error reporting to this class.
 *
 * <p>Error policy: every error is ONE line on stderr, {@code deltagrad: <message>}; exit status 2
 * for usage errors (unknown flag, bad value), 1 for failures while running; stack traces only with
 * {@code --debug}.
 */
@Command(name = "deltagrad", mixinStandardHelpOptions = true, version = "deltagrad 0.1.0",
        description = "Backpropagation over computational graphs: train, evaluate, predict, explain, bench.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, PredictCommand.class,
                org.deltagrad.cli.explain.ExplainCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    static final String DEBUG = "--debug";
    /** Held strongly: java.util.logging forgets levels set on loggers nobody references. */
    private static final java.util.logging.Logger LIBRARY_LOG = java.util.logging.Logger.getLogger("org.deltagrad");

    @Spec
    CommandSpec spec;

    // INHERIT: every subcommand accepts --debug too, so it may come before or after the subcommand name.
    @Option(names = DEBUG, scope = ScopeType.INHERIT,
            description = "Print full stack traces on errors.")
    boolean debug;

    public static void main(String[] args) {
        // No window system needed for charts; set before any AWT class loads.
        System.setProperty("java.awt.headless", "true");
        // Library log lines as one plain line each on stderr; INFO (e.g. which GEMM backend is active, which
        // train prints in its header anyway) only with --debug, so an error stays the only line on stderr.
        System.setProperty("java.util.logging.SimpleFormatter.format", "%5$s%n");
        LIBRARY_LOG.setLevel(Arrays.asList(args).contains(DEBUG) ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING);
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line in-process; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return execute(new CommandLine(new Main()), args, out, err);
    }

    /**
     * Runs {@code commandLine} (a {@code Main} root, possibly with extra subcommands added, as tests
     * do) with our output streams and error policy; returns the exit status.
     */
    public static int execute(CommandLine commandLine, String[] args, PrintStream out, PrintStream err) {
        PrintWriter outWriter = new PrintWriter(out, true);
        PrintWriter errWriter = new PrintWriter(err, true);
        // Set after all subcommands are added: picocli copies these settings down the tree only once.
        commandLine.setOut(outWriter);
        commandLine.setErr(errWriter);
        ErrorHandler handler = new ErrorHandler(errWriter, args);
        commandLine.setParameterExceptionHandler(handler);
        commandLine.setExecutionExceptionHandler(handler);
        try {
            return commandLine.execute(args);
        } catch (OutOfMemoryError e) {
            // Last resort: commands estimate what they need up front (Memory); this catches what they could not.
            if (Arrays.asList(args).contains(DEBUG)) e.printStackTrace(errWriter);
            errWriter.println("deltagrad: " + Memory.outOfMemory());
            return 1;
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    /** True when {@code --debug} was given (also when given after a subcommand name). */
    public boolean debug() {
        return debug;
    }

    @Override
    public void run() {
        // No subcommand given: show what there is to run.
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Turns picocli parse errors and exceptions from commands into one line on stderr. */
    private static final class ErrorHandler implements IParameterExceptionHandler, IExecutionExceptionHandler {
        private final PrintWriter err;
        private final List<String> args;

        ErrorHandler(PrintWriter err, String[] args) {
            this.err = err;
            this.args = Arrays.asList(args);
        }

        @Override
        public int handleParseException(ParameterException ex, String[] ignored) {
            // The parse failed, so there is no reliable parse result to ask; look at the raw words.
            boolean debug = args.contains(DEBUG);
            if (debug) {
                ex.printStackTrace(err);
            }
            CommandLine cmd = ex.getCommandLine();
            // Drop a final period: the hint follows on the same line.
            String message = oneLine(ex.getMessage()).replaceFirst("\\.$", "");
            if (ex instanceof UnmatchedArgumentException unmatched) {
                if (isUnknownCommand(cmd, unmatched)) {
                    message = "unknown command '" + unmatched.getUnmatched().get(0) + "'";
                }
                if (!unmatched.getSuggestions().isEmpty()) {
                    message += "; did you mean '" + String.join("' or '", unmatched.getSuggestions()) + "'?";
                }
            }
            err.println("deltagrad: " + message
                    + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
            err.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        }

        /** A stray word where only a subcommand name could go ("Unmatched argument" would puzzle users). */
        private static boolean isUnknownCommand(CommandLine cmd, UnmatchedArgumentException ex) {
            CommandSpec spec = cmd.getCommandSpec();
            return !spec.subcommands().isEmpty() && spec.positionalParameters().isEmpty()
                    && !ex.getUnmatched().isEmpty() && !ex.getUnmatched().get(0).startsWith("-");
        }

        @Override
        public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
            boolean debug = debugRequested(parseResult);
            if (debug) {
                ex.printStackTrace(err);
            }
            String hint = debug || isUserError(ex) ? "" : " (rerun with --debug for the stack trace)";
            err.println("deltagrad: " + describe(ex) + hint);
            err.flush();
            return cmd.getCommandSpec().exitCodeOnExecutionException();
        }

        private static boolean debugRequested(ParseResult parseResult) {
            for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
                if (p.hasMatchedOption(DEBUG)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Exceptions that mean "the user asked for something impossible", not "deltagrad is broken". */
    static boolean isUserError(Throwable ex) {
        return ex instanceof org.deltagrad.DeltagradException
                || ex instanceof java.io.IOException
                || ex instanceof UncheckedIOException
                || ex instanceof IllegalArgumentException;
    }

    /** A one-line message for the user; names the exception type only where the message alone is unclear. */
    static String describe(Throwable ex) {
        // Unwrap only a bare wrapper: a message of its own (naming the file, say) says more than the cause's.
        if (ex instanceof UncheckedIOException && ex.getCause() != null
                && (ex.getMessage() == null || ex.getMessage().equals(ex.getCause().toString()))) {
            ex = ex.getCause();
        }
        if (ex instanceof org.deltagrad.cli.explain.ExpressionParser.ExpressionException e) {
            // The one exception to one line: the expression with a caret under the offending character.
            String[] lines = e.getMessage().split("\n", -1);
            return "bad expression: " + e.reason() + "\n  " + lines[0] + "\n  " + lines[1];
        }
        String message = ex.getMessage() == null ? "" : oneLine(ex.getMessage());
        if (ex instanceof org.deltagrad.train.TrainingDivergedException e) {
            return e.message(TrainOptions::flag); // its hint names config fields; here they are flags
        }
        if (ex instanceof org.deltagrad.data.Datasets.DownloadFailed e) {
            return oneLine(e.messageNaming("--data-dir DIR"));
        }
        if (ex instanceof NoSuchFileException) {
            return "no such file: " + message;
        }
        if (ex instanceof AccessDeniedException) {
            return "permission denied: " + message;
        }
        if (ex instanceof FileAlreadyExistsException) {
            return "file already exists: " + message;
        }
        if (isUserError(ex) && !message.isEmpty()) {
            return message;
        }
        String type = ex.getClass().getSimpleName();
        return "internal error: " + (message.isEmpty() ? type : type + ": " + message);
    }

    private static String oneLine(String message) {
        return message.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
