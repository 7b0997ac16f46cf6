"""Train each recipe for the same number of G steps, judge each, and write one table and one picture.

    python benchmarks/compare_recipes.py --out runs/compare_recipes       # the full comparison (hours on a CPU)
    python benchmarks/compare_recipes.py --recipes dcgan,sngan --steps 300 --seeds 0 --eval-samples 2000

For every recipe (minigan/recipes.py) and every seed it runs minigan's own
training job, :func:`minigan.job.run.train`, on Fashion-MNIST for ``--steps``
generator steps (batch 64), one run folder each, ``OUT/<recipe>-seed<S>``.
Reusing the job rather than a loop of its own means each recipe trains exactly
as ``minigan train --recipe R`` does, and an interrupted comparison picks up
where it stopped: a run with ``result.json`` is done and skipped, a run with a
checkpoint is resumed (its time then covers only the part trained now, marked
with a * in the table).

Each finished run's G (its EMA copy where the recipe keeps one) is judged by
minigan's classifier, :class:`minigan.job.judge.Judge`: the Frechet distance
to the real test images in the classifier's feature space, the classifier
score and the classes present, on ``--eval-samples`` samples drawn from the
same noise for every run. The table gives the mean and spread (min to max)
over the seeds, and each recipe's Frechet distance relative to dcgan's. It is
written to ``OUT/recipes.md`` with the command, the CPU and the date;
``OUT/recipes.png`` shows a grid of 64 samples per recipe (its first seed,
the same z for all), labelled, three a row.

Cost: a generator step costs one G update plus n_critic D updates, so wgan and
wgan-gp (n_critic 5) cost several times dcgan's step, and the penalties (wgan-gp,
r1) add a second-order pass through D on every D update.
"""
from __future__ import annotations

import argparse
import json
import platform
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))     # machine_info, beside this file
import machine_info  # noqa: E402
from choices import comma_ints, comma_list  # noqa: E402

from minigan.job.checkpoint import resolve  # noqa: E402
from minigan.job.config import TrainConfig  # noqa: E402
from minigan.job.judge import Judge  # noqa: E402
from minigan.fileio import atomic_write, write_text_atomic  # noqa: E402
from minigan.job.generate import load_generator  # noqa: E402
from minigan.models import sample_noise  # noqa: E402
from minigan.recipes import RECIPES  # noqa: E402
from minigan.job.run import train  # noqa: E402
from minigan.job.viz.axes import load_font, put_text  # noqa: E402
from minigan.job.viz.grid import make_grid  # noqa: E402

#: The default candidates: dcgan, the baseline, and the settings that might beat it by 15% at 1,500 G steps.
CANDIDATES = "dcgan,dcgan-fast,dcgan-ema,dcgan-ttur,dcgan-sn,sngan,lsgan,hinge,r1,wgan-gp"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipes", default=CANDIDATES, help=f"comma-separated recipes (default: {CANDIDATES}); "
                   f"all: {','.join(RECIPES)}")
    p.add_argument("--steps", type=int, default=1500, help="generator steps per run (default: 1500)")
    p.add_argument("--seeds", default="0,1", help="comma-separated seeds, one run each (default: 0,1)")
    p.add_argument("--batch-size", type=int, default=64, help="pictures per step (default: 64)")
    p.add_argument("--ngf", type=int, default=64, help="generator width (default: 64)")
    p.add_argument("--ndf", type=int, default=64, help="discriminator width (default: 64)")
    p.add_argument("--eval-samples", type=int, default=10000, help="samples judged per run (default: 10000)")
    p.add_argument("--dataset", default="fashion-mnist", choices=("fashion-mnist", "mnist"))
    p.add_argument("--data-dir", default=None, help="where the dataset's files are (default: found automatically)")
    p.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    p.add_argument("--out", default="runs/compare_recipes", help="folder for the runs, the table and the picture")
    args = p.parse_args(argv)
    args.recipes = comma_list(p, "--recipes", args.recipes, RECIPES)
    args.seeds = comma_ints(p, "--seeds", args.seeds)
    return args


