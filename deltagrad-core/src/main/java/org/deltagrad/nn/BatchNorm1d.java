package org.deltagrad.nn;

import org.deltagrad.DType;

/** torch.nn.BatchNorm1d: normalises [N, F] per feature, or [N, C, L] per channel (over N and L); see {@link BatchNorm}. */
public final class BatchNorm1d extends BatchNorm {
    /** float32, eps 1e-5, momentum 0.1, affine, tracking running statistics: PyTorch's defaults. */
    public BatchNorm1d(int features) {
        this(features, DEFAULT_EPS, DEFAULT_MOMENTUM, true, true);
    }

    /** float32; momentum null is PyTorch's momentum=None (a cumulative average). */
    public BatchNorm1d(int features, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        this(features, eps, momentum, affine, trackRunningStats, DType.FLOAT32);
    }

    public BatchNorm1d(int features, double eps, Double momentum, boolean affine, boolean trackRunningStats, DType dtype) {
        super(features, eps, momentum, affine, trackRunningStats, dtype);
    }

    @Override
    int[] ranks() {
        return new int[] {2, 3};
    }

    @Override
    String expectedShape(int features) {
        return "[N, " + features + "] or [N, " + features + ", L]";
    }
}
