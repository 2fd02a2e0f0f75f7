package org.deltagrad.openblas;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.deltagrad.Tensor;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.GemmCase;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.train.TrainConfig;
import org.deltagrad.train.Trainer;
import org.deltagrad.train.step.CompiledStep;
import org.deltagrad.train.step.Prefetcher;
import org.deltagrad.train.step.StepBatch;
import org.deltagrad.data.DataLoader;
import org.deltagrad.nn.Conv2d;
import org.deltagrad.nn.Flatten;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.MaxPool2d;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.deltagrad.nn.Unflatten;
import org.deltagrad.optim.Adam;
import java.util.Iterator;

/**
 * Whether OpenBLAS products and short training runs give the same bits on 1, 2 and 3 threads, in this JVM, on the
 * CPU target OpenBLAS picked (or was told to take with {@code OPENBLAS_CORETYPE}). A main, so that
 * {@link ThreadCountDeterminismTest} can run it once per target: OpenBLAS reads that variable when it loads.
 * Prints one line per difference, then {@code core=<name> products=<n> runs=<n> differences=<n>}; exits 1 on any.
 */
final class ThreadCountCheck {
    private static final int[] THREADS = {1, 2, 3};

    private ThreadCountCheck() {
    }

    public static void main(String[] args) {
        Gemm.useBackend(new OpenBlasGemm());
        int products = 0, runs = 0, differences = 0;
        for (GemmCase g : cases()) {
            differences += sgemmDiffers(g) + dgemmDiffers(g);
            products += 2 * THREADS.length;
        }
        differences += trainingDiffers(new int[] {100}, 64) + trainingDiffers(new int[] {256, 128}, 512) + convTrainingDiffers();
        runs += 3 * THREADS.length;
        System.out.println("core=" + InPlaceBlas.CORE_NAME + " products=" + products + " runs=" + runs
                + " differences=" + differences + " backend=" + Gemm.backend().name());
        System.exit(differences == 0 ? 0 : 1);
    }

    /**
     * Products of a 300×257×301 shape that once differed and of odd shapes cut along either side, in every transpose,
     * and those of training 784-100-10 and 784-256-128-10 MLPs at batch 64 and 1024, as training makes them: forward
     * x·Wᵀ, weight gradient gᵀ·x added into the weights (beta 1), input gradient g·W.
     */
    static List<GemmCase> cases() {
        List<GemmCase> cases = new ArrayList<>();
        for (int[] s : new int[][] {{300, 257, 301}, {7, 1000, 600}, {1000, 7, 600}, {257, 129, 129}}) {
            for (int t = 0; t < 4; t++) {
                cases.add(new GemmCase((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], t == 3 ? -1.5 : 1, t % 2 == 0 ? 0 : 0.5));
            }
        }
        for (int batch : new int[] {64, 1024}) {
            for (int[] l : new int[][] {{784, 100}, {100, 10}, {784, 256}, {256, 128}, {128, 10}}) {
                cases.add(new GemmCase(false, true, batch, l[1], l[0], 1, 0));
                cases.add(new GemmCase(true, false, l[1], l[0], batch, -0.01, 1));
                cases.add(new GemmCase(false, false, batch, l[0], l[1], 1, 0));
            }
        }
        return cases;
    }

