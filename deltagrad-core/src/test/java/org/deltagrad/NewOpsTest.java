package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * Forward values of erf, gelu, logsumexp, cumsum, prod, flip, repeat, strided slice, floor and round against closed
 * forms and PyTorch's documented semantics, exact gradients where PyTorch's rules have special cases, and the
 * errors for bad arguments. First and second order gradients on random shapes are in {@link OpTableTest}.
 */
class NewOpsTest {

    static Tensor t(double[] v, int... shape) {
        return Tensor.of(v, shape);
    }

    static double[] grad(Tensor x, Function<Tensor, Tensor> f) {
        Tensor leaf = x.detach().requiresGrad(true);
        f.apply(leaf).sum().backward();
        return leaf.grad().toDoubleArray();
    }

    @Test
    void erfAndGeluMatchClosedForms() {
        // Reference values from Python's math.erf (correctly rounded libm).
        double[] x = {0, 0.5, 1, -2, 3.5, 5.9, 7, Double.POSITIVE_INFINITY, Double.NaN};
        double[] want = {0, 0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0.9999992569016276,
            0.9999999999999999, 1, 1, Double.NaN};
        double[] got = t(x, x.length).erf().toDoubleArray();
        for (int i = 0; i < x.length; i++) assertEquals(want[i], got[i], Double.isNaN(want[i]) ? 0 : 4 * Math.ulp(want[i]), "erf(" + x[i] + ")");
        assertEquals(-0.0, t(new double[] {-0.0}, 1).erf().item(), 0);
        // x·Φ(x): Φ(1) = 0.8413447460685429.
        assertArrayEquals(new double[] {0.8413447460685429, -0.15865525393145707, 0},
                t(new double[] {1, -1, 0}, 3).gelu().toDoubleArray(), 1e-15);
        assertEquals(0.8411919906082768, t(new double[] {1}, 1).gelu("tanh").item(), 1e-15);
        // d/dx erf = 2/√π·e^(−x²); d/dx gelu at 0 = Φ(0) = 1/2.
        assertArrayEquals(new double[] {2 / Math.sqrt(Math.PI), 2 / Math.sqrt(Math.PI) * Math.exp(-1)},
                grad(t(new double[] {0, 1}, 2), Tensor::erf), 1e-15);
        assertArrayEquals(new double[] {0.5}, grad(t(new double[] {0}, 1), Tensor::gelu), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t(new double[] {1}, 1).gelu("fast"));
        assertTrue(e.getMessage().startsWith("gelu:"), e.getMessage());
    }

    @Test
    void logsumexpIsStable() {
        Tensor x = t(new double[] {1000, 1000, 1, 2}, 2, 2);
        assertArrayEquals(new double[] {1000 + Math.log(2), 2.3132616875182226}, x.logsumexp(1, false).toDoubleArray(), 1e-13);
        assertArrayEquals(new int[] {2, 1}, x.logsumexp(-1, true).shape());
        double inf = Double.POSITIVE_INFINITY;
        assertArrayEquals(new double[] {-inf, inf}, t(new double[] {-inf, -inf, inf, 1}, 2, 2).logsumexp(1, false).toDoubleArray(), 0);
        // The gradient is softmax.
        assertArrayEquals(new double[] {0.5, 0.5}, grad(t(new double[] {1000, 1000}, 2), v -> v.logsumexp(0, false)), 0);
    }

