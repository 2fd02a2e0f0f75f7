package org.deltagrad.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class FdVsBackpropCommandTest {

    private static String run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new FdVsBackpropCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute(args), err.toString());
        return out.toString();
    }

    @Test
    void tinyNetworksReportFiniteDifferencesSlowerThanBackprop() throws Exception {
        JsonNode j = new ObjectMapper().readTree(run("--layers", "6,4,3", "--sizes", "4,8", "--json"));
        assertEquals(2, j.get("rows").size());
        JsonNode small = j.get("rows").get(0), large = j.get("rows").get(1);
        assertEquals("[6,4,3]", small.get("sizes").toString());
        assertEquals(6 * 4 + 4 + 4 * 3 + 3, small.get("parameters").asInt());
        assertEquals(6 * 8 + 8 + 8 * 3 + 3, large.get("parameters").asInt());
        for (JsonNode row : j.get("rows")) {
            assertTrue(row.get("fdOverBackprop").asDouble() > 1, row.toString());
            assertTrue(row.get("backpropOverForward").asDouble() > 0, row.toString());
            assertFalse(row.get("fdExtrapolated").asBoolean());
            assertTrue(row.get("maxAbsDifference").asDouble() < 1e-8, row.toString());
        }
    }

    @Test
    void largeNetworksAreExtrapolatedFromASampleAndSaySo() {
        String text = run("--layers", "20,5,4", "--sizes", "5", "--samples", "10");
        assertTrue(text.contains("  20-5-4  "), text);
        assertTrue(text.contains("* extrapolated: finite differences timed on 10 random parameters"), text);
    }
}
