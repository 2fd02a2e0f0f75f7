package org.deltagrad.cli.explain;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.deltagrad.io.AtomicFiles;

/**
 * {@code explain --html}: one self-contained page (inline SVG and script, nothing fetched) drawing G and B side
 * by side, with a "step" button that replays the backward sweep. The page embeds the very JSON {@code --json}
 * prints, so its numbers are the report's numbers.
 */
final class HtmlPage {
    private HtmlPage() {}

    static void write(Path file, ObjectNode report) throws IOException {
        writePage(file, render(report));
    }

    static String render(ObjectNode report) throws IOException {
        String title = report.path("expression").asText().replace("&", "&amp;").replace("<", "&lt;");
        return TEMPLATE.replace("%TITLE%", title).replace("%DATA%", embedded(report));
    }

    /** The report as the text of a script element. */
    static String embedded(ObjectNode report) throws IOException {
        // "<" only occurs inside JSON strings, where \u003c means the same; it keeps "</script>" out of the data.
        return new ObjectMapper().writeValueAsString(report).replace("<", "\\u003c");
    }

    /** Whole or not at all: a reader never sees half a page. */
    static void writePage(Path file, String html) throws IOException {
        AtomicFiles.write(file, html.getBytes(StandardCharsets.UTF_8));
    }

