#!/usr/bin/env python3
"""The PyTorch side of deltagrad's training benchmark: the same model (an MLP, or --arch as deltagrad's), data, batch size and optimiser as
`deltagrad bench train`, timed the same way (warm-up epochs, then timed epochs, no evaluation in between).

Run with Debian's PyTorch, one torch thread and OpenBLAS with two threads (its fastest setting on 2 cores):
  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/pytorch_train.py --layers 100 --batch 64
Prints one JSON object with median_epoch_seconds and epoch_seconds.
"""
import argparse
import gzip
import json
import os
import re
import statistics
import struct
import time

import numpy as np
import torch


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data_dir):
    def find(stem):
        for name in (stem + ".gz", stem):
            p = os.path.join(data_dir, name)
            if os.path.exists(p):
                return p
        raise SystemExit(f"missing {stem} in {data_dir}")
    x = read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    y = read_idx(find("train-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def build(arch, act, act_at_output):
    """The flat Sequential deltagrad builds from an --arch spec (conv<C>x<K>[s<S>][p<P>], maxpool<K>, avgpool<K>,
    fc<N>) for a 1x28x28 image: Unflatten first, the activation after every conv and fc, Flatten before the first fc
    after a conv or pool, and the 10-class output layer."""
    shape = (1, 28, 28)
    layers = [torch.nn.Unflatten(1, shape)] if not arch.startswith("fc") else []
    for tok in arch.split(","):
        m = re.fullmatch(r"conv(\d+)x(\d+)(?:s(\d+))?(?:p(\d+))?|(max|avg)pool(\d+)|fc(\d+)", tok)
        if not m:
            raise SystemExit(f"--arch: cannot read {tok!r}")
        if m.group(1):
            c, k, st, pd = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1), int(m.group(4) or 0)
            layers += [torch.nn.Conv2d(shape[0], c, k, st, pd), act()]
            shape = (c, (shape[1] + 2 * pd - k) // st + 1, (shape[2] + 2 * pd - k) // st + 1)
        elif m.group(5):
            k = int(m.group(6))
            layers.append((torch.nn.MaxPool2d if m.group(5) == "max" else torch.nn.AvgPool2d)(k))
            shape = (shape[0], shape[1] // k, shape[2] // k)
        else:
            if len(shape) == 3 and layers:
                layers.append(torch.nn.Flatten())
            width = shape[0] * shape[1] * shape[2] if len(shape) == 3 else shape[0]
            layers += [torch.nn.Linear(width, int(m.group(7))), act()]
            shape = (int(m.group(7)),)
    if len(shape) == 3:
        layers.append(torch.nn.Flatten())
    width = shape[0] * shape[1] * shape[2] if len(shape) == 3 else shape[0]
    layers.append(torch.nn.Linear(width, 10))
    if act_at_output:
        layers.append(act())
    return torch.nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--layers", default="100")
    ap.add_argument("--arch", default=None,
                    help="deltagrad's --arch grammar, e.g. conv16x5,maxpool2,conv32x5,maxpool2,fc100 (overrides --layers)")
    ap.add_argument("--activation", default="relu", choices=["relu", "sigmoid", "tanh"])
    ap.add_argument("--loss", default="cross-entropy", choices=["cross-entropy", "mse"])
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--timed", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = load(a.data_dir)
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[a.activation]
    model = build(a.arch or ",".join("fc" + s for s in a.layers.split(",")), act, a.loss == "mse")
    opt = (torch.optim.Adam if a.optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=a.lr)
    eye = torch.eye(10)
    n = x.shape[0]
    times = []
    for epoch in range(a.warmup + a.timed):
        perm = torch.randperm(n)
        start = time.perf_counter()
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad()
            out = model(xb)
            if a.loss == "mse":
                # Nielsen's quadratic cost C = 1/(2n) Σ‖y − a‖²
                loss = (out - eye[yb]).pow(2).sum() / (2 * xb.shape[0])
            else:
                loss = torch.nn.functional.cross_entropy(out, yb)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    timed = times[a.warmup:]
    print(json.dumps({
        "peer": f"pytorch {torch.__version__}",
        "threads": a.threads,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "median_epoch_seconds": statistics.median(timed),
        "epoch_seconds": timed,
        "model": str(model).replace("\n", " "),
        "final_loss": float(loss),
    }))


if __name__ == "__main__":
    main()
