package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reader's edges: numbers that do not fit what they would become, and escapes with non-ASCII digits. */
class JsonTest {
    private static String error(String json) {
        return assertThrows(Json.ParseException.class, () -> Json.parse(json)).getMessage();
    }

    @Test
    void numbersBeyondADoubleAreErrorsNamingTheirKey() {
        assertEquals("number 1e400 at key training.lr is beyond the range of a double (about ±1.8e308) at character 18",
                error("{\"training\":{\"lr\":1e400}}"));
        assertEquals("number -1E+400 at key a[1] is beyond the range of a double (about ±1.8e308) at character 9",
                error("{\"a\":[0, -1E+400]}"));
        assertEquals("number 1e99999999999 at key \"data offsets\"[0] has an exponent too large to represent at character 17",
                error("{\"data offsets\":[1e99999999999]}"));
        assertEquals("number 1e400 is beyond the range of a double (about ±1.8e308) at character 0", error("1e400"));
    }

    @Test
    void integersBeyond64BitsAreErrors() {
        assertEquals("number 9223372036854775808 at key n does not fit in 64 bits at character 5", error("{\"n\":9223372036854775808}"));
        assertEquals("number 12345678901234567890...1234567890 at key n does not fit in 64 bits at character 5",
                error("{\"n\":" + "1234567890".repeat(10) + "}"));
    }

    @Test
    void numbersInRangeStillParse() throws Json.ParseException {
        assertEquals(Map.of("a", List.of(Long.MAX_VALUE, Long.MIN_VALUE, new BigDecimal("1.7e308"), new BigDecimal("1e-400"))),
                Json.parse("{\"a\":[9223372036854775807,-9223372036854775808,1.7e308,1e-400]}"));
    }

    @Test
    void integralDecimalsBeyond64BitsWriteBackAsDecimals() throws Json.ParseException {
        // -92233720368547792233720.1E+1 is the integer -922337203685477922337201 in decimal notation.
        Object value = Json.parse("[-92233720368547792233720.1E+1, 1e0]");
        assertEquals("[-922337203685477922337201.0, 1.0]\n", Json.write(value));
        assertEquals(List.of(new BigDecimal("-922337203685477922337201.0"), new BigDecimal("1.0")), Json.parse(Json.write(value)));
    }

    @Test
    void unicodeEscapesTakeOnlyAsciiHexDigits() throws Json.ParseException {
        assertEquals("\u3a5f", Json.parse("\"\\u3a5F\""));
        assertEquals("invalid \\u escape at character 3", error("\"\\u\u0663\u0663\u0663\u0663\"")); // Arabic-Indic 3
        assertEquals("invalid \\u escape at character 3", error("\"\\u\uff13\uff13\uff13\uff13\"")); // fullwidth 3
    }
}
