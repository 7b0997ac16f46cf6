"""Signals and a closed stdout (minigan/job/interrupts.py): SIGTERM and SIGHUP clean up like Ctrl-C in every
command, and Ctrl-C in a terminal on ``train ... 2>&1 | tee log`` still saves the checkpoint."""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minigan.job import cli, export
from minigan.job.checkpoint import load_checkpoint
from minigan.job.cli import main

from .conftest import TINY

REPO = Path(__file__).resolve().parents[3]
SIGNALS = [(signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")]


@pytest.fixture(scope="module")
def run(idx_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("signalled") / "run"
    assert main(["train", "--data-dir", str(idx_dir), *TINY, "--out", str(out), "--max-steps", "2"]) == 0
    return out


def killed_half_way(path, data):
    """A writer that writes part of its file, then receives SIGTERM/SIGHUP (set by the test) from outside."""
    Path(path).write_bytes(data)
    os.kill(os.getpid(), killed_half_way.signal)
    time.sleep(5)                                           # the signal interrupts this
    raise AssertionError("the signal did not interrupt the command")


@pytest.mark.parametrize("sig, name", SIGNALS)
def test_sigterm_and_sighup_clean_up_like_ctrl_c(run, tmp_path, capsys, monkeypatch, request, sig, name):
    """report, export and evaluate --json: interrupted while writing, no temporary file is left."""
    killed_half_way.signal = sig
    monkeypatch.setattr(cli, "write_report", lambda run_dir, path: killed_half_way(path, b"<html>half"))
    monkeypatch.setattr(export, "save_safetensors", lambda net, path, *a, **k: killed_half_way(path, b"half"))
    monkeypatch.setattr(cli, "evaluate_checkpoint", lambda *a, **k: {
        "ema": False, "step": 2, "checkpoint": "c", "judge": "j", "seconds": 0.0, "classes": None,
        "dataset": "x", "run_dataset": "y"})
    monkeypatch.setattr(cli, "result_table", lambda r, classes: "")
    monkeypatch.setattr(cli, "write_text_atomic", lambda path, text: killed_half_way(path, text[:5].encode()))
    def unhandled(signum, frame):                           # the test's own: the command did not take the signal
        raise RuntimeError(f"{name} reached the test, not the command")
    handler = signal.signal(sig, unhandled)
    request.addfinalizer(lambda: signal.signal(sig, handler))
    before = sorted(p.name for p in run.rglob("*"))
    for argv in (["report", run, "--out", tmp_path / "page.html"], ["report", run],
                 ["export", "--checkpoint", run, "--out", tmp_path / "G.safetensors"],
                 ["evaluate", "--checkpoint", run, "--json", tmp_path / "r.json"]):
        capsys.readouterr()
        assert main([*map(str, argv)]) == 128 + sig, argv
        err = capsys.readouterr().err
        assert err == f"\ninterrupted ({name}); no half-written file was left\n", err
        assert list(tmp_path.iterdir()) == [] and sorted(p.name for p in run.rglob("*")) == before, argv
    assert signal.getsignal(sig) is unhandled               # the command restored the handler it found


@pytest.mark.parametrize("sig, name", SIGNALS)
def test_generate_interrupted_mid_npy_leaves_nothing(run, tmp_path, sig, name):
    """A real process, a real signal, while the array is half written."""
    out = tmp_path / "x.npy"
    proc = subprocess.Popen([sys.executable, "-m", "minigan", "generate", "--checkpoint", str(run), "--n", "20000",
                             "--out", str(out)], cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".x.npy.*.tmp")):           # writing has begun
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(sig)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:                        # hung after its cleanup: fail, leaving no process
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 128 + sig and stderr == f"\ninterrupted ({name}); no half-written file was left\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("stderr_to", ["the same pipe", "a file"])
def test_ctrl_c_in_a_terminal_with_tee_still_saves(idx_dir, tmp_path, stderr_to):
    """``python examples/train_mnist.py ... 2>&1 | tee log``, then Ctrl-C in a terminal.

    The terminal sends SIGINT to the whole process group: ``tee`` dies too, and the trainer's stdout
    (and, with ``2>&1``, its stderr) is a pipe nobody reads. Its next print raised BrokenPipeError,
    which the job took for a failed disk write: exit 1, no checkpoint of the step it stopped at.
    Here the test is ``tee``: it reads a line, closes its end, and SIGINT goes to the process group.
    """
    out, log = tmp_path / "run", tmp_path / "stderr.txt"
    with open(log, "w") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "examples/train_mnist.py", "--data-dir", str(idx_dir), *TINY, "--log-every", "1",
             "--out", str(out), "--epochs", "10000", "--checkpoint-every", "1000000", "--sample-every", "1000000"],
            cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if stderr_to == "the same pipe" else err_file,
            start_new_session=True)                          # its own process group, as a terminal's job
        for line in proc.stdout:
            if b" step 3 " in line:                          # training: the pipe is read ...
                break
        proc.stdout.close()                                  # ... then tee is gone
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)                   # Ctrl-C: the whole process group
        assert proc.wait(timeout=120) == 130
    rows = (out / "metrics.csv").read_text().splitlines()[1:]
    state = load_checkpoint(out)                             # saved at the step it stopped at
    assert state["step"] == int(rows[-1].split(",")[0]) >= 3
    if stderr_to == "a file":
        text = log.read_text()
        assert "Traceback" not in text and f"Interrupted (Ctrl-C) at step {state['step']} of" in text
    assert (out / ".lock").read_text() == ""                 # no note of a holder left behind ...
    with open(out / ".lock", "a+") as f:                     # ... and the lock is free: the next job takes it
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
