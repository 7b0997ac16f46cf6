"""Hostile checkpoints: claimed sizes, zip bombs, deep JSON and oversized configs end in one line.

Memory is measured with tracemalloc (numpy reports its allocations there), never wall-clock.
"""
from __future__ import annotations

import json
import tracemalloc
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigan.job.checkpoint import CheckpointError, MAX_DEPTH, load_checkpoint, save_checkpoint
from minigan.job.cli import main
from minigan.job.config import TrainConfig, build_models
from minigan.job.weights_fit import check_weights_fit, model_layout

MiB = 2**20


def peak_bytes(fn):
    """``(peak traced bytes, the exception fn raised or None)``."""
    tracemalloc.start()
    try:
        fn()
        error = None
    except (CheckpointError, SystemExit) as e:
        error = e
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, error


def npy_header(shape, dtype="<f4") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"               # pad to 64 bytes, as numpy does
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def meta_member(archive):
    archive.writestr("meta.npy", npy_header((), "<U2") + "{}".encode("utf-32-le"))


def test_a_zip_bomb_member_is_refused_before_it_expands(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        meta_member(archive)
        with archive.open("w.npy", "w") as f:                               # 32 MiB of zeros in ~32 kB
            f.write(npy_header((8 * MiB,)))
            for _ in range(32):
                f.write(bytes(MiB))
    assert path.stat().st_size < 100_000
    peak, error = peak_bytes(lambda: load_checkpoint(path))
    assert isinstance(error, CheckpointError) and "would expand from" in str(error) and "zip bomb" in str(error)
    assert peak < 2 * MiB


def test_a_header_claiming_more_than_its_member_holds_is_refused_before_allocating(tmp_path):
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        meta_member(archive)
        archive.writestr("w.npy", npy_header((10**9,)) + bytes(64))       # claims 4 GB, holds 64 bytes
    peak, error = peak_bytes(lambda: load_checkpoint(path))
    assert isinstance(error, CheckpointError) and "do not hold" in str(error)
    assert peak < 1 * MiB


def test_a_directory_claiming_more_bytes_than_the_file_has_is_refused_before_allocating(tmp_path):
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        meta_member(archive)
        archive.writestr("w.npy", npy_header((2**28,)) + bytes(2**10))
    data = bytearray(path.read_bytes())
    directory = data.rindex(b"PK\x01\x02")                              # w.npy's central directory entry
    for field in (20, 24):                                             # its compressed and uncompressed sizes
        data[directory + field:directory + field + 4] = (2**30).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    peak, error = peak_bytes(lambda: load_checkpoint(path))
    assert isinstance(error, CheckpointError) and "more than the" in str(error)
    assert peak < 1 * MiB


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 200_000])
def test_deeply_nested_meta_json_is_one_line(tmp_path, depth):
    text = '{"format": "minigan-checkpoint", "version": 1, "state": ' + "[" * depth + "]" * depth + "}"
    path = tmp_path / "deep.npz"
    np.savez(path, meta=np.array(text))
    with pytest.raises(CheckpointError, match=f"not a minigan checkpoint .*nested deeper than {MAX_DEPTH}"):
        load_checkpoint(path)


