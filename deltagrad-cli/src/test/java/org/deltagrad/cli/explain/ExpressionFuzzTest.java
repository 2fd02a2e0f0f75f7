package org.deltagrad.cli.explain;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deltagrad.cli.explain.ExpressionParser.ExpressionException;

/**
 * {@code explain} on arbitrary text: the parser gives a tree or an ExpressionException; a tree then explains
 * (every variable at 0.75; second order when there are few variables), checks against finite differences and
 * draws its DOT graphs without any other exception. Without JAZZER_FUZZ=1 this replays the saved inputs in
 * ExpressionFuzzTestInputs/ (see the README's "Fuzzing").
 */
class ExpressionFuzzTest {
    @FuzzTest
    void explain(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        Expr tree;
        try {
            tree = ExpressionParser.parse(text);
        } catch (ExpressionException e) {
            assertTrue(e.column() >= 0 && e.column() <= text.length() && !e.reason().contains("\n"), e.getMessage());
            return;
        }
        List<Expr.Var> vars = Explainer.postOrder(tree).stream().filter(Expr.Var.class::isInstance).map(Expr.Var.class::cast).toList();
        Map<String, Double> at = new LinkedHashMap<>();
        for (Expr.Var v : vars) at.put(v.name(), 0.75);
        Explainer.Explanation e = Explainer.explain(text, at, at.size() <= 3 ? 2 : 1);
        Explainer.check(e);
        assertTrue(DotWriter.symbolic(e).startsWith("digraph symbolic {"));
    }
}
