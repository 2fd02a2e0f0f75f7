package org.deltagrad.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link Optimizer#state()} and {@link Optimizer#loadState}: an optimiser made afresh over copies of the
 * parameters and given the state of one that has stepped continues exactly as that one does, bit for bit.
 */
class OptimizerStateTest {
    private static final Map<String, Function<List<Tensor>, Optimizer>> KINDS = new LinkedHashMap<>();

    static {
        KINDS.put("sgd", p -> new SGD(p, 0.1));
        KINDS.put("momentum", p -> new SGD(p, 0.1, 0.9, 0, false, 1e-3));
        KINDS.put("nesterov", p -> new SGD(p, 0.1, 0.9, 0, true, 0));
        KINDS.put("adam", p -> new Adam(p, 0.01, 0.9, 0.999, 1e-8, 1e-3));
        KINDS.put("adamw", p -> new AdamW(p, 0.01));
        KINDS.put("rmsprop", p -> new RMSprop(p, 0.01));
        KINDS.put("rmsprop-momentum", p -> new RMSprop(p, 0.01, 0.99, 1e-8, 0.5, 0));
    }

    /** Two float32 parameters and a third that never gets a gradient (so it has no state). */
    private static List<Tensor> params(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return List.of(Tensor.rand(DType.FLOAT32, rng, 3, 4).requiresGrad(true), Tensor.rand(DType.FLOAT32, rng, 4).requiresGrad(true),
                Tensor.rand(DType.FLOAT32, rng, 2).requiresGrad(true));
    }

    private static List<Tensor> copies(List<Tensor> params) {
        return params.stream().map(p -> p.detach().copy().requiresGrad(true)).toList();
    }

    /** Step k's gradients: a fixed function of k, the same for every copy. */
    private static void step(Optimizer o, int k) {
        SplittableRandom rng = new SplittableRandom(100 + k);
        List<Tensor> ps = o.parameters();
        for (int i = 0; i < 2; i++) ps.get(i).setGrad(Tensor.rand(DType.FLOAT32, rng, ps.get(i).shape()).sub(0.5));
        o.step();
        o.zeroGrad();
    }

    private static void assertSameBits(List<Tensor> a, List<Tensor> b, String what) {
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).toFloatArray(), b.get(i).toFloatArray(), 0, what + ": parameter " + i);
    }

    @Test
    void aFreshOptimiserGivenTheStateContinuesBitForBit() {
        KINDS.forEach((name, make) -> {
            List<Tensor> pa = params(1);
            Optimizer a = make.apply(pa);
            for (int k = 0; k < 5; k++) step(a, k);
            List<Tensor> pb = copies(pa), pc = copies(pa);
            Optimizer b = make.apply(pb), c = make.apply(pc);
            b.loadState(a.state());
            for (int k = 5; k < 10; k++) {
                step(a, k);
                step(b, k);
                step(c, k);
            }
            assertSameBits(pa, pb, name);
            boolean stateless = name.equals("sgd");
            assertEquals(stateless, pa.get(0).sum().item() == pc.get(0).sum().item(),
                    name + ": without the state a fresh optimiser continues " + (stateless ? "the same" : "differently"));
        });
    }

    @Test
    void stateUsesPyTorchsNamesAndIsACopy() {
        List<Tensor> p = params(2);
        Adam adam = new Adam(p, 0.01);
        assertTrue(adam.state().isEmpty(), "nothing before the first step");
        step(adam, 0);
        step(adam, 1);
        Map<String, Tensor> s = adam.state();
        assertEquals(List.of("0.exp_avg", "1.exp_avg", "0.exp_avg_sq", "1.exp_avg_sq", "0.step", "1.step"), List.copyOf(s.keySet()));
        assertEquals(2.0, s.get("0.step").item());
        float[] m = s.get("0.exp_avg").toFloatArray();
        step(adam, 2);
        assertArrayEquals(m, s.get("0.exp_avg").toFloatArray(), 0, "later steps leave an exported state alone");
        assertFalse(java.util.Arrays.equals(m, adam.state().get("0.exp_avg").toFloatArray()));

        SGD momentum = new SGD(p, 0.1, 0.9);
        step(momentum, 0);
        assertEquals(List.of("0.momentum_buffer", "1.momentum_buffer"), List.copyOf(momentum.state().keySet()));
        RMSprop rms = new RMSprop(p, 0.01);
        step(rms, 0);
        assertEquals(List.of("0.square_avg", "1.square_avg"), List.copyOf(rms.state().keySet()));
        SGD plain = new SGD(p, 0.1);
        step(plain, 0);
        assertTrue(plain.state().isEmpty());
    }

    @Test
    void aStateThatDoesNotFitIsRefusedAndChangesNothing() {
        List<Tensor> p = params(3);
        Adam a = new Adam(p, 0.01);
        step(a, 0);
        Map<String, Tensor> good = a.state();

        Adam fresh = new Adam(copies(p), 0.01);
        Map<String, Tensor> wrongShape = new LinkedHashMap<>(good);
        wrongShape.put("1.exp_avg", Tensor.zeros(DType.FLOAT32, 5));
        assertMessage(fresh, wrongShape, "'1.exp_avg' is FLOAT32 [5] but parameter 1 is FLOAT32 [4]");
        Map<String, Tensor> wrongType = new LinkedHashMap<>(good);
        wrongType.put("0.exp_avg_sq", Tensor.zeros(DType.FLOAT64, 3, 4));
        assertMessage(fresh, wrongType, "'0.exp_avg_sq' is FLOAT64");
        Map<String, Tensor> partial = new LinkedHashMap<>(good);
        partial.remove("1.step");
        assertMessage(fresh, partial, "parameter 1 has [exp_avg, exp_avg_sq] but needs [exp_avg, exp_avg_sq, step]");
        Map<String, Tensor> unknown = new LinkedHashMap<>(good);
        unknown.put("0.momentum_buffer", Tensor.zeros(DType.FLOAT32, 3, 4));
        assertMessage(fresh, unknown, "unexpected key '0.momentum_buffer'");
        Map<String, Tensor> outOfRange = new LinkedHashMap<>(good);
        outOfRange.put("7.exp_avg", Tensor.zeros(DType.FLOAT32, 4));
        assertMessage(fresh, outOfRange, "'7.exp_avg' names parameter 7 but there are 3");
        Map<String, Tensor> badStep = new LinkedHashMap<>(good);
        badStep.put("0.step", Tensor.scalar(1.5));
        assertMessage(fresh, badStep, "'0.step' must be one positive whole number");
        assertTrue(fresh.state().isEmpty(), "a refused state leaves the optimiser as it was");

        assertMessage(new SGD(copies(p), 0.1), Map.of("0.momentum_buffer", Tensor.zeros(DType.FLOAT32, 3, 4)),
                "SGD.loadState: unexpected key '0.momentum_buffer'");
    }

    private static void assertMessage(Optimizer o, Map<String, Tensor> state, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.loadState(state));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
