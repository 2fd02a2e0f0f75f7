package org.deltagrad.bench;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.nn.Conv2d;
import org.deltagrad.nn.Flatten;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.MaxPool2d;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.deltagrad.nn.Unflatten;
import org.deltagrad.optim.Adam;
import org.deltagrad.train.TrainConfig.LossKind;
import org.deltagrad.train.step.CompiledStep;
import org.deltagrad.train.step.Prefetcher;
import org.deltagrad.train.step.StepBatch;
import org.deltagrad.train.step.TrainingStep;

/**
 * The issue-14 CNN on Fashion-MNIST (Adam 0.001, batch 64, float32), trained as the Trainer trains, epoch times
 * printed: {@code java -cp benchmarks.jar org.deltagrad.bench.ConvTrainMain [warmup] [timed] [dataDir]}, until
 * {@code deltagrad bench train --arch} covers it. With {@code -Ddeltagrad.step.profile=true} it prints each stage's
 * forward and backward time per timed epoch.
 */
public final class ConvTrainMain {
    private ConvTrainMain() {
    }

    public static void main(String[] args) {
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 3, timed = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Dataset data = Datasets.load(Datasets.FASHION_MNIST, args.length > 2 ? java.nio.file.Path.of(args[2]) : null).train();
        Sequential model = new Sequential(new Unflatten(1, 28, 28), new Conv2d(1, 16, 5, 1), new ReLU(), new MaxPool2d(2),
                new Conv2d(16, 32, 5, 2), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(512, 100, 3), new ReLU(),
                new Linear(100, 10, 4));
        TrainingStep step = TrainingStep.of(model, new Adam(model.parameters(), 0.001), LossKind.CROSS_ENTROPY, 0);
        System.out.println("step: " + step.description() + "; GEMM: " + Gemm.backend().name() + "; threads " + Parallel.threads());
        Prefetcher batches = new Prefetcher(new DataLoader(data, 64).shuffled(1));
        List<Double> times = new ArrayList<>();
        for (int epoch = 0; epoch < warmup + timed; epoch++) {
            long t0 = System.nanoTime();
            double loss = 0;
            int correct = 0;
            for (Iterator<StepBatch> it = batches.epoch(epoch); it.hasNext(); ) {
                loss = step.forward(it.next());
                step.backward();
                step.update();
                correct += step.correct();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "epoch %d%s %.3f s  loss %.4f  train accuracy %.4f%n", epoch + 1, epoch < warmup ? " (warm-up)" : "",
                    s, loss, correct / (double) data.size());
            if (step instanceof CompiledStep c) {
                String profile = c.profile();
                if (epoch >= warmup) System.out.print(profile);
            }
            if (epoch >= warmup) times.add(s);
        }
        times.sort(null);
        System.out.printf(Locale.ROOT, "median timed epoch %.3f s%n", times.get(times.size() / 2));
    }
}
