package org.deltagrad;

import java.util.Arrays;

import org.deltagrad.kernels.FusedOptim;
import org.deltagrad.kernels.Parallel;

/**
 * Optimiser updates in one pass over memory (PyTorch's fused Adam and SGD): checks the operands, lines them up
 * for {@link FusedOptim}'s loops and splits large tensors over the worker pool. Parameter and state tensors are
 * written in place; the gradient is only read. The results are the same bits on any thread count.
 *
 * <p>In this package, not in {@code optim}, because it hands the tensors' arrays to the kernels and Tensor
 * exposes no raw arrays publicly.
 */
public final class FusedOptimizers {
    private FusedOptimizers() {}

    /** SGD with momentum (see {@link FusedOptim#sgdMomentum(float[], float[], float[], int, int, double, double, double, double, boolean, boolean)}). */
    public static void sgdMomentum(Tensor param, Tensor grad, Tensor velocity, double lr, double weightDecay, double momentum,
                                   double dampening, boolean nesterov, boolean firstStep) {
        run("sgdMomentum", new Tensor[] {param, velocity}, grad,
                (x, at, n) -> FusedOptim.sgdMomentum(x[0], x[2], x[1], at, n, lr, weightDecay, momentum, dampening, nesterov, firstStep),
                (x, at, n) -> FusedOptim.sgdMomentum(x[0], x[2], x[1], at, n, lr, weightDecay, momentum, dampening, nesterov, firstStep));
    }

    /**
     * Adam's step {@code step} (counted from 1) with moment estimates m and v; {@code decoupled} selects AdamW's
     * weight decay (see {@link FusedOptim#adam(float[], float[], float[], float[], int, int, double, double, double, double, double, boolean, int)}).
     */
    public static void adam(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                            double weightDecay, boolean decoupled, int step) {
        run("adam", new Tensor[] {param, m, v}, grad,
                (x, at, n) -> FusedOptim.adam(x[0], x[3], x[1], x[2], at, n, lr, beta1, beta2, eps, weightDecay, decoupled, step),
                (x, at, n) -> FusedOptim.adam(x[0], x[3], x[1], x[2], at, n, lr, beta1, beta2, eps, weightDecay, decoupled, step));
    }

    private interface FloatLoop {
        void run(float[][] x, int at, int n);
    }

    private interface DoubleLoop {
        void run(double[][] x, int at, int n);
    }

    /**
     * Runs the loop over {@code written} (the parameter first, then its state) and {@code grad}, handed to the loop
     * in that order. Every operand goes in at one offset so that the loop indexes all arrays alike; operands at
     * different offsets are worked on in copies at offset 0, and the written ones copied back.
     */
    private static void run(String op, Tensor[] written, Tensor grad, FloatLoop floats, DoubleLoop doubles) {
        Tensor param = written[0];
        Tensor[] all = Arrays.copyOf(written, written.length + 1);
        all[written.length] = grad.live().contiguousUnrecorded();
        for (int k = 0; k < all.length; k++) {
            Tensor t = all[k].live();
            if (!Arrays.equals(t.shape, param.shape) || t.dtype != param.dtype || !t.isContiguous()) {
                throw new IllegalArgumentException(op + ": operand " + k + " (" + Shapes.str(t.shape) + ", " + t.dtype
                        + (t.isContiguous() ? "" : ", not contiguous") + ") does not match the parameter ("
                        + Shapes.str(param.shape) + ", " + param.dtype + ")");
            }
            for (int j = 0; j < k && k < written.length; j++) {
                if (all[j].storage == t.storage) throw new IllegalArgumentException(op + ": operands " + j + " and " + k + " share memory");
            }
        }
        param.checkInPlace(op);
        for (int k = 1; k < written.length; k++) written[k].storage.version++;

        int n = param.numel();
        boolean sameOffset = true;
        for (Tensor t : all) sameOffset &= t.offset == param.offset;
        int at = sameOffset ? param.offset : 0;
        boolean isFloat = param.storage.floats != null;
        float[][] fx = new float[all.length][];
        double[][] dx = new double[all.length][];
        for (int k = 0; k < all.length; k++) {
            Storage s = all[k].storage;
            int from = all[k].offset;
            if (isFloat) fx[k] = sameOffset ? s.floats : Arrays.copyOfRange(s.floats, from, from + n);
            else dx[k] = sameOffset ? s.doubles : Arrays.copyOfRange(s.doubles, from, from + n);
        }
        Parallel.forRange(n, TensorKernels.ELEMENTWISE_GRAIN, (from, to) -> {
            if (isFloat) floats.run(fx, at + from, to - from); else doubles.run(dx, at + from, to - from);
        });
        if (sameOffset) return;
        for (int k = 0; k < written.length; k++) {
            Storage s = written[k].storage;
            if (isFloat) System.arraycopy(fx[k], 0, s.floats, written[k].offset, n);
            else System.arraycopy(dx[k], 0, s.doubles, written[k].offset, n);
        }
    }
}
