package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir
    Path dir;

    /** A grey PNG whose pixel (x, y) is {@code levels[y][x]}. */
    static Path grey(Path file, int[][] levels) throws IOException {
        BufferedImage img = new BufferedImage(levels[0].length, levels.length, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < levels.length; y++) for (int x = 0; x < levels[0].length; x++) img.getRaster().setSample(x, y, 0, levels[y][x]);
        return write(file, img);
    }

    /** An RGB PNG of one colour. */
    static Path rgb(Path file, int width, int height, int rgb) throws IOException {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) for (int x = 0; x < width; x++) img.setRGB(x, y, rgb);
        return write(file, img);
    }

    private static Path write(Path file, BufferedImage img) throws IOException {
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    private String message(Path data, Path test, int[] size) {
        return assertThrows(DataException.class, () -> ImageFolder.load(data, test, size, null, 0.5, 1)).getMessage();
    }

    @Test
    void greyFolderKeepsLevelsAndClassesAreSortedFolderNames() throws IOException {
        Path root = dir.resolve("grey");
        grey(root.resolve("zebra/1.png"), new int[][] {{0, 255}, {51, 102}});
        grey(root.resolve("zebra/2.png"), new int[][] {{255, 255}, {255, 255}});
        grey(root.resolve("apple/a.png"), new int[][] {{0, 0}, {0, 0}});
        grey(root.resolve("apple/b.png"), new int[][] {{0, 0}, {0, 51}});
        Files.writeString(root.resolve("apple/notes.txt"), "not an image");
        Files.writeString(root.resolve("apple/.hidden.png"), "hidden, and not an image either");
        Files.createDirectories(root.resolve(".cache"));
        InputSpec.Prepared p = ImageFolder.load(root, root, null, null, 0.5, 1);
        assertEquals(List.of("apple", "zebra"), p.train().classNames());
        assertEquals(InputSpec.images(1, 2, 2, List.of("apple", "zebra")), p.input(), "grey images: 1 channel, their own size");
        assertArrayEquals(new int[] {1, 2, 2}, p.train().imageShape());
        assertArrayEquals(new int[] {0, 0, 1, 1}, p.train().labels());
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, 0.2f, 0, 1, 0.2f, 0.4f, 1, 1, 1, 1}, p.train().features().toFloatArray(),
                1e-7f, "stored levels / 255, not brightened by a colour conversion");
    }

    @Test
    void colourMakesThreeChannelsNchwAndGreyCanBeAsked() throws IOException {
        Path root = dir.resolve("rgb");
        rgb(root.resolve("red/1.png"), 2, 1, 0xff0000);
        rgb(root.resolve("blue/1.png"), 2, 1, 0x0000ff);
        InputSpec.Prepared p = ImageFolder.load(root, root, null, null, 0.5, 1);
        assertEquals(3, p.input().channels());
        assertArrayEquals(new int[] {3, 1, 2}, p.train().imageShape());
        // blue first (sorted), then red: each as R plane, G plane, B plane.
        assertArrayEquals(new float[] {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0}, p.train().features().toFloatArray());
        InputSpec.Prepared g = ImageFolder.load(root, root, null, 1, 0.5, 1);
        float red = (float) (0.299 * 1), blue = (float) (0.114 * 1);
        assertArrayEquals(new float[] {blue, blue, red, red}, g.train().features().toFloatArray(), 1e-7f);
    }

    @Test
    void bilinearResizeMatchesPytorchWithoutAlignCorners() throws IOException {
        Path root = dir.resolve("resize");
        grey(root.resolve("a/1.png"), new int[][] {{0, 60}, {120, 180}});
        grey(root.resolve("b/1.png"), new int[][] {{0, 0, 0}, {0, 0, 0}});
        InputSpec.Prepared p = ImageFolder.load(root, root, new int[] {4, 4}, null, 0.5, 1);
        // torch.nn.functional.interpolate(torch.tensor([[[[0., 1], [2, 3]]]]), size=4, mode="bilinear") × 60:
        double[] torch = {0, .25, .75, 1, .5, .75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3};
        float[] got = p.train().row(0);
        for (int i = 0; i < 16; i++) assertEquals(torch[i] * 60 / 255, got[i], 1e-6, "pixel " + i);
        assertArrayEquals(new float[16], p.train().row(1), "a 2 x 3 image is resized to 4 x 4 too");
        // Shrinking by 2 averages each 2 x 2 block's centre: the mean of the four pixels.
        InputSpec.Prepared one = ImageFolder.load(root, root, new int[] {1, 1}, null, 0.5, 1);
        assertEquals(90f / 255, one.train().row(0)[0], 1e-6);
    }

    @Test
    void linkedClassFoldersAreFollowed() throws IOException {
        Path elsewhere = dir.resolve("elsewhere");
        grey(elsewhere.resolve("1.png"), new int[][] {{7}});
        Path root = dir.resolve("linked");
        grey(root.resolve("a/1.png"), new int[][] {{1}});
        Files.createSymbolicLink(root.resolve("b"), elsewhere);
        InputSpec.Prepared p = ImageFolder.load(root, root, null, null, 0.5, 1);
        assertArrayEquals(new float[] {1f / 255, 7f / 255}, p.train().features().toFloatArray(), 1e-7f);
    }

    @Test
    void splitIsStratifiedAndSeeded() throws IOException {
        Path root = dir.resolve("split");
        for (int i = 0; i < 10; i++) {
            grey(root.resolve("dark/" + i + ".png"), new int[][] {{i}});
            grey(root.resolve("light/" + i + ".png"), new int[][] {{200 + i}});
        }
        InputSpec.Prepared a = ImageFolder.load(root, null, null, null, 0.2, 5), b = ImageFolder.load(root, null, null, null, 0.2, 5);
        assertEquals(16, a.train().size());
        assertArrayEquals(new int[] {0, 0, 1, 1}, a.test().labels());
        assertArrayEquals(a.test().features().toFloatArray(), b.test().features().toFloatArray());
    }

    @Test
    void errorsNameTheFolderOrFile() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertEquals(empty + ": no class folders; expected one sub-folder of images per class", message(empty, null, null));
        Path one = dir.resolve("one");
        grey(one.resolve("only/1.png"), new int[][] {{1}});
        assertEquals(one + ": one class folder only (only); expected at least 2 classes to tell apart", message(one, null, null));
        Path hollow = dir.resolve("hollow");
        grey(hollow.resolve("a/1.png"), new int[][] {{1}});
        Files.createDirectories(hollow.resolve("b"));
        Files.writeString(hollow.resolve("b/readme.txt"), "no images here");
        assertEquals(hollow.resolve("b") + ": no images in class folder \"b\" (expected .png, .jpg, .jpeg, .bmp, .gif files)",
                message(hollow, null, null));
        Path corrupt = dir.resolve("corrupt");
        grey(corrupt.resolve("a/1.png"), new int[][] {{1}});
        Path bad = Files.createDirectories(corrupt.resolve("b")).resolve("broken.png");
        Files.writeString(bad, "this is not a PNG");
        assertEquals(bad + ": not a readable image (expected PNG, JPEG, GIF or BMP)", message(corrupt, null, new int[] {1, 1}));
        Path truncated = dir.resolve("truncated");
        grey(truncated.resolve("a/1.png"), new int[][] {{1}});
        Path cut = grey(truncated.resolve("b/1.png"), new int[][] {{1, 2, 3}, {4, 5, 6}});
        byte[] bytes = Files.readAllBytes(cut);
        Files.write(cut, java.util.Arrays.copyOf(bytes, 45)); // the header and a part of the pixel data
        assertTrue(message(truncated, null, new int[] {1, 1}).startsWith(cut + ": not a readable image ("));
        Path sizes = dir.resolve("sizes");
        grey(sizes.resolve("a/1.png"), new int[][] {{1, 2}});
        grey(sizes.resolve("b/1.png"), new int[][] {{1}, {2}});
        assertEquals(sizes + ": images differ in size (" + sizes.resolve("a/1.png") + " is 2 x 1, " + sizes.resolve("b/1.png")
                + " is 1 x 2 pixels, width x height); choose one size to resize them to", message(sizes, null, null));
        Path other = dir.resolve("other");
        grey(other.resolve("a/1.png"), new int[][] {{1}});
        grey(other.resolve("c/1.png"), new int[][] {{1}});
        assertEquals(other + ": expected the classes of " + sizes + " (a, b), found a, c", message(sizes, other, new int[] {1, 1}));
        assertEquals(sizes + ": 2 images of 27000 x 27000 pixels are more values than a Java array holds; use a smaller image size",
                message(sizes, null, new int[] {27000, 27000}));
        Path none = dir.resolve("none");
        assertEquals(none + ": no such folder", message(none, null, null));
    }

    @Test
    void rowsForPredictionFromAFileAFolderOrClassFolders() throws IOException {
        Path root = dir.resolve("train");
        grey(root.resolve("a/1.png"), new int[][] {{0, 0}, {0, 0}});
        grey(root.resolve("b/1.png"), new int[][] {{255, 255}, {255, 255}});
        InputSpec spec = ImageFolder.load(root, root, null, null, 0.5, 1).input();
        Path big = rgb(dir.resolve("new/big.png"), 4, 4, 0x808080); // grey content, RGB file, another size
        InputSpec.Rows one = ImageFolder.rows(spec, big);
        assertArrayEquals(new float[] {128f / 255, 128f / 255, 128f / 255, 128f / 255}, one.values(), 1e-6f);
        assertNull(one.labels());
        rgb(dir.resolve("new/another.png"), 2, 2, 0xffffff);
        InputSpec.Rows folder = ImageFolder.rows(spec, dir.resolve("new"));
        assertEquals(List.of("another.png", "big.png"), folder.names());
        InputSpec.Rows labelled = ImageFolder.rows(spec, dir.resolve("train"));
        assertArrayEquals(new int[] {0, 1}, labelled.labels());
        assertEquals(List.of(Path.of("a", "1.png").toString(), Path.of("b", "1.png").toString()), labelled.names());
        grey(dir.resolve("odd/zzz/1.png"), new int[][] {{0}});
        assertEquals(dir.resolve("odd/zzz") + ": \"zzz\" is not one of the model's classes (a, b); a folder of class sub-folders must "
                + "use the training folder's names", assertThrows(DataException.class, () -> ImageFolder.rows(spec, dir.resolve("odd")))
                .getMessage());
    }
}