    private static int sgemmDiffers(GemmCase g) {
        float[] a = toFloat(g.randomA(3)), b = toFloat(g.randomB(3)), c0 = toFloat(g.initialC(3)), reference = null;
        for (int threads : THREADS) {
            float[] c = c0.clone();
            try (Parallel.Scope s = Parallel.withThreads(threads)) {
                Gemm.sgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), (float) g.alpha(), a, GemmCase.OFF, g.lda(),
                        b, GemmCase.OFF, g.ldb(), (float) g.beta(), c, GemmCase.OFF, g.ldc());
            }
            if (reference == null) {
                reference = c;
            } else if (!Arrays.equals(reference, c)) {
                System.out.println("sgemm " + g + ": " + threads + " threads differ from 1, at index " + Arrays.mismatch(reference, c));
                return 1;
            }
        }
        return 0;
    }

    private static int dgemmDiffers(GemmCase g) {
        double[] a = g.randomA(4), b = g.randomB(4), c0 = g.initialC(4), reference = null;
        for (int threads : THREADS) {
            double[] c = c0.clone();
            try (Parallel.Scope s = Parallel.withThreads(threads)) {
                Gemm.dgemm(g.transA(), g.transB(), g.m(), g.n(), g.k(), g.alpha(), a, GemmCase.OFF, g.lda(),
                        b, GemmCase.OFF, g.ldb(), g.beta(), c, GemmCase.OFF, g.ldc());
            }
            if (reference == null) {
                reference = c;
            } else if (!Arrays.equals(reference, c)) {
                System.out.println("dgemm " + g + ": " + threads + " threads differ from 1, at index " + Arrays.mismatch(reference, c));
                return 1;
            }
        }
        return 0;
    }

    /** One epoch of an MLP on 1,024 random 784-feature rows (labels from a random linear rule), per thread count. */
    private static int trainingDiffers(int[] hidden, int batch) {
        Datasets.TrainTest data = new Datasets.TrainTest(randomData(1024, 11), randomData(128, 12));
        float[] reference = null;
        for (int threads : THREADS) {
            TrainConfig config = new TrainConfig();
            config.hidden = hidden;
            config.batch = batch;
            config.epochs = 1;
            config.threads = threads;
            float[] weights = weights(new Trainer(config).fit(data, new Trainer.Listener() { }));
            if (reference == null) {
                reference = weights;
            } else if (!Arrays.equals(reference, weights)) {
                System.out.println("training 784-" + Arrays.toString(hidden) + "-10 at batch " + batch + ": " + threads
                        + " threads differ from 1, at weight " + Arrays.mismatch(reference, weights));
                return 1;
            }
        }
        return 0;
    }

    /** Eight compiled Adam steps of the issue-14 CNN (conv16x5, maxpool2, conv32x5, maxpool2, fc100) at batch 64. */
    private static int convTrainingDiffers() {
        Dataset data = randomData(512, 13);
        float[] reference = null;
        for (int threads : THREADS) {
            Sequential model = new Sequential(new Unflatten(1, 28, 28), new Conv2d(1, 16, 5, 1), new ReLU(), new MaxPool2d(2),
                    new Conv2d(16, 32, 5, 2), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(512, 100, 3), new ReLU(),
                    new Linear(100, 10, 4));
            float[] weights;
            try (Parallel.Scope s = Parallel.withThreads(threads)) {
                CompiledStep step = CompiledStep.compile(model, new Adam(model.parameters(), 0.001), TrainConfig.LossKind.CROSS_ENTROPY, 0);
                for (Iterator<StepBatch> it = new Prefetcher(new DataLoader(data, 64).shuffled(1)).epoch(0); it.hasNext(); ) {
                    step.forward(it.next());
                    step.backward();
                    step.update();
                }
                weights = flat(model.parameters());
            } catch (CompiledStep.NotCompilable e) {
                throw new AssertionError(e.getMessage());
            }
            if (reference == null) {
                reference = weights;
            } else if (!Arrays.equals(reference, weights)) {
                System.out.println("compiled CNN training: " + threads + " threads differ from 1, at weight " + Arrays.mismatch(reference, weights));
                return 1;
            }
        }
        return 0;
    }

    private static Dataset randomData(int rows, long seed) {
        int features = 784, classes = 10;
        Random r = new Random(seed);
        float[] rule = new float[features * classes];
        Random ruleRandom = new Random(7); // the same rule for training and test rows
        for (int i = 0; i < rule.length; i++) rule[i] = (float) ruleRandom.nextGaussian();
        float[] x = new float[rows * features];
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) {
            int best = 0;
            float[] score = new float[classes];
            for (int f = 0; f < features; f++) {
                float v = r.nextFloat();
                x[i * features + f] = v;
                for (int c = 0; c < classes; c++) score[c] += v * rule[f * classes + c];
            }
            for (int c = 1; c < classes; c++) if (score[c] > score[best]) best = c;
            labels[i] = best;
        }
        return new Dataset(x, features, labels, classes, null, null);
    }

    private static float[] weights(Trainer.Result result) {
        return flat(result.model().parameters());
    }

    private static float[] flat(List<Tensor> parameters) {
        int size = parameters.stream().mapToInt(p -> (int) p.numel()).sum(), at = 0;
        float[] all = new float[size];
        for (Tensor p : parameters) {
            float[] w = p.toFloatArray();
            System.arraycopy(w, 0, all, at, w.length);
            at += w.length;
        }
        return all;
    }

    private static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
        return f;
    }
}
