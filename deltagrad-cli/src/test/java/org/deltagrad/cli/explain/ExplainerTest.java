package org.deltagrad.cli.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.deltagrad.cli.explain.Explainer.Explanation;
import org.deltagrad.cli.explain.Explainer.Step;
import org.deltagrad.cli.explain.Explainer.Term;
import org.deltagrad.cli.explain.ExpressionParser.ExpressionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ExplainerTest {

    private static Map<String, Double> at(Object... nameValue) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) m.put((String) nameValue[i], ((Number) nameValue[i + 1]).doubleValue());
        return m;
    }

    /** Expression, point, closed-form value, gradient and Hessian. */
    static Stream<Arguments> closedForms() {
        double x = 1.5, y = -2, s = 1 / (1 + Math.exp(-0.3));
        return Stream.of(
                Arguments.of("x*y + sin(x)", at("x", x, "y", y), x * y + Math.sin(x),
                        new double[] {y + Math.cos(x), x}, new double[][] {{-Math.sin(x), 1}, {1, 0}}),
                Arguments.of("x^3", at("x", x), x * x * x, new double[] {3 * x * x}, new double[][] {{6 * x}}),
                Arguments.of("exp(x*y)", at("x", 0.5, "y", y), Math.exp(0.5 * y),
                        new double[] {y * Math.exp(0.5 * y), 0.5 * Math.exp(0.5 * y)},
                        new double[][] {{y * y * Math.exp(0.5 * y), (1 + 0.5 * y) * Math.exp(0.5 * y)},
                                {(1 + 0.5 * y) * Math.exp(0.5 * y), 0.25 * Math.exp(0.5 * y)}}),
                Arguments.of("sigmoid(x)", at("x", 0.3), s, new double[] {s * (1 - s)},
                        new double[][] {{s * (1 - s) * (1 - 2 * s)}}),
                Arguments.of("-x^2", at("x", x), -x * x, new double[] {-2 * x}, new double[][] {{-2}}),
                Arguments.of("x / y - 2", at("x", x, "y", y), x / y - 2, new double[] {1 / y, -x / (y * y)},
                        new double[][] {{0, -1 / (y * y)}, {-1 / (y * y), 2 * x / (y * y * y)}}),
                Arguments.of("x^y", at("x", 2, "y", 3), 8, new double[] {12, 8 * Math.log(2)},
                        new double[][] {{12, 4 + 12 * Math.log(2)}, {4 + 12 * Math.log(2), 8 * Math.log(2) * Math.log(2)}}),
                Arguments.of("log(x) * sqrt(x) + tanh(y) + abs(y) + relu(x) + cos(y)", at("x", x, "y", y),
                        Math.log(x) * Math.sqrt(x) + Math.tanh(y) + 2 + x + Math.cos(y),
                        new double[] {Math.sqrt(x) / x + Math.log(x) / (2 * Math.sqrt(x)) + 1,
                                1 - Math.pow(Math.tanh(y), 2) - 1 - Math.sin(y)},
                        new double[][] {{-Math.log(x) / (4 * Math.pow(x, 1.5)), 0},
                                {0, -2 * Math.tanh(y) * (1 - Math.pow(Math.tanh(y), 2)) - Math.cos(y)}}));
    }

    @ParameterizedTest
    @MethodSource("closedForms")
    void gradientAndHessianMatchClosedForms(String expr, Map<String, Double> at, double value, double[] gradient,
                                            double[][] hessian) {
        Explanation e = Explainer.explain(expr, at, 2);
        assertEquals(value, e.value(), 1e-12);
        for (int i = 0; i < gradient.length; i++) {
            assertEquals(gradient[i], e.gradient()[i], 1e-12 * Math.max(1, Math.abs(gradient[i])), "∂f/∂" + e.variables().get(i));
            for (int j = 0; j < gradient.length; j++) {
                assertEquals(hessian[i][j], e.hessian()[i][j], 1e-12 * Math.max(1, Math.abs(hessian[i][j])), "H" + i + j);
            }
        }
        Explainer.Check c = Explainer.check(e);
        assertTrue(c.worst().error() < 1e-6, c.worst().toString());
        assertEquals(gradient.length * (1 + gradient.length), c.comparisons().size());
    }

    @Test
    void forwardNodesInCreationOrderWithValues() {
        Explanation e = Explainer.explain("x*y + sin(x)", at("x", 1.5, "y", -2), 1);
        List<String> rows = e.steps().stream().map(s -> s.id() + " " + s.op() + " " + s.formula()).toList();
        assertEquals(List.of("u1 variable x", "u2 variable y", "u3 mul u1 * u2", "u4 sin sin(u1)", "u5 add u3 + u4"), rows);
        assertEquals(-3, e.steps().get(2).value());
        assertNull(e.hessian());
    }

    @Test
    void aVariableUsedTwiceIsOneLeafWhoseAdjointSumsItsConsumers() {
        Explanation e = Explainer.explain("x*y + sin(x)", at("x", 1.5, "y", -2), 1);
        Step x = e.steps().get(0);
        assertEquals(List.of("u3", "u4"), x.consumers());
        assertEquals(2, x.terms().size());
        Term viaMul = x.terms().get(0), viaSin = x.terms().get(1);
        assertEquals("u3", viaMul.consumer());
        assertEquals(-2, viaMul.local());
        assertEquals(Math.cos(1.5), viaSin.local(), 1e-15);
        assertEquals(viaMul.contribution() + viaSin.contribution(), x.adjoint(), 1e-15);
        // Every other node has exactly one consumer, so exactly one term.
        for (Step s : e.steps().subList(1, 4)) assertEquals(1, s.terms().size(), s.id());
        assertEquals(0, e.output().terms().size());
        assertEquals(1, e.output().adjoint());
    }

    @Test
    void identicalSubexpressionsWrittenTwiceAreSeparateNodes() {
        Explanation e = Explainer.explain("sin(x) * sin(x)", at("x", 0.7), 1);
        assertEquals(List.of("variable", "sin", "sin", "mul"), e.steps().stream().map(Step::op).toList());
        assertEquals(List.of("u2", "u3"), e.steps().get(0).consumers());
        assertEquals(2 * Math.sin(0.7) * Math.cos(0.7), e.gradient()[0], 1e-15);
    }

    @Test
    void aNodeUsedTwiceByOneOpGetsOneTermPerEdge() {
        Explanation e = Explainer.explain("x*x", at("x", 3), 2);
        Step x = e.steps().get(0);
        assertEquals(List.of("u2", "u2"), x.consumers());
        assertEquals(List.of(3.0, 3.0), x.terms().stream().map(Term::local).toList());
        assertEquals(6, x.adjoint());
        assertEquals(2, e.hessian()[0][0]);
    }

    @Test
    void constantSubexpressionsAreFoldedIntoOperands() {
        Explanation e = Explainer.explain("x * (2 + 3) + x^(1+1)", at("x", 2), 1);
        assertEquals(List.of("u1", "5"), e.steps().get(1).inputs());
        assertEquals("u1 ^ 2", e.steps().get(2).formula());
        assertEquals("pow", e.steps().get(2).op());
        assertEquals(5 + 4, e.gradient()[0]);
    }

    @Test
    void expressionsWithoutOperatorsOrVariables() {
        Explanation leaf = Explainer.explain("x", at("x", 2), 2);
        assertEquals(1, leaf.gradient()[0]);
        assertEquals(1, leaf.output().adjoint());
        assertEquals(0, leaf.hessian()[0][0]);
        Explanation constant = Explainer.explain("2*3", Map.of(), 1);
        assertEquals(6, constant.value());
        assertNull(constant.output());
    }

    @Test
    void variablesMustMatchTheValuesGiven() {
        ExpressionException missing = assertThrows(ExpressionException.class,
                () -> Explainer.explain("x + 2*y", at("x", 1), 1));
        assertEquals("x + 2*y\n      ^\nvariable 'y' has no value in --at", missing.getMessage());
        IllegalArgumentException unused = assertThrows(IllegalArgumentException.class,
                () -> Explainer.explain("x", at("x", 1, "z", 2), 1));
        assertTrue(unused.getMessage().contains("'z'"), unused.getMessage());
    }

    @Test
    void formatIsFixed() {
        assertEquals("1.5", Explainer.format(1.5));
        assertEquals("-2", Explainer.format(-2));
        assertEquals("0", Explainer.format(-0.0));
        assertEquals("0.1", Explainer.format(0.1));
        assertEquals("0.333333333333", Explainer.format(1.0 / 3));
        assertEquals("1.23e-7", Explainer.format(1.23e-7));
        assertEquals("1e+12", Explainer.format(1e12));
        assertEquals("NaN", Explainer.format(Double.NaN));
    }
}