    private static final String TEMPLATE = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>explain %TITLE%</title>
            <style>
            body{font-family:sans-serif;margin:12px;color:#222}
            h1{font-size:18px;margin:0 0 6px} h2{font-size:14px;margin:4px 0}
            .graphs{display:flex;gap:12px} .graphs>div{flex:1;border:1px solid #ccc;padding:4px}
            svg{width:100%;height:auto} .node rect{fill:#f4f4f4;stroke:#555} .node text{font-size:11px;text-anchor:middle}
            .node.done rect{fill:#d8ecff} .node.current rect{fill:#ffd54f;stroke:#c60;stroke-width:2}
            .edge{stroke:#888;fill:none;marker-end:url(#arrow)} .edge.lit{stroke:#c60;stroke-width:2}
            .adj{fill:#0a4;font-weight:bold} #trace{font-family:monospace;font-size:12px;white-space:pre-wrap}
            #trace .current{background:#fff3c4} .panel{display:flex;gap:24px;margin:6px 0} button{font-size:14px}
            #gradients li,#summary li,#hessian{font-family:monospace} #hessian td{padding:0 6px;text-align:right}
            </style></head><body>
            <h1>f = %TITLE%</h1>
            <div class="panel"><div><h2>value</h2><ul id="summary"></ul></div>
            <div><h2>gradient</h2><ul id="gradients"></ul></div>
            <div id="hessian-panel" hidden><h2>Hessian (--order 2)</h2><table id="hessian"></table></div></div>
            <div><button id="step">step</button> <button id="reset">reset</button> <span id="status"></span></div>
            <div class="graphs"><div><h2>forward graph G (creation order)</h2><div id="g"></div></div>
            <div><h2>backward graph B (one node per node of G, edges reversed)</h2><div id="b"></div></div></div>
            <h2>backward sweep</h2><div id="trace"></div>
            <script type="application/json" id="data">%DATA%</script>
            <script>
            "use strict";
            const D = JSON.parse(document.getElementById("data").textContent);
            const nodes = D.nodes || [], byId = {};
            nodes.forEach(n => byId[n.id] = n);
            const order = nodes.slice().reverse();
            const NS = "http://www.w3.org/2000/svg";
            function count(v) { return Array.isArray(v) ? v.reduce((s, x) => s + count(x), 0) : 1; }
            function shapeOf(n) { return n.shape ? "[" + n.shape.join("×") + "]" : "scalar"; }
            function num(x) { return String(Number(x.toPrecision(6))); }
            function full(v) { return Array.isArray(v) ? "[" + v.map(full).join(", ") + "]" : num(v); }
            function flat(v, out) { if (Array.isArray(v)) v.forEach(x => flat(x, out)); else out.push(v); return out; }
            function dims(v) { return Array.isArray(v) ? [v.length].concat(dims(v[0])) : []; }
            function short(x) { return String(Number(x.toPrecision(3))); }
            // A node box holds about 17 characters: small tensors in full, larger ones as shape and range.
            function brief(v) {
              if (count(v) <= 2) return full(v);
              const f = flat(v, []);
              return "[" + dims(v).join("×") + "] " + short(Math.min(...f)) + "…" + short(Math.max(...f));
            }
            function el(tag, attrs, parent) {
              const e = document.createElementNS(NS, tag);
              for (const k in attrs) e.setAttribute(k, attrs[k]);
              if (parent) parent.appendChild(e);
              return e;
            }
            // Column = longest path from an input, so every edge of G points right.
            const depth = {}, columns = [];
            nodes.forEach(n => {
              depth[n.id] = Math.max(-1, ...n.inputs.filter(i => byId[i]).map(i => depth[i])) + 1;
              (columns[depth[n.id]] = columns[depth[n.id]] || []).push(n);
            });
            const W = 130, H = 70, BW = 104, BH = 44;
            const rows = Math.max(1, ...columns.map(c => c.length));
            function draw(host, backward) {
              if (nodes.length === 0) return;
              const svg = el("svg", {viewBox: "0 0 " + Math.max(1, columns.length) * W + " " + rows * H}, null);
              const defs = el("defs", {}, svg);
              const m = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto"}, defs);
              el("path", {d: "M0,0L10,5L0,10z", fill: "#888"}, m);
              const pos = {};
              columns.forEach((c, i) => c.forEach((n, j) => {
                const col = backward ? columns.length - 1 - i : i;
                pos[n.id] = {x: col * W + (W - BW) / 2, y: j * H + (H - BH) / 2 + (rows - c.length) * H / 2};
              }));
              nodes.forEach(n => n.inputs.filter(i => byId[i]).forEach(i => {
                const a = pos[backward ? n.id : i], b = pos[backward ? i : n.id];
                const left = a.x < b.x;
                el("path", {class: "edge", "data-from": backward ? n.id : i, "data-to": backward ? i : n.id,
                  d: "M" + (a.x + (left ? BW : 0)) + "," + (a.y + BH / 2) + "L" + (b.x + (left ? 0 : BW)) + "," + (b.y + BH / 2)}, svg);
              }));
              nodes.forEach(n => {
                const g = el("g", {class: "node", "data-id": n.id, transform: "translate(" + pos[n.id].x + "," + pos[n.id].y + ")"}, svg);
                el("title", {}, g).textContent = n.id + ": " + (n.variable ? "input " + n.variable : n.op) + "\\nshape " + shapeOf(n)
                  + "\\nvalue " + full(n.value) + "\\nadjoint ∂f/∂" + n.id + " = " + full(n.adjoint);
                el("rect", {width: BW, height: BH, rx: 6}, g);
                const label = backward ? "∂f/∂" + n.id + (n.variable ? " = ∂f/∂" + n.variable : "") : n.id + " " + (n.variable || n.op);
                el("text", {x: BW / 2, y: 14}, g).textContent = label;
                const t = el("text", {x: BW / 2, y: 30, class: backward ? "adj" : ""}, g);
                if (backward) t.setAttribute("data-node", n.id); else t.textContent = brief(n.value);
              });
              host.appendChild(svg);
            }
            draw(document.getElementById("g"), false);
            draw(document.getElementById("b"), true);
            function li(parent, text, attrs) {
              const e = document.createElement("li");
              e.textContent = text;
              for (const k in attrs) e.setAttribute(k, attrs[k]);
              document.getElementById(parent).appendChild(e);
            }
            li("summary", "f = " + full(D.value), {"data-value": JSON.stringify(D.value)});
            for (const v in D.gradient) li("gradients", "∂f/∂" + v + " = " + full(D.gradient[v]),
              {"data-variable": v, "data-gradient": JSON.stringify(D.gradient[v])});
            if (D.hessian) {
              // Scalar reports key the Hessian by variable; tensor reports list input elements and a matrix.
              const names = D.hessian.elements || Object.keys(D.hessian);
              const matrix = D.hessian.matrix || names.map(a => names.map(b => D.hessian[a][b]));
              const table = document.getElementById("hessian");
              const head = table.insertRow();
              head.insertCell().textContent = "";
              names.forEach(n => head.insertCell().textContent = n);
              matrix.forEach((row, i) => {
                const r = table.insertRow();
                r.insertCell().textContent = names[i];
                row.forEach((v, j) => {
                  const c = r.insertCell();
                  c.textContent = num(v);
                  c.setAttribute("data-hessian", names[i] + "," + names[j]);
                  c.setAttribute("data-value", JSON.stringify(v));
                });
              });
              document.getElementById("hessian-panel").hidden = false;
            }
            let k = 0;
            const stepButton = document.getElementById("step"), trace = document.getElementById("trace");
            function status() {
              document.getElementById("status").textContent = order.length === 0 ? "f is a constant: it has no variables to differentiate"
                : k < order.length
                ? "next: ∂f/∂" + order[k].id + " (" + k + " of " + order.length + " adjoints computed)"
                : "sweep done: all " + order.length + " adjoints computed";
              stepButton.disabled = k >= order.length;
            }
            function termText(n, t) {
              if (typeof t.consumerAdjoint === "number") return "∂f/∂" + t.consumer + "·∂" + t.consumer + "/∂" + n.id
                + " (= " + num(t.consumerAdjoint) + " · " + num(t.local) + ")";
              return "from " + t.consumer + ": " + t.rule + " → " + (count(t.contribution) <= 12 ? full(t.contribution) : brief(t.contribution))
                + (t.summedBackFrom ? " [broadcast: summed back from [" + t.summedBackFrom.join("×") + "]]" : "");
            }
            stepButton.addEventListener("click", () => {
              if (k >= order.length) return;
              const n = order[k++];
              document.querySelectorAll(".current").forEach(e => e.classList.remove("current"));
              document.querySelectorAll(".edge.lit").forEach(e => e.classList.remove("lit"));
              document.querySelectorAll('.node[data-id="' + n.id + '"]').forEach(e => e.classList.add("current", "done"));
              document.querySelectorAll('#b .edge[data-to="' + n.id + '"]').forEach(e => e.classList.add("lit"));
              const a = document.querySelector('#b text[data-node="' + n.id + '"]');
              a.textContent = brief(n.adjoint);
              a.setAttribute("data-adjoint", JSON.stringify(n.adjoint));
              const line = document.createElement("div");
              line.className = "current";
              line.setAttribute("data-step", n.id);
              let s = "∂f/∂" + n.id + (n.shape ? " " + shapeOf(n) : "") + " = ";
              if (n.terms.length === 0) s += full(n.adjoint) + (n === nodes[nodes.length - 1] ? "   (seed: f = " + n.id + ")" : "");
              else if (n.terms.length === 1) s += termText(n, n.terms[0]) + " = " + full(n.adjoint);
              else s += n.terms.map(t => termText(n, t)).join("\\n    + ") + "\\n    = " + full(n.adjoint)
                + "   [fan-out: " + n.id + " feeds " + n.consumers.join(", ") + "; the " + n.terms.length + " terms are summed here]";
              line.textContent = s;
              trace.querySelectorAll(".current").forEach(e => e.classList.remove("current"));
              trace.appendChild(line);
              status();
            });
            document.getElementById("reset").addEventListener("click", () => {
              k = 0;
              trace.textContent = "";
              document.querySelectorAll(".node").forEach(e => e.classList.remove("current", "done"));
              document.querySelectorAll(".edge.lit").forEach(e => e.classList.remove("lit"));
              document.querySelectorAll("#b text[data-node]").forEach(e => { e.textContent = ""; e.removeAttribute("data-adjoint"); });
              status();
            });
            status();
            // #autostep presses "step" until the sweep ends (for a headless browser's --dump-dom), #step=N N times.
            const press = /^#(?:autostep|step=(\\d+))$/.exec(location.hash);
            if (press) for (let i = press[1] ? Number(press[1]) : Infinity; i > 0 && !stepButton.disabled; i--) stepButton.click();
            </script></body></html>
            """;
}
