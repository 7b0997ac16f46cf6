"""Judging mode collapse: the collapse lab's runs measured as the papers measure them.

A ring or grid run is judged on :data:`~minigan.job.metrics.modes.SAMPLES_2D` points
(modes captured, % high quality, reverse KL); a Stacked MNIST run on
:data:`~minigan.job.metrics.modes.SAMPLES_STACKED` pictures, each channel read by the
MNIST classifier (modes of 1,000, KL to uniform). The measures and their formulas:
:mod:`minigan.job.metrics.modes`. :class:`CollapseJudge` is to these runs what
:class:`minigan.job.judge.Judge` is to the others: ``minigan train --eval-every``
calls it and logs a row of ``eval.csv`` (:meth:`CollapseJudge.log_row`), and
``minigan evaluate`` prints :func:`collapse_table`::

    judge = CollapseJudge("ring")
    result = judge(G, nz=2)                       # {"modes": 8, "of": 8, "high_quality": 97.1, ...}
    print(collapse_table(result))

Every evaluation draws the same z (``default_rng([seed, 3])``, as the Judge does), so a
change along the curve is a change in G.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import backend as B
from .data import POINT_SETS, mixture
from .logs import MetricsLog, read_metrics
from .metrics import load_or_train_classifier
from .metrics.modes import SAMPLES_2D, SAMPLES_STACKED, STACKED_MODES, mode_measures, stacked_measures, stacked_modes
from ..models import sample_noise
from .viz.curves import BLUE, GREEN, GREY, ORANGE, plot_panels

COLLAPSE_DATASETS = (*POINT_SETS, "stacked-mnist")
POINT_COLUMNS = ("step", "n", "modes", "high_quality", "reverse_kl")       # eval.csv of a ring or grid run,
STACKED_COLUMNS = ("step", "n", "modes", "kl")                             # of a Stacked MNIST run
PERFECT_HQ = 100 * (1 - np.exp(-4.5))                                      # 98.89%: P(|e| <= 3 std), 2D Gaussian


def collapse_columns(dataset: str) -> tuple:
    """The columns of ``eval.csv`` for a collapse-lab ``dataset``; a 2D run's end with ``mode_k``, the
    high-quality samples nearest to mode k (the per-mode histogram)."""
    if dataset not in POINT_SETS:
        return STACKED_COLUMNS
    return POINT_COLUMNS + tuple(f"mode_{k}" for k in range(len(mixture(dataset)[0])))


def collapse_row(step: int, r: dict) -> dict:
    """One row of ``eval.csv`` (:func:`collapse_columns`) from a :class:`CollapseJudge` result."""
    columns = POINT_COLUMNS if "high_quality" in r else STACKED_COLUMNS
    row = {"step": step, **{k: r[k] for k in columns[1:]}}
    row.update({f"mode_{k}": count for k, count in enumerate(r.get("histogram", ()))})
    return row


class CollapseJudge:
    """Counts the modes of a ring, grid or Stacked MNIST generator; call it like a :class:`~minigan.job.judge.Judge`.

    n: samples per evaluation (default: the papers', 2,500 points or 26,000 pictures).
    data_dir, backend, progress: where MNIST is and where its classifier runs (Stacked MNIST only).
    """

    def __init__(self, dataset, n=None, batch_size=500, seed=0, data_dir=None, backend="numpy", progress=None):
        if dataset not in COLLAPSE_DATASETS:
            raise ValueError(f"--dataset {dataset} has no modes to count: the collapse measures are for "
                             f"{', '.join(COLLAPSE_DATASETS)}")
        self.dataset, self.batch_size, self.seed = dataset, int(batch_size), seed
        self.points = dataset in POINT_SETS
        self.n = int(n or (SAMPLES_2D if self.points else SAMPLES_STACKED))
        self.columns = collapse_columns(dataset)
        if self.points:
            self.modes, self.std = mixture(dataset)
            self.of = len(self.modes)
        else:
            self.classifier = load_or_train_classifier("mnist", root=data_dir, backend=backend, progress=progress)
            self.of = STACKED_MODES

    def __call__(self, G, nz, noise="normal", dtype=None, num_classes=None) -> dict:
        """The measures of ``n`` samples of ``G(z, None)`` (``(m, 2, 1, 1)`` points or ``(m, 3, 28, 28)`` pictures)."""
        start, rng = time.perf_counter(), np.random.default_rng([self.seed, 3])   # the same z every time
        parts = []
        for first in range(0, self.n, self.batch_size):
            m = min(self.batch_size, self.n - first)
            x = G(sample_noise(m, nz, noise, rng, dtype), None)
            parts.append(B.to_numpy(x).reshape(m, 2) if self.points else stacked_modes(self.classifier, x))
        found = np.concatenate(parts)                                 # (n, 2) points, or (n,) digit triples
        if self.points:
            result = mode_measures(found, self.modes, self.std)
            result["histogram"] = result["histogram"].tolist()
        else:
            result = stacked_measures(found)
        return {"n": self.n, "of": self.of, **result, "seconds": time.perf_counter() - start}

    def describe(self) -> str:
        if self.points:
            return f"{self.n:,} points: modes of {self.of}, % high quality, reverse KL (minigan/job/metrics/modes.py)"
        return f"{self.n:,} pictures, each channel read by the MNIST classifier: triples of 1,000, KL to uniform"

    def log_row(self, step: int, r: dict) -> dict:
        """One row of ``eval.csv`` (:func:`collapse_columns`)."""
        return collapse_row(step, r)

    def line(self, step: int, r: dict) -> str:
        """``eval at step 400: modes 8/8, high quality 97.2%, reverse KL 0.012  [2,500 samples, 0.2 s]``"""
        what = (f"high quality {r['high_quality']:.1f}%, reverse KL {r['reverse_kl']:.3f}" if self.points
                else f"KL {r['kl']:.3f}")
        return f"eval at step {step}: modes {r['modes']}/{r['of']}, {what}  [{r['n']:,} samples, {r['seconds']:.1f} s]"

    def plot(self, history: dict, path, title: str | None = None):
        """:func:`plot_collapse_curves` of this judge's dataset."""
        return plot_collapse_curves(history, path, self.of, title)


def plot_collapse_curves(history: dict, path, of: int, title: str | None = None):
    """The measures of ``eval.csv`` (``history``) against step, one panel each, as a PNG at ``path``.

    ``of``: the number of modes (8, 25 or 1,000); a 2D run's history has ``high_quality`` and ``reverse_kl``,
    a Stacked MNIST run's ``kl``.
    """
    points = "high_quality" in history
    keys = POINT_COLUMNS if points else STACKED_COLUMNS                     # the per-mode counts are not drawn
    data = {k: np.asarray(history[k], dtype=np.float64) for k in keys}
    order = np.argsort(data["step"], kind="stable")
    data = {k: v[order] for k, v in data.items()}
    panels = [("Modes captured (higher is better)", "modes", (("modes", "modes", GREEN),),
               ((of, f"all {of}", GREY),), (0, of))]
    if points:
        panels += [("High-quality samples, % (higher is better)", "%", (("high_quality", "% high quality", ORANGE),),
                    ((PERFECT_HQ, "perfect 98.9", GREY),), (0, 100)),
                   ("Reverse KL to even modes (lower is better)", "KL", (("reverse_kl", "reverse KL", BLUE),),
                    ((0.0, "0", GREY),), None)]
    else:
        panels += [("KL to uniform over 1,000 triples (lower is better)", "KL", (("kl", "KL", BLUE),),
                    ((0.0, "0", GREY),), None)]
    return plot_panels(data["step"], data, tuple(panels), path, title=title, ref_legend="ideal",
                       markers=True, height=220 + 200 * len(panels))


def evaluate_collapse(G, n=None, seed=0, batch_size=500, data_dir=None, backend="numpy", progress=None) -> dict:
    """The collapse measures of ``n`` samples of ``G`` (a :class:`~minigan.job.generate.Generator`), for
    ``minigan evaluate``: :meth:`CollapseJudge.__call__`'s dict plus ``dataset``, ``step`` and ``ema``."""
    judge = CollapseJudge(G.config.dataset, n, batch_size, seed, data_dir or G.config.data_dir, backend, progress)
    result = judge(G, G.nz, G.noise, G.config.dtype)
    return {"dataset": G.config.dataset, "step": G.step, "ema": G.ema, **result}


def collapse_table(r: dict) -> str:
    """The measures as a table a person reads, each with what it means."""
    modes = f"{r['modes']} / {r['of']}"
    lines = [f"  modes              {modes:>11}   "
             + ("modes with at least one high-quality sample nearest to them" if "high_quality" in r else
                "digit triples present among the samples (each channel read by the MNIST classifier)")]
    if "high_quality" in r:
        lines += [f"  high quality       {r['high_quality']:10.1f}%   samples within 3 std of their nearest mode; "
                  "a perfect sampler scores 98.9%",
                  f"  reverse KL         {r['reverse_kl']:11.4f}   KL(histogram of the high-quality samples over "
                  f"the modes || uniform): 0 = even, ln {r['of']} = {np.log(r['of']):.2f} = one mode",
                  "", "  high-quality samples per mode: " + " ".join(str(c) for c in r["histogram"])]
    else:
        lines.append(f"  KL                 {r['kl']:11.4f}   KL(triples' distribution || uniform over 1,000), "
                     f"nats: 0 = even, ln 1000 = {np.log(1000):.2f} = one triple")
    return "\n".join(lines)


def record_collapse(run_dir, r: dict) -> Path:
    """Add ``minigan evaluate``'s result ``r`` to the run's ``eval.csv`` and redraw ``metrics.png``; returns the path."""
    run_dir = Path(run_dir)
    path, columns = run_dir / "eval.csv", collapse_columns(r["dataset"])
    with MetricsLog(path, columns) as log:
        log.log(**collapse_row(r["step"], r))
    plot_collapse_curves(read_metrics(path), run_dir / "metrics.png", r["of"],
                         title=f"evaluations of {run_dir.name}")
    return path
