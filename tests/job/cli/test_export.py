"""minigan export: a checkpoint's G (or its EMA copy) and D as safetensors files, and its error lines."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("safetensors")

from minigan.job.checkpoint import load_checkpoint  # noqa: E402
from minigan.job.cli import main  # noqa: E402
from minigan.models import load_safetensors, safetensors_file  # noqa: E402
from minigan.models.safetensors_file import read_safetensors  # noqa: E402

from .conftest import TINY  # noqa: E402


@pytest.fixture(scope="module")
def runs(idx_dir, tmp_path_factory):
    """Two tiny finished runs: one that kept an EMA copy of G (3 steps), one that did not (2 steps)."""
    folder = tmp_path_factory.mktemp("runs")
    for name, flags in (("ema", ["--max-steps", "3", "--ema"]), ("plain", ["--max-steps", "2"])):
        assert main(["train", "--data-dir", str(idx_dir), *TINY, "--out", str(folder / name), *flags]) == 0
    return folder


def export(capsys, *argv):
    """``minigan export ...`` in-process: (exit status, stdout, stderr), usage errors included."""
    capsys.readouterr()
    try:
        rc = main(["export", *map(str, argv)])
    except SystemExit as e:                       # argparse's parser.error
        rc = e.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return rc, out, err


def test_export_g_defaults_to_the_ema_copy(runs, tmp_path, capsys):
    weights = load_checkpoint(runs / "ema")["trainer"]
    rc, out, _ = export(capsys, "--checkpoint", runs / "ema", "--out", tmp_path / "G.safetensors")
    assert rc == 0 and "EMA copy of dcgan28 G (nz=8, ngf=4, nc=1), at step 3" in out
    G = load_safetensors(tmp_path / "G.safetensors")
    assert all(np.array_equal(G.state_dict()[k], v) for k, v in weights["G_ema"].items())
    arrays, meta = read_safetensors(tmp_path / "G.safetensors")
    assert meta["minigan.weights"] == "G_ema" and meta["minigan.step"] == "3"
    assert json.loads(meta["minigan.job.config"])["ema"] == 0.999
    assert int(arrays["1.num_batches_tracked"]) == 3

    rc, _, _ = export(capsys, "--checkpoint", runs / "ema", "--out", tmp_path / "raw.safetensors", "--no-ema")
    raw = load_safetensors(tmp_path / "raw.safetensors").state_dict()
    assert rc == 0 and read_safetensors(tmp_path / "raw.safetensors")[1]["minigan.weights"] == "G"
    assert all(np.array_equal(raw[k], v) for k, v in weights["G"].items())
    assert not np.array_equal(raw["0.weight"], weights["G_ema"]["0.weight"])     # a different network


def test_export_both_writes_one_file_per_network(runs, tmp_path, capsys):
    weights = load_checkpoint(runs / "plain")["trainer"]
    rc, out, _ = export(capsys, "--checkpoint", runs / "plain" / "latest", "--out", tmp_path / "model.safetensors",
                        "--net", "both")
    assert rc == 0 and "the dcgan28 D (ndf=4, nc=1), at step 2" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.D.safetensors", "model.G.safetensors"]
    for which in ("G", "D"):
        net = load_safetensors(tmp_path / f"model.{which}.safetensors")
        assert all(np.array_equal(net.state_dict()[k], v) for k, v in weights[which].items())
        assert read_safetensors(tmp_path / f"model.{which}.safetensors")[1]["minigan.net"] == which


def test_usage_errors_exit_2_with_one_line(runs, tmp_path, capsys):
    checkpoint = runs / "plain" / "checkpoints" / "step_000002.npz"
    before = checkpoint.read_bytes()
    cases = [
        (["--checkpoint", runs / "plain", "--out", tmp_path / "g.safetensors", "--ema"],
         "has no EMA copy of G (the run was trained without --ema)"),
        (["--checkpoint", runs / "ema", "--out", tmp_path / "d.safetensors", "--ema", "--net", "D"],
         "--ema applies to G"),
        (["--checkpoint", runs / "plain", "--out", checkpoint], "is the checkpoint itself"),
        (["--checkpoint", runs / "plain", "--out", runs / "plain" / "latest"], "is the run's 'latest' pointer"),
        (["--checkpoint", runs / "plain", "--out", tmp_path], "is a folder; give a file name"),
    ]
    for argv, message in cases:
        rc, _, err = export(capsys, *argv)
        usage, last = err.splitlines()[0], err.splitlines()[-1]
        assert rc == 2 and usage.startswith("usage: minigan export"), (argv, err)
        assert last.startswith("minigan export: error: ") and message in last, (argv, err)
    assert checkpoint.read_bytes() == before and list(tmp_path.iterdir()) == []


def test_run_time_errors_exit_1_with_one_line(runs, tmp_path, capsys):
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    cases = [
        (["--checkpoint", tmp_path / "nothing", "--out", tmp_path / "g.safetensors"], "error: no checkpoint at"),
        (["--checkpoint", damaged, "--out", tmp_path / "g.safetensors"], "is not a readable checkpoint"),
        (["--checkpoint", runs / "plain", "--out", a_file / "g.safetensors"], f"error: cannot write {a_file}"),
    ]
    for argv, message in cases:
        rc, _, err = export(capsys, *argv)
        assert rc == 1 and message in err and err.count("\n") == 1, (argv, err)


def test_without_safetensors_the_error_says_what_to_install(runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(safetensors_file, "safetensors", None)
    rc, _, err = export(capsys, "--checkpoint", runs / "plain", "--out", tmp_path / "g.safetensors")
    assert rc == 2 and err == "error: the safetensors package is not installed: pip install 'minigan[interop]'\n"


def test_a_conditional_run_exports_and_draws_the_same_pictures_in_pytorch(idx_dir, tmp_path, capsys):
    """G(z, y) and D(x, y) export with their form in the metadata; in PyTorch (the modules of
    docs/pytorch-interop.md) they load strictly and draw the same pictures for the same z and labels."""
    out = tmp_path / "cond"
    assert main(["train", "--data-dir", str(idx_dir), *TINY, "--out", str(out), "--max-steps", "2",
                 "--dataset", "mnist", "--conditional", "projection", "--ema"]) == 0
    rc, stdout, err = export(capsys, "--checkpoint", out, "--out", tmp_path / "c.safetensors", "--net", "both")
    assert rc == 0, err
    _, meta = read_safetensors(tmp_path / "c.G.safetensors")
    assert meta["minigan.num_classes"] == "10" and meta["minigan.conditional"] == "projection"
    G, D = load_safetensors(tmp_path / "c.G.safetensors"), load_safetensors(tmp_path / "c.D.safetensors")
    state = load_checkpoint(out)
    z, y = np.random.default_rng(0).standard_normal((10, 8, 1, 1)).astype(np.float32), np.arange(10)
    from minigan.job.generate import load_generator
    assert np.array_equal(G(z, y), load_generator(out)(z, y))       # the EMA G the run would draw with
    assert state["config"]["conditional"] == "projection"
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    from ...test_interop import pytorch_conditional
    from minigan.models.safetensors_file import spec_from_metadata
    for net, path, inputs in ((G, "c.G.safetensors", z), (D, "c.D.safetensors", G(z, y))):
        spec = spec_from_metadata(read_safetensors(tmp_path / path)[1])
        torch_net = pytorch_conditional(torch, torch.nn, spec)
        torch_net.load_state_dict(st_torch.load_file(str(tmp_path / path)), strict=True)
        with torch.no_grad():
            want = torch_net.eval()(torch.from_numpy(inputs), torch.from_numpy(y)).numpy()
        np.testing.assert_allclose(net(inputs, y), want, atol=1e-5)
