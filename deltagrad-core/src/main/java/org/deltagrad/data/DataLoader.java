package org.deltagrad.data;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;

import org.deltagrad.Arena;
import org.deltagrad.Tensor;
import org.deltagrad.kernels.Parallel;

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

    /**
     * The batches of epoch {@code epoch}, like {@link #epoch}, each gathered while the previous one trains: the
     * rows of batch i+1 are copied by the worker pool's idle threads (between its other jobs) during step i, so
     * that the training thread does not wait for scattered rows. The feature tensors are two buffers per batch
     * size, used in turn: a batch's {@code x} holds its rows until the next call of {@code next()} (which starts
     * gathering the batch after that into the same buffer), which suits a loop that is done with each batch within
     * its step (the {@code Trainer}'s). Same batches, same bits.
     */
    public Iterable<Batch> prefetched(int epoch) {
        return prefetched(epoch, new PrefetchBuffers());
    }

    /**
     * {@link #prefetched(int)} into buffers that the caller keeps from one epoch to the next, so that a training
     * loop allocates them once instead of once an epoch (the Trainer does this). Iterate one such epoch at a time:
     * two iterators over the same buffers would overwrite each other's batches.
     */
    public Iterable<Batch> prefetched(int epoch, PrefetchBuffers buffers) {
        int[] order = order(epoch);
        int d = dataset.numFeatures();
        return () -> new Batches(order) {
            private Batch pending;
            private Parallel.Background gathering;

            @Override
            public Batch next() {
                int k = advance();
                if (pending == null) start(k);
                gathering.join();
                Batch b = pending;
                pending = null;
                if (hasNext()) start(k + 1);
                return b;
            }

            private void start(int k) {
                int[] rows = rows(k);
                int[] labels = dataset.labels(rows); // checks the rows, here on the calling thread
                Tensor x = buffers.pair(rows.length, d)[k % 2];
                // About 8 KB a piece (two Fashion-MNIST rows), so that a worker is never long away from the pool: a product
                // posted while it gathers waits for the piece. With 32 KB pieces the worker started its half of a
                // batch-64 product 5 µs after the caller on average, with 8 KB 1.3 µs (instrumented pool).
                int pieceRows = Math.max(1, 2048 / d);
                int pieces = (rows.length + pieceRows - 1) / pieceRows;
                gathering = Parallel.background(pieces,
                        i -> dataset.featuresInto(rows, i * pieceRows, Math.min(rows.length, (i + 1) * pieceRows), x));
                pending = new Batch(x, labels, rows);
            }
        };
    }

    /** The feature buffers of {@link #prefetched(int, PrefetchBuffers)}: two per batch shape, made on first use. */
    public static final class PrefetchBuffers {
        private final Map<Long, Tensor[]> pairs = new HashMap<>();

        Tensor[] pair(int rows, int features) {
            return pairs.computeIfAbsent((long) rows << 32 | features,
                    key -> Arena.outside(() -> new Tensor[] {Tensor.zeros(rows, features), Tensor.zeros(rows, features)}));
        }
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
            int from = k * batchSize;
            return Arrays.copyOfRange(order, from, Math.min(from + batchSize, order.length));
        }
    }

    /** The batches of the next epoch (0 on the first call, then 1, 2, ...). */
    @Override
    public Iterator<Batch> iterator() {
        return epoch(nextEpoch.getAndIncrement()).iterator();
    }
}
