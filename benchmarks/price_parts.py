"""What each part of the training step costs: the step timed with that part made free.

    python benchmarks/price_parts.py                            # dcgan28, batch 64
    python benchmarks/price_parts.py --arch dcgan64 --rounds 2 --repeats 3

A per-layer timer (``bench_step.py --layers``) says how long a layer takes,
but not how much faster the step would get if the layer were rewritten: the
work around it moves too (a GEMM that follows gets its input from memory
instead of cache, a fresh array's pages are faulted in somewhere else). So
this script measures the step itself, once as it is and once per part with
that part made **free**: the part hands back the result of its first call
with the same input shapes, computing nothing. The numbers the step then
computes are wrong; only its time means anything. The difference to the full
step bounds what any rewrite of that part could buy.

The parts (each named where it lives):

- ``im2col``       the window copies of every convolution (``minigan/fast/im2col.py::im2col``)
- ``pad``          the zero padding inside them (``numpy.pad``)
- ``batchnorm``    BatchNorm's forward and backward (``minigan/fast/batchnorm.py::rows_forward``, ``rows_backward``)
- ``activations``  ReLU, LeakyReLU, Tanh and Sigmoid, forward and backward (``minigan/nn/activations.py``)
- ``adam``         the optimizer updates (``minigan/optim.py::Adam.step``; nothing is updated)

Rounds run every variant in turn, in one process, starting with a different
one each round, so that a noisy neighbour slows them all alike; the table
gives each variant's fastest step and its median over all rounds. Like
every figure in docs/performance.md it starts with the machine.
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout, no install needed
from minigan.fast import blas  # noqa: E402
blas.shorten_spin()  # before NumPy, as minigan's own commands do (minigan/fast/blas.py)

PARTS = ("im2col", "pad", "batchnorm", "activations", "adam")


def first_result_again(fn):
    """``fn`` made free: each call returns what the first call with the same input shapes returned."""
    results = {}

    def free(*args, **kwargs):
        key = tuple(getattr(a, "shape", None) or repr(a) for a in args) + tuple(sorted(kwargs))
        if key not in results:
            results[key] = fn(*args, **kwargs)
        return results[key]
    return free


def free_layer_method(cls, name):
    """``cls.name`` made free per layer: the first (result, cache) of this layer for these shapes, again."""
    fn, results = getattr(cls, name), {}

    def free(self, a):
        key = (id(self), a.shape)
        if key not in results:
            results[key] = (fn(self, a), self.cache)
        y, self.cache = results[key]
        return y
    return free


@contextlib.contextmanager
def made_free(part):
    """Within the block, ``part`` computes nothing (see the module docstring); put back afterwards."""
    import numpy as np

    from minigan.fast import batchnorm, conv2d, conv_transpose2d
    from minigan.nn import activations
    from minigan.optim import Adam

    swaps = []                                               # (owner, attribute name, replacement)
    if part == "im2col":
        swaps += [(m, "im2col", first_result_again(m.im2col)) for m in (conv2d, conv_transpose2d)]
    elif part == "pad":
        swaps += [(np, "pad", first_result_again(np.pad))]
    elif part == "batchnorm":
        swaps += [(batchnorm, name, first_result_again(getattr(batchnorm, name)))
                  for name in ("rows_forward", "rows_backward")]
    elif part == "activations":
        swaps += [(cls, method, free_layer_method(cls, method))
                  for cls in (activations.ReLU, activations.LeakyReLU, activations.Tanh, activations.Sigmoid)
                  for method in ("forward", "backward")]
    elif part == "adam":
        swaps += [(Adam, "step", lambda self, apply=True: None)]
    elif part != "none":
        raise ValueError(f"unknown part {part!r}; choose from {', '.join(PARTS)}")
    originals = [(owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name))
                 for owner, name, _ in swaps]
    try:
        for owner, name, replacement in swaps:
            setattr(owner, name, replacement)
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def price_parts(arch="dcgan28", batch=64, parts=PARTS, rounds=3, repeats=5, warmup=2):
    """``{variant: [step seconds, ...]}`` for "none" (the whole step) and each part made free."""
    import numpy as np

    from minigan.models import ARCHITECTURES
    from minigan.train import GANTrainer

    G, D = ARCHITECTURES[arch]()
    trainer = GANTrainer(G, D, seed=0)
    size = 28 if arch == "dcgan28" else 64
    x = np.random.default_rng(0).uniform(-1, 1, (batch, D.layers[0].in_channels, size, size)).astype(np.float32)
    variants = ("none", *parts)
    times = {v: [] for v in variants}
    for _ in range(warmup):
        trainer.step(x)["loss_d"]
    for r in range(rounds):
        for variant in variants[r % len(variants):] + variants[:r % len(variants)]:
            with made_free(variant):
                trainer.step(x)["loss_d"]                    # fills the part's results for these shapes
                for _ in range(repeats):
                    t = time.perf_counter()
                    trainer.step(x)["loss_d"]                # read, as the job reads every step's numbers
                    times[variant].append(time.perf_counter() - t)
    return times


def report(times) -> str:
    """A markdown table: each variant's fastest and median step, and what making the part free saved."""
    base_min, base_med = min(times["none"]) * 1e3, statistics.median(times["none"]) * 1e3
    lines = ["| made free | fastest step ms | median ms | saves (fastest) | saves (median) |",
             "|---|---:|---:|---:|---:|"]
    for variant, ts in times.items():
        lo, med = min(ts) * 1e3, statistics.median(ts) * 1e3
        saves = ("", "") if variant == "none" else (f"{base_min - lo:.1f} ms", f"{base_med - med:.1f} ms")
        lines.append(f"| {'nothing (the whole step)' if variant == 'none' else variant} | {lo:.1f} | {med:.1f} | "
                     f"{saves[0]} | {saves[1]} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", choices=("dcgan28", "dcgan64"), default="dcgan28")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, from: {', '.join(PARTS)}")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=5, help="timed steps per variant per round")
    p.add_argument("--warmup", type=int, default=2)
    args = p.parse_args(argv)
    parts = tuple(s for s in args.parts.split(",") if s)
    unknown = [s for s in parts if s not in PARTS]
    if unknown or args.batch < 2 or min(args.rounds, args.repeats) < 1 or args.warmup < 0:
        what = f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}" if unknown else \
            "need --batch >= 2, --rounds >= 1, --repeats >= 1, --warmup >= 0"
        print(f"price_parts.py: {what}", file=sys.stderr)
        return 2
    import machine_info

    __import__("numpy")                          # loaded before asking which BLAS is loaded

    print(f"machine: {machine_info.cpu_model()}; BLAS: {machine_info.blas_summary(machine_info.blas_libraries())}")
    print(f"{args.arch}, batch {args.batch}: {args.rounds} rounds x {args.repeats} steps per variant\n")
    print(report(price_parts(args.arch, args.batch, parts, args.rounds, args.repeats, args.warmup)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
