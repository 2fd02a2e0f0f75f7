package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Json.parse on arbitrary text: a value, or a ParseException; what it returns writes back to JSON that parses to
 * the same value. Without JAZZER_FUZZ=1 this replays the saved inputs in JsonFuzzTestInputs/.
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
        assertEquals(value, Json.parse(Json.write(value)));
    }
}
