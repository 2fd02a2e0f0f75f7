package org.deltagrad.cli.explain;

/**
 * A recursive-descent parser for the expressions {@code explain} differentiates:
 *
 * <pre>
 * sum     = product (("+" | "-") product)*
 * product = unary (("*" | "/" | "@") unary)*
 * unary   = "-" unary | power
 * power   = primary ("^" unary)?          right-associative: 2^3^2 = 2^(3^2)
 * primary = number | name | name "(" sum ")" | name "(" sum "," ["-"] digits ")" | "(" sum ")"
 * </pre>
 *
 * As in mathematics, {@code ^} binds tighter than unary minus ({@code -x^2 = -(x^2)}) and its exponent may
 * itself be negated ({@code x^-2}). Numbers are ASCII digits with an optional decimal exponent ({@code 1e-3})
 * and must be finite as doubles; names are a letter or '_' followed by letters, ASCII digits and '_', and a name
 * followed by {@code (} must be one of {@link Expr#FUNCTIONS} or {@link Expr#TENSOR_FUNCTIONS} (only the latter
 * take a second argument, an integer dimension, and {@code T} takes none). Nesting (parentheses, function calls, unary
 * minus, exponents) is limited to {@link #MAX_DEPTH} levels, so that neither this recursive parser nor what
 * consumes the tree can run out of stack.
 */
public final class ExpressionParser {

    /**
     * A mistake in an expression. The message is three lines: the expression, a caret under the offending
     * character, and the reason.
     */
    public static final class ExpressionException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int column;
        private final String reason;

        public ExpressionException(String expression, int column, String reason) {
            super(expression + "\n" + " ".repeat(column) + "^\n" + reason);
            this.column = column;
            this.reason = reason;
        }

        /** 0-based index of the offending character (the expression's length for "ended too early"). */
        public int column() {
            return column;
        }

