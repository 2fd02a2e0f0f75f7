package org.deltagrad.train.step;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;

import org.deltagrad.Tensor;
import org.deltagrad.data.Batch;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.kernels.Parallel;

/**
 * A loader's batches, each gathered while the previous one trains: the rows of batch i+1 are copied by the worker
 * pool's idle threads (between its other jobs) during step i, so that the training thread does not wait for
 * scattered rows. The features go into two buffers per batch size, made once and used in turn for every epoch: a
 * batch holds its rows until the next call of {@code next()}, which starts gathering the batch after it into the
 * other buffer, so a loop must be done with each batch within its step. Same batches, same bits as
 * {@link DataLoader#epoch}. Iterate one epoch at a time.
 */
public final class Prefetcher {
    /** One batch buffer and a tensor over it. */
    private record Buffer(float[] x, Tensor tensor) {}

    private final DataLoader loader;
    private final Map<Integer, Buffer[]> pairs = new HashMap<>();

    public Prefetcher(DataLoader loader) {
        this.loader = loader;
    }

    /** The batches of epoch {@code epoch} (counted from 0), as {@link DataLoader#epoch} cuts them. */
    public Iterator<StepBatch> epoch(int epoch) {
        int[] order = loader.order(epoch);
        int batches = loader.batchesPerEpoch();
        Dataset dataset = loader.dataset();
        int d = dataset.numFeatures();
        return new Iterator<>() {
            private int next;
            private StepBatch pending;
            private Parallel.Background gathering;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public StepBatch next() {
                if (!hasNext()) throw new NoSuchElementException();
                int k = next++;
                if (pending == null) start(k);
                gathering.join();
                StepBatch b = pending;
                pending = null;
                if (hasNext()) start(k + 1);
                return b;
            }

            private void start(int k) {
                int[] rows = loader.batchRows(order, k);
                int[] labels = dataset.labels(rows); // checks the rows, here on the calling thread
                Buffer buffer = pair(rows.length, d)[k % 2];
                // About 8 KB a piece (two Fashion-MNIST rows), so that a worker is never long away from the pool: a
                // product posted while it gathers waits for the piece (docs/PERFORMANCE.md).
                int pieceRows = Math.max(1, 2048 / d);
                int pieces = (rows.length + pieceRows - 1) / pieceRows;
                gathering = Parallel.background(pieces, i -> dataset.featuresInto(rows, i * pieceRows,
                        Math.min(rows.length, (i + 1) * pieceRows), buffer.x()));
                pending = new StepBatch(buffer.x(), new Batch(buffer.tensor(), labels, rows));
            }
        };
    }

    private Buffer[] pair(int rows, int features) {
        return pairs.computeIfAbsent(rows, r -> new Buffer[] {buffer(r, features), buffer(r, features)});
    }

    private static Buffer buffer(int rows, int features) {
        float[] x = new float[Math.multiplyExact(rows, features)];
        return new Buffer(x, Tensor.of(x, rows, features));
    }
}
