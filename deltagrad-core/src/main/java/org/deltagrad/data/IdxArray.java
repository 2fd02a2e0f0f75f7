package org.deltagrad.data;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.IntFunction;
import org.deltagrad.io.HeapLimit;

/**
 * The content of one IDX file: element type, shape, and the elements in row-major order. Elements
 * stay in their file encoding (big-endian, native width) until asked for, so the 47 MB of MNIST
 * training pixels are not held as 188 MB of ints.
 */
public final class IdxArray {
    /** IDX element types with their type codes (third byte of the magic number). */
    public enum Type {
        UBYTE(0x08, 1), BYTE(0x09, 1), SHORT(0x0B, 2), INT(0x0C, 4), FLOAT(0x0D, 4), DOUBLE(0x0E, 8);

        private final int code;
        private final int byteSize;

        Type(int code, int byteSize) {
            this.code = code;
            this.byteSize = byteSize;
        }

        public int code() {
            return code;
        }

        public int byteSize() {
            return byteSize;
        }

        public boolean isInteger() {
            return this != FLOAT && this != DOUBLE;
        }

        /** The type with this code, or null. */
        static Type ofCode(int code) {
            for (Type t : values()) if (t.code == code) return t;
            return null;
        }
    }

    private final Type type;
    private final int[] shape;
    private final ByteBuffer data; // big-endian, exactly numel × byteSize bytes
    private final String source; // the file it was read from, for error messages

    IdxArray(Type type, int[] shape, byte[] data, String source) {
        this.type = type;
        this.shape = shape.clone();
        this.data = ByteBuffer.wrap(data); // ByteBuffer's default order is big-endian, as in IDX
        this.source = source;
    }

    IdxArray(Type type, int[] shape, byte[] data) {
        this(type, shape, data, "IDX array");
    }

    /** An array of an integer type; each value must fit the type. */
    public static IdxArray ofInts(Type type, int[] shape, int[] values) {
        if (!type.isInteger()) throw new IllegalArgumentException("IdxArray.ofInts: " + type + " is not an integer type");
        ByteBuffer buf = ByteBuffer.allocate(checkCount(shape, values.length) * type.byteSize);
        long min = switch (type) {
            case UBYTE -> 0;
            case BYTE -> Byte.MIN_VALUE;
            case SHORT -> Short.MIN_VALUE;
            default -> Integer.MIN_VALUE;
        };
        long max = switch (type) {
            case UBYTE -> 255;
            case BYTE -> Byte.MAX_VALUE;
            case SHORT -> Short.MAX_VALUE;
            default -> Integer.MAX_VALUE;
        };
        for (int v : values) {
            if (v < min || v > max) throw new IllegalArgumentException("IdxArray.ofInts: value " + v + " does not fit " + type);
            switch (type) {
                case UBYTE, BYTE -> buf.put((byte) v);
                case SHORT -> buf.putShort((short) v);
                default -> buf.putInt(v);
            }
        }
        return new IdxArray(type, shape, buf.array());
    }

    /** An array of IDX type FLOAT. */
    public static IdxArray ofFloats(int[] shape, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(checkCount(shape, values.length) * 4);
        buf.asFloatBuffer().put(values);
        return new IdxArray(Type.FLOAT, shape, buf.array());
    }

    /** An array of IDX type DOUBLE. */
    public static IdxArray ofDoubles(int[] shape, double[] values) {
        ByteBuffer buf = ByteBuffer.allocate(checkCount(shape, values.length) * 8);
        buf.asDoubleBuffer().put(values);
        return new IdxArray(Type.DOUBLE, shape, buf.array());
    }

    private static int checkCount(int[] shape, int count) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("IdxArray: negative dimension in " + Arrays.toString(shape));
            n *= d;
        }
        if (shape.length == 0 || shape.length > 255) {
            throw new IllegalArgumentException("IdxArray: IDX needs 1 to 255 dimensions, got " + shape.length);
        }
        if (n != count) {
            throw new IllegalArgumentException("IdxArray: " + count + " values do not fill shape " + Arrays.toString(shape));
        }
        return count;
    }

    public Type type() {
        return type;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int numel() {
        return data.capacity() / type.byteSize;
    }

    /** The elements as ints; only for integer types (UBYTE gives 0..255). */
    public int[] toIntArray() {
        if (!type.isInteger()) {
            throw new IllegalStateException("IDX type " + type + " holds floating-point values; use toFloatArray or toDoubleArray");
        }
        int[] out = allocate(4, "ints", int[]::new);
        for (int i = 0; i < out.length; i++) out[i] = (int) get(i);
        return out;
    }

    /** The elements as floats (DOUBLE and large INT values are rounded). */
    public float[] toFloatArray() {
        float[] out = allocate(4, "floats", float[]::new);
        for (int i = 0; i < out.length; i++) out[i] = (float) get(i);
        return out;
    }

    public double[] toDoubleArray() {
        double[] out = allocate(8, "doubles", double[]::new);
        for (int i = 0; i < out.length; i++) out[i] = get(i);
        return out;
    }

    /** A numel()-element array of {@code elementBytes}-byte elements, or a DataException if the heap cannot hold it. */
    private <T> T allocate(int elementBytes, String what, IntFunction<T> make) {
        int n = numel();
        return HeapLimit.allocate((long) n * elementBytes, () -> make.apply(n),
                why -> new DataException(source + ": " + n + " values as " + what + " " + why));
    }

    private double get(int i) {
        return switch (type) {
            case UBYTE -> data.get(i) & 0xFF;
            case BYTE -> data.get(i);
            case SHORT -> data.getShort(i * 2);
            case INT -> data.getInt(i * 4);
            case FLOAT -> data.getFloat(i * 4);
            case DOUBLE -> data.getDouble(i * 8);
        };
    }

    /** The raw big-endian element bytes, as they appear in the file. */
    byte[] bytes() {
        return data.array();
    }
}
