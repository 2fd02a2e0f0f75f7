package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** {@code bench train}: the JSON the PyTorch comparison reads, and the flags it shares with {@code train}. */
class BenchTrainCommandTest {

    @Test
    void jsonHasTheTimingsTheComparisonScriptReads() throws Exception {
        JsonNode r = Cli.parseJson(Cli.run("bench", "train", "--warmup", "1", "--timed", "3", "--threads", "1", "--json").ok().out());
        JsonNode epochs = r.get("epoch_seconds");
        assertEquals(3, epochs.size());
        double min = Double.MAX_VALUE, max = 0;
        for (JsonNode e : epochs) {
            min = Math.min(min, e.asDouble());
            max = Math.max(max, e.asDouble());
        }
        double median = r.get("median_epoch_seconds").asDouble();
        assertTrue(min <= median && median <= max, r.toString());
        assertTrue(r.get("gflops").asDouble() > 0, r.toString());
        // Forward plus backward is more than the forward alone, and the split adds up to less than an epoch.
        assertTrue(r.get("forward_backward_ratio").asDouble() > 1, r.toString());
        assertTrue(r.get("forward_seconds").asDouble() + r.get("backward_seconds").asDouble() + r.get("step_seconds").asDouble()
                <= max * 1.01, r.toString());
        assertEquals(1, r.get("threads").asInt());
        assertTrue(r.get("java").asText().startsWith(Runtime.version().toString()), r.toString());
        assertEquals(900, r.get("samples_per_epoch").asInt());
        assertTrue(r.get("startup_seconds").asDouble() > 0, r.toString());
        assertEquals("constant", r.get("config").get("schedule").asText());
        assertEquals(4, r.get("config").get("epochs").asInt(), "warm-up plus timed epochs");
        assertEquals(1, r.get("warmup_epoch_seconds").size());
        assertTrue(r.get("warmup_epoch_seconds").get(0).asDouble() > 0, r.toString());
        assertEquals("compiled: Adam after the backward pass", r.get("step").asText(), "the Trainer's default, Adam");
    }

    @Test
    void textOutputShowsTheWarmUpEpochs() {
        String out = Cli.run("bench", "train", "--warmup", "2", "--timed", "1", "--threads", "1").ok().out();
        assertTrue(out.matches("(?s).*warm-up epochs \\(the JIT compiling\\): [0-9.]+, [0-9.]+ s.*"), out);
        assertTrue(out.contains("training step: compiled: Adam after the backward pass"), out);
    }

    @Test
    void warmsUpThreeEpochsByDefaultLikeTheComparisonScript() throws Exception {
        JsonNode r = Cli.parseJson(Cli.run("bench", "train", "--timed", "1", "--threads", "1", "--json").ok().out());
        assertEquals(3, r.get("warmup_epoch_seconds").size(), r.toString());
        assertEquals(1, r.get("epoch_seconds").size(), r.toString());
        assertEquals(4, r.get("config").get("epochs").asInt());
    }

    @Test
    void sharesTheModelFlagsOfTrainButNotItsOutputs() {
        Cli.Result bad = Cli.run("bench", "train", "--lr", "-1");
        assertEquals(2, bad.exit());
        assertTrue(bad.oneErrorLine().contains("--lr"));
        Cli.Result outputs = Cli.run("bench", "train", "--save", "x.safetensors");
        assertEquals(2, outputs.exit(), "bench writes nothing, so it has no --save");
    }
}
