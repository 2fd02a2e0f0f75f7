package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** The hidden-layer nonlinearities of a multilayer perceptron, by their command-line names. */
public enum Activation {
    RELU("relu", Init.HE_NORMAL),
    SIGMOID("sigmoid", Init.NIELSEN),
    TANH("tanh", Init.XAVIER_NORMAL);

    private final String id;
    private final Init init;

    Activation(String id, Init init) {
        this.id = id;
        this.init = init;
    }

    /** The name used on the command line and in model files. */
    public String id() {
        return id;
    }

    /** The weight initialisation that suits this activation (He for ReLU, Nielsen's for sigmoid, Glorot for tanh). */
    public Init defaultInit() {
        return init;
    }

    public Module module() {
        return switch (this) {
            case RELU -> new ReLU();
            case SIGMOID -> new Sigmoid();
            case TANH -> new Tanh();
        };
    }

    /**
     * f′(z) computed from the activation a = f(z) — σ′ = a(1−a), tanh′ = 1−a², relu′ = [a&gt;0] — used to
     * measure saturation (the slow-learning regime where f′ ≈ 0).
     */
    public Tensor derivativeFromOutput(Tensor a) {
        return switch (this) {
            case SIGMOID -> a.mul(a.neg().add(1));
            case TANH -> a.mul(a).neg().add(1);
            case RELU -> a.gt(0);
        };
    }

    public static Activation parse(String name) {
        for (Activation a : values()) if (a.id.equalsIgnoreCase(name)) return a;
        throw new IllegalArgumentException("unknown activation '" + name + "' (choose relu, sigmoid or tanh)");
    }
}
