"""A run folder never loses data: one job at a time, a resume continues only its own run, going back is
explicit, pruning keeps the live checkpoints, and a killed writer's temporary files are cleaned up."""
import os
import signal
import subprocess
import sys

from minigan.job.checkpoint import LATEST, load_checkpoint, resume_point, save_and_point
from minigan.fileio import stale_temp_files
from minigan.job.logs import read_metrics

from .test_faults import run_minigan, wait_for_rows
from .conftest import TINY


def contents(out):
    """Every file of the run folder and its bytes (the lock's note, which names the last job, aside)."""
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".lock"}


def steps_logged(out):
    return [int(s) for s in read_metrics(out / "metrics.csv")["step"]]


def test_a_second_job_on_the_same_out_is_refused_naming_the_first(idx_dir, tmp_path, train):
    out = tmp_path / "run"
    first = run_minigan("train", "--data-dir", idx_dir, *TINY, "--out", out, "--epochs", 10_000,
                        "--checkpoint-every", 2)
    try:
        wait_for_rows(out, 3)
        rc, _, stderr = train(out, "--max-steps", 2)
        assert rc == 2 and stderr.count("\n") == 1
        assert stderr.startswith(f"error: {out} is in use by another training job (pid {first.pid} on host ")
        assert "python -m minigan train --out" in stderr and "another --out" in stderr
        rc, _, stderr = train(out, "--max-steps", 2, "--resume")             # not by resuming either
        assert rc == 2 and "in use by another training job" in stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130                      # the first job ran on undisturbed
    n = load_checkpoint(out)["step"]
    assert steps_logged(out) == list(range(1, n + 1))


def test_a_lock_left_by_a_killed_job_is_taken_over(idx_dir, tmp_path, train):
    out = tmp_path / "run"
    job = run_minigan("train", "--data-dir", idx_dir, *TINY, "--out", out, "--epochs", 10_000,
                      "--checkpoint-every", 2)
    wait_for_rows(out, 5)
    job.kill()                                          # kill -9: no cleanup at all
    job.communicate(timeout=60)
    assert (out / ".lock").exists() and str(job.pid) in (out / ".lock").read_text()
    saved = load_checkpoint(resume_point(out)[0])["step"]  # the kill may fall between a checkpoint and `latest`
    rc, stdout, stderr = train(out, "--max-steps", saved + 3, "--resume")
    assert rc == 0, stderr
    assert f"resumed from step {saved}" in stdout
    assert steps_logged(out) == list(range(1, saved + 4))     # the unsaved steps redone, none twice


