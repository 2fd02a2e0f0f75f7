package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InputSpecTest {
    private static final String WHERE = "m.safetensors: __metadata__ \"input\"";

    private static String message(Map<String, Object> m) {
        return assertThrows(DataException.class, () -> InputSpec.fromMap(m, WHERE)).getMessage();
    }

    /** toMap's values as the JSON reader returns them: integers Long, other numbers BigDecimal. */
    private static Map<String, Object> asParsed(InputSpec spec) {
        Map<String, Object> m = new LinkedHashMap<>();
        spec.toMap().forEach((k, v) -> m.put(k, v instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Double
                ? l.stream().map(x -> (Object) new java.math.BigDecimal(x.toString())).toList()
                : v instanceof Integer i ? (Object) (long) i : v));
        return m;
    }

    @Test
    void csvAndImageSpecsSurviveTheirMaps() {
        InputSpec csv = InputSpec.csv(List.of("x", "y"), "class", new double[] {0.1, 1e300}, new double[] {3, 1.0 / 3}, List.of("a", "b"));
        InputSpec back = InputSpec.fromMap(asParsed(csv), WHERE);
        assertEquals(csv, back);
        assertArrayEquals(csv.std(), back.std(), "doubles exactly");
        InputSpec images = InputSpec.images(3, 32, 24, List.of("cat", "dog"));
        assertEquals(images, InputSpec.fromMap(asParsed(images), WHERE));
        assertEquals(3 * 32 * 24, images.rowSize());
    }

    @Test
    void standardisesColumnByColumn() {
        InputSpec csv = InputSpec.csv(List.of("x", "y"), "c", new double[] {1, 10}, new double[] {2, 5}, List.of("a", "b"));
        float[] rows = {3, 20, 1, 0};
        csv.standardise(rows);
        assertArrayEquals(new float[] {1, 2, 0, -2}, rows);
    }

    @Test
    void badFieldsAreNamedWithWhereTheyCameFrom() {
        Map<String, Object> m = asParsed(InputSpec.csv(List.of("x"), "c", new double[] {0}, new double[] {1}, List.of("a", "b")));
        m.put("std", List.of(new java.math.BigDecimal("0")));
        assertEquals(WHERE + " \"std\": expected positive numbers, found [0]", message(m));
        m.put("std", List.of(1L, 2L));
        assertEquals(WHERE + " \"std\": expected 1 numbers, found [1, 2]", message(m));
        m.put("kind", "audio");
        assertEquals(WHERE + " \"kind\": expected \"csv\" or \"images\", found \"audio\"", message(m));
        Map<String, Object> img = asParsed(InputSpec.images(1, 2, 2, List.of("a", "b")));
        img.put("channels", 2L);
        assertEquals(WHERE + " \"channels\": expected 1 or 3, found 2", message(img));
        img.put("classes", List.of("a"));
        assertEquals(WHERE + " \"classes\": expected at least 2 class names, found 1", message(img));
        img.remove("classes");
        assertEquals(WHERE + " \"classes\": expected an array of strings, found nothing", message(img));
    }
}
