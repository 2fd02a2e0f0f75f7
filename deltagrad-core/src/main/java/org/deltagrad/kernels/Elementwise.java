package org.deltagrad.kernels;

/**
 * Element-wise loops over raw arrays. The switch on the op sits outside each loop so that the loop
 * body is a single expression HotSpot can unroll and vectorise; there are no per-element virtual calls.
 */
public final class Elementwise {
    private Elementwise() {}

    /** One-input element-wise functions. {@code p}/{@code q} are the parameters of POW and CLAMP. */
    public enum Unary { NEG, EXP, LOG, SQRT, ABS, TANH, SIGMOID, RELU, SIN, COS, SIGN, STEP, POW, CLAMP }

    /** Two-input element-wise functions; comparisons yield 1 or 0. */
    public enum Binary { ADD, SUB, MUL, DIV, POW, GT, LT, GE, LE, EQ, NE }

    public static void unary(Unary op, double p, double q, float[] x, int xo, float[] o, int oo, int n) {
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i++) o[oo + i] = -x[xo + i]; }
            case EXP -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.exp(x[xo + i]); }
            case LOG -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.log(x[xo + i]); }
            case SQRT -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.sqrt(x[xo + i]); }
            case ABS -> { for (int i = 0; i < n; i++) o[oo + i] = Math.abs(x[xo + i]); }
            case TANH -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.tanh(x[xo + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) o[oo + i] = (float) sigmoid(x[xo + i]); }
            case RELU -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(x[xo + i], 0f); }
            case SIN -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.sin(x[xo + i]); }
            case COS -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.cos(x[xo + i]); }
            case SIGN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.signum(x[xo + i]); }
            case STEP -> { for (int i = 0; i < n; i++) o[oo + i] = x[xo + i] > 0f ? 1f : 0f; }
            case POW -> {
                if (p == 2) { for (int i = 0; i < n; i++) o[oo + i] = x[xo + i] * x[xo + i]; }
                else { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.pow(x[xo + i], p); }
            }
            case CLAMP -> {
                float lo = (float) p, hi = (float) q;
                for (int i = 0; i < n; i++) o[oo + i] = Math.min(Math.max(x[xo + i], lo), hi);
            }
        }
    }

    public static void unary(Unary op, double p, double q, double[] x, int xo, double[] o, int oo, int n) {
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i++) o[oo + i] = -x[xo + i]; }
            case EXP -> { for (int i = 0; i < n; i++) o[oo + i] = Math.exp(x[xo + i]); }
            case LOG -> { for (int i = 0; i < n; i++) o[oo + i] = Math.log(x[xo + i]); }
            case SQRT -> { for (int i = 0; i < n; i++) o[oo + i] = Math.sqrt(x[xo + i]); }
            case ABS -> { for (int i = 0; i < n; i++) o[oo + i] = Math.abs(x[xo + i]); }
            case TANH -> { for (int i = 0; i < n; i++) o[oo + i] = Math.tanh(x[xo + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) o[oo + i] = sigmoid(x[xo + i]); }
            case RELU -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(x[xo + i], 0d); }
            case SIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.sin(x[xo + i]); }
            case COS -> { for (int i = 0; i < n; i++) o[oo + i] = Math.cos(x[xo + i]); }
            case SIGN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.signum(x[xo + i]); }
            case STEP -> { for (int i = 0; i < n; i++) o[oo + i] = x[xo + i] > 0d ? 1d : 0d; }
            case POW -> {
                if (p == 2) { for (int i = 0; i < n; i++) o[oo + i] = x[xo + i] * x[xo + i]; }
                else { for (int i = 0; i < n; i++) o[oo + i] = Math.pow(x[xo + i], p); }
            }
            case CLAMP -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(Math.max(x[xo + i], p), q); }
        }
    }

    /**
     * The logistic function. Branch-free (a sign-dependent branch mispredicts on real data and cost twice the
     * time): in double, exp(−x) overflowing to infinity for x &lt; −709 still gives the right limit, 0, and
     * 1/(1 + e) has no cancellation, so the result is within an ulp or two everywhere.
     */
    public static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    /**
     * {@code o[oo + i] = a[ao + i*sa] op b[bo + i*sb]} for i &lt; n. Strides of 0 broadcast a value;
     * the all-unit-stride case has its own loops because only those vectorise.
     */
    public static void binary(Binary op, float[] a, int ao, int sa, float[] b, int bo, int sb, float[] o, int oo, int n) {
        if (sa == 1 && sb == 1) {
            switch (op) {
                case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + b[bo + i]; return; }
                case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - b[bo + i]; return; }
                case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * b[bo + i]; return; }
                case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / b[bo + i]; return; }
                default -> { }
            }
        } else if (sa == 1 && sb == 0) {
            float s = b[bo];
            switch (op) {
                case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + s; return; }
                case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - s; return; }
                case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * s; return; }
                case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / s; return; }
                default -> { }
            }
        }
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] + b[bo + i * sb]; }
            case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] - b[bo + i * sb]; }
            case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] * b[bo + i * sb]; }
            case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] / b[bo + i * sb]; }
            case POW -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.pow(a[ao + i * sa], b[bo + i * sb]); }
            case GT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] > b[bo + i * sb] ? 1f : 0f; }
            case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] < b[bo + i * sb] ? 1f : 0f; }
            case GE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] >= b[bo + i * sb] ? 1f : 0f; }
            case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] <= b[bo + i * sb] ? 1f : 0f; }
            case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] == b[bo + i * sb] ? 1f : 0f; }
            case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] != b[bo + i * sb] ? 1f : 0f; }
        }
    }

    public static void binary(Binary op, double[] a, int ao, int sa, double[] b, int bo, int sb, double[] o, int oo, int n) {
        if (sa == 1 && sb == 1) {
            switch (op) {
                case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + b[bo + i]; return; }
                case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - b[bo + i]; return; }
                case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * b[bo + i]; return; }
                case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / b[bo + i]; return; }
                default -> { }
            }
        }
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] + b[bo + i * sb]; }
            case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] - b[bo + i * sb]; }
            case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] * b[bo + i * sb]; }
            case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] / b[bo + i * sb]; }
            case POW -> { for (int i = 0; i < n; i++) o[oo + i] = Math.pow(a[ao + i * sa], b[bo + i * sb]); }
            case GT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] > b[bo + i * sb] ? 1d : 0d; }
            case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] < b[bo + i * sb] ? 1d : 0d; }
            case GE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] >= b[bo + i * sb] ? 1d : 0d; }
            case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] <= b[bo + i * sb] ? 1d : 0d; }
            case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] == b[bo + i * sb] ? 1d : 0d; }
            case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] != b[bo + i * sb] ? 1d : 0d; }
        }
    }
}
