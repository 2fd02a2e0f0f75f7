package org.deltagrad.kernels;

/**
 * Element-wise loops over raw arrays. The switch on the op sits outside each loop so that the loop
 * body is a single expression HotSpot can unroll and vectorise; there are no per-element virtual calls.
 */
public final class Elementwise {
    private Elementwise() {}

    /** One-input element-wise functions. {@code p}/{@code q} are the parameters of POW and CLAMP. */
    public enum Unary { NEG, EXP, LOG, SQRT, ABS, TANH, SIGMOID, RELU, SIN, COS, SIGN, POW, CLAMP, ERF, FLOOR, ROUND }

    /** Two-input element-wise functions; comparisons yield 1 or 0. */
    public enum Binary { ADD, SUB, MUL, DIV, POW, MAX, MIN, GT, LT, GE, LE, EQ, NE }

    /** The activations whose backward product g·f'(saved) has its own one-pass loop. */
    public enum ActivationBackward { RELU, SIGMOID, TANH }

    /*
     * VECTORISED: C2 turns a loop into SIMD code only when its arrays share one index expression (i plus the same
     * offset): with two different offsets it cannot rule out that input and output overlap, and the loop stays
     * scalar (docs/PERFORMANCE.md, "Loops that C2 can vectorise"). So a unary op whose input and output start at
     * different offsets first copies the input to the output's place and works there in place, the binary ops have
     * loops for the usual case of equal offsets (tensors made by ops start at 0), and the loops below index all
     * their arrays with the same i.
     */

