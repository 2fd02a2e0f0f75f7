package org.deltagrad.train;

/**
 * How fast one layer can learn, measured on a held-out batch: the mean |δˡ| = |∂C/∂zˡ| (BP1/BP2), the norms of
 * ∂C/∂wˡ and ∂C/∂bˡ (BP4/BP3), and the fraction of units whose activation derivative is below 0.01 —
 * saturated sigmoid/tanh units (or inactive ReLUs), which learn slowly or not at all.
 */
public record LayerDiagnostics(int layer, double meanAbsDelta, double weightGradNorm, double biasGradNorm,
                               double saturatedFraction) {}
