package org.deltagrad.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.deltagrad.Tensor;

/** Layers applied one after another; the i-th layer is named {@code "i"}, as in PyTorch's nn.Sequential. */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... layers) {
        for (Module m : layers) add(m);
    }

    /** Appends a layer (named by its position); returns this. */
    public Sequential add(Module layer) {
        layers.add(registerModule(Integer.toString(layers.size()), layer));
        return this;
    }

    public Module get(int index) {
        return layers.get(index);
    }

    public int size() {
        return layers.size();
    }

    public List<Module> layers() {
        return Collections.unmodifiableList(layers);
    }

    @Override
    public Tensor forward(Tensor x) {
        for (Module m : layers) x = m.forward(x);
        return x;
    }
}
