package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The configuration's typed choices, their names in reports, and messages that name fields (not flags). */
class TrainConfigTest {

    @Test
    void choicesHaveTheNamesReportsAndModelFilesUse() {
        Map<String, Object> m = new TrainConfig().toMap();
        assertEquals("cross-entropy", m.get("loss"));
        assertEquals("adam", m.get("optimizer"));
        assertEquals("cosine", m.get("schedule"));
        assertEquals(List.of("cross-entropy", "mse"), List.of(TrainConfig.LossKind.CROSS_ENTROPY.id(), TrainConfig.LossKind.MSE.id()));
        assertEquals("sgd momentum nesterov adam adamw rmsprop", String.join(" ",
                java.util.Arrays.stream(TrainConfig.OptimizerKind.values()).map(TrainConfig.OptimizerKind::id).toList()));
        assertEquals("constant cosine step", String.join(" ",
                java.util.Arrays.stream(TrainConfig.ScheduleKind.values()).map(TrainConfig.ScheduleKind::id).toList()));
        for (TrainConfig.OptimizerKind k : TrainConfig.OptimizerKind.values()) assertSame(k, TrainConfig.OptimizerKind.parse(k.id()));
        assertSame(TrainConfig.LossKind.CROSS_ENTROPY, TrainConfig.LossKind.parse("cross-entropy"));
        assertSame(TrainConfig.ScheduleKind.STEP, TrainConfig.ScheduleKind.parse("step"));
    }

    @Test
    void anUnknownNameIsRefusedNamingTheFieldAndTheChoices() {
        TrainConfig.InvalidValue e = assertThrows(TrainConfig.InvalidValue.class, () -> TrainConfig.OptimizerKind.parse("ADAM"));
        assertEquals("unknown optimizer 'ADAM' (choose sgd, momentum, nesterov, adam, adamw, rmsprop)", e.getMessage());
        assertEquals("optimizer", e.field());
        assertEquals("unknown --optimizer 'ADAM' (choose sgd, momentum, nesterov, adam, adamw, rmsprop)", e.messageNaming("--optimizer"));
        assertEquals("loss", assertThrows(TrainConfig.InvalidValue.class, () -> TrainConfig.LossKind.parse("l1")).field());
        assertEquals("schedule", assertThrows(TrainConfig.InvalidValue.class, () -> TrainConfig.ScheduleKind.parse("")).field());
    }

    @Test
    void validateNamesTheBadField() {
        TrainConfig c = new TrainConfig();
        c.weightDecay = -1;
        TrainConfig.InvalidValue e = assertThrows(TrainConfig.InvalidValue.class, c::validate);
        assertEquals("weightDecay must be non-negative (got -1.0)", e.getMessage());
        assertEquals("--weight-decay must be non-negative (got -1.0)", e.messageNaming("--weight-decay"));
        TrainConfig d = new TrainConfig();
        d.hidden = new int[] {8, 0};
        assertEquals("hidden", assertThrows(TrainConfig.InvalidValue.class, d::validate).field());
        TrainConfig o = new TrainConfig();
        o.optimizer = null;
        assertEquals("optimizer must be set", assertThrows(TrainConfig.InvalidValue.class, o::validate).getMessage());
    }
}
