package org.deltagrad.train.step;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.nn.AvgPool2d;
import org.deltagrad.nn.Conv2d;
import org.deltagrad.nn.Dropout;
import org.deltagrad.nn.Flatten;
import org.deltagrad.nn.Identity;
import org.deltagrad.nn.Init;
import org.deltagrad.nn.LeakyReLU;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.MaxPool2d;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.deltagrad.nn.Tanh;
import org.deltagrad.nn.Unflatten;
import org.deltagrad.optim.Adam;
import org.deltagrad.train.TrainConfig.LossKind;
import org.deltagrad.train.step.CompiledStepTest.Config;
import org.junit.jupiter.api.Test;

/**
 * The compiled step's image part (Unflatten, Conv2d, pooling, Flatten) against the eager step: both run the same
 * float32 convolution kernel ({@code kernels.Conv.Plan}) with the same GEMM calls, pool plane by plane with the same
 * loops and sum the bias gradients in the eager order, so over 200 steps the losses, predictions and parameters are
 * the same bits, whatever the thread count.
 */
class CompiledConvStepTest {
    /** The first 2,000 Fashion-MNIST training images: with batch 64 the 32nd batch of each epoch has 16 rows. */
    private static Dataset fashion() {
        Dataset all = Datasets.load(Datasets.FASHION_MNIST, null).train();
        int[] rows = new int[2000];
        for (int i = 0; i < rows.length; i++) rows[i] = i;
        return all.subset(rows);
    }

    /** The CNN, narrowed (6 and 12 channels, 48 hidden) so that 200 eager steps stay quick. */
    private static Sequential lenet(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return new Sequential(new Unflatten(1, 28, 28), conv(1, 6, 5, 1, 0, rng), new ReLU(), new MaxPool2d(2),
                conv(6, 12, 5, 1, 0, rng), new ReLU(), new MaxPool2d(2), new Flatten(),
                new Linear(12 * 4 * 4, 48, Init.PYTORCH_DEFAULT, rng), new ReLU(), new Linear(48, 10, Init.PYTORCH_DEFAULT, rng));
    }

    private static Conv2d conv(int in, int out, int k, int stride, int pad, SplittableRandom rng) {
        return new Conv2d(in, out, k, stride, pad, Init.PYTORCH_DEFAULT, rng, DType.FLOAT32, true);
    }

    @Test
    void theCnnGivesTheEagerBits() {
        Dataset data = fashion();
        for (String opt : new String[] {"adam", "sgd"}) { // plain SGD is not folded in a network with convolutions
            CompiledStepTest.run(data, new Config(() -> lenet(3), LossKind.CROSS_ENTROPY, opt, opt.equals("adam") ? 0.001 : 0.05,
                    0, 0, 64, "cnn " + opt)).assertSameBits();
        }
    }

    /**
     * Two channels from the start (each row read as [2, 14, 28], so the rows are put into CNHW order and back),
     * padding, a stride, average pooling, a conv without bias, other activations, an Identity, the quadratic cost,
     * clipping and weight decay.
     */
    @Test
    void otherGeometriesAndLayersGiveTheEagerBits() {
        Dataset data = fashion();
        Supplier<Sequential> model = () -> {
            SplittableRandom rng = new SplittableRandom(5);
            return new Sequential(new Unflatten(2, 14, 28), conv(2, 5, 3, 1, 1, rng), new Tanh(), new AvgPool2d(2),
                    new Conv2d(5, 7, 3, 2, 1, Init.HE_NORMAL, rng, DType.FLOAT32, false), new LeakyReLU(0.1), new Identity(),
                    new MaxPool2d(3, 2), new Flatten(), new Linear(7 * 1 * 3, 10, Init.PYTORCH_DEFAULT, rng));
        };
        CompiledStepTest.run(data, new Config(model, LossKind.CROSS_ENTROPY, "momentum", 0.05, 1e-3, 0.5, 32, "geometries momentum"))
                .assertSameBits();
        CompiledStepTest.run(data, new Config(model, LossKind.MSE, "rmsprop", 0.003, 0, 0, 50, "geometries rmsprop mse"))
                .assertSameBits();
    }

    /** The same compiled CNN on 1, 2 and 3 threads: the same parameters after 40 steps. */
    @Test
    void theBitsDoNotDependOnTheThreadCount() {
        Dataset data = fashion();
        float[] reference = null;
        for (int threads : new int[] {1, 2, 3}) {
            float[] params;
            try (Parallel.Scope s = Parallel.withThreads(threads)) {
                params = trainCompiled(data, 40);
            }
            if (reference == null) reference = params; else assertArrayEquals(reference, params, threads + " threads against 1");
        }
    }

    /** The parameters of {@link #lenet} after {@code steps} compiled Adam steps, end to end in one array. */
    static float[] trainCompiled(Dataset data, int steps) {
        Sequential model = lenet(9);
        CompiledStep step;
        try {
            step = CompiledStep.compile(model, new Adam(model.parameters(), 0.002), LossKind.CROSS_ENTROPY, 0);
        } catch (CompiledStep.NotCompilable e) {
            throw new AssertionError(e.getMessage());
        }
        Prefetcher batches = new Prefetcher(new DataLoader(data, 64).shuffled(1));
        int done = 0;
        for (int epoch = 0; done < steps; epoch++) {
            for (Iterator<StepBatch> it = batches.epoch(epoch); it.hasNext() && done < steps; done++) {
                step.forward(it.next());
                step.backward();
                step.update();
            }
        }
        List<Tensor> ps = model.parameters();
        float[] all = new float[ps.stream().mapToInt(p -> (int) p.numel()).sum()];
        int at = 0;
        for (Tensor p : ps) {
            float[] v = p.toFloatArray();
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return all;
    }

    @Test
    void whatItCannotRunGoesToTheEagerStep() {
        SplittableRandom rng = new SplittableRandom(1);
        Sequential noUnflatten = new Sequential(conv(1, 2, 3, 1, 0, rng), new Flatten(), new Linear(2 * 26 * 26, 10, 1));
        assertEquals("eager: layer 0 (Conv2d) gets no images: Unflatten first", describe(noUnflatten));
        Sequential dropout = new Sequential(new Unflatten(1, 28, 28), conv(1, 2, 3, 1, 0, rng), new Dropout(0.5, 1), new Flatten(),
                new Linear(2 * 26 * 26, 10, 1));
        assertEquals("eager: layer 2 (Dropout) works on images (Flatten first)", describe(dropout));
        Sequential noFlatten = new Sequential(new Unflatten(1, 28, 28), conv(1, 2, 3, 1, 0, rng));
        assertEquals("eager: the model's output is images, not a row of class scores (Flatten missing)", describe(noFlatten));
        Sequential ok = new Sequential(new Unflatten(1, 28, 28), conv(1, 2, 3, 1, 0, rng), new Flatten(), new Linear(2 * 26 * 26, 10, 1));
        assertInstanceOf(CompiledStep.class, TrainingStep.of(ok, new Adam(ok.parameters(), 0.01), LossKind.CROSS_ENTROPY, 0));
    }

    private static String describe(Sequential model) {
        return TrainingStep.of(model, new Adam(model.parameters(), 0.01), LossKind.CROSS_ENTROPY, 0).description();
    }
}
