"""The training job: what ``minigan train`` and ``examples/train_mnist.py`` run.

:func:`train` reads top to bottom, like nanoGPT's ``train.py``:

    0. config     TrainConfig: every field is a --flag, printed at start-up, saved as config.json
    1. backend    NumPy or CuPy, checked before anything is written
    2. output     the --out folder: config.json, and a fresh or resumed run in it
    3. data       MNIST, Fashion-MNIST or a folder of pictures, as uint8 arrays
    4. model      G and D (dcgan28 or dcgan64), with their summary tables
    5. trainer    GANTrainer, the judge (--eval-every), fixed noise, the logs, and -- when
                  resuming -- everything where it was
    6. loop       epochs of batches: step, log, evaluate, sample, checkpoint; Ctrl-C and NaN handled
    7. outputs    final evaluation, sample grid, GIF, curves, interpolation grid, report, checkpoint

What ends up in ``--out``::

    config.json              the resolved config
    metrics.csv              one row per step: step, epoch, loss_d, loss_g, d_x, d_g_z, d_g_z_after
    samples/step_000200.png  the fixed noise batch through G, at every sample point
    samples.png              ... and at the end
    training.gif             those grids as an animation
    curves.png               Loss_D, Loss_G, D(x), D(G(z)) against step
    interpolation.png        rows walking through latent space between pairs of z
    eval.csv                 with --eval-every: one row per evaluation of G by the dataset's classifier:
                             Frechet distance, classifier score, classes present, class mix
    metrics.png              ... those against step (see minigan/evaluation.py)
    gradflow.csv             per-layer activation and gradient statistics of G and D, every
                             --grad-flow-every steps: step, net, layer, act_mean, act_std, grad_in, grad_param
    run.json                 the run's length: steps_per_epoch, last_step (min of --max-steps and the epochs')
    index.html               the report: all of the above on one page, self-contained (minigan/report.py)
    checkpoints/step_*.npz   the last --keep-checkpoints checkpoints (see minigan/checkpoint.py)
    latest                   points to the newest checkpoint: resume with --resume

Every log is resume-safe: a resumed run first drops the rows logged after its
checkpoint, then appends, so no step appears twice.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import shlex
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from . import backend as B
from . import checkpoint, gradflow
from .data import ImageFolder, batches, load_fashion_mnist, load_mnist
from .evaluation import EVAL_COLUMNS, Judge, NoJudge, eval_line, log_row
from .fileio import write_text_atomic
from .generate import latent_walk
from .models import ARCHITECTURES, sample_noise, summary
from .progress import CtrlC, EpochBar
from .report import write_report
from .train import GANTrainer, NonFiniteLossError
from .logs import MetricsLog, read_metrics
from .viz import grid_scale, plot_eval_curves, plot_training_curves, save_gif, save_grid

IMAGE_SIZE = {"dcgan28": 28, "dcgan64": 64}     # the picture size each architecture makes
N_SAMPLES = 64                                   # the fixed noise batch: an 8 x 8 sample grid
STATS = ("loss_d", "loss_g", "d_x", "d_g_z", "d_g_z_after")
COLUMNS = ("step", "epoch") + STATS              # the columns of metrics.csv


class StopRun(Exception):
    """The run ended early: ``str(e)`` is the message for the user, ``e.exit_code`` the exit status."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


# ------------------------------------------------------------------------------------ 0. config
def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def in_range(lo, hi, closed_lo=True):
    """An argparse type: a float in [lo, hi) (or (lo, hi) with ``closed_lo=False``)."""
    def check(text):
        value = float(text)
        if not ((lo <= value if closed_lo else lo < value) and value < hi):
            raise argparse.ArgumentTypeError(
                f"must be in {'[' if closed_lo else '('}{lo}, {hi}), got {text}")
        return value
    check.__name__ = f"number in [{lo}, {hi})"
    return check


def option(default, help, group, **argparse_kwargs):
    """A config field that is also a --flag: its default, its --help text, its --help section."""
    return field(default=default, metadata={"help": help, "group": group, **argparse_kwargs})


