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

Each step is one call to a function of minigan/job/run_setup.py (0-5) or
minigan/job/run_loop.py (6-7). The side tasks are the methods of
:class:`~minigan.job.side_tasks.Job`, one call each from the loop.
What the folder holds, and the rules that keep it safe, are in
minigan/job/run_folder.py. Stopping early: Ctrl-C, SIGTERM or SIGHUP finish the
step and save (exit 130, 143, 129; minigan/job/progress.py); a NaN loss or a
diverged run stops without saving the bad state (exit 3; minigan/job/divergence.py).
"""
from __future__ import annotations

import contextlib

from .config import TrainConfig
from .progress import StopSignals
from .run_loop import ended, legend, stopping_cleanly, train_epochs
from .run_setup import (StopRun, build_trainer, check_start, choose_paths, claim_folder, open_outputs,
                        training_data)

__all__ = ["StopRun", "TrainConfig", "train"]


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
    cfg, folder, state, source = check_start(cfg, resume, command)
    with contextlib.ExitStack() as files:        # the lock, the logs, --plain: until the run ends

        # ---- 2. the folder: ours alone, and nothing in it lost ----------------------------------------
        run_id = claim_folder(folder, files, command, state, source, discard_newer)

        # ---- 3. data: the pictures, checked against the run's; its length ----------------------------
        cfg, data = training_data(cfg, state)
        choose_paths(cfg, files)                 # the layers' fast or plain paths; the cores

        # ---- 4. model, and 5. trainer, judge, fixed noise; resuming: everything where it was ---------
        trainer, judge, fixed_z, where = build_trainer(cfg, data, state)
        job = open_outputs(cfg, folder, trainer, judge, fixed_z, data, run_id, state, where, files)

        # ---- 6. the loop, and 7. outputs: the checkpoint first (a signal now waits for it) ---------
        print(legend(cfg))
        with StopSignals() as stop, stopping_cleanly(job, folder, trainer, cfg, stop):
            trainer.interrupted = lambda: stop.received   # a signal: the step finishes, or stops between D updates
            where = train_epochs(cfg, data, trainer, job, judge, stop, where)
            job.checkpoint(*where)
            if judge is not None and not stop.received:
                job.evaluate()
            job.finish()
    return ended(folder, trainer, judge, job, stop, data.last_step)
