package org.deltagrad.spark;

import java.util.List;

import org.deltagrad.Tensor;
import org.deltagrad.optim.Adam;
import org.deltagrad.optim.AdamW;
import org.deltagrad.optim.LrSchedule;
import org.deltagrad.optim.Optimizer;
import org.deltagrad.optim.RMSprop;
import org.deltagrad.optim.SGD;
import org.deltagrad.train.TrainConfig;

/** The optimiser and schedule a {@link TrainConfig} names, with the single-machine Trainer's hyper-parameters. */
final class Optimizers {
    private Optimizers() {}

    static Optimizer of(TrainConfig config, List<Tensor> params) {
        double lr = config.lr, wd = config.weightDecay;
        return switch (config.optimizer) {
            case SGD -> new SGD(params, lr, 0, 0, false, wd);
            case MOMENTUM -> new SGD(params, lr, config.momentum, 0, false, wd);
            case NESTEROV -> new SGD(params, lr, config.momentum, 0, true, wd);
            case ADAM -> new Adam(params, lr, 0.9, 0.999, 1e-8, wd);
            case ADAMW -> new AdamW(params, lr, 0.9, 0.999, 1e-8, wd == 0 ? 0.01 : wd);
            case RMSPROP -> new RMSprop(params, lr, 0.99, 1e-8, 0, wd);
        };
    }

    static LrSchedule schedule(TrainConfig config) {
        return switch (config.schedule) {
            case COSINE -> LrSchedule.cosine(config.lr, config.epochs, 0);
            case STEP -> LrSchedule.step(config.lr, Math.max(1, config.epochs / 3), 0.1);
            case CONSTANT -> LrSchedule.constant(config.lr);
        };
    }
}
