"""Benchmark one GAN training step (one D update + one G update, BCE, Adam).

Prints, per architecture and batch size: ms/step (median after warm-up),
images/s, achieved GFLOP/s of the convolution GEMMs against this machine's
measured SGEMM rate, peak memory, and -- where PyTorch is installed (it is
never a dependency) -- the same step in PyTorch and the ratio of the two
times. The PyTorch step is its DCGAN example's, with D's weights frozen during
G's update as minigan does, so both frameworks do the same work.

    python benchmarks/bench_step.py                       # NumPy, all configurations
    python benchmarks/bench_step.py --configs dcgan28:64 --layers   # + per-layer breakdown
    python benchmarks/bench_step.py --gemm-floor          # + the step's GEMMs timed alone
    python benchmarks/bench_step.py --backend cupy        # on a GPU, against PyTorch CUDA

Each measurement runs in a fresh child process, so peak memory belongs to one
framework and one configuration; minigan and PyTorch alternate over several
rounds so that a noisy neighbour slows both alike. Quote the ratios: absolute
times on a shared machine move by 50%.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {"cpu": "dcgan28:64,dcgan28:128,dcgan64:64", "gpu": "dcgan28:64,dcgan28:512,dcgan64:128"}


# ---------------------------------------------------------------------------- FLOPs
def conv_layers(arch):
    """Each conv layer of a step: ``(layer, pixels, (forward, weight_grad, input_grad))``.

    ``pixels`` is M / batch for the layer's GEMMs (output pixels of a conv,
    input pixels of a transposed conv); the three counts say how often each
    product runs per step. D runs forward 3x (real, fake, fake again in G's
    step), weight gradient 2x (D is frozen in G's step) and input gradient 3x,
    except its first layer (1x: only G's step needs dLoss/dx); G runs each
    product once, except the input gradient of its first layer (never: nothing
    learns z).
    """
    import numpy as np

    from minigan import nn
    from minigan.models import ARCHITECTURES

    G, D = ARCHITECTURES[arch]()
    z = np.zeros((2, G.layers[0].in_channels, 1, 1), np.float32)     # 2 images: only the shapes matter
    for net, x, (fwd, dW, dx, dx_first) in ((G, z, (1, 1, 1, 0)), (D, G.eval()(z), (3, 2, 3, 1))):
        first = True
        for layer in net.layers:
            y = layer.forward(x)
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                pixels = y.shape[2] * y.shape[3] if isinstance(layer, nn.Conv2d) else x.shape[2] * x.shape[3]
                yield layer, pixels, (fwd, dW, dx_first if first else dx)
                first = False
            x = y


def conv_gemm_flops(arch, batch):
    """FLOPs of the GEMMs one minigan step performs, from the layer shapes.

    A conv layer's GEMM is (M x K) @ (K x F) = 2*M*K*F FLOPs, M = batch * pixels,
    and each of its three products -- forward, input gradient, weight gradient --
    costs the same; :func:`conv_layers` says how often each runs.
    """
    total = 0
    for layer, pixels, counts in conv_layers(arch):
        kh, kw = layer.kernel_size
        total += 2 * batch * pixels * kh * kw * layer.in_channels * layer.out_channels * sum(counts)
    return total


def sgemm_rate():
    """GFLOP/s of a float32 2048^3 matrix product with NumPy (median of 3)."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    a @ a
    times = []
    for _ in range(3):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return 2 * 2048**3 / statistics.median(times) / 1e9


def gemm_floor_ms(arch, batch):
    """Milliseconds the step's GEMMs alone take: the floor of minigan's im2col design here.

    Times, with random float32 operands of exactly the shapes (and batch
    chunks) the conv layers use, each product of each conv layer -- forward,
    weight gradient (``matmul_tn``), input gradient -- and adds them up with
    the counts of :func:`conv_layers`. A step cannot be faster than this
    unless it does fewer or faster GEMMs; everything above it is im2col,
    col2im, BatchNorm, activations, Adam and glue.
    """
    import numpy as np

    from minigan import nn
    from minigan.nn.gemm import matmul_tn
    from minigan.nn.im2col import batch_chunks

    rng = np.random.default_rng(0)
    cache = {}

    def best_ms(a_shape, b_shape, kind):
        """Best of 5 of ``a @ b`` ("nn"), ``a @ b.T`` ("nt") or ``matmul_tn(a, b)`` ("tn")."""
        key = (a_shape, b_shape, kind)
        if key not in cache:
            a = rng.standard_normal(a_shape, dtype=np.float32)
            b = rng.standard_normal(b_shape, dtype=np.float32)
            f = {"nn": lambda: a @ b, "nt": lambda: a @ b.T, "tn": lambda: matmul_tn(a, b)}[kind]
            f()
            times = []
            for _ in range(5):
                t = time.perf_counter()
                f()
                times.append(time.perf_counter() - t)
            cache[key] = 1000 * min(times)
        return cache[key]

    total = 0.0
    for layer, pixels, (fwd, dW, dx) in conv_layers(arch):
        (kh, kw), C, F = layer.kernel_size, layer.in_channels, layer.out_channels
        K = kh * kw * (C if isinstance(layer, nn.Conv2d) else F)        # width of the window matrix
        for b in batch_chunks(np.empty((batch, 0), np.float32), pixels * K * 4):   # the layer's chunks
            m = (b.stop - b.start) * pixels
            if isinstance(layer, nn.Conv2d):   # y = cols Wm^T; dWm = dy^T cols; dcols = dy Wm
                products = (((m, K), (F, K), "nt"), ((m, F), (m, K), "tn"), ((m, F), (F, K), "nn"))
            else:                              # cols = x Wm; dWm = x^T dcols; dx = dcols Wm^T
                products = (((m, C), (C, K), "nn"), ((m, C), (m, K), "tn"), ((m, K), (C, K), "nt"))
            total += sum(n * best_ms(*shapes) for n, shapes in zip((fwd, dW, dx), products))
    return total


# ---------------------------------------------------------------------------- children
def minigan_step_fn(arch, batch, backend, layers):
    import numpy as np

    from minigan.models import ARCHITECTURES
    from minigan.train import GANTrainer

    G, D = ARCHITECTURES[arch]()
    G.to(backend), D.to(backend)
    trainer = GANTrainer(G, D, seed=0)
    nc = D.layers[0].in_channels
    size = 28 if arch == "dcgan28" else 64
    x = np.random.default_rng(0).uniform(-1, 1, (batch, nc, size, size)).astype(np.float32)
    from minigan import backend as B

    x = B.asarray(x, backend)
    timings = {}
    if layers:
        for net_name, net in (("G", G), ("D", D)):
            for i, layer in enumerate(net.layers):
                for method in ("forward", "backward"):
                    key = (f"{net_name}.{i} {type(layer).__name__}", method)
                    timings[key] = 0.0
                    orig = getattr(layer, method)

                    def timed(a, orig=orig, key=key):
                        t = time.perf_counter()
                        out = orig(a)
                        sync()
                        timings[key] += time.perf_counter() - t
                        return out
                    setattr(layer, method, timed)
    if backend == "cupy":
        import cupy

        def sync():
            cupy.cuda.Device().synchronize()
    else:
        def sync():
            pass

    def step():
        trainer.step(x)
        sync()
    return step, timings


def torch_step_fn(arch, batch, backend):
    import torch
    from torch import nn

    device = "cuda" if backend == "cupy" else "cpu"
    nz, ngf, ndf = 100, 64, 64
    if arch == "dcgan28":
        nc, size = 1, 28
        G = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False), nn.Tanh())
        D = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False), nn.Sigmoid())
    else:
        nc, size = 3, 64
        G = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())
        D = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loss = nn.BCELoss()
    x = torch.rand(batch, nc, size, size, device=device) * 2 - 1

    def step():                      # PyTorch's DCGAN example, line for line, except that
        D.zero_grad()                # D's weights are frozen in G's update, as in minigan,
        out = D(x).view(-1)          # so both do the same work
        loss(out, torch.ones_like(out)).backward()
        fake = G(torch.randn(batch, nz, 1, 1, device=device))
        out = D(fake.detach()).view(-1)
        loss(out, torch.zeros_like(out)).backward()
        opt_d.step()
        G.zero_grad()
        D.requires_grad_(False)
        out = D(fake).view(-1)
        loss(out, torch.ones_like(out)).backward()
        D.requires_grad_(True)
        opt_g.step()
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def child(args):
    if args.framework == "torch":
        import torch

        torch.set_num_threads(args.threads)
        step, timings = torch_step_fn(args.arch, args.batch, args.backend), {}
    else:
        step, timings = minigan_step_fn(args.arch, args.batch, args.backend, args.layers)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(args.warmup):
        step()
    for k in timings:
        timings[k] = 0.0
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    gpu_peak = None
    if args.backend == "cupy" and args.framework == "minigan":
        import cupy

        gpu_peak = cupy.get_default_memory_pool().total_bytes()
    elif args.backend == "cupy":
        import torch

        gpu_peak = torch.cuda.max_memory_allocated()
    print(json.dumps({
        "times": times, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": rss_before / 1024, "gpu_peak_mb": gpu_peak and gpu_peak / 2**20,
        "layers": {f"{k[0]}|{k[1]}": v / args.repeats for k, v in timings.items()},
    }))


