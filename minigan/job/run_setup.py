"""The start of a training run, one function per phase of :func:`minigan.job.run.train`.

Each phase checks what it can before the next one commits to anything, and stops
the run with one line (:class:`StopRun`) when something is wrong::

    check_start        the config, the backend and the checkpoint to resume: before anything is written
    claim_folder       --out ours alone (the lock), and nothing in it lost (minigan/job/run_folder.py)
    training_data      the pictures (or points), checked against the run's fingerprint; the run's length
    build_trainer      G, D, the trainer, the judge and the fixed noise; resuming: everything where it was
    open_outputs       config.json, run.json and the logs, open until the run ends
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import backend as B
from .. import fast
from ..fast import cores
from .checkpoint import CheckpointError, load_checkpoint, resolve
from . import lr_schedule
from .config import TrainConfig, build_models, print_config, recipe_line, run_length
from .data import (POINT_SETS, DatasetError, ImageFolder, LabelledImageFolder, PointSet, StackedMNIST,
                   data_changed, fingerprint, load_fashion_mnist, load_mnist)
from .collapse_eval import COLLAPSE_DATASETS, CollapseJudge
from .judge import Judge, NoJudge
from ..models import sample_noise, summary
from .run_folder import RunFolder, RunFolderError
from .runlock import FolderInUse, RunLock
from .side_tasks import Job
from .settings_checks import check_out_path, picture_size
from .weights_fit import check_weights_fit
from ..train import GANTrainer

N_SAMPLES = 64                                   # the fixed noise batch: an 8 x 8 sample grid
N_POINTS = 2_500                                 # a 2D run's: the points of its scatter plots
PER_ROW = 8                                      # a conditional run's grid: one row of 8 per class


class StopRun(Exception):
    """The run ended early: ``str(e)`` is the message for the user, ``e.exit_code`` the exit status."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class TrainingData:
    """The run's pictures and how a run walks through them."""
    images: object                               # uint8 (N, 28, 28) or (N, size, size, C); or a PointSet, StackedMNIST
    labels: object                               # (N,) int classes (--conditional), or None
    class_names: list | None
    size: int                                    # the pictures' side (1 for 2D points)
    steps_per_epoch: int
    epochs: int
    last_step: int


def check_start(cfg: TrainConfig, resume, command: str):
    """``(cfg, folder, state, source)``: the resolved config, the run folder, the checkpoint to resume (or None).

    Everything here fails before anything is written: a bad --out, a missing backend, a
    checkpoint whose arrays do not fit its own config. Prints the config (and the recipe).
    """
    cfg = cfg.resolved()
    try:
        check_out_path(cfg)                      # not inside a folder dataset's pictures
    except ValueError as e:
        raise StopRun(f"error: {e}", 2) from None
    B.get_backend(cfg.backend)                   # raises BackendUnavailable, saying what to do
    folder = RunFolder(Path(cfg.out).expanduser(), command)
    source = None if resume is None or isinstance(resume, dict) else resolve(resume)
    state = resume if isinstance(resume, dict) or resume is None else load_checkpoint(source)
    if state is not None:
        try:                                     # the checkpoint's arrays against its config, nothing built yet
            check_weights_fit(cfg, state.get("trainer"))
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"{source or 'the checkpoint'} does not match the networks its config "
                                  f"describes: {e}") from None
    print_config(cfg, folder.out / "config.json")
    if cfg.recipe:
        print(recipe_line(cfg))                  # the paper's settings, and the flags that overrode them
    return cfg, folder, state, source


def claim_folder(folder: RunFolder, files: contextlib.ExitStack, command: str, state, source, discard_newer: bool):
    """Lock ``--out`` for this job (released by ``files``) and check that starting there loses nothing; the run's id."""
    try:
        folder.check_ours()                      # a folder of the user's files: refused before the lock
        files.enter_context(RunLock(folder.out, f"{command} --out {folder.out}"))
        return folder.check_start(state, source, discard_newer)
    except (FolderInUse, RunFolderError) as e:
        raise StopRun(f"error: {e}", 2) from None
    except OSError as e:
        raise StopRun(f"error: cannot write to --out {folder.out}: {e.strerror or e}", 1) from None