# ---- one run: train (or resume, or skip), then judge ----------------------------------------------
def run_one(args, recipe: str, seed: int, judge) -> dict:
    """Train ``recipe`` with ``seed`` in its own folder (unless done already) and judge it; returns its result."""
    folder = Path(args.out) / f"{recipe}-seed{seed}"
    done = folder / "result.json"
    if done.is_file():
        print(f"{folder.name}: done already, skipped")
        return json.loads(done.read_text())
    cfg = TrainConfig(dataset=args.dataset, data_dir=args.data_dir, recipe=recipe, seed=seed, max_steps=args.steps,
                      batch_size=args.batch_size, ngf=args.ngf, ndf=args.ndf, backend=args.backend, out=str(folder),
                      sample_every=args.steps, checkpoint_every=max(args.steps // 5, 1),
                      log_every=max(args.steps // 10, 1), eval_every=0, grad_flow_every=0)
    resumed = (folder / "checkpoints").is_dir() and any((folder / "checkpoints").glob("*.npz"))
    start = time.perf_counter()
    train(cfg, resume=folder if resumed else None, command=f"compare_recipes ({recipe}, seed {seed})")
    seconds = time.perf_counter() - start
    G = load_generator(resolve(folder), backend=args.backend)
    result = judge(G, G.nz, G.noise, G.config.dtype)
    row = {"recipe": recipe, "seed": seed, "steps": G.step, "ema": G.ema, "seconds": seconds, "resumed": resumed,
           "frechet_distance": result["frechet_distance"], "classifier_score": result["classifier_score"],
           "classes_present": result["classes_present"], "classes": len(result["class_histogram"])}
    write_text_atomic(done, json.dumps(row, indent=2) + "\n")
    return row


# ---- the table ----------------------------------------------------------------------------------
def spread(values, fmt: str) -> str:
    """``"mean (min-max)"`` over the seeds, or the one value."""
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.fmean(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def table(rows: list[dict], args, command: str) -> str:
    """The markdown page: command, machine, date, then one line per recipe (means and spreads over seeds)."""
    by_recipe = {r: [row for row in rows if row["recipe"] == r] for r in args.recipes}
    base = by_recipe.get("dcgan")
    base_fd = statistics.fmean(row["frechet_distance"] for row in base) if base else None
    lines = [
        "# Recipes side by side",
        "",
        f"- command: `{command}`",
        f"- machine: {machine_info.cpu_model()} ({platform.machine()}), backend {args.backend}",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- {args.steps:,} generator steps of batch {args.batch_size} on {args.dataset}, ngf {args.ngf}, "
        f"ndf {args.ndf}, seeds {', '.join(map(str, args.seeds))}; judged on {args.eval_samples:,} samples "
        "by minigan's classifier (mean, and min-max over the seeds)",
        "",
        "| recipe | settings | Frechet distance | vs dcgan | classes present | classifier score | minutes per run |",
        "|---|---|---|---|---|---|---|",
    ]
    for recipe, runs in by_recipe.items():
        fd = [row["frechet_distance"] for row in runs]
        change = f"{(statistics.fmean(fd) / base_fd - 1) * 100:+.0f}%" if base_fd else "n/a"
        minutes = spread([row["seconds"] / 60 for row in runs], ".1f") + ("*" if any(r["resumed"] for r in runs) else "")
        settings = RECIPES[recipe].describe().split(": ", 1)[1]
        lines.append(f"| {recipe} | {settings} | {spread(fd, '.2f')} | {change} | "
                     f"{spread([row['classes_present'] for row in runs], '.1f')}/{runs[0]['classes']} | "
                     f"{spread([row['classifier_score'] for row in runs], '.2f')} | {minutes} |")
    lines += ["", "Lower Frechet distance is better; * = a resumed run, its time covers only the part "
              "trained in the last session. Samples per recipe: recipes.png."]
    return "\n".join(lines) + "\n"


# ---- the picture: one labelled grid per recipe ---------------------------------------------------
def sample_sheet(args, path: Path, n: int = 64) -> None:
    """``path``: each recipe's first seed, ``n`` samples from the same z, in a row of labelled grids."""
    font = load_font(16)
    tiles = []
    for recipe in args.recipes:
        G = load_generator(resolve(Path(args.out) / f"{recipe}-seed{args.seeds[0]}"), backend=args.backend)
        z = sample_noise(n, G.nz, G.noise, np.random.default_rng(0), G.config.dtype)
        tiles.append((recipe, make_grid(G(z), nrow=8)))    # (H, W, 3) uint8
    h, w = tiles[0][1].shape[:2]
    label, cols = 26, min(len(tiles), 3)                     # three grids a row
    rows = -(-len(tiles) // cols)
    sheet = Image.new("RGB", (cols * (w + 8) + 8, rows * (h + label + 8)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (recipe, grid) in enumerate(tiles):
        x, y = 8 + (i % cols) * (w + 8), (i // cols) * (h + label + 8)
        put_text(draw, (x + w / 2, y + 4), recipe, font, ha="center")
        sheet.paste(Image.fromarray(grid), (x, y + label))
    with atomic_write(path) as f:
        sheet.save(f, format="PNG")


def main(argv=None) -> int:
    args = parse_args(argv)
    command = "python benchmarks/compare_recipes.py " + " ".join(map(shlex.quote, sys.argv[1:] if argv is None else argv))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    judge = Judge(args.dataset, args.data_dir, n=args.eval_samples, backend=args.backend, seed=0)
    print(f"judge: {judge.describe()}")
    rows = [run_one(args, recipe, seed, judge) for recipe in args.recipes for seed in args.seeds]
    md = table(rows, args, command)
    write_text_atomic(Path(args.out) / "recipes.md", md)
    sample_sheet(args, Path(args.out) / "recipes.png")
    print(md)
    print(f"wrote {Path(args.out) / 'recipes.md'} and {Path(args.out) / 'recipes.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
