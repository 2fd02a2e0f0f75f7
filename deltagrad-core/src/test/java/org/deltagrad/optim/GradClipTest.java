package org.deltagrad.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

class GradClipTest {

    static Tensor withGrad(double[] grad) {
        Tensor p = Tensor.of(new double[grad.length], grad.length).requiresGrad(true);
        p.setGrad(Tensor.of(grad.clone(), grad.length));
        return p;
    }

    @Test
    void scalesAllGradientsByTheGlobalNorm() {
        Tensor a = withGrad(new double[] {3, 4}), b = withGrad(new double[] {12}), none = Tensor.ones(2).requiresGrad(true);
        double norm = GradClip.clipGradNorm(List.of(a, b, none), 1); // √(9 + 16 + 144) = 13
        assertEquals(13, norm, 1e-12);
        double c = 1 / (13 + 1e-6);
        assertArrayEquals(new double[] {3 * c, 4 * c}, a.grad().toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {12 * c}, b.grad().toDoubleArray(), 1e-15);
    }

    @Test
    void leavesSmallGradientsAlone() {
        Tensor a = withGrad(new double[] {3, 4});
        assertEquals(5, GradClip.clipGradNorm(List.of(a), 10), 1e-12);
        assertArrayEquals(new double[] {3, 4}, a.grad().toDoubleArray(), 0);
    }
}