@dataclass
class TrainConfig:
    """Everything a training run depends on. Field ``batch_size`` is the flag ``--batch-size``."""

    # data
    dataset: str = option("mnist", "the training pictures", "data",
                          choices=("mnist", "fashion-mnist", "folder"))
    data_dir: str | None = option(None, "folder holding the dataset's files; default: the cache "
                                  "folder (see minigan/data/mnist.py); required for --dataset folder",
                                  "data", type=str, metavar="DIR")
    channels: int | None = option(None, "colour channels of --dataset folder: 3 = RGB, 1 = grayscale; "
                                  "default 3 (MNIST and Fashion-MNIST have 1)", "data", type=int, choices=(1, 3))
    # model
    arch: str = option("dcgan28", "dcgan28 makes 28x28 pictures, dcgan64 64x64; dcgan64 resizes 28x28 data to 64",
                       "model", choices=tuple(ARCHITECTURES))
    nz: int = option(100, "length of the noise vector z", "model", type=positive_int)
    ngf: int = option(64, "generator width (feature maps of G's last hidden layer)", "model",
                      type=positive_int)
    ndf: int = option(64, "discriminator width (feature maps of D's first layer)", "model",
                      type=positive_int)
    dtype: str = option("float32", "floating-point type of weights and activations", "model",
                        choices=("float32", "float64"))
    backend: str = option("numpy", "array backend: numpy on the CPU, cupy on an NVIDIA GPU", "model",
                         choices=B.BACKENDS)
    # training
    epochs: int = option(5, "passes over the training set", "training", type=positive_int)
    max_steps: int | None = option(None, "stop after this many steps in all; default: no limit",
                                   "training", type=positive_int)
    batch_size: int = option(64, "pictures per step", "training", type=positive_int)
    lr: float = option(2e-4, "Adam's learning rate, for G and D", "training", type=positive_float)
    beta1: float = option(0.5, "Adam's beta1; DCGAN uses 0.5", "training", type=in_range(0.0, 1.0))
    noise: str = option("normal", "distribution of z: N(0, 1) or U(-1, 1)", "training",
                        choices=("normal", "uniform"))
    seed: int = option(0, "seeds the weights, the noise and the data order", "training",
                     type=nonnegative_int)
    ema: float | None = option(None, "keep an exponential moving average of G's weights with this "
                               "decay and sample from it; --ema alone means 0.999", "training",
                               type=in_range(0.0, 1.0, closed_lo=False), nargs="?", const=0.999,
                               metavar="DECAY")
    label_smoothing: float = option(0.0, "D's target for real pictures is 1 - this (one-sided)",
                                    "training", type=in_range(0.0, 0.5))
    n_critic: int = option(1, "D updates per G update", "training", type=positive_int)
    # output
    out: str = option("out", "output folder; its contents are listed in minigan/run.py", "output",
                      type=str, metavar="DIR")
    sample_every: int = option(200, "save a sample grid every this many steps", "output",
                               type=positive_int, metavar="STEPS")
    log_every: int = option(50, "print a Loss_D/Loss_G/D(x)/D(G(z)) line every this many steps",
                            "output", type=positive_int, metavar="STEPS")
    checkpoint_every: int = option(1000, "save a checkpoint every this many steps; also at each "
                                   "epoch's end, at the end, and on Ctrl-C", "output",
                                   type=positive_int, metavar="STEPS")
    keep_checkpoints: int = option(3, "how many of the newest checkpoints to keep", "output",
                                   type=positive_int, metavar="K")
    # evaluation
    eval_every: int = option(0, "judge G every this many steps and at the end; with the dataset's "
                             "classifier: Frechet distance, classifier score, classes present, into "
                             "eval.csv and metrics.png; 0 = off; mnist and fashion-mnist only",
                             "evaluation", type=nonnegative_int, metavar="STEPS")
    eval_samples: int = option(10000, "samples per evaluation; fewer is faster, but the Frechet "
                               "distance comes out higher: compare runs at the same number",
                               "evaluation", type=positive_int, metavar="N")
    grad_flow_every: int | None = option(None, "record per-layer gradient statistics every this many "
                                         "steps; activations and gradients of each layer of G and D, into "
                                         "gradflow.csv; 0 = off; default: every --sample-every steps",
                                         "evaluation", type=nonnegative_int, metavar="STEPS")

    def resolved(self) -> "TrainConfig":
        """This config with defaults that depend on other fields filled in, checked as a whole."""
        if self.dataset == "folder" and not self.data_dir:
            raise ValueError("--dataset folder needs --data-dir DIR, the folder of your pictures")
        if self.dataset != "folder" and self.channels not in (None, 1):
            raise ValueError(f"--channels {self.channels} applies to --dataset folder only; "
                             f"{self.dataset} pictures have 1 channel")
        if self.eval_samples < 2:
            raise ValueError("--eval-samples must be at least 2 (the Frechet distance needs a covariance)")
        channels = self.channels or (3 if self.dataset == "folder" else 1)
        grad_flow_every = self.sample_every if self.grad_flow_every is None else self.grad_flow_every
        return replace(self, channels=channels, grad_flow_every=grad_flow_every)


    @classmethod
    def from_dict(cls, saved: dict) -> "TrainConfig":
        """The config a checkpoint or config.json saved; keys this version has no field for are skipped."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in names})


#: Fields that fix the shapes of the arrays in a checkpoint, or the meaning of its position in
#: the data (the seed shuffles each epoch): a resumed run must keep them.
LOCKED_ON_RESUME = ("dataset", "channels", "arch", "nz", "ngf", "ndf", "batch_size", "seed")


def config_for_resume(saved: dict, overrides: dict) -> TrainConfig:
    """The config of a resumed run: the checkpoint's, with the flags given now on top."""
    cfg = TrainConfig.from_dict(saved)
    changed = [k for k in LOCKED_ON_RESUME if k in overrides and overrides[k] != getattr(cfg, k)]
    if changed:
        was = ", ".join(f"--{k.replace('_', '-')} {getattr(cfg, k)}" for k in changed)
        raise ValueError(f"cannot resume with different {', '.join(changed)}: the checkpoint was "
                         f"trained with {was}. Leave these flags out, or start a new run in a new --out")
    return replace(cfg, **overrides)


