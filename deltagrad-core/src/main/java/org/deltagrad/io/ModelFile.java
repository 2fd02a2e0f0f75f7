package org.deltagrad.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.deltagrad.Tensor;
import org.deltagrad.nn.Activation;
import org.deltagrad.nn.MlpSpec;
import org.deltagrad.nn.Sequential;

/**
 * A trained model on disk: the weights in safetensors ({@code model.safetensors}, loadable by PyTorch's
 * safetensors library into an {@code nn.Sequential} of the same layers) and, beside it, the architecture and
 * training configuration in JSON ({@code model.json}). Both are written atomically.
 */
public final class ModelFile {
    private ModelFile() {}

    /** What a model file holds. */
    public record Loaded(MlpSpec spec, Sequential model, Map<String, Object> training) {}

    /** The JSON file that goes with a weights file: same name, extension {@code .json}. */
    public static Path configPath(Path weights) {
        String name = weights.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return weights.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".json");
    }

    public static void save(Path weights, MlpSpec spec, Sequential model, Map<String, Object> training) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", "deltagrad-mlp/1");
        json.put("weights", weights.getFileName().toString());
        Map<String, Object> arch = new LinkedHashMap<>();
        arch.put("inputs", spec.inputs());
        arch.put("hidden", spec.hidden());
        arch.put("outputs", spec.outputs());
        arch.put("activation", spec.activation().id());
        arch.put("activate_output", spec.activateOutput());
        if (spec.classNames() != null) arch.put("class_names", spec.classNames());
        if (spec.imageShape() != null) arch.put("image_shape", spec.imageShape());
        json.put("architecture", arch);
        json.put("training", training == null ? Map.of() : training);
        SafeTensors.write(weights, model.stateDict(), Map.of("format", "pt", "deltagrad", "deltagrad-mlp/1"));
        AtomicFiles.write(configPath(weights), Json.write(json).getBytes(StandardCharsets.UTF_8));
    }

    /** Loads and checks a model: the JSON must describe the architecture, and the weights must match it exactly. */
    @SuppressWarnings("unchecked")
    public static Loaded load(Path weights) {
        Path config = configPath(weights);
        if (!Files.isRegularFile(weights)) throw new IllegalArgumentException(weights + ": no such model file");
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException(config + ": missing; a model needs its architecture file beside the weights");
        }
        Map<String, Object> json;
        try {
            Object parsed = Json.parse(Files.readString(config, StandardCharsets.UTF_8));
            if (!(parsed instanceof Map)) throw new IllegalArgumentException(config + ": expected a JSON object");
            json = (Map<String, Object>) parsed;
        } catch (IOException e) {
            throw new UncheckedIOException(config + ": " + e.getMessage(), e);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException(config + ": not valid JSON (" + e.getMessage() + ")");
        }
        MlpSpec spec;
        try {
            Map<String, Object> arch = (Map<String, Object>) json.get("architecture");
            List<String> names = (List<String>) arch.get("class_names");
            spec = new MlpSpec(intOf(arch.get("inputs")), ints(arch.get("hidden")), intOf(arch.get("outputs")),
                    Activation.parse((String) arch.get("activation")), Boolean.TRUE.equals(arch.get("activate_output")),
                    names, arch.get("image_shape") == null ? null : ints(arch.get("image_shape")));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(config + ": expected an \"architecture\" object with inputs, hidden, outputs "
                    + "and activation (" + e.getMessage() + ")");
        }
        Map<String, Tensor> state = SafeTensors.read(weights).tensors();
        Sequential model = spec.build(0);
        try {
            model.loadStateDict(state);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(weights + ": does not match the architecture " + spec + " in " + config
                    + ": " + e.getMessage());
        }
        Object training = json.get("training");
        return new Loaded(spec, model, training instanceof Map ? (Map<String, Object>) training : Map.of());
    }

    private static int intOf(Object o) {
        return ((Number) o).intValue();
    }

    private static int[] ints(Object o) {
        List<?> l = (List<?>) o;
        List<Integer> out = new ArrayList<>();
        for (Object v : l) out.add(intOf(v));
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