def training_data(cfg: TrainConfig, state) -> tuple[TrainConfig, TrainingData]:
    """``(cfg, data)``: the pictures loaded and checked against the run's (class names, fingerprint).

    The returned config carries the class names and the data's fingerprint (saved in config.json
    and every checkpoint). Prints the data line.
    """
    size = picture_size(cfg)                     # 1 for 2D points: a (2, 1, 1) "picture"
    images, labels, class_names = load_data(cfg, size)
    if cfg.conditional:
        if cfg.class_names and list(cfg.class_names) != class_names:
            raise StopRun(f"error: the run was trained on the classes {', '.join(cfg.class_names)}, but "
                          f"{cfg.data_dir} now has {', '.join(class_names)}; resume with the data it was "
                          "trained on, or start a new run", 2)
        cfg = replace(cfg, class_names=class_names)
    now = fingerprint(images, labels)            # the data, checked on resume (data/fingerprint.py)
    changed = data_changed(cfg.data_fingerprint, now, cfg.data_dir or cfg.dataset)
    if changed:
        raise StopRun(f"error: {changed}", 2)
    if state is not None and cfg.data_fingerprint is None:
        print("note: this run was saved without a fingerprint of its data (an older minigan), so its data "
              "is not checked now; it is from this resume on")
    cfg = replace(cfg, data_fingerprint=now)
    N, k = len(images), cfg.n_critic
    steps_per_epoch = N // (cfg.batch_size * k)  # drop_last: every batch is full; a step takes k batches,
    if steps_per_epoch == 0:                     # a fresh one per D update: an epoch is still one pass
        raise StopRun(f"error: --batch-size {cfg.batch_size}{f' x --n-critic {k}' if k > 1 else ''} is larger "
                      f"than the dataset ({N} pictures)", 2)
    epochs, last_step = run_length(cfg, steps_per_epoch)
    per_step = f"{cfg.batch_size}" if k == 1 else f"{k} x {cfg.batch_size} (n_critic {k}: a batch per D update)"
    print(f"data: {N:,} pictures of {cfg.dataset}, {steps_per_epoch} steps per epoch of "
          f"{per_step}: {last_step:,} steps in all ({epochs} epoch{'s' * (epochs > 1)})")
    if schedule := lr_schedule.describe(cfg, last_step):
        print(schedule)                              # --lr-decay: the rates' schedule over these steps
    return cfg, TrainingData(images, labels, class_names, size, steps_per_epoch, epochs, last_step)


def choose_paths(cfg: TrainConfig, files: contextlib.ExitStack) -> None:
    """The layers' paths for this job (--plain: the plain ones, until ``files`` closes), said in one line."""
    if cfg.plain:
        files.enter_context(fast.plain())
    print(fast.describe())                       # which paths the layers take, and how to switch
    if cfg.backend == "numpy" and fast.enabled():
        print(cores.describe())                  # the CPU's cores: all of them, or why one


