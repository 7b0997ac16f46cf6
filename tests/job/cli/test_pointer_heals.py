"""A run folder heals its pointer: a missing, empty or damaged ``latest`` never costs a checkpoint.

``--resume`` continues from the newest complete checkpoint with a note; a fresh start is refused
without advising a flag that deletes checkpoints; a message that advises --discard-newer lists
the checkpoints it would delete.
"""
from __future__ import annotations

import pytest

from minigan.job.checkpoint import LATEST, resume_point
from minigan.job.cli import main


def snapshot(out):
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.fixture
def run6(train, tmp_path):
    """A run of 6 steps with checkpoints at 2, 4 and 6."""
    out = tmp_path / "run"
    rc, _, err = train(out, "--max-steps", 6, "--checkpoint-every", 2, "--sample-every", 3)
    assert rc == 0, err
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [f"step_00000{s}.npz" for s in (2, 4, 6)]
    return out


DAMAGE = {"empty": b"", "garbage": b"\x00\xff not a pointer \n", "dangling": b"checkpoints/step_000099.npz\n",
          "missing": None}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_resume_heals_a_damaged_pointer_from_the_newest_complete_checkpoint(run6, train, damage):
    pointer = run6 / LATEST
    if DAMAGE[damage] is None:
        pointer.unlink()
    else:
        pointer.write_bytes(DAMAGE[damage])
    path, note = resume_point(run6)
    assert path.name == "step_000006.npz" and "resuming from the newest complete checkpoint" in note
    rc, stdout, err = train(run6, "--resume", "--max-steps", 8, "--checkpoint-every", 2, "--sample-every", 3)
    assert rc == 0, err
    assert f"note: {pointer}" in stdout and "checkpoints/step_000006.npz" in stdout
    assert "resumed from step 6" in stdout
    assert pointer.read_text().strip() == "checkpoints/step_000008.npz"        # healed, and moved on


def test_a_damaged_newest_checkpoint_is_skipped_and_going_back_lists_what_it_deletes(run6, train):
    (run6 / LATEST).write_bytes(b"")
    newest = run6 / "checkpoints" / "step_000006.npz"
    newest.write_bytes(newest.read_bytes()[:1000])                          # cut short: not complete
    assert resume_point(run6)[0].name == "step_000004.npz"
    before = snapshot(run6)
    rc, _, err = train(run6, "--resume", "--max-steps", 8)
    assert rc == 2 and "Traceback" not in err
    assert "step_000006.npz" in err and "--discard-newer to delete them" in err   # names what it would delete
    assert snapshot(run6) == before


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_fresh_start_on_a_run_with_a_damaged_pointer_is_refused_without_advising_deletion(run6, train, damage):
    pointer = run6 / LATEST
    if DAMAGE[damage] is None:
        pointer.unlink()
    else:
        pointer.write_bytes(DAMAGE[damage])
    before = snapshot(run6)
    rc, _, err = train(run6, "--max-steps", 6)
    assert rc == 2 and "Traceback" not in err
    last = err.strip()
    assert "already holds a run" in last and "--resume" in last and "--discard-newer" not in last
    assert snapshot(run6) == before                                          # every checkpoint still there


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_other_commands_name_the_checkpoint_to_pass_instead(run6, tmp_path, capsys, damage):
    pointer = run6 / LATEST
    if DAMAGE[damage] is None:
        pointer.unlink()
    else:
        pointer.write_bytes(DAMAGE[damage])
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(run6), "--n", "4", "--out", str(tmp_path / "g.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "step_000006.npz" in err and "--resume" in err
    assert main(["generate", "--checkpoint", str(run6 / "checkpoints" / "step_000006.npz"), "--n", "4",
                 "--out", str(tmp_path / "g.png")]) == 0
