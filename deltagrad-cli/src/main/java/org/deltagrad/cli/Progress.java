package org.deltagrad.cli;

import java.io.Console;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of one training epoch.
 *
 * <p>On a terminal: a single-line bar (epoch, bar, samples/s, loss, ETA) redrawn in place with
 * {@code \r}, at most ~10 times a second, replaced at the end by the epoch's summary line.
 * Otherwise (output piped or redirected to a log): nothing until the end of the epoch, then one
 * plain line, so logs contain no {@code \r} debris.
 *
 * <p>Written by hand rather than with me.tongfei:progressbar: that library pulls in jline and a
 * refresh thread, and still writes {@code \r} and ANSI colours when its output is redirected.
 */
public final class Progress {
    private static final long REDRAW_INTERVAL_NANOS = 100_000_000L;
    private static final double MIN_MEASURED_SECONDS = 0.2;
    private static final int BAR_WIDTH = 30;
    private static volatile boolean liveAllowed = true;

    private final int epoch;
    private final int epochs;
    private final long totalSamples;
    private final PrintWriter out;
    private final boolean live;
    private final LongSupplier nanoClock;
    private final long startNanos;

    private long samples;
    private double weightedLossSum;
    private double lastLoss = Double.NaN;
    private long lastDrawNanos;
    private int drawnWidth;
    private boolean closed;

    Progress(int epoch, int epochs, long totalSamples, PrintWriter out, boolean live, LongSupplier nanoClock) {
        if (epoch < 1 || epoch > epochs || totalSamples < 0) {
            throw new IllegalArgumentException("bad epoch " + epoch + "/" + epochs + " of " + totalSamples + " samples");
        }
        this.epoch = epoch;
        this.epochs = epochs;
        this.totalSamples = totalSamples;
        this.out = out;
        this.live = live;
        this.nanoClock = nanoClock;
        this.startNanos = nanoClock.getAsLong();
        this.lastDrawNanos = startNanos - REDRAW_INTERVAL_NANOS; // the first step draws at once
    }

    /** Progress of epoch {@code epoch} (1-based) of {@code epochs}; the plain line goes to stderr. */
    public static Progress forEpoch(int epoch, int epochs, long totalSamples) {
        return forEpoch(epoch, epochs, totalSamples, new PrintWriter(System.err, true));
    }

    /**
     * Like {@link #forEpoch(int, int, long)}, with the plain end-of-epoch line going to {@code log}
     * (a subcommand passes {@code spec.commandLine().getErr()}). The live bar always goes to the
     * terminal itself: {@code System.console()} being non-null means stdout is one, even when
     * stderr is redirected to a file that must stay clean.
     */
    public static Progress forEpoch(int epoch, int epochs, long totalSamples, PrintWriter log) {
        Console console = System.console();
        if (liveAllowed && console != null) {
            return new Progress(epoch, epochs, totalSamples, console.writer(), true, System::nanoTime);
        }
        return new Progress(epoch, epochs, totalSamples, log, false, System::nanoTime);
    }

    /** Turns the live bar off (or back on) for all later epochs, e.g. for a {@code --no-progress} flag. */
    public static void setLiveAllowed(boolean allowed) {
        liveAllowed = allowed;
    }

    /** Records that {@code samples} more samples were processed, with mean loss {@code loss} over them. */
    public void step(long samples, double loss) {
        this.samples += samples;
        this.weightedLossSum += loss * samples;
        this.lastLoss = loss;
        long now = nanoClock.getAsLong();
        if (live && !closed && (now - lastDrawNanos >= REDRAW_INTERVAL_NANOS || this.samples >= totalSamples)) {
            lastDrawNanos = now;
            draw(now);
        }
    }

    /**
     * Ends the epoch with one line: {@code epoch i/N  <summaryLine>  (time, samples/s)}. A null or
     * blank summary line shows the epoch's mean loss. Later calls do nothing.
     */
    public void close(String summaryLine) {
        if (closed) {
            return;
        }
        closed = true;
        if (drawnWidth > 0) {
            out.print("\r" + " ".repeat(drawnWidth) + "\r");
        }
        String summary = summaryLine == null || summaryLine.isBlank()
                ? "loss " + formatLoss(samples == 0 ? Double.NaN : weightedLossSum / samples)
                : summaryLine.strip();
        double seconds = (nanoClock.getAsLong() - startNanos) / 1e9;
        out.println(String.format(Locale.ROOT, "%s  %s  (%.1f s, %s samples/s)",
                epochLabel(), summary, seconds, formatRate(samples, seconds)));
        out.flush();
    }

    private void draw(long now) {
        double seconds = (now - startNanos) / 1e9;
        double done = totalSamples == 0 ? 1 : Math.min(1.0, (double) samples / totalSamples);
        int filled = (int) (done * BAR_WIDTH);
        String bar = "=".repeat(filled) + (filled < BAR_WIDTH ? ">" + " ".repeat(BAR_WIDTH - filled - 1) : "");
        // Rates measured over the first few milliseconds are noise; show them once they mean something.
        boolean measured = seconds >= MIN_MEASURED_SECONDS && samples > 0;
        String rate = measured ? formatRate(samples, seconds) : "-";
        String eta = measured ? formatDuration(seconds * (totalSamples - samples) / samples) : "?";
        String line = String.format(Locale.ROOT, "%s [%s] %3d%%  %s samples/s  loss %s  ETA %s",
                epochLabel(), bar, (int) (done * 100), rate, formatLoss(lastLoss), eta);
        // Pad with spaces to wipe what is left of a longer previous line.
        out.print("\r" + line + " ".repeat(Math.max(0, drawnWidth - line.length())));
        out.flush();
        drawnWidth = Math.max(drawnWidth, line.length());
    }

    private String epochLabel() {
        int digits = String.valueOf(epochs).length();
        return String.format(Locale.ROOT, "epoch %" + digits + "d/%d", epoch, epochs);
    }

    static String formatLoss(double loss) {
        if (Double.isNaN(loss) || Double.isInfinite(loss)) {
            return String.valueOf(loss);
        }
        double abs = Math.abs(loss);
        return String.format(Locale.ROOT, abs != 0 && (abs < 1e-3 || abs >= 1e5) ? "%.3e" : "%.4f", loss);
    }

    static String formatRate(long samples, double seconds) {
        if (seconds <= 0) {
            return "-";
        }
        double rate = samples / seconds;
        return String.format(Locale.ROOT, rate >= 100 ? "%.0f" : "%.1f", rate);
    }

    static String formatDuration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
