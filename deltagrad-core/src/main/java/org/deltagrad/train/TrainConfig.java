package org.deltagrad.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.deltagrad.nn.Activation;

/** Everything that decides a training run; the command line's flags map one to one onto these fields. */
public final class TrainConfig {
    public String dataset = "spirals";
    public Path dataDir;
    public int[] hidden = {64, 64};
    public Activation activation = Activation.RELU;
    /** {@code cross-entropy} (softmax output, logits) or {@code mse} (Nielsen's quadratic cost, activated output). */
    public String loss = "cross-entropy";
    /** sgd, momentum, nesterov, adam, adamw or rmsprop. */
    public String optimizer = "adam";
    public double lr = 0.01;
    public double momentum = 0.9;
    public double weightDecay = 0;
    public int batch = 32;
    public int epochs = 100;
    public long seed = 1;
    /** Worker threads for the kernels (0: all cores). */
    public int threads = 0;
    /** constant, cosine or step (×0.1 every third of the run). */
    public String schedule = "cosine";
    /** Clip the global gradient norm to this (0: no clipping). */
    public double clipNorm = 0;
    /** Dropout probability after each hidden activation (0: none); the saved model is the same network without it. */
    public double dropout = 0;
    /** Record per-layer δ, gradient norms and saturation every epoch (issue: learning slowdown). */
    public boolean diagnostics;
    /** Measure test accuracy after every epoch (benchmarks turn this off). */
    public boolean evaluateEachEpoch = true;

    /** Checks the values and names a bad one in one line. */
    public TrainConfig validate() {
        require(epochs >= 1, "--epochs must be at least 1 (got " + epochs + ")");
        require(batch >= 1, "--batch must be at least 1 (got " + batch + ")");
        require(lr > 0 && Double.isFinite(lr), "--lr must be a positive number (got " + lr + ")");
        require(momentum >= 0 && momentum < 1, "--momentum must be in [0, 1) (got " + momentum + ")");
        require(weightDecay >= 0, "--weight-decay must be non-negative (got " + weightDecay + ")");
        require(threads >= 0, "--threads must be non-negative (got " + threads + ")");
        require(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1) (got " + dropout + ")");
        require(clipNorm >= 0, "--clip-norm must be non-negative (got " + clipNorm + ")");
        for (int h : hidden) require(h > 0, "--layers sizes must be positive (got " + Arrays.toString(hidden) + ")");
        require(loss.equals("cross-entropy") || loss.equals("mse"), "unknown --loss '" + loss + "' (choose cross-entropy or mse)");
        require(java.util.List.of("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop").contains(optimizer),
                "unknown --optimizer '" + optimizer + "' (choose sgd, momentum, nesterov, adam, adamw or rmsprop)");
        require(java.util.List.of("constant", "cosine", "step").contains(schedule),
                "unknown --schedule '" + schedule + "' (choose constant, cosine or step)");
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** The configuration as it goes into reports and model files. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dataset", dataset);
        m.put("layers", hidden.clone());
        m.put("activation", activation.id());
        m.put("loss", loss);
        m.put("optimizer", optimizer);
        m.put("lr", lr);
        m.put("momentum", momentum);
        m.put("weight_decay", weightDecay);
        m.put("batch", batch);
        m.put("epochs", epochs);
        m.put("seed", seed);
        m.put("threads", threads);
        m.put("schedule", schedule);
        m.put("clip_norm", clipNorm);
        if (dropout > 0) m.put("dropout", dropout);
        return m;
    }
}
