package org.deltagrad.cli.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.deltagrad.cli.explain.Explainer.Explanation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DotWriterTest {
    private static final Pattern EDGE = Pattern.compile("^\\s*(\\w+) -> (\\w+)( \\[.*])?;$");
    private static final Pattern NODE = Pattern.compile("^\\s*(\\w+) \\[label=.*];$");

    private final Explanation e = Explainer.explain("x*x + exp(x*y)", Map.of("x", 0.5, "y", -1.0), 1);

    private static List<String[]> edges(String dot) {
        List<String[]> out = new ArrayList<>();
        for (String line : dot.lines().toList()) {
            Matcher m = EDGE.matcher(line);
            if (m.matches() && !line.contains("dashed")) out.add(new String[] {m.group(1), m.group(2)});
        }
        return out;
    }

    private static TreeSet<String> nodes(String dot) {
        TreeSet<String> out = new TreeSet<>();
        for (String line : dot.lines().toList()) {
            Matcher m = NODE.matcher(line);
            if (m.matches()) out.add(m.group(1));
        }
        return out;
    }

    private static void assertBalanced(String dot) {
        int depth = 0;
        for (char c : dot.toCharArray()) {
            if (c == '{') depth++;
            if (c == '}') depth--;
            assertTrue(depth >= 0, dot);
        }
        assertEquals(0, depth, dot);
    }

    @Test
    void backwardGraphHasOneNodePerForwardNodeAndEveryEdgeReversed() {
        String g = DotWriter.forward(e), b = DotWriter.backward(e);
        assertBalanced(g);
        assertBalanced(b);
        assertTrue(g.startsWith("digraph G {") && b.startsWith("digraph B {"));
        TreeSet<String> forwardNodes = nodes(g), backwardNodes = nodes(b);
        assertEquals(e.steps().size(), forwardNodes.size());
        assertEquals(forwardNodes.size(), backwardNodes.size());
        for (String u : forwardNodes) assertTrue(backwardNodes.contains("d" + u.substring(1)), u);

        List<String> forwardEdges = edges(g).stream().map(x -> x[0] + ">" + x[1]).sorted().toList();
        List<String> reversedBackward = edges(b).stream().map(x -> "u" + x[1].substring(1) + ">u" + x[0].substring(1)).sorted().toList();
        assertEquals(forwardEdges, reversedBackward);
        // x*x: two parallel edges from u1 to the product.
        assertEquals(2, forwardEdges.stream().filter("u1>u3"::equals).count());
        assertTrue(b.contains("∂f/∂u6\\n= 1 (seed)"), b);
    }

    @Test
    void symbolicGraphDrawsOnlyTheValuesEachLocalDerivativeReads() {
        Explanation f = Explainer.explain("x*y + sin(x)", Map.of("x", 1.5, "y", -2.0), 1);
        String dot = DotWriter.symbolic(f);
        // d1 (x): mul reads the other factor y (u2), sin reads x (u1); d2 (y): mul reads x; add reads nothing.
        assertTrue(dot.contains("u2 -> d1 "), dot);
        assertTrue(dot.contains("u1 -> d1 "), dot);
        assertTrue(dot.contains("u1 -> d2 "), dot);
        assertFalse(dot.contains("u2 -> d2 "), dot);
        assertFalse(dot.contains("-> d3 [style=dashed") || dot.contains("-> d4 [style=dashed"), dot);
    }

    @Test
    void aPowerWithAVariableExponentReadsBaseAndExponent() {
        Explanation f = Explainer.explain("x^y", Map.of("x", 1.5, "y", 2.0), 1);
        assertEquals("powTensor", f.steps().get(2).op());
        String dot = DotWriter.symbolic(f);
        // ∂(x^y)/∂x = y·x^(y−1) reads y (u2), ∂(x^y)/∂y = x^y·ln x reads x (u1).
        assertTrue(dot.contains("u2 -> d1 ") && dot.contains("u1 -> d2 "), dot);
    }

    @Test
    void symbolicGraphHoldsBothClusters() {
        String s = DotWriter.symbolic(e);
        assertBalanced(s);
        assertTrue(s.contains("subgraph cluster_G {") && s.contains("subgraph cluster_B {"));
        assertEquals(2 * e.steps().size(), nodes(s).size());
        assertTrue(s.contains("u2 -> d1 [style=dashed"), s); // ∂u4/∂u1 = u2 reads y's value
    }

    @Test
    void writesDotFilesAndRendersThemWhenGraphvizIsInstalled(@TempDir Path dir) throws Exception {
        List<Path> files = DotWriter.write(e, dir.resolve("graphs"));
        for (String name : List.of("forward", "backward", "symbolic")) {
            assertTrue(Files.size(dir.resolve("graphs/" + name + ".dot")) > 0, name);
        }
        assumeTrue(DotWriter.graphvizAvailable(), "Graphviz dot is not on the PATH");
        assertEquals(9, files.size());
        for (String name : List.of("forward", "backward", "symbolic")) {
            String svg = Files.readString(dir.resolve("graphs/" + name + ".svg"));
            assertTrue(svg.contains("<svg"), name);
            assertTrue(Files.size(dir.resolve("graphs/" + name + ".png")) > 0, name);
        }
    }
}
