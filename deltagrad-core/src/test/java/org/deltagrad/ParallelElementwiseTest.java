package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.deltagrad.kernels.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Element-wise kernels over large tensors run in ranges on the worker pool ({@link TensorKernels#ELEMENTWISE_GRAIN}): the
 * results must be the same bits on one thread and on two (any NaN counting as NaN), including for inputs that sit
 * at an offset in their storage, and the ReLU backward must stay exactly {@code x > 0 ? g : 0}.
 */
class ParallelElementwiseTest {
    private static final int THREADS = Parallel.threads();
    /** Big enough to be split (more than twice the grain), odd so that the ranges are uneven. */
    private static final int N = 5 * TensorKernels.ELEMENTWISE_GRAIN + 7;

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    @Test
    void largeElementwiseOpsGiveTheSameBitsOnOneAndTwoThreads() {
        for (DType dt : DType.values()) {
            List<double[]> one = compute(1, dt), two = compute(2, dt);
            assertEquals(one.size(), two.size());
            for (int k = 0; k < one.size(); k++) {
                assertArrayEquals(bits(one.get(k)), bits(two.get(k)), dt + ": result " + k + " differs between 1 and 2 threads");
            }
        }
    }

    @Test
    void largeReluBackwardIsExactlyTheSelect() {
        Parallel.setThreads(2);
        float[] x = inputs(1), g = inputs(2);
        Tensor xt = Tensor.of(x, N).requiresGrad(true);
        xt.relu().backward(Tensor.of(g, N));
        float[] got = xt.grad().toFloatArray();
        for (int i = 0; i < N; i++) {
            float want = x[i] > 0 ? g[i] : 0f;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), "element " + i + ": x = " + x[i] + ", g = " + g[i]);
        }
    }

    @Test
    void crossEntropyRowsGiveTheSameBitsOnOneAndTwoThreadsAndTheirOwnLosses() {
        // 64 rows of 10 logits, at an offset in their storage: split into two ranges on two threads.
        SplittableRandom r = new SplittableRandom(11);
        int b = 64, c = 10;
        int[] y = new int[b];
        for (int i = 0; i < b; i++) y[i] = r.nextInt(c);
        Tensor base = Tensor.randn(DType.FLOAT32, r, b * c + 3).mul(4);
        for (DType dt : DType.values()) {
            double[][] results = new double[2][];
            double[][] grads = new double[2][];
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                Tensor z = base.to(dt).narrow(0, 3, b * c).reshape(b, c).detach().requiresGrad(true);
                Tensor loss = z.crossEntropy(y);
                loss.backward();
                results[threads - 1] = loss.toDoubleArray();
                grads[threads - 1] = z.grad().toDoubleArray();
            }
            assertArrayEquals(bits(results[0]), bits(results[1]), dt + ": loss");
            assertArrayEquals(bits(grads[0]), bits(grads[1]), dt + ": gradient");
            // Each row's term lands in the mean: (1/B)·Σ_r (logsumexp(z_r) − z_r[y_r]), in float64.
            double[] zv = base.narrow(0, 3, b * c).toDoubleArray();
            double want = 0;
            for (int row = 0; row < b; row++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < c; j++) max = Math.max(max, zv[row * c + j]);
                for (int j = 0; j < c; j++) sum += Math.exp(zv[row * c + j] - max);
                want += max + Math.log(sum) - zv[row * c + y[row]];
            }
            assertEquals(want / b, results[1][0], dt == DType.FLOAT32 ? 1e-6 : 1e-12, dt + ": loss value");
        }
    }

    private static List<double[]> compute(int threads, DType dt) {
        Parallel.setThreads(threads);
        // Rows 1.. of a [N + 1, 1]-shaped storage: the operands start at offset 1, not 0.
        Tensor xs = Tensor.of(withHead(inputs(1)), N + 1, 1).to(dt).narrow(0, 1, N).reshape(N);
        Tensor ys = Tensor.of(withHead(inputs(2)), N + 1, 1).to(dt).narrow(0, 1, N).reshape(N);
        List<double[]> out = new ArrayList<>();
        out.add(xs.relu().toDoubleArray());
        out.add(xs.sigmoid().toDoubleArray());
        out.add(xs.tanh().toDoubleArray());
        out.add(xs.exp().toDoubleArray());
        out.add(xs.add(ys).toDoubleArray());
        out.add(xs.mul(ys).toDoubleArray());
        out.add(xs.mul(0.37).toDoubleArray());
        for (int kind = 0; kind < 3; kind++) { // the fused backward of relu, sigmoid and tanh
            Tensor x = xs.detach().requiresGrad(true);
            Tensor y = kind == 0 ? x.relu() : kind == 1 ? x.sigmoid() : x.tanh();
            y.backward(ys);
            out.add(x.grad().toDoubleArray());
        }
        // The linear op's bias, added row by row over a [1024, 96] output.
        SplittableRandom rng = new SplittableRandom(5);
        Tensor w = Tensor.randn(dt, rng, 96, 40), b = Tensor.randn(dt, rng, 96);
        out.add(Tensor.randn(dt, rng, 1024, 40).linear(w, b).toDoubleArray());
        return out;
    }

    /** N floats from a fixed seed: normal values, with zeros of both signs, infinities and NaN among them. */
    private static float[] inputs(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[N];
        for (int i = 0; i < N; i++) v[i] = (float) r.nextGaussian();
        float[] special = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE, -Float.MIN_VALUE};
        for (int i = 0; i < special.length; i++) {
            v[i * 7919 % N] = special[i];
            v[N - 1 - i] = special[i];
        }
        return v;
    }

    private static float[] withHead(float[] v) {
        float[] w = new float[v.length + 1];
        w[0] = 42f;
        System.arraycopy(v, 0, w, 1, v.length);
        return w;
    }

    /** The bits of each value, every NaN as the one canonical NaN (the payload of a NaN carries no meaning). */
    private static long[] bits(double[] v) {
        long[] b = new long[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Double.doubleToLongBits(v[i]);
        return b;
    }
}
