package org.deltagrad.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.deltagrad.DType;
import org.deltagrad.Tensor;

/**
 * Reads and writes the safetensors format (Hugging Face), so checkpoints move between deltagrad
 * and Python's {@code safetensors} library both ways.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length N; N bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}}, plus an
 * optional {@code "__metadata__"} object of string values; then the data buffer, each tensor's
 * elements little-endian and row-major. Offsets count from the start of the buffer. The writer
 * lays tensors out contiguously in map order and pads the header with spaces to a multiple of 8
 * bytes, as the reference implementation does, so the buffer starts aligned.
 *
 * <p>The reader checks everything the reference implementation checks (header inside the file,
 * JSON object starting with '{', offsets contiguous from 0 to the end of the file, each span equal
 * to dtype size × element count) and accepts F32 and F64 tensors, the types a {@link Tensor} holds, and I64.
 *
 * <p>I64 (PyTorch's int64, e.g. a batch norm's {@code num_batches_tracked}) is read into a float64 tensor, which holds
 * every integer up to 2^53 exactly; a larger value is refused rather than rounded. Tensors named in the writer's
 * {@code int64} set (see {@code Module.int64StateKeys()}) are written back as I64, so such a file round-trips exactly,
 * dtypes included.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /**
     * The tensors of a file in header order, its {@code __metadata__} (empty when absent), and the names of the
     * tensors stored as I64 (held as float64).
     */
    public record Contents(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata, Set<String> int64) {
        public Contents(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {
            this(tensors, metadata, Set.of());
        }
    }

    private static final String I64 = "I64";
    // float64 holds every integer of magnitude up to 2^53 exactly, and no range beyond it
    private static final long EXACT_INTEGERS = 1L << 53;

    private static final String METADATA_KEY = "__metadata__";
    // The reference implementation refuses larger headers; so do we, before allocating them.
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final int CHUNK_BYTES = 1 << 20;

    /** Writes {@code tensors} (in iteration order) and {@code metadata} to {@code file} atomically. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        write(file, tensors, metadata, Set.of());
    }

    /**
     * As {@link #write(Path, Map, Map)}, storing the tensors named in {@code int64} as I64; they must hold integers
     * of magnitude at most 2^53 (checked before anything is written).
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, Set<String> int64) {
        try {
            AtomicFiles.write(file, content(tensors, metadata, int64));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write safetensors file: " + e.getMessage(), e);
        }
    }

    /** The whole file's bytes as a writer, for callers that write it with other files (ModelFile). */
    static AtomicFiles.StreamWriter content(Map<String, Tensor> tensors, Map<String, String> metadata, Set<String> int64) {
        for (String name : int64) {
            Tensor t = tensors.get(name);
            if (t == null) throw new IllegalArgumentException("cannot store '" + name + "' as I64: there is no such tensor");
            for (double v : t.toDoubleArray()) {
                if (v != Math.rint(v) || Math.abs(v) > EXACT_INTEGERS) {
                    throw new IllegalArgumentException("cannot store '" + name + "' as I64: it holds " + v
                            + ", not an integer of magnitude at most 2^53");
                }
            }
        }
        byte[] header = header(tensors, metadata, int64);
        return out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(length.array());
            out.write(header);
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) writeData(out, e.getValue(), int64.contains(e.getKey()));
        };
    }

    /** Writes tensors without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) {
        write(file, tensors, Map.of());
    }

    /** The JSON header, padded with spaces so that its length is a multiple of 8. */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        return header(tensors, metadata, Set.of());
    }

    private static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata, Set<String> int64) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            Json.writeString(json, METADATA_KEY);
            json.append(":{");
            String sep = "";
            // in key order: the same metadata gives the same bytes whatever map holds it (Map.of's order varies per JVM)
            for (Map.Entry<String, String> e : new java.util.TreeMap<>(metadata).entrySet()) {
                json.append(sep);
                Json.writeString(json, e.getKey());
                json.append(':');
                Json.writeString(json, e.getValue());
                sep = ",";
            }
            json.append('}');
        }
        long offset = 0;
        String sep = metadata.isEmpty() ? "" : ",";
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor cannot be named " + METADATA_KEY + " in a safetensors file");
            }
            Tensor t = e.getValue();
            long end = offset + (long) t.numel() * t.dtype().byteSize();
            json.append(sep);
            Json.writeString(json, e.getKey());
            json.append(":{\"dtype\":\"").append(int64.contains(e.getKey()) ? I64 : t.dtype().safetensorsName()).append("\",\"shape\":[");
            int[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) json.append(i == 0 ? "" : ",").append(shape[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
            sep = ",";
        }
        json.append('}');
        byte[] utf8 = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (utf8.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(utf8, padded);
        Arrays.fill(out, utf8.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(OutputStream out, Tensor t, boolean int64) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        if (int64) {
            double[] values = t.toDoubleArray();
            for (int i = 0; i < values.length; ) {
                int n = Math.min(values.length - i, CHUNK_BYTES / 8);
                buf.clear();
                for (int k = 0; k < n; k++) buf.putLong((long) values[i + k]);
                out.write(buf.array(), 0, n * 8);
                i += n;
            }
        } else if (t.dtype() == DType.FLOAT32) {
            float[] values = t.toFloatArray();
            for (int i = 0; i < values.length; ) {
                int n = Math.min(values.length - i, CHUNK_BYTES / 4);
                buf.clear();
                buf.asFloatBuffer().put(values, i, n);
                out.write(buf.array(), 0, n * 4);
                i += n;
            }
        } else {
            double[] values = t.toDoubleArray();
            for (int i = 0; i < values.length; ) {
                int n = Math.min(values.length - i, CHUNK_BYTES / 8);
                buf.clear();
                buf.asDoubleBuffer().put(values, i, n);
                out.write(buf.array(), 0, n * 8);
                i += n;
            }
        }
    }

    /**
     * One tensor's header entry, with offsets relative to the data buffer; {@code dtype} is the tensor's, and
     * {@code int64} says the file stores it as I64.
     */
    private record Entry(String name, DType dtype, boolean int64, int[] shape, long begin, long end) {
        int byteSize() {
            return int64 ? 8 : dtype.byteSize();
        }

        String storedName() {
            return int64 ? I64 : dtype.safetensorsName();
        }
    }

    /** Reads every tensor and the metadata of {@code file}. */
    public static Contents read(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new SafeTensorsException(file + ": expected an 8-byte header length, but the file has only " + size + " bytes");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0, file);
            long headerLength = lengthBytes.getLong(0); // u64 on disk: a negative long means > 2^63
            if (headerLength < 0 || headerLength > size - 8) {
                throw new SafeTensorsException(file + ": header length " + Long.toUnsignedString(headerLength)
                        + " exceeds the " + (size - 8) + " bytes after the length field (truncated or not a safetensors file?)");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new SafeTensorsException(file + ": header length " + headerLength + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(channel, headerBytes, 8, file);
            headerBytes.flip();
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(decodeUtf8(headerBytes, file), metadata, file);
            long dataStart = 8 + headerLength;
            checkLayout(entries, size - dataStart, file);

            LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
            Set<String> int64 = new LinkedHashSet<>();
            for (Entry e : entries) {
                tensors.put(e.name, readTensor(channel, dataStart, e, file));
                if (e.int64) int64.add(e.name);
            }
            return new Contents(tensors, metadata, Collections.unmodifiableSet(int64));
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read safetensors file: " + e.getMessage(), e);
        }
    }

    private static String decodeUtf8(ByteBuffer bytes, Path file) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(file + ": header is not valid UTF-8", e);
        }
    }

    private static List<Entry> parseHeader(String header, Map<String, String> metadata, Path file) {
        // The reference implementation requires the object to start at the first byte; trailing
        // spaces are the alignment padding.
        if (!header.startsWith("{")) {
            throw new SafeTensorsException(file + ": expected the JSON header to start with '{', found "
                    + (header.isEmpty() ? "an empty header" : "'" + header.charAt(0) + "'"));
        }
        Object root;
        try {
            root = Json.parse(header);
        } catch (Json.ParseException e) {
            throw new SafeTensorsException(file + ": malformed JSON header: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new SafeTensorsException(file + ": expected the JSON header to be an object");
        }
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                readMetadata(e.getValue(), metadata, file);
            } else {
                entries.add(parseEntry(name, e.getValue(), file));
            }
        }
        return entries;
    }

    private static void readMetadata(Object value, Map<String, String> metadata, Path file) {
        if (value == null) return; // the reference writer may emit null for "no metadata"
        if (!(value instanceof Map<?, ?> map)) {
            throw new SafeTensorsException(file + ": expected " + METADATA_KEY + " to be an object of strings");
        }
        for (Map.Entry<?, ?> m : map.entrySet()) {
            if (!(m.getValue() instanceof String s)) {
                throw new SafeTensorsException(file + ": expected " + METADATA_KEY + "[\"" + m.getKey()
                        + "\"] to be a string, found " + describe(m.getValue()));
            }
            metadata.put((String) m.getKey(), s);
        }
    }

    private static Entry parseEntry(String name, Object value, Path file) {
        String where = file + ": tensor \"" + name + "\"";
        if (!(value instanceof Map<?, ?> info)) {
            throw new SafeTensorsException(where + ": expected an object with dtype, shape and data_offsets, found " + describe(value));
        }
        if (!(info.get("dtype") instanceof String dtypeName)) {
            throw new SafeTensorsException(where + ": expected \"dtype\" to be a string, found " + describe(info.get("dtype")));
        }
        boolean int64 = dtypeName.equals(I64);
        DType dtype = int64 ? DType.FLOAT64 : Arrays.stream(DType.values()).filter(d -> d.safetensorsName().equals(dtypeName)).findFirst()
                .orElseThrow(() -> new SafeTensorsException(where + " has dtype " + dtypeName
                        + "; deltagrad reads only F32, F64 and I64 tensors"));
        long[] dims = naturals(info.get("shape"), -1, where + ": \"shape\"");
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE) throw new SafeTensorsException(where + ": dimension " + dims[i] + " is too large");
            shape[i] = (int) dims[i];
        }
        long[] offsets = naturals(info.get("data_offsets"), 2, where + ": \"data_offsets\"");
        if (offsets[1] < offsets[0]) {
            throw new SafeTensorsException(where + ": data_offsets [" + offsets[0] + ", " + offsets[1] + "] end before they begin");
        }
        return new Entry(name, dtype, int64, shape, offsets[0], offsets[1]);
    }

    /** A JSON array of non-negative integers, of {@code length} elements unless it is -1. */
    private static long[] naturals(Object value, int length, String what) {
        if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length)) {
            throw new SafeTensorsException(what + " expected an array of " + (length >= 0 ? length + " " : "")
                    + "non-negative integers, found " + describe(value));
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v) || v < 0) {
                throw new SafeTensorsException(what + " expected non-negative integers, found " + describe(list.get(i)));
            }
            out[i] = v;
        }
        return out;
    }

    /**
     * Tensors must tile the data buffer exactly: sorted by offset, the first begins at 0, each
     * begins where the previous ends, the last ends at the end of the file, and each span holds
     * exactly its dtype size × element count bytes.
     */
    private static void checkLayout(List<Entry> entries, long bufferBytes, Path file) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expectedBegin = 0;
        for (Entry e : byOffset) {
            String where = file + ": tensor \"" + e.name + "\"";
            if (e.begin != expectedBegin) {
                throw new SafeTensorsException(where + ": expected data to begin at offset " + expectedBegin
                        + " (tensors must be contiguous), found " + e.begin);
            }
            long numel = 1;
            for (int d : e.shape) {
                // Each factor is below 2^31, so once numel passes 2^32 the check below rejects the tensor anyway.
                numel = Math.min(numel * d, 1L << 32);
            }
            long expectedBytes = numel * e.byteSize();
            if (numel > Integer.MAX_VALUE - 8) {
                throw new SafeTensorsException(where + ": shape " + Arrays.toString(e.shape) + " has "
                        + (numel == 1L << 32 ? "2^32 or more" : Long.toString(numel)) + " elements, more than a Java array holds");
            }
            if (e.end - e.begin != expectedBytes) {
                throw new SafeTensorsException(where + ": expected " + expectedBytes + " bytes for " + e.storedName()
                        + " shape " + Arrays.toString(e.shape) + ", but data_offsets [" + e.begin + ", " + e.end
                        + "] span " + (e.end - e.begin));
            }
            if (e.end > bufferBytes) {
                throw new SafeTensorsException(where + ": data ends at offset " + e.end + " but the file holds only "
                        + bufferBytes + " data bytes (truncated file?)");
            }
            expectedBegin = e.end;
        }
        if (expectedBegin != bufferBytes) {
            throw new SafeTensorsException(file + ": the tensors cover " + expectedBegin + " data bytes but the file holds "
                    + bufferBytes + " (trailing bytes after the last tensor)");
        }
    }

    private static Tensor readTensor(FileChannel channel, long dataStart, Entry e, Path file) throws IOException {
        int size = e.byteSize();
        int n = (int) ((e.end - e.begin) / size);
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        Function<String, SafeTensorsException> tooLarge = why -> new SafeTensorsException(file + ": tensor \"" + e.name
                + "\" of shape " + Arrays.toString(e.shape) + " " + why);
        float[] floats = e.dtype == DType.FLOAT32 ? HeapLimit.allocate(4L * n, () -> new float[n], tooLarge) : null;
        double[] doubles = e.dtype == DType.FLOAT64 ? HeapLimit.allocate(8L * n, () -> new double[n], tooLarge) : null;
        long position = dataStart + e.begin;
        for (int filled = 0; filled < n; ) {
            int count = Math.min(n - filled, CHUNK_BYTES / size);
            buf.clear().limit(count * size);
            readFully(channel, buf, position, file);
            buf.flip();
            if (floats != null) buf.asFloatBuffer().get(floats, filled, count);
            else if (!e.int64) buf.asDoubleBuffer().get(doubles, filled, count);
            else readInt64(buf, doubles, filled, count, e, file);
            position += (long) count * size;
            filled += count;
        }
        return floats != null ? Tensor.of(floats, e.shape) : Tensor.of(doubles, e.shape);
    }

    private static void readInt64(ByteBuffer buf, double[] into, int at, int count, Entry e, Path file) {
        for (int k = 0; k < count; k++) {
            long v = buf.getLong();
            if (v > EXACT_INTEGERS || v < -EXACT_INTEGERS) {
                throw new SafeTensorsException(file + ": tensor \"" + e.name + "\" holds the I64 value " + v
                        + ", beyond 2^53, which deltagrad's float64 tensors cannot hold exactly");
            }
            into[at + k] = v;
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position, Path file) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, at);
            if (n < 0) throw new SafeTensorsException(file + ": unexpected end of file at byte " + at);
            at += n;
        }
    }

    private static String describe(Object v) {
        if (v == null) return "null";
        if (v instanceof String s) return "string \"" + s + "\"";
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        return v.toString();
    }
}
