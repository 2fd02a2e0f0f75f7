package org.deltagrad.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;

class LrScheduleTest {

    @Test
    void constant() {
        LrSchedule s = LrSchedule.constant(0.3);
        assertEquals(0.3, s.lr(0));
        assertEquals(0.3, s.lr(1000));
    }

    @Test
    void stepDecaysByGammaEveryStepSizeEpochs() {
        LrSchedule s = LrSchedule.step(0.1, 10, 0.5);
        assertEquals(0.1, s.lr(0), 1e-15);
        assertEquals(0.1, s.lr(9), 1e-15);
        assertEquals(0.05, s.lr(10), 1e-15);
        assertEquals(0.025, s.lr(25), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.step(0.1, 0, 0.5));
    }

    @Test
    void cosineAnnealsFromBaseToMin() {
        LrSchedule s = LrSchedule.cosine(0.1, 10, 0.001);
        assertEquals(0.1, s.lr(0), 1e-15);
        assertEquals(0.001 + 0.099 / 2, s.lr(5), 1e-15); // halfway: the mean of the two
        assertEquals(0.001 + 0.099 * (1 + Math.cos(Math.PI * 0.3)) / 2, s.lr(3), 1e-15);
        assertEquals(0.001, s.lr(10), 1e-15);
        assertEquals(0.001, s.lr(25), 1e-15); // stays at the minimum
    }

    @Test
    void appliedThroughSetLearningRate() {
        SGD sgd = new SGD(List.of(Tensor.ones(1).requiresGrad(true)), 1);
        LrSchedule s = LrSchedule.step(0.2, 1, 0.1);
        for (int epoch = 0; epoch < 3; epoch++) sgd.setLearningRate(s.lr(epoch));
        assertEquals(0.002, sgd.learningRate(), 1e-15);
    }
}
