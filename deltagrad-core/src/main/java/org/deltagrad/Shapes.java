package org.deltagrad;

import java.util.Arrays;

/** Shape arithmetic: element counts, strides, broadcasting and strided iteration. */
final class Shapes {
    private Shapes() {}

    static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
        }
        return n;
    }

    static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    interface OffsetVisitor {
        void visit(int index, int offset);
    }

    /** Visits every element in row-major order with its flat index and its storage offset. */
    static void forEachOffset(int[] shape, int[] strides, int offset, OffsetVisitor v) {
        int n = (int) numel(shape);
        if (n == 0) return;
        int rank = shape.length;
        int[] idx = new int[rank];
        int off = offset;
        for (int i = 0; i < n; i++) {
            v.visit(i, off);
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    off += strides[d];
                    break;
                }
                off -= strides[d] * (shape[d] - 1);
                idx[d] = 0;
            }
        }
    }
}
