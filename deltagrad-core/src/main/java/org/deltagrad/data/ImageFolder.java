package org.deltagrad.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * A folder of images with one sub-folder per class, like torchvision's {@code ImageFolder}: the classes are the
 * sub-folders' names, sorted; a class's images are the files under its sub-folder (at any depth) whose names end in
 * .png, .jpg, .jpeg, .bmp or .gif, in path order; other files and hidden ones (a name starting with '.') are ignored.
 *
 * <p>Every image becomes one row: resized to height × width by bilinear interpolation (pixel centres aligned, as
 * PyTorch's {@code interpolate(mode="bilinear", align_corners=False)} without antialiasing), its pixels scaled to
 * [0, 1], as 3 RGB planes or 1 grey plane (0.299 R + 0.587 G + 0.114 B), NCHW; alpha is ignored.
 */
public final class ImageFolder {
    private ImageFolder() {}

    /** The file name endings read as images. */
    public static final List<String> EXTENSIONS = List.of("png", "jpg", "jpeg", "bmp", "gif");
    /** At most this many pixels in one image (8192 × 8192), checked before it is decoded. */
    public static final long MAX_PIXELS = 1L << 26;

    /** Images of different sizes and no size to resize them to: a caller may name its own option for one. */
    public static final class SizesDiffer extends DataException {
        private static final long serialVersionUID = 1L;

        SizesDiffer(String message) {
            super(message);
        }
    }

    /** One labelled image file. */
    private record Item(Path file, int label) {}

    /**
     * Reads {@code dir}; the test set is {@code testDir} (the same classes) or, if that is null, a stratified
     * {@code testFraction} of the images chosen by {@code seed}. {@code size} is [height, width], or null for the size of
     * the images when they all have one; {@code channels} is 1, 3, or null for 3 when any image has colour, else 1.
     */
    public static InputSpec.Prepared load(Path dir, Path testDir, int[] size, Integer channels, double testFraction, long seed) {
        List<String> classes = classes(dir);
        List<Item> items = items(dir, classes);
        List<Item> testItems = null;
        if (testDir != null) {
            List<String> testClasses = classes(testDir);
            if (!testClasses.equals(classes)) {
                throw new DataException(testDir + ": expected the classes of " + dir + " (" + String.join(", ", classes)
                        + "), found " + String.join(", ", testClasses));
            }
            testItems = items(testDir, classes);
        } else if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("ImageFolder: the test fraction must be in (0, 1), got " + testFraction);
        }
        int[] hw = size != null ? size.clone() : commonSize(dir, items, testItems);
        if (channels != null && channels != 1 && channels != 3) {
            throw new IllegalArgumentException("ImageFolder: channels must be 1 or 3, got " + channels);
        }
        List<Item> all = new ArrayList<>(items);
        if (testItems != null) all.addAll(testItems);
        long values = (long) all.size() * 3 * hw[0] * hw[1];
        if (values > Integer.MAX_VALUE - 8) {
            throw new DataException(dir + ": " + all.size() + " images of " + hw[0] + " x " + hw[1] + " pixels are more values than "
                    + "a Java array holds; use a smaller image size");
        }
        int plane = hw[0] * hw[1];
        // Every image at the chosen size, RGB, then the rows: checked against the heap before any image is decoded.
        float[] rgb = org.deltagrad.io.HeapLimit.allocate(2 * 4 * values, () -> new float[(int) values],
                why -> new DataException(dir + ": loading " + all.size() + " images of " + hw[0] + " x " + hw[1] + " pixels " + why
                        + ", or use a smaller image size"));
        boolean colour = false;
        for (int i = 0; i < all.size(); i++) {
            BufferedImage img = read(all.get(i).file());
            int[] px = argb(img);
            colour |= hasColour(px);
            System.arraycopy(resizedRgb(px, img.getHeight(), img.getWidth(), hw[0], hw[1]), 0, rgb, i * 3 * plane, 3 * plane);
        }
        int c = channels != null ? channels : colour ? 3 : 1;
        InputSpec spec = InputSpec.images(c, hw[0], hw[1], classes);
        int n = items.size();
        float[] x = new float[all.size() * c * plane];
        for (int i = 0; i < all.size(); i++) toChannels(rgb, i * 3 * plane, plane, c, x, i * c * plane);
        int[] y = all.stream().mapToInt(Item::label).toArray();
        int[] shape = {c, hw[0], hw[1]};
        Dataset whole = new Dataset(x, c * plane, y, classes.size(), classes, shape);
        if (testItems != null) {
            int[] train = java.util.stream.IntStream.range(0, n).toArray();
            int[] test = java.util.stream.IntStream.range(n, all.size()).toArray();
            return new InputSpec.Prepared(whole.subset(train), whole.subset(test), spec);
        }
        Dataset.Split split = whole.stratifiedSplit(testFraction, seed);
        return new InputSpec.Prepared(split.train(), split.validation(), spec);
    }

    /**
     * Image files prepared for a model of {@code spec}: {@code input} is one image file, a folder of images, or a folder
     * with one sub-folder per class of the model (then the rows are labelled; its classes may be fewer than the model's).
     */
    public static InputSpec.Rows rows(InputSpec spec, Path input) {
        List<Path> files = new ArrayList<>();
        int[] labels = null;
        if (Files.isDirectory(input)) {
            List<Path> direct = list(input).stream().filter(ImageFolder::isImage).toList();
            List<Path> folders = list(input).stream().filter(Files::isDirectory).toList();
            if (direct.isEmpty() && !folders.isEmpty()) {
                List<String> classes = spec.classes();
                for (Path f : folders) {
                    String name = f.getFileName().toString();
                    if (!classes.contains(name)) {
                        throw new DataException(f + ": \"" + name + "\" is not one of the model's classes (" + String.join(", ", classes)
                                + "); a folder of class sub-folders must use the training folder's names");
                    }
                }
                List<Item> items = items(input, classes.stream().filter(c -> Files.isDirectory(input.resolve(c))).toList(), classes);
                items.forEach(i -> files.add(i.file()));
                labels = items.stream().mapToInt(Item::label).toArray();
            } else {
                if (direct.isEmpty()) throw new DataException(input + ": no images (expected " + extensions() + " files)");
                files.addAll(direct);
            }
        } else if (Files.isRegularFile(input)) {
            files.add(input);
        } else {
            throw new DataException(input + ": no such file or folder");
        }
        int c = spec.channels(), plane = spec.height() * spec.width();
        float[] x = new float[files.size() * c * plane];
        for (int i = 0; i < files.size(); i++) pixels(read(files.get(i)), spec, x, i * c * plane);
        List<String> names = files.stream().map(f -> Files.isDirectory(input) ? input.relativize(f).toString() : f.toString()).toList();
        return new InputSpec.Rows(x, names, labels);
    }

    /** One image as a model of {@code spec} sees it, written at {@code offset} of {@code out}. */
    public static void pixels(BufferedImage img, InputSpec spec, float[] out, int offset) {
        int plane = spec.height() * spec.width();
        toChannels(resizedRgb(argb(img), img.getHeight(), img.getWidth(), spec.height(), spec.width()), 0, plane, spec.channels(), out, offset);
    }

    /** Decodes an image file with ImageIO; a file it cannot decode, or a huge one, is a {@link DataException} naming it. */
    public static BufferedImage read(Path file) {
        return withReader(file, reader -> {
            long width = reader.getWidth(0), height = reader.getHeight(0);
            if (width < 1 || height < 1 || width * height > MAX_PIXELS) {
                throw new DataException(file + ": image of " + width + " x " + height + " pixels; expected at least 1 x 1 and at most "
                        + MAX_PIXELS + " pixels");
            }
            return reader.read(0);
        });
    }

    /** What {@code use} makes of the file's ImageIO reader; a failure is a {@link DataException} naming the file. */
    private static <T> T withReader(Path file, ReaderUse<T> use) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new DataException(file + ": not a readable image (expected PNG, JPEG, GIF or BMP)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                return use.apply(reader);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            // The JDK's decoders report damaged files with IIOException, and some with runtime exceptions.
            if (e instanceof DataException d) throw d;
            throw new DataException(file + ": not a readable image (" + e.getMessage() + ")", e);
        }
    }

    @FunctionalInterface
    private interface ReaderUse<T> {
        T apply(ImageReader reader) throws IOException;
    }

    private static List<String> classes(Path dir) {
        if (!Files.isDirectory(dir)) throw new DataException(dir + ": no such folder");
        List<String> classes = list(dir).stream().filter(Files::isDirectory).map(p -> p.getFileName().toString()).toList();
        if (classes.isEmpty()) {
            throw new DataException(dir + ": no class folders; expected one sub-folder of images per class");
        }
        if (classes.size() < 2) {
            throw new DataException(dir + ": one class folder only (" + classes.get(0) + "); expected at least 2 classes to tell apart");
        }
        return classes;
    }

    private static List<Item> items(Path dir, List<String> classes) {
        return items(dir, classes, classes);
    }

    /** The images of each of {@code present} (sub-folders of dir), labelled by their index in {@code classes}. */
    private static List<Item> items(Path dir, List<String> present, List<String> classes) {
        List<Item> items = new ArrayList<>();
        for (String c : present) {
            Path folder = dir.resolve(c);
            List<Path> images;
            // Links are followed, as torchvision's os.walk(followlinks=True) does; a loop is an error naming it.
            try (Stream<Path> walk = Files.walk(folder, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
                images = walk.filter(p -> !hidden(folder.relativize(p))).filter(ImageFolder::isImage).sorted().toList();
            } catch (IOException | java.io.UncheckedIOException e) {
                throw new DataException(folder + ": cannot list (" + e.getMessage() + ")", e);
            }
            if (images.isEmpty()) throw new DataException(folder + ": no images in class folder \"" + c + "\" (expected " + extensions() + " files)");
            int label = classes.indexOf(c);
            for (Path p : images) items.add(new Item(p, label));
        }
        return items;
    }

    /** The visible entries of a folder, sorted by name. */
    private static List<Path> list(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new DataException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) if (part.toString().startsWith(".")) return true;
        return false;
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return Files.isRegularFile(p) && dot > 0 && EXTENSIONS.contains(name.substring(dot + 1));
    }

    private static String extensions() {
        return "." + String.join(", .", EXTENSIONS);
    }

    /** The size every image has (read from the headers), or an error naming two that differ. */
    private static int[] commonSize(Path dir, List<Item> items, List<Item> testItems) {
        List<Item> all = new ArrayList<>(items);
        if (testItems != null) all.addAll(testItems);
        int[] first = null;
        Path firstFile = null;
        for (Item item : all) {
            int[] hw = size(item.file());
            if (first == null) {
                first = hw;
                firstFile = item.file();
            } else if (first[0] != hw[0] || first[1] != hw[1]) {
                throw new SizesDiffer(dir + ": images differ in size (" + firstFile + " is " + first[1] + " x " + first[0] + ", "
                        + item.file() + " is " + hw[1] + " x " + hw[0] + " pixels, width x height); choose one size to resize them to");
            }
        }
        return first;
    }

    /** [height, width] from the image's header, without decoding its pixels. */
    private static int[] size(Path file) {
        return withReader(file, reader -> new int[] {reader.getHeight(0), reader.getWidth(0)});
    }

    private static boolean hasColour(int[] argb) {
        for (int p : argb) {
            int r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
            if (r != g || g != b) return true;
        }
        return false;
    }

    /**
     * The pixels as packed RGB, row-major. Grey images give their stored levels: getRGB would take a grey image's
     * levels for linear light and brighten them on the way to sRGB.
     */
    private static int[] argb(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        if (img.getColorModel().getColorSpace().getType() != ColorSpace.TYPE_GRAY) return img.getRGB(0, 0, w, h, null, 0, w);
        Raster raster = img.getRaster();
        double max = (1 << img.getColorModel().getComponentSize(0)) - 1;
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = (int) Math.round(raster.getSample(x, y, 0) * 255 / max);
                out[y * w + x] = v << 16 | v << 8 | v;
            }
        }
        return out;
    }

    /** Three planes R, G, B of height × width in [0, 1]: the image resized bilinearly, pixel centres aligned. */
    static float[] resizedRgb(int[] argb, int h0, int w0, int height, int width) {
        float[] out = new float[3 * height * width];
        int[] y0 = new int[height], y1 = new int[height], x0 = new int[width], x1 = new int[width];
        double[] wy = new double[height], wx = new double[width];
        taps(h0, height, y0, y1, wy);
        taps(w0, width, x0, x1, wx);
        for (int c = 0; c < 3; c++) {
            int shift = 16 - 8 * c;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    double top = channel(argb, y0[y] * w0 + x0[x], shift) * (1 - wx[x]) + channel(argb, y0[y] * w0 + x1[x], shift) * wx[x];
                    double bottom = channel(argb, y1[y] * w0 + x0[x], shift) * (1 - wx[x]) + channel(argb, y1[y] * w0 + x1[x], shift) * wx[x];
                    out[(c * height + y) * width + x] = (float) ((top * (1 - wy[y]) + bottom * wy[y]) / 255.0);
                }
            }
        }
        return out;
    }

    private static int channel(int[] argb, int i, int shift) {
        return (argb[i] >> shift) & 0xff;
    }

    /** For each output index, the two source indices and the weight of the second (edges clamped). */
    private static void taps(int in, int out, int[] lo, int[] hi, double[] weight) {
        double scale = (double) in / out;
        for (int i = 0; i < out; i++) {
            double src = Math.max(0, (i + 0.5) * scale - 0.5);
            lo[i] = Math.min((int) src, in - 1);
            hi[i] = Math.min(lo[i] + 1, in - 1);
            weight[i] = lo[i] == hi[i] ? 0 : src - lo[i];
        }
    }

    /** RGB planes at {@code from} into {@code channels} planes at {@code to}: a copy, or the grey level. */
    private static void toChannels(float[] rgb, int from, int plane, int channels, float[] out, int to) {
        if (channels == 3) {
            System.arraycopy(rgb, from, out, to, 3 * plane);
            return;
        }
        for (int i = 0; i < plane; i++) {
            out[to + i] = (float) (0.299 * rgb[from + i] + 0.587 * rgb[from + plane + i] + 0.114 * rgb[from + 2 * plane + i]);
        }
    }
}
