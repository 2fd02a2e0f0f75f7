package org.deltagrad.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.deltagrad.io.ModelFile;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.Sequential;

/** The one place this module writes a model: the same file {@code deltagrad train} writes. */
final class ModelFiles {
    private ModelFiles() {}

    static void save(Path weights, Architecture spec, Sequential model, Map<String, Object> training) throws IOException {
        ModelFile.save(weights, spec, model, training);
    }
}
