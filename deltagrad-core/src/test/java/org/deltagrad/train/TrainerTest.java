package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.deltagrad.Tensor;
import org.deltagrad.data.Datasets;
import org.deltagrad.nn.Activation;
import org.junit.jupiter.api.Test;

/**
 * Every optimiser, schedule and option of the Trainer trains (the loss falls) and leaves no gradient behind; the
 * compiled step and the eager one agree (CompiledStepTest compares them step by step).
 */
class TrainerTest {
    @Test
    void everyOptimiserTrainsAndLeavesNoGradientBehind() {
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

    /** The Trainer runs the compiled step; forced to the eager one, a run with Adam ends with the same bits. */
    @Test
    void theCompiledAndTheEagerStepTrainAlike() {
        Datasets.TrainTest data = Datasets.load(Datasets.SPIRALS, null);
        TrainConfig config = new TrainConfig();
        config.epochs = 5;
        config.hidden = new int[] {16, 16};
        List<String> steps = new ArrayList<>();
        Trainer.Listener listener = new Trainer.Listener() {
            @Override
            public void trainingStep(String description) {
                steps.add(description);
            }
        };
        Trainer.Result compiled = new Trainer(config).fit(data, listener);
        Trainer.Result eager;
        System.setProperty("deltagrad.step", "eager");
        try {
            eager = new Trainer(config).fit(data, listener);
        } finally {
            System.clearProperty("deltagrad.step");
        }
        assertEquals(List.of("compiled: Adam after the backward pass", "eager (-Ddeltagrad.step=eager)"), steps);
        for (int e = 0; e < 5; e++) {
            EpochStats a = compiled.epochs().get(e), b = eager.epochs().get(e);
            assertEquals(b.trainLoss(), a.trainLoss(), "epoch " + e);
            assertEquals(b.trainAccuracy(), a.trainAccuracy(), "epoch " + e);
            assertEquals(b.testAccuracy(), a.testAccuracy(), "epoch " + e);
        }
        for (int i = 0; i < eager.model().parameters().size(); i++) {
            assertArrayEquals(eager.model().parameters().get(i).toFloatArray(), compiled.model().parameters().get(i).toFloatArray());
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