def test_a_checkpoint_saved_just_before_a_kill_is_resumed_from_though_latest_lags(tmp_path, train):
    # kill -9 after a checkpoint file is complete but before `latest` moves to it: that file is the
    # run's newest state; resuming must neither start from the older step nor call the newer one "newer steps".
    out = tmp_path / "run"
    assert train(out, "--max-steps", 4, "--checkpoint-every", 2)[0] == 0
    (out / LATEST).write_text("checkpoints/step_000002.npz\n")          # the pointer as the kill left it
    rc, stdout, stderr = train(out, "--max-steps", 6, "--resume")
    assert rc == 0, stderr
    assert "names step 2, but the job was stopped after saving step_000004.npz completely" in stdout
    assert "resumed from step 4" in stdout
    assert steps_logged(out) == list(range(1, 7))


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temp_files_are_cleaned_at_start_and_live_ones_kept(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    dead = [out / "checkpoints" / f".step_000003.npz.{dead_pid()}.abcd_123.tmp",   # a kill -9 mid-save
            out / f".metrics.csv.{dead_pid()}.x1y2z3w4.tmp",
            out / "samples" / ".step_000003.png.q9w8e7r6.tmp"]                     # minigan 0.1's name: no pid
    live = out / f".index.html.{os.getpid()}.abcdefgh.tmp"                        # a writer at work right now
    for path in (*dead, live):
        path.write_bytes(b"x" * 1000)
    assert sorted(stale_temp_files(out / "checkpoints")) == [dead[0]]
    assert train(out, "--max-steps", 3, "--resume")[0] == 0
    assert not any(p.exists() for p in dead) and live.exists()


def test_resuming_another_run_into_an_existing_run_is_refused(train, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert train(a, "--max-steps", 4, "--sample-every", 2)[0] == 0
    assert train(b, "--max-steps", 6, "--sample-every", 2)[0] == 0
    before = contents(b)
    rc, _, stderr = train(b, "--max-steps", 8, "--resume", a / "latest")
    assert rc == 2 and stderr.count("\n") == 1
    assert stderr.startswith(f"error: {b} holds another run (up to step 6); resuming ") and "--out NEW_DIR" in stderr
    after = contents(b)
    assert after == before                              # not a byte changed

    # ... and into a new folder it branches off: its own run, starting at a's step 4
    rc, stdout, stderr = train(tmp_path / "c", "--max-steps", 6, "--resume", a / "latest")
    assert rc == 0, stderr
    assert load_checkpoint(tmp_path / "c")["step"] == 6
    assert sorted(p.name for p in (tmp_path / "c" / "checkpoints").iterdir()) == [
        "step_000004.npz", "step_000006.npz"]           # the step it started from is its first checkpoint


def test_rolling_back_needs_discard_newer_and_then_keeps_latest_consistent(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 12, "--checkpoint-every", 4, "--keep-checkpoints", 5,
                 "--sample-every", 3)[0] == 0
    before = contents(out)
    old = out / "checkpoints" / "step_000004.npz"
    rc, _, stderr = train(out, "--max-steps", 4, "--resume", old)        # back to 4, no step taken
    assert rc == 2 and stderr.count("\n") == 1
    assert "saved up to step 12; resuming from step 4 would discard steps 5-12" in stderr
    assert "--discard-newer" in stderr and "--out NEW_DIR" in stderr
    assert contents(out) == before

    rc, _, stderr = train(out, "--max-steps", 4, "--resume", old, "--discard-newer")
    assert rc == 0, stderr
    assert (out / "latest").read_text() == "checkpoints/step_000004.npz\n"  # never left at 12
    assert load_checkpoint(out)["step"] == 4
    assert steps_logged(out) == [1, 2, 3, 4]
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_000000.png", "step_000003.png",
                                                                  "step_000004.png"]   # 0: G untrained
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000004.npz"]


def test_after_a_rollback_pruning_keeps_the_live_line(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 12, "--checkpoint-every", 2, "--keep-checkpoints", 2)[0] == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000010.npz", "step_000012.npz"]
    rc, _, stderr = train(out, "--max-steps", 16, "--resume", out / "checkpoints" / "step_000010.npz",
                          "--discard-newer")
    assert rc == 0, stderr
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000014.npz", "step_000016.npz"]
    assert load_checkpoint(out)["step"] == 16 and steps_logged(out) == list(range(1, 17))


def test_pruning_never_deletes_a_checkpoint_after_the_current_step(tmp_path):
    for step in (2, 4, 20, 22):                         # 20 and 22: another line of history
        save_and_point(tmp_path, {"step": step}, step, keep=10)
    for step in (6, 8, 10):
        save_and_point(tmp_path, {"step": step}, step, keep=2)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "step_000008.npz", "step_000010.npz", "step_000020.npz", "step_000022.npz"]
    assert (tmp_path / "latest").read_text() == "checkpoints/step_000010.npz\n"


def test_a_fresh_run_over_logs_without_a_checkpoint_needs_discard_newer(train, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 3)[0] == 0
    (out / "latest").unlink()
    for p in (out / "checkpoints").iterdir():
        p.unlink()                                      # as if it had died before its first checkpoint
    rc, _, stderr = train(out, "--max-steps", 2)
    assert rc == 2 and "holds 3 steps of logs or samples of a run that saved no checkpoint" in stderr
    assert steps_logged(out) == [1, 2, 3]
    assert train(out, "--max-steps", 2, "--discard-newer")[0] == 0
    assert steps_logged(out) == [1, 2]
