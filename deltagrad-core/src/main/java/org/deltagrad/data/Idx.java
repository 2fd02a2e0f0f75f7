package org.deltagrad.data;

import java.io.BufferedInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.deltagrad.io.AtomicFiles;
import org.deltagrad.io.HeapLimit;

/**
 * The IDX format of MNIST and Fashion-MNIST: a magic number {@code 00 00 <type> <rank>}, the
 * dimensions as big-endian int32, then the elements, big-endian, row-major. Files may be gzipped;
 * that is recognised by the gzip magic bytes 1f 8b, whatever the name.
 */
public final class Idx {
    private Idx() {}

    private static final int BUFFER = 1 << 16;

    /** Reads a whole IDX file, checking it is complete and has nothing after the data. */
    public static IdxArray read(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), BUFFER)) {
            long size = Files.isRegularFile(file) ? Files.size(file) : -1;
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            if (!gzip) return parse(raw, file, size < 0 ? null : new Bound(size, -1));
            try (InputStream in = new GZIPInputStream(raw, BUFFER)) {
                return parse(in, file, size < 0 ? null : new Bound(size * MAX_DEFLATE_RATIO, size));
            } catch (IOException e) {
                // Plain files report short reads as truncation in parse(); an IOException from
                // inside the inflater means the compressed stream itself is damaged or cut off.
                throw new DataException(file + ": corrupt or truncated gzip data (" + e.getMessage() + ")", e);
            }
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    // Deflate codes at most 258 bytes in 2 bits: no gzip file inflates to more than 1032 times its size.
    private static final long MAX_DEFLATE_RATIO = 1032;

    /** The most bytes the stream can hold, header included; for gzip, inflated from {@code gzipBytes} (else -1). */
    private record Bound(long bytes, long gzipBytes) {}

    private static IdxArray parse(InputStream in, Path file, Bound bound) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4 || magic[0] != 0 || magic[1] != 0) {
            String gzNote = file.toString().endsWith(".gz") ? " (the name ends in .gz, but the content is not gzip either)" : "";
            throw new DataException(file + ": expected IDX magic number 00 00 <type> <rank>, found "
                    + (magic.length == 0 ? "an empty file" : HexFormat.ofDelimiter(" ").formatHex(magic)) + gzNote);
        }
        IdxArray.Type type = IdxArray.Type.ofCode(magic[2] & 0xFF);
        if (type == null) {
            throw new DataException(file + ": unsupported IDX type code 0x" + HexFormat.of().toHexDigits(magic[2])
                    + "; expected 08 (ubyte), 09 (byte), 0b (short), 0c (int), 0d (float) or 0e (double)");
        }
        int rank = magic[3] & 0xFF;
        if (rank == 0) throw new DataException(file + ": expected at least one dimension, found rank 0");
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new DataException(file + ": expected " + rank + " dimension sizes (" + 4 * rank
                    + " bytes) after the magic number, file ends after " + dimBytes.length);
        }
        int[] shape = new int[rank];
        long numel = 1;
        ByteBuffer dims = ByteBuffer.wrap(dimBytes);
        for (int i = 0; i < rank; i++) {
            shape[i] = dims.getInt();
            if (shape[i] < 0) {
                throw new DataException(file + ": dimension " + i + " is " + Integer.toUnsignedString(shape[i]) + ", too large");
            }
            numel *= shape[i]; // both factors < 2^31 here, so no overflow
            if (numel > (Integer.MAX_VALUE - 8) / type.byteSize()) {
                throw new DataException(file + ": shape " + Arrays.toString(shape) + " is more data than a Java array holds");
            }
        }
        int expected = (int) numel * type.byteSize();
        long headerBytes = 4 + 4L * rank;
        if (bound != null && headerBytes + expected > bound.bytes) {
            // Checked before allocating: a small file must not make us reserve gigabytes for data it cannot hold.
            throw new DataException(file + ": expected " + expected + " data bytes for shape " + Arrays.toString(shape)
                    + (bound.gzipBytes < 0 ? ", file ends after " + (bound.bytes - headerBytes)
                    : ", but a gzip file of " + bound.gzipBytes + " bytes inflates to at most " + bound.bytes + " (truncated, or a wrong header)"));
        }
        byte[] data = HeapLimit.allocate(expected, () -> new byte[expected], why -> new DataException(file + ": shape "
                + Arrays.toString(shape) + " of " + type.name().toLowerCase(Locale.ROOT) + " " + why));
        int read = in.readNBytes(data, 0, expected);
        if (read < expected) {
            throw new DataException(file + ": expected " + expected + " data bytes for shape " + Arrays.toString(shape)
                    + ", file ends after " + read);
        }
        long trailing = in.transferTo(OutputStream.nullOutputStream());
        if (trailing > 0) {
            throw new DataException(file + ": expected the file to end after " + expected + " data bytes for shape "
                    + Arrays.toString(shape) + ", found " + trailing + " more bytes (trailing garbage)");
        }
        return new IdxArray(type, shape, data, file.toString());
    }

    /** Writes {@code array} as an IDX file, atomically; gzipped when the name ends in ".gz". */
    public static void write(Path file, IdxArray array) {
        boolean gzip = file.getFileName().toString().endsWith(".gz");
        try {
            AtomicFiles.write(file, out -> {
                OutputStream target = gzip ? new GZIPOutputStream(out, BUFFER) : out;
                DataOutputStream data = new DataOutputStream(target);
                int[] shape = array.shape();
                data.write(new byte[] {0, 0, (byte) array.type().code(), (byte) shape.length});
                for (int d : shape) data.writeInt(d); // DataOutputStream is big-endian, as IDX wants
                data.write(array.bytes());
                data.flush();
                // finish() writes the gzip trailer without closing the file stream underneath.
                if (target instanceof GZIPOutputStream gz) gz.finish();
            });
        } catch (IOException e) {
            throw new DataException(file + ": cannot write (" + e.getMessage() + ")", e);
        }
    }
}
