package org.deltagrad.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.deltagrad.io.AtomicFiles;

/**
 * {@code train --diagnostics}: the per-layer figures of the diagnostics PNG as one self-contained page (inline
 * script, nothing fetched), a heat-mapped table per layer with one row per epoch. It embeds the report's
 * {@code epochs} exactly as report.json holds them, so its numbers are the report's numbers.
 */
final class DiagnosticsPage {
    private DiagnosticsPage() {}

    static void write(Path file, String title, List<?> epochs) throws IOException {
        // "<" only occurs inside JSON strings, where \u003c means the same; it keeps "</script>" out of the data.
        String data = Json.toJson(epochs).replace("<", "\\u003c");
        String page = TEMPLATE.replace("%TITLE%", title.replace("&", "&amp;").replace("<", "&lt;")).replace("%DATA%", data);
        AtomicFiles.write(file, out -> out.write(page.getBytes(StandardCharsets.UTF_8)));
    }

    private static final String TEMPLATE = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>%TITLE%</title>
            <style>
            body{font-family:sans-serif;margin:12px;color:#222} h1{font-size:18px} h2{font-size:15px;margin:14px 0 4px}
            table{border-collapse:collapse;font-family:monospace;font-size:12px} td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
            </style></head><body>
            <h1>%TITLE%</h1>
            <p>Per layer and epoch: mean |δ| (BP1/BP2), the norms of ∂C/∂w (BP4) and ∂C/∂b (BP3), and the fraction of
            saturated units (activation derivative below 0.01). Each column is shaded from white (0) to red (its largest
            value in that layer); hover a cell for its full value.</p>
            <div id="layers"></div>
            <script type="application/json" id="data">%DATA%</script>
            <script>
            "use strict";
            const E = JSON.parse(document.getElementById("data").textContent).filter(e => e.diagnostics);
            const METRICS = [["mean_abs_delta", "mean |δ|"], ["weight_grad_norm", "|∂C/∂w|"],
                             ["bias_grad_norm", "|∂C/∂b|"], ["saturated_fraction", "saturated"]];
            const host = document.getElementById("layers");
            function el(tag, attrs, parent) {
              const e = document.createElement(tag);
              for (const k in attrs) e.setAttribute(k, attrs[k]);
              parent.appendChild(e);
              return e;
            }
            (E.length ? E[0].diagnostics : []).forEach((_, li) => {
              const layer = E[0].diagnostics[li].layer;
              const name = E[0].diagnostics[li].name;
              el("h2", {}, host).textContent = "layer " + layer + (name ? " (" + name + ")" : "");
              const table = el("table", {"data-layer": layer}, host);
              const head = el("tr", {}, table);
              el("th", {}, head).textContent = "epoch";
              METRICS.forEach(m => el("th", {}, head).textContent = m[1]);
              // NaN (no saturation figure for this activation) arrives as the string "NaN" and shows as "—".
              const top = METRICS.map(m => Math.max(0, ...E.map(e => Number(e.diagnostics[li][m[0]])).filter(v => isFinite(v))));
              E.forEach(e => {
                const tr = el("tr", {}, table);
                el("td", {}, tr).textContent = e.epoch;
                METRICS.forEach((m, k) => {
                  const v = Number(e.diagnostics[li][m[0]]);
                  const t = isFinite(v) && top[k] > 0 ? Math.min(1, Math.abs(v) / top[k]) : 0, c = Math.round(255 * (1 - t));
                  const td = el("td", {"data-layer": layer, "data-epoch": e.epoch, "data-metric": m[0], "data-value": String(v),
                    title: String(v), style: `background:rgb(255,${c},${c})`}, tr);
                  td.textContent = isFinite(v) ? String(Number(v.toPrecision(4))) : "—";
                });
              });
            });
            </script>
            </body></html>
            """;
}
