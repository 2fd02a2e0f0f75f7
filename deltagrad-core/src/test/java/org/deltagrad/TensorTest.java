package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class TensorTest {

    static Tensor t(double[] v, int... shape) {
        return Tensor.of(v, shape);
    }

    /** The branch-free ReLU gradient is exactly "x > 0 ? g : 0", special values included, in both dtypes. */
    @Test
    void reluGradientSelectsExactlyOnSpecialValues() {
        float[] x = {-1f, -0f, 0f, Float.MIN_VALUE, 2.5f, Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY, 3f, -3f};
        float[] g = {7f, 7f, 7f, -7f, 1e-30f, 5f, 5f, 5f, Float.NaN, Float.POSITIVE_INFINITY};
        for (DType dt : DType.values()) {
            Tensor xt = Tensor.of(x, x.length).to(dt).requiresGrad(true);
            xt.relu().backward(Tensor.of(g, g.length).to(dt));
            double[] got = xt.grad().toDoubleArray();
            for (int i = 0; i < x.length; i++) {
                double want = x[i] > 0 ? g[i] : 0.0;
                assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got[i]),
                        dt + " x=" + x[i] + " g=" + g[i] + ": got " + got[i]);
            }
        }
    }

    @Test
    void factoriesAndAccessors() {
        Tensor z = Tensor.zeros(2, 3);
        assertEquals(DType.FLOAT32, z.dtype());
        assertArrayEquals(new int[] {2, 3}, z.shape());
        assertEquals(6, z.numel());
        assertArrayEquals(new double[] {7, 7}, Tensor.full(DType.FLOAT64, 7, 2).toDoubleArray());
        assertArrayEquals(new double[] {0, 1, 2}, Tensor.arange(3).toDoubleArray());
        assertArrayEquals(new double[] {1, 0.5, 0}, Tensor.arange(DType.FLOAT64, 1, -0.1, -0.5).toDoubleArray());
        assertEquals(3.5, Tensor.scalar(3.5).item());
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new double[5], 2, 3));
    }

    @Test
    void seededRandomIsReproducibleAndRoughlyStandard() {
        assertArrayEquals(Tensor.randn(5, 1000).toFloatArray(), Tensor.randn(5, 1000).toFloatArray());
        double[] v = Tensor.randn(DType.FLOAT64, new java.util.SplittableRandom(1), 100_000).toDoubleArray();
        double mean = 0, var = 0;
        for (double x : v) mean += x / v.length;
        for (double x : v) var += (x - mean) * (x - mean) / v.length;
        assertEquals(0, mean, 0.02);
        assertEquals(1, var, 0.02);
        float[] u = Tensor.rand(9, 1000).toFloatArray();
        for (float x : u) assertTrue(x >= 0 && x < 1);
    }

    @Test
    void broadcastingFollowsNumpy() {
        Tensor a = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor row = t(new double[] {10, 20, 30}, 3);
        Tensor col = t(new double[] {100, 200}, 2, 1);
        assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, a.add(row).toDoubleArray());
        assertArrayEquals(new double[] {101, 102, 103, 204, 205, 206}, a.add(col).toDoubleArray());
        Tensor outer = col.mul(row);
        assertArrayEquals(new int[] {2, 3}, outer.shape());
        assertArrayEquals(new double[] {1000, 2000, 3000, 2000, 4000, 6000}, outer.toDoubleArray());
        assertArrayEquals(new int[] {4, 2, 3}, Tensor.zeros(4, 1, 3).add(Tensor.zeros(2, 1)).shape());
    }

    @Test
    void dtypePromotion() {
        Tensor f = Tensor.ones(DType.FLOAT32, 2), d = Tensor.ones(DType.FLOAT64, 2);
        assertEquals(DType.FLOAT64, f.add(d).dtype());
        assertEquals(DType.FLOAT32, f.add(Tensor.scalar(2.0)).dtype(), "a 0-dim operand does not widen");
        assertEquals(DType.FLOAT32, f.mul(0.5).dtype());
    }

    @Test
    void viewsShareStorage() {
        Tensor a = Tensor.arange(DType.FLOAT64, 0, 6, 1).reshape(2, 3);
        Tensor tr = a.t();
        assertFalse(tr.isContiguous());
        assertArrayEquals(new double[] {0, 3, 1, 4, 2, 5}, tr.toDoubleArray());
        assertArrayEquals(new double[] {1, 4}, a.narrow(1, 1, 1).toDoubleArray());
        a.set(42, 0, 1);
        assertEquals(42, tr.get(1, 0));
        assertArrayEquals(new double[] {0, 42, 2, 3, 4, 5}, tr.contiguous().t().reshape(-1).toDoubleArray());
        assertArrayEquals(new int[] {3, 1, 2}, a.permute(1, 0).unsqueeze(1).shape());
    }

    @Test
    void reductions() {
        Tensor a = t(new double[] {1, 5, 3, 4, 2, 6}, 2, 3);
        assertEquals(21, a.sum().item());
        assertArrayEquals(new double[] {5, 7, 9}, a.sum(0, false).toDoubleArray());
        assertArrayEquals(new int[] {2, 1}, a.sum(1, true).shape());
        assertArrayEquals(new double[] {3, 4}, a.mean(1, false).toDoubleArray());
        assertEquals(6, a.max().item());
        assertArrayEquals(new double[] {5, 6}, a.max(1, false).toDoubleArray());
        assertArrayEquals(new double[] {1, 2}, a.min(1, false).toDoubleArray());
        assertArrayEquals(new double[] {1, 2}, a.argmax(1, false).toDoubleArray());
        assertArrayEquals(new double[] {1, 0, 1}, a.argmax(0, false).toDoubleArray());
        assertArrayEquals(new double[] {5, 7, 9}, a.t().sum(1, false).toDoubleArray(), "reduction of a strided view");
    }

    @Test
    void argmaxOverEveryKindOfLayout() {
        Tensor a = t(new double[] {1, 5, 3, 4, 2, 6}, 2, 3);
        assertArrayEquals(new double[] {1, 0, 1}, a.t().argmax(1, false).toDoubleArray(), "last axis of a strided view");
        assertArrayEquals(new double[] {2}, a.narrow(0, 1, 1).argmax(1, false).toDoubleArray(), "contiguous, at an offset");
        Tensor cube = t(new double[] {0, 7, 3, 2, 9, 1, 4, 4}, 2, 2, 2);
        assertArrayEquals(new double[] {1, 0, 0, 0}, cube.argmax(-1, false).toDoubleArray(), "rank 3, ties go to the first");
        assertArrayEquals(new int[] {2, 2, 1}, cube.argmax(2, true).shape());
        assertArrayEquals(new double[] {1, 0, 0, 1}, cube.argmax(1, false).toDoubleArray(), "a middle axis");
        Tensor nan = t(new double[] {1, Double.NaN, 3, 3, 2, 1}, 2, 3);
        assertArrayEquals(new double[] {1, 0}, nan.argmax(1, false).toDoubleArray(), "NaN is the largest, as in PyTorch");
    }

    @Test
    void matmulShapes() {
        Tensor a = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = t(new double[] {1, 0, 0, 1, 1, 1}, 3, 2);
        assertArrayEquals(new double[] {4, 5, 10, 11}, a.matmul(b).toDoubleArray());
        assertArrayEquals(new double[] {4, 5, 10, 11}, b.t().matmul(a.t()).t().toDoubleArray());
        Tensor v = t(new double[] {1, 1, 1}, 3);
        assertArrayEquals(new double[] {6, 15}, a.matmul(v).toDoubleArray());
        assertEquals(3, v.matmul(v).item());
        Tensor batch = Tensor.stack(List.of(a, a.mul(2)), 0);
        Tensor out = batch.matmul(b);
        assertArrayEquals(new int[] {2, 2, 2}, out.shape());
        assertArrayEquals(new double[] {4, 5, 10, 11, 8, 10, 20, 22}, out.toDoubleArray());
        assertArrayEquals(new double[] {4, 5, 10, 11, 8, 10, 20, 22},
                batch.matmul(Tensor.stack(List.of(b, b), 0)).toDoubleArray());
    }

    @Test
    void addInPlaceAtEqualAndUnequalOffsets() {
        for (DType dt : DType.values()) {
            for (int n : new int[] {37, 40_000}) { // one range, and split over the pool
                for (int[] off : new int[][] {{0, 0}, {5, 5}, {2, 9}}) {
                    Tensor xBase = Tensor.rand(dt, new java.util.SplittableRandom(n), n + 9);
                    Tensor yBase = Tensor.rand(dt, new java.util.SplittableRandom(n + 1), n + 9);
                    double[] x0 = xBase.toDoubleArray(), y0 = yBase.toDoubleArray();
                    xBase.narrow(0, off[0], n).addInPlace(yBase.narrow(0, off[1], n), -0.25);
                    double[] got = xBase.toDoubleArray();
                    for (int i = 0; i < n + 9; i++) {
                        boolean inside = i >= off[0] && i < off[0] + n;
                        double want = !inside ? x0[i] : dt == DType.FLOAT32
                                ? (double) ((float) x0[i] + (float) -0.25 * (float) y0[i - off[0] + off[1]])
                                : x0[i] + -0.25 * y0[i - off[0] + off[1]];
                        assertEquals(want, got[i], 0, dt + " n=" + n + " offsets " + off[0] + "/" + off[1] + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void softmaxIsStableForLargeInputs() {
        Tensor x = t(new double[] {1000, 1001, 1002}, 3);
        double[] p = x.softmax(0).toDoubleArray();
        double e1 = Math.exp(-1), e2 = Math.exp(-2), s = 1 + e1 + e2;
        assertArrayEquals(new double[] {e2 / s, e1 / s, 1 / s}, p, 1e-15);
        double[] lp = Tensor.of(new float[] {-1000, 0, 1000}, 3).logSoftmax(0).toDoubleArray();
        assertEquals(0, lp[2], 1e-6);
        assertEquals(-2000, lp[0], 1e-3);
    }

    @Test
    void sigmoidIsExactAtTheExtremesInBothDtypes() {
        double[] x = {-1000, -745, -30, 0, 30, 1000};
        double[] d = Tensor.of(x.clone(), 6).sigmoid().toDoubleArray();
        float[] f = Tensor.of(new float[] {-1000, -745, -30, 0, 30, 1000}, 6).sigmoid().toFloatArray();
        for (int i = 0; i < x.length; i++) {
            double expect = x[i] >= 0 ? 1 / (1 + Math.exp(-x[i])) : Math.exp(x[i]) / (1 + Math.exp(x[i]));
            assertEquals(expect, d[i], Math.ulp(expect) * 2, "float64 sigmoid(" + x[i] + ")");
            assertEquals((float) expect, f[i], Math.ulp((float) expect) * 2, "float32 sigmoid(" + x[i] + ")");
        }
        assertTrue(Double.isNaN(Tensor.scalar(Double.NaN).sigmoid().item()));
    }

    @Test
    void gatherScatterConcatStackWhere() {
        Tensor a = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor idx = t(new double[] {2, 0}, 2, 1);
        assertArrayEquals(new double[] {3, 4}, a.gather(1, idx).toDoubleArray());
        assertArrayEquals(new double[] {0, 0, 3, 4, 0, 0}, a.gather(1, idx).scatterAdd(1, idx, 2, 3).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> a.gather(1, t(new double[] {3, 0}, 2, 1)));
        assertArrayEquals(new int[] {2, 6}, Tensor.concat(1, a, a).shape());
        assertArrayEquals(new double[] {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}, Tensor.concat(1, a, a).toDoubleArray());
        assertArrayEquals(new int[] {2, 3, 2}, Tensor.stack(List.of(a, a), 2).shape());
        assertArrayEquals(new double[] {1, 0, 3, 4, 0, 6}, Tensor.where(a.gt(Tensor.scalar(0)).mul(a.sub(2).abs().gt(1e-9)).mul(
                t(new double[] {1, 0, 1}, 3)), a, Tensor.scalar(0)).toDoubleArray());
        assertArrayEquals(new double[] {2, 3, 3, 4, 5, 5}, a.clamp(3, 5).maximum(a.sub(2)).minimum(a.add(1)).toDoubleArray(), 0);
    }

    @Test
    void reshapeErrorsAreClear() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).reshape(4, -1));
        assertTrue(e.getMessage().contains("reshape") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).sum(2, false));
    }

    @Test
    void toStringShowsValuesShapeAndGraph() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        assertEquals("tensor([1.0, 2.0], shape=[2], dtype=float64, requiresGrad=true)", x.toString());
        assertTrue(x.mul(2).toString().endsWith("gradFn=mul)"));
    }
}
