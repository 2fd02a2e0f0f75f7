package org.deltagrad.cli.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.deltagrad.cli.explain.ExpressionParser.ExpressionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ExpressionParserTest {

    /** Expr's toString parenthesises every operator, which makes precedence and associativity visible. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "x + y * z         | (x + (y * z))",
            "(x + y) * z       | ((x + y) * z)",
            "x - y - z         | ((x - y) - z)",
            "x / y / z         | ((x / y) / z)",
            "x / y * z         | ((x / y) * z)",
            "2 ^ 3 ^ 2         | (2 ^ (3 ^ 2))",
            "-x^2              | (-(x ^ 2))",
            "- -x              | (-(-x))",
            "x^-2              | (x ^ (-2))",
            "x * -y            | (x * (-y))",
            "-x * y            | ((-x) * y)",
            "sin(x)^2          | (sin(x) ^ 2)",
            "exp(x*y) + log(x) | (exp((x * y)) + log(x))",
            "sigmoid(relu(tanh(abs(sqrt(cos(x)))))) | sigmoid(relu(tanh(abs(sqrt(cos(x))))))",
            "  x_1+y2          | (x_1 + y2)",
            "W@x + b           | ((W @ x) + b)",
            "A @ B @ C * 2     | (((A @ B) @ C) * 2)",
            "sum(T(A)@x, 0)    | sum((T(A) @ x), 0)",
            "softmax(A, -1)    | softmax(A, -1)",
            "logsumexp(x)*mean(x) | (logsumexp(x) * mean(x))",
    })
    void precedenceAndAssociativity(String text, String tree) {
        assertEquals(tree, ExpressionParser.parse(text).toString());
    }

    @ParameterizedTest
    @CsvSource({"2, 2", "0.5, 0.5", ".25, 0.25", "3., 3", "1e-3, 0.001", "1.5E+2, 150", "2e3, 2000"})
    void numbers(String text, double value) {
        Expr e = ExpressionParser.parse(text);
        assertEquals(value, ((Expr.Num) e).value());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "x + )      | 4 | unexpected ')' at column 5",
            "(x + y))   | 7 | unexpected ')' at column 8",
            "x +        | 3 | unexpected end of expression",
            "sin(x      | 3 | '(' at column 4 is never closed",
            "foo(x)     | 0 | unknown function 'foo' (known: T, abs, cos, exp, log, logsumexp, mean, relu, sigmoid, sin, softmax, sqrt, sum, tanh)",
            "x * sin x  | 4 | function 'sin' needs its argument in parentheses: sin(...)",
            "2 3        | 2 | unexpected '3' at column 3",
            "x # y      | 2 | unexpected '#' at column 3",
            "1e+        | 0 | malformed number '1e+': the exponent has no digits",
            "x ^ * 2    | 4 | unexpected '*' at column 5",
            "x + ٣    | 4 | unexpected '٣' at column 5: numbers are written with the ASCII digits 0-9",
            "３*x       | 0 | unexpected '３' at column 1: numbers are written with the ASCII digits 0-9",
            "x٣ + 1    | 1 | unexpected '٣' at column 2: numbers are written with the ASCII digits 0-9",
            "1e400*x    | 0 | number '1e400' is beyond the range of a double (about 1.8e308)",
            "x * .e42   | 4 | malformed number '.': a number needs a digit before or after the point",
            "$x         | 0 | unexpected '$' at column 1",
            "T(A, 0)    | 3 | T(A) takes one argument, the matrix to transpose",
            "sum(A, x)  | 7 | sum(A, dim): dim must be a small integer such as 0, 1 or -1",
            "sum(A, 1   | 3 | '(' at column 4 is never closed",
            "x @ sum x  | 4 | function 'sum' needs its argument in parentheses: sum(...)",
            "exp(x, 0)  | 5 | unexpected ',' at column 6",
    })
    void errorsPointAtTheOffendingCharacter(String text, int column, String reason) {
        ExpressionException e = assertThrows(ExpressionException.class, () -> ExpressionParser.parse(text));
        assertEquals(column, e.column());
        assertEquals(reason, e.reason());
        assertEquals(text + "\n" + " ".repeat(column) + "^\n" + reason, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"''", "'   '"})
    void emptyExpression(String text) {
        assertEquals("empty expression", assertThrows(ExpressionException.class, () -> ExpressionParser.parse(text)).reason());
    }

    @Test
    void nestingBeyondTheCapIsOneParseErrorNotAStackOverflow() {
        int n = 10_000;
        String text = "sin(".repeat(n) + "x" + ")".repeat(n);
        ExpressionException e = assertThrows(ExpressionException.class, () -> ExpressionParser.parse(text));
        assertEquals("expression nested more than " + ExpressionParser.MAX_DEPTH + " deep", e.reason());
        assertEquals(4 * (ExpressionParser.MAX_DEPTH + 1), e.column()); // the 'x' inside the 201st sin(
    }

    /** Nesting of each kind at the cap parses and explains (to second order, with DOT output) in half a default stack. */
    @ParameterizedTest
    @ValueSource(strings = {"sin", "paren", "neg", "pow"})
    void nestingAtTheCapExplainsWithRoomToSpare(String kind) throws Throwable {
        int n = ExpressionParser.MAX_DEPTH;
        String text = switch (kind) {
            case "sin" -> "sin(".repeat(n) + "x" + ")".repeat(n);
            case "paren" -> "(".repeat(n) + "x*y" + ")".repeat(n);
            case "neg" -> "-".repeat(n) + "x";
            default -> "x^".repeat(n) + "1.0001";
        };
        assertThrows(ExpressionException.class, () -> ExpressionParser.parse("-" + text),
                "one level more is refused");
        Map<String, Double> at = kind.equals("paren") ? Map.of("x", 0.5, "y", 2.0) : Map.of("x", 0.5);
        String[] dot = new String[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(null, () -> {
            try {
                Explainer.Explanation e = Explainer.explain(text, at, 2);
                Explainer.check(e);
                dot[0] = DotWriter.symbolic(e);
            } catch (Throwable x) {
                failure[0] = x;
            }
        }, "half-stack", 512 * 1024);
        t.start();
        t.join();
        if (failure[0] != null) throw failure[0];
        assertTrue(dot[0].startsWith("digraph symbolic {"));
    }

    @Test
    void longChainsAreNotNestingAndExplainWithoutRecursion() throws Throwable {
        // 20,000 terms make a tree 20,000 deep on its left side; building, evaluating and differentiating it
        // walks the tree with a stack of its own.
        String text = "x+".repeat(20_000) + "x";
        Explainer.Explanation[] e = new Explainer.Explanation[1];
        Thread t = new Thread(null, () -> e[0] = Explainer.explain(text, Map.of("x", 0.5), 1), "small-stack", 256 * 1024);
        t.start();
        t.join();
        assertEquals(20_001 * 0.5, e[0].value());
        assertEquals(20_001, e[0].gradient()[0]);
    }
}
