package org.deltagrad.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.deltagrad.data.DataException;
import org.deltagrad.data.ImageFolder;

/**
 * Reads the images {@code predict} classifies: Netpbm greymaps (.pgm, plain P2 or raw P5, 8 or 16 bits) and
 * whatever Java's ImageIO decodes (PNG, JPEG, GIF, BMP). Anything wrong with a file, including a size that could
 * not be held, is a {@link UserException} naming it; sizes are checked before pixels are allocated.
 */
final class Images {
    private Images() {}

    /** At most this many pixels: 8192 × 8192, far more than any model input, and small enough to decode. */
    static final long MAX_PIXELS = ImageFolder.MAX_PIXELS;

    /** The image in {@code file}: a .pgm by its name, anything else by ImageIO. */
    static BufferedImage read(Path file) throws IOException {
        if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".pgm")) return readPgm(file);
        try {
            return ImageFolder.read(file);
        } catch (DataException e) {
            throw new UserException(e.getMessage(), e);
        }
    }

    private static void checkSize(Path file, long width, long height) {
        if (width < 1 || height < 1 || width * height > MAX_PIXELS) {
            throw new UserException(file + ": image of " + width + " x " + height + " pixels; expected at least 1 x 1 and at most "
                    + MAX_PIXELS + " pixels");
        }
    }

    /** Netpbm greymaps, plain (P2) or raw (P5, 8 or 16 bits). */
    static BufferedImage readPgm(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int[] pos = {0};
        String magic = token(b, pos, file);
        if (!magic.equals("P2") && !magic.equals("P5")) {
            throw new UserException(file + ": not a PGM file (expected P2 or P5, found '" + shorten(magic) + "')");
        }
        boolean raw = magic.equals("P5");
        int w = number(b, pos, file, "width", Integer.MAX_VALUE);
        int h = number(b, pos, file, "height", Integer.MAX_VALUE);
        int max = number(b, pos, file, "maximum grey value", 65535);
        if (w < 1 || h < 1 || max < 1) {
            throw new UserException(file + ": PGM header says " + w + " x " + h + " pixels of maximum " + max
                    + "; expected positive sizes and a maximum of 1 to 65535");
        }
        int bytesPer = max > 255 ? 2 : 1;
        if (raw) pos[0]++; // the single whitespace character after the maximum
        long pixels = (long) w * h;
        long room = Math.max(0, b.length - pos[0]);
        // Checked before allocating: a raw pixel takes bytesPer bytes, a plain one at least a digit and a separator.
        long fits = raw ? room / bytesPer : (room + 1) / 2;
        if (pixels > fits) {
            throw new UserException(file + ": truncated PGM: the header says " + w + " x " + h + " = " + pixels
                    + " pixels, but the file has room for at most " + fits);
        }
        checkSize(file, w, h);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < pixels; i++) {
            int v;
            if (raw) {
                int at = pos[0] + i * bytesPer;
                v = bytesPer == 1 ? b[at] & 0xff : ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
                if (v > max) throw new UserException(file + ": pixel " + i + " is " + v + ", above the maximum grey value " + max);
            } else {
                v = number(b, pos, file, "pixel " + i, max);
            }
            img.getRaster().setSample(i % w, i / w, 0, Math.round(255f * v / max));
        }
        return img;
    }

    /** The next token as a non-negative decimal integer no larger than {@code limit}. */
    private static int number(byte[] b, int[] pos, Path file, String what, int limit) {
        String t = token(b, pos, file);
        long v = 0;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9' || i >= 18) {
                throw new UserException(file + ": PGM " + what + " is '" + shorten(t) + "'; expected a whole number from 0 to " + limit);
            }
            v = v * 10 + (c - '0');
        }
        if (v > limit) throw new UserException(file + ": PGM " + what + " is " + v + "; expected at most " + limit);
        return (int) v;
    }

    private static String shorten(String s) {
        return s.length() <= 20 ? s : s.substring(0, 20) + "...";
    }

    private static String token(byte[] b, int[] pos, Path file) {
        int p = pos[0];
        while (p < b.length) {
            if (b[p] == '#') {
                while (p < b.length && b[p] != '\n') p++;
            } else if (Character.isWhitespace(b[p])) {
                p++;
            } else {
                break;
            }
        }
        int start = p;
        while (p < b.length && !Character.isWhitespace(b[p])) p++;
        if (start == p) throw new UserException(file + ": truncated PGM header");
        pos[0] = p;
        return new String(b, start, p - start, StandardCharsets.US_ASCII);
    }
}
