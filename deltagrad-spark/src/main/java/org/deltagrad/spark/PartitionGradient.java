package org.deltagrad.spark;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.kernels.LossKernels;
import org.deltagrad.nn.Losses;
import org.deltagrad.nn.Sequential;
import org.deltagrad.train.Evaluation;

/**
 * A partition's part of one step: forward over its rows of the batch (in the batch's order), then the gradient of
 * (Σ its rows' losses) / B, B the whole batch's size. The loss ops' own rules scale by 1/(their batch), so the
 * logits' gradient is formed here with the same kernels and the same float32 factor 1/B that the whole-batch rule
 * uses: with one partition every number equals the single-machine step's.
 */
final class PartitionGradient {
    private PartitionGradient() {}

    /** A per-thread model, rebuilt only when the architecture changes: a step only copies the weights in. */
    private static final ThreadLocal<Object[]> MODEL = new ThreadLocal<>();

    static PartialGradient compute(ModelShape shape, StepInput step, Shard shard) {
        long t0 = System.nanoTime();
        int[] rows = localRows(step.batchRows, shard);
        int m = rows.length;
        if (m == 0) return new PartialGradient(0, null, 0, 0, System.nanoTime() - t0);
        int d = shard.features, c = shape.outputs, batch = step.batchRows.length;
        float[] x = new float[m * d];
        int[] labels = new int[m];
        for (int i = 0; i < m; i++) {
            System.arraycopy(shard.x, rows[i] * d, x, i * d, d);
            labels[i] = shard.labels[rows[i]];
        }
        Sequential model = model(shape);
        List<Tensor> params = SparkTrainer.parameters(model);
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                p.copyFrom(Tensor.of(step.weights[i], p.shape()));
                p.zeroGrad();
            }
        }
        Tensor out = model.forward(Tensor.of(x, m, d));
        Tensor gradOut;
        double lossSum;
        int correct;
        try (Autograd.Scope s = Autograd.noGrad()) {
            // The float32 1/B that the whole-batch loss rule multiplies by: its seed, 1, divided by the batch size.
            Tensor scale = Tensor.ones(DType.FLOAT32).div(batch);
            float[] z = out.toFloatArray();
            if (shape.quadratic) {
                float[] y = Losses.oneHot(labels, c, DType.FLOAT32).toFloatArray();
                lossSum = LossKernels.sumSquaredDifference(z, 0, y, 0, m * c);
                gradOut = out.sub(Tensor.of(y, m, c)).mul(scale);
            } else {
                float[] p = new float[m * c];
                double[] rowLoss = new double[m];
                LossKernels.crossEntropyRows(z, 0, p, 0, m, c, labels, rowLoss);
                lossSum = 0;
                for (double l : rowLoss) lossSum += l;
                LossKernels.subtractOneHot(p, c, labels);
                gradOut = Tensor.of(p, m, c).mul(scale);
            }
            int[] predicted = Evaluation.predictions(out);
            correct = 0;
            for (int i = 0; i < m; i++) if (predicted[i] == labels[i]) correct++;
        }
        out.backward(gradOut);
        float[][] grads = new float[params.size()][];
        for (int i = 0; i < grads.length; i++) {
            grads[i] = params.get(i).grad().toFloatArray();
            params.get(i).zeroGrad();
        }
        return new PartialGradient(m, grads, lossSum, correct, System.nanoTime() - t0);
    }

    /** The shard-local positions of the batch's rows that this shard holds, in the batch's order. */
    static int[] localRows(int[] batchRows, Shard shard) {
        int[] local = new int[batchRows.length];
        int n = 0;
        for (int r : batchRows) if (shard.holds(r)) local[n++] = r - shard.first;
        return Arrays.copyOf(local, n);
    }

    private static Sequential model(ModelShape shape) {
        Object[] cached = MODEL.get();
        if (cached != null && cached[0].equals(shape)) return (Sequential) cached[1];
        Sequential model = shape.architecture().build(0); // weights are overwritten from the broadcast every step
        MODEL.set(new Object[] {shape, model});
        return model;
    }

    /** Spark's side: one shard per partition in, its partial gradient out. */
    static Iterator<PartialGradient> over(ModelShape shape, StepInput step, Iterator<Shard> shards) {
        if (!shards.hasNext()) return List.<PartialGradient>of().iterator();
        Shard shard = shards.next();
        return List.of(compute(shape, step, shard)).iterator();
    }
}
