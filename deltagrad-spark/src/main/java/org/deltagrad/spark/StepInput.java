package org.deltagrad.spark;

import java.io.Serializable;

/** What the driver broadcasts each step: the weights (flat, in {@code namedParameters()} order) and the batch's rows. */
public final class StepInput implements Serializable {
    private static final long serialVersionUID = 1L;
    final float[][] weights;
    /** Global row indices in the order the single-machine loader gives them. */
    final int[] batchRows;
    /** A running step number (from 0), for fault injection in tests and for error messages. */
    final long step;

    StepInput(float[][] weights, int[] batchRows, long step) {
        this.weights = weights;
        this.batchRows = batchRows;
        this.step = step;
    }
}
