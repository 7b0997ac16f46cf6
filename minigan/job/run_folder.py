"""The run folder (``--out``): what is in it, and how a run starts or continues there without loss.

What a training run leaves in its folder::

    config.json              the resolved config (a --conditional run's class_names too)
    run.json                 the run's id and length: run_id, steps_per_epoch, last_step
    metrics.csv              one row per step: step, epoch, loss_d, loss_g, d_x, d_g_z, d_g_z_after
                             (wgan-gp: and gp, gp_grad_norm; --r1: and r1, r1_grad_norm)
    samples/step_000200.png  the fixed noise batch through G, at every sample point (conditional: a row per class)
    samples.png              ... and at the end
    training.gif             those grids as an animation
    curves.png               Loss_D, Loss_G, D(x), D(G(z)) against step
    interpolation.png        rows walking through latent space between pairs of z
    eval.csv, metrics.png    with --eval-every: one row per evaluation of G (minigan/job/judge.py)
    gradflow.csv             per-layer activation and gradient statistics (minigan/gradflow.py)
    index.html               the report: all of the above on one page (minigan/job/report/)
    checkpoints/step_*.npz   the last --keep-checkpoints checkpoints (minigan/job/checkpoint.py)
    latest                   points to the newest checkpoint: resume with --resume
    .lock                    held by the job training here (minigan/job/runlock.py)

The rules that keep a folder's data safe, all checked by :meth:`RunFolder.check_start`
before anything is written:

- **One job at a time**: the job holds the folder's lock (minigan/job/runlock.py).
- **A run starts only in its own folder**: a new or empty one, or one that holds a
  run (:func:`~minigan.job.output_guard.holds_run`). A folder of other files (the user's photos, a config.json
  of their own) is refused before anything, even the lock, is written there.
- **A fresh run never starts over a run.** A folder with a checkpoint is
  continued (``--resume``) or left alone; one whose run saved no checkpoint yet
  (logs, samples) is overwritten only with ``--discard-newer``.
- **A resume continues its own run.** Each run has an id (``run.json`` and every
  checkpoint); resuming one run's checkpoint into a folder that holds another
  is refused: continue it in a new ``--out`` instead.
- **Going back is explicit.** Resuming from a checkpoint older than the
  folder's newest checkpoint would drop the later rows, samples and
  checkpoints; that takes ``--discard-newer``, else the job is refused and
  says so. Then ``latest`` is pointed at the step the run continues from
  before anything newer is deleted, and pruning keeps only that live line
  (checkpoint.py). (Rows and samples after the newest checkpoint are the
  same run's unsaved steps, lost with a crash or a NaN: a resume redoes
  them, step for step, so they are replaced without asking.)
- **A damaged pointer heals, and never costs a checkpoint.** An empty, damaged or
  dangling ``latest`` makes ``--resume`` continue from the newest complete checkpoint
  (checkpoint.py's ``resume_point``, with a note); a fresh start on such a folder is
  refused like one on any run, and a message advising ``--discard-newer`` lists the
  checkpoints it would delete.
- **Leftovers of a killed writer** (``.*.tmp``, minigan/fileio.py) are removed at start.

Every log is resume-safe: a resumed run drops the rows logged after its
checkpoint (there are none, unless ``--discard-newer`` allowed it), then appends.
"""
from __future__ import annotations

import contextlib
import json
import shlex
import uuid
from dataclasses import asdict
from pathlib import Path

from . import checkpoint
from .. import gradflow
from .judge import eval_columns
from ..fileio import TEMP_NAME, stale_temp_files, write_text_atomic
from .output_guard import holds_run
from .logs import MetricsLog, read_metrics

STATS = ("loss_d", "loss_g", "d_x", "d_g_z", "d_g_z_after")
COLUMNS = ("step", "epoch") + STATS              # the columns of metrics.csv (every game)
GP_COLUMNS = ("gp", "gp_grad_norm")              # ... and a wgan-gp run's: the penalty term, mean ||grad D(x_hat)||
R1_COLUMNS = ("r1", "r1_grad_norm")              # ... and an --r1 run's: the R1 term, mean ||grad D(x_real)||


def metrics_columns(loss: str = "bce", r1: float = 0.0) -> tuple[str, ...]:
    """The columns of metrics.csv for a run of game ``loss`` with R1 weight ``r1``: the penalties' when on."""
    return COLUMNS + (GP_COLUMNS if loss == "wgan-gp" else ()) + (R1_COLUMNS if r1 else ())
DISCARD_FLAG = "--discard-newer"


class RunFolderError(Exception):
    """Starting here would lose data, or the folder cannot be used; the message says what to do instead."""


