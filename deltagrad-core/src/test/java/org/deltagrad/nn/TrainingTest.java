package org.deltagrad.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.optim.Adam;
import org.deltagrad.optim.GradClip;
import org.deltagrad.optim.LrSchedule;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.optim.SGD;
import org.junit.jupiter.api.Test;

/** End to end: small MLPs reach 100% training accuracy in a fixed number of full-batch steps (fixed seeds). */
class TrainingTest {
    static final Tensor XOR_X = Tensor.of(new float[] {0, 0, 0, 1, 1, 0, 1, 1}, 4, 2);
    static final Tensor XOR_Y = Tensor.of(new float[] {0, 1, 1, 0}, 4, 1);

    /** Runs {@code steps} full-batch updates and returns the last loss. */
    static double train(Module net, Optimizer opt, Loss loss, Tensor x, Tensor y, int steps) {
        double last = Double.NaN;
        for (int i = 0; i < steps; i++) {
            opt.zeroGrad();
            Tensor l = loss.apply(net.forward(x), y);
            l.backward();
            opt.step();
            last = l.item();
        }
        return last;
    }

    @Test
    void xorWithAdamAndBinaryCrossEntropyFromLogits() {
        SplittableRandom rng = new SplittableRandom(1);
        Sequential net = new Sequential(new Linear(2, 8, Init.XAVIER_UNIFORM, rng), new Tanh(), new Linear(8, 1, Init.XAVIER_UNIFORM, rng));
        double loss = train(net, new Adam(net.parameters(), 0.05), Losses.binaryCrossEntropyWithLogits(), XOR_X, XOR_Y, 300);
        assertTrue(loss < 0.05, "loss " + loss);
        float[] out;
        try (Autograd.Scope s = Autograd.noGrad()) {
            out = net.eval().forward(XOR_X).toFloatArray();
        }
        float[] want = XOR_Y.toFloatArray();
        for (int i = 0; i < 4; i++) assertEquals(want[i] == 1, out[i] > 0, "example " + i);
    }

    @Test
    void xorWithNielsensSigmoidNetworkQuadraticCostAndSgd() {
        SplittableRandom rng = new SplittableRandom(2);
        Sequential net = new Sequential(new Linear(2, 4, Init.NIELSEN, rng), new Sigmoid(), new Linear(4, 1, Init.NIELSEN, rng), new Sigmoid());
        train(net, new SGD(net.parameters(), 3.0, 0.9), Losses.quadratic(), XOR_X, XOR_Y, 1000);
        float[] out = net.forward(XOR_X).toFloatArray();
        float[] want = XOR_Y.toFloatArray();
        for (int i = 0; i < 4; i++) assertEquals(want[i] == 1, out[i] > 0.5, "example " + i + ": " + out[i]);
    }

    /** Three interleaved spiral arms of {@code perClass} points each (labels 0, 1, 2), with a little noise. */
    static Tensor[] spiral(int perClass, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 3 * perClass;
        float[] x = new float[2 * n], y = new float[n];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < perClass; i++) {
                int k = c * perClass + i;
                double r = (i + 1.0) / perClass; // from 1/perClass, so the arms do not share the origin
                double angle = c * 2 * Math.PI / 3 + 1.75 * Math.PI * r + 0.1 * (rng.nextDouble() - 0.5);
                x[2 * k] = (float) (r * Math.cos(angle));
                x[2 * k + 1] = (float) (r * Math.sin(angle));
                y[k] = c;
            }
        }
        return new Tensor[] {Tensor.of(x, n, 2), Tensor.of(y, n)};
    }

    @Test
    void spiralWithReluMlpCrossEntropyNesterovScheduleAndClipping() {
        Tensor[] data = spiral(40, 3);
        Tensor x = data[0], labels = data[1];
        SplittableRandom rng = new SplittableRandom(4);
        Sequential net = new Sequential(new Linear(2, 32, Init.HE_NORMAL, rng), new ReLU(),
                new Linear(32, 32, Init.HE_NORMAL, rng), new ReLU(), new Linear(32, 3, Init.HE_NORMAL, rng));
        SGD sgd = new SGD(net.parameters(), 0.1, 0.9, 0, true, 1e-4);
        int steps = 400;
        LrSchedule schedule = LrSchedule.cosine(0.1, steps, 0.01);
        for (int step = 0; step < steps; step++) {
            sgd.setLearningRate(schedule.lr(step));
            sgd.zeroGrad();
            Losses.crossEntropy(net.forward(x), labels).backward();
            GradClip.clipGradNorm(net.parameters(), 5);
            sgd.step();
        }
        Tensor predicted = net.forward(x).argmax(1, false);
        double[] p = predicted.toDoubleArray(), want = labels.toDoubleArray();
        int correct = 0;
        for (int i = 0; i < p.length; i++) if (p[i] == want[i]) correct++;
        assertEquals(p.length, correct, "training accuracy " + correct + "/" + p.length);
        assertEquals(DType.FLOAT32, net.parameters().get(0).dtype());
    }
}