        /** The one-line reason, without the expression and caret. */
        public String reason() {
            return reason;
        }
    }

    /**
     * The deepest nesting accepted. Each level costs this recursive parser about 1.5 KB of stack once compiled, so
     * at the cap it needs under half of Java's default 1 MB thread stack (ExpressionParserTest checks in 512 KB).
     */
    public static final int MAX_DEPTH = 200;

    private final String text;
    private int pos;
    private int depth; // unary() calls in progress: every level of nesting passes through one

    private ExpressionParser(String text) {
        this.text = text;
    }

    /** Parses a whole expression; throws {@link ExpressionException} pointing at the first mistake. */
    public static Expr parse(String text) {
        ExpressionParser p = new ExpressionParser(text);
        p.skipSpaces();
        if (p.pos == text.length()) throw p.error(p.pos, "empty expression");
        Expr e = p.sum();
        p.skipSpaces();
        if (p.pos < text.length()) throw p.unexpected();
        return e;
    }

    private Expr sum() {
        Expr left = product();
        while (true) {
            skipSpaces();
            if (!peekAny("+-")) return left;
            int at = pos++;
            left = new Expr.Binary(text.charAt(at), left, product(), at);
        }
    }

    private Expr product() {
        Expr left = unary();
        while (true) {
            skipSpaces();
            if (!peekAny("*/@")) return left;
            int at = pos++;
            left = new Expr.Binary(text.charAt(at), left, unary(), at);
        }
    }

    private Expr unary() {
        skipSpaces();
        if (depth++ > MAX_DEPTH) throw error(pos, "expression nested more than " + MAX_DEPTH + " deep");
        Expr e;
        if (peekAny("-")) {
            int at = pos++;
            e = new Expr.Neg(unary(), at);
        } else {
            e = power();
        }
        depth--;
        return e;
    }

    private Expr power() {
        Expr base = primary();
        skipSpaces();
        if (!peekAny("^")) return base;
        int at = pos++;
        // The exponent is a unary, which recurses back into power: that is what makes ^ right-associative.
        return new Expr.Binary('^', base, unary(), at);
    }

    private Expr primary() {
        skipSpaces();
        if (pos == text.length()) throw error(pos, "unexpected end of expression");
        char c = text.charAt(pos);
        if (c == '(') {
            int open = pos++;
            Expr inner = sum();
            expectClosing(open);
            return inner;
        }
        if (isDigit(c) || c == '.') return number();
        if (Character.isLetter(c) || c == '_') return name();
        throw unexpected();
    }

    /** ASCII digits only: Character.isDigit would also take '٣' or '３', which Double.parseDouble refuses. */
    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Expr name() {
        int start = pos;
        while (pos < text.length() && (Character.isLetter(text.charAt(pos)) || isDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
            pos++;
        }
        String name = text.substring(start, pos);
        int afterName = pos;
        skipSpaces();
        if (peekAny("(")) {
            if (Expr.TENSOR_FUNCTIONS.contains(name)) return tensorCall(name, start);
            if (!Expr.FUNCTIONS.contains(name)) {
                throw error(start, "unknown function '" + name + "' (known: " + String.join(", ", sortedFunctions()) + ")");
            }
            int open = pos++;
            Expr argument = sum();
            expectClosing(open);
            return new Expr.Call(name, argument, start);
        }
        if (Expr.FUNCTIONS.contains(name) || Expr.TENSOR_FUNCTIONS.contains(name)) {
            throw error(start, "function '" + name + "' needs its argument in parentheses: " + name + "(...)");
        }
        pos = afterName;
        return new Expr.Var(name, start);
    }

    /** After a tensor function's name, at its '(': the argument and, except for T, an optional integer dimension. */
    private Expr tensorCall(String name, int start) {
        int open = pos++;
        Expr argument = sum();
        skipSpaces();
        Integer dim = null;
        if (peekAny(",")) {
            if (name.equals("T")) throw error(pos, "T(A) takes one argument, the matrix to transpose");
            pos++;
            skipSpaces();
            int at = pos;
            boolean negative = peekAny("-");
            if (negative) pos++;
            int digits = pos;
            while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
            if (digits == pos || pos - digits > 3) throw error(at, name + "(A, dim): dim must be a small integer such as 0, 1 or -1");
            dim = Integer.parseInt(text.substring(digits, pos)) * (negative ? -1 : 1);
        }
        expectClosing(open);
        return new Expr.TensorCall(name, argument, dim, start);
    }

    private Expr number() {
        int start = pos;
        while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
        if (peekAny(".")) {
            pos++;
            while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
        }
        if (pos - start == 1 && text.charAt(start) == '.') {
            // A lone '.' has no digits: "." or ".e5" (which Double.parseDouble would refuse with a raw exception).
            throw error(start, "malformed number '.': a number needs a digit before or after the point");
        }
        if (peekAny("eE")) {
            pos++;
            if (peekAny("+-")) pos++;
            int digits = pos;
            while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
            if (digits == pos) throw error(start, "malformed number '" + text.substring(start, pos) + "': the exponent has no digits");
        }
        String literal = text.substring(start, pos);
        double value = Double.parseDouble(literal);
        if (Double.isInfinite(value)) throw error(start, "number '" + literal + "' is beyond the range of a double (about 1.8e308)");
        return new Expr.Num(value, start);
    }

    private void expectClosing(int open) {
        skipSpaces();
        if (pos == text.length()) throw error(open, "'(' at column " + (open + 1) + " is never closed");
        if (text.charAt(pos) != ')') throw unexpected();
        pos++;
    }

    private boolean peekAny(String chars) {
        return pos < text.length() && chars.indexOf(text.charAt(pos)) >= 0;
    }

    private void skipSpaces() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
    }

    private ExpressionException unexpected() {
        if (pos == text.length()) return error(pos, "unexpected end of expression");
        char c = text.charAt(pos);
        if (Character.isDigit(c) && !isDigit(c)) {
            return error(pos, "unexpected '" + c + "' at column " + (pos + 1) + ": numbers are written with the ASCII digits 0-9");
        }
        return error(pos, "unexpected '" + c + "' at column " + (pos + 1));
    }

    private ExpressionException error(int column, String reason) {
        return new ExpressionException(text, column, reason);
    }

    private static String[] sortedFunctions() {
        return java.util.stream.Stream.concat(Expr.FUNCTIONS.stream(), Expr.TENSOR_FUNCTIONS.stream()).sorted().toArray(String[]::new);
    }
}