class RunFolder:
    """The folder ``out`` a run writes into (see the module docstring for its files and its rules)."""

    def __init__(self, out, command: str = "minigan train"):
        self.out, self.command = Path(out), command

    # ---- what the folder holds ---------------------------------------------------------------------
    def run_id(self) -> str | None:
        try:
            return json.loads((self.out / "run.json").read_text(encoding="utf-8")).get("run_id")
        except (OSError, ValueError, AttributeError):
            return None

    def newest_step(self) -> int:
        """The last step anything in the folder records: a log row, a sample grid, a checkpoint (0: none)."""
        steps = [0, self._pointed_step(), *checkpoint.saved_steps(self.out)]
        steps += [int(p.stem[5:]) for p in (self.out / "samples").glob("step_*.png") if p.stem[5:].isdigit()]
        with contextlib.suppress(OSError, ValueError, IndexError):   # a damaged log is reported when opened
            steps.append(int(read_metrics(self.out / "metrics.csv")["step"][-1]))
        return max(steps)

    # ---- may a run start here? ---------------------------------------------------------------------
    def check_ours(self) -> None:
        """:class:`RunFolderError` if ``out`` holds files but no run: a run never writes among the user's files.

        Called before the lock is taken, so a refused folder gets nothing written into it. A
        leftover ``.lock`` or temporary file (``.*.tmp``), or the ``.DS_Store`` a Mac's Finder leaves in any
        folder it shows, does not count as the user's.
        """
        out = self.out
        if not out.is_dir() or holds_run(out):
            return
        theirs = sorted(p.name for p in out.iterdir()
                        if p.name not in (".lock", ".DS_Store") and not TEMP_NAME.fullmatch(p.name))
        if theirs:
            listed = ", ".join(theirs[:3]) + (f" and {len(theirs) - 3} more" if len(theirs) > 3 else "")
            raise RunFolderError(f"--out {out} is not empty ({listed}) and holds no minigan run; a run writes "
                                 "config.json, index.html, samples.png, ... there, so it would overwrite them. "
                                 "Train into a new or empty folder.")

    def check_start(self, state: dict | None, source: Path | None, discard_newer: bool) -> str:
        """The run id to train under, or :class:`RunFolderError` if starting here would lose data.

        ``state``: the checkpoint resumed from (None: a fresh run); ``source``: its file, if known.
        Reads only; :meth:`start` does the writing.
        """
        out, newest = self.out, self.newest_step()
        if state is None:
            saved = checkpoint.saved_steps(out)
            if checkpoint.latest_step(out) is not None or saved:
                where = (f"checkpoint {out / checkpoint.LATEST} -> step {checkpoint.latest_step(out)}"
                         if checkpoint.latest_step(out) is not None else
                         f"checkpoints up to step {saved[-1]} in {out / checkpoint.FOLDER}")
                raise RunFolderError(f"{out} already holds a run ({where}). Continue it with: {self.resume_hint()}\n"
                                     "or start a new run with another --out (or delete the folder).")
            if newest > 0 and not discard_newer:
                raise RunFolderError(f"{out} holds {newest} steps of logs or samples of a run that saved no "
                                     f"checkpoint. Start a new run with another --out, or add {DISCARD_FLAG} "
                                     "to replace them.")
            return uuid.uuid4().hex[:12]
        step = int(state["step"])
        if newest == 0 and checkpoint.latest_step(out) is None:
            return uuid.uuid4().hex[:12]                  # an empty folder: this run branches off into it
        if not self._same_run(state, source):
            raise RunFolderError(f"{out} holds another run (up to step {newest}); resuming "
                                 f"{source or 'this checkpoint'} there would overwrite its logs, samples and "
                                 "checkpoints. Continue it in a new folder with --out NEW_DIR.")
        saved = max([self._pointed_step(), *checkpoint.saved_steps(out)])
        if saved > step and not discard_newer:
            doomed = [f"step_{s:06d}.npz" for s in checkpoint.saved_steps(out) if s > step]
            raise RunFolderError(f"{out} has this run saved up to step {saved}; resuming from step {step} would "
                                 f"discard steps {step + 1}-{newest} (their log rows, samples and checkpoints: "
                                 f"{', '.join(doomed) or 'none saved'}). Keep them by continuing in a new folder "
                                 f"with --out NEW_DIR, or add {DISCARD_FLAG} to delete them and go back to step {step}.")
        return self.run_id() or state.get("run_id") or uuid.uuid4().hex[:12]

    def _pointed_step(self) -> int:
        """The step ``latest`` names if that checkpoint is there (0 if not: a dangling pointer saves nothing)."""
        step = checkpoint.latest_step(self.out)
        return step if step is not None and checkpoint.checkpoint_path(self.out, step).is_file() else 0

    def _same_run(self, state, source) -> bool:
        if self.run_id() and state.get("run_id"):
            return self.run_id() == state["run_id"]
        checkpoints = (self.out / checkpoint.FOLDER).resolve()  # runs of minigan <= 0.1 have no id:
        return source is not None and Path(source).resolve().parent == checkpoints   # its own checkpoint?

    # ---- starting: the files a run writes first ----------------------------------------------------
    def start(self, cfg, run_id: str, steps_per_epoch: int, last_step: int) -> None:
        """Write config.json and run.json, and remove files a killed writer left (minigan/fileio.py)."""
        for folder in (self.out, self.out / "samples", self.out / checkpoint.FOLDER):
            for path in stale_temp_files(folder):
                path.unlink(missing_ok=True)
        write_text_atomic(self.out / "config.json", json.dumps(asdict(cfg), indent=2) + "\n")
        write_text_atomic(self.out / "run.json", json.dumps(
            {"run_id": run_id, "steps_per_epoch": steps_per_epoch, "last_step": last_step}) + "\n")

    def discard_after(self, step: int) -> None:
        """Delete the sample grids and checkpoints after ``step`` (allowed by :meth:`check_start`).

        Call it once ``latest`` names ``step``'s checkpoint (or none), so a crash
        half-way never leaves ``latest`` pointing at a deleted file. The log rows
        after ``step`` go when the logs are opened (:meth:`open_logs`).
        """
        for path in (self.out / "samples").glob("step_*.png"):
            if path.stem[5:].isdigit() and int(path.stem[5:]) > step:
                path.unlink()
        for s in checkpoint.saved_steps(self.out):
            if s > step:
                checkpoint.checkpoint_path(self.out, s).unlink()

    def open_logs(self, step: int, judged: bool, grad_flow: bool, files: contextlib.ExitStack,
                  conditional: bool = False, columns: tuple = COLUMNS, eval_csv_columns=None):
        """``(metrics, evals, flows)``: the CSV logs, opened for appending after ``step``, closed by ``files``.

        eval.csv and gradflow.csv are None unless this run writes them (``judged``,
        ``grad_flow``) or an earlier part of the run did; a ``conditional`` run's eval.csv has
        the conditional columns too (minigan/job/judge.py), a collapse-lab run's its own (``eval_csv_columns``,
        minigan/job/collapse_eval.py); metrics.csv has ``columns`` (:func:`metrics_columns`), or
        :data:`COLUMNS` when it was begun by a minigan that logged no penalty columns (the log keeps
        its layout). Rows past ``step`` are
        dropped: they would repeat. Raises ``ValueError`` for a log this run cannot
        continue: other columns, or a damaged row (each log is read through once,
        so it fails now, not mid-run).
        """
        def open_log(path, columns, on, read, **kwargs):
            if not (on or path.exists()):
                return None
            log = files.enter_context(MetricsLog(path, columns, **kwargs))
            log.drop_rows_after(step)
            read(path)
            return log
        out = self.out
        with contextlib.suppress(OSError, ValueError):       # an older run's log keeps its columns
            if tuple(read_metrics(out / "metrics.csv")) == COLUMNS:
                columns = COLUMNS
        return (open_log(out / "metrics.csv", columns, True, read_metrics),
                open_log(out / "eval.csv", eval_csv_columns or eval_columns(conditional), judged, read_metrics),
                open_log(out / "gradflow.csv", gradflow.LOG_COLUMNS, grad_flow, gradflow.read_log,
                         text_fields=("net", "layer")))

    # ---- while it runs -----------------------------------------------------------------------------
    def sample_path(self, step: int) -> Path:
        return self.out / "samples" / f"step_{step:06d}.png"

    def sample_frames(self) -> list[Path]:
        """The sample grids saved so far, in order: the GIF's frames."""
        return sorted((self.out / "samples").glob("step_*.png"))

    def save_checkpoint(self, state: dict, step: int, keep: int) -> Path:
        return checkpoint.save_and_point(self.out, state, step, keep)

    def latest_step(self) -> int | None:
        return checkpoint.latest_step(self.out)

    # ---- what to tell the user ---------------------------------------------------------------------
    def resume_hint(self) -> str:
        return f"{self.command} --out {shlex.quote(str(self.out))} --resume"

    def last_good(self) -> str:
        step = self.latest_step()
        if step is None:
            return "No checkpoint had been saved yet."
        return (f"The last good checkpoint is {checkpoint.checkpoint_path(self.out, step)}; resume from it "
                f"with: {self.resume_hint()}")
