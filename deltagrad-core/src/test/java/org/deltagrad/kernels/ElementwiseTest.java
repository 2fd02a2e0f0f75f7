package org.deltagrad.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.deltagrad.kernels.Elementwise.Binary;
import org.deltagrad.kernels.Elementwise.Unary;
import org.junit.jupiter.api.Test;

/**
 * The loops take different paths for equal and unequal offsets (only loops whose arrays share one index expression
 * vectorise): every path must give each element exactly op(input), including when input and output are one array.
 */
class ElementwiseTest {
    static final int N = 203;

    static float[] values(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * 3);
        x[3] = Float.NaN;
        x[4] = -0f;
        x[5] = Float.POSITIVE_INFINITY;
        return x;
    }

    static float unaryRef(Unary op, float v) {
        return switch (op) {
            case NEG -> -v;
            case EXP -> (float) Math.exp(v);
            case LOG -> (float) Math.log(v);
            case SQRT -> (float) Math.sqrt(v);
            case ABS -> Math.abs(v);
            case TANH -> (float) Math.tanh(v);
            case SIGMOID -> (float) Elementwise.sigmoid(v);
            case RELU -> Math.max(v, 0f);
            case SIN -> (float) Math.sin(v);
            case COS -> (float) Math.cos(v);
            case SIGN -> Math.signum(v);
            case POW -> v * v;
            case CLAMP -> Math.min(Math.max(v, -1f), 2f);
            case ERF -> (float) Elementwise.erf(v);
            case FLOOR -> (float) Math.floor(v);
            case ROUND -> (float) Math.rint(v);
        };
    }

    @Test
    void unaryAtEqualAndUnequalOffsetsAndInPlaceOverlaps() {
        float[] x = values(1, N + 20);
        for (Unary op : Unary.values()) {
            for (int[] offsets : new int[][] {{0, 0}, {7, 7}, {3, 11}, {11, 3}}) {
                int xo = offsets[0], oo = offsets[1];
                double p = op == Unary.CLAMP ? -1 : 2, q = 2; // POW's exponent 2; CLAMP to [-1, 2]
                float[] o = new float[N + 20];
                Elementwise.unary(op, p, q, x, xo, o, oo, N);
                for (int i = 0; i < N; i++) {
                    assertBits(unaryRef(op, x[xo + i]), o[oo + i], op + " offsets " + xo + "/" + oo + " element " + i);
                }
                // The same array as input and output, the ranges overlapping: the result is op of the original input.
                float[] same = x.clone();
                Elementwise.unary(op, p, q, same, xo, same, oo, N);
                for (int i = 0; i < N; i++) {
                    assertBits(unaryRef(op, x[xo + i]), same[oo + i], op + " in one array, offsets " + xo + "/" + oo + " element " + i);
                }
            }
        }
    }

    @Test
    void binaryOnEveryOffsetAndStridePattern() {
        float[] a = values(2, 2 * N + 20), b = values(3, 2 * N + 20);
        for (Binary op : new Binary[] {Binary.ADD, Binary.SUB, Binary.MUL, Binary.DIV}) {
            for (int[] p : new int[][] {{0, 1, 0, 1, 0}, {5, 1, 5, 1, 5}, {5, 1, 2, 1, 9}, {4, 1, 6, 0, 4}, {4, 1, 6, 0, 1},
                {1, 2, 3, 1, 3}, {0, 0, 3, 1, 0}}) {
                int ao = p[0], sa = p[1], bo = p[2], sb = p[3], oo = p[4];
                float[] o = new float[2 * N + 20];
                Elementwise.binary(op, a, ao, sa, b, bo, sb, o, oo, N);
                for (int i = 0; i < N; i++) {
                    float x = a[ao + i * sa], y = b[bo + i * sb];
                    float want = switch (op) {
                        case ADD -> x + y;
                        case SUB -> x - y;
                        case MUL -> x * y;
                        default -> x / y;
                    };
                    assertBits(want, o[oo + i], op + " " + java.util.Arrays.toString(p) + " element " + i);
                }
            }
        }
    }

    private static void assertBits(float want, float got, String what) {
        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), what + ": want " + want + ", got " + got);
    }
}
