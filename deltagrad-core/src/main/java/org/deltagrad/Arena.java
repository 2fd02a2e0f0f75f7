package org.deltagrad;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Reuses tensor memory across the iterations of a loop, the way Deeplearning4j's workspaces and PyTorch's
 * caching allocator do: while a {@link Scope} of the arena is open on a thread, every tensor that thread
 * creates takes its array from the arena (one left over from an earlier scope, when one of that length is
 * free); when the scope closes, all of them go back. A training step allocates the same sizes in the same
 * order every time, so from the second step on it allocates no tensor memory at all, and the memory it
 * touches is the memory the previous step left in the cache.
 *
 * <pre>{@code
 * Arena arena = new Arena();
 * for (Batch b : loader) {
 *     try (Arena.Scope step = arena.open()) {
 *         optimizer.zeroGrad();
 *         model.forward(b.x()) ... loss.backward(); optimizer.step();
 *         optimizer.zeroGrad();   // the gradients live in the arena: drop them before it takes them back
 *     }
 * }
 * }</pre>
 *
 * <p>The rule: a tensor created inside a scope must not be used after the scope closes. This is checked,
 * not trusted: closing the scope detaches every such tensor from its memory, so a later read or write fails
 * with an {@link IllegalStateException} (or, deep inside a kernel, an index error) instead of silently
 * seeing another step's numbers. State that must outlive the step (an optimiser's moments, say) is created
 * with {@link #outside}. Tensors made from user arrays ({@code Tensor.of}) are never taken back.
 *
 * <p>An arena belongs to the thread that opens it; scopes do not nest. Kernels that run on the worker pool
 * write into outputs the calling thread allocated, so they need nothing from the arena.
 */
public final class Arena {
    private static final ThreadLocal<Arena> CURRENT = new ThreadLocal<>();

    private final Map<Integer, ArrayDeque<float[]>> freeFloats = new HashMap<>();
    private final Map<Integer, ArrayDeque<double[]>> freeDoubles = new HashMap<>();
    private final List<Storage> lent = new ArrayList<>();
    private Thread owner;
    private long reused, allocated;

    /** One open scope; closing it returns every array handed out since {@link #open()}. */
    public final class Scope implements AutoCloseable {
        private boolean closed;

        private Scope() {
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            CURRENT.remove();
            owner = null;
            // Give arrays back in reverse order, so that the next scope's first request gets this scope's first array.
            for (int i = lent.size() - 1; i >= 0; i--) {
                Storage s = lent.get(i);
                if (s.floats != null) freeFloats.computeIfAbsent(s.floats.length, k -> new ArrayDeque<>()).push(s.floats);
                else freeDoubles.computeIfAbsent(s.doubles.length, k -> new ArrayDeque<>()).push(s.doubles);
                s.release();
            }
            lent.clear();
        }
    }

    /** Makes this arena the current thread's allocator until the returned scope is closed. */
    public Scope open() {
        if (CURRENT.get() != null) {
            throw new IllegalStateException("Arena.open: this thread already has an open arena scope; scopes do not nest");
        }
        if (owner != null) {
            throw new IllegalStateException("Arena.open: the arena is open on thread '" + owner.getName()
                    + "'; an arena serves one thread at a time");
        }
        owner = Thread.currentThread();
        CURRENT.set(this);
        return new Scope();
    }

    /** Runs {@code body} with ordinary, garbage-collected allocation, e.g. to create state that outlives the scope. */
    public static <T> T outside(Supplier<T> body) {
        Arena a = CURRENT.get();
        if (a == null) return body.get();
        CURRENT.remove();
        try {
            return body.get();
        } finally {
            CURRENT.set(a);
        }
    }

    /** Whether the current thread is inside a scope. */
    public static boolean active() {
        return CURRENT.get() != null;
    }

    /** Arrays handed out again from earlier scopes, and arrays this arena had to allocate, since it was made. */
    public long reusedCount() {
        return reused;
    }

    public long allocatedCount() {
        return allocated;
    }

    /**
     * Storage for n elements from the current thread's arena, or null when no scope is open. {@code zero}: the
     * caller relies on zeros (a reused array is cleared); otherwise the caller overwrites every element.
     */
    static Storage take(DType dtype, int n, boolean zero) {
        Arena a = CURRENT.get();
        return a == null ? null : a.lend(dtype, n, zero);
    }

    private Storage lend(DType dtype, int n, boolean zero) {
        Storage s;
        if (dtype == DType.FLOAT32) {
            ArrayDeque<float[]> free = freeFloats.get(n);
            float[] x = free == null ? null : free.poll();
            if (x == null) {
                x = new float[n];
                allocated++;
            } else {
                reused++;
                if (zero) java.util.Arrays.fill(x, 0f);
            }
            s = new Storage(x);
        } else {
            ArrayDeque<double[]> free = freeDoubles.get(n);
            double[] x = free == null ? null : free.poll();
            if (x == null) {
                x = new double[n];
                allocated++;
            } else {
                reused++;
                if (zero) java.util.Arrays.fill(x, 0d);
            }
            s = new Storage(x);
        }
        lent.add(s);
        return s;
    }
}
