package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged or hostile image files: each is one UserException naming the file, found before pixels are allocated. */
class ImagesTest {
    @TempDir
    Path tmp;

    private String fails(String name, byte[] bytes) throws IOException {
        Path file = Files.write(tmp.resolve(name), bytes);
        UserException e = assertThrows(UserException.class, () -> Images.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        return e.getMessage().substring(file.toString().length() + 2);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void pgmHeaderNumbersMustBeWholeNumbers() throws IOException {
        assertEquals("PGM width is 'four'; expected a whole number from 0 to 2147483647", fails("a.pgm", ascii("P2 four 4 255 1")));
        assertEquals("PGM height is 99999999999; expected at most 2147483647", fails("b.pgm", ascii("P2 4 99999999999 255 1")));
        assertEquals("PGM maximum grey value is 70000; expected at most 65535", fails("c.pgm", ascii("P2 1 1 70000 1")));
        assertEquals("PGM header says 1 x 1 pixels of maximum 0; expected positive sizes and a maximum of 1 to 65535",
                fails("d.pgm", ascii("P2 1 1 0 0")));
    }

    @Test
    void pgmClaimingMorePixelsThanItHoldsFailsBeforeAllocating() throws IOException {
        assertEquals("truncated PGM: the header says 100000 x 100000 = 10000000000 pixels, but the file has room for at most 3",
                fails("huge.pgm", ascii("P5 100000 100000 255\n\1\2\3")));
        assertEquals("truncated PGM: the header says 2 x 2 = 4 pixels, but the file has room for at most 2",
                fails("plain.pgm", ascii("P2 2 2 255\n1 2")));
    }

    @Test
    void pgmPixelsAboveTheMaximumAreErrorsNotWrappedBytes() throws IOException {
        assertEquals("PGM pixel 1 is 300; expected at most 255", fails("p2.pgm", ascii("P2 2 1 255\n10 300\n")));
        assertEquals("pixel 0 is 4096, above the maximum grey value 1000",
                fails("p5.pgm", new byte[] {'P', '5', ' ', '1', ' ', '1', ' ', '1', '0', '0', '0', '\n', 0x10, 0x00}));
        BufferedImage ok = Images.read(Files.write(tmp.resolve("ok.pgm"), ascii("P2 2 1 1000\n1000 500\n")));
        assertEquals(255, ok.getRaster().getSample(0, 0, 0));
        assertEquals(128, ok.getRaster().getSample(1, 0, 0));
    }

    @Test
    void pngDeclaringHugeDimensionsFailsBeforeDecoding() throws IOException {
        assertEquals("image of 100000 x 100000 pixels; expected at least 1 x 1 and at most 67108864 pixels",
                fails("huge.png", png(100_000, 100_000)));
    }

    @Test
    void damagedImagesAreOneLine() throws IOException {
        assertTrue(fails("junk.png", ascii("not an image at all")).startsWith("not a readable image (expected PNG"));
        byte[] cut = png(4, 4);
        assertTrue(fails("cut.png", java.util.Arrays.copyOf(cut, 40)).startsWith("not a readable image ("));
    }

    /** A PNG of the given size whose IHDR is valid and whose pixel data is missing. */
    private static byte[] png(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0).put((byte) 0)
                .put((byte) 0).put((byte) 0).array());
        chunk(out, "IDAT", new byte[0]);
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = ascii(type);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
