"""Benchmark one GAN training step (one D update + one G update, BCE, Adam).

Prints, per architecture and batch size: ms/step (median after warm-up),
images/s (points/s for mlp2d), achieved GFLOP/s of the step's GEMMs against this
machine's measured SGEMM rate, peak memory, and -- where PyTorch is installed (it
is never a dependency) -- the same step in PyTorch and the ratio of the two
times. The PyTorch step is its DCGAN example's, with D's weights frozen during
G's update as minigan does, so both frameworks do the same work; its nets are in
benchmarks/torch_nets.py. Every output starts with the machine: CPU model, BLAS
library and kernel, BLAS settings.

The architectures: dcgan28 and dcgan64 (minigan/models/dcgan.py), and mlp2d, the
2D job's nets (minigan/models/mlp.py::mlp_points, PacGAN's) trained as the 2D job
trains them: on (N, 2, 1, 1) points, Adam lr 1e-4, betas (0.8, 0.999).

    python benchmarks/bench_step.py                       # NumPy, all configurations
    python benchmarks/bench_step.py --configs dcgan28:64 --layers   # + per-layer breakdown
    python benchmarks/bench_step.py --configs mlp2d:100 --threads 1  # the 2D job's step, as its runs use it
    python benchmarks/bench_step.py --gemm-floor          # + the step's GEMMs timed alone, 5 times
    python benchmarks/bench_step.py --sweep 16,32,64,128,256 --arch dcgan28   # a markdown table
    python benchmarks/bench_step.py --backend cupy        # on a GPU, against PyTorch CUDA

Each measurement runs in a fresh child process, so peak memory belongs to one
framework and one configuration; minigan and PyTorch alternate over several
rounds so that a noisy neighbour slows both alike. Quote the ratios: absolute
times on a shared machine move by 50%. (So NumPy, minigan and PyTorch are
imported inside the child functions: each child loads only its own framework.)
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

CONFIGS = {"cpu": "dcgan28:64,dcgan28:128,dcgan64:64,mlp2d:100", "gpu": "dcgan28:64,dcgan28:512,dcgan64:128"}
#: The step both frameworks time, per architecture: one real example's shape, z's length, Adam's lr and betas.
SETUPS = {"dcgan28": ((1, 28, 28), 100, 2e-4, (0.5, 0.999)),       # DCGAN's
          "dcgan64": ((3, 64, 64), 100, 2e-4, (0.5, 0.999)),
          "mlp2d": ((2, 1, 1), 2, 1e-4, (0.8, 0.999))}               # PacGAN's (benchmarks/compare_collapse.py)
ARCHS = tuple(SETUPS)


def real_batch(arch, batch):
    """The fixed real batch, float32 ``(batch, *shape)``: pictures uniform in [-1, 1], or 2D points on a ring."""
    import numpy as np

    rng = np.random.default_rng(0)
    shape = SETUPS[arch][0]
    if arch != "mlp2d":
        return rng.uniform(-1, 1, (batch, *shape)).astype(np.float32)
    angle = 2 * np.pi * (np.arange(batch) % 8) / 8                  # the ring's 8 modes (minigan/job/data/points.py)
    points = np.stack([np.cos(angle), np.sin(angle)], axis=1) + 0.01 * rng.standard_normal((batch, 2))
    return points.astype(np.float32).reshape(batch, *shape)          # (batch, 2, 1, 1)


# ---------------------------------------------------------------------------- children
def minigan_step_fn(arch, batch, backend, layers):
    from minigan.fast import blas
    blas.shorten_spin()  # before NumPy, as minigan's own commands do (minigan/fast/blas.py)
    from minigan import backend as B
    from minigan.models import ARCHITECTURES, mlp_points
    from minigan.train import GANTrainer

    G, D = (mlp_points if arch == "mlp2d" else ARCHITECTURES[arch])()
    G.to(backend), D.to(backend)
    _, _, lr, betas = SETUPS[arch]
    trainer = GANTrainer(G, D, lr=lr, betas=betas, seed=0)      # the bce game, as the jobs train them
    x = B.asarray(real_batch(arch, batch), backend)
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
        trainer.step(x)["loss_d"]    # read, as the job reads every step's numbers: its one transfer
        sync()
    return step, timings


def torch_step_fn(arch, batch, backend):
    import torch
    from torch import nn

    import torch_nets

    device = "cuda" if backend == "cupy" else "cpu"
    _, nz, lr, betas = SETUPS[arch]
    G, D = torch_nets.nets(arch)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    loss = nn.BCELoss()
    x = torch.from_numpy(real_batch(arch, batch)).to(device)

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


def step_child(args):
    """Time ``args.repeats`` steps of one framework after warm-up; peak memory of this process."""
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
    return {
        "times": times, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": rss_before / 1024, "gpu_peak_mb": gpu_peak and gpu_peak / 2**20,
        "layers": {f"{k[0]}|{k[1]}": v / args.repeats for k, v in timings.items()},
    }


def floor_child(args):
    """The step's GEMMs alone, ``args.floor_repeats`` times, each shape's thread scaling, and the BLAS that ran them."""
    import gemm_floor
    import machine_info

    totals, per_shape = gemm_floor.gemm_floor(args.arch, args.batch, repeats=args.floor_repeats)
    scaling = gemm_floor.thread_scaling(args.arch, args.batch) if args.threads > 1 else None
    gemms = gemm_floor.step_gemms(args.arch, args.batch)
    return {"totals_ms": totals, "blas": machine_info.blas_libraries(), "shapes": [
        {"dims": gemm_floor.gemm_dims(key), "kind": key[2], "count": gemms[key][0], "who": gemms[key][1],
         "ms": per_shape[key], "scaling": scaling and scaling[key]} for key in gemms]}


def machine_child(args):
    """What the children run on: CPU model, BLAS (as a child sees it) and its settings, SGEMM rate."""
    import gemm_floor
    import machine_info

    return {"cpu": machine_info.cpu_model(), "cpus": os.cpu_count(), "blas": machine_info.blas_libraries(),
            "blas_env": machine_info.blas_env(),
            "sgemm_gflops": gemm_floor.sgemm_rate() if args.backend == "numpy" else None}


def child(args):
    """Run one measurement in this (fresh) process and print it as one JSON line."""
    kind = {"floor": floor_child, "machine": machine_child}.get(args.framework, step_child)
    print(json.dumps(kind(args)))


def run_child(framework, arch, batch, args):
    """One measurement in a fresh process: its JSON result, or ``{"error": ...}`` saying why there is none."""
    cmd = [sys.executable, __file__, "--child", "--framework", framework, "--arch", arch, "--batch", str(batch),
           "--backend", args.backend, "--threads", str(args.threads), "--repeats", str(args.repeats),
           "--warmup", str(args.warmup), "--floor-repeats", str(args.floor_repeats)]
    cmd += ["--layers"] if args.layers and framework == "minigan" else []
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ, timeout=args.child_timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"{framework} {arch}:{batch} timed out after {args.child_timeout:g} s"}
    if out.returncode != 0:
        return {"error": f"{framework} {arch}:{batch} failed (exit {out.returncode}): "
                         + " | ".join(out.stderr.strip().splitlines()[-3:])}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- one configuration
def measure(arch, batch, args, have_torch, gflop, sgemm):
    """Alternate minigan and PyTorch children over ``args.rounds`` rounds: one row of the table.

    The row holds every figure of the table (``None`` where every child of a
    framework failed, or where it does not apply: ``gflop`` is the step's GEMM
    work, ``sgemm`` the machine's GEMM rate, None on a GPU), minigan's raw results (for
    ``--layers``) and the children's errors.
    """
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(run_child("minigan", arch, batch, args))
        if have_torch:
            theirs.append(run_child("torch", arch, batch, args))
    errors = [r["error"] for r in ours + theirs if "error" in r]
    ours, theirs = [r for r in ours if "error" not in r], [r for r in theirs if "error" not in r]
    summarize = statistics.median if args.stat == "median" else min
    mem_key = "gpu_peak_mb" if args.backend == "cupy" else "peak_rss_mb"

    def figures(results):
        if not results:
            return None, None
        return 1000 * summarize(t for r in results for t in r["times"]), max(r[mem_key] for r in results)
    (ms, mem), (torch_ms, torch_mem) = figures(ours), figures(theirs)
    gflops = ratio(gflop * 1000, ms)
    return {"arch": arch, "batch": batch, "ms": ms, "images_s": ratio(1000 * batch, ms), "gflops": gflops,
            "pct_sgemm": ratio(100 * gflops, sgemm) if gflops else None, "mem": mem,
            "torch_ms": torch_ms, "torch_images_s": ratio(1000 * batch, torch_ms), "torch_mem": torch_mem,
            "ratio": ratio(ms, torch_ms), "mem_ratio": ratio(mem, torch_mem), "ours": ours, "errors": errors}


def ratio(a, b):
    """``a / b``, or None where either is missing."""
    return a / b if a is not None and b else None


#: The table's columns: (row key, title in the text table, title in the markdown table, text width).
COLUMNS = [("ms", "ms/step", "minigan ms/step", 9), ("images_s", "img/s", "images/s", 8),
           ("gflops", "GFLOP/s", "GEMM GFLOP/s", 9), ("pct_sgemm", "% peak", "% of SGEMM", 8),
           ("mem", "peak MB", "peak MB", 9)]
TORCH_COLUMNS = [("torch_ms", "torch ms", "PyTorch ms/step", 10), ("torch_images_s", "torch img/s", "PyTorch images/s", 12),
                 ("torch_mem", "torch MB", "PyTorch peak MB", 10), ("ratio", "ratio", "minigan / PyTorch time", 8),
                 ("mem_ratio", "mem ratio", "minigan / PyTorch memory", 10)]


def number(value, key, markdown):
    """A figure as the table shows it: ratios to 2 decimals, the rest to whole units (two significant digits below 1); '-' for none."""
    if value is None:
        return "-"
    if 0 < value < 1 and "ratio" not in key:
        return f"{value:.2g}"                    # a tiny figure (a loaded machine, a tiny batch) stays nonzero
    digits = 2 if "ratio" in key else (1 if value < 10 else 0)
    return f"{value:,.{digits}f}" if markdown else f"{value:.{digits}f}"


def table_header(columns, markdown, memory):
    """The table's title line(s); ``memory`` names the memory figure ("peak RSS MB", "GPU memory MB")."""
    if markdown:
        titles = ["configuration"] + [md.replace("peak MB", memory) for _, _, md, _ in columns]
        return ["| " + " | ".join(titles) + " |", "|---" + "|---:" * len(columns) + "|"]
    line = f"{'config':<14}" + "".join(f"{title:>{width}}" for _, title, _, width in columns)
    return [line, "-" * len(line)]


def table_row(row, columns, markdown):
    if markdown:
        cells = [f"{row['arch']}, batch {row['batch']}"] + [number(row[k], k, True) for k, _, _, _ in columns]
        return "| " + " | ".join(cells) + " |"
    if row["ms"] is None:
        return f"{row['arch']}:{row['batch']:<6}  failed (see below)"
    return f"{row['arch']}:{row['batch']:<6}" + "".join(f"{number(row[k], k, False):>{w}}" for k, _, _, w in columns)


# ---------------------------------------------------------------------------- details under a row
def layer_lines(row):
    """minigan's per-layer forward/backward times (``--layers``), slowest first."""
    agg = {}
    for r in row["ours"]:
        for k, v in r["layers"].items():
            agg[k] = agg.get(k, 0.0) + v / len(row["ours"])
    total = sum(agg.values())
    lines = [f"  per-layer time (sum {1000 * total:.0f} ms of {row['ms']:.0f} ms/step; the rest is losses, Adam, glue):"]
    for k, v in sorted(agg.items(), key=lambda kv: -kv[1])[:14]:
        name, method = k.split("|")
        lines.append(f"    {name:<24}{method:<9}{1000 * v:>7.1f} ms  {100 * v / total:>4.0f}%")
    return lines


# ---------------------------------------------------------------------------- main
def parse_configs(p, args):
    """``[(arch, batch), ...]`` from ``--sweep``/``--configs``, or the issue's set; a bad one is one line, exit 2."""
    if args.sweep and args.configs:
        p.error("--sweep and --configs both name the configurations: give one of them")
    if args.sweep:
        text = ",".join(f"{args.arch or 'dcgan28'}:{b}" for b in args.sweep.split(","))
    else:
        text = args.configs or CONFIGS["gpu" if args.backend == "cupy" else "cpu"]
    configs = []
    for item in text.split(","):
        arch, _, batch = item.strip().partition(":")
        if arch not in ARCHS or not batch.isdigit() or int(batch) < 1:
            p.error(f"bad configuration {item.strip()!r}: write arch:batch with arch one of {', '.join(ARCHS)} "
                    f"(e.g. dcgan28:64, mlp2d:100), and --sweep as batch sizes (e.g. 16,32,64)")
        configs.append((arch, int(batch)))
    return configs


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy")
    p.add_argument("--configs", default=None, help="comma-separated arch:batch (default: the issue's set)")
    p.add_argument("--sweep", default=None, metavar="BATCHES",
                   help="comma-separated batch sizes for --arch, e.g. 16,32,64,128,256; prints a markdown table")
    p.add_argument("--arch", default=None, choices=ARCHS, help="the architecture of --sweep (default dcgan28)")
    p.add_argument("--markdown", action="store_true", help="print the table in markdown, ready for docs/performance.md")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS / PyTorch threads")
    p.add_argument("--repeats", type=int, default=5, help="timed steps per round")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2, help="alternating minigan/PyTorch rounds")
    p.add_argument("--stat", choices=["median", "min"], default="median",
                   help="summary of the timed steps; 'min' resists a noisy neighbour best")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--layers", action="store_true", help="print minigan's per-layer forward/backward times")
    p.add_argument("--gemm-floor", action="store_true",
                   help="also time the step's GEMMs alone (NumPy), check each shape's BLAS threads, print the spread")
    p.add_argument("--floor-repeats", type=int, default=5, help="how often --gemm-floor times the whole set of GEMMs")
    p.add_argument("--child-timeout", type=float, default=None,
                   help="seconds one measurement may take before it is recorded as failed (default: no limit)")
    p.add_argument("--plain", action="store_true",
                   help="time minigan on its plain paths (MINIGAN_PLAIN=1: minigan/fast/__init__.py)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--framework", default="minigan", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    if args.plain:
        os.environ["MINIGAN_PLAIN"] = "1"            # every minigan child takes the plain paths
    if args.child:
        return child(args)
    configs = parse_configs(p, args)
    markdown = args.markdown or bool(args.sweep)

    import numpy as np

    import gemm_floor
    import machine_info

    torch_version = None
    if not args.no_torch:
        try:
            import torch
            if args.backend == "numpy" or torch.cuda.is_available():
                torch_version = torch.__version__
        except ImportError:
            pass
    machine = run_child("machine", "dcgan28", 1, args)
    print(f"minigan step benchmark: backend={args.backend} threads={args.threads} stat={args.stat} "
          f"paths={'plain' if os.environ.get('MINIGAN_PLAIN', '') not in ('', '0') else 'fast'} "
          f"numpy={np.__version__} python={sys.version.split()[0]} "
          + (f"torch={torch_version}" if torch_version else "(no PyTorch comparison)"))
    if "error" in machine:
        print(f"machine: unknown ({machine['error']})")
        machine = {"sgemm_gflops": None, "blas": None}
    else:
        print(f"machine: {machine['cpu']}, {machine['cpus']} CPUs; BLAS: {machine_info.blas_summary(machine['blas'])}")
        print(f"BLAS settings: {machine['blas_env']}")
        for w in machine_info.blas_warnings(machine["blas"], args.threads):
            print(f"WARNING: {w}")
    sgemm = machine["sgemm_gflops"]
    if sgemm:
        print(f"measured SGEMM (2048^3 float32): {sgemm:.0f} GFLOP/s")
    columns = [c for c in COLUMNS if sgemm or c[0] != "pct_sgemm"] + (TORCH_COLUMNS if torch_version else [])
    memory = "GPU memory MB" if args.backend == "cupy" else "peak RSS MB"
    if markdown:
        print()                      # a blank line: markdown starts the table
    print(*table_header(columns, markdown, memory), sep="\n")
    later, failed = [], False
    for arch, batch in configs:
        row = measure(arch, batch, args, torch_version, gemm_floor.step_gemm_flops(arch, batch) / 1e9, sgemm)
        details = []
        if args.gemm_floor and args.backend == "numpy":
            floor = run_child("floor", arch, batch, args)
            row["errors"] += [floor["error"]] if "error" in floor else []
            if "error" not in floor:
                details += gemm_floor.report_lines(floor, row["ms"], row["torch_ms"], sgemm, args.threads)
        elif args.gemm_floor:
            details.append("  (--gemm-floor times NumPy's GEMMs: skipped on cupy)")
        if args.layers and row["ours"]:
            details += layer_lines(row)
        details += [f"  FAILED: {e}" for e in row["errors"]]
        failed = failed or bool(row["errors"])
        print(table_row(row, columns, markdown), flush=True)
        if markdown and details:     # below the table, so that the table stays one block
            later += ["", f"{arch}:{batch}"] + details
        elif details:
            print(*details, sep="\n", flush=True)
    if later:
        print(*later, sep="\n")
    print("GEMM work per step: " + ", ".join(f"{a}:{b} {gemm_floor.step_gemm_flops(a, b) / 1e9:.1f} GFLOP"
                                             for a, b in configs))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
