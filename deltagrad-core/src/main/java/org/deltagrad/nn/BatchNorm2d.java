package org.deltagrad.nn;

import org.deltagrad.DType;

/** torch.nn.BatchNorm2d: normalises [N, C, H, W] per channel, over N, H and W; see {@link BatchNorm}. */
public final class BatchNorm2d extends BatchNorm {
    /** float32, eps 1e-5, momentum 0.1, affine, tracking running statistics: PyTorch's defaults. */
    public BatchNorm2d(int channels) {
        this(channels, DEFAULT_EPS, DEFAULT_MOMENTUM, true, true);
    }

    /** float32; momentum null is PyTorch's momentum=None (a cumulative average). */
    public BatchNorm2d(int channels, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        this(channels, eps, momentum, affine, trackRunningStats, DType.FLOAT32);
    }

    public BatchNorm2d(int channels, double eps, Double momentum, boolean affine, boolean trackRunningStats, DType dtype) {
        super(channels, eps, momentum, affine, trackRunningStats, dtype);
    }

    @Override
    int[] ranks() {
        return new int[] {4};
    }

    @Override
    String expectedShape(int channels) {
        return "[N, " + channels + ", H, W]";
    }
}
