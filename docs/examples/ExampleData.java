import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Example data for the README's "Your own data", the same on every machine (java.util.Random's algorithm is fixed):
 * <pre>
 * java docs/examples/ExampleData.java penguins penguins.csv   # 300 rows: 4 measurements and a species
 * java docs/examples/ExampleData.java shapes shapes [N [SEED]]  # N (default 40) 32x32 PNGs per class: circle, cross, square
 * </pre>
 * The penguins are drawn around the per-species means and spreads of the Palmer penguins data (Gorman et al.,
 * 2014), on very different scales (grams beside millimetres): what standardisation is for.
 */
public class ExampleData {
    public static void main(String[] args) throws IOException {
        if (args.length < 2) throw new IllegalArgumentException("usage: ExampleData penguins FILE.csv | shapes DIR [N [SEED]]");
        Path target = Path.of(args[1]);
        if (args[0].equals("penguins")) penguins(target);
        else if (args[0].equals("shapes")) {
            shapes(target, args.length > 2 ? Integer.parseInt(args[2]) : 40, args.length > 3 ? Long.parseLong(args[3]) : 1);
        }
        else throw new IllegalArgumentException("unknown example '" + args[0] + "'");
    }

    static void penguins(Path file) throws IOException {
        String[] species = {"Adelie", "Chinstrap", "Gentoo"};
        double[][] mean = {{38.8, 18.3, 190, 3700}, {48.8, 18.4, 196, 3733}, {47.5, 15.0, 217, 5076}};
        double[][] sd = {{2.7, 1.2, 6.5, 460}, {3.3, 1.1, 7.1, 380}, {3.1, 1.0, 6.5, 500}};
        Random rng = new Random(7);
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(file))) {
            out.println("bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,species");
            for (int i = 0; i < 300; i++) {
                int k = i % 3;
                double[] v = new double[4];
                for (int j = 0; j < 4; j++) v[j] = mean[k][j] + sd[k][j] * rng.nextGaussian();
                out.printf(Locale.ROOT, "%.1f,%.1f,%.0f,%.0f,%s%n", v[0], v[1], v[2], v[3], species[k]);
            }
        }
    }

    static void shapes(Path dir, int perClass, long seed) throws IOException {
        String[] classes = {"circle", "cross", "square"};
        Random rng = new Random(seed);
        for (String c : classes) Files.createDirectories(dir.resolve(c));
        for (int i = 0; i < perClass; i++) {
            for (String c : classes) {
                BufferedImage img = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = img.createGraphics();
                g.setColor(new Color(rng.nextInt(40), rng.nextInt(40), rng.nextInt(40))); // a dark background
                g.fillRect(0, 0, 32, 32);
                g.setColor(Color.getHSBColor(rng.nextFloat(), 0.7f, 1f)); // a bright shape of any hue
                int r = 7 + rng.nextInt(5), x = 16 + rng.nextInt(5) - 2, y = 16 + rng.nextInt(5) - 2;
                switch (c) {
                    case "circle" -> g.fillOval(x - r, y - r, 2 * r, 2 * r);
                    case "square" -> g.fillRect(x - r, y - r, 2 * r, 2 * r);
                    default -> {
                        g.setStroke(new BasicStroke(4));
                        g.drawLine(x - r, y, x + r, y);
                        g.drawLine(x, y - r, x, y + r);
                    }
                }
                g.dispose();
                ImageIO.write(img, "png", dir.resolve(c).resolve(String.format(Locale.ROOT, "%03d.png", i + 1)).toFile());
            }
        }
    }
}
