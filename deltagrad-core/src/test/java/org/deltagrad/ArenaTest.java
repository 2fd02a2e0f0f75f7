package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Losses;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.Sequential;
import org.deltagrad.optim.Adam;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.optim.SGD;
import org.junit.jupiter.api.Test;

class ArenaTest {

    @Test
    void aSecondScopeReusesTheFirstScopesArrays() {
        Arena arena = new Arena();
        try (Arena.Scope s = arena.open()) {
            Tensor.ones(3, 4).mul(2);
        }
        long first = arena.allocatedCount();
        assertEquals(3, first, "ones, the scalar 2 and the product");
        try (Arena.Scope s = arena.open()) {
            Tensor t = Tensor.ones(3, 4).mul(2);
            assertArrayEquals(new float[] {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, t.toFloatArray());
        }
        assertEquals(first, arena.allocatedCount(), "the second scope allocated nothing new");
        assertEquals(first, arena.reusedCount());
    }

    @Test
    void zerosFromAReusedArrayAreZeros() {
        Arena arena = new Arena();
        try (Arena.Scope s = arena.open()) {
            Tensor.full(DType.FLOAT64, 7, 5);
        }
        try (Arena.Scope s = arena.open()) {
            Tensor z = Tensor.zeros(DType.FLOAT64, 5);
            assertEquals(1, arena.reusedCount());
            assertArrayEquals(new double[5], z.toDoubleArray());
        }
    }

    @Test
    void aTensorUsedAfterItsScopeClosedFailsClearly() {
        Arena arena = new Arena();
        Tensor kept, total;
        try (Arena.Scope s = arena.open()) {
            kept = Tensor.ones(4).add(Tensor.ones(4));
            total = kept.sum();
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, total::item);
        assertTrue(e.getMessage().contains("Arena scope"), e.getMessage());
        assertThrows(IllegalStateException.class, kept::toFloatArray);
        assertThrows(IllegalStateException.class, () -> kept.add(Tensor.ones(4)));
        assertThrows(IllegalStateException.class, () -> kept.reshape(2, 2));
    }

    @Test
    void userArraysAndOutsideAllocationsSurviveTheScope() {
        Arena arena = new Arena();
        float[] data = {1, 2, 3};
        Tensor wrapped, state;
        try (Arena.Scope s = arena.open()) {
            wrapped = Tensor.of(data, 3);
            state = Arena.outside(() -> Tensor.zeros(3));
            assertTrue(Arena.active());
        }
        assertFalse(Arena.active());
        assertArrayEquals(new float[] {1, 2, 3}, wrapped.toFloatArray());
        assertArrayEquals(new float[3], state.toFloatArray());
        assertEquals(0, arena.allocatedCount());
    }

    @Test
    void scopesDoNotNestAndAnArenaServesOneThreadAtATime() throws Exception {
        Arena arena = new Arena(), other = new Arena();
        try (Arena.Scope s = arena.open()) {
            assertThrows(IllegalStateException.class, other::open);
            Throwable[] seen = new Throwable[1];
            Thread t = new Thread(() -> {
                try {
                    arena.open();
                } catch (Throwable x) {
                    seen[0] = x;
                }
            });
            t.start();
            t.join();
            assertTrue(seen[0] instanceof IllegalStateException, String.valueOf(seen[0]));
        }
        try (Arena.Scope s = other.open()) {
            assertSame(true, Arena.active());
        }
    }

    /** The arena changes where arrays come from, never the numbers: training steps are bit-identical with and without it. */
    @Test
    void trainingStepsGiveTheSameBitsWithAndWithoutAnArena() {
        for (boolean adam : new boolean[] {false, true}) {
            List<float[]> plain = train(adam, null);
            List<float[]> pooled = train(adam, new Arena());
            assertEquals(plain.size(), pooled.size());
            for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i), pooled.get(i), "parameter " + i);
        }
    }

    private static List<float[]> train(boolean adam, Arena arena) {
        Architecture spec = Architecture.mlp(6, new int[] {5, 4}, 3, Activation.TANH, false, null, null);
        Sequential model = spec.build(11);
        Optimizer opt = adam ? new Adam(model.parameters(), 0.01, 0.9, 0.999, 1e-8, 0)
                : new SGD(model.parameters(), 0.1, 0.9, 0, true, 1e-3);
        SplittableRandom rng = new SplittableRandom(5);
        for (int step = 0; step < 6; step++) {
            int batch = step % 3 == 2 ? 3 : 8; // a short batch now and then, as at the end of an epoch
            Tensor x = Tensor.randn(DType.FLOAT32, rng, batch, 6);
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++) labels[i] = rng.nextInt(3);
            Arena.Scope scope = arena == null ? null : arena.open();
            try {
                opt.zeroGrad();
                Losses.crossEntropy(model.forward(x), labels).backward();
                opt.step();
                opt.zeroGrad();
            } finally {
                if (scope != null) scope.close();
            }
        }
        List<float[]> out = new ArrayList<>();
        for (Tensor p : model.parameters()) out.add(p.toFloatArray());
        return out;
    }
}
