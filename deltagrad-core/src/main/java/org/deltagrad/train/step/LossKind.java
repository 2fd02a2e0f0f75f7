package org.deltagrad.train.step;

/** The training losses a step knows, both averaged over the batch. */
public enum LossKind {
    /** Cross-entropy of the output as logits against class indices (PyTorch's F.cross_entropy). */
    CROSS_ENTROPY,
    /** Nielsen's quadratic cost 1/(2n)·Σ‖y − a‖² of the output against one-hot targets. */
    QUADRATIC
}
