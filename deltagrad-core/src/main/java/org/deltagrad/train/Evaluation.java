package org.deltagrad.train;

import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.data.Dataset;
import org.deltagrad.nn.Module;

/**
 * Accuracy, per-class accuracy and the confusion matrix (rows: true class, columns: predicted). {@link #of}
 * runs the model under {@code noGrad} in eval mode and only reads it, so several threads may evaluate one model
 * at once if it is already in eval mode (of a model in training mode it switches the mode, and back).
 */
public record Evaluation(double accuracy, double[] perClassAccuracy, long[][] confusion) {

    public static Evaluation of(Module model, Dataset data, int batch) {
        int k = data.numClasses();
        long[][] confusion = new long[k][k];
        boolean wasTraining = model.isTraining();
        model.eval();
        try (Autograd.Scope s = Autograd.noGrad()) {
            int n = data.size();
            for (int start = 0; start < n; start += batch) {
                int[] rows = new int[Math.min(batch, n - start)];
                for (int i = 0; i < rows.length; i++) rows[i] = start + i;
                int[] predicted = predictions(model.forward(data.features(rows)));
                for (int i = 0; i < rows.length; i++) confusion[data.label(rows[i])][predicted[i]]++;
            }
        } finally {
            model.train(wasTraining);
        }
        long correct = 0, total = 0;
        double[] perClass = new double[k];
        for (int c = 0; c < k; c++) {
            long row = 0;
            for (int p = 0; p < k; p++) row += confusion[c][p];
            perClass[c] = row == 0 ? Double.NaN : (double) confusion[c][c] / row;
            correct += confusion[c][c];
            total += row;
        }
        return new Evaluation(total == 0 ? Double.NaN : (double) correct / total, perClass, confusion);
    }

    /** The arg-max class of each row of a [batch, classes] output. */
    public static int[] predictions(Tensor output) {
        float[] idx = output.argmax(1, false).toFloatArray();
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) out[i] = (int) idx[i];
        return out;
    }
}
