"""Every mistake a user can make with ``minigan train`` is one line, a non-zero exit, no traceback."""
import io
import os
import signal
import zipfile

import numpy as np
import pytest

from minigan.job import checkpoint
from minigan.job.checkpoint import load_checkpoint, save_checkpoint
from minigan.job.data import write_idx
from minigan.job.logs import read_metrics

from .conftest import squares


def one_line(stderr):
    return stderr.count("\n") == 1 and stderr.startswith("error: ") and "Traceback" not in stderr


def drop_array(path, key):
    """Rewrite the checkpoint at ``path`` without the array ``key`` (a damaged or hand-edited file)."""
    with np.load(path) as npz:
        assert key in npz.files
        arrays = {k: npz[k] for k in npz.files if k != key}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())


def test_a_checkpoint_missing_an_array(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    drop_array(out / "checkpoints" / "step_000002.npz", "trainer/D/0.weight")
    rc, _, stderr = train(out, "--max-steps", 4, "--resume")
    assert rc == 1 and one_line(stderr)
    assert "step_000002.npz is damaged: the array 'trainer/D/0.weight' is missing from it" in stderr


@pytest.mark.parametrize("content", [b"not a checkpoint\n", b"\x80\x04\x95" + bytes(64), b""])
def test_a_file_that_is_no_checkpoint(train, tmp_path, content):
    path = tmp_path / "weights.npz"
    path.write_bytes(content)
    rc, _, stderr = train(tmp_path / "run", "--resume", path)
    assert rc == 1 and one_line(stderr)
    assert f"{path} is not a minigan checkpoint (not a .npz file)" in stderr and "pickle" not in stderr


def test_a_zip_that_is_no_checkpoint(train, tmp_path):
    path = tmp_path / "other.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", b"hello")
    rc, _, stderr = train(tmp_path / "run", "--resume", path)
    assert rc == 1 and one_line(stderr) and str(path) in stderr


def test_resuming_with_a_smaller_dataset(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 7)[0] == 0          # stopped at batch 7 of 10
    small = tmp_path / "small"
    small.mkdir()
    write_idx(small / "train-images-idx3-ubyte", squares(80))      # 5 batches of 16
    write_idx(small / "train-labels-idx1-ubyte", np.zeros(80, np.uint8))
    rc, _, stderr = train(out, "--max-steps", 9, "--resume", "--data-dir", small)
    assert rc == 2 and one_line(stderr)
    assert "the run was trained on 160 pictures, but" in stderr and "now gives 80 (80 fewer)" in stderr
    path = out / "checkpoints" / "step_000007.npz"          # a run saved before data fingerprints: the
    state = load_checkpoint(path)                            # position check still catches it
    del state["config"]["data_fingerprint"]
    save_checkpoint(path, state)
    rc, _, stderr = train(out, "--max-steps", 9, "--resume", "--data-dir", small)
    assert rc == 2 and one_line(stderr)
    assert "the checkpoint stands at batch 7 of an epoch, but this data makes only 5 batches of 16" in stderr


def test_a_model_too_big_for_memory(train, tmp_path):
    rc, _, stderr = train(tmp_path / "run", "--nz", 100_000_000)
    assert rc == 1 and one_line(stderr)
    assert "not enough memory for G and D of --nz 100000000 --ngf 4 --ndf 4" in stderr
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_an_out_that_is_a_file(train, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    rc, _, stderr = train(blocker, "--max-steps", 1)
    assert rc == 1 and one_line(stderr) and f"cannot write to --out {blocker}" in stderr
    assert blocker.read_text() == "not a folder"


# ---- the run's length ------------------------------------------------------------------------------
def test_max_steps_alone_sets_the_length(train, tmp_path):
    """--max-steps 30 on a 10-step epoch once ran 15 steps: the default --epochs 5 capped it, silently."""
    out = tmp_path / "run"
    rc, stdout, _ = train(out, "--max-steps", 30, "--sample-every", 100)
    assert rc == 0
    assert "30 steps in all (3 epochs)" in stdout
    assert read_metrics(out / "metrics.csv")["step"][-1] == 30


def test_epochs_and_max_steps_together_stop_at_the_first(train, tmp_path):
    rc, stdout, _ = train(tmp_path / "run", "--max-steps", 30, "--epochs", 2)
    assert rc == 0 and "20 steps in all (2 epochs)" in stdout


def test_a_resume_keeps_the_length_unless_given_a_new_one(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 3)[0] == 0
    rc, stdout, _ = train(out, "--resume")               # the same length: nothing left to do
    assert rc == 0 and "note: the run is at step 3, its last" in stdout
    assert load_checkpoint(out)["step"] == 3
    rc, stdout, _ = train(out, "--resume", "--epochs", 2)   # --epochs alone: the old --max-steps goes
    assert rc == 0 and "20 steps in all (2 epochs)" in stdout
    assert load_checkpoint(out)["step"] == 20 and load_checkpoint(out)["config"]["max_steps"] is None


def test_a_signal_during_the_final_save_still_saves_and_exits_0(train, tmp_path, monkeypatch):
    """Ctrl-C at the very end of a run once left `latest` at an older step and exited 130."""
    real_save = checkpoint.save_checkpoint

    def save(path, state):
        if state["step"] == 5:
            os.kill(os.getpid(), signal.SIGINT)         # Ctrl-C, in the middle of the last save
        return real_save(path, state)
    monkeypatch.setattr(checkpoint, "save_checkpoint", save)
    out = tmp_path / "run"
    rc, stdout, stderr = train(out, "--max-steps", 5, "--checkpoint-every", 2)
    assert rc == 0, stderr
    assert (out / "latest").read_text() == "checkpoints/step_000005.npz\n"
    assert "note: Ctrl-C came after the last step; the checkpoint, pictures and report were saved." in stdout
    assert (out / "samples.png").exists() and (out / "index.html").exists()
