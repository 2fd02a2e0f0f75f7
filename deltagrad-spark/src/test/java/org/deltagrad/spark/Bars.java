package org.deltagrad.spark;

import org.deltagrad.data.Datasets;

/** A small image set for convolutional models: 6×6 grey images of a bright row, column or diagonal on noise. */
final class Bars extends TrainingData {
    private static final long serialVersionUID = 1L;
    private final int size;

    Bars(int size) {
        this.size = size;
    }

    @Override
    protected Datasets.TrainTest load() {
        return new Datasets.TrainTest(Datasets.bars(size, 6, 1), Datasets.bars(60, 6, 2));
    }

    @Override
    public String key() {
        return "bars/" + size;
    }
}
