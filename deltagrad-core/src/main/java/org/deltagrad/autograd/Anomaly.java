package org.deltagrad.autograd;

import java.util.Arrays;
import java.util.Set;

import org.deltagrad.Tensor;

/** The checks of {@link Autograd#detectAnomaly()}: each scans a result only, and its inputs only if that is not finite. */
final class Anomaly {
    private Anomaly() {}

    /** The autograd classes whose frames are not "where the op was created" (the rest of the package is user-facing). */
    private static final Set<String> MACHINERY = Set.of("Autograd", "Node", "Engine", "Function", "Anomaly", "AutogradMeta");

    /** A forward op made a non-finite output from finite inputs, or read a non-finite leaf that requires grad. */
    static void checkForward(String op, Tensor output, Tensor[] inputs) {
        String made = nonFinite(output);
        if (made == null) return;
        String problem = "it made " + made + " from finite inputs";
        for (int i = 0; i < inputs.length; i++) {
            String held = inputs[i] == null ? null : nonFinite(inputs[i]);
            if (held == null) continue;
            if (!inputs[i].requiresGrad() || !inputs[i].isLeaf()) {
                problem = null; // made upstream, and reported there if it could be; unless a parameter comes later
            } else {
                problem = "input " + i + " is a leaf that requires grad (a parameter) holding " + held
                        + ", written outside the graph (by an optimiser step or an in-place write)";
                break;
            }
        }
        if (problem == null) return;
        Throwable here = new Throwable("the forward op '" + op + "' was created here");
        String site = site(here);
        throw new AnomalyException("anomaly in the forward of '" + op + "': " + problem + " (input shapes "
                + shapes(inputs) + "; output shape " + Arrays.toString(output.shape()) + "); created at " + site,
                op, false, site, here);
    }

    /** A backward rule made a non-finite gradient (already fitted to its input) from a finite incoming one. */
    static void checkBackward(Node node, Tensor gradOutput, Tensor[] gradInputs) {
        for (int i = 0; i < gradInputs.length; i++) {
            String made = gradInputs[i] == null ? null : nonFinite(gradInputs[i]);
            if (made == null) continue;
            if (nonFinite(gradOutput) != null) return; // the rule passed on what it was given
            String site = node.creation == null ? "unknown (the forward ran outside Autograd.detectAnomaly())" : site(node.creation);
            throw new AnomalyException("anomaly in the backward of '" + node.name() + "': it made " + made
                    + " in the gradient of input " + i + " (shape " + Arrays.toString(gradInputs[i].shape())
                    + ") from a finite gradient of its output (shape " + Arrays.toString(gradOutput.shape())
                    + "); the forward op was created at " + site, node.name(), true, site, node.creation);
        }
    }

    /** "NaN", "Infinity" or "-Infinity" for the first non-finite element, or null when all are finite. */
    private static String nonFinite(Tensor t) {
        for (double v : t.toDoubleArray()) {
            if (!Double.isFinite(v)) return Double.toString(v);
        }
        return null;
    }

    private static String shapes(Tensor[] tensors) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : tensors) {
            if (sb.length() > 0) sb.append(", ");
            sb.append(t == null ? "-" : Arrays.toString(t.shape()));
        }
        return sb.toString();
    }

    /** The first frame outside the tensor ops, kernels and autograd machinery: a layer, a trainer, user code. */
    static String site(Throwable creation) {
        for (StackTraceElement frame : creation.getStackTrace()) {
            if (!machinery(frame.getClassName())) return frame.toString();
        }
        return "unknown";
    }

    private static boolean machinery(String className) {
        int dot = className.lastIndexOf('.');
        String pkg = dot < 0 ? "" : className.substring(0, dot);
        String top = className.substring(dot + 1).split("\\$", 2)[0];
        return pkg.equals("org.deltagrad") || pkg.equals("org.deltagrad.kernels")
                || (pkg.equals("org.deltagrad.autograd") && MACHINERY.contains(top));
    }
}
