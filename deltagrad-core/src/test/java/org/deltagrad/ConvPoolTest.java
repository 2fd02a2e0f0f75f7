package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.deltagrad.kernels.Parallel;
import org.junit.jupiter.api.Test;

/** conv2d and the poolings against a direct loop and hand-computed values, PyTorch's tie rule, and bad shapes. */
class ConvPoolTest {

    /** F.conv2d written as the textbook six nested loops, in float64. */
    static double[] naiveConv(double[] x, int n, int c, int h, int w, double[] wt, int o, int kh, int kw, double[] b,
                              int stride, int pad) {
        int oh = (h + 2 * pad - kh) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1;
        double[] y = new double[n * o * oh * ow];
        for (int i = 0; i < n; i++) for (int f = 0; f < o; f++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
            double s = b == null ? 0 : b[f];
            for (int ch = 0; ch < c; ch++) for (int ki = 0; ki < kh; ki++) for (int kj = 0; kj < kw; kj++) {
                int iy = oy * stride - pad + ki, ix = ox * stride - pad + kj;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += x[((i * c + ch) * h + iy) * w + ix] * wt[((f * c + ch) * kh + ki) * kw + kj];
            }
            y[((i * o + f) * oh + oy) * ow + ox] = s;
        }
        return y;
    }

    static double[] random(SplittableRandom r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextDouble(-1, 1);
        return v;
    }

    @Test
    void conv2dMatchesTheDirectLoopOnRandomConfigs() {
        SplittableRandom r = new SplittableRandom(14);
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + r.nextInt(3), c = 1 + r.nextInt(4), o = 1 + r.nextInt(4), kh = 1 + r.nextInt(5), kw = 1 + r.nextInt(5);
            int stride = 1 + r.nextInt(3), pad = r.nextInt(3);
            int h = Math.max(1, kh - 2 * pad) + r.nextInt(6), w = Math.max(1, kw - 2 * pad) + r.nextInt(6);
            double[] x = random(r, n * c * h * w), wt = random(r, o * c * kh * kw), b = r.nextBoolean() ? random(r, o) : null;
            Tensor y = Tensor.of(x, n, c, h, w).conv2d(Tensor.of(wt, o, c, kh, kw), b == null ? null : Tensor.of(b, o), stride, pad);
            double[] want = naiveConv(x, n, c, h, w, wt, o, kh, kw, b, stride, pad);
            String config = "n" + n + " c" + c + " h" + h + " w" + w + " o" + o + " k" + kh + "x" + kw + " s" + stride + " p" + pad;
            assertArrayEquals(new int[] {n, o, (h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1}, y.shape(), config);
            assertArrayEquals(want, y.toDoubleArray(), 1e-12, config);
            // float32 goes through the same loops with sgemm
            float[] yf = Tensor.of(x, n, c, h, w).to(DType.FLOAT32).conv2d(Tensor.of(wt, o, c, kh, kw).to(DType.FLOAT32),
                    b == null ? null : Tensor.of(b, o).to(DType.FLOAT32), stride, pad).toFloatArray();
            for (int i = 0; i < want.length; i++) assertEquals(want[i], yf[i], 1e-4, config);
        }
    }

    @Test
    void conv2dHandComputed() {
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        // w = [[1, 0], [0, -1]]: each output is x[i][j] − x[i+1][j+1] = −4
        Tensor y = x.conv2d(Tensor.of(new double[] {1, 0, 0, -1}, 1, 1, 2, 2));
        assertArrayEquals(new int[] {1, 1, 2, 2}, y.shape());
        assertArrayEquals(new double[] {-4, -4, -4, -4}, y.toDoubleArray());
        // ones 2x2, bias 10, stride 2, padding 1: windows {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}
        Tensor z = x.conv2d(Tensor.of(new double[] {1, 1, 1, 1}, 1, 1, 2, 2), Tensor.of(new double[] {10}, 1), 2, 1);
        assertArrayEquals(new double[] {11, 15, 21, 38}, z.toDoubleArray());
    }

