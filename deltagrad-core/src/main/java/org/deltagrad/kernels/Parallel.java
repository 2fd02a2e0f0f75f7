package org.deltagrad.kernels;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The library's shared worker pool: a fixed set of daemon threads that help the calling thread run
 * the chunks of a range. Kernels use it instead of their own executors so that the whole library
 * never runs more compute threads than {@link #threads()}.
 *
 * <p>The calling thread always takes part and can finish every chunk alone, so a busy or shrinking
 * pool only costs speed, never a deadlock; a call made from inside a worker runs sequentially.
 *
 * <p>The thread count is the process default ({@link #setThreads}) unless the calling thread opened a
 * {@link #withThreads} scope: that limit holds for its own calls only (and for the workers while they run its
 * chunks), so concurrent callers with their own counts do not change each other's.
 */
public final class Parallel {
    /** The body of a parallel loop: handles indices {@code [from, to)}. */
    @FunctionalInterface
    public interface IntRangeBody {
        void run(int from, int to);
    }

    private static final Object LOCK = new Object();
    /** How long an idle worker polls for the next job before it parks (-Ddeltagrad.spinMicros, default 200). */
    private static final long SPIN_NANOS = 1000L * Long.getLong("deltagrad.spinMicros", 200L);
    /** The first part of that wait, spent busy rather than yielding (-Ddeltagrad.busyMicros, default 50). */
    private static final long BUSY_NANOS = 1000L * Long.getLong("deltagrad.busyMicros", 50L);
    private static volatile int threads = initialThreads();
    private static volatile Pool pool;
    /** The innermost open {@link Scope} of each thread, if any. */
    private static final ThreadLocal<Scope> SCOPE = new ThreadLocal<>();

    private Parallel() {
    }

    /**
     * The number of threads (workers plus the caller) that parallel kernels use for the calling thread: its
     * innermost {@link #withThreads} scope's, else the process default. On a worker running a caller's chunk, the
     * caller's count, so that code deciding by it decides the same whoever runs the chunk.
     */
    public static int threads() {
        Thread t = Thread.currentThread();
        if (t instanceof Worker) {
            Job job = ((Worker) t).current;
            return job != null ? job.threads : threads;
        }
        Scope s = SCOPE.get();
        return s != null ? s.threads : threads;
    }

    /** The process default thread count, which {@link #withThreads} scopes do not change. */
    public static int defaultThreads() {
        return threads;
    }

    /** Sets the process default thread count (at least 1); later calls use a pool of {@code n - 1} workers. */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        synchronized (LOCK) {
            threads = n;
            Pool old = pool;
            pool = null;
            if (old != null) old.shutdown();
        }
    }

    /**
     * Limits the calling thread's parallel kernels to {@code n} threads (at least 1) until the returned scope is
     * closed, without touching the process default or any other thread: {@code try (Parallel.Scope s =
     * Parallel.withThreads(2)) {...}}. Scopes nest; close them in reverse order, on the thread that opened them.
     */
    public static Scope withThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        Scope s = new Scope(n, SCOPE.get());
        SCOPE.set(s);
        return s;
    }

    /** A thread count for the calling thread, from {@link #withThreads} until {@link #close()}. */
    public static final class Scope implements AutoCloseable {
        private final int threads;
        private final Scope outer;
        private final Thread owner = Thread.currentThread();
        private boolean closed;

        private Scope(int threads, Scope outer) {
            this.threads = threads;
            this.outer = outer;
        }

        /** This scope's thread count. */
        public int threads() {
            return threads;
        }

        /** Restores the thread count that held when the scope was opened; a second close does nothing. */
        @Override
        public void close() {
            if (closed) return;
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException("Parallel.Scope closed on " + Thread.currentThread().getName()
                        + ", opened on " + owner.getName());
            }
            if (SCOPE.get() != this) throw new IllegalStateException("Parallel.Scope closed out of order (an inner scope is open)");
            closed = true;
            if (outer == null) SCOPE.remove(); else SCOPE.set(outer);
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous chunks of
     * at least {@code grain} indices each. The split depends on {@code n}, {@code grain} and the thread
     * count: bodies whose results depend on where a chunk starts must use {@link #forEachPiece} instead.
     * Returns when every chunk is done and rethrows the first failure.
     */
    public static void forRange(int n, int grain, IntRangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(threads(), Math.max(1, n / Math.max(1, grain)));
        if (chunks == 1 || Thread.currentThread() instanceof Worker) {
            body.run(0, n);
            return;
        }
        // Fixed boundaries: chunk c is the same range whoever runs it.
        forEachPiece(chunks, c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
    }

    /**
     * Runs {@code piece.accept(0 .. pieces-1)}, each piece whole on one thread: on up to {@link #threads()} threads,
     * which claim pieces one at a time, or in order on the calling thread alone. The pieces are the caller's (e.g.
     * fixed by a product's shape), so what each computes does not depend on the thread count. Returns when every
     * piece is done and rethrows the first failure.
     */
    public static void forEachPiece(int pieces, IntConsumer piece) {
        if (pieces <= 0) return;
        int limit = threads(), helpers = Math.min(limit, pieces) - 1;
        if (helpers == 0 || Thread.currentThread() instanceof Worker) {
            for (int i = 0; i < pieces; i++) piece.accept(i);
            return;
        }
        Job job = new Job(pieces, piece, limit);
        Pool p = pool(helpers);
        for (int i = 0; i < helpers; i++) {
            if (!p.queue.offer(job)) break; // queue full: the caller does the rest itself
        }
        p.posted++;
        job.work();
        job.await(p);
    }

    /**
     * Starts work that idle workers do piece by piece in the background, between the pool's fork-join jobs (which
     * always come first: a worker checks for one after every piece), e.g. preparing the next input while the current
     * one is worked on. {@link Background#join()} runs whatever is left on the calling thread and waits for the
     * pieces in flight, so the work is done whether or not a worker was free. Pieces must be independent.
     */
    public static Background background(int pieces, IntConsumer piece) {
        Background b = new Background(pieces, piece);
        if (threads() > 1 && pieces > 0) {
            Pool p = pool(1);
            p.background = b;
            p.posted++;
            p.queue.offer(WAKE); // a parked worker wakes up and finds the pieces
        }
        return b;
    }

    /** Background work started by {@link #background}. */
    public static final class Background {
        private final int pieces;
        private final IntConsumer piece;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        private Background(int pieces, IntConsumer piece) {
            this.pieces = pieces;
            this.piece = piece;
        }

        /** Runs one unclaimed piece; false when none is left. */
        boolean runOne() {
            int i = next.getAndIncrement();
            if (i >= pieces) return false;
            try {
                piece.accept(i);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                done.incrementAndGet();
            }
            return true;
        }

        /** Finishes the work (running the unclaimed pieces here) and rethrows the first failure. */
        public void join() {
            while (runOne()) {
                // the caller helps
            }
            while (done.get() < pieces) Thread.onSpinWait();
            Throwable t = failure.get();
            if (t instanceof RuntimeException) throw (RuntimeException) t;
            if (t instanceof Error) throw (Error) t;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    /** A job with nothing to do: posted to wake a parked worker for background work. */
    private static final Job WAKE = new Job(0, i -> { }, 1);

    /**
     * The pool, with at least {@code helpers} workers: as many as the process default asks for, more when a scope
     * asks for more (they stay until the next {@link #setThreads}).
     */
    private static Pool pool(int helpers) {
        Pool p = pool;
        if (p != null && p.size >= helpers) return p;
        synchronized (LOCK) {
            if (pool == null) pool = new Pool();
            pool.grow(Math.max(helpers, threads - 1));
            return pool;
        }
    }

    private static int initialThreads() {
        String prop = System.getProperty("deltagrad.threads");
        if (prop != null && !prop.isBlank()) {
            try {
                int n = Integer.parseInt(prop.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the default
            }
            System.getLogger(Parallel.class.getName()).log(System.Logger.Level.WARNING,
                    "deltagrad: ignoring invalid -Ddeltagrad.threads=" + prop);
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** One forEachPiece call: pieces are claimed with an atomic counter by the caller and any helpers. */
    private static final class Job {
        final int chunks;
        final IntConsumer body;
        /** The caller's thread count, which {@link #threads()} reports on a worker running this job. */
        final int threads;
        final Thread caller = Thread.currentThread();
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int chunks, IntConsumer body, int threads) {
            this.chunks = chunks;
            this.body = body;
            this.threads = threads;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    body.accept(c);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
                if (done.incrementAndGet() == chunks) LockSupport.unpark(caller);
            }
        }

        /**
         * Waits for the chunks that others took, running background pieces meanwhile if any are left: otherwise the
         * caller idles while a worker still has background work queued behind its chunk.
         */
        void await(Pool p) {
            for (int spins = 0; done.get() < chunks; spins++) {
                if (p.runBackgroundPiece()) spins = 0;
                else if (spins < 2000) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException) throw (RuntimeException) t;
            if (t instanceof Error) throw (Error) t;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    private static final class Worker extends Thread {
        private final BlockingQueue<Job> queue;
        private final Pool pool;
        /** The job whose chunks this worker runs now, if any (read by this thread only). */
        Job current;

        Worker(Pool pool, int index) {
            super("deltagrad-worker-" + index);
            this.pool = pool;
            this.queue = pool.queue;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                while (!isInterrupted()) {
                    Job job = nextJob();
                    current = job;
                    try {
                        job.work();
                    } finally {
                        current = null;
                    }
                }
            } catch (InterruptedException e) {
                // shut down by setThreads
            }
        }

        /**
         * The next job. Polls for a while before blocking: kernels arrive in quick succession, and waking a parked
         * thread costs about as much as a small kernel (futex wake-up and rescheduling on a VM). OpenMP
         * runtimes and OpenBLAS's own threads spin the same way before they sleep. While idle it runs background
         * pieces. It busy-spins through the short gaps between the kernels of a step, then yields, so that on two
         * cores the JIT compiler threads get a turn (a worker that yields at once can lose its core for a whole time
         * slice, and then the caller runs every chunk itself).
         */
        private Job nextJob() throws InterruptedException {
            long seen = pool.posted;
            Job job = queue.poll();
            long idleSince = System.nanoTime();
            while (job == null) {
                long idle = System.nanoTime() - idleSince;
                if (idle > SPIN_NANOS) return queue.take();
                if (pool.posted != seen) { // a volatile read while idle, not the queue, whose lock the caller needs to post
                    seen = pool.posted;
                    job = queue.poll();
                } else if (pool.runBackgroundPiece()) {
                    idleSince = System.nanoTime();
                } else if (idle < BUSY_NANOS) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            return job;
        }

    }

    private static final class Pool {
        final BlockingQueue<Job> queue = new ArrayBlockingQueue<>(1024);
        /** Its workers; only added to (under LOCK) until shutdown. */
        final java.util.List<Worker> workers = new java.util.ArrayList<>();
        /** How many workers it has: read without the lock to skip growing. */
        volatile int size;
        /** Bumped after each post, so that spinning workers notice work without touching the queue. */
        volatile long posted;
        /** Work for idle workers, see {@link Parallel#background}. */
        volatile Background background;

        /** Starts workers until there are {@code n}; called under LOCK. */
        void grow(int n) {
            while (workers.size() < n) {
                Worker w = new Worker(this, workers.size() + 1);
                workers.add(w);
                w.start();
            }
            size = workers.size();
        }

        /** Called under LOCK. */
        void shutdown() {
            for (Worker w : workers) w.interrupt();
        }

        /** Runs one piece of the background work, if any is left. */
        boolean runBackgroundPiece() {
            Background b = background;
            if (b == null) return false;
            if (b.runOne()) return true;
            if (background == b) background = null; // exhausted (a newer one may have replaced it)
            return false;
        }
    }
}
