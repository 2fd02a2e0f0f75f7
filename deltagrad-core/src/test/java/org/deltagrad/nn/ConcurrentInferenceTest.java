package org.deltagrad.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.junit.jupiter.api.Test;

/** The threading contract of {@link Module} (issue 13): one model in eval mode serves several threads at once. */
class ConcurrentInferenceTest {

    @Test
    void forwardUnderNoGradOnASharedModelGivesEachThreadTheSequentialAnswer() throws Exception {
        Sequential model = Architecture.mlp(20, new int[] {32, 16}, 5, Activation.TANH, false, null, null).build(3);
        model.add(new Dropout(0.5, 9)); // must be the identity in eval mode, on every thread
        model.eval();
        int threads = 4, calls = 50;
        float[][] expected = new float[threads * calls][];
        Tensor[] inputs = new Tensor[expected.length];
        try (var s = Autograd.noGrad()) {
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = Tensor.randn(i, 8, 20);
                expected[i] = model.forward(inputs[i]).toFloatArray();
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<float[][]>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t * calls;
                results.add(pool.submit(() -> {
                    start.await();
                    float[][] got = new float[calls][];
                    try (var s = Autograd.noGrad()) {
                        for (int k = 0; k < calls; k++) got[k] = model.forward(inputs[first + k]).toFloatArray();
                    }
                    return got;
                }));
            }
            for (int t = 0; t < threads; t++) {
                float[][] got = results.get(t).get();
                for (int k = 0; k < calls; k++) assertArrayEquals(expected[t * calls + k], got[k], "thread " + t + ", call " + k);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
