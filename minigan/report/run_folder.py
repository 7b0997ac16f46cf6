"""What the report reads: the files of one run folder, each read once; anything missing is empty.

The report imports nothing of the training job: the run's settings come from
``config.json``, its planned length from ``run.json``, everything else from
the logs and pictures the job wrote (see :mod:`minigan.run` for the list).
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import gradflow
from ..evaluation import DATASETS, NUM_CLASSES
from ..logs import read_metrics


class Run:
    """A run folder as the report sees it (a run in its first steps has few of these files)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.config = read_json(self.folder / "config.json")
        self.last_step = read_json(self.folder / "run.json").get("last_step")   # where the run will stop
        self.history = read_csv(self.folder / "metrics.csv")
        self.evals = by_step(read_csv(self.folder / "eval.csv"))
        self.flows = read_gradflow(self.folder / "gradflow.csv")
        self.grids = sorted((self.folder / "samples").glob("step_*.png"))
        dataset = self.config.get("dataset", "")
        self.dataset_title = DATASETS[dataset].title if dataset in DATASETS else (dataset or "?")
        self.classes = DATASETS[dataset].classes if dataset in DATASETS else tuple(map(str, range(NUM_CLASSES)))
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


def read_csv(path: Path) -> dict:
    try:
        return read_metrics(path)
    except (OSError, ValueError):
        return {}


def read_gradflow(path: Path) -> list[dict]:
    try:
        return gradflow.read_log(path)
    except (OSError, ValueError):
        return []
