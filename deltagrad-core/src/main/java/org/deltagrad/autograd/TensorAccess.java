package org.deltagrad.autograd;

import org.deltagrad.Tensor;

/**
 * The two things the graph needs to do to a tensor that are not public API: attach the node that produced
 * it, and find (or create) the node its gradient flows into. Implemented once, by {@link Tensor}.
 */
public interface TensorAccess {
    void setGradFn(Tensor output, Node node);

    /** The node a gradient for {@code t} is sent to: its grad_fn, or its leaf accumulator. */
    Node edgeTo(Tensor t);

    /** The allocation serial of the storage behind {@code t} (views share it). */
    long storageSerial(Tensor t);

    /** The serial the next allocated storage will get. */
    long nextSerial();
}
