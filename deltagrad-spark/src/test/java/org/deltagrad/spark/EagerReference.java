package org.deltagrad.spark;

import java.util.ArrayList;
import java.util.List;

import org.deltagrad.Tensor;
import org.deltagrad.data.Batch;
import org.deltagrad.data.DataLoader;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.deltagrad.nn.Losses;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.Sequential;
import org.deltagrad.optim.GradClip;
import org.deltagrad.optim.LrSchedule;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.train.TrainConfig;

/** The single-machine eager loop: forward on the whole batch, the mean loss, backward, clip, step. */
final class EagerReference {
    private EagerReference() {}

    /** The trained model and every batch's loss, as the whole-batch loss op computed it. */
    record Run(Sequential model, List<Double> losses) {}

    static Run fit(TrainConfig config, Datasets.TrainTest data) {
        Dataset train = data.train();
        boolean quadratic = config.loss == TrainConfig.LossKind.MSE;
        Architecture spec = Architecture.mlp(train.numFeatures(), config.hidden, train.numClasses(), config.activation, quadratic, null, null);
        Sequential model = spec.build(config.seed);
        List<Tensor> params = SparkTrainer.parameters(model);
        Optimizer optimizer = config.newOptimizer(params);
        LrSchedule schedule = config.newSchedule();
        DataLoader loader = new DataLoader(train, config.batch).shuffled(config.seed);
        List<Double> losses = new ArrayList<>();
        optimizer.zeroGrad();
        for (int epoch = 1; epoch <= config.epochs; epoch++) {
            optimizer.setLearningRate(schedule.lr(epoch - 1));
            for (Batch b : loader.epoch(epoch - 1)) {
                Tensor out = model.forward(b.x());
                Tensor loss = quadratic ? Losses.quadratic(out, Losses.oneHot(b.labels(), out.shape(1), out.dtype()))
                        : Losses.crossEntropy(out, b.labels());
                losses.add(loss.item());
                loss.backward();
                if (config.clipNorm > 0) GradClip.clipGradNorm(params, config.clipNorm);
                optimizer.step();
                optimizer.zeroGrad();
            }
        }
        return new Run(model, losses);
    }
}