    @Test
    void cumsumAndItsReverseGradient() {
        Tensor x = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[] {1, 3, 6, 4, 9, 15}, x.cumsum(1).toDoubleArray(), 0);
        assertArrayEquals(new double[] {1, 2, 3, 5, 7, 9}, x.cumsum(0).toDoubleArray(), 0);
        assertArrayEquals(new double[] {3, 2, 1, 3, 2, 1}, grad(x, v -> v.cumsum(-1)), 0);
        assertThrows(IllegalArgumentException.class, () -> x.cumsum(2));
        Tensor f = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        assertArrayEquals(new float[] {1, 3, 3, 7}, f.cumsum(1).toFloatArray(), 0);
        assertArrayEquals(new float[] {2, 12}, f.prod(1, false).toFloatArray(), 0);
        assertArrayEquals(new float[] {4, 3, 2, 1}, f.flip(0, 1).toFloatArray(), 0);
        assertArrayEquals(new float[] {2, 4}, f.t().slice(0, 1, 2, 1).toFloatArray(), 0);
        assertEquals(DType.FLOAT32, f.cumsum(0).dtype());
    }

    // PyTorch's prod_backward: with no zero, grad·result/input; with zeros, prod_safe_zeros_backward: a lone zero gets
    // the product of the others and the rest 0, and a slice with two or more zeros gives 0 everywhere.
    @Test
    void prodWithZeros() {
        Tensor x = t(new double[] {1, 2, 3, 4, 0, 6, 0, 2, 0}, 3, 3);
        assertArrayEquals(new double[] {6, 0, 0}, x.prod(1, false).toDoubleArray(), 0);
        assertArrayEquals(new double[] {6, 3, 2, 0, 24, 0, 0, 0, 0}, grad(x, v -> v.prod(1, false)), 0);
        assertArrayEquals(new double[] {0, 0, 0}, x.prod(0, false).toDoubleArray(), 0);
        assertArrayEquals(new double[] {0, 0, 0, 0, 4, 0, 4, 0, 18}, grad(x, v -> v.prod(0, true)), 0);
        assertArrayEquals(new double[] {0, 24, 0, 0}, grad(t(new double[] {2, 0, 3, 4}, 4), Tensor::prod), 0);
        assertEquals(24, t(new double[] {2, 1, 3, 4}, 2, 2).prod().item(), 0);
        assertEquals(1, Tensor.zeros(DType.FLOAT64, 2, 0).prod().item(), 0);
    }

    @Test
    void flipRepeatAndStridedSliceFollowPyTorch() {
        Tensor x = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[] {3, 2, 1, 6, 5, 4}, x.flip(1).toDoubleArray(), 0);
        assertArrayEquals(new double[] {6, 5, 4, 3, 2, 1}, x.flip(0, -1).toDoubleArray(), 0);
        assertThrows(IllegalArgumentException.class, () -> x.flip(1, 1));

        // torch.tensor([1, 2, 3]).repeat(4, 2) is 4 rows of [1, 2, 3, 1, 2, 3]; .repeat(4, 2, 1) has shape [4, 2, 3].
        Tensor v = t(new double[] {1, 2, 3}, 3);
        Tensor r = v.repeat(4, 2);
        assertArrayEquals(new int[] {4, 6}, r.shape());
        assertArrayEquals(new double[] {1, 2, 3, 1, 2, 3}, r.narrow(0, 3, 1).toDoubleArray(), 0);
        assertArrayEquals(new int[] {4, 2, 3}, v.repeat(4, 2, 1).shape());
        assertArrayEquals(new double[] {1, 2, 1, 2, 3, 4, 3, 4}, t(new double[] {1, 2, 3, 4}, 2, 2).repeat(1, 2).toDoubleArray(), 0);
        assertArrayEquals(new double[] {8, 8, 8}, grad(v, w -> w.repeat(4, 2)), 0);
        assertArrayEquals(new int[] {0, 3}, v.repeat(0, 1).shape());
        assertArrayEquals(new double[] {7, 7}, t(new double[] {7}, 1, 1).repeat(2, 1).toDoubleArray(), 0);
        assertArrayEquals(new double[] {3, 2, 1, 0}, Tensor.arange(DType.FLOAT64, 0, 4, 1).flip(0).toDoubleArray(), 0);
        assertEquals(0, Tensor.zeros(DType.FLOAT64, 0, 3).cumsum(1).numel());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.repeat(2));
        assertTrue(e.getMessage().startsWith("repeat:") && e.getMessage().contains("[2, 3]"), e.getMessage());

        // Python's a[1:8:3], a[-3::2], a[5:2].
        Tensor a = Tensor.arange(DType.FLOAT64, 0, 10, 1);
        assertArrayEquals(new double[] {1, 4, 7}, a.slice(0, 1, 8, 3).toDoubleArray(), 0);
        assertArrayEquals(new double[] {7, 9}, a.slice(0, -3, Integer.MAX_VALUE, 2).toDoubleArray(), 0);
        assertEquals(0, a.slice(0, 5, 2, 1).numel());
        assertArrayEquals(new double[] {0, 1, 0, 0, 1, 0, 0, 1, 0, 0}, grad(a, w -> w.slice(0, 1, 8, 3)), 0);
        assertArrayEquals(new double[] {2, 5}, x.slice(1, 1, 3, 5).toDoubleArray(), 0);
        assertArrayEquals(new double[] {1, 3, 4, 6}, x.slice(1, 0, 3, 2).contiguous().toDoubleArray(), 0);
        e = assertThrows(IllegalArgumentException.class, () -> a.slice(0, 0, 5, 0));
        assertTrue(e.getMessage().startsWith("slice: step"), e.getMessage());
    }

    @Test
    void floorAndRoundHaveZeroGradientAndRoundHalvesToEven() {
        Tensor x = t(new double[] {0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6}, 7);
        assertArrayEquals(new double[] {0, 2, 2, -0.0, -2, 2, -3}, x.round().toDoubleArray(), 0);
        assertArrayEquals(new double[] {0, 1, 2, -1, -2, 2, -3}, x.floor().toDoubleArray(), 0);
        assertArrayEquals(new double[7], grad(x, Tensor::round), 0);
        assertArrayEquals(new double[7], grad(x, Tensor::floor), 0);
        assertArrayEquals(new float[] {2f, -3f}, Tensor.of(new float[] {2.5f, -2.6f}, 2).round().toFloatArray(), 0);
    }
}
