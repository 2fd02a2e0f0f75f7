package org.deltagrad.cli.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ExplainCommandTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Runs the command as the CLI would; returns stdout, failing on a non-zero exit status. */
    static String run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new ExplainCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int status = cl.execute(args);
        assertEquals(0, status, err.toString());
        return out.toString();
    }

    @Test
    void textShowsForwardValuesAdjointsWithTheirTermsAndTheFanOutSum() {
        String text = run("x*y + sin(x)", "--at", "x=1.5,y=-2");
        assertTrue(text.contains("  u3 = u1 * u2  mul      = -3\n"), text);
        assertTrue(text.contains("  ∂f/∂u5 = 1   (seed: f = u5)"), text);
        assertTrue(text.contains("  ∂f/∂u1 = ∂f/∂u3·∂u3/∂u1 (= 1 · -2) + ∂f/∂u4·∂u4/∂u1 (= 1 · 0.0707372016677)"
                + " = -1.92926279833   [fan-out: u1 feeds u3, u4; the 2 terms are summed once, here]"), text);
        assertTrue(text.contains("[memo: stored once, reused by the 2 terms below for u1, u2]"), text);
        assertTrue(text.contains("  ∂f/∂x = -1.92926279833\n  ∂f/∂y = 1.5\n"), text);
        // One adjoint line per node, in reverse order.
        List<String> adjoints = text.lines().filter(l -> l.startsWith("  ∂f/∂u")).map(l -> l.substring(2, 8)).toList();
        assertEquals(List.of("∂f/∂u5", "∂f/∂u4", "∂f/∂u3", "∂f/∂u2", "∂f/∂u1"), adjoints);
    }

    @Test
    void outputIsStable() {
        String[] args = {"exp(x*y) - x^3/y", "--at", "x=0.5,y=-2", "--order", "2", "--check"};
        assertEquals(run(args), run(args));
    }

    @Test
    void hessianAndCheckInText() {
        String text = run("x*y + sin(x)", "--at", "x=1.5,y=-2", "--order", "2", "--check");
        assertTrue(text.contains("     x                y\n  x  -0.997494986604  1\n  y  1                0\n"), text);
        assertTrue(text.contains("  worst error: "), text);
    }

    @Test
    void jsonHasTheDocumentedKeys() throws Exception {
        JsonNode j = MAPPER.readTree(run("x*y + sin(x)", "--at", "x=1.5,y=-2", "--order", "2", "--check", "--json"));
        assertEquals(1.5 * -2 + Math.sin(1.5), j.get("value").asDouble(), 1e-15);
        assertEquals(-2 + Math.cos(1.5), j.get("gradient").get("x").asDouble(), 1e-15);
        assertEquals(1.5, j.get("gradient").get("y").asDouble());
        assertEquals(-Math.sin(1.5), j.get("hessian").get("x").get("x").asDouble(), 1e-15);
        assertEquals(1, j.get("hessian").get("y").get("x").asDouble());
        assertEquals(5, j.get("nodes").size());
        for (JsonNode n : j.get("nodes")) {
            for (String key : List.of("id", "op", "inputs", "value", "adjoint")) assertTrue(n.has(key), key + " in " + n);
        }
        JsonNode mul = j.get("nodes").get(2);
        assertEquals("mul", mul.get("op").asText());
        assertEquals("[\"u1\",\"u2\"]", mul.get("inputs").toString());
        assertTrue(j.get("check").get("worstError").asDouble() < 1e-6);
        assertTrue(j.has("check") && j.get("check").get("comparisons").size() == 6);
        assertTrue(!run("x", "--at", "x=1", "--json").contains("hessian"));
    }

    @Test
    void networkBackpropAgreesWithAutogradAndFiniteDifferences() throws Exception {
        String text = run("--network", "2,3,2", "--seed", "1");
        Stream.of("z¹ = w¹a⁰ + b¹", "a² = σ(z²)", "BP1 δ² = (a² − y) ⊙ σ′(z²)", "BP2 δ¹ = ((w²)ᵀ δ²) ⊙ σ′(z¹)",
                "BP3 ∂C/∂b¹ = δ¹", "BP4 ∂C/∂w² = δ² (a¹)ᵀ", "vs central differences")
                .forEach(s -> assertTrue(text.contains(s), s + " in\n" + text));
        JsonNode j = MAPPER.readTree(run("--network", "2,3,2", "--seed", "1", "--json"));
        assertEquals(2, j.get("layers").size());
        assertEquals(3, j.get("layers").get(0).get("delta").size());
        assertEquals(3, j.get("layers").get(1).get("gradW").get(0).size());
        JsonNode check = j.get("check");
        for (String key : List.of("deltaVsAutograd", "biasVsAutograd", "weightVsAutograd", "biasVsFiniteDifferences",
                "weightVsFiniteDifferences")) {
            assertTrue(check.get(key).asDouble() < 1e-9, key + " = " + check.get(key));
        }
        assertNotEquals(run("--network", "2,3,2", "--seed", "2", "--json"), run("--network", "2,3,2", "--seed", "1", "--json"));
    }

    @Test
    void readmeScalarExampleIsTheRealOutput() throws Exception {
        assertReadmeShows("\"x*y + sin(x)\" --at x=1.5,y=-2 --order 2 --check", "x*y + sin(x)", "--at", "x=1.5,y=-2", "--order", "2", "--check");
    }

    /** The README's console block for {@code $ ./deltagrad explain COMMANDLINE} is exactly what the command prints. */
    static void assertReadmeShows(String commandLine, String... args) throws java.io.IOException {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("..", "README.md"));
        String command = "$ ./deltagrad explain " + commandLine + "\n";
        int start = readme.indexOf(command);
        assertTrue(start >= 0, "the README's example " + command);
        String shown = readme.substring(start + command.length(), readme.indexOf("```", start));
        assertEquals(shown, run(args).replace(System.lineSeparator(), "\n"));
    }

    @Test
    void mistakesAreReportedWithACaret() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ExplainCommand());
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println(ex.getMessage());
            return 1;
        });
        assertEquals(1, cl.execute("x * (y + 1))", "--at", "x=1,y=2"));
        assertTrue(err.toString().contains("x * (y + 1))\n           ^\nunexpected ')' at column 12"), err.toString());
        assertEquals(2, cl.execute("x", "--network", "2,2"));
        assertEquals(2, cl.execute("--at", "x=1"));
        assertEquals(2, cl.execute("x", "--at", "x=1", "--order", "3"));
    }
}