def print_config(cfg: TrainConfig, path) -> None:
    print(f"config (saved to {path}):")
    width = max(len(f.name) for f in fields(cfg))
    for f in fields(cfg):
        value = f"{getattr(cfg, f.name)!r}"
        print(f"  {f.name:<{width}} = {value:<18} # {f.metadata['help'].split(';')[0]}")


# ------------------------------------------------------------------------------------ the job
def train(cfg: TrainConfig, resume=None, *, command: str = "minigan train") -> dict:
    """Run the training job ``cfg`` describes; returns ``{"step", "out", "checkpoint"}``.

    ``resume``: None for a fresh run, else a checkpoint (a path, an output
    folder, or a dict from :func:`minigan.checkpoint.load_checkpoint`) to
    continue from exactly. ``command``: how the user started the job, for the
    "resume with ..." hint. Raises :class:`StopRun` (Ctrl-C, NaN, a failed
    write), :class:`~minigan.backend.BackendUnavailable`,
    :class:`~minigan.data.DatasetError`, or ``ValueError`` for a bad config.
    """
    # ---- 0. config, and 1. the backend: fail before anything is printed or written ----------------
    cfg = cfg.resolved()
    B.get_backend(cfg.backend)                   # raises BackendUnavailable, saying what to do
    out = Path(cfg.out).expanduser()
    print_config(cfg, out / "config.json")

    # ---- 2. output folder ----------------------------------------------------------------------
    state = None
    if resume is not None:
        state = resume if isinstance(resume, dict) else checkpoint.load_checkpoint(resume)
    elif checkpoint.latest(out) is not None:
        raise StopRun(f"error: {out} already holds a run (checkpoint {checkpoint.latest(out)}). Continue it "
                      f"with: {command} --out {shlex.quote(str(out))} --resume\n"
                      "or start a new run with another --out (or delete the folder).", 2)
    try:
        write_text_atomic(out / "config.json", json.dumps(asdict(cfg), indent=2) + "\n")
    except OSError as e:
        raise StopRun(f"error: cannot write to --out {out}: {e.strerror or e}", 1) from None

    # ---- 3. data -------------------------------------------------------------------------------
    size = IMAGE_SIZE[cfg.arch]
    images = load_images(cfg, size)              # uint8 (N, 28, 28) or (N, size, size, C)
    N = len(images)
    steps_per_epoch = N // cfg.batch_size        # drop_last: every batch is full
    if steps_per_epoch == 0:
        raise StopRun(f"error: --batch-size {cfg.batch_size} is larger than the dataset ({N} pictures)", 2)
    last_step = cfg.epochs * steps_per_epoch if cfg.max_steps is None else min(
        cfg.max_steps, cfg.epochs * steps_per_epoch)
    print(f"data: {N:,} pictures of {cfg.dataset}, {steps_per_epoch} steps per epoch of "
          f"{cfg.batch_size}, {last_step:,} steps in all")

    # ---- 4. model ------------------------------------------------------------------------------
    G, D = build_models(cfg)
    print("generator G:")
    summary(G, (cfg.nz, 1, 1))
    print("discriminator D:")
    summary(D, (cfg.channels, size, size))

    # ---- 5. trainer, judge, fixed noise, and (resuming) everything where it was ------------------
    trainer = GANTrainer(G, D, lr=cfg.lr, betas=(cfg.beta1, 0.999), seed=cfg.seed, noise=cfg.noise,
                         label_smoothing=cfg.label_smoothing, n_critic=cfg.n_critic, ema=cfg.ema)
    judge = make_judge(cfg)                      # the classifier that evaluates G, or None
    fixed_z = sample_noise(N_SAMPLES, cfg.nz, cfg.noise, np.random.default_rng([cfg.seed, 1]), cfg.dtype)
    epoch, batch = 0, 0                          # where we are: the next batch to train on
    if state is not None:
        try:
            trainer.load_state_dict(state["trainer"])    # weights, Adam, EMA, noise RNG, step
        except (KeyError, ValueError) as e:
            raise StopRun(f"error: cannot resume from this checkpoint: {e}", 2) from None
        for opt in (trainer.opt_G, trainer.opt_D):     # lr and beta1 from cfg: --lr/--beta1 given now win
            opt.lr, opt.betas = cfg.lr, (cfg.beta1, opt.betas[1])
        fixed_z, epoch, batch = state["fixed_noise"], int(state["epoch"]), int(state["batch"])
        print(f"resumed from step {trainer.step_count} (epoch {epoch + 1}, batch {batch})")

    # ---- the logs, open until the run ends, however it ends ----------------------------------
    with contextlib.ExitStack() as open_files:
        try:
            metrics, evals, flows = open_logs(out, cfg, judge is not None, trainer.step_count, open_files)
            history = {k: list(v) for k, v in read_metrics(out / "metrics.csv").items()}
            frames = sample_frames(out, trainer.step_count, clear_newer=True)
            write_text_atomic(out / "run.json", json.dumps(
                {"steps_per_epoch": steps_per_epoch, "last_step": last_step}) + "\n")
        except OSError as e:
            raise StopRun(f"error: cannot write to --out {out}: {e.strerror or e}", 1) from None
        except ValueError as e:                  # a log of another layout, or a damaged row
            raise StopRun(f"error: cannot continue the logs in {out}: {e}\n"
                          "Start a fresh run with another --out, or move that file away.", 2) from None

        def snapshot():
            """Everything needed to continue exactly from here (see minigan/checkpoint.py)."""
            return {"step": trainer.step_count, "epoch": epoch, "batch": batch, "config": asdict(cfg),
                    "trainer": trainer.state_dict(), "fixed_noise": B.to_numpy(fixed_z)}

        def save():
            return checkpoint.save_and_point(out, snapshot(), trainer.step_count, cfg.keep_checkpoints)

        def sample():
            """The fixed noise through G (the EMA copy when kept): one more frame of the GIF."""
            path = out / "samples" / f"step_{trainer.step_count:06d}.png"
            save_grid(trainer.generate(fixed_z), path, scale=grid_scale(size))
            frames.append(path)
            save_gif(frames, out / "training.gif")
            plot_training_curves(history, out / "curves.png", title=f"{cfg.arch} on {cfg.dataset}")

        def evaluate(say=print):
            """Judge G now (the EMA copy when kept): a row in eval.csv, metrics.png redrawn, a line printed."""
            result = judge(trainer.generate, cfg.nz, cfg.noise, cfg.dtype)
            evals.log(**log_row(trainer.step_count, result))
            plot_eval_curves(read_metrics(out / "eval.csv"), out / "metrics.png", title=f"{cfg.arch} on "
                             f"{cfg.dataset}: {cfg.eval_samples:,} samples per evaluation")
            say(eval_line(trainer.step_count, result))

        def finish():
            """The last grid (and GIF frame), samples.png, the curves, the interpolation grid, the report."""
            if not frames or frames[-1].name != f"step_{trainer.step_count:06d}.png":
                sample()
            save_grid(trainer.generate(fixed_z), out / "samples.png", scale=grid_scale(size))
            z = latent_walk(cfg.nz, rows=8, steps=10, kind=cfg.noise, rng=np.random.default_rng([cfg.seed, 2]),
                            dtype=cfg.dtype)             # (80, nz, 1, 1): 8 rows, each from one z to another
            save_grid(trainer.generate(z), out / "interpolation.png", nrow=10, scale=grid_scale(size))
            write_report(out)

        def resume_hint():
            return f"Resume with: {command} --out {shlex.quote(str(out))} --resume"

        # ---- 6. the loop -----------------------------------------------------------------------------
        saved_step = trainer.step_count if state is not None else None
        bar = None
        print(LEGEND)
        try:
            with CtrlC() as ctrl_c:                  # Ctrl-C lets the step in progress finish
                while trainer.step_count < last_step:
                    e = epoch
                    stop = min(steps_per_epoch, batch + last_step - trainer.step_count)
                    bar = EpochBar(f"epoch {e + 1}/{cfg.epochs}", steps_per_epoch, batch, stop)
                    order = np.random.default_rng([cfg.seed, e])   # the same shuffle on every resume
                    for x in itertools.islice(batches(images, cfg.batch_size, order, size=size, start=batch),
                                              stop - batch):
                        # per-layer statistics cost extra passes: gather them only on the steps gradflow.csv logs
                        record = cfg.grad_flow_every > 0 and (trainer.step_count + 1) % cfg.grad_flow_every == 0
                        trainer.track_grad_flow = record
                        stats = trainer.step(x)      # x: (B, C, H, W) float32 in [-1, 1]; one D + one G update
                        step = trainer.step_count
                        batch += 1
                        if batch == steps_per_epoch:             # the epoch is done
                            epoch, batch = epoch + 1, 0
                        metrics.log(step=step, epoch=e + 1, **{k: stats[k] for k in STATS})
                        for k, v in zip(COLUMNS, (step, e + 1, *(stats[k] for k in STATS))):
                            history[k].append(v)
                        for net, rows in stats.get("grad_flow", {}).items():   # "G": one row per layer, "D": ...
                            for row in rows:
                                flows.log(step=step, net=net, **row)
                        bar.update(batch or steps_per_epoch)
                        if step % cfg.log_every == 0 or step == last_step:
                            bar.print(classic_line(e, cfg.epochs, batch or steps_per_epoch,
                                                   steps_per_epoch, step, stats))
                        if judge is not None and step % cfg.eval_every == 0:
                            evaluate(bar.print)
                        if step % cfg.sample_every == 0:
                            sample()
                            write_report(out)
                        if step % cfg.checkpoint_every == 0 or batch == 0:
                            save()
                            saved_step = step
                        if ctrl_c.pressed:
                            break
                    bar.close()
                    if ctrl_c.pressed:
                        if saved_step != trainer.step_count:
                            save()
                        finish()
                        raise StopRun(f"\nInterrupted at step {trainer.step_count}; saved checkpoint "
                                      f"{checkpoint.latest(out)}.\n{resume_hint()}", 130)
        except NonFiniteLossError as err:
            if bar is not None:
                bar.close()
            _try(plot_training_curves, history, out / "curves.png", title=f"{cfg.arch} on {cfg.dataset}")
            _try(write_report, out)
            raise StopRun(f"error: {err}\nStopped; nothing after the last good checkpoint was saved. "
                          f"{last_good(out, command)}", 3) from None
        except OSError as err:
            raise StopRun(f"error: cannot write {err.filename or out}: {err.strerror or err}. "
                          "No half-written file replaced a good one. "
                          f"{last_good(out, command)}", 1) from None
        except KeyboardInterrupt:                    # a second Ctrl-C: quit now, saving nothing more
            raise StopRun(f"\nInterrupted again; quit without saving. {last_good(out, command)}", 130) from None

        # ---- 7. outputs --------------------------------------------------------------------------
        try:
            if saved_step != trainer.step_count:
                save()
            if judge is not None and trainer.step_count not in read_metrics(out / "eval.csv")["step"]:
                evaluate()
            finish()
        except OSError as err:
            raise StopRun(f"error: cannot write {err.filename or out}: {err.strerror or err}. "
                          f"{last_good(out, command)}", 1) from None
        print(f"done: {trainer.step_count} steps. In {out}: index.html (the report: open it in a browser), "
              f"samples.png, training.gif, curves.png, interpolation.png, metrics.csv, "
              f"{'eval.csv, metrics.png, ' if judge else ''}{'gradflow.csv, ' if flows is not None else ''}"
              f"checkpoints/ (latest: {checkpoint.latest(out).name}).")
        return {"step": trainer.step_count, "out": out, "checkpoint": checkpoint.latest(out)}


