"""The output guard (minigan/job/output_guard.py): no command writes over a run's file, a link, a device,
a folder, or a file minigan did not write as that kind of output (without --force).

Each refusal: exit 2, one error line, no traceback, and every file of the user and of the run byte for
byte as it was, with no temporary file left.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minigan.job import generate, output_guard, sample_files
from minigan.job.cli import main
from minigan.job.output_guard import OutputRefused, OutputTarget

from .conftest import TINY

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def runs(idx_dir, tmp_path_factory):
    """Two tiny finished runs, ``a`` and ``b`` (2 steps each)."""
    folder = tmp_path_factory.mktemp("guarded")
    for name in ("a", "b"):
        assert main(["train", "--data-dir", str(idx_dir), *TINY, "--out", str(folder / name), "--max-steps", "2"]) == 0
    return folder


def snapshot(*folders) -> dict:
    """Every file under ``folders`` (dot files too): ``{path: (bytes, mode)}``; links and devices as their kind."""
    files = {}
    for folder in folders:
        for root, dirs, names in os.walk(folder):
            for name in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                p = os.path.join(root, name)
                st = os.lstat(p)
                files[p] = (open(p, "rb").read(), st.st_mode) if stat.S_ISREG(st.st_mode) else (st.st_mode, None)
    return files


def refused(capsys, *argv) -> str:
    """``minigan ARGV`` must exit 2 with one error line and no traceback; returns that line."""
    capsys.readouterr()
    try:
        rc = main([*map(str, argv)])
    except SystemExit as e:                       # argparse's parser.error: the usage line, then the error
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err, (argv, rc, err)
    lines = [line for line in err.strip().splitlines() if not line.startswith(("usage:", " "))]
    assert len(lines) == 1, err
    return lines[0]


RUN_FILES = ["checkpoints/step_000002.npz", "latest", "metrics.csv", "config.json", "run.json", "samples.png",
             "training.gif", "curves.png", "index.html", "samples/step_000002.png"]


@pytest.mark.parametrize("name", RUN_FILES)
def test_no_command_writes_over_a_runs_file(runs, tmp_path, capsys, name):
    before = snapshot(runs)
    a, b = runs / "a", runs / "b"
    picture = name.endswith(".png") or name.endswith(".gif")
    commands = [["export", "--checkpoint", a, "--out", a / name], ["report", a, "--out", b / name],
                ["evaluate", "--checkpoint", a, "--json", a / name]]
    if name != "index.html":                       # report writes its own run's page
        commands.append(["report", a, "--out", a / name])
    if picture or "." not in name:
        commands.append(["generate", "--checkpoint", a, "--out", a / name])
    for argv in commands:
        for force in ([], ["--force"]):            # --force never opens a run's file
            line = refused(capsys, *argv, *force)
            assert str(a / name if a / name in argv else b / name) in line, line
    assert snapshot(runs) == before


def test_a_runs_file_reached_through_a_linked_folder_is_refused(runs, tmp_path, capsys):
    before = snapshot(runs)
    (tmp_path / "ck").symlink_to(runs / "a" / "checkpoints")
    (tmp_path / "run").symlink_to(runs / "b")
    for argv in (["export", "--checkpoint", runs / "b", "--out", tmp_path / "ck" / "step_000002.npz", "--force"],
                 ["evaluate", "--checkpoint", runs / "a", "--json", tmp_path / "run" / "metrics.csv", "--force"],
                 ["report", runs / "a", "--out", tmp_path / "run" / "index.html", "--force"]):
        assert "of the training run in" in refused(capsys, *argv), argv
    assert snapshot(runs) == before
    assert main(["report", str(tmp_path / "run")]) == 0                     # its own page, by the link's name


def test_report_rewrites_its_own_page_and_no_other_file(runs, tmp_path, capsys):
    a = runs / "a"
    assert main(["report", str(a)]) == 0 and "minigan report" in (a / "index.html").read_text()
    page = tmp_path / "page.html"
    assert main(["report", str(a), "--out", str(page)]) == 0
    assert main(["report", str(a), "--out", str(page)]) == 0        # its own page again: replaced
    mine = tmp_path / "notes.html"
    mine.write_text("<html>my notes</html>")
    line = refused(capsys, "report", a, "--out", mine)
    assert "notes.html exists" in line and "--force" in line and mine.read_text() == "<html>my notes</html>"
    assert main(["report", str(a), "--out", str(mine), "--force"]) == 0 and "minigan report" in mine.read_text()


def test_generate_replaces_its_own_grid_but_not_a_photo(runs, tmp_path, capsys):
    a = runs / "a"
    default = a / "generated.png"
    assert main(["generate", "--checkpoint", str(a), "--n", "4"]) == 0
    assert main(["generate", "--checkpoint", str(a), "--n", "4", "--seed", "1"]) == 0   # its own: replaced
    with Image.open(default) as im:
        assert im.info["Software"] == "minigan generate"
    for ext in ("png", "jpg", "gif", "webp", "tiff"):                 # a grid it wrote, in every format
        grid = tmp_path / f"grid.{ext}"
        assert main(["generate", "--checkpoint", str(a), "--n", "4", "--out", str(grid)]) == 0
        assert main(["generate", "--checkpoint", str(a), "--n", "4", "--out", str(grid), "--seed", "2"]) == 0
    for ext in ("png", "jpg", "bmp"):                                 # the user's photos
        photo = tmp_path / f"photo.{ext}"
        Image.new("RGB", (5, 5), (200, 30, 30)).save(photo)
        before = photo.read_bytes()
        line = refused(capsys, "generate", "--checkpoint", a, "--out", photo)
        assert f"{photo} exists; choose a new file name, or add --force" in line
        assert photo.read_bytes() == before
        assert main(["generate", "--checkpoint", str(a), "--n", "4", "--out", str(photo), "--force"]) == 0
        assert photo.read_bytes() != before
    bmp = tmp_path / "photo.bmp"                                      # BMP holds no mark: --force every time
    assert "exists" in refused(capsys, "generate", "--checkpoint", a, "--out", bmp)
    os.unlink(default)


def test_export_and_evaluate_replace_their_own_files_only(runs, tmp_path, capsys):
    a = runs / "a"
    g = tmp_path / "G.safetensors"
    assert main(["export", "--checkpoint", str(a), "--out", str(g)]) == 0
    assert main(["export", "--checkpoint", str(a), "--out", str(g)]) == 0          # its own: replaced
    mine = tmp_path / "mine.safetensors"
    mine.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    assert "mine.safetensors exists" in refused(capsys, "export", "--checkpoint", a, "--out", mine)
    assert mine.read_bytes() == b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "
    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "notes"}')
    line = refused(capsys, "evaluate", "--checkpoint", a, "--json", notes)           # before any evaluation
    assert line.endswith("so it may be yours)") and notes.read_text() == '{"my": "notes"}'
    assert not output_guard.marked(notes, "evaluation")   # its own result: tests/job/report/test_evaluate_command.py


def test_links_devices_fifos_and_folders_are_refused(runs, tmp_path, capsys):
    a = runs / "a"
    victim = tmp_path / "victim.png"
    Image.new("RGB", (5, 5)).save(victim)
    link = tmp_path / "link.png"
    link.symlink_to(victim)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    (tmp_path / "dir.html").mkdir()
    before = snapshot(tmp_path)
    for argv, words in [
        (["generate", "--checkpoint", a, "--out", link], "is a symbolic link"),
        (["generate", "--checkpoint", a, "--out", link, "--force"], "is a symbolic link"),
        (["report", a, "--out", link], "is a symbolic link"),
        (["export", "--checkpoint", a, "--out", link], "is a symbolic link"),
        (["evaluate", "--checkpoint", a, "--json", link], "is a symbolic link"),
        (["generate", "--checkpoint", a, "--out", fifo], "is a FIFO"),
        (["report", a, "--out", fifo, "--force"], "is a FIFO"),
        (["report", a, "--out", "/dev/null", "--force"], "is a device node"),
        (["export", "--checkpoint", a, "--out", "/dev/null"], "is a device node"),
        (["report", a, "--out", tmp_path / "dir.html"], "is a folder"),
    ]:
        assert words in refused(capsys, *argv), argv
    assert snapshot(tmp_path) == before and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_file_that_appears_while_writing_is_not_replaced(runs, tmp_path, capsys, monkeypatch):
    """Two ``generate --out same.npy`` at once: the second to finish says so, and replaces nothing."""
    out = tmp_path / "same.npy"
    real = sample_files.generate_batches

    def the_other_one_finishes_first(*args, **kwargs):
        for i, batch in enumerate(real(*args, **kwargs)):
            if i == 0:
                np.save(out, np.zeros(3))                      # the other command's file, in place now
            yield batch
    monkeypatch.setattr(sample_files, "generate_batches", the_other_one_finishes_first)
    line = refused(capsys, "generate", "--checkpoint", runs / "a", "--n", "3", "--out", out)
    assert "appeared while this command was writing it" in line
    np.testing.assert_array_equal(np.load(out), np.zeros(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.npy"]          # no temporary file left


def test_two_generates_into_one_npy_at_once_one_wins(runs, tmp_path):
    out = tmp_path / "same.npy"
    procs = [subprocess.Popen([sys.executable, "-m", "minigan", "generate", "--checkpoint", str(runs / "a"),
                               "--n", "3000", "--seed", str(seed), "--out", str(out)], cwd=REPO, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for seed in (1, 2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert sorted(rc for rc, _ in results) == [0, 2], results
    line = next(err for rc, err in results if rc == 2).strip().splitlines()[-1]
    assert "Traceback" not in line and ("appeared while" in line or "exists; choose a new file name" in line)
    winner = next(seed for seed, (rc, _) in zip((1, 2), results) if rc == 0)
    G = generate.load_generator(runs / "a")
    np.testing.assert_array_equal(np.load(out), np.concatenate(list(generate.generate_batches(G, 3000, winner))))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.npy"]


def test_the_guard_places_without_replacing(tmp_path):
    target = OutputTarget(tmp_path / "x.json", "evaluation")
    (tmp_path / "x.json").write_text("theirs")
    with pytest.raises(OutputRefused, match="appeared while"):
        with target.temp() as tmp:
            tmp.write_text("ours")
    assert (tmp_path / "x.json").read_text() == "theirs" and len(list(tmp_path.iterdir())) == 1
    with pytest.raises(OutputRefused, match="exists; choose a new file name"):
        OutputTarget(tmp_path / "x.json", "evaluation")
    forced = OutputTarget(tmp_path / "x.json", "evaluation", force=True)
    (tmp_path / "x.json").write_text("changed again")                        # after the check
    with pytest.raises(OutputRefused, match="changed while"):
        with forced.temp() as tmp:
            tmp.write_text("ours")
    assert (tmp_path / "x.json").read_text() == "changed again" and len(list(tmp_path.iterdir())) == 1


def test_npy_outputs_have_the_normal_mode(runs, tmp_path, idx_dir):
    old = os.umask(0o022)
    try:
        crun = tmp_path / "crun"
        assert main(["train", "--data-dir", str(idx_dir), *TINY, "--out", str(crun), "--max-steps", "1",
                     "--conditional", "concat"]) == 0
        assert main(["generate", "--checkpoint", str(crun), "--n", "3", "--out", str(tmp_path / "x.npy")]) == 0
    finally:
        os.umask(old)
    for name in ("x.npy", "x.labels.npy"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644, name


def test_an_existing_npy_or_its_labels_needs_force(runs, tmp_path, capsys):
    out = tmp_path / "x.npy"
    assert main(["generate", "--checkpoint", str(runs / "a"), "--n", "3", "--out", str(out)]) == 0
    before = out.read_bytes()
    assert "exists; choose a new file name, or add --force" in refused(
        capsys, "generate", "--checkpoint", runs / "a", "--n", "3", "--out", out)
    assert out.read_bytes() == before
    assert main(["generate", "--checkpoint", str(runs / "a"), "--n", "4", "--out", str(out), "--force"]) == 0
    assert np.load(out).shape == (4, 1, 28, 28)


def test_a_full_disk_is_one_line_before_any_picture_is_made(runs, tmp_path, capsys, monkeypatch):
    """``generate --n 2000 --out full/x.npy`` on a full disk: the space is reserved first, so no SIGBUS."""
    def full(fd, offset, size):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "posix_fallocate", full)
    made = []
    real = sample_files.generate_batches
    monkeypatch.setattr(sample_files, "generate_batches", lambda *a, **k: (made.append(b) or b for b in real(*a, **k)))
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(runs / "a"), "--n", "2000", "--out", str(tmp_path / "x.npy")]) == 1
    err = capsys.readouterr().err
    assert err == f"error: cannot write {tmp_path / 'x.npy'}: No space left on device\n"
    assert made == [] and list(tmp_path.iterdir()) == []


def test_a_fresh_train_refuses_a_folder_of_the_users_files(idx_dir, tmp_path, capsys, train):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name, text in (("config.json", '{"mine": 1}'), ("index.html", "<p>my page</p>"), ("gradflow.csv", "x\n")):
        (mine / name).write_text(text)
    before = snapshot(mine)
    rc, _, err = train(mine, "--max-steps", 1)
    assert rc == 2 and "Traceback" not in err and err.count("\n") == 1
    assert err.startswith(f"error: --out {mine} is not empty (config.json, gradflow.csv, index.html) and holds no "
                          "minigan run")
    assert snapshot(mine) == before                               # not even a .lock
    rc, _, err = train(mine, "--max-steps", 1, "--resume", runs_checkpoint(tmp_path, train))
    assert rc == 2 and "is not empty" in err and snapshot(mine) == before
    (mine / "config.json").unlink(), (mine / "index.html").unlink(), (mine / "gradflow.csv").unlink()
    (mine / ".lock").write_text("")                               # a leftover lock is no file of the user's,
    (mine / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")                 # nor is what a Mac's Finder leaves
    assert train(mine, "--max-steps", 1)[0] == 0


def runs_checkpoint(tmp_path, train):
    """A finished run's checkpoint to resume from."""
    out = tmp_path / "source"
    assert train(out, "--max-steps", 1)[0] == 0
    return out / "checkpoints" / "step_000001.npz"
