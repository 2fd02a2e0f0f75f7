package org.deltagrad.train;

/** The loss became NaN or infinite: training stops and says where, with a hint. */
public final class TrainingDivergedException extends org.deltagrad.DeltagradException {
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String message) {
        super(message);
    }
}
