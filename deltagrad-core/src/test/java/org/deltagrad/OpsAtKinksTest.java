package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Function;

import org.deltagrad.autograd.Autograd;

import org.junit.jupiter.api.Test;

/**
 * Gradients where the formulas have kinks or singularities (ties, zeros), with exact expected values taken from
 * PyTorch's rules in tools/autograd/derivatives.yaml and torch/csrc/autograd/FunctionsManual.cpp.
 */
class OpsAtKinksTest {

    /** The gradient of f(x).sum() with respect to x. */
    static double[] grad(double[] x, int[] shape, Function<Tensor, Tensor> f) {
        Tensor t = Tensor.of(x, shape).requiresGrad(true);
        f.apply(t).sum().backward();
        return t.grad().toDoubleArray();
    }

    // PyTorch: amax/amin(dim) use scale_grad_by_count (k tied extremes each get grad/k), and whole max()/min()
    // use evenly_distribute_backward (the same split over all elements).
    @Test
    void maxAndMinAlongAnAxisSplitTiesEvenly() {
        double[] x = {1, 3, 3, 2, 2, 2};
        double third = 1.0 / 3;
        assertArrayEquals(new double[] {0, 0.5, 0.5, third, third, third}, grad(x, new int[] {2, 3}, t -> t.max(1, false)), 0);
        assertArrayEquals(new double[] {0, 0.5, 0.5, third, third, third}, grad(x, new int[] {2, 3}, t -> t.max(1, true)), 0);
        assertArrayEquals(new double[] {1, 0, 0, third, third, third}, grad(x, new int[] {2, 3}, t -> t.min(-1, false)), 0);
        assertArrayEquals(new double[] {1, 0, 0, 0, 1, 1}, grad(x, new int[] {2, 3}, t -> t.min(0, false)), 0);
        assertArrayEquals(new double[] {0.5, 0.5}, grad(new double[] {4, 4}, new int[] {2, 1}, t -> t.max(0, false)), 0);
        // The value is the tied element itself, not a sum of thirds.
        double v = 0.1 + 0.2;
        assertEquals(v, Tensor.of(new double[] {v, v, v}, 3).max(0, false).item(), 0);
    }

    @Test
    void maxOfAnEmptyAxisNamesTheOp() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.FLOAT64, 2, 0).min(1, false));
        assertEquals("min: axis 1 of shape [2, 0] is empty", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.FLOAT64, 0).max());
        assertTrue(e.getMessage().startsWith("max: axis 0"), e.getMessage());
    }

    @Test
    void wholeMaxAndMinSplitTiesEvenly() {
        double[] x = {1, 3, 3, 0, 3, 0};
        assertArrayEquals(new double[] {0, 1.0 / 3, 1.0 / 3, 0, 1.0 / 3, 0}, grad(x, new int[] {2, 3}, Tensor::max), 0);
        assertArrayEquals(new double[] {0, 0, 0, 0.5, 0, 0.5}, grad(x, new int[] {2, 3}, Tensor::min), 0);
    }

    // PyTorch: maximum's self gradient is at::where(self == other, grad / 2, grad).masked_fill_(self < other, 0),
    // and other's likewise; relu's is threshold_backward(grad, result, 0), which is 0 at x = 0. So at 0 relu(x)
    // gives 0 and maximum(x, 0) gives 1/2 to x and 1/2 to the zero tensor, in PyTorch and here.
    @Test
    void maximumAndMinimumSplitTiesInHalfAndReluIsZeroAtZero() {
        double[] x = {-1, 0, 2};
        assertArrayEquals(new double[] {0, 0.5, 1}, grad(x, new int[] {3}, t -> t.maximum(Tensor.zeros(DType.FLOAT64, 3))), 0);
        assertArrayEquals(new double[] {0, 0.5, 1}, grad(x, new int[] {3}, t -> t.maximum(Tensor.scalar(0, DType.FLOAT64))), 0);
        assertArrayEquals(new double[] {1, 0.5, 0}, grad(x, new int[] {3}, t -> t.minimum(Tensor.zeros(DType.FLOAT64, 3))), 0);
        assertArrayEquals(new double[] {0, 0, 1}, grad(x, new int[] {3}, Tensor::relu), 0);
        assertArrayEquals(new double[] {1, 0.5, 0}, grad(new double[] {0, 0, 0}, new int[] {3},
                z -> Tensor.of(x, 3).maximum(z)), 0);
        // A broadcast side collects the halves of every tie it is part of.
        assertArrayEquals(new double[] {3}, grad(new double[] {1}, new int[] {1},
                z -> Tensor.of(new double[] {1, 1, 1, 5}, 4).maximum(z).mul(2)), 0);
        assertArrayEquals(new double[] {0, 1, 2, 2}, Tensor.of(new double[] {-1, 1, 2, 0}, 4)
                .maximum(Tensor.of(new double[] {0, 1, 1, 2}, 4)).toDoubleArray(), 0);
    }

    // PyTorch's pow_backward: zeros for exponent 0, else grad·p·x^(p−1); so x^0 has gradient 0 even at x = 0,
    // 0^p has gradient 0 for p > 1, 1 for p = 1, and +∞ for 0 < p < 1 (as in PyTorch).
    @Test
    void powWithAConstantExponentAtZero() {
        double[] x = {0, 2, -1};
        assertArrayEquals(new double[] {0, 0, 0}, grad(x, new int[] {3}, t -> t.pow(0)), 0);
        assertArrayEquals(new double[] {1, 1, 1}, Tensor.of(x, 3).pow(0).toDoubleArray(), 0);
        assertArrayEquals(new double[] {0}, grad(new double[] {0}, new int[] {1}, t -> t.pow(2.5)), 0);
        assertArrayEquals(new double[] {0}, grad(new double[] {0}, new int[] {1}, t -> t.pow(3)), 0);
        assertArrayEquals(new double[] {0}, grad(new double[] {0}, new int[] {1}, Tensor::square), 0);
        assertArrayEquals(new double[] {1}, grad(new double[] {0}, new int[] {1}, t -> t.pow(1)), 0);
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY}, grad(new double[] {0}, new int[] {1}, t -> t.pow(0.5)), 0);
    }

    // PyTorch's pow_backward_self: where(exponent == 0, 0, grad·b·a^(b−1)); pow_backward_exponent:
    // grad·where(base == 0 & exponent >= 0, 0, a^b·ln a).
    @Test
    void powWithATensorExponentAtZero() {
        Tensor a = Tensor.of(new double[] {0, 0, 0, 2, 0}, 5).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {2, 0, -1, 3, 0.5}, 5).requiresGrad(true);
        a.pow(b).sum().backward();
        double inf = Double.POSITIVE_INFINITY;
        assertArrayEquals(new double[] {0, 0, -inf, 12, inf}, a.grad().toDoubleArray(), 0);
        assertArrayEquals(new double[] {0, 0, -inf, 8 * Math.log(2), 0}, b.grad().toDoubleArray(), 1e-15);
        // Second order through the masks: d²/da² a^b at a = 0 is 2 for b = 2 and 0 for b = 1 (the rule's a^(b−1)
        // becomes a^0 and a^1, whose own gradients at 0 are the masked 0 and 1).
        Tensor z = Tensor.of(new double[] {0, 0}, 2).requiresGrad(true);
        Tensor first = Autograd.grad(z.pow(Tensor.of(new double[] {2, 1}, 2)).sum(), List.of(z), true).get(0);
        Tensor second = Autograd.grad(first.sum(), List.of(z), false).get(0);
        assertArrayEquals(new double[] {2, 0}, second.toDoubleArray(), 0);
    }
}