def test_a_real_checkpoint_costs_about_its_own_size(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    path = next((out / "checkpoints").glob("step_*.npz"))
    peak, error = peak_bytes(lambda: load_checkpoint(path))
    assert error is None and peak < 2 * path.stat().st_size


@pytest.fixture
def oversized(train, tmp_path):
    """A run whose checkpoint's config claims --ngf 2048 (4.5 GB of G) over its tiny arrays."""
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    path = out / "checkpoints" / "step_000002.npz"
    state = load_checkpoint(path)
    state["config"]["ngf"] = 2048
    save_checkpoint(path, state)
    return out, path


@pytest.mark.parametrize("command", [
    ["generate", "--checkpoint", "{run}", "--n", "4", "--out", "{tmp}/g.png"],
    ["export", "--checkpoint", "{run}", "--out", "{tmp}/G.safetensors"],
    ["evaluate", "--checkpoint", "{run}", "--n", "4", "--no-record"],
])
def test_a_config_claiming_a_huge_network_is_refused_before_building(oversized, tmp_path, capsys, command):
    pytest.importorskip("safetensors")
    out, path = oversized
    argv = [a.format(run=out, tmp=tmp_path) for a in command]
    before = path.read_bytes()
    capsys.readouterr()
    rc = []
    peak, _ = peak_bytes(lambda: rc.append(main(argv)))
    err = capsys.readouterr().err.strip()
    assert rc == [1] and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "does not match" in err and "--ngf 2048" in err
    assert peak < 4 * path.stat().st_size + MiB       # the checkpoint, never G's 4.5 GB
    assert path.read_bytes() == before


def test_resuming_a_config_claiming_a_huge_network_is_refused_before_building(oversized, idx_dir, capsys):
    out, _ = oversized
    capsys.readouterr()
    rc = main(["train", "--data-dir", str(idx_dir), "--out", str(out), "--resume", "--max-steps", "3"])
    err = capsys.readouterr().err
    assert rc == 1 and "does not match the networks its config describes" in err and "--ngf 2048" in err
    assert "Traceback" not in err and not (out / "checkpoints" / "step_000003.npz").exists()


def test_the_member_checks_accept_numpys_own_compressed_files(tmp_path):
    path = tmp_path / "c.npz"
    meta = json.dumps({"format": "minigan-checkpoint", "version": 1,
                       "state": {"dict": {"w": {"npz": "w"}, "n": {"value": 3}}}})
    np.savez_compressed(path, meta=np.array(meta), w=np.arange(1000.0))
    state = load_checkpoint(path)
    assert state["n"] == 3 and np.array_equal(state["w"], np.arange(1000.0))


@settings(max_examples=15)
@given(arch=st.sampled_from(["dcgan28", "dcgan64"]), sizes=st.tuples(*[st.integers(1, 6)] * 3),
       channels=st.sampled_from([1, 3]), conditional=st.sampled_from([None, "concat", "projection"]),
       K=st.integers(1, 4), recipe=st.sampled_from([None, "sngan", "wgan-gp"]))
def test_the_layout_without_building_is_build_models(arch, sizes, channels, conditional, K, recipe):
    nz, ngf, ndf = sizes
    cfg = TrainConfig(dataset="folder", data_dir="pictures", arch=arch, nz=nz, ngf=ngf, ndf=ndf, channels=channels,
                      conditional=conditional, recipe=recipe).resolved()
    cfg = replace(cfg, class_names=[f"c{i}" for i in range(K)] if conditional else None)
    G, D = build_models(cfg)
    assert model_layout(cfg) == {"G": {k: v.shape for k, v in G.state_dict().items()},
                                 "D": {k: v.shape for k, v in D.state_dict().items()}}
    check_weights_fit(cfg, {"G": G.state_dict(), "D": D.state_dict()})          # its own arrays fit
    with pytest.raises(ValueError, match="makes it"):
        check_weights_fit(replace(cfg, ngf=ngf + 1), {"G": G.state_dict(), "D": D.state_dict()})


def test_nan_weights_in_a_checkpoint_are_refused_naming_the_tensor(train, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    path = out / "checkpoints" / "step_000002.npz"
    state = load_checkpoint(path)
    state["trainer"]["G"]["3.weight"][0] = np.inf
    save_checkpoint(path, state)
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(out), "--n", "4", "--out", str(tmp_path / "g.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'3.weight' holds NaN or infinite values" in err


def test_a_meta_entry_of_another_type_is_one_line(tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, meta=np.array(3.5))
    with pytest.raises(CheckpointError, match="not a minigan checkpoint"):
        load_checkpoint(path)
