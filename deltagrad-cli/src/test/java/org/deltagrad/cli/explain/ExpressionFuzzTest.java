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
 * draws its DOT graphs without any other exception. A tree with @ or a tensor function goes to the tensor
 * explainer on the same scalars instead, where a shape mistake (T of a scalar, say) is a one-line error. Without JAZZER_FUZZ=1 this replays the saved inputs in
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
        if (Expr.usesTensorOps(tree)) {
            Map<String, org.deltagrad.Tensor> tensors = new LinkedHashMap<>();
            at.forEach((name, value) -> tensors.put(name, org.deltagrad.Tensor.scalar(value)));
            try {
                TensorExplainer.check(TensorExplainer.explain(text, tensors, at.size() <= 3 ? 2 : 1, 1));
            } catch (IllegalArgumentException e) {
                assertTrue(!(e instanceof ExpressionException) && !e.getMessage().contains("\n"), e.getMessage());
            }
            return;
        }
        Explainer.Explanation e = Explainer.explain(text, at, at.size() <= 3 ? 2 : 1);
        Explainer.check(e);
        assertTrue(DotWriter.symbolic(e).startsWith("digraph symbolic {"));
    }
}