def build_trainer(cfg: TrainConfig, data: TrainingData, state):
    """``(trainer, judge, fixed_z, (epoch, batch))``: G and D with their tables, the trainer, the judge
    (--eval-every, or None) and the fixed noise; resuming, all of it where the checkpoint left it."""
    try:
        G, D = build_models(cfg)
    except MemoryError:
        raise StopRun(f"error: not enough memory for G and D of --nz {cfg.nz} --ngf {cfg.ngf} --ndf "
                      f"{cfg.ndf}; try smaller values (the defaults are 100, 64, 64)", 1) from None
    K = len(data.class_names) if cfg.conditional else 0
    print("generator G:" + (f" reads z and the one-hot label of {K} classes" if K else ""))
    summary(G, getattr(G, "input_shape", None) or (G.layers[0].in_channels, 1, 1))
    print("discriminator D:" + {"concat": f" reads the picture and {K} label planes",
                                "projection": " its conv stack (+ a class embedding)"}.get(cfg.conditional, ""))
    summary(D, getattr(D, "input_shape", None) or (D.layers[0].in_channels, data.size, data.size))
    trainer = GANTrainer(G, D, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), seed=cfg.seed, noise=cfg.noise,
                         label_smoothing=cfg.label_smoothing, n_critic=cfg.n_critic, ema=cfg.ema,
                         loss=cfg.loss, clip=cfg.clip, gp_weight=cfg.gp_weight, r1=cfg.r1,
                         lr_g=cfg.lr_g, lr_d=cfg.lr_d, augment=cfg.augment)
    judge = make_judge(cfg)                      # the classifier that evaluates G, or None
    n_fixed = N_POINTS if cfg.dataset in POINT_SETS else N_SAMPLES   # a 2D run's scatter plot: 2,500 points
    fixed_z = sample_noise(n_fixed, cfg.nz, cfg.noise, np.random.default_rng([cfg.seed, 1]), cfg.dtype)
    if cfg.conditional:                          # a row per class, each row the same PER_ROW z
        fixed_z = np.tile(fixed_z[:PER_ROW], (len(data.class_names), 1, 1, 1))   # (K * PER_ROW, nz, 1, 1)
    epoch, batch = 0, 0                          # where we are: the next batch to train on
    if state is not None:
        fixed_z, epoch, batch = resume_trainer(trainer, state, cfg, data.steps_per_epoch)
    if trainer.step_count >= data.last_step:
        print(f"note: the run is at step {trainer.step_count}, its last; to train on, resume with "
              f"--max-steps or --epochs set higher")
    return trainer, judge, fixed_z, (epoch, batch)


def open_outputs(cfg, folder, trainer, judge, fixed_z, data: TrainingData, run_id, state, where, files) -> Job:
    """The job's side tasks (minigan/job/side_tasks.py), with config.json, run.json and the logs written
    or opened (closed by ``files``); resuming, ``latest`` names the step the run goes on from."""
    job = Job(cfg, folder, trainer, judge, fixed_z, data.size)
    try:
        folder.start(cfg, run_id, data.steps_per_epoch, data.last_step)
        if state is not None and folder.latest_step() != trainer.step_count:
            job.checkpoint(*where)               # `latest` names the step we continue from ...
        folder.discard_after(trainer.step_count)  # ... before anything newer goes (--discard-newer)
        job.open_logs(files)
    except OSError as e:
        raise StopRun(f"error: cannot write to --out {folder.out}: {e.strerror or e}", 1) from None
    except ValueError as e:                      # a log of another layout, or a damaged row
        raise StopRun(f"error: cannot continue the logs in {folder.out}: {e}\n"
                      "Start a fresh run with another --out, or move that file away.", 2) from None
    return job


def load_data(cfg: TrainConfig, size: int):
    """``(images, labels, class_names)``: the training pictures as uint8, ``(N, 28, 28)`` for
    (Fashion-)MNIST, else ``(N, size, size, C)``; with ``--conditional`` their int labels ``(N,)``
    and the class names (label k is ``class_names[k]``), else None and None."""
    if cfg.dataset in POINT_SETS:                    # 100,000 fixed 2D points (minigan/job/data/points.py)
        return PointSet(cfg.dataset, cfg.seed), None, None
    if cfg.dataset == "stacked-mnist":               # MNIST's digits, stacked afresh each epoch
        digits, digit_labels = load_mnist(cfg.data_dir, train=True)
        return StackedMNIST(digits, digit_labels), None, None
    if cfg.dataset in ("mnist", "fashion-mnist"):
        load = load_mnist if cfg.dataset == "mnist" else load_fashion_mnist
        images, labels = load(cfg.data_dir, train=True)
        if not cfg.conditional:
            return images, None, None
        return images, labels.astype(np.int64), list(cfg.class_names)
    if not cfg.conditional:
        return ImageFolder(cfg.data_dir, size=size, channels=cfg.channels).images, None, None
    folder = LabelledImageFolder(cfg.data_dir, size=size, channels=cfg.channels)   # a sub-folder per class
    if len(folder) == 0:
        raise DatasetError(f"{cfg.data_dir}: no picture in its class folders could be read")
    return folder.images, folder.labels, folder.class_names


