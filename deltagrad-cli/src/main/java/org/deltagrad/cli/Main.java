package org.deltagrad.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code deltagrad} command. */
@Command(name = "deltagrad", mixinStandardHelpOptions = true, version = "deltagrad 0.1.0",
        description = "Backpropagation over computational graphs: train, evaluate, predict, explain, bench.")
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
