package org.deltagrad.nn;

import org.deltagrad.Tensor;

/** torch.nn.Flatten's default: [N, d1, d2, …] to [N, d1·d2·…], keeping the batch axis. */
public final class Flatten extends Module {
    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() == 0) throw new IllegalArgumentException("Flatten: input must have a batch axis, got a scalar");
        return x.reshape(x.shape(0), -1);
    }
}
