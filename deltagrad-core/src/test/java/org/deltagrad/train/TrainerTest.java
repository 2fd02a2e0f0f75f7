package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deltagrad.Tensor;
import org.deltagrad.data.Datasets;
import org.deltagrad.nn.Activation;
import org.junit.jupiter.api.Test;

/**
 * Every optimiser, schedule and option of the Trainer runs its steps in an Arena: state that outlives a step must
 * not come from it (if it did, the next step would fail on released memory), no parameter may keep a gradient
 * from it, and the loss must still fall. (ArenaTest checks that steps give the same bits with and without one.)
 */
class TrainerTest {
    @Test
    void everyOptimiserTrainsInsideTheArenaAndLeavesNoGradientBehind() {
        Datasets.TrainTest data = Datasets.load(Datasets.SPIRALS, null);
        for (TrainConfig.OptimizerKind optimizer : TrainConfig.OptimizerKind.values()) {
            TrainConfig config = new TrainConfig();
            config.optimizer = optimizer;
            config.lr = switch (optimizer) {
                case SGD, MOMENTUM, NESTEROV -> 0.3;
                case ADAM, ADAMW, RMSPROP -> 0.01;
            };
            config.hidden = new int[] {32, 32};
            config.epochs = 30;
            config.weightDecay = 1e-4;
            config.clipNorm = 5;
            config.schedule = switch (optimizer) {
                case ADAMW -> TrainConfig.ScheduleKind.STEP;
                case MOMENTUM -> TrainConfig.ScheduleKind.COSINE;
                default -> TrainConfig.ScheduleKind.CONSTANT;
            };
            Trainer.Result r = new Trainer(config).fit(data, null);
            double first = r.epochs().get(0).trainLoss(), last = r.last().trainLoss();
            assertTrue(last < first, optimizer + ": loss " + first + " -> " + last);
            for (Tensor p : r.model().parameters()) {
                assertNull(p.grad(), optimizer + ": a parameter kept a gradient past its step");
                assertTrue(Double.isFinite(p.sum().item()), optimizer.id());
            }
        }
    }

    @Test
    void nielsensSettingWithDiagnosticsAndEveryActivationRuns() {
        Datasets.TrainTest data = Datasets.load(Datasets.SPIRALS, null);
        for (Activation a : Activation.values()) {
            TrainConfig config = new TrainConfig();
            config.activation = a;
            config.loss = TrainConfig.LossKind.MSE;
            config.optimizer = TrainConfig.OptimizerKind.SGD;
            config.lr = 1.0;
            config.batch = 10;
            config.hidden = new int[] {16};
            config.epochs = 2;
            config.diagnostics = true;
            Trainer.Result r = new Trainer(config).fit(data, null);
            assertEquals(2, r.epochs().size(), a.toString());
            assertEquals(1, r.last().diagnostics().size() - 1, a + ": one entry per layer (hidden and output)");
        }
    }
}
