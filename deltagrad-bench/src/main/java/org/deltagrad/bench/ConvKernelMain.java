package org.deltagrad.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

import org.deltagrad.kernels.Conv;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.Parallel;

/**
 * The pieces of the issue-14 CNN's two convolutions at batch 64, each timed alone in a loop (median of rounds, calling
 * thread's CPU time on one thread, wall time otherwise), with the GFLOP/s of the GEMMs:
 * {@code java -cp benchmarks.jar org.deltagrad.bench.ConvKernelMain [reps]}.
 */
public final class ConvKernelMain {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    private ConvKernelMain() {
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        System.out.println("GEMM: " + Gemm.backend().name() + "; threads " + Parallel.threads());
        shape("conv1 1x28x28 -> 16x24x24", new Conv.Plan(64, 1, 28, 28, 16, 5, 5, 1, 0), reps);
        shape("conv2 16x12x12 -> 32x8x8", new Conv.Plan(64, 16, 12, 12, 32, 5, 5, 1, 0), reps);
        float[] in = new float[64 * 16 * 24 * 24], out = new float[64 * 16 * 12 * 12];
        double[] arg = new double[out.length];
        new SplittableRandom(2).doubles(in.length).forEach(new java.util.function.DoubleConsumer() {
            int i;

            @Override
            public void accept(double v) {
                in[i++] = (float) v;
            }
        });
        time("max pool 2x2, 64x16x24x24", reps, 0, () -> {
            for (int p = 0; p < 64 * 16; p++) Conv.maxPool(24, 2, 2, 12, 12, in, p * 576, out, p * 144, arg);
        });
    }

    private static void shape(String name, Conv.Plan p, int reps) {
        SplittableRandom r = new SplittableRandom(1);
        float[] x = random(r, p.n * p.c * p.h * p.w), w = random(r, p.o * p.rows()), b = random(r, p.o);
        float[] cols = new float[p.rows() * p.cols()], colsGrad = new float[cols.length], y = new float[p.o * p.cols()];
        float[] g = random(r, y.length), dw = new float[w.length], dx = new float[x.length];
        int plane = p.h * p.w;
        double flops = 2.0 * p.o * p.rows() * p.cols();
        System.out.println(name + String.format(Locale.ROOT, " (each GEMM %.1f MFLOP)", flops / 1e6));
        time("  forward (im2col, bias, GEMM)", reps, flops, () -> p.forward(x, 0, plane, p.n * plane, w, 0, b, 0, y));
        time("  weight gradient (im2col, GEMM)", reps, flops, () -> p.weightGrad(x, 0, plane, p.n * plane, g, 0, dw, 0));
        time("  input gradient (GEMM, col2im)", reps, flops, () -> p.inputGrad(g, 0, w, 0, dx, 0, plane, p.n * plane));
        // The same products whole, on operands made once (what the GEMMs alone can do at this size)
        time("  GEMM alone: W·cols", reps, flops,
                () -> Gemm.sgemm(false, false, p.o, p.cols(), p.rows(), 1f, w, 0, p.rows(), cols, 0, p.cols(), 1f, y, 0, p.cols()));
        time("  GEMM alone: g·colsᵀ", reps, flops,
                () -> Gemm.sgemm(false, true, p.o, p.rows(), p.cols(), 1f, g, 0, p.cols(), cols, 0, p.cols(), 0f, dw, 0, p.rows()));
        time("  GEMM alone: Wᵀ·g", reps, flops,
                () -> Gemm.sgemm(true, false, p.rows(), p.cols(), p.o, 1f, w, 0, p.rows(), g, 0, p.cols(), 0f, colsGrad, 0, p.cols()));
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextDouble(-1, 1);
        return a;
    }

    private static void time(String what, int reps, double flops, Runnable body) {
        boolean cpu = Parallel.threads() == 1;
        long[] rounds = new long[7];
        for (int round = -2; round < rounds.length; round++) {
            long t0 = cpu ? MX.getCurrentThreadCpuTime() : System.nanoTime();
            for (int i = 0; i < reps; i++) body.run();
            long t = (cpu ? MX.getCurrentThreadCpuTime() : System.nanoTime()) - t0;
            if (round >= 0) rounds[round] = t;
        }
        Arrays.sort(rounds);
        double us = rounds[rounds.length / 2] / 1e3 / reps;
        System.out.printf(Locale.ROOT, "%-36s %9.1f µs%s%n", what, us, flops > 0 ? String.format(Locale.ROOT, "  %6.1f GFLOP/s", flops / us / 1e3) : "");
    }
}
