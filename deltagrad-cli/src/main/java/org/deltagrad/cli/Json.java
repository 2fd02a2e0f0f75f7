package org.deltagrad.cli;

import org.deltagrad.io.AtomicFiles;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JSON reports: pretty-printed, to a file (atomically) or to a String for {@code --json} output.
 *
 * <p>Values are written as Jackson does by default: records, Maps (in their iteration order, so
 * use a LinkedHashMap for a stable layout), lists and arrays. Doubles and floats print in their
 * shortest round-trip form ({@code 0.1}, and {@code 0.1f} also as {@code 0.1}); NaN and infinities
 * print as the strings {@code "NaN"}, {@code "Infinity"}.
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    // Objects one entry per line, arrays (curves, matrices rows) on one line: compact yet diffable.
    private static final ObjectWriter PRETTY = MAPPER.writer(new DefaultPrettyPrinter(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withArrayValueSpacing(Separators.Spacing.AFTER))
            .withArrayIndenter(new DefaultPrettyPrinter.NopIndenter())
            .withObjectIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n")));

    private Json() {
    }

    /** The pretty-printed JSON of {@code value}, without a trailing newline. */
    public static String toJson(Object value) {
        try {
            return PRETTY.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getSimpleName()
                    + " as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Writes the pretty-printed JSON of {@code value}, plus a final newline, atomically to {@code file}. */
    public static void write(Path file, Object value) throws IOException {
        byte[] bytes = (toJson(value) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    /** Reads {@code file} as a {@code type} (a record, a Map, ...). */
    public static <T> T read(Path file, Class<T> type) throws IOException {
        return MAPPER.readValue(Files.readAllBytes(file), type);
    }

    /** Parses {@code json} as a {@code type}. */
    public static <T> T parse(String json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