# ------------------------------------------------------------------------------------ the parts
def load_images(cfg: TrainConfig, size: int):
    """The training pictures as uint8: ``(N, 28, 28)`` for (Fashion-)MNIST, else ``(N, size, size, C)``."""
    if cfg.dataset == "mnist":
        return load_mnist(cfg.data_dir, train=True)[0]
    if cfg.dataset == "fashion-mnist":
        return load_fashion_mnist(cfg.data_dir, train=True)[0]
    return ImageFolder(cfg.data_dir, size=size, channels=cfg.channels).images


def make_judge(cfg: TrainConfig) -> Judge | None:
    """The evaluation's classifier and real-image statistics (see minigan/evaluation.py), or None:
    with --eval-every 0, or for a dataset with no labels to train a classifier on."""
    if not cfg.eval_every:
        return None
    try:
        judge = Judge(cfg.dataset, cfg.data_dir, n=cfg.eval_samples, backend=cfg.backend, seed=cfg.seed)
    except NoJudge as e:
        print(f"note: {e}, so --eval-every is ignored: this run is not evaluated.")
        return None
    print(f"evaluation: every {cfg.eval_every} steps and at the end, {judge.describe()}")
    return judge


def open_logs(out: Path, cfg: TrainConfig, judged: bool, step: int, files: contextlib.ExitStack):
    """``(metrics, evals, flows)``: the run's CSV logs, opened for appending after ``step``, closed by ``files``.

    eval.csv and gradflow.csv are None unless this run writes them (``judged``,
    ``cfg.grad_flow_every``) or an earlier part of the run did. Rows past
    ``step`` (the checkpoint a run resumes from) are dropped: they would repeat.
    Raises ``ValueError`` for a log this run cannot continue: other columns, or
    a damaged row (each log is read through once, so it fails now, not mid-run).
    """
    def open_log(path, columns, on, read, **kwargs):
        if not (on or path.exists()):
            return None
        log = files.enter_context(MetricsLog(path, columns, **kwargs))
        log.drop_rows_after(step)
        read(path)
        return log
    return (open_log(out / "metrics.csv", COLUMNS, True, read_metrics),
            open_log(out / "eval.csv", EVAL_COLUMNS, judged, read_metrics),
            open_log(out / "gradflow.csv", gradflow.LOG_COLUMNS, cfg.grad_flow_every > 0, gradflow.read_log,
                     text_fields=("net", "layer")))


