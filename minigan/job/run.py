"""The training job: what ``minigan train`` and ``examples/train_mnist.py`` run.

:func:`train` reads top to bottom, like nanoGPT's ``train.py``:

    0. config     TrainConfig (minigan/job/config.py): every field a --flag, printed, saved as config.json
    1. backend    NumPy or CuPy, checked before anything is written
    2. folder     the --out folder, locked for this job, checked so that nothing in it is lost
    3. data       MNIST, Fashion-MNIST or a folder of pictures, as uint8 arrays (with labels: --conditional)
    4. model      G and D (dcgan28 or dcgan64), with their summary tables
    5. trainer    GANTrainer, the judge (--eval-every), fixed noise, and -- when resuming --
                  everything where it was
    6. loop       epochs of batches: step, then the side tasks: log, evaluate, sample, checkpoint
    7. outputs    the last checkpoint first, then the final evaluation, pictures and report

The side tasks are the methods of :class:`~minigan.job.side_tasks.Job`, one call each from the loop.
What the folder holds, and the rules that keep it safe, are in
minigan/job/run_folder.py. Stopping early: Ctrl-C, SIGTERM or SIGHUP finish the
step and save (exit 130, 143, 129; minigan/job/progress.py); a NaN loss or a
diverged run stops without saving the bad state (exit 3; minigan/job/divergence.py).
"""
from __future__ import annotations

import contextlib
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import backend as B
from .. import fast
from ..fast import cores
from .checkpoint import CheckpointError, load_checkpoint, resolve
from .config import (TrainConfig, build_models, check_out_path, picture_size, print_config, recipe_line,
                     run_length)
from .data import (POINT_SETS, DatasetError, ImageFolder, LabelledImageFolder, PointSet, StackedMNIST, batches,
                   data_changed, fingerprint, load_fashion_mnist, load_mnist)
from .collapse_eval import COLLAPSE_DATASETS, CollapseJudge
from .divergence import Diverged
from .judge import Judge, NoJudge
from ..models import sample_noise, summary
from .progress import EpochBar, StopSignals
from .run_folder import RunFolder, RunFolderError
from .runlock import FolderInUse, RunLock
from .side_tasks import Job
from .weights_fit import check_weights_fit
from ..train import GANTrainer, NonFiniteLossError, StepInterrupted

N_SAMPLES = 64                                   # the fixed noise batch: an 8 x 8 sample grid
N_POINTS = 2_500                                 # a 2D run's: the points of its scatter plots
PER_ROW = 8                                      # a conditional run's grid: one row of 8 per class


