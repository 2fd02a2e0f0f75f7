package org.deltagrad.data;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deltagrad.io.AtomicFiles;

/**
 * Datasets by name: {@code mnist} and {@code fashion-mnist} (the four standard IDX files, found on
 * disk or downloaded once) and {@code spirals} (generated).
 *
 * <p>IDX files are looked for, in order: in the data directory when one is given (and only there);
 * in the cache {@code ~/.deltagrad/datasets/<name>} (the system property {@code deltagrad.home}
 * replaces {@code ~/.deltagrad}); in a system directory ({@code /usr/share/datasets/fashion-mnist},
 * from Debian's dataset-fashion-mnist package); and finally downloaded into the cache, each file
 * checked against its SHA-256. Each file may be stored gzipped ({@code name.gz}) or not.
 */
public final class Datasets {
    private Datasets() {}

    /** A dataset's standard training and test sets. */
    public record TrainTest(Dataset train, Dataset test) {}

    /**
     * Where an IDX dataset is downloaded from: the base URL the file names are appended to, and
     * each file's lowercase hex SHA-256.
     */
    public record Remote(URI baseUrl, Map<String, String> sha256) {}

    /**
     * A dataset that is neither on disk nor downloadable; the message suggests passing a data directory, which a
     * command line names by its own option ({@link #messageNaming}).
     */
    public static final class DownloadFailed extends DataException {
        private static final long serialVersionUID = 1L;
        private final String before;
        private final String after;

        DownloadFailed(String before, String after, Throwable cause) {
            super(before + after, cause);
            this.before = before;
            this.after = after;
        }

        /** The message with the data directory's option named after it, e.g. {@code "a data directory (--data-dir DIR)"}. */
        public String messageNaming(String option) {
            return before + " (" + option + ")" + after;
        }
    }

