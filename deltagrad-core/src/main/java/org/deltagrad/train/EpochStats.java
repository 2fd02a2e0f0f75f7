package org.deltagrad.train;

import java.util.List;

/** One epoch of training: what the report, the progress line and the plots show. */
public record EpochStats(int epoch, double trainLoss, double trainAccuracy, double testAccuracy, double seconds,
                         double learningRate, List<LayerDiagnostics> diagnostics) {}
