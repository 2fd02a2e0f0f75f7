package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    // The file the spec describes for {"a": F32 [1, -2], "b": F64 scalar 0.5} with metadata
    // format=pt, built byte by byte: u64 LE header length, JSON padded with spaces to a multiple of
    // 8, then the little-endian data, offsets relative to the data start.
    private static final String SPEC_HEADER = "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[8,16]}}";

    private static byte[] specFile() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] header = (SPEC_HEADER + "      ").getBytes(StandardCharsets.US_ASCII); // 138 + 6 = 144 bytes
        out.writeBytes(HexFormat.of().parseHex("9000000000000000")); // 144, little-endian u64
        out.writeBytes(header);
        out.writeBytes(HexFormat.of().parseHex("0000803f" + "000000c0")); // 1.0f, -2.0f
        out.writeBytes(HexFormat.of().parseHex("000000000000e03f")); // 0.5
        return out.toByteArray();
    }

    private static Map<String, Tensor> specTensors() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", Tensor.of(new float[] {1f, -2f}, 2));
        tensors.put("b", Tensor.of(new double[] {0.5}));
        return tensors;
    }

    @Test
    void writesExactlyTheSpecLayout() throws IOException {
        Path file = dir.resolve("spec.safetensors");
        SafeTensors.write(file, specTensors(), Map.of("format", "pt"));
        assertArrayEquals(specFile(), Files.readAllBytes(file));
    }

    @Test
    void readsTheSpecLayout() throws IOException {
        Path file = dir.resolve("spec.safetensors");
        Files.write(file, specFile());
        SafeTensors.Contents c = SafeTensors.read(file);
        assertEquals(List.of("a", "b"), List.copyOf(c.tensors().keySet()));
        assertEquals(Map.of("format", "pt"), c.metadata());
        Tensor a = c.tensors().get("a");
        assertEquals(DType.FLOAT32, a.dtype());
        assertArrayEquals(new int[] {2}, a.shape());
        assertArrayEquals(new float[] {1f, -2f}, a.toFloatArray());
        Tensor b = c.tensors().get("b");
        assertEquals(DType.FLOAT64, b.dtype());
        assertArrayEquals(new int[0], b.shape());
        assertArrayEquals(new double[] {0.5}, b.toDoubleArray());
    }

    @Test
    void headerIsPaddedToMultipleOfEightAndBufferAligned() throws IOException {
        for (String name : List.of("w", "ww", "www", "wwww", "wwwww", "wwwwww", "wwwwwww", "wwwwwwww")) {
            Path file = dir.resolve(name + ".safetensors");
            SafeTensors.write(file, Map.of(name, Tensor.of(new float[] {3f}, 1)));
            byte[] bytes = Files.readAllBytes(file);
            long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8, name);
            assertEquals(8 + n + 4, bytes.length);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            assertTrue(header.startsWith("{") && header.stripTrailing().endsWith("}"), header);
        }
    }

    @Test
    void roundTripKeepsOrderValuesShapesAndMetadata() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        float[] w = new float[3 * 4 * 5];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i) * 1e3f;
        tensors.put("layer2.weight", Tensor.of(w, 3, 4, 5));
        tensors.put("layer1.bias", Tensor.of(new double[] {Double.MIN_VALUE, -0.0, Double.MAX_VALUE, Math.PI}, 2, 2));
        tensors.put("empty", Tensor.of(new float[0], 0, 7));
        tensors.put("ünïcødé \"quoted\"\n", Tensor.of(new float[] {Float.NaN, Float.NEGATIVE_INFINITY}, 2));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("epoch", "12");
        metadata.put("note", "tab\there, quote \" and backslash \\ and \u0001");
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, tensors, metadata);

        SafeTensors.Contents c = SafeTensors.read(file);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(c.tensors().keySet()));
        assertEquals(metadata, c.metadata());
        for (String name : tensors.keySet()) {
            Tensor expected = tensors.get(name);
            Tensor actual = c.tensors().get(name);
            assertEquals(expected.dtype(), actual.dtype(), name);
            assertArrayEquals(expected.shape(), actual.shape(), name);
            assertArrayEquals(expected.toDoubleArray(), actual.toDoubleArray(), name);
        }
    }

    @Test
    void largeTensorCrossesReadChunks() {
        float[] big = new float[(1 << 20) / 4 * 3 + 17];
        for (int i = 0; i < big.length; i++) big[i] = i;
        Path file = dir.resolve("big.safetensors");
        SafeTensors.write(file, Map.of("big", Tensor.of(big, big.length)));
        assertArrayEquals(big, SafeTensors.read(file).tensors().get("big").toFloatArray());
    }

    @Test
    void emptyFileOfTensorsRoundTrips() throws IOException {
        Path file = dir.resolve("none.safetensors");
        SafeTensors.write(file, Map.of());
        assertEquals(16, Files.size(file)); // "{}" padded to 8
        SafeTensors.Contents c = SafeTensors.read(file);
        assertTrue(c.tensors().isEmpty());
        assertTrue(c.metadata().isEmpty());
    }

    @Test
    void writeRejectsTensorNamedMetadata() {
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("x.safetensors"),
                Map.of("__metadata__", Tensor.of(new float[] {1f}, 1))));
    }

    @Test
    void int64IsReadIntoFloat64ExactlyAndWrittenBackAsInt64() throws IOException {
        long big = (1L << 53) - 1; // the largest odd integer float64 holds; float32 would round it
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(7).putLong(-big).putLong(big);
        String json = "{" + entry("count", "I64", "[]", 0, 8) + "," + entry("ids", "I64", "[2]", 8, 24) + "}";
        Path file = withHeader(json + " ".repeat(-json.length() & 7), data.array()); // padded as our writer pads
        SafeTensors.Contents c = SafeTensors.read(file);
        assertEquals(DType.FLOAT64, c.tensors().get("count").dtype());
        assertArrayEquals(new int[0], c.tensors().get("count").shape());
        assertArrayEquals(new double[] {7}, c.tensors().get("count").toDoubleArray());
        assertArrayEquals(new double[] {-big, big}, c.tensors().get("ids").toDoubleArray());
        assertEquals(List.of("count", "ids"), List.copyOf(c.int64()));

        Path copy = dir.resolve("copy.safetensors");
        SafeTensors.write(copy, c.tensors(), c.metadata(), c.int64());
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(copy), "the same header and the same bytes");

        ByteBuffer tooBig = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong((1L << 53) + 1);
        assertFails(withHeader("{" + entry("n", "I64", "[]", 0, 8) + "}", tooBig.array()), "tensor \"n\" holds the I64 value 9007199254740993");
        assertFails(withHeader("{" + entry("n", "I64", "[2]", 0, 8) + "}", new byte[8]), "expected 16 bytes for I64 shape [2]");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(copy,
                Map.of("n", Tensor.of(new double[] {1.5}, 1)), Map.of(), java.util.Set.of("n")));
        assertEquals("cannot store 'n' as I64: it holds 1.5, not an integer of magnitude at most 2^53", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(copy, Map.of(), Map.of(), java.util.Set.of("n")));
    }

    // ---- corruption cases: each names the file and what was expected ----

    private Path withHeader(String json, byte[] data) throws IOException {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length).put(header).put(data);
        Path file = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(file, buf.array());
        return file;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private static void assertFails(Path file, String... fragments) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    @Test
    void tooShortForLength() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertFails(file, "8-byte header length", "only 3 bytes");
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        byte[] bytes = specFile();
        Path file = dir.resolve("trunc-header.safetensors");
        Files.write(file, Arrays.copyOf(bytes, 100));
        assertFails(file, "header length 144 exceeds the 92 bytes");
    }

    @Test
    void headerLengthHugeUnsigned() throws IOException {
        byte[] bytes = specFile();
        for (int i = 0; i < 8; i++) bytes[i] = (byte) 0xff;
        Path file = dir.resolve("huge.safetensors");
        Files.write(file, bytes);
        assertFails(file, "header length 18446744073709551615");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] bytes = specFile();
        Path file = dir.resolve("trunc-data.safetensors");
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));
        assertFails(file, "tensor \"b\"", "ends at offset 16", "only 13 data bytes");
    }

    @Test
    void trailingBytes() throws IOException {
        byte[] bytes = specFile();
        Path file = dir.resolve("trailing.safetensors");
        Files.write(file, Arrays.copyOf(bytes, bytes.length + 4));
        assertFails(file, "cover 16 data bytes", "holds 20");
    }

    @Test
    void malformedJson() throws IOException {
        assertFails(withHeader("{\"a\":{\"dtype\":\"F32\",}}", new byte[0]), "malformed JSON header");
        assertFails(withHeader("{\"a\":1,\"a\":2}", new byte[0]), "duplicate key \"a\"");
        assertFails(withHeader("{} x", new byte[0]), "expected end of JSON");
        assertFails(withHeader("{\"a\":\"\\q\"}", new byte[0]), "invalid escape");
    }

    @Test
    void headerMustStartWithBrace() throws IOException {
        assertFails(withHeader(" {}", new byte[0]), "start with '{'");
        assertFails(withHeader("[]", new byte[0]), "start with '{'");
    }

    @Test
    void headerNotUtf8() throws IOException {
        byte[] header = {'{', '"', (byte) 0xff, '"', ':', '1', '}', ' '};
        ByteBuffer buf = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8).put(header);
        Path file = dir.resolve("latin.safetensors");
        Files.write(file, buf.array());
        assertFails(file, "not valid UTF-8");
    }

    @Test
    void unsupportedDtypeNamesTensorAndDtype() throws IOException {
        assertFails(withHeader("{" + entry("half", "F16", "[2]", 0, 4) + "}", new byte[4]),
                "tensor \"half\" has dtype F16", "only F32, F64 and I64");
    }

    @Test
    void offsetsNotMatchingShape() throws IOException {
        assertFails(withHeader("{" + entry("w", "F32", "[3]", 0, 8) + "}", new byte[8]),
                "expected 12 bytes for F32 shape [3]", "span 8");
    }

    @Test
    void offsetsWithGapOrOverlap() throws IOException {
        assertFails(withHeader("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}",
                new byte[12]), "tensor \"b\"", "begin at offset 4", "found 8");
        assertFails(withHeader("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8) + "}",
                new byte[8]), "begin at offset", "contiguous");
        assertFails(withHeader("{" + entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]), "begin at offset 0");
    }

    @Test
    void badEntryFields() throws IOException {
        assertFails(withHeader("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "\"dtype\" to be a string");
        assertFails(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]),
                "\"shape\"", "non-negative integers");
        assertFails(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]),
                "\"shape\"");
        assertFails(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]),
                "\"data_offsets\"", "array of 2");
        assertFails(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", new byte[4]),
                "end before they begin");
        assertFails(withHeader("{\"w\":[1]}", new byte[0]), "expected an object with dtype");
    }

    @Test
    void numbersBeyondRangeNameFileAndKey() throws IOException {
        assertFails(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e99999999999]}}", new byte[4]),
                "malformed JSON header: number 1e99999999999 at key w.data_offsets[1] has an exponent too large to represent");
        assertFails(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1e400],\"data_offsets\":[0,4]}}", new byte[4]),
                "number 1e400 at key w.shape[0] is beyond the range of a double");
        assertFails(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1e400],\"data_offsets\":[0,4]}}", new byte[4]),
                "number -1e400 at key w.shape[0] is beyond the range of a double");
        assertFails(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551620]}}",
                new byte[4]), "number 18446744073709551620 at key w.data_offsets[1] does not fit in 64 bits");
    }

    @Test
    void shapeWhoseProductOverflowsIsRejected() throws IOException {
        assertFails(withHeader("{" + entry("w", "F32", "[2147483647,2147483647,2147483647,4]", 0, 4) + "}", new byte[4]),
                "tensor \"w\": shape [2147483647, 2147483647, 2147483647, 4] has 2^32 or more elements, more than a Java array holds");
        // A zero anywhere still makes an empty tensor, however large the other dimensions.
        assertEquals(0, SafeTensors.read(withHeader("{" + entry("w", "F32", "[2147483647,2147483647,2147483647,0]", 0, 0) + "}",
                new byte[0])).tensors().get("w").numel());
    }

    @Test
    void metadataMustHoldStrings() throws IOException {
        assertFails(withHeader("{\"__metadata__\":{\"epoch\":3}}", new byte[0]), "__metadata__[\"epoch\"]", "string");
        assertFails(withHeader("{\"__metadata__\":[]}", new byte[0]), "object of strings");
        // null means "no metadata" to the reference implementation
        assertTrue(SafeTensors.read(withHeader("{\"__metadata__\":null}", new byte[0])).metadata().isEmpty());
    }

    @Test
    void missingFileNamesIt() {
        Path file = dir.resolve("nope.safetensors");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> SafeTensors.read(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void metadataIsWrittenInKeyOrderSoTheSameContentGivesTheSameBytes() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("deltagrad", "x");
        metadata.put("epoch", "3");
        String header = new String(SafeTensors.header(Map.of(), metadata), java.nio.charset.StandardCharsets.UTF_8).strip();
        assertEquals("{\"__metadata__\":{\"deltagrad\":\"x\",\"epoch\":\"3\",\"format\":\"pt\"}}", header);
    }
}
