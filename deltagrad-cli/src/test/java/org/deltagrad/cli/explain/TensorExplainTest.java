package org.deltagrad.cli.explain;

import static org.deltagrad.cli.explain.ExplainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code explain} on vectors and matrices, against closed forms computed here in float64. */
class TensorExplainTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final double TOL = 1e-9;

    private static double[][] matrix(JsonNode n) {
        double[][] m = new double[n.size()][];
        for (int i = 0; i < n.size(); i++) m[i] = vector(n.get(i));
        return m;
    }

    private static double[] vector(JsonNode n) {
        double[] v = new double[n.size()];
        for (int i = 0; i < n.size(); i++) v[i] = n.get(i).asDouble();
        return v;
    }

    private static void close(double expected, JsonNode actual, String what) {
        assertEquals(expected, actual.asDouble(), TOL, what);
    }

    @Test
    void sumTanhOfAnAffineMapMatchesItsClosedForm() throws Exception {
        String[] args = {"sum(tanh(W@x + b))", "--at", "W=randn(3,2),x=[0.5,-1],b=[0.1,0.2,0.3]", "--seed", "7"};
        JsonNode j = MAPPER.readTree(run(Stream.concat(Stream.of(args), Stream.of("--json")).toArray(String[]::new)));
        double[][] w = matrix(j.get("at").get("W"));
        double[] x = {0.5, -1}, b = {0.1, 0.2, 0.3};
        assertEquals(3, w.length);
        assertEquals(2, w[0].length);
        double value = 0;
        double[] d = new double[3]; // 1 − tanh²(Wx + b)
        for (int i = 0; i < 3; i++) {
            double t = Math.tanh(w[i][0] * x[0] + w[i][1] * x[1] + b[i]);
            value += t;
            d[i] = 1 - t * t;
        }
        close(value, j.get("value"), "value");
        JsonNode g = j.get("gradient");
        for (int i = 0; i < 3; i++) {
            close(d[i], g.get("b").get(i), "∂f/∂b" + i);
            for (int k = 0; k < 2; k++) close(d[i] * x[k], g.get("W").get(i).get(k), "∂f/∂W" + i + k); // (1 − tanh²) xᵀ
        }
        for (int k = 0; k < 2; k++) {
            double wtd = 0;
            for (int i = 0; i < 3; i++) wtd += w[i][k] * d[i]; // Wᵀ(1 − tanh²)
            close(wtd, g.get("x").get(k), "∂f/∂x" + k);
        }
        JsonNode matmul = null;
        for (JsonNode n : j.get("nodes")) if (n.get("op").asText().equals("matmul")) matmul = n;
        assertEquals("[3]", matmul.get("shape").toString());
        assertEquals(3, matmul.get("value").size());
        assertEquals(3, matmul.get("adjoint").size());
        for (int i = 0; i < 3; i++) close(d[i], matmul.get("adjoint").get(i), "adjoint of W@x");

        String text = run(args);
        Stream.of("∂/∂A of A@B: G·Bᵀ", "∂/∂B of A@B: Aᵀ·G", "∂/∂A of tanh(A): G ⊙ (1 − tanh²(A)); local derivative",
                "∂/∂A of sum(A): broadcast G back to shape [3]", "u4 = u1 @ u2   matmul  [3] = [")
                .forEach(s -> assertTrue(text.contains(s), s + " in\n" + text));
        assertNotEquals(run("sum(W)", "--at", "W=randn(2)", "--seed", "1"), run("sum(W)", "--at", "W=randn(2)", "--seed", "2"));
        assertEquals(run("sum(W)", "--at", "W=randn(2)", "--seed", "1"), run("sum(W)", "--at", "W=randn(2)", "--seed", "1"));
    }

    @Test
    void fanOutAndBroadcastingAreShownWithTheirTerms() throws Exception {
        String text = run("sum(x*x + b) + logsumexp(W@x)", "--at", "W=[[1,2],[3,4],[5,6]],x=[0.5,-1],b=2");
        Stream.of("∂f/∂u1 [2] = (from u4) + (from u4) + (from u7) = [",
                "[fan-out: u1 feeds u4, u4, u7; its adjoint is the sum of these 3 terms]",
                "from u5: ∂/∂B of A+B: G → 2   [broadcast: summed back from [2] to [], the engine's fitToInput]",
                "∂/∂A of logsumexp(A): G (broadcast) ⊙ softmax(A)")
                .forEach(s -> assertTrue(text.contains(s), s + " in\n" + text));
        JsonNode j = MAPPER.readTree(run("sum(x*x + b) + logsumexp(W@x)", "--at", "W=[[1,2],[3,4],[5,6]],x=[0.5,-1],b=2", "--json"));
        double[] z = {-1.5, -2.5, -3.5}; // W@x
        double m = Math.exp(z[0]) + Math.exp(z[1]) + Math.exp(z[2]);
        close(0.25 + 1 + 4 + Math.log(m), j.get("value"), "value");
        close(2, j.get("gradient").get("b"), "∂f/∂b: the broadcast scalar collects one G per element");
        double[] p = {Math.exp(z[0]) / m, Math.exp(z[1]) / m, Math.exp(z[2]) / m};
        close(2 * 0.5 + p[0] + 3 * p[1] + 5 * p[2], j.get("gradient").get("x").get(0), "∂f/∂x0 = 2x + Wᵀ softmax(Wx)");
        close(2 * -1 + 2 * p[0] + 4 * p[1] + 6 * p[2], j.get("gradient").get("x").get(1), "∂f/∂x1");
        JsonNode x = j.get("nodes").get(0);
        assertEquals(3, x.get("terms").size());
        assertEquals("[2]", x.get("shape").toString());
    }

    @Test
    void transposeReductionsAndSoftmaxMatchTheirClosedForms() throws Exception {
        // f = sum(T(A) @ y) + mean(A, 0)·[1,1] summed + sum(softmax(y) * c): each gradient by hand.
        JsonNode j = MAPPER.readTree(run("sum(T(A) @ y) + sum(mean(A, 0)) + sum(softmax(y, 0) * c)",
                "--at", "A=[[1,2],[3,4],[5,6]],y=[0.1,0.2,0.3],c=[1,-1,2]", "--json"));
        double[] y = {0.1, 0.2, 0.3}, c = {1, -1, 2};
        double s = Math.exp(0.1) + Math.exp(0.2) + Math.exp(0.3);
        double[] p = {Math.exp(0.1) / s, Math.exp(0.2) / s, Math.exp(0.3) / s};
        double pc = p[0] * c[0] + p[1] * c[1] + p[2] * c[2];
        double[][] a = {{1, 2}, {3, 4}, {5, 6}};
        double value = pc + 21 / 3.0;
        for (int i = 0; i < 3; i++) value += (a[i][0] + a[i][1]) * y[i];
        close(value, j.get("value"), "value");
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < 2; k++) close(y[i] + 1 / 3.0, j.get("gradient").get("A").get(i).get(k), "∂f/∂A" + i + k);
            close(a[i][0] + a[i][1] + p[i] * (c[i] - pc), j.get("gradient").get("y").get(i), "∂f/∂y" + i);
            close(p[i], j.get("gradient").get("c").get(i), "∂f/∂c" + i);
        }
    }

    @Test
    void secondOrderIsTheFullHessianForSmallInputsAndHvOtherwiseBothChecked() throws Exception {
        JsonNode j = MAPPER.readTree(run("sum(x^3) + sum(x) * y", "--at", "x=[1,2],y=3", "--order", "2", "--check", "--json"));
        double[][] expected = {{6, 0, 1}, {0, 12, 1}, {1, 1, 0}}; // 6x on the diagonal, ∂²/∂x∂y = 1
        assertEquals("[\"x[0]\",\"x[1]\",\"y\"]", j.get("hessian").get("elements").toString());
        for (int r = 0; r < 3; r++) for (int k = 0; k < 3; k++) close(expected[r][k], j.get("hessian").get("matrix").get(r).get(k), "H" + r + k);
        assertTrue(j.get("check").get("worstError").asDouble() < 1e-5, j.get("check").toString());

        JsonNode big = MAPPER.readTree(run("sum(A^3)", "--at", "A=randn(5,4)", "--order", "2", "--check", "--json"));
        double[][] a = matrix(big.get("at").get("A"));
        double[][] v = matrix(big.get("hessianVectorProduct").get("v").get("A"));
        double[][] hv = matrix(big.get("hessianVectorProduct").get("hv").get("A"));
        for (int r = 0; r < 5; r++) for (int k = 0; k < 4; k++) assertEquals(6 * a[r][k] * v[r][k], hv[r][k], TOL, "H·v = 6A ⊙ v");
        assertTrue(big.get("check").get("worstError").asDouble() < 1e-6, big.get("check").toString());
        String text = run("sum(A^3)", "--at", "A=randn(5,4)", "--order", "2", "--check");
        assertTrue(text.contains("([5,4]: min ") && text.contains("hessian-vector product H·v"), text);
    }

    @Test
    void readmeTensorExampleIsTheRealOutput() throws Exception {
        ExplainCommandTest.assertReadmeShows("\"sum(tanh(W@x + b))\" --at \"W=[[0.5,-1],[2,0.3],[-0.7,1.2]],x=[0.5,-1],b=[0.1,0.2,0.3]\" --check",
                "sum(tanh(W@x + b))", "--at", "W=[[0.5,-1],[2,0.3],[-0.7,1.2]],x=[0.5,-1],b=[0.1,0.2,0.3]", "--check");
    }

    @Test
    void mistakesInTensorInputsAreOneLineErrors() {
        expectError(2, "ragged list in '[[1,2],[3]]' (rows of 2 and 1 elements)", "sum(x)", "--at", "x=[[1,2],[3]]");
        expectError(2, "--check evaluates f twice per input element; these inputs have 20,001, explain checks at most 20,000",
                "sum(x)", "--at", "x=randn(20001)", "--check");
        expectError(2, "--at gives 'x' more than one value", "sum(x)", "--at", "x=[1,2],x=[3]");
        expectError(2, "--at x: an empty list in '[[]]' has no value", "sum(x)", "--at", "x=[[]]");
        expectError(2, "randn sizes must be positive", "sum(x)", "--at", "x=randn(0,2)");
        expectError(1, "has shape [3]; a gradient needs a scalar, so reduce it", "W@x", "--at", "W=randn(3,2),x=[1,2]");
        expectError(1, "matmul: shapes [3, 2] and [3] are not aligned", "sum(W@x)", "--at", "W=randn(3,2),x=[1,2,3]");
        expectError(1, "T(A): A must be a matrix, got shape [2]", "sum(T(x))", "--at", "x=[1,2]");
        expectError(1, "sum(A, 2): A of shape [2] has no dimension 2", "sum(x, 2)", "--at", "x=[1,2]");
    }

    private static void expectError(int status, String message, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ExplainCommand());
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println(ex.getMessage());
            return 1;
        });
        assertEquals(status, cl.execute(args), err.toString());
        assertTrue(err.toString().contains(message), err.toString());
    }
}
