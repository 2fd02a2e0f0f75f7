package org.deltagrad;

import java.util.Locale;

/**
 * The NaN and infinite elements of a tensor, counted: what a loader or a training run reports when
 * weights are not numbers any more.
 *
 * @param nan      how many elements are NaN
 * @param infinite how many are +∞ or −∞
 * @param first    the flat (row-major) index of the first non-finite element, -1 if there is none
 */
public record NonFinite(long nan, long infinite, long first) {

    /** Counts the non-finite elements of {@code t}. */
    public static NonFinite of(Tensor t) {
        double[] values = t.toDoubleArray();
        long nan = 0, infinite = 0, first = -1;
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            if (Double.isFinite(v)) continue;
            if (Double.isNaN(v)) nan++;
            else infinite++;
            if (first < 0) first = i;
        }
        return new NonFinite(nan, infinite, first);
    }

    public boolean any() {
        return first >= 0;
    }

    /** E.g. "3 NaN and 2 infinite values (the first at flat index 17)". */
    @Override
    public String toString() {
        String counts = nan > 0 && infinite > 0 ? nan + " NaN and " + infinite + " infinite values"
                : nan > 0 ? nan + " NaN value" + (nan == 1 ? "" : "s") : infinite + " infinite value" + (infinite == 1 ? "" : "s");
        return String.format(Locale.ROOT, "%s (the first at flat index %d)", counts, first);
    }
}