    @Test
    void conv2dGradientsByHand() {
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {1, 0, 0, -1}, 1, 1, 2, 2).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {0.5}, 1).requiresGrad(true);
        x.conv2d(w, b, 1, 0).sum().backward();
        // each x entry gets the sum of the weights that touch it
        assertArrayEquals(new double[] {1, 1, 0, 1, 0, -1, 0, -1, -1}, x.grad().toDoubleArray());
        // each weight sees the 2x2 block of x it slides over: sums 12, 16, 24, 28
        assertArrayEquals(new double[] {12, 16, 24, 28}, w.grad().toDoubleArray());
        assertArrayEquals(new double[] {4}, b.grad().toDoubleArray());
    }

    @Test
    void poolingHandComputed() {
        Tensor x = Tensor.of(new double[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 1, 1, 4, 4);
        assertArrayEquals(new double[] {5, 7, 13, 15}, x.maxPool2d(2).toDoubleArray());
        assertArrayEquals(new double[] {2.5, 4.5, 10.5, 12.5}, x.avgPool2d(2).toDoubleArray());
        assertArrayEquals(new double[] {10, 11, 14, 15}, x.maxPool2d(3, 1).toDoubleArray());
        assertArrayEquals(new double[] {5, 6, 9, 10}, x.avgPool2d(3, 1).toDoubleArray(), 1e-15);
        assertArrayEquals(new int[] {1, 1, 1, 1}, x.maxPool2d(3).shape()); // floor((4 − 3)/3) + 1
    }

    @Test
    void maxPoolSendsATiesGradientToTheFirstMaximumAsPyTorch() {
        Tensor x = Tensor.of(new double[] {1, 3, 3, 3}, 1, 1, 2, 2).requiresGrad(true);
        x.maxPool2d(2).sum().backward();
        assertArrayEquals(new double[] {0, 1, 0, 0}, x.grad().toDoubleArray());
        // overlapping windows that share a maximum add up there
        Tensor y = Tensor.of(new double[] {0, 9, 0, 0, 0, 0}, 1, 1, 2, 3).requiresGrad(true);
        y.maxPool2d(2, 1).sum().backward();
        assertArrayEquals(new double[] {0, 2, 0, 0, 0, 0}, y.grad().toDoubleArray());
    }

    @Test
    void avgPoolGradientSpreadsOverEachWindow() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 1, 1, 3, 3).requiresGrad(true);
        x.avgPool2d(2, 1).sum().backward();
        assertArrayEquals(new double[] {0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25}, x.grad().toDoubleArray(), 1e-15);
    }

    @Test
    void sameBitsOnOneAndTwoThreads() {
        SplittableRandom r = new SplittableRandom(3);
        float[][] one = convRun(r.split(), 1), two = convRun(new SplittableRandom(3).split(), 2);
        for (int i = 0; i < one.length; i++) assertArrayEquals(one[i], two[i], "output " + i);
    }

    private static float[][] convRun(SplittableRandom r, int threads) {
        try (Parallel.Scope s = Parallel.withThreads(threads)) {
            Tensor x = Tensor.of(random(r, 8 * 3 * 12 * 12), 8, 3, 12, 12).to(DType.FLOAT32).requiresGrad(true);
            Tensor w = Tensor.of(random(r, 5 * 3 * 3 * 3), 5, 3, 3, 3).to(DType.FLOAT32).requiresGrad(true);
            Tensor y = x.conv2d(w, null, 1, 1).maxPool2d(2).avgPool2d(2, 1);
            y.square().sum().backward();
            return new float[][] {y.toFloatArray(), x.grad().toFloatArray(), w.grad().toFloatArray()};
        }
    }

    @Test
    void badShapesAreClearErrors() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 1, 2, 5, 5);
        assertMessage("conv2d: input [1, 2, 5, 5] has 2 channels but weight [4, 3, 3, 3] expects 3",
                () -> x.conv2d(Tensor.zeros(DType.FLOAT64, 4, 3, 3, 3)));
        assertMessage("conv2d: kernel 6x3 of weight [1, 2, 6, 3] does not fit input [1, 2, 5, 5] padded by 0",
                () -> x.conv2d(Tensor.zeros(DType.FLOAT64, 1, 2, 6, 3)));
        assertTrue(x.conv2d(Tensor.zeros(DType.FLOAT64, 1, 2, 6, 3), null, 1, 1).numel() > 0, "fits once padded");
        assertMessage("conv2d: input [2, 5, 5] and weight [1, 2, 3, 3] must both be 4-D",
                () -> Tensor.zeros(DType.FLOAT64, 2, 5, 5).conv2d(Tensor.zeros(DType.FLOAT64, 1, 2, 3, 3)));
        assertMessage("conv2d: stride must be ≥ 1 and padding ≥ 0, got stride 0, padding 0",
                () -> x.conv2d(Tensor.zeros(DType.FLOAT64, 1, 2, 3, 3), null, 0, 0));
        assertMessage("conv2d: stride must be ≥ 1 and padding ≥ 0, got stride 1, padding -1",
                () -> x.conv2d(Tensor.zeros(DType.FLOAT64, 1, 2, 3, 3), null, 1, -1));
        assertMessage("conv2d: bias [2] must be [1]",
                () -> x.conv2d(Tensor.zeros(DType.FLOAT64, 1, 2, 3, 3), Tensor.zeros(DType.FLOAT64, 2), 1, 0));
        assertMessage("maxPool2d: kernel 6 is larger than input [1, 2, 5, 5]", () -> x.maxPool2d(6));
        assertMessage("avgPool2d: input [5, 5] must be 4-D", () -> Tensor.zeros(DType.FLOAT64, 5, 5).avgPool2d(2));
        assertMessage("avgPool2d: kernel and stride must be ≥ 1, got kernel 2, stride 0", () -> x.avgPool2d(2, 0));
    }

    private static void assertMessage(String prefix, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }
}
