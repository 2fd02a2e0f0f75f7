package org.deltagrad.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.deltagrad.NonFinite;
import org.deltagrad.Tensor;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.Architecture;
import org.deltagrad.nn.Sequential;

/**
 * A trained model on disk, as ONE file: {@code model.safetensors} holds the weights (loadable by PyTorch's
 * safetensors library into an {@code nn.Sequential} of the same layers) and, in its {@code __metadata__},
 * the architecture and the training configuration as JSON strings. It is written atomically, so a crash or
 * an I/O error leaves either the previous model or the new one, never new weights beside an old architecture.
 *
 * <p>The architecture is an {@link Architecture}: its layers as {@code --arch} tokens ({@link #FORMAT}); files of the
 * multilayer-perceptron format {@link #FORMAT_MLP}, with hidden sizes instead, still load.
 *
 * <p>{@code model.json} beside it is a readable copy, written after the weights. Loading reads the
 * architecture from the metadata and refuses a {@code model.json} that says otherwise; only files written
 * before the metadata held the architecture are loaded from {@code model.json}.
 */
public final class ModelFile {
    private ModelFile() {}

    /** What {@link #save} writes: the architecture as {@code --arch} layers. */
    public static final String FORMAT = "deltagrad-model/2";
    /** Multilayer perceptrons only, their hidden sizes as {@code "hidden"}: still loaded. */
    public static final String FORMAT_MLP = "deltagrad-mlp/1";
    private static final String FORMAT_KEY = "deltagrad";
    private static final String ARCHITECTURE = "architecture";
    private static final String TRAINING = "training";
    /** How raw input becomes a row (data.InputSpec#toMap), for models trained on the user's own files. */
    private static final String INPUT = "input";

    /**
     * What a model file holds; {@code source} is where the architecture and training configuration were read:
     * the weights file (its metadata) or, for older models, the JSON beside it.
     */
    public record Loaded(Architecture architecture, Sequential model, Map<String, Object> training, Path source, Map<String, Object> input) {}

    /** How {@link #save} writes each file; tests substitute one that fails. */
    @FunctionalInterface
    interface FileWriter {
        void write(Path target, AtomicFiles.StreamWriter content) throws IOException;
    }

