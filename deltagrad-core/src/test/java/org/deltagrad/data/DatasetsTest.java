package org.deltagrad.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir
    Path tmp;

    private Path home;
    private String previousHome;
    private HttpServer server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void isolateHome() throws IOException {
        home = Files.createDirectories(tmp.resolve("home"));
        previousHome = System.setProperty("deltagrad.home", home.toString());
    }

    @AfterEach
    void restore() {
        if (previousHome == null) System.clearProperty("deltagrad.home");
        else System.setProperty("deltagrad.home", previousHome);
        if (server != null) server.stop(0);
    }

    /** Serves {@link #served} on 127.0.0.1; unknown paths get 404. */
    private URI startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            byte[] body = served.get(exchange.getRequestURI().getPath().substring(1));
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                if (body != null) out.write(body);
            }
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    /**
     * Writes a tiny MNIST-like set (12 train and 5 test images of 4×3 pixels) into {@code dir}
     * as .gz files; image i's pixels are i*20 + column, label i % 10.
     */
    private static void writeFakeIdx(Path dir, int trainLabels) {
        writeImages(dir.resolve(Datasets.TRAIN_IMAGES + ".gz"), 12);
        writeLabels(dir.resolve(Datasets.TRAIN_LABELS + ".gz"), trainLabels);
        writeImages(dir.resolve(Datasets.TEST_IMAGES + ".gz"), 5);
        writeLabels(dir.resolve(Datasets.TEST_LABELS + ".gz"), 5);
    }

    private static void writeImages(Path file, int n) {
        int[] px = new int[n * 12];
        for (int i = 0; i < px.length; i++) px[i] = (i / 12) * 20 + i % 3;
        if (n > 0) px[11] = 255;
        Idx.write(file, IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {n, 4, 3}, px));
    }

    private static void writeLabels(Path file, int n) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = i % 10;
        Idx.write(file, IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {n}, y));
    }

    private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Puts the fake files on the server and returns their checksum table. */
    private Map<String, String> serveFakeIdx() throws Exception {
        Path source = Files.createDirectories(tmp.resolve("source"));
        writeFakeIdx(source, 12);
        Map<String, String> sums = new HashMap<>();
        try (Stream<Path> files = Files.list(source)) {
            for (Path f : files.toList()) {
                byte[] bytes = Files.readAllBytes(f);
                served.put(f.getFileName().toString(), bytes);
                sums.put(f.getFileName().toString(), sha256(bytes));
            }
        }
        return sums;
    }

    private static List<String> listing(Path dir) throws IOException {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertFakeLoaded(Datasets.TrainTest tt) {
        assertEquals(12, tt.train().size());
        assertEquals(5, tt.test().size());
        assertEquals(12, tt.train().numFeatures());
        assertEquals(10, tt.train().numClasses());
        assertArrayEquals(new int[] {4, 3}, tt.train().imageShape());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, tt.test().labels());
        float[] image1 = tt.train().row(1);
        assertEquals(20 / 255f, image1[0]);
        assertEquals(1f, tt.train().row(0)[11], "255 scales to 1");
    }

    @Test
    void downloadsVerifiesAndCaches() throws Exception {
        Map<String, String> sums = serveFakeIdx();
        Datasets.Remote remote = new Datasets.Remote(startServer(), sums);
        assertFakeLoaded(Datasets.load("mnist", null, remote));
        assertEquals(4, requests.get());
        Path cache = home.resolve("datasets/mnist");
        assertEquals(List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                "train-labels-idx1-ubyte.gz"), listing(cache));
        assertFakeLoaded(Datasets.load("MNIST", null, remote));
        assertEquals(4, requests.get(), "second load reads the cache");
    }

    @Test
    void downloadsOnlyMissingFiles() throws Exception {
        Map<String, String> sums = serveFakeIdx();
        Path cache = Files.createDirectories(home.resolve("datasets/mnist"));
        Files.write(cache.resolve(Datasets.TRAIN_IMAGES + ".gz"), served.get(Datasets.TRAIN_IMAGES + ".gz"));
        assertFakeLoaded(Datasets.load("mnist", null, new Datasets.Remote(startServer(), sums)));
        assertEquals(3, requests.get());
    }

    @Test
    void wrongChecksumIsDiscardedAndReported() throws Exception {
        Map<String, String> sums = serveFakeIdx();
        String good = sums.get(Datasets.TRAIN_IMAGES + ".gz");
        String bad = "0".repeat(64);
        sums.put(Datasets.TRAIN_IMAGES + ".gz", bad);
        URI base = startServer();
        DataException e = assertThrows(DataException.class, () -> Datasets.load("mnist", null, new Datasets.Remote(base, sums)));
        assertTrue(e.getMessage().contains(base + "train-images-idx3-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains("expected SHA-256 " + bad + ", got " + good), e.getMessage());
        assertFalse(listing(home.resolve("datasets/mnist")).contains("train-images-idx3-ubyte.gz"), "bad file not kept");
        assertTrue(listing(home.resolve("datasets/mnist")).stream().noneMatch(f -> f.endsWith(".tmp")), "no temporaries left");
    }

    @Test
    void unreachableServerGivesOneClearMessage() throws Exception {
        URI base = startServer();
        server.stop(0); // nothing listens on this port any more
        server = null;
        DataException e = assertThrows(DataException.class,
                () -> Datasets.load("mnist", null, new Datasets.Remote(base, Map.of(Datasets.TRAIN_IMAGES + ".gz", "00"))));
        String m = e.getMessage();
        assertTrue(m.startsWith("mnist: cannot download " + base + "train-images-idx3-ubyte.gz (could not connect"), m);
        for (String f : List.of(Datasets.TRAIN_IMAGES, Datasets.TRAIN_LABELS, Datasets.TEST_IMAGES, Datasets.TEST_LABELS)) {
            assertTrue(m.contains(f + "(.gz)"), m);
        }
        assertTrue(m.contains("put the four IDX files in " + home.resolve("datasets/mnist")), m);
        assertTrue(m.contains(" or pass a data directory") && !m.contains("--"), "core names no command-line flag: " + m);
        assertTrue(assertInstanceOf(Datasets.DownloadFailed.class, e).messageNaming("--data-dir DIR")
                .contains(" or pass a data directory (--data-dir DIR)"), m);
    }

    @Test
    void httpErrorIsReported() throws Exception {
        URI base = startServer(); // serves nothing
        DataException e = assertThrows(DataException.class,
                () -> Datasets.load("mnist", null, new Datasets.Remote(base, Map.of(Datasets.TRAIN_IMAGES + ".gz", "00"))));
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
    }

    @Test
    void dataDirIsUsedAsIs() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("mine"));
        writeFakeIdx(dir, 12);
        // One file uncompressed: both spellings are accepted.
        Files.delete(dir.resolve(Datasets.TEST_LABELS + ".gz"));
        Idx.write(dir.resolve(Datasets.TEST_LABELS), IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {5}, new int[] {0, 1, 2, 3, 4}));
        Datasets.TrainTest tt = Datasets.load("fashion-mnist", dir);
        assertFakeLoaded(tt);
        assertEquals("Ankle boot", tt.train().classNames().get(9));
    }

    @Test
    void dataDirMissingFilesNamed() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("partial"));
        writeImages(dir.resolve(Datasets.TRAIN_IMAGES + ".gz"), 3);
        DataException e = assertThrows(DataException.class, () -> Datasets.load("mnist", dir));
        assertTrue(e.getMessage().contains(dir + " lacks train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), "
                + "t10k-labels-idx1-ubyte(.gz)"), e.getMessage());
    }

    @Test
    void labelCountMismatch() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("mismatch"));
        writeFakeIdx(dir, 11);
        DataException e = assertThrows(DataException.class, () -> Datasets.load("mnist", dir));
        assertTrue(e.getMessage().contains("holds 11 labels but"), e.getMessage());
        assertTrue(e.getMessage().contains("holds 12 images; expected one label per image"), e.getMessage());
    }

    @Test
    void wrongIdxShapeForImages() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("flat"));
        writeFakeIdx(dir, 12);
        Idx.write(dir.resolve(Datasets.TRAIN_IMAGES + ".gz"), IdxArray.ofInts(IdxArray.Type.UBYTE, new int[] {12, 12}, new int[144]));
        DataException e = assertThrows(DataException.class, () -> Datasets.load("mnist", dir));
        assertTrue(e.getMessage().contains("expected ubyte images [n, rows, cols], found UBYTE [12, 12]"), e.getMessage());
    }

    @Test
    void unknownNameListsKnownNames() {
        DataException e = assertThrows(DataException.class, () -> Datasets.load("cifar", null));
        assertEquals("unknown dataset \"cifar\"; known datasets: mnist, fashion-mnist, spirals", e.getMessage());
    }

    @Test
    void defaultRemotesHaveChecksumsForEveryFile() {
        for (String name : List.of("mnist", "fashion-mnist")) {
            Datasets.Remote r = Datasets.remote(name);
            assertEquals(4, r.sha256().size(), name);
            for (String f : List.of(Datasets.TRAIN_IMAGES, Datasets.TRAIN_LABELS, Datasets.TEST_IMAGES, Datasets.TEST_LABELS)) {
                assertTrue(r.sha256().get(f + ".gz").matches("[0-9a-f]{64}"), name + " " + f);
            }
        }
        assertEquals("https://ossci-datasets.s3.amazonaws.com/mnist/", Datasets.remote("mnist").baseUrl().toString());
        System.setProperty("deltagrad.mnist.baseUrl", "http://127.0.0.1:1/m/");
        try {
            assertEquals("http://127.0.0.1:1/m/", Datasets.remote("mnist").baseUrl().toString());
        } finally {
            System.clearProperty("deltagrad.mnist.baseUrl");
        }
    }

    @Test
    void fashionMnistFromDebianPackage() throws IOException {
        // CI installs Debian's dataset-fashion-mnist; the empty deltagrad.home makes the loader
        // fall through to it without downloading.
        Datasets.TrainTest tt = Datasets.load("fashion-mnist", null);
        assertEquals(60000, tt.train().size());
        assertEquals(10000, tt.test().size());
        assertEquals(784, tt.train().numFeatures());
        assertArrayEquals(new int[] {28, 28}, tt.train().imageShape());
        assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, tt.train().labels(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, tt.test().labels(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
        assertEquals("T-shirt/top", tt.test().classNames().get(0));
        float max = 0;
        float min = 1;
        for (float v : tt.test().features().toFloatArray()) {
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        assertEquals(1f, max);
        assertEquals(0f, min);
        assertEquals(List.of(), listing(home.resolve("datasets")), "nothing downloaded");
    }

    @Test
    void spiralsAreDeterministicAndBalanced() {
        Dataset a = Datasets.spirals(4, 50, 0.1, 7);
        Dataset b = Datasets.spirals(4, 50, 0.1, 7);
        assertEquals(200, a.size());
        assertEquals(2, a.numFeatures());
        assertEquals(4, a.numClasses());
        assertArrayEquals(a.features().toFloatArray(), b.features().toFloatArray());
        assertArrayEquals(a.labels(), b.labels());
        int[] counts = new int[4];
        for (int y : a.labels()) counts[y]++;
        assertArrayEquals(new int[] {50, 50, 50, 50}, counts);
        assertFalse(Arrays.equals(a.features().toFloatArray(), Datasets.spirals(4, 50, 0.1, 8).features().toFloatArray()));

        Dataset clean = Datasets.spirals(3, 100, 0, 0);
        float[] x = clean.features().toFloatArray();
        for (int i = 0; i < clean.size(); i++) {
            double r = Math.hypot(x[2 * i], x[2 * i + 1]);
            assertEquals((i % 100 + 0.5) / 100, r, 1e-6, "noise-free points lie on the arm");
        }
    }

    @Test
    void spiralsByName() {
        Datasets.TrainTest tt = Datasets.load("spirals", null);
        assertEquals(900, tt.train().size());
        assertEquals(300, tt.test().size());
        assertEquals(3, tt.train().numClasses());
        assertFalse(Arrays.equals(tt.train().subset(new int[] {0, 1, 2}).features().toFloatArray(),
                tt.test().subset(new int[] {0, 1, 2}).features().toFloatArray()), "test set from another seed");
    }
}
