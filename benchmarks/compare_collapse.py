"""Train the plain GAN and each stabilizer on the 2D rings and grids, count the modes, write one table.

    python benchmarks/compare_collapse.py --out runs/collapse                      # every variant, 2 seeds
    python benchmarks/compare_collapse.py --variants gan,best --seeds 2,3,4 --out runs/collapse   # 3 more seeds

Each run is minigan's own job (``python -m minigan train``) in a child process with
one BLAS thread, ``--jobs`` of them at a time (two fit a 2-core CPU), one run folder
each, ``OUT/<dataset>-<variant>-seed<S>``. A run is judged at its end by
``--eval-every`` (minigan/job/collapse_eval.py: 2,500 samples, modes captured, % high
quality, reverse KL), so its ``eval.csv`` holds the result; a finished run (a
``result.json``) is skipped when the comparison is run again, an interrupted one
resumed (its time then covers only the part trained now, marked *).

The table (``OUT/collapse.md``) gives, for each variant, the mean and standard error
of each measure over *every* finished seed in ``OUT`` (so a second call with more
seeds for some variants adds to the first), the number of seeds and the time per
run, with the command, the CPU and the date.

The settings: every variant but ``pacgan`` starts from :data:`BASE`, PacGAN's nets
and batch (Lin et al. 2018, synthetic_data_experiments) with G without batch norm
(``--g-norm none``), Adam 1e-3 and beta1 0.5, and an EMA of G (docs/collapse.md says
why), and adds its flags (:data:`VARIANTS`); ``pacgan`` is PacGAN's protocol itself
(G with batch norm, Adam 1e-4 and beta1 0.8, no EMA).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))     # machine_info, beside this file
import machine_info  # noqa: E402
from choices import comma_ints, comma_list  # noqa: E402

from minigan.fileio import write_text_atomic  # noqa: E402
from minigan.job.logs import read_metrics  # noqa: E402

PACGAN = ["--batch-size", "100", "--lr", "1e-4", "--beta1", "0.8"]      # PacGAN's protocol, its G with BatchNorm
BASE = ["--batch-size", "100", "--g-norm", "none", "--lr", "1e-3", "--beta1", "0.5", "--ema", "0.999"]
VARIANTS = {                                   # name: flags on top of BASE (the last of a repeated flag wins)
    "pacgan": PACGAN,                          # ... but this one alone: PacGAN's own settings, no EMA
    "gan": [],
    "minimax": ["--loss", "minimax"],
    "lsgan": ["--loss", "lsgan"],
    "hinge": ["--loss", "hinge"],
    "wgan-gp": ["--loss", "wgan-gp", "--gp-weight", "0.1", "--n-critic", "5", "--lr", "1e-4",
                "--beta2", "0.9"],                                    # WGAN-GP's toy setting (gan_toy.py)
    "r1": ["--r1", "1"],
    "sn": ["--spectral-norm"],                                        # every Maxout and Linear of D
    "pack2": ["--pack", "2"],
    "pack3": ["--pack", "3", "--batch-size", "99"],                   # 3 does not divide 100
    "pack4": ["--pack", "4"],
    "mbstd": ["--mbstd"],
    "lr-decay": ["--lr-decay", "linear"],                             # both rates annealed over the second half
    "r1+decay": ["--r1", "1", "--lr-decay", "linear"],                # the recommended recipe (docs/collapse.md)
}
MEASURES = (("modes", "modes", "{:.1f}"), ("high_quality", "% high quality", "{:.1f}"),
            ("reverse_kl", "reverse KL", "{:.3f}"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"comma-separated (default: all: {','.join(VARIANTS)})")
    p.add_argument("--datasets", default="ring,grid", help="comma-separated: ring, grid (default: both)")
    p.add_argument("--seeds", default="0,1", help="comma-separated seeds, one run each (default: 0,1)")
    p.add_argument("--steps", type=int, default=16000, help="steps per run (default: 16000)")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time, one BLAS thread each (default: 2)")
    p.add_argument("--out", default="runs/collapse", help="folder for the runs and the table")
    args = p.parse_args(argv)
    args.variants = comma_list(p, "--variants", args.variants, VARIANTS)
    args.datasets = comma_list(p, "--datasets", args.datasets, ("ring", "grid"))
    args.seeds = comma_ints(p, "--seeds", args.seeds)
    return args


def command(args, dataset, variant, seed) -> list[str]:
    """The ``minigan train`` command line of one run."""
    flags = VARIANTS[variant] if variant == "pacgan" else BASE + VARIANTS[variant]
    folder = Path(args.out) / f"{dataset}-{variant}-seed{seed}"
    resume = ["--resume"] if (folder / "latest").is_file() else []
    return [sys.executable, "-m", "minigan", "train", "--dataset", dataset, "--seed", str(seed),
            "--max-steps", str(args.steps), "--eval-every", str(args.steps), "--sample-every",
            str(max(1, args.steps // 20)), "--grad-flow-every", "0", "--out", str(folder), *flags, *resume]


def log_of(folder: Path) -> Path:
    """Where a run's printed output goes: ``RUN.log`` beside the run's folder (a fresh run wants it empty)."""
    return folder.with_name(folder.name + ".log")


def result_of(folder: Path, seconds: float, resumed: bool) -> dict:
    """The run's last evaluation (its end), its time, written to ``folder/result.json``."""
    evals = read_metrics(folder / "eval.csv")
    row = {k: float(evals[k][-1]) for k, _, _ in MEASURES}
    result = {**row, "seconds": seconds, "resumed": resumed}
    write_text_atomic(folder / "result.json", json.dumps(result) + "\n")
    return result