class StopRun(Exception):
    """The run ended early: ``str(e)`` is the message for the user, ``e.exit_code`` the exit status."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def train(cfg: TrainConfig, resume=None, *, command: str = "minigan train", discard_newer: bool = False) -> dict:
    """Run the training job ``cfg`` describes; returns ``{"step", "out", "checkpoint"}``.

    ``resume``: None for a fresh run, else a checkpoint (a path, an output folder, or a dict from
    :func:`minigan.job.checkpoint.load_checkpoint`) to continue from exactly. ``discard_newer``: allow
    going back to an older step of the run in ``--out`` (see minigan/job/run_folder.py). ``command``: how
    the user started the job, for the "resume with ..." hint. Raises :class:`StopRun` (a signal, NaN,
    divergence, a folder in use, a failed write), :class:`~minigan.backend.BackendUnavailable`,
    :class:`~minigan.job.data.DatasetError`, :class:`~minigan.job.checkpoint.CheckpointError` or ``ValueError``.
    """
    # ---- 0. config, and 1. the backend: fail before anything is written ---------------------------
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

    # ---- 2. the folder: ours alone, and nothing in it lost ------------------------------------------
    with contextlib.ExitStack() as files:
        try:
            folder.check_ours()                      # a folder of the user's files: refused before the lock
            files.enter_context(RunLock(folder.out, f"{command} --out {folder.out}"))
            run_id = folder.check_start(state, source, discard_newer)
        except (FolderInUse, RunFolderError) as e:
            raise StopRun(f"error: {e}", 2) from None
        except OSError as e:
            raise StopRun(f"error: cannot write to --out {folder.out}: {e.strerror or e}", 1) from None

        # ---- 3. data ----------------------------------------------------------------------------------
        size = picture_size(cfg)                     # 1 for 2D points: a (2, 1, 1) "picture"
        images, labels, class_names = load_data(cfg, size)   # uint8 (N, 28, 28) or (N, size, size, C); labels
        if cfg.conditional:                                  # (N,) int, or None without --conditional
            if cfg.class_names and list(cfg.class_names) != class_names:
                raise StopRun(f"error: the run was trained on the classes {', '.join(cfg.class_names)}, but "
                              f"{cfg.data_dir} now has {', '.join(class_names)}; resume with the data it was "
                              "trained on, or start a new run", 2)
            cfg = replace(cfg, class_names=class_names)      # saved in config.json and every checkpoint
        now = fingerprint(images, labels)                    # the data, checked on resume (data/fingerprint.py)
        changed = data_changed(cfg.data_fingerprint, now, cfg.data_dir or cfg.dataset)
        if changed:
            raise StopRun(f"error: {changed}", 2)
        if state is not None and cfg.data_fingerprint is None:
            print("note: this run was saved without a fingerprint of its data (an older minigan), so its data "
                  "is not checked now; it is from this resume on")
        cfg = replace(cfg, data_fingerprint=now)             # saved in config.json and every checkpoint
        N = len(images)
        steps_per_epoch = N // cfg.batch_size        # drop_last: every batch is full
        if steps_per_epoch == 0:
            raise StopRun(f"error: --batch-size {cfg.batch_size} is larger than the dataset ({N} pictures)", 2)
        epochs, last_step = run_length(cfg, steps_per_epoch)
        print(f"data: {N:,} pictures of {cfg.dataset}, {steps_per_epoch} steps per epoch of "
              f"{cfg.batch_size}: {last_step:,} steps in all ({epochs} epoch{'s' * (epochs > 1)})")
        if cfg.plain:
            files.enter_context(fast.plain())        # every layer and Adam on their plain paths, for this job
        print(fast.describe())                       # which paths the layers take, and how to switch
        if cfg.backend == "numpy" and fast.enabled():
            print(cores.describe())                  # the CPU's cores: all of them, or why one

        # ---- 4. model, and 5. trainer, judge, fixed noise; resuming: everything where it was -----------
        try:
            G, D = build_models(cfg)
        except MemoryError:
            raise StopRun(f"error: not enough memory for G and D of --nz {cfg.nz} --ngf {cfg.ngf} --ndf "
                          f"{cfg.ndf}; try smaller values (the defaults are 100, 64, 64)", 1) from None
        K = len(class_names) if cfg.conditional else 0
        print("generator G:" + (f" reads z and the one-hot label of {K} classes" if K else ""))
        summary(G, getattr(G, "input_shape", None) or (G.layers[0].in_channels, 1, 1))
        print("discriminator D:" + {"concat": f" reads the picture and {K} label planes",
                                    "projection": " its conv stack (+ a class embedding)"}.get(cfg.conditional, ""))
        summary(D, getattr(D, "input_shape", None) or (D.layers[0].in_channels, size, size))
        trainer = GANTrainer(G, D, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), seed=cfg.seed, noise=cfg.noise,
                             label_smoothing=cfg.label_smoothing, n_critic=cfg.n_critic, ema=cfg.ema,
                             loss=cfg.loss, clip=cfg.clip, gp_weight=cfg.gp_weight, r1=cfg.r1,
                             lr_g=cfg.lr_g, lr_d=cfg.lr_d, augment=cfg.augment)
        judge = make_judge(cfg)                      # the classifier that evaluates G, or None
        n_fixed = N_POINTS if cfg.dataset in POINT_SETS else N_SAMPLES   # a 2D run's scatter plot: 2,500 points
        fixed_z = sample_noise(n_fixed, cfg.nz, cfg.noise, np.random.default_rng([cfg.seed, 1]), cfg.dtype)
        if cfg.conditional:                          # a row per class, each row the same PER_ROW z
            fixed_z = np.tile(fixed_z[:PER_ROW], (len(class_names), 1, 1, 1))   # (K * PER_ROW, nz, 1, 1)
        epoch, batch = 0, 0                          # where we are: the next batch to train on
        if state is not None:
            fixed_z, epoch, batch = resume_trainer(trainer, state, cfg, steps_per_epoch)
        if trainer.step_count >= last_step:
            print(f"note: the run is at step {trainer.step_count}, its last; to train on, resume with "
                  f"--max-steps or --epochs set higher")

        # ---- the folder's files: config.json, run.json, the logs (open until the run ends) -------------
        job = Job(cfg, folder, trainer, judge, fixed_z, size)
        try:
            folder.start(cfg, run_id, steps_per_epoch, last_step)
            if state is not None and folder.latest_step() != trainer.step_count:
                job.checkpoint(epoch, batch)         # `latest` names the step we continue from ...
            folder.discard_after(trainer.step_count)  # ... before anything newer goes (--discard-newer)
            job.open_logs(files)
        except OSError as e:
            raise StopRun(f"error: cannot write to --out {folder.out}: {e.strerror or e}", 1) from None
        except ValueError as e:                      # a log of another layout, or a damaged row
            raise StopRun(f"error: cannot continue the logs in {folder.out}: {e}\n"
                          "Start a fresh run with another --out, or move that file away.", 2) from None

        # ---- 6. the loop ---------------------------------------------------------------------------------
        first_step = trainer.step_count + 1
        print(LEGEND if cfg.loss in ("bce", "minimax") and cfg.d_head == "sigmoid" else
              f"Each line: Loss_D and Loss_G of the {cfg.loss} game (docs/losses-and-stabilizers.md); D(x) and "
              f"D(G(z)) are D's mean outputs on the real and fake batch{'' if cfg.d_head == 'sigmoid' else ' (raw scores for lsgan, hinge and wgan)'}.")
        with StopSignals() as stop:                  # a signal lets the step in progress finish
            trainer.interrupted = lambda: stop.received   # ... or stops it between two D updates
            try:
                while trainer.step_count < last_step and not stop.received:
                    e = epoch
                    end = min(steps_per_epoch, batch + last_step - trainer.step_count)   # this epoch's last batch
                    bar = EpochBar(f"epoch {e + 1}/{epochs}", steps_per_epoch, batch, end,
                                   run_left=last_step - trainer.step_count - (end - batch))
                    order = np.random.default_rng([cfg.seed, e])   # the same shuffle on every resume
                    if hasattr(images, "batches"):   # 2D points, Stacked MNIST: their own epochs (data/points.py)
                        epoch_batches = images.batches(cfg.batch_size, order, start=batch)
                    else:
                        epoch_batches = batches(images, cfg.batch_size, order, size=size, start=batch, labels=labels)
                    for b in itertools.islice(epoch_batches, end - batch):
                        x, y = b if labels is not None else (b, None)   # y: (B,) the pictures' classes
                        trainer.track_grad_flow = job.grad_flow_due(trainer.step_count + 1)
                        try:
                            stats = trainer.step(x, y)   # x: (B, C, H, W) float32 in [-1, 1]; one D + one G update
                        except StepInterrupted as cut:   # a signal between two D updates (--n-critic > 1)
                            bar.print(f"note: step {trainer.step_count + 1} {cut}")
                            break
                        step = trainer.step_count
                        job.guard.check_step(step, stats, trainer)   # a diverged run stops here
                        batch += 1
                        if batch == steps_per_epoch:             # the epoch is done
                            epoch, batch = epoch + 1, 0
                        job.log(step, e + 1, stats)
                        bar.update(batch or steps_per_epoch)
                        if step % cfg.log_every == 0 or step in (first_step, last_step):
                            bar.print(classic_line(e, epochs, batch or steps_per_epoch, steps_per_epoch, step, stats))
                        if judge is not None and step % cfg.eval_every == 0:
                            job.evaluate(bar.print)
                        if step % cfg.sample_every == 0:
                            job.sample()
                        if step % cfg.checkpoint_every == 0 or batch == 0:
                            job.checkpoint(epoch, batch)
                        if stop.received:
                            break
                    bar.close()

                # ---- 7. outputs: the checkpoint first (a signal now waits for it), then the rest ---------
                job.checkpoint(epoch, batch)
                if judge is not None and not stop.received:
                    job.evaluate()
                job.finish()
            except (NonFiniteLossError, Diverged) as err:
                job.after_failure()
                raise StopRun(f"\nerror: {err}\nStopped; nothing after the last good checkpoint was saved. "
                              f"{folder.last_good()}", 3) from None
            except MemoryError:
                raise StopRun(f"\nerror: out of memory at step {trainer.step_count + 1}; try a smaller "
                              f"--batch-size (now {cfg.batch_size}), --ngf or --ndf. {folder.last_good()}", 1) from None
            except OSError as err:
                raise StopRun(f"\nerror: cannot write {err.filename or folder.out}: {err.strerror or err}. No "
                              f"half-written file replaced a good one. {folder.last_good()}", 1) from None
            except KeyboardInterrupt:                # a second signal: quit now, saving nothing more
                raise StopRun(f"\nInterrupted again; quit without saving. {folder.last_good()}",
                              stop.exit_code if stop.received else 130) from None

    if stop.received and trainer.step_count < last_step:
        raise StopRun(f"\nInterrupted ({stop.name}) at step {trainer.step_count} of {last_step}; saved checkpoint "
                      f"{folder.out / 'checkpoints' / f'step_{trainer.step_count:06d}.npz'}.\n"
                      f"Resume with: {folder.resume_hint()}", stop.exit_code)
    if stop.received:
        print(f"note: {stop.name} came after the last step; the checkpoint, pictures and report were saved.")
    print(f"done: {trainer.step_count} steps. In {folder.out}: index.html (the report: open it in a browser), "
          f"samples.png, training.gif, curves.png, interpolation.png, metrics.csv, "
          f"{'eval.csv, metrics.png, ' if judge else ''}{'gradflow.csv, ' if job.flows is not None else ''}"
          f"checkpoints/ (latest: step_{trainer.step_count:06d}.npz).")
    return {"step": trainer.step_count, "out": folder.out, "checkpoint": resolve(folder.out)}


# ------------------------------------------------------------------------------------ the parts
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
    if batch >= steps_per_epoch:
        raise StopRun(f"error: the checkpoint stands at batch {batch} of an epoch, but this data makes only "
                      f"{steps_per_epoch} batches of {cfg.batch_size}: resume with the data the run was "
                      "trained on (--data-dir), or start a new run", 2)
    for opt, lr in ((trainer.opt_G, cfg.lr_g), (trainer.opt_D, cfg.lr_d)):   # from cfg: --lr etc. given now win
        opt.lr, opt.betas = cfg.lr if lr is None else lr, (cfg.beta1, cfg.beta2)
    print(f"resumed from step {trainer.step_count} (epoch {epoch + 1}, batch {batch})")
    return fixed_z, epoch, batch


LEGEND = ("Each line: Loss_D = BCE(D(x), 1) + BCE(D(G(z)), 0); Loss_G = BCE(D(G(z)), 1); D(x) and "
          "D(G(z)) are D's mean outputs on the real and fake batch,\nD(G(z)) once before and once after "
          "D's update. At the equilibrium D(x) = D(G(z)) = 0.5, Loss_D = 2 ln 2 = 1.386, Loss_G = ln 2 = 0.693.")


def classic_line(epoch, epochs, batch, steps_per_epoch, step, s) -> str:
    """The DCGAN example's log line, every number labelled."""
    return (f"epoch {epoch + 1}/{epochs}  batch {batch}/{steps_per_epoch}  step {step}  "
            f"Loss_D {s['loss_d']:.4f}  Loss_G {s['loss_g']:.4f}  D(x) {s['d_x']:.4f}  "
            f"D(G(z)) {s['d_g_z']:.4f} before D's update, {s['d_g_z_after']:.4f} after")
