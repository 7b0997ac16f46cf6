"""Faults and bad input: Ctrl-C, NaN, no GPU, bad flags, missing data, unwritable or full disks."""
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minigan import backend
from minigan.job.checkpoint import load_checkpoint
from minigan.job.cli import main
from minigan.job.data import DatasetError
from minigan.train import GANTrainer

from .conftest import TINY

REPO = Path(__file__).resolve().parents[3]


def run_minigan(*args, **kwargs):
    """``python -m minigan ARGS`` in a subprocess (for signals and the exact stderr)."""
    return subprocess.Popen([sys.executable, "-m", "minigan", *map(str, args)], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def wait_for_rows(out, n, timeout=60):
    """Wait until ``out/metrics.csv`` has ``n`` rows: the job is training."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metrics = out / "metrics.csv"
        if metrics.exists() and metrics.read_text().count("\n") > n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{out}: no {n} rows in {timeout} s")


@pytest.mark.parametrize("sig, name", [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM"),
                                       (signal.SIGHUP, "SIGHUP")])
def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(idx_dir, tmp_path, capsys, sig, name):
    """Ctrl-C, and SIGTERM / SIGHUP (timeout, docker stop, a job scheduler, a closed terminal) alike."""
    out = tmp_path / "run"
    proc = run_minigan("train", "--data-dir", idx_dir, *TINY, "--out", out, "--epochs", 10_000,
                   "--checkpoint-every", 1_000_000, "--sample-every", 1_000_000)
    wait_for_rows(out, 3)                               # wait until a few steps are done
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, stderr         # 130, 143, 129: as a shell reports the signal
    assert "Traceback" not in stderr
    assert f"Interrupted ({name}) at step" in stderr and f"--out {out} --resume" in stderr

    state = load_checkpoint(out)                        # loadable, and where the log stops
    rows = (out / "metrics.csv").read_text().splitlines()[1:]
    assert state["step"] == len(rows) == int(rows[-1].split(",")[0]) > 2
    assert (out / "samples.png").exists() and (out / "training.gif").exists()

    # ... and the run continues from there
    assert main(["train", "--out", str(out), "--resume", "--max-steps", str(state["step"] + 2)]) == 0
    assert load_checkpoint(out)["step"] == state["step"] + 2


def test_nan_stops_the_run_naming_the_step_and_network(train, tmp_path, monkeypatch):
    real_step = GANTrainer.step

    def step(self, x_real, *args, **kwargs):
        if self.step_count == 5:                        # poison D before step 6
            next(iter(self.D.params.values()))[...] = np.nan
        return real_step(self, x_real, *args, **kwargs)

    monkeypatch.setattr(GANTrainer, "step", step)
    out = tmp_path / "run"
    rc, _, stderr = train(out, "--max-steps", 20, "--checkpoint-every", 4)
    assert rc == 3
    assert "step 6" in stderr and "Loss_D" in stderr and "discriminator" in stderr
    assert "last good checkpoint" in stderr and "step_000004.npz" in stderr
    assert "Traceback" not in stderr
    state = load_checkpoint(out)                        # the good one, untouched
    assert state["step"] == 4
    assert all(np.isfinite(a).all() for a in state["trainer"]["D"].values())
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000004.npz"]


@pytest.mark.skipif("cupy" in backend.available(), reason="CuPy and a GPU are available here")
def test_cupy_without_a_gpu_is_one_line_and_exit_2(tmp_path):
    proc = run_minigan("train", "--backend", "cupy", "--out", tmp_path / "run")
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and "--backend numpy" in stderr
    assert not (tmp_path / "run").exists()              # nothing written


@pytest.mark.parametrize("flags, complaint", [
    (["--batch-size", "0"], "--batch-size"),
    (["--dataset", "cifar"], "--dataset"),
    (["--label-smoothing", "0.7"], "--label-smoothing"),
    (["--dataset", "folder"], "--data-dir"),
])
def test_a_bad_flag_value_is_argparses_usage_error(flags, complaint, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", *flags])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and complaint in err


def test_a_missing_dataset_gives_the_data_layers_error(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise DatasetError("could not download (offline)")

    monkeypatch.setattr("minigan.job.data.mnist.download_from_mirrors", offline)
    rc = main(["train", "--data-dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: MNIST") and "--data-dir" in err and "Traceback" not in err

    rc = main(["train", "--dataset", "folder", "--data-dir", str(tmp_path / "no-pictures"),
               "--out", str(tmp_path / "run")])
    assert rc == 1 and "no such folder" in capsys.readouterr().err


def test_an_unwritable_out_is_reported_plainly(train, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    rc, _, stderr = train(blocker / "run", "--max-steps", 1)
    assert rc == 1 and f"cannot write to --out {blocker / 'run'}" in stderr
    assert stderr.count("\n") == 1

    if os.geteuid() != 0:                               # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        rc, _, stderr = train(locked, "--max-steps", 1)
        assert rc == 1 and "Permission denied" in stderr


def test_a_full_disk_keeps_the_last_good_checkpoint(train, tmp_path, monkeypatch):
    real_savez, calls = np.savez, []

    def savez(f, **arrays):
        calls.append(1)
        if len(calls) == 2:
            f.write(b"half a checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_savez(f, **arrays)

    monkeypatch.setattr(np, "savez", savez)        # what minigan.job.checkpoint calls
    out = tmp_path / "run"
    rc, _, stderr = train(out, "--max-steps", 20, "--checkpoint-every", 3)
    assert rc == 1 and "No space left on device" in stderr and "step_000003.npz" in stderr
    assert "Traceback" not in stderr
    assert os.listdir(out / "checkpoints") == ["step_000003.npz"]      # no temp file, no half file
    assert load_checkpoint(out)["step"] == 3


@pytest.mark.parametrize("flags, message", [
    (["--dataset", "folder"], "--dataset folder needs --data-dir DIR, the folder of your pictures"),
    (["--channels", "3"], "--channels 3 applies to --dataset folder only; mnist pictures have 1 channel"),
    (["--eval-samples", "1"], "--eval-samples must be at least 2 (the Frechet distance needs a covariance)"),
])
def test_a_config_that_does_not_add_up_names_the_flags(flags, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", *flags])
    assert e.value.code == 2
    assert capsys.readouterr().err.rstrip().endswith(f"error: {message}")


def test_a_batch_larger_than_the_dataset_is_one_error_line(train, tmp_path):
    rc, _, stderr = train(tmp_path / "run", "--batch-size", 1000)
    assert rc == 2
    assert stderr == "error: --batch-size 1000 is larger than the dataset (160 pictures)\n"
