"""The training loop's side tasks: everything it does besides training, one call each.

    job.log(step, epoch, stats)    a row of metrics.csv (and gradflow.csv on the steps it records)
    job.evaluate()                 G judged by the dataset's classifier: a row of eval.csv, metrics.png
    job.sample()                   the fixed noise through G: samples/step_*.png, the GIF, the curves, the report
                                   (and, opening a fresh run's logs, samples/step_000000.png: G untrained)
                                   (a --conditional run: one row per class, each row the same z; a 2D run:
                                   a scatter plot of 2,500 points over D's verdict on the plane)
    job.checkpoint(epoch, batch)   everything needed to continue exactly (after the divergence check)
    job.finish()                   the last grid, samples.png, interpolation.png, the report

:func:`minigan.job.run.train` makes one :class:`Job` and calls these from its loop.
"""
from __future__ import annotations

import contextlib
from dataclasses import asdict

import numpy as np

from .. import backend as B
from .collapse_eval import COLLAPSE_DATASETS, CollapseJudge, collapse_columns
from .divergence import DivergenceGuard
from .game_views import game_view
from .judge import eval_line, log_row
from .generate import latent_walk
from .logs import read_metrics
from ..models import class_rows
from .report import write_report
from .run_folder import RunFolder, metrics_columns
from .viz import GifWriter, grid_scale, plot_eval_curves, plot_training_curves, save_grid
from .data import POINT_SETS, PointSet              # a 2D run's pictures: its points, D over the plane
from .plane import decision_field, warped_grid
from .viz.scatter import plot_extent, save_scatter

N_REAL_SHOWN = 2_500                                 # real points under a 2D run's samples


