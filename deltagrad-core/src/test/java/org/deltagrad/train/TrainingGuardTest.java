package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deltagrad.DeltagradException;
import org.deltagrad.data.Dataset;
import org.deltagrad.data.Datasets;
import org.junit.jupiter.api.Test;

/** Runs that cannot give a usable model stop, saying where and why; good runs are never stopped. */
class TrainingGuardTest {
    private static final Datasets.TrainTest SPIRALS = Datasets.load(Datasets.SPIRALS, null);

    private static TrainConfig sgd(double lr, int batch, int epochs) {
        TrainConfig c = new TrainConfig();
        c.optimizer = TrainConfig.OptimizerKind.parse("sgd");
        c.lr = lr;
        c.batch = batch;
        c.epochs = epochs;
        c.hidden = new int[] {16};
        return c;
    }

    @Test
    void weightsThatStopBeingNumbersStopTheRunNamingEpochBatchAndParameter() {
        // One batch holds the whole set: its loss is finite, and only the step after it breaks the weights.
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> new Trainer(sgd(1e300, 100_000, 1)).fit(SPIRALS, null));
        String m = e.getMessage();
        assertTrue(m.startsWith("training diverged at epoch 1, batch 1 of 1: after the optimiser step, parameter '"), m);
        assertTrue(m.contains("infinite") || m.contains("NaN"), m);
    }

    @Test
    void anExplodingLossStopsTheRun() {
        TrainingGuard guard = new TrainingGuard(new TrainConfig(), SPIRALS);
        guard.checkLoss(1, 1, 10, 2.3);
        assertDoesNotThrow(() -> guard.checkLoss(1, 2, 10, 2.3e6 - 1));
        String m = assertThrows(TrainingDivergedException.class, () -> guard.checkLoss(2, 7, 10, 2.4e6)).getMessage();
        assertTrue(m.contains("epoch 2, batch 7 of 10") && m.contains("exploded to 2.40e+06") && m.contains("2.3"), m);
        m = assertThrows(TrainingDivergedException.class, () -> guard.checkLoss(3, 1, 10, Double.NaN)).getMessage();
        assertTrue(m.contains("epoch 3, batch 1 of 10: the loss became NaN"), m);
    }

    @Test
    void aTinyFirstLossDoesNotMakeOrdinaryLossesLookExplosive() {
        TrainingGuard guard = new TrainingGuard(new TrainConfig(), SPIRALS);
        guard.checkLoss(1, 1, 10, 1e-9);
        assertDoesNotThrow(() -> guard.checkLoss(1, 2, 10, 5));
    }

    @Test
    void aHugeLearningRateExplodesAndIsStopped() {
        TrainConfig c = sgd(1000, 32, 5);
        c.optimizer = TrainConfig.OptimizerKind.parse("adam"); // every step moves each weight by about lr: logits, and the loss, grow without bound
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> new Trainer(c).fit(SPIRALS, null));
        assertTrue(e.getMessage().matches("training diverged at epoch \\d+, batch \\d+ of \\d+: the loss exploded to .*"), e.getMessage());
    }

    @Test
    void theHintNamesConfigFieldsAndFrontEndsMayRenameThem() {
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> new Trainer(sgd(1e300, 100_000, 1)).fit(SPIRALS, null));
        assertTrue(e.getMessage().endsWith("try a lower lr (now 1.0E300) or clipNorm = 1"), e.getMessage());
        assertFalse(e.getMessage().contains("--"), e.getMessage());
        String cli = e.message((field, value) -> "--" + field.toUpperCase() + (value == null ? "" : " " + value));
        assertTrue(cli.endsWith("try a lower --LR (now 1.0E300) or --CLIPNORM 1"), cli);
    }

    @Test
    void emptyTrainingOrTestSetsAreRefusedBeforeTraining() {
        Dataset none = SPIRALS.train().subset(new int[0]);
        String m = assertThrows(DeltagradException.class,
                () -> new Trainer(sgd(0.1, 32, 1)).fit(new Datasets.TrainTest(none, SPIRALS.test()), null)).getMessage();
        assertEquals("dataset 'spirals' has no training examples: nothing to train on", m);
        m = assertThrows(DeltagradException.class,
                () -> new Trainer(sgd(0.1, 32, 1)).fit(new Datasets.TrainTest(SPIRALS.train(), none), null)).getMessage();
        assertTrue(m.startsWith("dataset 'spirals' has no test examples"), m);
    }

    @Test
    void aNonFiniteRunningStatisticStopsTheRunNamingTheBuffer() {
        org.deltagrad.nn.Sequential net = new org.deltagrad.nn.Sequential(new org.deltagrad.nn.Linear(2, 3, 0), new org.deltagrad.nn.BatchNorm1d(3));
        TrainingGuard guard = new TrainingGuard(new TrainConfig(), SPIRALS);
        assertDoesNotThrow(() -> guard.checkWeights(1, 4, net));
        ((org.deltagrad.nn.BatchNorm1d) net.get(1)).runningVar().set(Double.POSITIVE_INFINITY, 2);
        String m = assertThrows(TrainingDivergedException.class, () -> guard.checkWeights(1, 4, net)).getMessage();
        assertTrue(m.startsWith("training diverged at epoch 1, batch 4 of 4: after the optimiser step, buffer '1.running_var' holds"), m);
    }
}