def build_models(cfg: TrainConfig):
    """``(G, D)`` for ``cfg`` (arch, sizes, dtype, seed), on ``cfg.backend``."""
    G, D = ARCHITECTURES[cfg.arch](cfg.nz, cfg.ngf, cfg.ndf, cfg.channels, seed=cfg.seed, dtype=cfg.dtype)
    return G.to(backend=cfg.backend), D.to(backend=cfg.backend)


LEGEND = ("Each line: Loss_D = BCE(D(x), 1) + BCE(D(G(z)), 0); Loss_G = BCE(D(G(z)), 1); D(x) and "
          "D(G(z)) are D's mean outputs on the real and fake batch,\nD(G(z)) once before and once after "
          "D's update. At the equilibrium D(x) = D(G(z)) = 0.5, Loss_D = 2 ln 2 = 1.386, Loss_G = ln 2 = 0.693.")


def classic_line(epoch, epochs, batch, steps_per_epoch, step, s) -> str:
    """The DCGAN example's log line, every number labelled."""
    return (f"epoch {epoch + 1}/{epochs}  batch {batch}/{steps_per_epoch}  step {step}  "
            f"Loss_D {s['loss_d']:.4f}  Loss_G {s['loss_g']:.4f}  D(x) {s['d_x']:.4f}  "
            f"D(G(z)) {s['d_g_z']:.4f} before D's update, {s['d_g_z_after']:.4f} after")


def sample_frames(out: Path, step: int, clear_newer: bool) -> list[Path]:
    """The sample grids saved up to ``step`` (the GIF's frames); later ones belong to an abandoned run."""
    frames = []
    for path in sorted((out / "samples").glob("step_*.png")):
        if int(path.stem[5:]) <= step:
            frames.append(path)
        elif clear_newer:
            path.unlink()
    return frames


def last_good(out: Path, command: str) -> str:
    path = checkpoint.latest(out)
    if path is None:
        return "No checkpoint had been saved yet."
    return (f"The last good checkpoint is {path}; resume from it with: "
            f"{command} --out {shlex.quote(str(out))} --resume")


def _try(fn, *args, **kwargs):
    """Best effort (a plot after a failure): a second error must not hide the first."""
    try:
        fn(*args, **kwargs)
    except Exception:  # noqa: BLE001
        pass