    /** The JSON file that goes with a weights file: same name, extension {@code .json}. */
    public static Path configPath(Path weights) {
        String name = weights.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return weights.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".json");
    }

    /**
     * Writes the model atomically to {@code weights}, then its readable copy {@code model.json}. Refuses
     * non-finite weights. If the copy cannot be written, the model is complete nonetheless; the stale copy
     * is removed and the IOException names the copy.
     */
    public static void save(Path weights, Architecture spec, Sequential model, Map<String, Object> training) throws IOException {
        save(weights, spec, model, training, null, AtomicFiles::write);
    }

    /** As above, with {@code input} (null: none) saved under its own key, "input". */
    public static void save(Path weights, Architecture spec, Sequential model, Map<String, Object> training, Map<String, Object> input)
            throws IOException {
        save(weights, spec, model, training, input, AtomicFiles::write);
    }

    static void save(Path weights, Architecture spec, Sequential model, Map<String, Object> training, FileWriter files)
            throws IOException {
        save(weights, spec, model, training, null, files);
    }

    static void save(Path weights, Architecture spec, Sequential model, Map<String, Object> training, Map<String, Object> input,
                     FileWriter files) throws IOException {
        Path config = configPath(weights);
        if (config.toAbsolutePath().normalize().equals(weights.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException(weights + ": a model file needs another name than its JSON copy "
                    + "(use the extension .safetensors)");
        }
        LinkedHashMap<String, Tensor> state = model.stateDict();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            NonFinite bad = NonFinite.of(e.getValue());
            if (bad.any()) {
                throw new IllegalArgumentException(weights + ": not saved: tensor '" + e.getKey() + "' holds " + bad);
            }
        }
        Map<String, Object> arch = architecture(spec);
        Map<String, Object> train = training == null ? Map.of() : training;
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put(FORMAT_KEY, FORMAT);
        metadata.put(ARCHITECTURE, Json.write(arch).strip());
        metadata.put(TRAINING, Json.write(train).strip());
        if (input != null) metadata.put(INPUT, Json.write(input).strip());
        files.write(weights, SafeTensors.content(state, metadata, model.int64StateKeys()));

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", FORMAT);
        json.put("weights", weights.getFileName().toString());
        json.put(ARCHITECTURE, arch);
        json.put(TRAINING, train);
        if (input != null) json.put(INPUT, input);
        byte[] copy = Json.write(json).getBytes(StandardCharsets.UTF_8);
        try {
            files.write(config, out -> out.write(copy));
        } catch (IOException | RuntimeException e) {
            // A stale copy would describe another model; without one, nobody is misled.
            try {
                if (Files.isRegularFile(config)) Files.delete(config);
            } catch (IOException ignored) {
                // The loader refuses a copy that disagrees with the weights file, naming both.
            }
            String why = e instanceof IOException io ? AtomicFiles.reason(io) : e.getMessage();
            throw new IOException(config + ": could not write this readable copy of the architecture (" + why
                    + "); the model itself is complete in " + weights, e);
        }
    }

    private static Map<String, Object> architecture(Architecture spec) {
        Map<String, Object> arch = new LinkedHashMap<>();
        arch.put("inputs", spec.inputs());
        arch.put("layers", spec.layers().stream().map(Architecture.Layer::token).toList());
        arch.put("outputs", spec.outputs());
        arch.put("activation", spec.activation().id());
        arch.put("activate_output", spec.activateOutput());
        if (spec.classNames() != null) arch.put("class_names", spec.classNames());
        if (spec.imageShape() != null) arch.put("image_shape", spec.imageShape());
        return arch;
    }

    /**
     * Loads and checks a model: the architecture (from the weights file's metadata, or from the JSON beside
     * older files) must be well formed, the weights must have exactly its names and shapes (checked before
     * anything is built, so a wrong architecture cannot ask for gigabytes) and be finite.
     */
    public static Loaded load(Path weights) {
        if (!Files.isRegularFile(weights)) throw new IllegalArgumentException(weights + ": no such model file");
        if (weights.getFileName().toString().endsWith(".json")) {
            throw new IllegalArgumentException(weights + ": this is a model's readable JSON copy; give its .safetensors file, "
                    + "which is the model");
        }
        Path config = configPath(weights);
        SafeTensors.Contents contents = SafeTensors.read(weights);
        Map<String, String> metadata = contents.metadata();
        Map<String, Object> copy = Files.isRegularFile(config) ? readJsonObject(config) : null;
        Map<String, Object> arch, training;
        Map<String, Object> input = null; // models trained on built-in datasets, and older ones, have none
        Path source;
        String format = metadata.get(FORMAT_KEY);
        if (format != null && !format.equals(FORMAT) && !format.equals(FORMAT_MLP)) {
            throw new IllegalArgumentException(weights + ": __metadata__ \"" + FORMAT_KEY + "\" is \"" + format + "\"; this deltagrad reads "
                    + FORMAT + " and " + FORMAT_MLP + " (a newer deltagrad wrote it?)");
        }
        if (metadata.containsKey(ARCHITECTURE)) {
            source = weights;
            arch = parseObject(metadata.get(ARCHITECTURE), weights, "__metadata__ \"" + ARCHITECTURE + "\"");
            training = metadata.containsKey(TRAINING)
                    ? parseObject(metadata.get(TRAINING), weights, "__metadata__ \"" + TRAINING + "\"") : Map.of();
            input = metadata.containsKey(INPUT) ? parseObject(metadata.get(INPUT), weights, "__metadata__ \"" + INPUT + "\"") : null;
            if (copy != null && (!arch.equals(copy.get(ARCHITECTURE)) || !training.equals(copy.get(TRAINING))
                    || !java.util.Objects.equals(input, copy.get(INPUT)))) {
                throw new IllegalArgumentException(config + " does not match the architecture and training configuration in "
                        + weights + " (its __metadata__, which is the model): delete " + config.getFileName()
                        + " or save the model again");
            }
        } else {
            // Written before the architecture moved into the metadata: model.json is the only description.
            if (copy == null) {
                throw new IllegalArgumentException(config + ": missing; " + weights.getFileName()
                        + " has no architecture in its metadata, so it needs this file beside it");
            }
            source = config;
            arch = objectField(copy, ARCHITECTURE, config, "an \"architecture\" object with inputs, hidden, outputs and activation");
            Object t = copy.get(TRAINING);
            training = t == null ? Map.of() : objectField(copy, TRAINING, config, "a \"training\" object");
        }
        Architecture spec = spec(arch, source);
        Sequential model = checkedModel(contents.tensors(), spec, weights, source);
        return new Loaded(spec, model, training, source, input);
    }

    private static Map<String, Object> readJsonObject(Path config) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(config);
        } catch (IOException e) {
            throw new UncheckedIOException(config + ": cannot read: " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(config + ": not valid UTF-8 text; expected the JSON written by deltagrad");
        }
        return parseObject(text, config, "its content");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parseObject(String text, Path file, String what) {
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException(file + ": " + what + " is not valid JSON (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            // The parser's own limits (number sizes, nesting) must not surface as a bare exception without the file.
            throw new IllegalArgumentException(file + ": " + what + " is not JSON deltagrad can read (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Map)) throw new IllegalArgumentException(file + ": expected " + what + " to be a JSON object");
        return (Map<String, Object>) parsed;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> objectField(Map<String, Object> json, String key, Path file, String expected) {
        if (!(json.get(key) instanceof Map)) {
            throw new IllegalArgumentException(file + ": expected " + expected + ", found " + describe(json.get(key)));
        }
        return (Map<String, Object>) json.get(key);
    }

    /** The architecture object, each field checked with a message that names it. */
    private static Architecture spec(Map<String, Object> arch, Path file) {
        String where = file + ": architecture";
        int inputs = positive(arch.get("inputs"), where + " \"inputs\"");
        int outputs = positive(arch.get("outputs"), where + " \"outputs\"");
        List<Architecture.Layer> layers = arch.containsKey("layers") ? layers(arch.get("layers"), where + " \"layers\"")
                : Architecture.fc(positives(arch.get("hidden"), where + " \"hidden\""));
        if (!(arch.get("activation") instanceof String activationName)) {
            throw new IllegalArgumentException(where + " \"activation\": expected a string, found " + describe(arch.get("activation")));
        }
        Activation activation;
        try {
            activation = Activation.parse(activationName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + " \"activation\": " + e.getMessage());
        }
        Object activateOutput = arch.get("activate_output");
        if (activateOutput != null && !(activateOutput instanceof Boolean)) {
            throw new IllegalArgumentException(where + " \"activate_output\": expected true or false, found " + describe(activateOutput));
        }
        List<String> names = null;
        if (arch.get("class_names") != null) {
            if (!(arch.get("class_names") instanceof List<?> list) || list.size() != outputs
                    || !list.stream().allMatch(n -> n instanceof String)) {
                throw new IllegalArgumentException(where + " \"class_names\": expected " + outputs + " strings, one per output, found "
                        + describe(arch.get("class_names")));
            }
            names = list.stream().map(n -> (String) n).toList();
        }
        int[] imageShape = null;
        if (arch.get("image_shape") != null) {
            imageShape = positives(arch.get("image_shape"), where + " \"image_shape\"");
            long pixels = Arrays.stream(imageShape).asLongStream().reduce(1, (a, b) -> a * b);
            if (pixels != inputs) {
                throw new IllegalArgumentException(where + " \"image_shape\": " + Arrays.toString(imageShape) + " holds " + pixels
                        + " pixels, but the model has " + inputs + " inputs");
            }
        }
        try {
            return new Architecture(inputs, imageShape, layers, outputs, activation, Boolean.TRUE.equals(activateOutput), names);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    /** The {@code "layers"} array: one grammar token per string, e.g. ["conv16x5", "maxpool2", "fc100"]. */
    private static List<Architecture.Layer> layers(Object value, String what) {
        if (!(value instanceof List<?> list) || !list.stream().allMatch(t -> t instanceof String s && !s.contains(","))) {
            throw new IllegalArgumentException(what + ": expected an array of layers such as [\"conv16x5\", \"maxpool2\", \"fc100\"], found "
                    + describe(value));
        }
        if (list.isEmpty()) return List.of();
        try {
            return Architecture.parse(String.join(",", list.stream().map(t -> (String) t).toList()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }

    private static int positive(Object value, String what) {
        if (!(value instanceof Long v) || v < 1 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + ": expected a positive integer, found " + describe(value));
        }
        return (int) (long) v;
    }

    private static int[] positives(Object value, String what) {
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException(what + ": expected an array of positive integers, found " + describe(value));
        }
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = positive(list.get(i), what + "[" + i + "]");
        return out;
    }

    /**
     * The tensors must be exactly the state {@link Architecture#build} makes (names and shapes checked on the file's
     * header before any layer is built, so a wrong architecture cannot ask for gigabytes), with its dtypes (F32, and
     * PyTorch's int64 counters read as F64), and finite.
     */
    private static Sequential checkedModel(Map<String, Tensor> tensors, Architecture spec, Path weights, Path source) {
        Map<String, int[]> expected = spec.stateShapes();
        String mismatch = weights + ": does not match the architecture " + spec + " in " + describeSource(weights, source) + ": ";
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException(mismatch + "missing tensor '" + e.getKey() + "' (expected " + expected.keySet() + ")");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException(mismatch + "'" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + " but the architecture needs " + Arrays.toString(e.getValue()));
            }
        }
        for (String name : tensors.keySet()) {
            if (!expected.containsKey(name)) {
                throw new IllegalArgumentException(mismatch + "unexpected tensor '" + name + "' (expected " + expected.keySet() + ")");
            }
        }
        Sequential model = spec.build(0);
        Set<String> counters = model.int64StateKeys();
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t.dtype() != e.getValue().dtype()) {
                throw new IllegalArgumentException(mismatch + "'" + e.getKey() + "' has dtype " + t.dtype().safetensorsName()
                        + (counters.contains(e.getKey()) ? "; this counter is I64" : "; models hold F32 weights"));
            }
        }
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            NonFinite bad = NonFinite.of(e.getValue());
            if (bad.any()) throw new IllegalArgumentException(weights + ": tensor '" + e.getKey() + "' holds " + bad);
        }
        model.loadStateDict(tensors);
        return model;
    }

    private static String describeSource(Path weights, Path source) {
        return source.equals(weights) ? "its __metadata__" : source.toString();
    }

    private static String describe(Object v) {
        if (v == null) return "nothing";
        if (v instanceof String s) return "\"" + s + "\"";
        if (v instanceof Map) return "an object";
        if (v instanceof List<?> l) return "an array of " + l.size();
        return v.toString();
    }
}
