"""What the report reads: the files of one run folder, each read once; anything missing is empty.

The report imports nothing of the training job: the run's settings come from
``config.json``, its planned length from ``run.json``, everything else from
the logs and pictures the job wrote (see :mod:`minigan.job.run` for the list).

The two logs that grow by rows every few steps are read in part, so that
writing the report costs the same at step 200,000 as at step 2,000 (the job
rewrites it at every sample point): metrics.csv from its end, the last
:data:`RECENT_STEPS` rows (:func:`~minigan.job.logs.read_metrics_tail`);
gradflow.csv in :data:`FLOW_WINDOWS` blocks spread over it, the first and the
last among them (:func:`~minigan.job.logs.spread_lines`). Each read is at most a
few hundred kB, however long the run.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from ..judge import DATASETS, NUM_CLASSES
from ...gradflow import LOG_COLUMNS
from ..logs import read_metrics, read_metrics_tail, spread_lines

RECENT_STEPS = 1_000                 # metrics.csv: the last this many rows (the "recent averages")
FLOW_WINDOWS, FLOW_WINDOW = 16, 8192  # gradflow.csv: its rows in 16 blocks of 8 kB (each holds a few recorded steps)


class Run:
    """A run folder as the report sees it (a run in its first steps has few of these files)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.config = read_json(self.folder / "config.json")
        self.last_step = read_json(self.folder / "run.json").get("last_step")   # where the run will stop
        self.history = read_csv(self.folder / "metrics.csv", last=RECENT_STEPS)   # the latest rows only
        self.evals = by_step(read_csv(self.folder / "eval.csv"))                 # one row per evaluation
        self.flows = read_gradflow(self.folder / "gradflow.csv")
        self.grids = sorted((self.folder / "samples").glob("step_*.png"), key=lambda p: p.name)   # step order
        dataset = self.config.get("dataset", "")
        self.dataset_title = DATASETS[dataset].title if dataset in DATASETS else (dataset or "?")
        self.classes = DATASETS[dataset].classes if dataset in DATASETS else tuple(map(str, range(NUM_CLASSES)))
        if self.config.get("class_names"):                                       # a folder's classes, by name
            self.classes = tuple(map(str, self.config["class_names"]))
        elif dataset not in DATASETS and self.evals.get("step"):                 # as many as its judge had
            judged = [k for k in range(NUM_CLASSES) if math.isfinite(self.evals.get(f"class_{k}", [math.nan])[-1])]
            self.classes = self.classes[:max(judged) + 1] if judged else self.classes
        self.step = int(self.history["step"][-1]) if self.history.get("step") else 0


def by_step(columns: dict) -> dict:
    """The rows of a log sorted by step (``minigan evaluate`` may add a row for an older checkpoint)."""
    if not columns.get("step"):
        return columns
    order = sorted(range(len(columns["step"])), key=columns["step"].__getitem__)
    return {k: [v[i] for i in order] for k, v in columns.items()}


def step_of(path: Path) -> int:
    """``samples/step_000400.png`` -> 400."""
    return int(path.stem.split("_")[1])


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def read_csv(path: Path, last: int | None = None) -> dict:
    """A log's columns, all its rows or its ``last`` rows; ``{}`` if it is missing or unreadable."""
    try:
        return read_metrics(path) if last is None else read_metrics_tail(path, last)
    except (OSError, ValueError):
        return {}


def read_gradflow(path: Path) -> list[dict]:
    """gradflow.csv's rows in :data:`FLOW_WINDOWS` blocks spread over it, as ``gradflow.read_log`` reads rows.

    The first and the last recorded steps are whole (a step's rows, one per
    layer, are far fewer than a block holds); the steps between are a sample,
    enough for the sparklines. ``[]`` if the file is missing or unreadable.
    """
    try:
        header, lines = spread_lines(path, FLOW_WINDOWS, FLOW_WINDOW)
        return [{"step": int(row["step"]), "net": row["net"], "layer": row["layer"],
                 **{k: float(row[k]) if row[k] else math.nan for k in LOG_COLUMNS[3:]}}
                for row in csv.DictReader([header] + lines)]
    except (OSError, ValueError, KeyError, TypeError):
        return []
