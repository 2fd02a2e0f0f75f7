package org.deltagrad.cli;

import org.deltagrad.io.AtomicFiles;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * PNG charts (JFreeChart, headless): training curves, decision regions of a 2-D classifier, and
 * stacked per-layer diagnostics. Files are written atomically; parent directories are created.
 *
 * <p>A series is a {@code double[n][2]} of (x, y) points, e.g. (epoch, loss); series keep the
 * order of the Map they come in, so pass a LinkedHashMap.
 */
public final class Plots {
    static {
        // Charts need no display; without this, AWT may try to reach an X server.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    public static final int DEFAULT_WIDTH = 800;
    public static final int DEFAULT_HEIGHT = 500;

    // Tableau 10: distinct hues that stay tellable apart when lightened for region backgrounds.
    private static final Color[] PALETTE = {
        new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759), new Color(0x76B7B2), new Color(0x59A14F),
        new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7), new Color(0x9C755F), new Color(0xBAB0AC),
    };
    private static final Color GRID = new Color(0xDDDDDD);
    // One marker shape for all series: colors tell series apart, and stay the same across panels.
    private static final Shape MARKER = new Ellipse2D.Double(-3, -3, 6, 6);

    /** One panel of {@link #multiPanel}: its y-axis label and its series. */
    public record Panel(String yLabel, Map<String, double[][]> series) {
    }

    private Plots() {
    }

    /** The color of series or class {@code index}, cycling through a 10-color palette. */
    public static Color color(int index) {
        return PALETTE[Math.floorMod(index, PALETTE.length)];
    }

    /** Line chart of {@code series} (e.g. "train loss", "test loss" per epoch), default size. */
    public static void lineChart(Path png, String title, String xLabel, String yLabel,
            Map<String, double[][]> series) throws IOException {
        lineChart(png, title, xLabel, yLabel, series, DEFAULT_WIDTH, DEFAULT_HEIGHT);
    }

    /** Line chart of {@code series}, {@code width} x {@code height} pixels. */
    public static void lineChart(Path png, String title, String xLabel, String yLabel,
            Map<String, double[][]> series, int width, int height) throws IOException {
        Map<String, Color> colors = seriesColors(List.of(series));
        XYPlot plot = linePlot(yLabel, series, colors);
        plot.setDomainAxis(xAxis(xLabel, List.of(series)));
        write(png, new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, series.size() > 1), width, height);
    }

    /**
     * Panels stacked vertically over one shared x axis, e.g. per epoch: fraction of saturated
     * units per layer, gradient norm per layer. A series name keeps its color in every panel, and
     * appears once in the legend. Height defaults to 250 pixels per panel plus room for titles.
     */
    public static void multiPanel(Path png, String title, String xLabel, List<Panel> panels) throws IOException {
        multiPanel(png, title, xLabel, panels, DEFAULT_WIDTH, 100 + 250 * panels.size());
    }

    /** Like {@link #multiPanel(Path, String, String, List)}, {@code width} x {@code height} pixels. */
    public static void multiPanel(Path png, String title, String xLabel, List<Panel> panels,
            int width, int height) throws IOException {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("multiPanel needs at least one panel");
        }
        List<Map<String, double[][]>> all = panels.stream().map(Panel::series).toList();
        Map<String, Color> colors = seriesColors(all);
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(xAxis(xLabel, all));
        combined.setGap(12);
        for (Panel panel : panels) {
            combined.add(linePlot(panel.yLabel(), panel.series(), colors), 1);
        }
        // Each subplot contributes its own copy of a series to the legend; keep the first of each name.
        LegendItemCollection legend = new LegendItemCollection();
        Set<String> seen = new HashSet<>();
        for (Iterator<?> it = combined.getLegendItems().iterator(); it.hasNext(); ) {
            LegendItem item = (LegendItem) it.next();
            if (seen.add(item.getLabel())) {
                legend.add(item);
            }
        }
        combined.setFixedLegendItems(legend);
        write(png, new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, combined, colors.size() > 1), width, height);
    }

    /** {@link #decisionRegions(Path, String, double, double, double, double, int[][], double[][], int[], int, int)} at 700 x 600. */
    public static void decisionRegions(Path png, String title, double xmin, double xmax, double ymin, double ymax,
            int[][] classGrid, double[][] points, int[] labels) throws IOException {
        decisionRegions(png, title, xmin, xmax, ymin, ymax, classGrid, points, labels, 700, 600);
    }

    /**
     * The regions a 2-D classifier assigns to each class, in light colors, with the labelled points
     * on top in the same hues. {@code classGrid[r][c]} is the class predicted at the centre of cell
     * (r, c) of a rows x cols grid over the rectangle; row 0 is at the bottom ({@code ymin}),
     * column 0 at the left ({@code xmin}) — exactly the cells of {@link #gridCenters}.
     * {@code points[i]} = (x, y) has class {@code labels[i]}; {@code points} may be empty.
     */
    public static void decisionRegions(Path png, String title, double xmin, double xmax, double ymin, double ymax,
            int[][] classGrid, double[][] points, int[] labels, int width, int height) throws IOException {
        if (!(xmin < xmax && ymin < ymax)) {
            throw new IllegalArgumentException("empty rectangle x " + xmin + ".." + xmax + ", y " + ymin + ".." + ymax);
        }
        if (points.length != labels.length) {
            throw new IllegalArgumentException(points.length + " points but " + labels.length + " labels");
        }
        int rows = classGrid.length;
        int cols = rows == 0 ? 0 : classGrid[0].length;
        if (rows == 0 || cols == 0) {
            throw new IllegalArgumentException("classGrid is empty");
        }
        double[][] centers = gridCenters(xmin, xmax, ymin, ymax, rows, cols);
        double[][] xyz = new double[3][rows * cols];
        int classes = 0;
        for (int r = 0; r < rows; r++) {
            if (classGrid[r].length != cols) {
                throw new IllegalArgumentException("classGrid row " + r + " has " + classGrid[r].length
                        + " cells, row 0 has " + cols);
            }
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                xyz[0][i] = centers[i][0];
                xyz[1][i] = centers[i][1];
                xyz[2][i] = classGrid[r][c];
                classes = Math.max(classes, classGrid[r][c] + 1);
            }
        }
        for (int label : labels) {
            classes = Math.max(classes, label + 1);
        }

        LookupPaintScale regionColors = new LookupPaintScale(0, Math.max(1, classes), Color.WHITE);
        for (int k = 0; k < classes; k++) {
            regionColors.add(k, lighten(color(k), 0.65));
        }
        XYBlockRenderer regions = new XYBlockRenderer();
        regions.setBlockWidth((xmax - xmin) / cols);
        regions.setBlockHeight((ymax - ymin) / rows);
        regions.setPaintScale(regionColors);
        DefaultXYZDataset grid = new DefaultXYZDataset();
        grid.addSeries("regions", xyz);

        XYSeriesCollection byClass = new XYSeriesCollection();
        XYLineAndShapeRenderer dots = new XYLineAndShapeRenderer(false, true);
        Shape dot = new Ellipse2D.Double(-3.5, -3.5, 7, 7);
        for (int k = 0; k < classes; k++) {
            XYSeries s = new XYSeries("class " + k, false, true);
            for (int i = 0; i < points.length; i++) {
                if (labels[i] == k) {
                    s.add(points[i][0], points[i][1]);
                }
            }
            byClass.addSeries(s);
            dots.setSeriesPaint(k, color(k));
            dots.setSeriesShape(k, dot);
        }
        dots.setUseOutlinePaint(true);
        dots.setDefaultOutlinePaint(new Color(0x333333));
        dots.setDefaultOutlineStroke(new BasicStroke(0.8f));

        NumberAxis x = new NumberAxis("x1");
        x.setRange(xmin, xmax);
        NumberAxis y = new NumberAxis("x2");
        y.setRange(ymin, ymax);
        // Dataset 0 is drawn last (on top): points over regions.
        XYPlot plot = new XYPlot(byClass, x, y, dots);
        plot.setDataset(1, grid);
        plot.setRenderer(1, regions);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setBackgroundPaint(Color.WHITE);
        LegendItemCollection legend = new LegendItemCollection();
        for (int k = 0; k < classes; k++) {
            LegendItem item = new LegendItem("class " + k, null, null, null, dot, color(k));
            legend.add(item);
        }
        plot.setFixedLegendItems(legend);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.getLegend().setPosition(RectangleEdge.RIGHT);
        write(png, chart, width, height);
    }

    /**
     * Centres of a rows x cols grid over the rectangle, row-major ({@code [r * cols + c]} = (x, y)),
     * row 0 at {@code ymin}: predict these in one batch, then fill {@code classGrid[r][c]}.
     */
    public static double[][] gridCenters(double xmin, double xmax, double ymin, double ymax, int rows, int cols) {
        double dx = (xmax - xmin) / cols;
        double dy = (ymax - ymin) / rows;
        double[][] centers = new double[rows * cols][];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                centers[r * cols + c] = new double[] {xmin + (c + 0.5) * dx, ymin + (r + 0.5) * dy};
            }
        }
        return centers;
    }

    private static XYPlot linePlot(String yLabel, Map<String, double[][]> series, Map<String, Color> colors) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        int i = 0;
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            XYSeries s = new XYSeries(e.getKey(), false, true);
            for (double[] point : e.getValue()) {
                if (point.length != 2) {
                    throw new IllegalArgumentException("series '" + e.getKey() + "' has a point with "
                            + point.length + " coordinates, expected (x, y)");
                }
                s.add(point[0], point[1]);
            }
            data.addSeries(s);
            renderer.setSeriesPaint(i, colors.get(e.getKey()));
            renderer.setSeriesStroke(i, new BasicStroke(2f));
            // Markers help to read a short curve, and only clutter a long one.
            renderer.setSeriesShapesVisible(i, s.getItemCount() <= 40);
            renderer.setSeriesShape(i, MARKER);
            i++;
        }
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(data, null, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(GRID);
        plot.setRangeGridlinePaint(GRID);
        plot.setOrientation(PlotOrientation.VERTICAL);
        return plot;
    }

    private static NumberAxis xAxis(String label, List<Map<String, double[][]>> seriesMaps) {
        NumberAxis x = new NumberAxis(label);
        x.setAutoRangeIncludesZero(false);
        boolean integral = seriesMaps.stream().flatMap(m -> m.values().stream())
                .flatMap(java.util.Arrays::stream).allMatch(p -> p.length > 0 && p[0] == Math.rint(p[0]));
        if (integral) {
            // Epochs: ticks at 1, 2, 5, ... never at 2.5.
            x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        }
        return x;
    }

    /** A color per distinct series name, in order of first appearance. */
    private static Map<String, Color> seriesColors(List<Map<String, double[][]>> seriesMaps) {
        Map<String, Color> colors = new LinkedHashMap<>();
        for (Map<String, double[][]> m : seriesMaps) {
            for (String name : m.keySet()) {
                colors.computeIfAbsent(name, n -> color(colors.size()));
            }
        }
        return colors;
    }

    private static Color lighten(Color c, double towardsWhite) {
        return new Color(
                (int) Math.round(c.getRed() + (255 - c.getRed()) * towardsWhite),
                (int) Math.round(c.getGreen() + (255 - c.getGreen()) * towardsWhite),
                (int) Math.round(c.getBlue() + (255 - c.getBlue()) * towardsWhite));
    }

    private static void write(Path png, JFreeChart chart, int width, int height) throws IOException {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("bad image size " + width + "x" + height);
        }
        chart.setBackgroundPaint(Color.WHITE);
        AtomicFiles.write(png, out -> ChartUtils.writeChartAsPNG(out, chart, width, height));
    }
}
