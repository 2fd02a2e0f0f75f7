package org.deltagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.deltagrad.autograd.Autograd;
import org.deltagrad.autograd.Function;
import org.deltagrad.autograd.GradCheck;
import org.deltagrad.data.Batch;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Datasets;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.Losses;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.deltagrad.optim.Adam;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.train.Evaluation;
import org.junit.jupiter.api.Test;

/**
 * The Java examples of README.md, verbatim between the "README:" markers, with assertions after them.
 * When an example changes here, change it in the README too (and the other way round).
 */
class ReadmeExamplesTest {

    @Test
    void tensorsAndAutograd() {
        // README: tensors and autograd
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);          // float64, shape [2, 3]
        Tensor w = Tensor.of(new double[] {0.1, -0.2, 0.3}, 3, 1).requiresGrad(true);
        Tensor b = Tensor.scalar(0.5).requiresGrad(true);
        Tensor target = Tensor.of(new double[] {1, 2}, 2, 1);

        Tensor y = x.matmul(w).add(b);                   // [2, 1]; b is broadcast
        Tensor loss = y.sub(target).pow(2).mean();       // a scalar
        loss.backward();                                 // one reverse sweep over the graph

        System.out.println(loss.item());                 // 0.05000000000000007
        System.out.println(w.grad());                    // dloss/dw, shape [3, 1]
        System.out.println(b.grad());                    // dloss/db = mean of 2(y - target)
        // README: end

        // y = [0.1-0.4+0.9+0.5, 0.4-1.0+1.8+0.5] = [1.1, 1.7]; residual r = y - target = [0.1, -0.3]
        assertEquals(0.05, loss.item(), 1e-12);
        // dloss/dw = xᵀ·(2r/2) = xᵀ·r = [1*0.1+4*-0.3, 2*0.1+5*-0.3, 3*0.1+6*-0.3]
        assertArrayEquals(new double[] {-1.1, -1.3, -1.5}, w.grad().toDoubleArray(), 1e-12);
        assertEquals(-0.2, b.grad().item(), 1e-12);
    }

    @Test
    void secondDerivatives() {
        // README: second derivatives
        Tensor x = Tensor.scalar(1.5).requiresGrad(true);
        Tensor y = x.pow(3).add(x.sin());                               // y = x³ + sin x

        // createGraph=true: the gradient is itself a graph (the backward graph B), so it can be differentiated again
        Tensor dy = Autograd.grad(y, List.of(x), true).get(0);          // 3x² + cos x
        Tensor d2y = Autograd.grad(dy, List.of(x), false).get(0);       // 6x − sin x

        System.out.println(dy.item() + " " + d2y.item());               // 6.820737201667703 8.002505013395945
        // README: end

        assertEquals(3 * 1.5 * 1.5 + Math.cos(1.5), dy.item(), 1e-12);
        assertEquals(6 * 1.5 - Math.sin(1.5), d2y.item(), 1e-12);
    }

    // README: custom function
    /** softplus(x) = log(1 + eˣ), with its own backward rule: d/dx = sigmoid(x). */
    static final class Softplus extends Function {
        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            ctx.saveForBackward(in[0]);                  // save inputs, not outputs, so grad-of-grad flows
            return in[0].exp().add(1).log();
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor gradOutput) {
            // written with differentiable tensor ops, so the backward pass can itself be differentiated
            return new Tensor[] {gradOutput.mul(ctx.saved(0).sigmoid())};
        }
    }
    // README: end

    @Test
    void customFunctionCheckedWithGradCheck() {
        // README: gradcheck
        Tensor x = Tensor.randn(7, 4, 5);                                   // seed 7, shape [4, 5]
        Tensor x64 = x.to(DType.FLOAT64);
        GradCheck.Fn softplus = in -> new Softplus().apply(in.get(0));

        GradCheck.Report first = GradCheck.check(softplus, List.of(x64));
        GradCheck.Report second = GradCheck.checkSecondOrder(softplus, List.of(x64));
        System.out.println(first);
        System.out.println(second);
        // README: end

        assertTrue(first.passed(), first.toString());
        assertTrue(second.passed(), second.toString());
        assertEquals(20, first.checked());
    }

    @Test
    void trainAnMlp() {
        // README: train an MLP
        Datasets.TrainTest data = Datasets.load("spirals", null);               // generated, no files needed
        Sequential net = new Sequential(new Linear(2, 64, 1), new ReLU(), new Linear(64, 64, 2), new ReLU(),
                new Linear(64, 3, 3));                                            // logits for 3 classes
        Optimizer opt = new Adam(net.parameters(), 0.01);
        DataLoader loader = new DataLoader(data.train(), 32).shuffled(1);

        for (int epoch = 0; epoch < 50; epoch++) {
            for (Batch batch : loader) {                                           // reshuffled every epoch
                opt.zeroGrad();
                Tensor loss = Losses.crossEntropy(net.forward(batch.x()), batch.labels());
                loss.backward();
                opt.step();
            }
        }
        System.out.println(Evaluation.of(net, data.test(), 256).accuracy());   // 0.9
        // README: end

        assertTrue(Evaluation.of(net, data.test(), 256).accuracy() > 0.85);
    }

    @Test
    void trainAnMlpInAnArena() {
        Datasets.TrainTest data = Datasets.load("spirals", null);
        Sequential net = new Sequential(new Linear(2, 64, 1), new ReLU(), new Linear(64, 64, 2), new ReLU(),
                new Linear(64, 3, 3));
        Optimizer opt = new Adam(net.parameters(), 0.01);
        DataLoader loader = new DataLoader(data.train(), 32).shuffled(1);

        // README: arena
        Arena arena = new Arena();                     // recycles each step's arrays into the next step
        for (int epoch = 0; epoch < 50; epoch++) {
            for (Batch batch : loader) {
                try (Arena.Scope step = arena.open()) {
                    opt.zeroGrad();
                    Losses.crossEntropy(net.forward(batch.x()), batch.labels()).backward();
                    opt.step();
                    opt.zeroGrad();                    // gradients are arena memory: drop them before the scope ends
                }
            }
        }
        System.out.println(Evaluation.of(net, data.test(), 256).accuracy());   // 0.9, as without it
        // README: end

        Sequential plain = trainedPlainly(data, params -> new Adam(params, 0.01), 50);
        for (int i = 0; i < net.parameters().size(); i++) {
            assertArrayEquals(plain.parameters().get(i).toFloatArray(), net.parameters().get(i).toFloatArray());
        }
        assertEquals(Evaluation.of(plain, data.test(), 256).accuracy(), Evaluation.of(net, data.test(), 256).accuracy());
    }

    /** The examples' spirals network trained the plain way (backward, then step), for them to be compared with. */
    private static Sequential trainedPlainly(Datasets.TrainTest data, java.util.function.Function<List<Tensor>, Optimizer> optimizer,
                                             int epochs) {
        Sequential net = new Sequential(new Linear(2, 64, 1), new ReLU(), new Linear(64, 64, 2), new ReLU(), new Linear(64, 3, 3));
        Optimizer opt = optimizer.apply(net.parameters());
        DataLoader loader = new DataLoader(data.train(), 32).shuffled(1);
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (Batch batch : loader) {
                opt.zeroGrad();
                Losses.crossEntropy(net.forward(batch.x()), batch.labels()).backward();
                opt.step();
            }
        }
        return net;
    }
}
