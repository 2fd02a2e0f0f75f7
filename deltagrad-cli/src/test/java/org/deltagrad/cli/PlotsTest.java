package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {
    @TempDir
    Path dir;

    /** Set -Ddeltagrad.plots.dir=/some/dir to keep the PNGs and look at them. */
    private Path out(String name) {
        String keep = System.getProperty("deltagrad.plots.dir");
        return (keep == null ? dir : Path.of(keep)).resolve(name);
    }

    private static BufferedImage readPng(Path png) throws IOException {
        byte[] bytes = Files.readAllBytes(png);
        assertEquals((byte) 0x89, bytes[0]);
        assertEquals("PNG", new String(bytes, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
        return ImageIO.read(png.toFile());
    }

    static double[][] curve(int epochs, double start, double rate) {
        double[][] xy = new double[epochs][];
        for (int e = 0; e < epochs; e++) {
            xy[e] = new double[] {e + 1, start * Math.exp(-rate * e) + 0.05};
        }
        return xy;
    }

    @Test
    void lineChartHasRequestedSize() throws IOException {
        Map<String, double[][]> series = new LinkedHashMap<>();
        series.put("train loss", curve(20, 0.7, 0.25));
        series.put("test loss", curve(20, 0.75, 0.18));
        Path png = out("loss.png");
        Plots.lineChart(png, "Loss", "epoch", "cross-entropy", series, 640, 400);
        BufferedImage image = readPng(png);
        assertEquals(640, image.getWidth());
        assertEquals(400, image.getHeight());

        Path defaultSize = out("loss-default.png");
        Plots.lineChart(defaultSize, "Loss", "epoch", "loss", Map.of("loss", curve(3, 1, 1)));
        assertEquals(Plots.DEFAULT_WIDTH, readPng(defaultSize).getWidth());
    }

    @Test
    void decisionRegionsColorsEachClass() throws IOException {
        int rows = 60;
        int cols = 80;
        double[][] centers = Plots.gridCenters(-2, 2, -1.5, 1.5, rows, cols);
        int[][] grid = new int[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double[] p = centers[r * cols + c];
                grid[r][c] = p[0] * p[0] + p[1] * p[1] < 1 ? 0 : (p[1] > 0 ? 1 : 2);
            }
        }
        Random random = new Random(1);
        int n = 150;
        double[][] points = new double[n][];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            points[i] = new double[] {random.nextDouble() * 4 - 2, random.nextDouble() * 3 - 1.5};
            double[] p = points[i];
            labels[i] = p[0] * p[0] + p[1] * p[1] < 1 ? 0 : (p[1] > 0 ? 1 : 2);
        }
        Path png = out("regions.png");
        Plots.decisionRegions(png, "Decision regions", -2, 2, -1.5, 1.5, grid, points, labels, 600, 500);
        BufferedImage image = readPng(png);
        assertEquals(600, image.getWidth());
        assertEquals(500, image.getHeight());
        // Near the middle of the plot area lies the disc of class 0, tinted, not white.
        assertNotEquals(0xFFFFFF, image.getRGB(300, 250) & 0xFFFFFF);
    }

    @Test
    void gridCentersAreRowMajorFromBottomLeft() {
        double[][] c = Plots.gridCenters(0, 4, 0, 2, 2, 4);
        assertEquals(8, c.length);
        assertEquals(0.5, c[0][0]);
        assertEquals(0.5, c[0][1]);
        assertEquals(3.5, c[3][0]);
        assertEquals(1.5, c[4][1]);
    }

    @Test
    void multiPanelStacksPanels() throws IOException {
        Map<String, double[][]> saturated = new LinkedHashMap<>();
        Map<String, double[][]> gradNorm = new LinkedHashMap<>();
        for (int layer = 1; layer <= 3; layer++) {
            saturated.put("layer " + layer, curve(30, 0.1 * layer, -0.02 * layer));
            gradNorm.put("layer " + layer, curve(30, 1.0 / layer, 0.1));
        }
        Path png = out("layers.png");
        Plots.multiPanel(png, "Per-layer diagnostics", "epoch",
                List.of(new Plots.Panel("saturated fraction", saturated), new Plots.Panel("gradient norm", gradNorm)));
        BufferedImage image = readPng(png);
        assertEquals(Plots.DEFAULT_WIDTH, image.getWidth());
        assertEquals(100 + 2 * 250, image.getHeight());
    }

    @Test
    void rejectsBadInput() {
        Path png = dir.resolve("bad.png");
        assertThrows(IllegalArgumentException.class, () -> Plots.lineChart(png, "t", "x", "y",
                Map.of("s", new double[][] {{1, 2, 3}})));
        assertThrows(IllegalArgumentException.class, () -> Plots.decisionRegions(png, "t", 0, 1, 0, 1,
                new int[][] {{0, 1}, {0}}, new double[0][], new int[0]));
        assertThrows(IllegalArgumentException.class, () -> Plots.decisionRegions(png, "t", 0, 1, 0, 1,
                new int[][] {{0}}, new double[][] {{0, 0}}, new int[0]));
    }
}
