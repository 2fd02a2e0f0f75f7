package org.deltagrad.spark;

import org.deltagrad.data.Datasets;

/** A small built-in set for the tests: three interleaved spirals, generated the same way in every JVM. */
final class Spirals extends TrainingData {
    private static final long serialVersionUID = 1L;
    private final int perClass;

    Spirals(int perClass) {
        this.perClass = perClass;
    }

    @Override
    protected Datasets.TrainTest load() {
        return new Datasets.TrainTest(Datasets.spirals(3, perClass, 0.05, 1), Datasets.spirals(3, 50, 0.05, 2));
    }

    @Override
    public String key() {
        return "spirals/" + perClass;
    }
}
