package org.deltagrad.cli.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.deltagrad.cli.explain.ExpressionParser.ExpressionException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
            "foo(x)     | 0 | unknown function 'foo' (known: abs, cos, exp, log, relu, sigmoid, sin, sqrt, tanh)",
            "x * sin x  | 4 | function 'sin' needs its argument in parentheses: sin(...)",
            "2 3        | 2 | unexpected '3' at column 3",
            "x # y      | 2 | unexpected '#' at column 3",
            "1e+        | 0 | malformed number '1e+': the exponent has no digits",
            "x ^ * 2    | 4 | unexpected '*' at column 5",
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
}
