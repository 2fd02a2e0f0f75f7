package org.deltagrad.train.step;

import org.deltagrad.data.Batch;

/** A batch whose features are a [rows × features] row-major array: {@code batch.x()} is a tensor over the same array. */
public record StepBatch(float[] features, Batch batch) {
    public int rows() {
        return batch.size();
    }

    public int[] labels() {
        return batch.labels();
    }
}
