package org.deltagrad.data;

import org.deltagrad.Tensor;

/**
 * One mini-batch: features {@code x} as float32 [b, d], the b labels, and the dataset rows they
 * came from (for looking examples up again, e.g. to show misclassified images).
 */
public record Batch(Tensor x, int[] labels, int[] indices) {
    public int size() {
        return labels.length;
    }
}
