package org.deltagrad.train;

import java.util.List;

/**
 * One epoch of training: what the report, the progress line and the plots show. {@code seconds} is the
 * training time (evaluation excluded), split into forward (with the loss), backward and optimiser step.
 */
public record EpochStats(int epoch, double trainLoss, double trainAccuracy, double testAccuracy, double seconds,
                         double learningRate, List<LayerDiagnostics> diagnostics,
                         double forwardSeconds, double backwardSeconds, double stepSeconds) {}
