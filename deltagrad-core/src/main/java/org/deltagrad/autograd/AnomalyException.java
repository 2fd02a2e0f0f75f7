package org.deltagrad.autograd;

import org.deltagrad.DeltagradException;

/**
 * Thrown under {@link Autograd#detectAnomaly()} by the first op, forward or backward, that made a NaN or an
 * infinity from finite inputs. The message names the op, the phase, the shapes and where the forward op was
 * created (the first frame outside the tensor and autograd code); the cause holds the full creation trace.
 */
public final class AnomalyException extends DeltagradException {
    private static final long serialVersionUID = 1L;

    private final String op;
    private final boolean backward;
    private final String createdAt;

    AnomalyException(String message, String op, boolean backward, String createdAt, Throwable creation) {
        super(message, creation);
        this.op = op;
        this.backward = backward;
        this.createdAt = createdAt;
    }

    /** The op's name as recorded in the graph, e.g. {@code log}. */
    public String op() {
        return op;
    }

    /** True when the op's backward rule made the value, false when its forward did. */
    public boolean inBackward() {
        return backward;
    }

    /** The stack frame that created the forward op, e.g. {@code com.example.Net.forward(Net.java:42)}; or "unknown". */
    public String createdAt() {
        return createdAt;
    }

    /** The same anomaly with {@code context} (e.g. "epoch 3, batch 17") in front of the message. */
    public AnomalyException in(String context) {
        AnomalyException e = new AnomalyException(context + ": " + getMessage(), op, backward, createdAt, getCause());
        e.setStackTrace(getStackTrace());
        return e;
    }
}
