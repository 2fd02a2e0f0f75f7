package org.deltagrad;

import java.util.Arrays;

/** Shape arithmetic: element counts, strides, NumPy broadcasting and strided iteration. */
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

    static boolean isContiguous(int[] shape, int[] strides) {
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != acc) return false;
            acc *= shape[i];
        }
        return true;
    }

    /** Resolves an axis that may count from the end (-1 is the last). */
    static int axis(String op, int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for a tensor of rank " + rank);
        }
        return a;
    }

    /** NumPy's broadcasting rule: align from the right; each pair of sizes must be equal or one of them 1. */
    static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and "
                        + Arrays.toString(b) + " cannot be broadcast together (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Strides that read a tensor of {@code shape}/{@code strides} as if it had {@code target} shape (0 = repeat). */
    static int[] broadcastStrides(int[] shape, int[] strides, int[] target) {
        int[] out = new int[target.length];
        int shift = target.length - shape.length;
        for (int i = shape.length - 1; i >= 0; i--) {
            out[i + shift] = shape[i] == 1 && target[i + shift] != 1 ? 0 : strides[i];
        }
        return out;
    }

    static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    interface OffsetVisitor {
        void visit(int index, int offset);
    }

    /** Visits every element in row-major order with its flat index and its storage offset. */
    static void forEachOffset(int[] shape, int[] strides, int offset, OffsetVisitor v) {
        RowCursor rows = new RowCursor(shape, new int[][] {strides}, new int[] {offset});
        int inner = rows.inner, s = rows.innerStride(0), i = 0;
        for (int r = 0; r < rows.rows; r++, rows.next()) {
            int off = rows.offset(0);
            for (int j = 0; j < inner; j++, i++) v.visit(i, off + j * s);
        }
    }

    /**
     * Walks the rows (all dimensions but the last) of a shape for several operands at once, keeping each
     * operand's storage offset; kernels then run one tight loop per row with the operand's inner stride.
     */
    static final class RowCursor {
        final int rows;
        final int inner;
        private final int[] shape;
        private final int[][] strides;
        private final int[] offsets;
        private final int[] idx;

        RowCursor(int[] shape, int[][] strides, int[] offsets) {
            this.shape = shape;
            this.strides = strides;
            this.offsets = offsets.clone();
            int rank = shape.length;
            this.inner = rank == 0 ? 1 : shape[rank - 1];
            long n = numel(shape);
            this.rows = inner == 0 ? 0 : (int) (n / inner);
            this.idx = new int[Math.max(rank - 1, 0)];
        }

        int offset(int operand) {
            return offsets[operand];
        }

        int innerStride(int operand) {
            return shape.length == 0 ? 0 : strides[operand][shape.length - 1];
        }

        void next() {
            for (int d = shape.length - 2; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    for (int k = 0; k < offsets.length; k++) offsets[k] += strides[k][d];
                    return;
                }
                idx[d] = 0;
                for (int k = 0; k < offsets.length; k++) offsets[k] -= strides[k][d] * (shape[d] - 1);
            }
        }
    }
}