def run_child(framework, arch, batch, args):
    cmd = [sys.executable, __file__, "--child", "--framework", framework, "--arch", arch, "--batch", str(batch),
           "--backend", args.backend, "--threads", str(args.threads), "--repeats", str(args.repeats),
           "--warmup", str(args.warmup)] + (["--layers"] if args.layers and framework == "minigan" else [])
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
    if out.returncode != 0:
        raise SystemExit(f"{framework} {arch}:{batch} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy")
    p.add_argument("--configs", default=None, help="comma-separated arch:batch (default: the issue's set)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS / PyTorch threads")
    p.add_argument("--repeats", type=int, default=5, help="timed steps per round")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2, help="alternating minigan/PyTorch rounds")
    p.add_argument("--stat", choices=["median", "min"], default="median",
                   help="summary of the timed steps; 'min' resists a noisy neighbour best")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--layers", action="store_true", help="print minigan's per-layer forward/backward times")
    p.add_argument("--gemm-floor", action="store_true",
                   help="also time the step's GEMMs alone (NumPy): how fast this design could possibly be here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--framework", default="minigan", help=argparse.SUPPRESS)
    p.add_argument("--arch", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    if args.child:
        return child(args)

    import numpy as np

    have_torch = False
    if not args.no_torch:
        try:
            import torch
            have_torch = args.backend == "numpy" or torch.cuda.is_available()
        except ImportError:
            pass
    configs = [(c.split(":")[0], int(c.split(":")[1]))
               for c in (args.configs or CONFIGS["gpu" if args.backend == "cupy" else "cpu"]).split(",")]
    print(f"minigan step benchmark: backend={args.backend} threads={args.threads} stat={args.stat} numpy={np.__version__} "
          f"python={sys.version.split()[0]}" + (f" torch={torch.__version__}" if have_torch else " (PyTorch not installed)"))
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if k in os.environ:
            print(f"note: {k}={os.environ[k]} is set (can slow NumPy's BLAS)")
    peak = sgemm_rate() if args.backend == "numpy" else None
    if peak:
        print(f"measured SGEMM (2048^3 float32): {peak:.0f} GFLOP/s")
    header = (f"{'config':<14}{'ms/step':>9}{'img/s':>8}{'GFLOP/s':>9}{'% peak':>8}{'peak MB':>9}"
              + (f"{'torch ms':>10}{'torch MB':>10}{'ratio':>8}" if have_torch else ""))
    print(header)
    print("-" * len(header))
    for arch, batch in configs:
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(run_child("minigan", arch, batch, args))
            if have_torch:
                theirs.append(run_child("torch", arch, batch, args))
        summarize = statistics.median if args.stat == "median" else min
        ms = 1000 * summarize(t for r in ours for t in r["times"])
        gflop = conv_gemm_flops(arch, batch) / 1e9
        mem_key = "gpu_peak_mb" if args.backend == "cupy" else "peak_rss_mb"
        line = (f"{arch}:{batch:<6}{ms:>9.0f}{batch / ms * 1000:>8.0f}{gflop / ms * 1000:>9.0f}"
                f"{(100 * gflop / ms * 1000 / peak if peak else float('nan')):>8.0f}{max(r[mem_key] for r in ours):>9.0f}")
        if have_torch:
            tms = 1000 * summarize(t for r in theirs for t in r["times"])
            line += f"{tms:>10.0f}{max(r[mem_key] for r in theirs):>10.0f}{ms / tms:>8.2f}"
        print(line, flush=True)
        if args.gemm_floor and args.backend == "numpy":
            floor = gemm_floor_ms(arch, batch)
            print(f"  the step's GEMMs alone (same shapes and chunks, timed one by one): {floor:.0f} ms = "
                  f"{100 * floor / ms:.0f}% of minigan's step"
                  + (f", {floor / tms:.2f}x PyTorch's whole step" if have_torch else ""), flush=True)
        if args.layers:
            agg = {}
            for r in ours:
                for k, v in r["layers"].items():
                    agg[k] = agg.get(k, 0.0) + v / len(ours)
            total = sum(agg.values())
            print(f"  per-layer time (sum {1000 * total:.0f} ms of {ms:.0f} ms/step; the rest is losses, Adam, glue):")
            for k, v in sorted(agg.items(), key=lambda kv: -kv[1])[:14]:
                name, method = k.split("|")
                print(f"    {name:<24}{method:<9}{1000 * v:>7.1f} ms  {100 * v / total:>4.0f}%")
    print(f"GEMM work per step: " + ", ".join(f"{a}:{b} {conv_gemm_flops(a, b) / 1e9:.1f} GFLOP" for a, b in configs))


if __name__ == "__main__":
    main()