    public static final String MNIST = "mnist";
    public static final String FASHION_MNIST = "fashion-mnist";
    public static final String SPIRALS = "spirals";
    private static final List<String> NAMES = List.of(MNIST, FASHION_MNIST, SPIRALS);

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    private static final List<String> IDX_FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    // SHA-256 of the canonical .gz files. MNIST's are those of the original LeCun files, which
    // the PyTorch mirror serves unchanged (same MD5s in torchvision); Fashion-MNIST's are those of
    // the files the project publishes. Debian's copies are recompressed, so their hashes differ:
    // files found on disk are therefore not checked, only downloads.
    private static final Remote MNIST_REMOTE = new Remote(URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"), Map.of(
            TRAIN_IMAGES + ".gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            TRAIN_LABELS + ".gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            TEST_IMAGES + ".gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            TEST_LABELS + ".gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"));
    private static final Remote FASHION_REMOTE = new Remote(URI.create("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"), Map.of(
            TRAIN_IMAGES + ".gz", "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
            TRAIN_LABELS + ".gz", "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
            TEST_IMAGES + ".gz", "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
            TEST_LABELS + ".gz", "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"));

    private static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The names {@link #load} knows. */
    public static List<String> names() {
        return NAMES;
    }

    /** Loads {@code name}, downloading from its default {@link #remote} if needed. */
    public static TrainTest load(String name, Path dataDir) {
        return load(name, dataDir, null);
    }

    /**
     * Loads {@code name}; IDX datasets missing from disk are downloaded from {@code remote}
     * (null: {@link #remote}). {@code dataDir} may be null.
     */
    public static TrainTest load(String name, Path dataDir, Remote remote) {
        String key = name.toLowerCase(Locale.ROOT);
        return switch (key) {
            case MNIST -> loadIdx(key, dataDir, remote, null);
            case FASHION_MNIST -> loadIdx(key, dataDir, remote, FASHION_CLASSES);
            case SPIRALS -> new TrainTest(spirals(3, 300, 0.05, 1), spirals(3, 100, 0.05, 2));
            default -> throw new DataException("unknown dataset \"" + name + "\"; known datasets: " + String.join(", ", NAMES));
        };
    }

    /**
     * The default download location of an IDX dataset; the system property
     * {@code deltagrad.<name>.baseUrl} replaces its base URL (e.g. with a local mirror).
     */
    public static Remote remote(String name) {
        Remote canonical = switch (name) {
            case MNIST -> MNIST_REMOTE;
            case FASHION_MNIST -> FASHION_REMOTE;
            default -> throw new DataException("dataset \"" + name + "\" is not downloaded; downloadable: " + MNIST + ", " + FASHION_MNIST);
        };
        String override = System.getProperty("deltagrad." + name + ".baseUrl");
        return override == null ? canonical : new Remote(URI.create(override), canonical.sha256());
    }

    /** Where downloads of {@code name} are kept: {@code <deltagrad home>/datasets/<name>}. */
    public static Path cacheDir(String name) {
        String home = System.getProperty("deltagrad.home");
        Path base = home != null ? Path.of(home) : Path.of(System.getProperty("user.home"), ".deltagrad");
        return base.resolve("datasets").resolve(name);
    }

    private static List<Path> systemDirs(String name) {
        return name.equals(FASHION_MNIST) ? List.of(Path.of("/usr/share/datasets/fashion-mnist")) : List.of();
    }

    private static TrainTest loadIdx(String name, Path dataDir, Remote remote, List<String> classNames) {
        Path dir;
        if (dataDir != null) {
            List<String> missing = missing(dataDir);
            if (!missing.isEmpty()) {
                throw new DataException(name + ": " + dataDir + " lacks " + describe(missing)
                        + " (a data directory must hold all four IDX files)");
            }
            dir = dataDir;
        } else {
            Path cache = cacheDir(name);
            dir = missing(cache).isEmpty() ? cache
                    : systemDirs(name).stream().filter(d -> missing(d).isEmpty()).findFirst().orElse(null);
            if (dir == null) {
                download(name, cache, remote != null ? remote : remote(name));
                dir = cache;
            }
        }
        return new TrainTest(idxDataset(name, dir, TRAIN_IMAGES, TRAIN_LABELS, classNames),
                idxDataset(name, dir, TEST_IMAGES, TEST_LABELS, classNames));
    }

    private static List<String> missing(Path dir) {
        return IDX_FILES.stream().filter(f -> find(dir, f) == null).toList();
    }

    /** The file stored as {@code base} or {@code base.gz} in {@code dir}, or null. */
    private static Path find(Path dir, String base) {
        for (String candidate : List.of(base, base + ".gz")) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    private static String describe(List<String> files) {
        return String.join(", ", files.stream().map(f -> f + "(.gz)").toList());
    }

    private static Dataset idxDataset(String name, Path dir, String imagesName, String labelsName, List<String> classNames) {
        Path imagesFile = find(dir, imagesName);
        Path labelsFile = find(dir, labelsName);
        IdxArray images = Idx.read(imagesFile);
        IdxArray labels = Idx.read(labelsFile);
        int[] shape = images.shape();
        if (images.type() != IdxArray.Type.UBYTE || shape.length != 3) {
            throw new DataException(imagesFile + ": expected ubyte images [n, rows, cols], found " + images.type() + " "
                    + Arrays.toString(shape));
        }
        if (labels.type() != IdxArray.Type.UBYTE || labels.shape().length != 1) {
            throw new DataException(labelsFile + ": expected ubyte labels [n], found " + labels.type() + " "
                    + Arrays.toString(labels.shape()));
        }
        int n = shape[0];
        if (labels.numel() != n) {
            throw new DataException(name + ": " + labelsFile + " holds " + labels.numel() + " labels but " + imagesFile
                    + " holds " + n + " images; expected one label per image");
        }
        int[] y = labels.toIntArray();
        for (int i = 0; i < n; i++) {
            if (y[i] > 9) throw new DataException(labelsFile + ": label " + i + " is " + y[i] + ", expected 0..9");
        }
        float[] x = images.toFloatArray();
        for (int i = 0; i < x.length; i++) x[i] /= 255f; // pixels 0..255 to [0, 1]
        return new Dataset(x, shape[1] * shape[2], y, 10, classNames, new int[] {shape[1], shape[2]});
    }

    private static void download(String name, Path cache, Remote remote) {
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(20))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        String base = remote.baseUrl().toString();
        URI baseUrl = URI.create(base.endsWith("/") ? base : base + "/");
        for (String file : missing(cache)) {
            String gz = file + ".gz";
            URI url = baseUrl.resolve(gz);
            String expected = remote.sha256().get(gz);
            if (expected == null) throw new DataException(name + ": no SHA-256 known for " + gz + "; refusing to download it unchecked");
            try {
                fetch(client, url, expected.toLowerCase(Locale.ROOT), cache.resolve(gz));
            } catch (IOException e) {
                throw new DownloadFailed(name + ": cannot download " + url + " (" + reason(e) + "); missing " + describe(missing(cache))
                        + "; put the four IDX files in " + cache + " or pass a data directory",
                        systemDirs(name).stream().map(d -> " (or install them in " + d + ")").findFirst().orElse(""), e);
            }
        }
    }

    /** Why a download failed, in words; the JDK's connect failures often carry no message. */
    private static String reason(IOException e) {
        if (e instanceof HttpConnectTimeoutException) return "connection timed out";
        if (e instanceof ConnectException) return "could not connect" + (e.getMessage() != null ? ": " + e.getMessage() : "");
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static void fetch(HttpClient client, URI url, String expectedSha256, Path target) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(60)).GET().build();
        HttpResponse<InputStream> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) throw new IOException("HTTP " + response.statusCode());
            MessageDigest sha256 = sha256();
            // Written under a temporary name and renamed only if the checksum matches, so the
            // cache never holds a partial or wrong file.
            AtomicFiles.write(target, out -> {
                new DigestInputStream(body, sha256).transferTo(out);
                String actual = HexFormat.of().formatHex(sha256.digest());
                if (!actual.equals(expectedSha256)) {
                    throw new DataException("checksum mismatch for " + url + ": expected SHA-256 " + expectedSha256
                            + ", got " + actual + "; the download was discarded");
                }
            });
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM provides SHA-256", e);
        }
    }

    /**
     * {@code classes} interleaved spiral arms of {@code perClass} points each, 2 features, with
     * Gaussian noise of standard deviation {@code noise} added to each coordinate. Arm k starts at
     * the centre at angle 2πk/classes and winds 1.5 turns out to radius 1. Rows are grouped by
     * class; the same arguments give the same points on every JVM.
     */
    public static Dataset spirals(int classes, int perClass, double noise, long seed) {
        if (classes < 1 || perClass < 1 || noise < 0) {
            throw new IllegalArgumentException("spirals: need classes >= 1, perClass >= 1, noise >= 0; got "
                    + classes + ", " + perClass + ", " + noise);
        }
        Rng rng = new Rng(seed);
        float[] x = new float[classes * perClass * 2];
        int[] y = new int[classes * perClass];
        int row = 0;
        for (int k = 0; k < classes; k++) {
            for (int i = 0; i < perClass; i++, row++) {
                double r = (i + 0.5) / perClass;
                double angle = 2 * Math.PI * k / classes + 3 * Math.PI * r;
                x[2 * row] = (float) (r * Math.cos(angle) + noise * rng.nextGaussian());
                x[2 * row + 1] = (float) (r * Math.sin(angle) + noise * rng.nextGaussian());
                y[row] = k;
            }
        }
        return new Dataset(x, 2, y, classes, null, null);
    }

    /**
     * {@code n} grey images of {@code side}×{@code side} pixels for small convolutional models: class 0 a bright row,
     * class 1 a bright column, class 2 the bright diagonal, each on uniform noise in [0, 0.3); classes take turns.
     * The same arguments give the same images on every JVM.
     */
    public static Dataset bars(int n, int side, long seed) {
        if (n < 1 || side < 2) throw new IllegalArgumentException("bars: need n >= 1 and side >= 2; got " + n + ", " + side);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        int pixels = side * side;
        float[] x = new float[n * pixels];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            int at = rng.nextInt(side);
            for (int p = 0; p < pixels; p++) x[i * pixels + p] = (float) (0.3 * rng.nextDouble());
            for (int k = 0; k < side; k++) x[i * pixels + (y[i] == 0 ? at : k) * side + (y[i] == 1 ? at : k)] = 1;
        }
        return new Dataset(x, pixels, y, 3, List.of("row", "column", "diagonal"), new int[] {side, side});
    }
}
