package org.deltagrad.cli.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code explain --html}: the page, opened in headless Chromium and stepped to the end, shows the --json figures. */
class ExplainHtmlTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern ADJOINT = Pattern.compile("data-node=\"(u\\d+)\" data-adjoint=\"([^\"]*)\"");
    private static final Pattern GRADIENT = Pattern.compile("data-variable=\"([^\"]+)\" data-gradient=\"([^\"]*)\"");
    private static final Pattern HESSIAN = Pattern.compile("data-hessian=\"([^\"]+)\" data-value=\"([^\"]*)\"");
    private static final Pattern NETWORK_CELL = Pattern.compile(
            "data-layer=\"(\\d+)\" (?:data-row=\"(\\d+)\" data-col=\"(\\d+)\" data-grad-w|data-unit=\"(\\d+)\" data-(delta|grad-b))=\"([^\"]*)\"");
    private static final Pattern STEP = Pattern.compile("data-step=\"(u\\d+)\"");

    @TempDir
    Path dir;

    @Test
    void scalarPageSteppedToTheEndShowsTheJsonGradient() throws Exception {
        JsonNode json = stepAndCompare("x*y + sin(x)", "x=1.5,y=-2");
        assertEquals(-1.929262798, json.get("gradient").get("x").asDouble(), 1e-9);
        assertEquals(1.5, json.get("gradient").get("y").asDouble(), 0);
    }

    @Test
    void tensorPageSteppedToTheEndShowsTheJsonGradient() throws Exception {
        JsonNode json = stepAndCompare("sum(tanh(W@x + b))", "W=[[0.3,-1.2],[0.8,0.5],[-0.4,0.9]],x=[0.5,-1],b=[0.1,0.2,0.3]");
        assertEquals(List.of(3, 2), shape(json.get("gradient").get("W")));
    }

    @Test
    void orderTwoPageShowsTheJsonHessian() throws Exception {
        for (String[] args : List.of(new String[] {"x*y + sin(x)", "--at", "x=1.5,y=-2"},
                new String[] {"sum(tanh(W@x))", "--at", "W=[[0.3,-1.2],[0.8,0.5]],x=[0.5,-1]"})) {
            Path page = dir.resolve("hessian.html");
            ExplainCommandTest.run(concat(args, "--order", "2", "--html", page.toString()));
            JsonNode h = MAPPER.readTree(ExplainCommandTest.run(concat(args, "--order", "2", "--json"))).get("hessian");
            Map<String, Double> shown = new LinkedHashMap<>();
            for (Matcher m = HESSIAN.matcher(dumpDom(page, "")); m.find(); ) shown.put(m.group(1), Double.parseDouble(m.group(2)));
            Map<String, Double> expected = new LinkedHashMap<>();
            if (h.has("elements")) {
                for (int i = 0; i < h.get("elements").size(); i++) {
                    for (int j = 0; j < h.get("elements").size(); j++) {
                        expected.put(h.get("elements").get(i).asText() + "," + h.get("elements").get(j).asText(), h.get("matrix").get(i).get(j).asDouble());
                    }
                }
            } else {
                h.fieldNames().forEachRemaining(a -> h.get(a).fieldNames().forEachRemaining(b -> expected.put(a + "," + b, h.get(a).get(b).asDouble())));
            }
            assertFalse(expected.isEmpty());
            assertEquals(expected, shown, args[0]);
        }
    }

    @Test
    void networkPageShowsTheJsonDeltasAndGradientsLayerByLayer() throws Exception {
        Path page = dir.resolve("net/network.html");
        String text = ExplainCommandTest.run("--network", "2,3,2", "--html", page.toString());
        assertTrue(text.endsWith("wrote " + page + "\n"), text);
        JsonNode json = MAPPER.readTree(ExplainCommandTest.run("--network", "2,3,2", "--json"));
        Map<String, Double> expected = new LinkedHashMap<>();
        for (JsonNode layer : json.get("layers")) {
            int l = layer.get("layer").asInt();
            for (int i = 0; i < layer.get("delta").size(); i++) {
                expected.put("delta " + l + " " + i, layer.get("delta").get(i).asDouble());
                expected.put("b " + l + " " + i, layer.get("gradB").get(i).asDouble());
                for (int j = 0; j < layer.get("gradW").get(i).size(); j++) expected.put("w " + l + " " + i + "," + j, layer.get("gradW").get(i).get(j).asDouble());
            }
        }
        assertEquals((3 + 3 + 3 * 2) + (2 + 2 + 2 * 3), expected.size(), "layers 1 and 2: δ, ∂C/∂b and ∂C/∂w entries");
        assertTrue(text.contains(Explainer.format(json.get("layers").get(1).get("delta").get(0).asDouble())), "the text shows the same δ");

        String html = Files.readString(page);
        for (String external : List.of(" src=", " href=", "@import", "url(http", "<link")) {
            assertFalse(html.contains(external), "the page must not fetch anything, found " + external);
        }
        Matcher embedded = Pattern.compile("<script type=\"application/json\" id=\"data\">(.*?)</script>", Pattern.DOTALL).matcher(html);
        assertTrue(embedded.find());
        assertEquals(json, MAPPER.readTree(embedded.group(1)), "the page embeds the --json report");

        String dom = dumpDom(page, "");
        Map<String, Double> shown = new LinkedHashMap<>();
        for (Matcher m = NETWORK_CELL.matcher(dom); m.find(); ) {
            String kind = m.group(3) != null ? "w" : m.group(5).equals("delta") ? "delta" : "b";
            String index = m.group(3) != null ? m.group(2) + "," + m.group(3) : m.group(4);
            shown.put(kind + " " + m.group(1) + " " + index, Double.parseDouble(m.group(6)));
        }
        assertEquals(expected, shown);
        assertTrue(dom.contains("BP1: δ²") && dom.contains("BP2: δ¹") && dom.contains("BP3: ∂C/∂b¹") && dom.contains("BP4: ∂C/∂w²"), dom);
        assertFalse(dom.contains("BP1: δ¹"), "BP1 is the output layer's equation only");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void pageIsSelfContainedAndWrittenWhole() throws Exception {
        Path page = dir.resolve("sub/page.html");
        String text = ExplainCommandTest.run("x*y + sin(x)", "--at", "x=1.5,y=-2", "--html", page.toString());
        assertTrue(text.endsWith("wrote " + page + "\n"), text);
        String html = Files.readString(page);
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.endsWith("</html>\n"));
        for (String external : List.of(" src=", " href=", "@import", "url(http", "<link")) {
            assertFalse(html.contains(external), "the page must not fetch anything, found " + external);
        }
        assertTrue(html.contains("id=\"step\"") && html.contains("id=\"gradients\""));
        // --json stays one JSON object when --html is given too.
        MAPPER.readTree(ExplainCommandTest.run("x*y", "--at", "x=1,y=2", "--json", "--html", dir.resolve("b.html").toString()));
    }

    @Test
    void expressionTextCannotCloseTheDataScript() throws Exception {
        String html = HtmlPage.render((com.fasterxml.jackson.databind.node.ObjectNode) MAPPER.readTree(
                "{\"expression\":\"</script><b>x\",\"value\":1,\"gradient\":{},\"nodes\":[]}"));
        assertEquals(2, html.split("</script>", -1).length - 1, "only the page's own two scripts close");
        assertFalse(html.contains("<b>x"));
    }

    /** Writes the page and the JSON, steps the page to the end in Chromium, and compares every displayed adjoint. */
    private JsonNode stepAndCompare(String expression, String at) throws Exception {
        Path page = dir.resolve("page.html");
        ExplainCommandTest.run(expression, "--at", at, "--html", page.toString());
        JsonNode json = MAPPER.readTree(ExplainCommandTest.run(expression, "--at", at, "--json"));

        assertTrue(adjoints(dumpDom(page, "")).isEmpty(), "no adjoint is shown before the first step");
        String dom = dumpDom(page, "#autostep");

        List<String> expectedOrder = new ArrayList<>();
        Map<String, String> variableNode = new LinkedHashMap<>();
        for (JsonNode n : json.get("nodes")) {
            expectedOrder.add(0, n.get("id").asText());
            if (n.has("variable")) variableNode.put(n.get("variable").asText(), n.get("id").asText());
        }
        List<String> steps = new ArrayList<>();
        for (Matcher m = STEP.matcher(dom); m.find(); ) steps.add(m.group(1));
        assertEquals(expectedOrder, steps, "the sweep runs in reverse creation order");

        assertEquals(new java.util.HashSet<>(expectedOrder.subList(0, 2)), adjoints(dumpDom(page, "#step=2")).keySet(),
                "each press of step shows one more adjoint, in sweep order");
        Map<String, JsonNode> shown = adjoints(dom);
        assertEquals(expectedOrder.size(), shown.size(), dom);
        for (JsonNode n : json.get("nodes")) {
            assertEquals(flat(n.get("adjoint")), flat(shown.get(n.get("id").asText())), "adjoint of " + n.get("id"));
        }
        Map<String, JsonNode> panel = new LinkedHashMap<>();
        for (Matcher m = GRADIENT.matcher(dom); m.find(); ) panel.put(m.group(1), MAPPER.readTree(m.group(2)));
        assertEquals(variableNode.keySet(), panel.keySet());
        for (Map.Entry<String, String> v : variableNode.entrySet()) {
            List<Double> expected = flat(json.get("gradient").get(v.getKey()));
            assertEquals(expected, flat(shown.get(v.getValue())), "displayed adjoint of " + v.getKey());
            assertEquals(expected, flat(panel.get(v.getKey())), "gradient panel entry of " + v.getKey());
        }
        return json;
    }

    private static Map<String, JsonNode> adjoints(String dom) throws IOException {
        Map<String, JsonNode> shown = new LinkedHashMap<>();
        for (Matcher m = ADJOINT.matcher(dom); m.find(); ) shown.put(m.group(1), MAPPER.readTree(m.group(2)));
        return shown;
    }

    private static List<Double> flat(JsonNode n) {
        List<Double> out = new ArrayList<>();
        if (n.isArray()) n.forEach(e -> out.addAll(flat(e)));
        else out.add(n.asDouble());
        return out;
    }

    private static List<Integer> shape(JsonNode n) {
        List<Integer> s = new ArrayList<>();
        for (JsonNode e = n; e.isArray(); e = e.get(0)) s.add(e.size());
        return s;
    }

    private String dumpDom(Path page, String fragment) throws Exception {
        return org.deltagrad.cli.HeadlessChromium.dumpDom(dir, page, fragment);
    }
}
