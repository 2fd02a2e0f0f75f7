package org.deltagrad.spark;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.deltagrad.data.Datasets;

/**
 * Where the training data comes from, shipped to the executors instead of the data itself: each executor loads it
 * (from a path every executor can read) and keeps its partitions' rows, so a lost partition is rebuilt from source.
 */
public abstract class TrainingData implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The loaded sets of this JVM, by {@link #key()}: partitions of one executor share one load. */
    private static final Map<String, Datasets.TrainTest> LOADED = new ConcurrentHashMap<>();

    /** Loads the data; called once per JVM (driver and each executor) for a given {@link #key()}. */
    protected abstract Datasets.TrainTest load();

    /** Names the data: two sources with the same key give the same rows. */
    public abstract String key();

    /** The data, loaded on first use in this JVM. */
    public final Datasets.TrainTest get() {
        return LOADED.computeIfAbsent(key(), k -> load());
    }

    /** Forgets this JVM's copy (the driver calls it when training ends). */
    public final void release() {
        LOADED.remove(key());
    }

    /** A built-in set by name ({@code Datasets.load}), from {@code dataDir} (null: the default cache). */
    public static TrainingData named(String name, Path dataDir) {
        return new Named(name, dataDir == null ? null : dataDir.toString());
    }

    static final class Named extends TrainingData {
        private static final long serialVersionUID = 1L;
        private final String name;
        private final String dataDir;

        Named(String name, String dataDir) {
            this.name = name;
            this.dataDir = dataDir;
        }

        @Override
        protected Datasets.TrainTest load() {
            return Datasets.load(name, dataDir == null ? null : Path.of(dataDir));
        }

        @Override
        public String key() {
            return name + "@" + dataDir;
        }
    }
}
