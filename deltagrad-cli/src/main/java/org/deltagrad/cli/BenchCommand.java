package org.deltagrad.cli;

import org.deltagrad.cli.bench.FdVsBackpropCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code deltagrad bench}: measurements, never timed unit tests. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: fd-vs-backprop (why backprop), train (epoch time, GFLOP/s, forward/backward split).",
        subcommands = {org.deltagrad.cli.bench.BenchTrainCommand.class, FdVsBackpropCommand.class})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
