"""minigan.job.checkpoint: one .npz per checkpoint, read back without pickle, pointer and pruning."""
import numpy as np
import pytest

from minigan.job.checkpoint import (CheckpointError, load_checkpoint, resolve, save_and_point,
                                save_checkpoint)


def test_round_trip_keeps_arrays_numbers_and_big_ints(tmp_path):
    state = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": {"0.weight": np.ones(3), "x": None},
             "rng": {"state": 2**127 + 5, "name": "PCG64"}, "betas": (0.5, 0.999), "f": np.float32(0.25)}
    save_checkpoint(tmp_path / "c.npz", state)
    back = load_checkpoint(tmp_path / "c.npz")
    assert back["a"].dtype == np.float32 and np.array_equal(back["a"], state["a"])
    assert np.array_equal(back["b"]["0.weight"], np.ones(3)) and back["b"]["x"] is None
    assert back["rng"] == state["rng"] and back["betas"] == [0.5, 0.999] and back["f"] == 0.25
    with np.load(tmp_path / "c.npz", allow_pickle=False) as npz:       # plain NumPy opens it
        assert "b/0.weight" in npz.files


def test_pointer_and_pruning(tmp_path):
    for step in (1, 2, 3, 4):
        save_and_point(tmp_path, {"step": step}, step, keep=2)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000003.npz", "step_000004.npz"]
    assert resolve(tmp_path) == resolve(tmp_path / "latest") == tmp_path / "checkpoints" / "step_000004.npz"
    assert load_checkpoint(tmp_path)["step"] == 4


def test_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.npz")
    with pytest.raises(CheckpointError, match="no 'latest' pointer"):
        load_checkpoint(tmp_path)
    np.savez(tmp_path / "other.npz", x=np.ones(2))
    with pytest.raises(CheckpointError, match="not a minigan checkpoint"):
        load_checkpoint(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip" * 300)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.npz")
    with pytest.raises(TypeError, match="cannot store"):
        save_checkpoint(tmp_path / "bad.npz", {"x": object()})


NOT_NPZ = "is not a minigan checkpoint (not a .npz file); pass a run's folder"


@pytest.mark.parametrize("content, complaint", [
    (np.random.default_rng(0).bytes(1000), NOT_NPZ),      # random bytes: once taken for a `latest` pointer
    (b"PK\x03\x04garbage", "is not a readable checkpoint ("),   # a zip's magic number, then nothing
    (b"hello\n", NOT_NPZ),                                # short text that names no checkpoint
    (b"\x80\x04\x95" + bytes(100), NOT_NPZ),               # a pickle: once "load it unsafely" (allow_pickle)
])
def test_a_small_damaged_file_is_not_taken_for_a_pointer(tmp_path, capsys, content, complaint):
    from minigan.job.cli import main
    path = tmp_path / "ckpt.npz"
    path.write_bytes(content)
    assert resolve(path) == path
    assert main(["generate", "--checkpoint", str(path), "--out", str(tmp_path / "g.png")]) == 1
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {path} {complaint}") and err.count("\n") == 1
    assert "pickle" not in err and "allow_pickle" not in err
    assert "Traceback" not in err and not (tmp_path / "g.png").exists()


def test_a_pointer_names_a_checkpoint(tmp_path):
    save_and_point(tmp_path, {"step": 1}, 1)
    assert (tmp_path / "latest").read_text() == "checkpoints/step_000001.npz\n"
    (tmp_path / "latest").write_text("checkpoints/step_000009.npz\n")
    with pytest.raises(CheckpointError, match="points to .*step_000009.npz, which does not exist"):
        resolve(tmp_path)


def test_save_checkpoint_refuses_keys_it_cannot_store(tmp_path):
    with pytest.raises(ValueError, match="save_checkpoint: the key 'meta' is reserved for the JSON part"):
        save_checkpoint(tmp_path / "c.npz", {"meta": np.ones(2)})
    with pytest.raises(TypeError, match=r"save_checkpoint: keys must be strings without '/', got 'a/b' in 'x'"):
        save_checkpoint(tmp_path / "c.npz", {"x": {"a/b": 1}})
    with pytest.raises(TypeError, match=r"keys must be strings without '/', got 3 in ''"):
        save_checkpoint(tmp_path / "c.npz", {3: 1})
    assert not (tmp_path / "c.npz").exists()
