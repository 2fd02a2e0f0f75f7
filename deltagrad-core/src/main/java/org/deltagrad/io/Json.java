package org.deltagrad.io;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) reader and string writer, enough for safetensors headers, so
 * that deltagrad-core needs no JSON library. Objects become {@link LinkedHashMap} (key order kept,
 * duplicate keys rejected), arrays {@link List}, integers {@link Long}, other numbers
 * {@link BigDecimal}, and true/false/null {@link Boolean}/null. Numbers must fit what they become: an
 * integer beyond 64 bits, or a number beyond the range of a double (such as 1e400), is an error naming
 * its key, not a rounded or infinite value.
 */
final class Json {
    /** Thrown for malformed input; the message gives the character position. */
    static final class ParseException extends Exception {
        private static final long serialVersionUID = 1L;

        ParseException(String message) {
            super(message);
        }
    }

    private final String text;
    private int pos;
    /** Where the value being parsed sits: object keys (String) and array indices (Integer), outermost first. */
    private final List<Object> path = new ArrayList<>();

    private Json(String text) {
        this.text = text;
    }

    /** Parses one JSON value; only whitespace may follow it. */
    static Object parse(String text) throws ParseException {
        Json p = new Json(text);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) throw p.error("expected end of JSON after the top-level value");
        return value;
    }

    /** Writes maps, lists, strings, numbers, booleans, null and int/double arrays as indented JSON. */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, "");
        return out.append('\n').toString();
    }

    private static void write(StringBuilder out, Object v, String indent) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof String s) {
            writeString(out, s);
        } else if (v instanceof Double d && (d.isNaN() || d.isInfinite())) {
            writeString(out, d.toString());
        } else if (v instanceof BigDecimal d && d.scale() == 0) {
            // Plain digits would read back as an integer, which may not fit 64 bits: keep it a decimal.
            out.append(d).append(".0");
        } else if (v instanceof Number || v instanceof Boolean) {
            out.append(v);
        } else if (v instanceof int[] a) {
            write(out, java.util.Arrays.stream(a).boxed().toList(), indent);
        } else if (v instanceof double[] a) {
            write(out, java.util.Arrays.stream(a).boxed().toList(), indent);
        } else if (v instanceof Map<?, ?> m) {
            out.append('{');
            String inner = indent + "  ";
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.append(first ? "\n" : ",\n").append(inner);
                writeString(out, String.valueOf(e.getKey()));
                out.append(": ");
                write(out, e.getValue(), inner);
                first = false;
            }
            out.append(first ? "}" : "\n" + indent + "}");
        } else if (v instanceof List<?> l) {
            out.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) out.append(", ");
                write(out, l.get(i), indent);
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass().getSimpleName() + " as JSON");
        }
    }

    /** Appends {@code s} as a JSON string literal (quotes included). */
    static void writeString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    // Deep nesting is never legitimate in a header; the limit keeps a hostile file from
    // exhausting the stack.
    private static final int MAX_DEPTH = 64;

    private Object value(int depth) throws ParseException {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        if (pos >= text.length()) throw error("expected a value, found end of input");
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("expected a value, found '" + c + "'");
            }
        };
    }

    private Map<String, Object> object(int depth) throws ParseException {
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') throw error("expected a string key");
            int keyAt = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            path.add(key);
            Object v = value(depth + 1);
            path.remove(path.size() - 1);
            if (map.containsKey(key)) {
                pos = keyAt;
                throw error("duplicate key \"" + key + "\"");
            }
            map.put(key, v);
            skipWhitespace();
            char c = peek();
            pos++;
            if (c == '}') return map;
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}' in object");
            }
        }
    }

    private List<Object> array(int depth) throws ParseException {
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            path.add(list.size());
            list.add(value(depth + 1));
            path.remove(path.size() - 1);
            skipWhitespace();
            char c = peek();
            pos++;
            if (c == ']') return list;
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']' in array");
            }
        }
    }

    private String string() throws ParseException {
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) throw error("unterminated string");
            char c = text.charAt(pos++);
            if (c == '"') return sb.toString();
            if (c < 0x20) {
                pos--;
                throw error("unescaped control character in string");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= text.length()) throw error("unterminated escape");
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> sb.append(hex4());
                default -> {
                    pos--;
                    throw error("invalid escape '\\" + e + "'");
                }
            }
        }
    }

    private char hex4() throws ParseException {
        if (pos + 4 > text.length()) throw error("truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            char c = text.charAt(pos + i);
            // Character.digit would also take non-ASCII digits such as '٣'; JSON allows only 0-9, a-f, A-F.
            int d = c < 128 ? Character.digit(c, 16) : -1;
            if (d < 0) throw error("invalid \\u escape");
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private Object number() throws ParseException {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            while (isDigit(peek())) pos++;
        } else {
            throw error("expected a digit");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!isDigit(peek())) throw error("expected a digit after '.'");
            while (isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!isDigit(peek())) throw error("expected a digit in exponent");
            while (isDigit(peek())) pos++;
        }
        String literal = text.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException tooLong) {
                throw outOfRange(start, literal, "does not fit in 64 bits");
            }
        }
        BigDecimal value;
        try {
            value = new BigDecimal(literal);
        } catch (NumberFormatException e) { // an exponent beyond ±2^31
            throw outOfRange(start, literal, "has an exponent too large to represent");
        }
        if (Double.isInfinite(value.doubleValue())) throw outOfRange(start, literal, "is beyond the range of a double (about ±1.8e308)");
        return value;
    }

    private ParseException outOfRange(int start, String literal, String why) {
        pos = start;
        String shown = literal.length() <= 40 ? literal : literal.substring(0, 20) + "..." + literal.substring(literal.length() - 10);
        return error("number " + shown + (path.isEmpty() ? "" : " at key " + pathString()) + " " + why);
    }

    /** The current path as {@code a.b[2].c}, each key quoted only when it is not a plain word. */
    private String pathString() {
        StringBuilder sb = new StringBuilder();
        for (Object p : path) {
            if (p instanceof Integer i) {
                sb.append('[').append(i).append(']');
            } else {
                String key = (String) p;
                if (sb.length() > 0) sb.append('.');
                if (key.matches("[A-Za-z_][A-Za-z0-9_]*")) sb.append(key);
                else writeString(sb, key);
            }
        }
        return sb.toString();
    }

    private Object literal(String word, Object value) throws ParseException {
        if (!text.startsWith(word, pos)) throw error("expected '" + word + "'");
        pos += word.length();
        return value;
    }

    private void expect(char c) throws ParseException {
        if (peek() != c) throw error("expected '" + c + "'");
        pos++;
    }

    /** The current character, or NUL at the end (never valid where it is checked). */
    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private ParseException error(String what) {
        return new ParseException(what + " at character " + pos);
    }
}
