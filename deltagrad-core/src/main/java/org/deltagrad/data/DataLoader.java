package org.deltagrad.data;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Cuts a {@link Dataset} into mini-batches. With shuffling, epoch e's order is a fixed function of
 * (seed, e), so a run can be repeated exactly, or resumed at any epoch.
 *
 * <p>{@code for (Batch b : loader)} runs the next epoch: the k-th iteration over the loader uses
 * epoch k (counting from 0), so a plain loop over epochs reshuffles each time.
 */
public final class DataLoader implements Iterable<Batch> {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final AtomicInteger nextEpoch = new AtomicInteger();

    /** Batches in dataset order, keeping a final partial batch. */
    public DataLoader(Dataset dataset, int batchSize) {
        this(dataset, batchSize, false, 0, false);
    }

    private DataLoader(Dataset dataset, int batchSize, boolean shuffle, long seed, boolean dropLast) {
        if (batchSize < 1) throw new IllegalArgumentException("DataLoader: batch size must be at least 1, got " + batchSize);
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.dropLast = dropLast;
    }

    /** A loader like this one that visits rows in a seeded random order, different each epoch. */
    public DataLoader shuffled(long seed) {
        return new DataLoader(dataset, batchSize, true, seed, dropLast);
    }

    /** A loader like this one that drops (true) or keeps (false) a final batch smaller than the batch size. */
    public DataLoader dropLast(boolean drop) {
        return new DataLoader(dataset, batchSize, shuffle, seed, drop);
    }

    public Dataset dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    public int batchesPerEpoch() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The row order of epoch {@code epoch}: dataset order without shuffling. */
    public int[] order(int epoch) {
        if (epoch < 0) throw new IllegalArgumentException("DataLoader: epoch must be non-negative, got " + epoch);
        if (!shuffle) {
            int[] rows = new int[dataset.size()];
            Arrays.setAll(rows, i -> i);
            return rows;
        }
        return Rng.forStream(seed, epoch).permutation(dataset.size());
    }

    /** The dataset rows of batch {@code k} of an epoch visited in {@code order} (see {@link #order}). */
    public int[] batchRows(int[] order, int k) {
        int from = k * batchSize;
        return Arrays.copyOfRange(order, from, Math.min(from + batchSize, order.length));
    }

    /** The batches of epoch {@code epoch}; iterating it again gives the same batches. */
    public Iterable<Batch> epoch(int epoch) {
        int[] order = order(epoch);
        return () -> new Batches(order) {
            @Override
            public Batch next() {
                int[] rows = rows(advance());
                return new Batch(dataset.features(rows), dataset.labels(rows), rows);
            }
        };
    }

    /** Counts through one epoch's batches; subclasses make batch k from its rows. */
    private abstract class Batches implements Iterator<Batch> {
        private final int[] order;
        private final int batches = batchesPerEpoch();
        private int next;

        Batches(int[] order) {
            this.order = order;
        }

        @Override
        public boolean hasNext() {
            return next < batches;
        }

        /** The number of the batch to return now. */
        int advance() {
            if (!hasNext()) throw new NoSuchElementException();
            return next++;
        }

        int[] rows(int k) {
            return batchRows(order, k);
        }
    }

    /** The batches of the next epoch (0 on the first call, then 1, 2, ...). */
    @Override
    public Iterator<Batch> iterator() {
        return epoch(nextEpoch.getAndIncrement()).iterator();
    }
}
