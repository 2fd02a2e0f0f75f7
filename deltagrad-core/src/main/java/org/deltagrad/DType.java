package org.deltagrad;

/** Element type of a {@link Tensor}: float32 for training, float64 for gradient checking and science. */
public enum DType {
    FLOAT32(4, "F32"),
    FLOAT64(8, "F64");

    private final int byteSize;
    private final String safetensorsName;

    DType(int byteSize, String safetensorsName) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype's name in the safetensors header ("F32", "F64"). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** NumPy's promotion rule for the two floating types: the wider one wins. */
    public static DType promote(DType a, DType b) {
        return a == FLOAT64 || b == FLOAT64 ? FLOAT64 : FLOAT32;
    }
}