class Job:
    """What the loop does besides training, one call each: log, evaluate, sample, checkpoint, finish.

    It holds what those tasks share: the run folder and its open logs, the
    trainer, the judge, the fixed noise, the curves' history, the growing GIF.
    """

    def __init__(self, cfg, folder: RunFolder, trainer, judge, fixed_z, size: int):
        self.cfg, self.folder, self.trainer, self.judge, self.fixed_z = cfg, folder, trainer, judge, fixed_z
        self.scale, self.title = grid_scale(size), f"{cfg.arch} on {cfg.dataset}, {cfg.loss}"
        self.game = game_view(asdict(cfg))           # the curves' panels for the run's game
        self.nrow, self.fixed_labels, self.row_names = 8, None, None   # the grid: 8 pictures a row
        if cfg.conditional:                          # row k: class k, from the same row of z each time
            K = len(cfg.class_names)
            self.nrow = len(fixed_z) // K
            self.fixed_labels = class_rows(K, self.nrow)                # (K * nrow,): 0, 0, ..., 1, 1, ...
            self.row_names = list(cfg.class_names)                      # written beside the rows
            self.title += f", conditional ({cfg.conditional})"
        self.guard = DivergenceGuard()               # a diverged model is never saved
        self.saved_step = folder.latest_step()       # the step of the newest checkpoint
        self.metrics = self.evals = self.flows = None
        self.points = PointSet(cfg.dataset, cfg.seed) if cfg.dataset in POINT_SETS else None   # a 2D run's data

    def open_logs(self, files: contextlib.ExitStack) -> None:
        """The CSV logs, open for appending (closed by ``files``), and what the curves and GIF show so far."""
        step = self.trainer.step_count
        collapse = collapse_columns(self.cfg.dataset) if self.cfg.dataset in COLLAPSE_DATASETS else None
        self.metrics, self.evals, self.flows = self.folder.open_logs(
            step, self.judge is not None, self.cfg.grad_flow_every > 0, files, conditional=bool(self.cfg.conditional),
            columns=metrics_columns(self.cfg.loss, self.cfg.r1), eval_csv_columns=collapse)
        self.history = {k: list(v) for k, v in read_metrics(self.folder.out / "metrics.csv").items()}
        self.gif = GifWriter(self.folder.out / "training.gif")   # grown one frame per sample point
        self.gif.sync(self.folder.sample_frames())               # cut or filled to the grids this run keeps
        if step == 0:                                # the first frame: G before any training, noise
            path = self.folder.sample_path(0)
            self.save_picture(self.fixed_grid(), path, nrow=self.nrow, row_labels=self.row_names)
            self.gif.append(path)

    def grad_flow_due(self, step: int) -> bool:
        """Per-layer statistics cost extra passes: gather them only on the steps gradflow.csv logs."""
        return self.cfg.grad_flow_every > 0 and step % self.cfg.grad_flow_every == 0

    def log(self, step: int, epoch: int, stats: dict) -> None:
        """One row of metrics.csv (and of the curves' history); gradflow.csv rows when gathered."""
        row = {"step": step, "epoch": epoch, **{k: stats[k] for k in self.metrics.fieldnames[2:]}}
        self.metrics.log(**row)
        for k in self.metrics.fieldnames:
            self.history[k].append(row[k])
        for net, rows in stats.get("grad_flow", {}).items():     # "G": one row per layer, "D": ...
            for layer_row in rows:
                self.flows.log(step=step, net=net, **layer_row)

    def evaluate(self, say=print) -> None:
        """Judge G now (the EMA copy when kept): a row in eval.csv, metrics.png redrawn, a line printed."""
        step, cfg = self.trainer.step_count, self.cfg
        if step in read_metrics(self.folder.out / "eval.csv")["step"]:
            return                                   # judged at this step already
        result = self.judge(lambda z, labels: self.trainer.generate(labels=labels, z=z), cfg.nz, cfg.noise,
                            cfg.dtype, num_classes=self.trainer.num_classes)
        if isinstance(self.judge, CollapseJudge):     # ring, grid, Stacked MNIST: modes counted
            self.evals.log(**self.judge.log_row(step, result))
            self.judge.plot(read_metrics(self.folder.out / "eval.csv"), self.folder.out / "metrics.png",
                            title=f"{self.title}: {self.judge.n:,} samples per evaluation")
            say(self.judge.line(step, result))
            return
        self.evals.log(**log_row(step, result))
        plot_eval_curves(read_metrics(self.folder.out / "eval.csv"), self.folder.out / "metrics.png",
                         title=f"{self.title}: {cfg.eval_samples:,} samples per evaluation")
        say(eval_line(step, result))

    def sample(self) -> None:
        """The fixed noise through G (the EMA copy when kept): one more frame of the GIF; the curves; the report."""
        path = self.folder.sample_path(self.trainer.step_count)
        self.save_picture(self.fixed_grid(), path, nrow=self.nrow, row_labels=self.row_names)
        self.gif.append(path)                        # one frame encoded, whatever the GIF's length
        plot_training_curves(self.history, self.folder.out / "curves.png", title=self.title, game=self.game)
        write_report(self.folder.out)

    def fixed_grid(self):
        """The fixed noise (and a conditional run's class of each row) through G: ``(N, C, H, W)``."""
        return self.trainer.generate(labels=self.fixed_labels, z=self.fixed_z)

    def save_picture(self, samples, path, nrow: int, row_labels=None) -> None:
        """A grid of the pictures ``samples`` (``row_labels`` beside its rows), or for a 2D run a scatter plot
        of its points over the data."""
        if self.points is None:
            save_grid(samples, path, nrow=nrow, scale=self.scale, row_labels=row_labels)
            return
        real = self.points.points[:N_REAL_SHOWN]                         # the first of the (shuffled) points
        field = decision_field(self.trainer.D, plot_extent(self.points.modes))   # D's verdict, behind the points
        manifold = warped_grid(lambda z: self.trainer.generate(z=z), dtype=self.cfg.dtype) if self.cfg.nz == 2 else None
        save_scatter(samples, path, self.points.modes, self.points.std, real=real, field=field, manifold=manifold,
                     arrows=self.trainer.last_fakes, title=f"{self.title}, step {self.trainer.step_count}")

    def checkpoint(self, epoch: int, batch: int) -> None:
        """Save everything needed to continue exactly from here (minigan/job/checkpoint.py), unless saved already."""
        trainer = self.trainer
        if self.saved_step == trainer.step_count:
            return
        state = {"step": trainer.step_count, "epoch": epoch, "batch": batch, "batches_per_step": self.cfg.n_critic,
                 "config": asdict(self.cfg),
                 "run_id": self.folder.run_id(), "trainer": trainer.state_dict(),
                 "fixed_noise": B.to_numpy(self.fixed_z)}
        self.guard.check_state(trainer.step_count, state)     # never a checkpoint holding inf or NaN
        self.folder.save_checkpoint(state, trainer.step_count, self.cfg.keep_checkpoints)
        self.saved_step = trainer.step_count

    def finish(self) -> None:
        """The last grid (and GIF frame), samples.png, the interpolation grid, the curves, the report."""
        out, trainer, cfg = self.folder.out, self.trainer, self.cfg
        if not self.gif.labels or self.gif.labels[-1] != self.folder.sample_path(trainer.step_count).stem:
            self.sample()
        self.save_picture(self.fixed_grid(), out / "samples.png", nrow=self.nrow, row_labels=self.row_names)
        z = latent_walk(cfg.nz, rows=8, steps=10, kind=cfg.noise, rng=np.random.default_rng([cfg.seed, 2]),
                        dtype=cfg.dtype)             # (80, nz, 1, 1): 8 rows, each from one z to another
        walk_labels = None if self.fixed_labels is None else np.repeat(np.arange(8) % len(cfg.class_names), 10)
        walk_names = None if walk_labels is None else [cfg.class_names[k] for k in walk_labels[::10]]
        self.save_picture(trainer.generate(labels=walk_labels, z=z), out / "interpolation.png", nrow=10,
                          row_labels=walk_names)     # a conditional run: row r walks within class r
        write_report(out)

    def after_failure(self) -> None:
        """Best effort after a NaN or divergence: the curves and report up to here (a second error must
        not hide the first)."""
        with contextlib.suppress(Exception):
            plot_training_curves(self.history, self.folder.out / "curves.png", title=self.title, game=self.game)
            write_report(self.folder.out)
