package org.deltagrad.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

/** Parameter naming, state dicts, modes and description. */
class ModuleTest {

    static Sequential mlp(long seed) {
        return new Sequential(new Linear(3, 4, seed), new ReLU(), new Linear(4, 2, seed + 1));
    }

    @Test
    void sequentialNamesParametersLikePyTorch() {
        Sequential net = mlp(1);
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(net.namedParameters().keySet()));
        assertEquals(3 * 4 + 4 + 4 * 2 + 2, net.parameterCount());
        assertEquals(4, net.parameters().size());
        assertEquals(List.of("0", "1", "2"), List.copyOf(net.children().keySet()));
        Sequential nested = new Sequential(new Sequential(new Linear(2, 2, 0), new Tanh()), new Linear(2, 1, 0));
        assertEquals(List.of("0.0.weight", "0.0.bias", "1.weight", "1.bias"), List.copyOf(nested.namedParameters().keySet()));
    }

    @Test
    void customModulesRegisterParametersAndChildren() {
        class Affine extends Module {
            final Tensor scale = registerParameter("scale", Tensor.ones(2));
            final Linear inner = registerModule("inner", new Linear(2, 2, 0));

            @Override
            public Tensor forward(Tensor x) {
                return inner.forward(x.mul(scale));
            }
        }
        Affine a = new Affine();
        assertEquals(List.of("scale", "inner.weight", "inner.bias"), List.copyOf(a.namedParameters().keySet()));
        assertTrue(a.scale.requiresGrad());
        assertThrows(IllegalArgumentException.class, () -> a.registerParameter("scale", Tensor.ones(1)));
        assertThrows(IllegalArgumentException.class, () -> a.registerParameter("a.b", Tensor.ones(1)));
    }

    @Test
    void stateDictRoundTripMakesTheSameNetwork() {
        Sequential a = mlp(1), b = mlp(100);
        Tensor x = Tensor.randn(5, 4, 3);
        assertFalse(java.util.Arrays.equals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray()));
        b.loadStateDict(a.stateDict());
        assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray());
        // the copy is by value: b's parameters are still its own tensors
        assertTrue(b.parameters().get(0) != a.parameters().get(0));
        Map<String, Tensor> state = a.stateDict();
        assertFalse(state.get("0.weight").requiresGrad());
        assertEquals(List.copyOf(a.namedParameters().keySet()), List.copyOf(state.keySet()));
    }

    @Test
    void loadStateDictNamesTheFirstMismatchAndChangesNothing() {
        Sequential net = mlp(1);
        float[] before = net.parameters().get(0).toFloatArray();

        LinkedHashMap<String, Tensor> missing = mlp(2).stateDict();
        missing.remove("2.bias");
        assertMessage(net, missing, "missing key '2.bias'");

        LinkedHashMap<String, Tensor> unexpected = mlp(2).stateDict();
        unexpected.put("3.weight", Tensor.zeros(1));
        assertMessage(net, unexpected, "unexpected key '3.weight'");

        LinkedHashMap<String, Tensor> shape = mlp(2).stateDict();
        shape.put("2.weight", Tensor.zeros(4, 2));
        assertMessage(net, shape, "'2.weight' has shape [4, 2] in the state dict but [2, 4] in the module");

        LinkedHashMap<String, Tensor> dtype = mlp(2).stateDict();
        dtype.put("0.bias", Tensor.zeros(DType.FLOAT64, 4));
        assertMessage(net, dtype, "'0.bias' has dtype FLOAT64 in the state dict but FLOAT32 in the module");

        assertArrayEquals(before, net.parameters().get(0).toFloatArray());
    }

    private static void assertMessage(Module m, Map<String, Tensor> state, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(state));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void trainAndEvalPropagateToAllDescendants() {
        Dropout inner = new Dropout(0.5, 0);
        Sequential child = new Sequential(inner);
        Sequential net = new Sequential(new Linear(2, 2, 0), child);
        assertTrue(net.isTraining() && child.isTraining() && inner.isTraining());
        net.eval();
        assertFalse(net.isTraining() || child.isTraining() || inner.isTraining());
        net.train();
        assertTrue(net.isTraining() && child.isTraining() && inner.isTraining());
    }

    @Test
    void zeroGradClearsEveryParameter() {
        Sequential net = mlp(1);
        Losses.mse(net.forward(Tensor.randn(1, 2, 3)), Tensor.zeros(2, 2)).backward();
        for (Tensor p : net.parameters()) assertTrue(p.grad() != null);
        net.zeroGrad();
        for (Tensor p : net.parameters()) assertNull(p.grad(), "zeroGrad clears to null, like PyTorch's set_to_none");
        assertNull(new Linear(1, 1, 0).weight().grad());
    }

    @Test
    void describeListsTheLayers() {
        Sequential net = new Sequential(new Linear(3, 4, 0), new ReLU(), new Sequential(new Dropout(0.1, 0), new Linear(4, 2, 0)));
        String expected = """
                Sequential(
                  (0): Linear(in=3, out=4, bias=true, dtype=float32)
                  (1): ReLU()
                  (2): Sequential(
                    (0): Dropout(p=0.1)
                    (1): Linear(in=4, out=2, bias=true, dtype=float32)
                  )
                )""";
        assertEquals(expected, net.toString());
        assertEquals(expected + "\n(26 parameters)", net.describe());
    }
}
