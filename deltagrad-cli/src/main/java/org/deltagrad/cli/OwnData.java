package org.deltagrad.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.deltagrad.data.CsvData;
import org.deltagrad.data.Datasets;
import org.deltagrad.data.ImageFolder;
import org.deltagrad.data.InputSpec;
import org.deltagrad.train.TrainConfig;

/**
 * {@code train --data}: the user's CSV file or image folder and how to read it, as the flags gave it. Recorded in a
 * run's checkpoint notes, so that {@code --resume} reads the same data the same way.
 *
 * @param imageSize [height, width], or null for the images' own size
 * @param channels  1, 3, or null to decide by the images' colours
 */
record OwnData(Path data, String label, Path test, double testFraction, int[] imageSize, Integer channels) {
    static final double DEFAULT_TEST_FRACTION = 0.2;

    /** A folder of images (one sub-folder per class) rather than a CSV file. */
    boolean images() {
        return Files.isDirectory(data);
    }

    /** The name runs and reports know the data by: the file's name without its extension, or the folder's. */
    String name() {
        Path file = data.toAbsolutePath().normalize().getFileName();
        String n = file == null ? "data" : file.toString();
        int dot = n.lastIndexOf('.');
        return !images() && dot > 0 ? n.substring(0, dot) : n;
    }

    /** The training and test sets, split with {@code seed} unless --test gives the test set. */
    InputSpec.Prepared load(long seed) {
        try {
            return images() ? ImageFolder.load(data, test, imageSize, channels, testFraction, seed)
                    : CsvData.load(data, label, test, testFraction, seed);
        } catch (ImageFolder.SizesDiffer e) {
            throw new UserException(e.getMessage() + " (--image-size N or HxW)", e);
        }
    }

    /** The data {@code config} names: this run's own data, or (own null) a built-in dataset, whose input spec is null. */
    static InputSpec.Prepared load(OwnData own, TrainConfig config) {
        if (own != null) return own.load(config.seed);
        Datasets.TrainTest sets = Datasets.load(config.dataset, config.dataDir);
        return new InputSpec.Prepared(sets.train(), sets.test(), null);
    }

    private static final String PREFIX = "data.";

    /** As checkpoint notes: absolute paths, so a resume from elsewhere finds the same files. */
    Map<String, String> notes() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PREFIX + "path", data.toAbsolutePath().normalize().toString());
        if (label != null) m.put(PREFIX + "label", label);
        if (test != null) m.put(PREFIX + "test", test.toAbsolutePath().normalize().toString());
        m.put(PREFIX + "test_fraction", Double.toString(testFraction));
        if (imageSize != null) m.put(PREFIX + "image_size", imageSize[0] + "x" + imageSize[1]);
        if (channels != null) m.put(PREFIX + "channels", channels.toString());
        return m;
    }

    /** The data {@link #notes} recorded, or null for a run on a built-in dataset. */
    static OwnData fromNotes(Map<String, String> notes, Path checkpoint) {
        String path = notes.get(PREFIX + "path");
        if (path == null) return null;
        String test = notes.get(PREFIX + "test"), size = notes.get(PREFIX + "image_size"), channels = notes.get(PREFIX + "channels");
        try {
            return new OwnData(Path.of(path), notes.get(PREFIX + "label"), test == null ? null : Path.of(test),
                    Double.parseDouble(notes.get(PREFIX + "test_fraction")), size == null ? null : imageSize(size),
                    channels == null ? null : Integer.valueOf(channels));
        } catch (RuntimeException e) {
            throw new UserException(checkpoint + ": the recorded data (" + PREFIX + "* notes) is not valid: " + e.getMessage(), e);
        }
    }

    /** The largest side --image-size accepts: larger images make rows no MLP or small CNN should take. */
    static final int MAX_IMAGE_SIDE = 4096;

    /** "N" (square) or "HxW" as [height, width]; anything else is an IllegalArgumentException naming the flag. */
    static int[] imageSize(String text) {
        String[] parts = text.toLowerCase(java.util.Locale.ROOT).split("x", -1);
        try {
            if (parts.length <= 2) {
                int h = Integer.parseInt(parts[0].strip()), w = parts.length == 2 ? Integer.parseInt(parts[1].strip()) : h;
                if (h >= 1 && w >= 1 && h <= MAX_IMAGE_SIDE && w <= MAX_IMAGE_SIDE) return new int[] {h, w};
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("--image-size must be N or HxW with sides from 1 to " + MAX_IMAGE_SIDE + " pixels, e.g. 28 "
                + "or 32x48 (got '" + text + "')");
    }
}
