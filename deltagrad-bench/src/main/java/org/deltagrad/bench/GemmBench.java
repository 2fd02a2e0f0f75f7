package org.deltagrad.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.GemmBackend;
import org.deltagrad.kernels.JavaGemm;
import org.deltagrad.kernels.Parallel;
import org.deltagrad.openblas.OpenBlasGemm;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Float32 GEMM throughput per backend and shape. Besides calls/s, JMH reports the secondary result
 * {@code mflop} in "ops/s": the rate of millions of floating-point operations (2mnk per call), i.e.
 * MFLOP/s; divide by 1000 for GFLOP/s.
 *
 * <p>Shapes: squares, and a 784-100 MLP layer at batch 64 and 1024: forward {@code Y = X·W}, and the
 * backward products {@code dW = Xᵀ·dY} (transA) and {@code dX = dY·Wᵀ} (transB); {@code fwdT} is the
 * forward as the engine's {@code linear} computes it, {@code X·Wᵀ} with W stored 100×784 (transB).
 */
@State(Scope.Benchmark)
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GemmBench {
    /**
     * {@code java}: the default pure-Java backend (Vector API kernel, as this benchmark's forks add the
     * module); {@code javaAutovec}: the pure-Java kernel left to C2's auto-vectoriser; {@code openblas}.
     */
    @Param({"java", "openblas"})
    public String backend;

    /** Threads for both backends (our pool and OpenBLAS's); empty means the machine's default. */
    @Param({""})
    public String threads;

    @Param({"square256", "square1024", "fwd64", "fwd1024", "fwdT64", "fwdT1024", "dW64", "dX64", "dW1024", "dX1024"})
    public String shape;

    boolean transA;
    boolean transB;
    int m;
    int n;
    int k;
    float[] a;
    float[] b;
    float[] c;

    @Setup
    public void setup() {
        if (!threads.isEmpty()) Parallel.setThreads(Integer.parseInt(threads));
        switch (shape) {
            case "square256" -> dims(false, false, 256, 256, 256);
            case "square1024" -> dims(false, false, 1024, 1024, 1024);
            case "fwd64" -> dims(false, false, 64, 100, 784);
            case "fwd1024" -> dims(false, false, 1024, 100, 784);
            case "fwdT64" -> dims(false, true, 64, 100, 784);
            case "fwdT1024" -> dims(false, true, 1024, 100, 784);
            case "dW64" -> dims(true, false, 784, 100, 64);
            case "dX64" -> dims(false, true, 64, 784, 100);
            case "dW1024" -> dims(true, false, 784, 100, 1024);
            case "dX1024" -> dims(false, true, 1024, 784, 100);
            default -> throw new IllegalArgumentException("unknown shape " + shape);
        }
        Random r = new Random(42);
        a = random(r, m * k);
        b = random(r, k * n);
        c = new float[m * n];
        GemmBackend chosen = switch (backend) {
            case "java" -> new JavaGemm();
            case "javaAutovec" -> {
                System.setProperty("deltagrad.gemm.vector", "false");
                yield new JavaGemm();
            }
            case "openblas" -> new OpenBlasGemm();
            default -> throw new IllegalArgumentException("unknown backend " + backend);
        };
        Gemm.useBackend(chosen);
    }

    @TearDown
    public void tearDown() {
        Gemm.useBackend(null);
    }

    private void dims(boolean ta, boolean tb, int mm, int nn, int kk) {
        transA = ta;
        transB = tb;
        m = mm;
        n = nn;
        k = kk;
    }

    private static float[] random(Random r, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = r.nextFloat() - 0.5f;
        return x;
    }

    /** Counts floating-point work so JMH prints its rate next to the call rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public long mflop;
        long flops;

        @Setup(Level.Iteration)
        public void reset() {
            mflop = 0;
            flops = 0;
        }

        void add(long f) {
            flops += f;
            mflop = flops / 1_000_000;
        }
    }

    @Benchmark
    public float[] sgemm(Flops counter) {
        Gemm.sgemm(transA, transB, m, n, k, 1f, a, 0, transA ? m : k, b, 0, transB ? k : n, 0f, c, 0, n);
        counter.add(2L * m * n * k);
        return c;
    }
}