    public static void unary(Unary op, double p, double q, float[] x, int xo, float[] o, int oo, int n) {
        if (xo != oo) { // see VECTORISED
            System.arraycopy(x, xo, o, oo, n);
            x = o;
        }
        int at = oo;
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i++) o[at + i] = -x[at + i]; }
            case EXP -> { for (int i = 0; i < n; i++) o[at + i] = (float) Math.exp(x[at + i]); }
            case LOG -> { for (int i = 0; i < n; i++) o[at + i] = (float) Math.log(x[at + i]); }
            case SQRT -> { for (int i = 0; i < n; i++) o[at + i] = (float) Math.sqrt(x[at + i]); }
            case ABS -> { for (int i = 0; i < n; i++) o[at + i] = Math.abs(x[at + i]); }
            case TANH -> { for (int i = 0; i < n; i++) o[at + i] = (float) Math.tanh(x[at + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) o[at + i] = (float) sigmoid(x[at + i]); }
            case RELU -> { for (int i = 0; i < n; i++) o[at + i] = Math.max(x[at + i], 0f); }
            case SIN -> { for (int i = 0; i < n; i++) o[at + i] = (float) Math.sin(x[at + i]); }
            case COS -> { for (int i = 0; i < n; i++) o[at + i] = (float) Math.cos(x[at + i]); }
            case SIGN -> { for (int i = 0; i < n; i++) o[at + i] = Math.signum(x[at + i]); }
            case ERF -> { for (int i = 0; i < n; i++) o[at + i] = (float) erf(x[at + i]); }
            case FLOOR -> { for (int i = 0; i < n; i++) o[at + i] = (float) Math.floor(x[at + i]); }
            case ROUND -> { for (int i = 0; i < n; i++) o[at + i] = (float) Math.rint(x[at + i]); }
            case POW -> {
                if (p == 2) { for (int i = 0; i < n; i++) o[at + i] = x[at + i] * x[at + i]; }
                else { for (int i = 0; i < n; i++) o[at + i] = (float) Math.pow(x[at + i], p); }
            }
            case CLAMP -> {
                float lo = (float) p, hi = (float) q;
                for (int i = 0; i < n; i++) o[at + i] = Math.min(Math.max(x[at + i], lo), hi);
            }
        }
    }

    public static void unary(Unary op, double p, double q, double[] x, int xo, double[] o, int oo, int n) {
        if (xo != oo) { // see VECTORISED
            System.arraycopy(x, xo, o, oo, n);
            x = o;
        }
        int at = oo;
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i++) o[at + i] = -x[at + i]; }
            case EXP -> { for (int i = 0; i < n; i++) o[at + i] = Math.exp(x[at + i]); }
            case LOG -> { for (int i = 0; i < n; i++) o[at + i] = Math.log(x[at + i]); }
            case SQRT -> { for (int i = 0; i < n; i++) o[at + i] = Math.sqrt(x[at + i]); }
            case ABS -> { for (int i = 0; i < n; i++) o[at + i] = Math.abs(x[at + i]); }
            case TANH -> { for (int i = 0; i < n; i++) o[at + i] = Math.tanh(x[at + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) o[at + i] = sigmoid(x[at + i]); }
            case RELU -> { for (int i = 0; i < n; i++) o[at + i] = Math.max(x[at + i], 0d); }
            case SIN -> { for (int i = 0; i < n; i++) o[at + i] = Math.sin(x[at + i]); }
            case COS -> { for (int i = 0; i < n; i++) o[at + i] = Math.cos(x[at + i]); }
            case SIGN -> { for (int i = 0; i < n; i++) o[at + i] = Math.signum(x[at + i]); }
            case ERF -> { for (int i = 0; i < n; i++) o[at + i] = erf(x[at + i]); }
            case FLOOR -> { for (int i = 0; i < n; i++) o[at + i] = Math.floor(x[at + i]); }
            case ROUND -> { for (int i = 0; i < n; i++) o[at + i] = Math.rint(x[at + i]); }
            case POW -> {
                if (p == 2) { for (int i = 0; i < n; i++) o[at + i] = x[at + i] * x[at + i]; }
                else { for (int i = 0; i < n; i++) o[at + i] = Math.pow(x[at + i], p); }
            }
            case CLAMP -> { for (int i = 0; i < n; i++) o[at + i] = Math.min(Math.max(x[at + i], p), q); }
        }
    }

    /**
     * The error function, within a few ulps: for |x| &lt; 3 the series 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3⋯(2n+1)), whose
     * terms are all positive (no cancellation); up to 6 the continued fraction of erfc; beyond, ±1 (erfc &lt; 1e-17).
     */
    public static double erf(double x) {
        double ax = Math.abs(x), r;
        if (Double.isNaN(x)) return x;
        if (ax < 3) {
            double t = ax, s = ax;
            for (int n = 1; t > s * 1e-17; n++) {
                t *= 2 * ax * ax / (2 * n + 1);
                s += t;
            }
            r = 2 / Math.sqrt(Math.PI) * Math.exp(-ax * ax) * s;
        } else if (ax < 6) {
            double k = ax;
            for (int n = 60; n > 0; n--) k = ax + n / 2.0 / k;
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / k;
        } else {
            r = 1;
        }
        return Math.copySign(r, x);
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
     * {@code o[oo + i] = a[ao + i*sa] op b[bo + i*sb]} for i &lt; n. Strides of 0 broadcast a value; unit strides at
     * one offset (and a scalar b) have their own loops because only those vectorise (see VECTORISED).
     */
    public static void binary(Binary op, float[] a, int ao, int sa, float[] b, int bo, int sb, float[] o, int oo, int n) {
        if (sa == 1 && sb == 1 && ao == oo && bo == oo) { // see VECTORISED
            int at = oo;
            switch (op) {
                case ADD -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] + b[at + i]; return; }
                case SUB -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] - b[at + i]; return; }
                case MUL -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] * b[at + i]; return; }
                case DIV -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] / b[at + i]; return; }
                default -> { }
            }
        } else if (sa == 1 && sb == 0 && ao == oo) {
            float s = b[bo];
            int at = oo;
            switch (op) {
                case ADD -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] + s; return; }
                case SUB -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] - s; return; }
                case MUL -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] * s; return; }
                case DIV -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] / s; return; }
                default -> { }
            }
        }
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] + b[bo + i * sb]; }
            case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] - b[bo + i * sb]; }
            case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] * b[bo + i * sb]; }
            case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] / b[bo + i * sb]; }
            case POW -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.pow(a[ao + i * sa], b[bo + i * sb]); }
            case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i * sa], b[bo + i * sb]); }
            case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i * sa], b[bo + i * sb]); }
            case GT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] > b[bo + i * sb] ? 1f : 0f; }
            case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] < b[bo + i * sb] ? 1f : 0f; }
            case GE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] >= b[bo + i * sb] ? 1f : 0f; }
            case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] <= b[bo + i * sb] ? 1f : 0f; }
            case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] == b[bo + i * sb] ? 1f : 0f; }
            case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] != b[bo + i * sb] ? 1f : 0f; }
        }
    }

    public static void binary(Binary op, double[] a, int ao, int sa, double[] b, int bo, int sb, double[] o, int oo, int n) {
        if (sa == 1 && sb == 1 && ao == oo && bo == oo) { // see VECTORISED
            int at = oo;
            switch (op) {
                case ADD -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] + b[at + i]; return; }
                case SUB -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] - b[at + i]; return; }
                case MUL -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] * b[at + i]; return; }
                case DIV -> { for (int i = 0; i < n; i++) o[at + i] = a[at + i] / b[at + i]; return; }
                default -> { }
            }
        }
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] + b[bo + i * sb]; }
            case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] - b[bo + i * sb]; }
            case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] * b[bo + i * sb]; }
            case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] / b[bo + i * sb]; }
            case POW -> { for (int i = 0; i < n; i++) o[oo + i] = Math.pow(a[ao + i * sa], b[bo + i * sb]); }
            case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i * sa], b[bo + i * sb]); }
            case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i * sa], b[bo + i * sb]); }
            case GT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] > b[bo + i * sb] ? 1d : 0d; }
            case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] < b[bo + i * sb] ? 1d : 0d; }
            case GE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] >= b[bo + i * sb] ? 1d : 0d; }
            case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] <= b[bo + i * sb] ? 1d : 0d; }
            case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] == b[bo + i * sb] ? 1d : 0d; }
            case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * sa] != b[bo + i * sb] ? 1d : 0d; }
        }
    }
    /**
     * o[i] = g[i]·f'(s[i]) for i in [from, to), where s is what the activation saved: its input x for ReLU
     * (o = g where x &gt; 0, else 0), its output σ(x) for SIGMOID (o = g·s·(1 − s)), tanh(x) for TANH (o = g·(1 − s²)).
     */
    public static void backward(ActivationBackward op, float[] g, float[] s, float[] o, int from, int to) {
        switch (op) {
            case RELU -> {
                // o = s > 0 ? g : 0 without a branch (it mispredicts on real activations and does not vectorise):
                // m is all ones unless s's bits lie in (0, +inf], i.e. s > 0 and not NaN; then o keeps g's bits.
                for (int i = from; i < to; i++) {
                    int b = Float.floatToRawIntBits(s[i]);
                    int m = ((0x7F800000 - b) | (b - 1)) >> 31;
                    o[i] = Float.intBitsToFloat(Float.floatToRawIntBits(g[i]) & ~m);
                }
            }
            case SIGMOID -> { for (int i = from; i < to; i++) { float v = s[i]; o[i] = g[i] * (v * (1f - v)); } }
            case TANH -> { for (int i = from; i < to; i++) { float t = s[i]; o[i] = g[i] * (1f - t * t); } }
        }
    }

    public static void backward(ActivationBackward op, double[] g, double[] s, double[] o, int from, int to) {
        switch (op) {
            case RELU -> {
                for (int i = from; i < to; i++) {
                    long b = Double.doubleToRawLongBits(s[i]);
                    long m = ((0x7FF0000000000000L - b) | (b - 1)) >> 63;
                    o[i] = Double.longBitsToDouble(Double.doubleToRawLongBits(g[i]) & ~m);
                }
            }
            case SIGMOID -> { for (int i = from; i < to; i++) { double v = s[i]; o[i] = g[i] * (v * (1d - v)); } }
            case TANH -> { for (int i = from; i < to; i++) { double t = s[i]; o[i] = g[i] * (1d - t * t); } }
        }
    }

    /** y[r·cols + j] += b[bo + j] for rows r in [fromRow, toRow) of the row-major y: a bias added to each row. */
    public static void addToRows(float[] y, int cols, float[] b, int bo, int fromRow, int toRow) {
        for (int r = fromRow; r < toRow; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) y[o + j] += b[bo + j];
        }
    }

    public static void addToRows(double[] y, int cols, double[] b, int bo, int fromRow, int toRow) {
        for (int r = fromRow; r < toRow; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) y[o + j] += b[bo + j];
        }
    }
}