def finished(out: Path) -> dict:
    """Every finished run in ``out``: ``{(dataset, variant, seed): result}`` (its ``result.json``)."""
    results = {}
    for path in out.glob("*-seed*/result.json"):
        head, _, seed = path.parent.name.rpartition("-seed")
        dataset, _, variant = head.partition("-")
        if dataset in ("ring", "grid") and variant in VARIANTS and seed.isdigit():
            results[dataset, variant, int(seed)] = json.loads(path.read_text())
    return results


def run_all(args) -> dict:
    """Every (dataset, variant, seed), ``args.jobs`` at a time; returns :func:`finished` of ``args.out``."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    results, running = finished(Path(args.out)), []
    todo = [(d, v, s) for d in args.datasets for v in args.variants for s in args.seeds if (d, v, s) not in results]
    while todo or running:
        while todo and len(running) < args.jobs:
            key = todo.pop(0)
            cmd = command(args, *key)
            folder = Path(cmd[cmd.index("--out") + 1])
            folder.parent.mkdir(parents=True, exist_ok=True)
            log = open(log_of(folder), "a")                    # beside the run: its folder is the job's own
            running.append((key, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env),
                            time.perf_counter(), "--resume" in cmd, log))
        time.sleep(0.2)
        for entry in [r for r in running if r[1].poll() is not None]:
            key, proc, start, resumed, log = entry
            running.remove(entry)
            log.close()
            folder = Path(args.out) / "{}-{}-seed{}".format(*key)
            if proc.returncode != 0:
                print(f"{folder}: exit {proc.returncode}; see {log_of(folder)}", file=sys.stderr)
                continue
            results[key] = result_of(folder, time.perf_counter() - start, resumed)
            print(f"{folder.name}: " + ", ".join(f"{name} {fmt.format(results[key][k])}" for k, name, fmt in MEASURES))
    return results


def mean_se(values, fmt: str) -> str:
    """``mean ± standard error`` (the error of the mean over the seeds; none for one seed)."""
    if len(values) < 2:
        return fmt.format(values[0]) if values else "-"
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(statistics.stdev(values) / len(values) ** 0.5)}"


def table(results: dict, args, cmd: str) -> str:
    lines = [f"# Mode collapse on the 2D mixtures: {args.steps:,} steps", "",
             f"- command: `{cmd}`",
             f"- machine: {machine_info.cpu_model()} ({platform.machine()}), {args.jobs} runs at a time, one BLAS "
             "thread each",
             f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- base settings: `{' '.join(BASE)}` (pacgan: `{' '.join(PACGAN)}`); mean ± standard error over "
             "the seeds", ""]
    for dataset in args.datasets:
        lines += [f"## {dataset}", "", "| variant | flags | seeds | " + " | ".join(n for _, n, _ in MEASURES)
                  + " | s/run |", "|---|---|---|" + "---|" * (len(MEASURES) + 1)]
        for variant in args.variants:
            seeds = sorted(s for d, v, s in results if (d, v) == (dataset, variant))
            if not seeds:
                continue
            runs = [results[dataset, variant, s] for s in seeds]
            cells = [mean_se([r[k] for r in runs], fmt) for k, _, fmt in MEASURES]
            star = "*" if any(r["resumed"] for r in runs) else ""
            lines.append(f"| {variant} | `{' '.join(VARIANTS[variant]) or '-'}` | {len(seeds)} | " + " | ".join(cells)
                         + f" | {statistics.mean(r['seconds'] for r in runs):.0f}{star} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    cmd = "python benchmarks/compare_collapse.py " + " ".join(map(shlex.quote, sys.argv[1:] if argv is None else argv))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    results = run_all(args)
    text = table(results, args, cmd)
    write_text_atomic(Path(args.out) / "collapse.md", text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