def make_judge(cfg: TrainConfig) -> Judge | CollapseJudge | None:
    """The evaluation's classifier and real-image statistics (see minigan/job/judge.py), or None:
    with --eval-every 0, or for a dataset with no labels to train a classifier on."""
    if not cfg.eval_every:
        return None
    if cfg.dataset in COLLAPSE_DATASETS:             # modes counted as the papers count them
        judge = CollapseJudge(cfg.dataset, seed=cfg.seed, data_dir=cfg.data_dir, backend=cfg.backend)
        print(f"evaluation: every {cfg.eval_every} steps and at the end, {judge.describe()}")
        return judge
    try:
        judge = Judge(cfg.dataset, cfg.data_dir, n=cfg.eval_samples, backend=cfg.backend, seed=cfg.seed)
    except NoJudge as e:
        print(f"note: {e}, so --eval-every is ignored: this run is not evaluated.")
        return None
    print(f"evaluation: every {cfg.eval_every} steps and at the end, {judge.describe()}")
    return judge


def resume_trainer(trainer, state: dict, cfg: TrainConfig, steps_per_epoch: int):
    """Put ``trainer`` where the checkpoint ``state`` left it; returns ``(fixed_z, epoch, batch)``."""
    try:
        trainer.load_state_dict(state["trainer"])    # weights, Adam, EMA, noise RNG, step
        fixed_z, epoch, batch = state["fixed_noise"], int(state["epoch"]), int(state["batch"])
    except KeyError as e:
        raise StopRun(f"error: cannot resume from this checkpoint: it has no {e.args[0]!r} entry", 2) from None
    except (ValueError, TypeError) as e:
        raise StopRun(f"error: cannot resume from this checkpoint: {e}", 2) from None
    k, saved = cfg.n_critic, int(state.get("batches_per_step", 1))   # real batches a step: (epoch, batch)
    if saved != k:                               # counts steps. Another --n-critic now, or an older minigan's
        batch = batch * saved // k               # run (its D updates shared one batch): the same place in the data
        epoch, batch = (epoch, batch) if batch < steps_per_epoch else (epoch + 1, 0)
        print(f"note: the checkpoint's steps took {saved} real batch{'es' * (saved > 1)} each"
              f"{'' if 'batches_per_step' in state else ' (an older minigan: its D updates shared one)'}, this "
              f"run's take {k}, one per D update: it goes on from the same place in the data, step {batch} of "
              f"epoch {epoch + 1} ({steps_per_epoch} steps an epoch now)")
    if batch >= steps_per_epoch:
        what = f"batches of {cfg.batch_size}" if k == 1 else f"steps of {k} x {cfg.batch_size}"
        raise StopRun(f"error: the checkpoint stands at batch {batch} of an epoch, but this data makes only "
                      f"{steps_per_epoch} {what}: resume with the data the run was trained on (--data-dir), "
                      "or start a new run", 2)
    for opt, lr in ((trainer.opt_G, cfg.lr_g), (trainer.opt_D, cfg.lr_d)):   # from cfg: --lr etc. given now win
        opt.lr, opt.betas = cfg.lr if lr is None else lr, (cfg.beta1, cfg.beta2)
    print(f"resumed from step {trainer.step_count} (epoch {epoch + 1}, batch {batch})")
    return fixed_z, epoch, batch
