package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
    /** A clock that advances 10 ms on each reading. */
    private static final class FakeClock implements java.util.function.LongSupplier {
        long nanos;

        @Override
        public long getAsLong() {
            return nanos += 10_000_000L;
        }
    }

    private static void runEpochs(PrintWriter out, boolean live, int epochs) {
        for (int epoch = 1; epoch <= epochs; epoch++) {
            Progress p = new Progress(epoch, epochs, 1000, out, live, new FakeClock());
            for (int batch = 0; batch < 100; batch++) {
                p.step(10, 1.0 / (batch + 1));
            }
            p.close(epoch == 2 ? null : "loss 0.1234  accuracy 0.9500");
        }
    }

    @Test
    void plainModeWritesExactlyOneLinePerEpoch() {
        StringWriter text = new StringWriter();
        runEpochs(new PrintWriter(text), false, 3);
        List<String> lines = text.toString().lines().toList();
        assertEquals(3, lines.size(), text.toString());
        assertFalse(text.toString().contains("\r"));
        assertTrue(lines.get(0).startsWith("epoch 1/3  loss 0.1234  accuracy 0.9500  ("), lines.get(0));
        assertTrue(lines.get(0).endsWith("samples/s)"), lines.get(0));
        // No summary given: the epoch's sample-weighted mean loss.
        assertTrue(lines.get(1).startsWith("epoch 2/3  loss 0.0519  ("), lines.get(1));
    }

    @Test
    void liveModeRedrawsInPlaceAtMostTenTimesASecond() {
        StringWriter text = new StringWriter();
        runEpochs(new PrintWriter(text), true, 1);
        String s = text.toString();
        // 100 steps 10 ms apart = 1 s: about 10 redraws, plus the final one at 100 %.
        long redraws = s.chars().filter(c -> c == '\r').count() - 2; // minus the two of the final wipe
        assertTrue(redraws >= 9 && redraws <= 12, "redraws: " + redraws);
        assertTrue(s.contains("[==============================] 100%"), s);
        assertTrue(s.contains("ETA"), s);
        assertEquals(1, s.chars().filter(c -> c == '\n').count());
        String lastLine = s.substring(s.lastIndexOf('\r') + 1);
        assertTrue(lastLine.startsWith("epoch 1/1  loss 0.1234"), lastLine);
    }

    @Test
    void withoutATerminalTheFactoryGivesThePlainLine() {
        // Tests run without a console, as in a CI log.
        StringWriter text = new StringWriter();
        Progress p = Progress.forEpoch(1, 1, 4, new PrintWriter(text));
        p.step(2, 1.0);
        p.step(2, 0.5);
        assertEquals("", text.toString());
        p.close(null);
        p.close("ignored: already closed");
        assertTrue(text.toString().matches("epoch 1/1  loss 0\\.7500  \\(\\d+\\.\\d s, \\S+ samples/s\\)\n"),
                text.toString());
    }

    @Test
    void formats() {
        assertEquals("0:05", Progress.formatDuration(4.6));
        assertEquals("1:01:01", Progress.formatDuration(3661));
        assertEquals("1.235e-04", Progress.formatLoss(1.2345e-4));
        assertEquals("0.5000", Progress.formatLoss(0.5));
        assertEquals("NaN", Progress.formatLoss(Double.NaN));
        assertEquals("250", Progress.formatRate(500, 2));
    }
}
