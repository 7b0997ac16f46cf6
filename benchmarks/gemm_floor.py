"""The floor under a minigan step: the step's GEMMs alone, timed again and again, and who runs them.

Each conv layer of a step is three matrix products (GEMMs) -- forward, weight
gradient, input gradient -- plus the im2col/col2im, BatchNorm, activations,
Adam and Python around them. So is each Linear and Maxout layer (mlp2d's), a
1x1 conv of a 1x1 picture: ``y = x W^T``, ``dW = dy^T x``, ``dx = dy W``. Timing exactly those GEMMs by themselves (same
shapes, same orientations, same batch chunks, random float32 operands) says
what the step would cost if everything else were free: the floor of the
im2col design on this machine.

One timing of the floor is not enough: on a 2-core machine the same sum moved
from 570 to 930 ms between two quiet runs. So :func:`gemm_floor` repeats it
and reports every repetition (print the spread), and :func:`thread_scaling`
checks, shape by shape, that a GEMM really uses its BLAS threads: threadpoolctl
tells which kernel and how many threads a *library* has, not what one *call*
does, so a shape is timed at 1 thread and at N and one that does not speed up
is named.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from minigan import nn
from minigan.models import ARCHITECTURES, mlp_points
from minigan.fast.gemm import matmul_tn
from minigan.fast.im2col import batch_chunks

import machine_info

try:
    from threadpoolctl import threadpool_limits
except ImportError:          # optional: without it the floor is still timed, the threads are not checked
    threadpool_limits = None

#: A GEMM on N threads that is not at least SCALES * N times faster than on one is named in the report.
SCALES = 0.6
#: ... if it takes at least this share of the floor (OpenBLAS runs tiny products on one thread, rightly).
MATTERS = 0.01

#: The three orientations of the conv layers' GEMMs: ``a @ b``, ``a @ b.T``, ``matmul_tn(a, b) = a.T @ b``.
PRODUCTS = {"nn": lambda a, b: a @ b, "nt": lambda a, b: a @ b.T, "tn": matmul_tn}


#: The layers whose work is GEMMs; a Linear or Maxout is a Conv2d with a 1x1 kernel on 1x1 pictures.
GEMM_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Maxout)


def networks(arch):
    """minigan's ``(G, D)`` of ``arch`` (bench_step.py's names: dcgan28, dcgan64, mlp2d)."""
    return mlp_points() if arch == "mlp2d" else ARCHITECTURES[arch]()


def gemm_layers(arch):
    """Each GEMM layer of a step: ``(name, layer, pixels, (forward, weight_grad, input_grad))``.

    ``name`` is "G.3 ConvTranspose2d" as in ``bench_step.py --layers``;
    ``pixels`` is M / batch for the layer's GEMMs (output pixels of a conv,
    input pixels of a transposed conv, 1 for Linear and Maxout); the three
    counts say how often each product runs per step. D runs forward 3x (real,
    fake, fake again in G's step), weight gradient 2x (D is frozen in G's step)
    and input gradient 3x, except its first layer (1x: only G's step needs
    dLoss/dx); G runs each product once, except the input gradient of its first
    layer (never: nothing learns z). "First" is the layer whose ``input_grad`` the
    trainer turns off, ``nn.first_layer_with_input_grad(net)``: in the MLPs the
    first Linear or Maxout, behind Flatten (and Pack, Dropout).
    """
    G, D = networks(arch)
    z = np.zeros((2, *(getattr(G, "input_shape", None) or (G.layers[0].in_channels, 1, 1))), np.float32)
    for net_name, net, x, (fwd, dW, dx, dx_first) in (("G", G, z, (1, 1, 1, 0)), ("D", D, G.eval()(z), (3, 2, 3, 1))):
        first = nn.first_layer_with_input_grad(net)
        for i, layer in enumerate(net.layers):                       # 2 samples: only the shapes matter
            y = layer.forward(x)
            if isinstance(layer, GEMM_LAYERS):
                pixels = x.shape[2] * x.shape[3] if isinstance(layer, nn.ConvTranspose2d) else (
                    y.shape[2] * y.shape[3] if isinstance(layer, nn.Conv2d) else 1)
                yield f"{net_name}.{i} {type(layer).__name__}", layer, pixels, (fwd, dW, dx_first if layer is first else dx)
            x = y


def gemm_sizes(layer):
    """``(C, F, taps)`` of a GEMM layer: input channels (features), output channels (rows of W), kernel taps.

    A Maxout's W has ``out_features * pieces`` rows: its GEMMs are those of a Linear that wide.
    """
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        kh, kw = layer.kernel_size
        return layer.in_channels, layer.out_channels, kh * kw
    F = layer.out_features * getattr(layer, "pieces", 1)
    return layer.in_features, F, 1


def step_gemm_flops(arch, batch):
    """FLOPs of the GEMMs one minigan step performs, from the layer shapes.

    A layer's GEMM is (M x K) @ (K x F) = 2*M*K*F FLOPs, M = batch * pixels,
    K = taps * C, and each of its three products -- forward, input gradient,
    weight gradient -- costs the same; :func:`gemm_layers` says how often each runs.
    """
    total = 0
    for _, layer, pixels, counts in gemm_layers(arch):
        C, F, taps = gemm_sizes(layer)
        total += 2 * batch * pixels * taps * C * F * sum(counts)
    return total


def step_gemms(arch, batch):
    """Every distinct GEMM of one step: ``{(a_shape, b_shape, kind): (count per step, [who runs it])}``.

    ``kind`` is a key of :data:`PRODUCTS`. The shapes follow the conv layers' batch
    chunks (``minigan.fast.im2col.batch_chunks``), so a layer whose window matrix
    is split into chunks contributes one GEMM per chunk; Linear and Maxout take the
    whole batch at once.
    """
    gemms = {}
    for name, layer, pixels, (fwd, dW, dx) in gemm_layers(arch):
        C, F, taps = gemm_sizes(layer)
        transposed = isinstance(layer, nn.ConvTranspose2d)
        K = taps * (F if transposed else C)                              # width of the window matrix
        chunks = (batch_chunks(np.empty((batch, 0), np.float32), pixels * K * 4)    # the layer's chunks
                  if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) else [slice(0, batch)])
        for b in chunks:
            m = (b.stop - b.start) * pixels
            if not transposed:                 # y = cols Wm^T; dWm = dy^T cols; dcols = dy Wm (cols = x: Linear)
                products = (((m, K), (F, K), "nt"), ((m, F), (m, K), "tn"), ((m, F), (F, K), "nn"))
            else:                              # cols = x Wm; dWm = x^T dcols; dx = dcols Wm^T
                products = (((m, C), (C, K), "nn"), ((m, C), (m, K), "tn"), ((m, K), (C, K), "nt"))
            for n, what, key in zip((fwd, dW, dx), ("forward", "weight grad", "input grad"), products):
                if n:
                    count, who = gemms.get(key, (0, []))
                    gemms[key] = (count + n, who + [f"{name} {what}"])
    return gemms


def gemm_dims(key):
    """``(M, N, K)`` of a GEMM key: its output is M x N, its shared axis K; it costs 2*M*N*K FLOPs."""
    (a0, a1), (b0, b1), kind = key
    return {"nn": (a0, b1, a1), "nt": (a0, b0, a1), "tn": (a1, b1, a0)}[kind]


def best_ms(a, b, kind, inner=3):
    """Best of ``inner`` timings of one product, in milliseconds (after one untimed call)."""
    f = PRODUCTS[kind]
    f(a, b)
    times = []
    for _ in range(inner):
        t = time.perf_counter()
        f(a, b)
        times.append(time.perf_counter() - t)
    return 1000 * min(times)


def gemm_floor(arch, batch, repeats=5, inner=3, seed=0):
    """The step's GEMMs alone, ``repeats`` times: ``(totals_ms, {key: [ms per repeat]})``.

    Each repetition times every distinct GEMM (best of ``inner``) and adds
    them up with their counts per step; the repetitions interleave the shapes,
    so a slow spell of the machine shows as spread, not as one slow shape.
    """
    rng = np.random.default_rng(seed)
    gemms = step_gemms(arch, batch)
    operands = {key: (rng.standard_normal(key[0], dtype=np.float32), rng.standard_normal(key[1], dtype=np.float32))
                for key in gemms}
    per_shape = {key: [] for key in gemms}
    totals = []
    for _ in range(repeats):
        total = 0.0
        for key, (count, _) in gemms.items():
            ms = best_ms(*operands[key], key[2], inner)
            per_shape[key].append(ms)
            total += count * ms
        totals.append(total)
    return totals, per_shape


def thread_scaling(arch, batch, inner=5, seed=0):
    """``{key: (ms at 1 BLAS thread, ms at the configured threads)}`` per distinct GEMM; None without threadpoolctl.

    A GEMM big enough to split should run nearly N times faster on N threads.
    One that does not is running on fewer threads than configured (OpenBLAS
    picks one thread for small products) or is bound by memory: either way,
    its time in the floor is not the machine's GEMM speed.
    """
    if threadpool_limits is None:
        return None
    rng = np.random.default_rng(seed)
    out = {}
    for key in step_gemms(arch, batch):
        a, b = rng.standard_normal(key[0], dtype=np.float32), rng.standard_normal(key[1], dtype=np.float32)
        with threadpool_limits(limits=1, user_api="blas"):
            one = best_ms(a, b, key[2], inner)              # then, outside the with: the configured threads
        out[key] = (one, best_ms(a, b, key[2], inner))
    return out


def spread(values):
    """``(min, median, max)`` of a list of timings."""
    return min(values), statistics.median(values), max(values)


def sgemm_rate(n=2048, repeats=5):
    """GFLOP/s of a float32 n^3 matrix product with NumPy (best of ``repeats``): this machine's GEMM speed.

    The best, not the median: one product takes ~0.1 s, and a neighbour's burst
    during two of three products made the median read 108 GFLOP/s on a machine
    whose step GEMMs ran at 190 (2026-11-29). The best is what the machine can do.
    """
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return 2 * n**3 / min(times) / 1e9


# ---------------------------------------------------------------------------- the report
def report_lines(floor, step_ms, torch_ms, sgemm, threads):
    """What ``bench_step.py --gemm-floor`` prints under a configuration, from the floor child's result.

    ``floor`` holds ``totals_ms`` (one sum per repetition), ``blas``
    (:func:`machine_info.blas_libraries` in the floor's process) and
    ``shapes`` (per distinct GEMM: ``dims`` (M, N, K), ``kind``, ``count``,
    ``who``, ``ms`` per repetition, ``scaling`` (ms at 1 thread, at
    ``threads``) or None). ``step_ms``/``torch_ms``/``sgemm`` may be None.
    """
    lo, mid, hi = spread(floor["totals_ms"])    # lo: the floor
    lines = [f"  the step's GEMMs alone, {len(floor['totals_ms'])} repeats (same shapes and chunks, each best of 3): "
             f"min {lo:.0f} / median {mid:.0f} / max {hi:.0f} ms"
             + (f" = {100 * lo / step_ms:.0f}-{100 * hi / step_ms:.0f}% of minigan's step" if step_ms else "")
             + (f", {lo / torch_ms:.2f}-{hi / torch_ms:.2f}x PyTorch's whole step" if torch_ms else ""),
             f"  BLAS in the floor's process: {machine_info.blas_summary(floor['blas'])}"]
    lines += [f"  WARNING: {w}" for w in machine_info.blas_warnings(floor["blas"], threads)]
    scaled = all(s["scaling"] for s in floor["shapes"])
    lines.append("  per GEMM shape (output M x N, shared axis K; x = times per step; ms min/median/max over the repeats"
                 + (f"; speed-up from 1 to {threads} BLAS threads):" if scaled else "):"))
    lines.append(f"    {'M x N x K':<22}{'kind':>5}{'x':>4}{'min':>8}{'median':>8}{'max':>8}{'GFLOP/s':>9}{'% SGEMM':>9}"
                 + (f"{'1->' + str(threads):>8}" if scaled else "") + "  run by")
    poor = []
    for s in sorted(floor["shapes"], key=lambda s: -s["count"] * min(s["ms"])):      # the costliest first
        (m, n, k), (fastest, median, slowest) = s["dims"], spread(s["ms"])
        rate = 2 * m * n * k / fastest / 1e6                                             # GFLOP/s = MFLOP/ms
        who = ", ".join(dict.fromkeys(s["who"]))                                         # one name per layer
        line = (f"    {f'{m} x {n} x {k}':<22}{s['kind']:>5}{s['count']:>4}{fastest:>8.2f}{median:>8.2f}{slowest:>8.2f}"
                f"{rate:>9.0f}" + (f"{100 * rate / sgemm:>8.0f}%" if sgemm else f"{'-':>9}"))
        if scaled:
            speedup = s["scaling"][0] / s["scaling"][1]
            line += f"{speedup:>7.2f}x"
            if speedup < SCALES * threads and s["count"] * fastest >= MATTERS * lo:
                poor.append(f"{m} x {n} x {k} ({who}): {speedup:.2f}x")
                line += " <- does not scale"
        lines.append(line + f"  {who}")
    if threads == 1:
        lines.append("  threads per shape: 1 configured, nothing to check")
    elif not scaled:
        lines.append("  threads per shape: not checked (threadpoolctl is not installed: pip install threadpoolctl)")
    else:
        lines.append(f"  shapes that do not use their {threads} threads (speed-up under {SCALES * threads:.1f}x, "
                     f"{100 * MATTERS:.0f}% of the floor or more):" + ("" if poor else " none"))
        lines += [f"    {p}" for p in poor]
        lines.append("  (threadpoolctl reports kernel and threads per library, not per call: every shape ran on the kernel "
                     "above; one that does not speed up runs on fewer threads than configured or is bound by memory)")
    return lines
