package org.deltagrad.cli.explain;

import java.io.IOException;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code explain --network SIZES --html FILE}: one self-contained page (inline SVG and script, nothing fetched)
 * showing BP1–BP4 layer by layer: δˡ as a heat strip, ∂C/∂wˡ as a heat map and ∂C/∂bˡ beside it. The page
 * embeds the very JSON {@code --json} prints, so its numbers are the report's numbers.
 */
final class NetworkHtmlPage {
    private NetworkHtmlPage() {}

    static void write(Path file, ObjectNode report) throws IOException {
        HtmlPage.writePage(file, TEMPLATE.replace("%DATA%", HtmlPage.embedded(report)));
    }

    private static final String TEMPLATE = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>explain --network: BP1–BP4</title>
            <style>
            body{font-family:sans-serif;margin:12px;color:#222}
            h1{font-size:18px;margin:0 0 6px} h2{font-size:15px;margin:14px 0 4px} h3{font-size:13px;margin:4px 0}
            .layer{border:1px solid #ccc;padding:6px;margin:8px 0} .row{display:flex;gap:28px;flex-wrap:wrap}
            .eq{font-family:monospace;font-size:13px} svg text{font-size:10px;font-family:monospace}
            #legend{font-family:monospace;font-size:12px}
            </style></head><body>
            <h1 id="title"></h1>
            <div id="summary" class="eq"></div>
            <div id="legend"></div>
            <div id="layers"></div>
            <script type="application/json" id="data">%DATA%</script>
            <script>
            "use strict";
            const D = JSON.parse(document.getElementById("data").textContent);
            const NS = "http://www.w3.org/2000/svg", CELL = 30;
            const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
            function sup(n) { return String(n).split("").map(c => SUP[+c]).join(""); }
            function num(x) { return String(Number(x.toPrecision(6))); }
            function el(tag, attrs, parent, ns) {
              const e = ns ? document.createElementNS(NS, tag) : document.createElement(tag);
              for (const k in attrs) e.setAttribute(k, attrs[k]);
              if (parent) parent.appendChild(e);
              return e;
            }
            // One symmetric colour scale for the whole page, so cells of different layers compare directly.
            let M = 0;
            D.layers.forEach(L => { L.delta.concat(L.gradB, ...L.gradW).forEach(v => M = Math.max(M, Math.abs(v))); });
            if (M === 0) M = 1;
            function colour(v) {
              const t = Math.min(1, Math.abs(v) / M), c = Math.round(255 * (1 - t));
              return v >= 0 ? `rgb(255,${c},${c})` : `rgb(${c},${c},255)`;
            }
            // A column of cells, or a matrix when rows are arrays; each cell carries its value for readers and tests.
            function heat(parent, rows, attrs) {
              const m = rows.map(r => Array.isArray(r) ? r : [r]);
              const svg = el("svg", {width: m[0].length * CELL + 2, height: m.length * CELL + 2}, parent, true);
              m.forEach((r, i) => r.forEach((v, j) => {
                const g = el("g", attrs(i, j, v), svg, true);
                el("rect", {x: 1 + j * CELL, y: 1 + i * CELL, width: CELL, height: CELL, fill: colour(v), stroke: "#666"}, g, true);
                el("title", {}, g, true).textContent = num(v);
              }));
              return svg;
            }
            document.getElementById("title").textContent =
              "network " + D.network.join("-") + " (sigmoid, quadratic cost), seed " + D.seed + ": BP1–BP4 layer by layer";
            document.getElementById("summary").textContent = "x = [" + D.x.map(num).join(", ") + "], y = [" +
              D.y.map(num).join(", ") + "], cost C = " + num(D.value) + ", worst check difference " + D.check.max.toExponential(1);
            const legend = document.getElementById("legend");
            legend.append("colour: ");
            const lg = el("svg", {width: 5 * CELL, height: 14}, legend, true);
            [-1, -0.5, 0, 0.5, 1].forEach((t, i) => el("rect", {x: i * CELL, y: 0, width: CELL, height: 14, fill: colour(t * M), stroke: "#666"}, lg, true));
            legend.append(" from −" + num(M) + " (blue) through 0 (white) to +" + num(M) + " (red); hover a cell for its value");
            const last = D.layers.length;
            const host = document.getElementById("layers");
            D.layers.forEach(L => {
              const l = L.layer, s = sup(l), p = sup(l - 1), n = sup(l + 1);
              const box = el("div", {class: "layer", "data-layer": l}, host);
              el("h2", {}, box).textContent = "layer " + l + (l === last ? " (output)" : " (hidden)") + ", " + L.delta.length + " neurons";
              const row = el("div", {class: "row"}, box);
              const d = el("div", {}, row);
              el("h3", {class: "eq"}, d).textContent = l === last
                ? "BP1: δ" + s + " = (a" + s + " − y) ⊙ σ′(z" + s + ")"
                : "BP2: δ" + s + " = ((w" + n + ")ᵀ δ" + n + ") ⊙ σ′(z" + s + ")";
              heat(d, L.delta, (i, j, v) => ({"data-layer": l, "data-unit": i, "data-delta": v}));
              const w = el("div", {}, row);
              el("h3", {class: "eq"}, w).textContent = "BP4: ∂C/∂w" + s + " = δ" + s + " (a" + p + ")ᵀ";
              heat(w, L.gradW, (i, j, v) => ({"data-layer": l, "data-row": i, "data-col": j, "data-grad-w": v}));
              const b = el("div", {}, row);
              el("h3", {class: "eq"}, b).textContent = "BP3: ∂C/∂b" + s + " = δ" + s;
              heat(b, L.gradB, (i, j, v) => ({"data-layer": l, "data-unit": i, "data-grad-b": v}));
            });
            </script>
            </body></html>
            """;
}
