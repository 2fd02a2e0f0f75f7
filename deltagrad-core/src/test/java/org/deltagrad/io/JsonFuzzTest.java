package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Json.parse on arbitrary text: a value, or a ParseException; what it returns writes back to JSON that parses to
 * the same value (numbers compared as numbers: JSON has one number type, so 1e0 may come back as the integer 1).
 * Without JAZZER_FUZZ=1 this replays the saved inputs in JsonFuzzTestInputs/ (see the README's "Fuzzing").
 */
class JsonFuzzTest {
    @FuzzTest
    void parse(byte[] input) throws Json.ParseException {
        Object value;
        try {
            value = Json.parse(new String(input, StandardCharsets.UTF_8));
        } catch (Json.ParseException e) {
            return;
        }
        assertEquals(numbersAsDecimals(value), numbersAsDecimals(Json.parse(Json.write(value))));
    }

    private static Object numbersAsDecimals(Object v) {
        if (v instanceof Number n) return new BigDecimal(n.toString()).stripTrailingZeros();
        if (v instanceof List<?> l) return l.stream().map(JsonFuzzTest::numbersAsDecimals).toList();
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, numbersAsDecimals(x)));
            return out;
        }
        return v;
    }
}
