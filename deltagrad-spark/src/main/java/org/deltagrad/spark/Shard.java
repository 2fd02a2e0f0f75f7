package org.deltagrad.spark;

import java.io.Serializable;

import org.deltagrad.data.Dataset;

/** One partition's training rows: global rows [first, first + size), cached on its executor for the whole run. */
public final class Shard implements Serializable {
    private static final long serialVersionUID = 1L;
    final int partition;
    final int first;
    final int size;
    final int features;
    final float[] x;
    final int[] labels;

    Shard(int partition, int first, int size, int features, float[] x, int[] labels) {
        this.partition = partition;
        this.first = first;
        this.size = size;
        this.features = features;
        this.x = x;
        this.labels = labels;
    }

    /** Rows [first, first + size) of {@code train}. */
    static Shard of(int partition, Dataset train, int first, int size) {
        int[] rows = new int[size];
        for (int i = 0; i < size; i++) rows[i] = first + i;
        return new Shard(partition, first, size, train.numFeatures(), train.features(rows).toFloatArray(), train.labels(rows));
    }

    /** The first row of partition p of k over n rows: contiguous ranges, as Spark's own slicing of a range. */
    static int start(int p, int k, int n) {
        return (int) ((long) p * n / k);
    }

    boolean holds(int row) {
        return row >= first && row < first + size;
    }
}
