package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.deltagrad.autograd.Autograd;
import org.junit.jupiter.api.Test;

/**
 * The fused updates' entry point: operands at different offsets (views) are worked on in copies and written back,
 * giving the same bits as operands at offset 0; a non-contiguous gradient is read correctly; bad operands are
 * refused with a message naming the update. (The update rules themselves are checked in OptimizerTest.)
 */
class FusedOptimizersTest {
    private static final int N = 40_000; // large enough to be split over the pool

    /** Runs both fused updates twice on (param, grad, state...) and returns nothing: the tensors are updated. */
    private static void update(Tensor p, Tensor g, Tensor s1, Tensor s2, Tensor s3) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int t = 1; t <= 2; t++) {
                FusedOptimizers.sgdMomentum(p, g, s1, 0.1, 1e-3, 0.9, 0, true, t == 1);
                FusedOptimizers.adam(p, g, s2, s3, 0.01, 0.9, 0.999, 1e-8, 0.01, t == 2, t);
            }
        }
    }

    @Test
    void viewsAtOtherOffsetsGiveTheSameBitsAsTensorsAtOffsetZeroAndAreWrittenBack() {
        int[] offsets = {7, 0, 3, 5, 0}; // param, grad, velocity, m, v
        for (DType dt : DType.values()) {
            SplittableRandom rng = new SplittableRandom(1);
            Tensor[] bases = new Tensor[5], views = new Tensor[5], plain = new Tensor[5];
            for (int k = 0; k < 5; k++) {
                bases[k] = k == 4 ? Tensor.rand(dt, rng, N + 9) : Tensor.randn(dt, rng, N + 9); // v is never negative
                views[k] = bases[k].narrow(0, offsets[k], N);
                plain[k] = Tensor.of(bases[k].toDoubleArray(), N + 9).narrow(0, offsets[k], N).copy().to(dt);
            }
            double[] before = bases[0].toDoubleArray();
            update(views[0], views[1], views[2], views[3], views[4]);
            update(plain[0], plain[1], plain[2], plain[3], plain[4]);
            for (int k = 0; k < 5; k++) {
                assertArrayEquals(plain[k].toDoubleArray(), views[k].toDoubleArray(), 0, dt + ": operand " + k);
            }
            assertTrue(java.util.Arrays.stream(plain[0].toDoubleArray()).allMatch(Double::isFinite));
            double[] after = bases[0].toDoubleArray();
            assertEquals(before[6], after[6], 0, "outside the view: untouched");
            assertEquals(before[N + 7], after[N + 7], 0, "outside the view: untouched");
            assertTrue(after[7] != before[7], "the parameter was updated");
        }
    }

    @Test
    void aNonContiguousGradientIsReadInRowMajorOrder() {
        for (DType dt : DType.values()) {
            SplittableRandom rng = new SplittableRandom(2);
            Tensor gt = Tensor.randn(dt, rng, 300, 200), g = gt.t(); // [200, 300], not contiguous
            Tensor p1 = Tensor.randn(dt, rng, 200, 300), p2 = p1.copy();
            Tensor[] state1 = {Tensor.zeros(dt, 200, 300), Tensor.zeros(dt, 200, 300), Tensor.zeros(dt, 200, 300)};
            Tensor[] state2 = {Tensor.zeros(dt, 200, 300), Tensor.zeros(dt, 200, 300), Tensor.zeros(dt, 200, 300)};
            update(p1, g, state1[0], state1[1], state1[2]);
            update(p2, g.copy(), state2[0], state2[1], state2[2]);
            assertArrayEquals(p2.toDoubleArray(), p1.toDoubleArray(), 0, dt.toString());
        }
    }

    @Test
    void badOperandsAreRefusedNamingTheUpdate() {
        Tensor p = Tensor.zeros(4), g = Tensor.ones(4);
        try (Autograd.Scope s = Autograd.noGrad()) {
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> FusedOptimizers.sgdMomentum(p, g, Tensor.zeros(5), 0.1, 0, 0.9, 0, false, true));
            assertTrue(shape.getMessage().startsWith("sgdMomentum: operand 1 ([5], FLOAT32)"), shape.getMessage());
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> FusedOptimizers.adam(p, g.to(DType.FLOAT64), Tensor.zeros(4), Tensor.zeros(4), 0.1, 0.9, 0.999, 1e-8, 0, false, 1));
            assertTrue(dtype.getMessage().startsWith("adam: operand 3"), dtype.getMessage());
            IllegalArgumentException strided = assertThrows(IllegalArgumentException.class,
                    () -> FusedOptimizers.sgdMomentum(p.reshape(2, 2), g.reshape(2, 2), Tensor.zeros(2, 2).t(), 0.1, 0, 0.9, 0, false, true));
            assertTrue(strided.getMessage().contains("not contiguous"), strided.getMessage());
            Tensor m = Tensor.zeros(4);
            IllegalArgumentException shared = assertThrows(IllegalArgumentException.class,
                    () -> FusedOptimizers.adam(p, g, m, m, 0.1, 0.9, 0.999, 1e-8, 0, false, 1));
            assertTrue(shared.getMessage().startsWith("adam: operands 1 and 2 share memory"), shared.getMessage());
        }
        Tensor leaf = Tensor.zeros(4).requiresGrad(true);
        IllegalStateException inGraph = assertThrows(IllegalStateException.class,
                () -> FusedOptimizers.sgdMomentum(leaf, g, Tensor.zeros(4), 0.1, 0, 0.9, 0, false, true));
        assertTrue(inGraph.getMessage().startsWith("sgdMomentum: in-place write"), inGraph.getMessage());
    }
}
