package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    // A 2×3 ubyte image file built byte by byte from the format description.
    private static final byte[] TINY = HexFormat.of().parseHex(
            "00000803" + "00000001" + "00000002" + "00000003" + "00017f80feff");

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    private static void assertFails(Path file, String... fragments) {
        DataException e = assertThrows(DataException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    @Test
    void readsHandBuiltUbyteFile() throws IOException {
        IdxArray a = Idx.read(file("tiny-idx3-ubyte", TINY));
        assertEquals(IdxArray.Type.UBYTE, a.type());
        assertArrayEquals(new int[] {1, 2, 3}, a.shape());
        assertArrayEquals(new int[] {0, 1, 127, 128, 254, 255}, a.toIntArray());
        assertArrayEquals(new float[] {0, 1, 127, 128, 254, 255}, a.toFloatArray());
    }

    @Test
    void readsGzipByMagicWhateverTheName() throws IOException {
        for (String name : new String[] {"tiny.gz", "tiny-no-extension"}) {
            IdxArray a = Idx.read(file(name, gzip(TINY)));
            assertArrayEquals(new int[] {0, 1, 127, 128, 254, 255}, a.toIntArray(), name);
        }
    }

    @Test
    void plainContentNamedGzStillReads() throws IOException {
        assertArrayEquals(new int[] {1, 2, 3}, Idx.read(file("plain.gz", TINY)).shape());
    }

    @Test
    void writerRoundTripsEveryType() {
        int[] shape = {2, 2};
        IdxArray[] arrays = {
            IdxArray.ofInts(IdxArray.Type.UBYTE, shape, new int[] {0, 7, 200, 255}),
            IdxArray.ofInts(IdxArray.Type.BYTE, shape, new int[] {-128, -1, 0, 127}),
            IdxArray.ofInts(IdxArray.Type.SHORT, shape, new int[] {-32768, -2, 3, 32767}),
            IdxArray.ofInts(IdxArray.Type.INT, shape, new int[] {Integer.MIN_VALUE, -5, 6, Integer.MAX_VALUE}),
            IdxArray.ofFloats(shape, new float[] {-1.5f, 0f, Float.MIN_VALUE, 3e38f}),
            IdxArray.ofDoubles(shape, new double[] {-1e300, 0.1, Math.PI, Double.MAX_VALUE}),
        };
        for (IdxArray a : arrays) {
            for (String name : new String[] {"a-" + a.type(), "a-" + a.type() + ".gz"}) {
                Path f = dir.resolve(name);
                Idx.write(f, a);
                IdxArray b = Idx.read(f);
                assertEquals(a.type(), b.type(), name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), name);
            }
        }
    }

    @Test
    void writerProducesTheFormatBytes() throws IOException {
        Path f = dir.resolve("w");
        Idx.write(f, IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {1, 2, 3}, new int[] {0, 1, 127, 128, 254, 255}));
        assertArrayEquals(TINY, Files.readAllBytes(f));
        Path s = dir.resolve("s");
        Idx.write(s, IdxArray.ofInts(IdxArray.Type.SHORT, new int[] {2}, new int[] {-2, 258}));
        assertArrayEquals(HexFormat.of().parseHex("00000b01" + "00000002" + "fffe" + "0102"), Files.readAllBytes(s));
    }

    @Test
    void intsOfFloatTypeRefused() {
        IdxArray a = IdxArray.ofFloats(new int[] {1}, new float[] {1f});
        assertThrows(IllegalStateException.class, a::toIntArray);
        assertThrows(IllegalArgumentException.class,
                () -> IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {1}, new int[] {256}));
        assertThrows(IllegalArgumentException.class,
                () -> IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {2}, new int[] {1}));
    }

    @Test
    void missingFile() {
        assertFails(dir.resolve("absent-idx1-ubyte"), "no such file");
    }

    @Test
    void badMagic() throws IOException {
        assertFails(file("text", "hello world".getBytes()), "expected IDX magic number 00 00 <type> <rank>, found 68 65 6c 6c");
        assertFails(file("empty", new byte[0]), "found an empty file");
        assertFails(file("fake.gz", "PK\3\4 zip".getBytes()), "not gzip either");
    }

    @Test
    void unsupportedType() throws IOException {
        assertFails(file("t", HexFormat.of().parseHex("0000070100000001ff")), "unsupported IDX type code 0x07");
    }

    @Test
    void zeroRank() throws IOException {
        assertFails(file("r", HexFormat.of().parseHex("00000800")), "rank 0");
    }

    @Test
    void truncatedDimensions() throws IOException {
        assertFails(file("d", HexFormat.of().parseHex("000008030000000100")), "expected 3 dimension sizes (12 bytes)",
                "file ends after 5");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] cut = Arrays.copyOf(TINY, TINY.length - 2);
        assertFails(file("cut", cut), "expected 6 data bytes for shape [1, 2, 3], file ends after 4");
        assertFails(file("cut.gz", gzip(cut)), "expected 6 data bytes for shape [1, 2, 3], file ends after 4");
    }

    @Test
    void mnistSizedTruncationMessage() throws IOException {
        byte[] header = HexFormat.of().parseHex("00000803" + "0000ea60" + "0000001c" + "0000001c");
        byte[] bytes = Arrays.copyOf(header, header.length + 1234);
        assertFails(file("train-images-idx3-ubyte", bytes), "expected 47040000 data bytes for shape [60000, 28, 28], file ends after 1234");
    }

    @Test
    void trailingGarbage() throws IOException {
        byte[] extra = Arrays.copyOf(TINY, TINY.length + 3);
        assertFails(file("extra", extra), "end after 6 data bytes", "found 3 more bytes (trailing garbage)");
        assertFails(file("extra.gz", gzip(extra)), "trailing garbage");
    }

    @Test
    void corruptGzip() throws IOException {
        byte[] gz = gzip(TINY);
        byte[] damaged = gz.clone();
        for (int i = 10; i < damaged.length - 8; i++) damaged[i] ^= 0x5a;
        assertFails(file("damaged.gz", damaged), "corrupt or truncated gzip data");
        assertFails(file("short.gz", Arrays.copyOf(gz, gz.length / 2)), "corrupt or truncated gzip data");
        byte[] badCrc = gz.clone();
        badCrc[badCrc.length - 6] ^= 1;
        assertFails(file("crc.gz", badCrc), "corrupt or truncated gzip data");
    }

    @Test
    void hugeDimensionRejectedBeforeAllocating() throws IOException {
        assertFails(file("huge", HexFormat.of().parseHex("00000d02" + "7fffffff" + "7fffffff")), "more data than a Java array holds");
        assertFails(file("neg", HexFormat.of().parseHex("00000801" + "ffffffff")), "4294967295, too large");
    }

    @Test
    void gzipClaimingMoreThanItCanInflateToFailsBeforeAllocating() throws IOException {
        // 2.7 million 28×28 images claimed by a 100-byte gzip file: no deflate stream inflates that far.
        byte[] header = HexFormat.of().parseHex("00000803" + "002932e0" + "0000001c" + "0000001c");
        Path f = file("claims.gz", gzip(Arrays.copyOf(header, header.length + 100)));
        assertFails(f, "expected 2116800000 data bytes for shape [2700000, 28, 28], but a gzip file of "
                + Files.size(f) + " bytes inflates to at most " + Files.size(f) * 1032 + " (truncated, or a wrong header)");
    }

    @Test
    void gzipHoldingMoreThanTheHeapIsOneLine() throws Exception {
        // 78 MB of zero pixels gzip to about 76 KB; a JVM with a 48 MB heap cannot hold them.
        byte[] header = HexFormat.of().parseHex("00000803" + "000186a0" + "0000001c" + "0000001c");
        Path f = file("bomb-idx3-ubyte.gz", gzip(Arrays.copyOf(header, header.length + 100_000 * 784)));
        String out = runWithSmallHeap(f, "bytes");
        assertTrue(out.startsWith("DataException: " + f + ": shape [100000, 28, 28] of ubyte needs 78.4 MB, more than the Java heap's maximum of "),
                out);
        assertTrue(out.contains("run java with a larger -Xmx") && out.lines().count() == 1, out);
    }

    @Test
    void conversionBeyondTheHeapIsOneLine() throws Exception {
        // 20 MB of bytes fit a 48 MB heap; as 80 MB of floats they do not.
        byte[] header = HexFormat.of().parseHex("00000801" + "01312d00");
        Path f = file("wide-idx1-ubyte.gz", gzip(Arrays.copyOf(header, header.length + 20_000_000)));
        String out = runWithSmallHeap(f, "floats");
        assertTrue(out.startsWith("DataException: " + f + ": 20000000 values as floats needs 80.0 MB, more than the "), out);
        assertTrue(out.lines().count() == 1, out);
    }

    /** Runs {@link SmallHeap} in a JVM with a 48 MB heap and returns what it printed. */
    private static String runWithSmallHeap(Path file, String what) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx48m",
                "-cp", System.getProperty("java.class.path"), SmallHeap.class.getName(), file.toString(), what)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    /** Reads an IDX file (and converts it to floats when asked), printing the DataException it gets, if any. */
    static final class SmallHeap {
        public static void main(String[] args) {
            try {
                IdxArray a = Idx.read(Path.of(args[0]));
                if (args[1].equals("floats")) a.toFloatArray();
                System.out.println("read " + a.numel() + " values");
            } catch (DataException e) {
                System.out.println("DataException: " + e.getMessage());
            }
        }
    }
}
