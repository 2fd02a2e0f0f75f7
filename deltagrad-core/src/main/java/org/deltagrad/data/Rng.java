package org.deltagrad.data;

/**
 * SplitMix64 with its algorithm written out here, so seeded shuffles and generated data are the
 * same on every JVM and JDK version (java.util generators only promise their algorithm loosely).
 */
final class Rng {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private long state;

    Rng(long seed) {
        this.state = seed;
    }

    /** A generator for the {@code stream}-th independent sequence of {@code seed} (e.g. one per epoch). */
    static Rng forStream(long seed, long stream) {
        return new Rng(mix64(seed ^ mix64(stream * GOLDEN_GAMMA + GOLDEN_GAMMA)));
    }

    long nextLong() {
        state += GOLDEN_GAMMA;
        return mix64(state);
    }

    /** Uniform in [0, bound), without modulo bias (Lemire's multiply-and-reject). */
    int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive: " + bound);
        long threshold = (1L << 32) % bound;
        while (true) {
            long product = (nextLong() >>> 32) * bound;
            if ((product & 0xFFFFFFFFL) >= threshold) return (int) (product >>> 32);
        }
    }

    /** Uniform in [0, 1) with 53 random bits. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Standard normal by the Box–Muller transform (one of the pair; simple beats fast here). */
    double nextGaussian() {
        double u = 1.0 - nextDouble(); // (0, 1]: log(0) would be -infinity
        double v = nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v);
    }

    /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
    int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
