package org.deltagrad.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.deltagrad.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Sweeps on several threads whose graphs share a leaf (issue 13): every thread's gradient arrives, whole. */
class ConcurrentBackwardTest {
    static final int N = 64;

    /** Small integers: every partial sum is exact in float32, so any order of accumulation gives the same bits. */
    static float[] integers(int salt) {
        float[] v = new float[N * N];
        for (int i = 0; i < v.length; i++) v[i] = (i * 7 + salt * 13) % 17 - 8;
        return v;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4})
    void backwardIntoASharedLeafFromSeveralThreadsLosesNothing(int threads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int trial = 0; trial < 200; trial++) {
                boolean hadGrad = trial % 4 != 3; // mostly the case that tore: a gradient already there, added in place
                Tensor w = Tensor.of(integers(99), N, N).requiresGrad(true);
                if (hadGrad) w.setGrad(Tensor.of(integers(trial), N, N));
                float[] expected = hadGrad ? integers(trial) : new float[N * N];
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    Tensor c = Tensor.of(integers(1000 + t), N, N); // d(sum(w * c))/dw = c
                    float[] cv = c.toFloatArray();
                    for (int i = 0; i < expected.length; i++) expected[i] += cv[i];
                    done.add(pool.submit(() -> {
                        start.await();
                        w.mul(c).sum().backward(); // records on the shared leaf too: its accumulator is made concurrently
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get();
                assertArrayEquals(expected, w.grad().toFloatArray(), "trial " + trial + " (" + threads + " threads, "
                        + (hadGrad ? "existing grad" : "no grad yet") + ")");
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
