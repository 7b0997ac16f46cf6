"""The training loop: epochs of steps, each followed by its side tasks, and how a run ends.

:func:`train_epochs` is step 6 of :func:`minigan.job.run.train`: batches in a seeded
order, one ``trainer.step`` each, then the side tasks of :class:`~minigan.job.side_tasks.Job`
(log, evaluate, sample, checkpoint). :func:`stopping_cleanly` turns what can end a run
(a NaN, a diverged run, a full disk, a second Ctrl-C) into one line and an exit status.
"""
from __future__ import annotations

import contextlib
import itertools

import numpy as np

from .checkpoint import resolve
from .data import batches
from .divergence import Diverged
from .lr_schedule import set_learning_rates
from .progress import EpochBar
from .run_setup import StopRun, TrainingData
from ..train import NonFiniteLossError, StepInterrupted


def train_epochs(cfg, data: TrainingData, trainer, job, judge, stop, where) -> tuple[int, int]:
    """Train from ``where`` (epoch, batch) to the run's last step or a signal; returns where it stopped."""
    epoch, batch = where
    first_step, last_step, per_epoch = trainer.step_count + 1, data.last_step, data.steps_per_epoch
    while trainer.step_count < last_step and not stop.received:
        e = epoch
        end = min(per_epoch, batch + last_step - trainer.step_count)    # this epoch's last batch
        bar = EpochBar(f"epoch {e + 1}/{data.epochs}", per_epoch, batch, end,
                       run_left=last_step - trainer.step_count - (end - batch))
        for x, y in itertools.islice(epoch_batches(cfg, data, e, batch), end - batch):
            trainer.track_grad_flow = job.grad_flow_due(trainer.step_count + 1)
            set_learning_rates(trainer, cfg, trainer.step_count + 1, last_step)   # --lr-decay (lr_schedule.py)
            try:
                stats = trainer.step(x, y)       # x: (B, C, H, W) float32 in [-1, 1], or a list of n_critic
                                                 # of them, a batch per D update; n_critic D + one G update
            except StepInterrupted as cut:       # a signal between two D updates (--n-critic > 1)
                bar.print(f"note: step {trainer.step_count + 1} {cut}")
                break
            step = trainer.step_count
            job.guard.check_step(step, stats, trainer)   # a diverged run stops here
            batch += 1
            if batch == per_epoch:               # the epoch is done
                epoch, batch = epoch + 1, 0
            job.log(step, e + 1, stats)
            bar.update(batch or per_epoch)
            if step % cfg.log_every == 0 or step in (first_step, last_step):
                bar.print(classic_line(e, data.epochs, batch or per_epoch, per_epoch, step, stats))
            if judge is not None and step % cfg.eval_every == 0:
                job.evaluate(bar.print)
            if step % cfg.sample_every == 0:
                job.sample()
            if step % cfg.checkpoint_every == 0 or batch == 0:
                job.checkpoint(epoch, batch)
            if stop.received:
                break
        bar.close()
    return epoch, batch


def epoch_batches(cfg, data: TrainingData, epoch: int, start: int):
    """Epoch ``epoch``'s steps from step ``start`` on, each ``(x, y)``: a batch in the order the epoch's seed
    shuffles (y: None without --conditional), the same on every resume. With --n-critic k > 1, a step takes
    the next k batches of that order, one per D update, as lists ``([x_1..x_k], [y_1..y_k] or None)``."""
    k = cfg.n_critic
    order = np.random.default_rng([cfg.seed, epoch])
    if hasattr(data.images, "batches"):          # 2D points, Stacked MNIST: their own epochs (data/points.py)
        stream = data.images.batches(cfg.batch_size, order, start=start * k)
    else:
        stream = batches(data.images, cfg.batch_size, order, size=data.size, start=start * k, labels=data.labels)
    stream = (b if data.labels is not None else (b, None) for b in stream)
    if k == 1:
        return stream
    steps = zip(*[stream] * k)                   # k consecutive batches a step; a last, short group is dropped
    return (([x for x, _ in step], None if data.labels is None else [y for _, y in step]) for step in steps)


@contextlib.contextmanager
def stopping_cleanly(job, folder, trainer, cfg, stop):
    """What can end a run early, as one line and its exit status (:class:`StopRun`); nothing bad is saved."""
    try:
        yield
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
    except KeyboardInterrupt:                    # a second signal: quit now, saving nothing more
        raise StopRun(f"\nInterrupted again; quit without saving. {folder.last_good()}",
                      stop.exit_code if stop.received else 130) from None


def ended(folder, trainer, judge, job, stop, last_step: int) -> dict:
    """After the outputs are saved: a signal before the last step is :class:`StopRun` with the resume
    command; else the closing line. Returns ``{"step", "out", "checkpoint"}``."""
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


LEGEND = ("Each line: Loss_D = BCE(D(x), 1) + BCE(D(G(z)), 0); Loss_G = BCE(D(G(z)), 1); D(x) and "
          "D(G(z)) are D's mean outputs on the real and fake batch,\nD(G(z)) once before and once after "
          "D's update. At the equilibrium D(x) = D(G(z)) = 0.5, Loss_D = 2 ln 2 = 1.386, Loss_G = ln 2 = 0.693.")


def legend(cfg) -> str:
    """What the step lines below mean, for this game."""
    if cfg.loss in ("bce", "minimax") and cfg.d_head == "sigmoid":
        return LEGEND
    scores = "" if cfg.d_head == "sigmoid" else " (raw scores for lsgan, hinge and wgan)"
    return (f"Each line: Loss_D and Loss_G of the {cfg.loss} game (docs/losses-and-stabilizers.md); D(x) and "
            f"D(G(z)) are D's mean outputs on the real and fake batch{scores}.")


def classic_line(epoch, epochs, batch, steps_per_epoch, step, s) -> str:
    """The DCGAN example's log line, every number labelled."""
    return (f"epoch {epoch + 1}/{epochs}  batch {batch}/{steps_per_epoch}  step {step}  "
            f"Loss_D {s['loss_d']:.4f}  Loss_G {s['loss_g']:.4f}  D(x) {s['d_x']:.4f}  "
            f"D(G(z)) {s['d_g_z']:.4f} before D's update, {s['d_g_z_after']:.4f} after")
