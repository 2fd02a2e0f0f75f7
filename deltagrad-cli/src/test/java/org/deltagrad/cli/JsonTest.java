package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTest {
    record Epoch(int epoch, double loss, float accuracy) {
    }

    record Report(String model, double learningRate, List<Epoch> history, int[][] confusion) {
    }

    @TempDir
    Path dir;

    @Test
    void numbersPrintShortest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("lr", 0.1);
        m.put("f", 0.1f);
        m.put("floats", new float[] {0.1f, 0.2f});
        m.put("nan", Double.NaN);
        String json = Json.toJson(m);
        assertEquals("{\n  \"lr\": 0.1,\n  \"f\": 0.1,\n  \"floats\": [0.1, 0.2],\n  \"nan\": \"NaN\"\n}", json);
    }

    @Test
    void recordRoundTripsThroughFile() throws IOException {
        Report report = new Report("mlp", 0.01, List.of(new Epoch(1, 0.6931, 0.5f), new Epoch(2, 0.1, 0.95f)),
                new int[][] {{5, 1}, {0, 7}});
        Path file = dir.resolve("runs/a/report.json");
        Json.write(file, report);
        String text = Files.readString(file);
        assertTrue(text.endsWith("}\n"), text);
        assertTrue(text.contains("\"learningRate\": 0.01,"), text);
        Report back = Json.read(file, Report.class);
        assertEquals(report.model(), back.model());
        assertEquals(report.history(), back.history());
        assertArrayEquals(report.confusion(), back.confusion());
        // Only the report is left in the directory: the temporary file was renamed.
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void mapRoundTripsThroughString() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "xor");
        m.put("loss", List.of(0.5, 0.25));
        m.put("nested", Map.of("k", 3));
        assertEquals(m, Json.parse(Json.toJson(m), Map.class));
    }

    @Test
    void writeReplacesExistingFile() throws IOException {
        Path file = dir.resolve("r.json");
        Json.write(file, Map.of("v", 1));
        Json.write(file, Map.of("v", 2));
        assertEquals(Map.of("v", 2), Json.read(file, Map.class));
    }
}
