"""benchmarks/compare_recipes.py on a tiny configuration: every recipe row in the table, one picture, resumable.

The real judge needs Fashion-MNIST and its trained classifier; here a stand-in judge (below) scores
the samples, so this test checks the comparison's plumbing -- runs, skipping, table, picture -- and
not the numbers. The real judge is tested in tests/job/metrics/.
"""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from tests.job.cli.conftest import squares
from tests.test_benchmark import load
from minigan.job.data import write_idx


class StandInJudge:
    """Judge's interface; its "Frechet distance" is only the distance of the sample mean to 0."""

    def __init__(self, dataset, data_dir=None, n=10000, backend="numpy", seed=0, **_):
        self.n = n

    def __call__(self, G, nz, noise="normal", dtype=None):
        x = G(np.random.default_rng(0).standard_normal((self.n, nz, 1, 1)).astype(np.float32))
        return {"frechet_distance": float(abs(x.mean())), "classifier_score": 1.0, "classes_present": 1,
                "class_histogram": [1.0] + [0.0] * 9}

    def describe(self):
        return "a stand-in judge"


def test_compare_recipes_on_a_tiny_configuration(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    write_idx(data / "train-images-idx3-ubyte", squares(160))         # wgan-gp's step: 5 batches of 16
    write_idx(data / "train-labels-idx1-ubyte", np.zeros(160, np.uint8))
    compare = load("compare_recipes")
    monkeypatch.setattr(compare, "Judge", StandInJudge)
    out = tmp_path / "cmp"
    recipes = ["dcgan", "sngan", "wgan-gp", "dcgan-ema"]
    argv = ["--recipes", ",".join(recipes), "--steps", "2", "--seeds", "0,1", "--batch-size", "16", "--ngf", "2",
            "--ndf", "2", "--eval-samples", "8", "--dataset", "mnist", "--data-dir", str(data), "--out", str(out)]
    assert compare.main(argv) == 0
    md = (out / "recipes.md").read_text()
    assert "python benchmarks/compare_recipes.py --recipes dcgan,sngan,wgan-gp,dcgan-ema" in md
    assert "machine: " in md and "date: " in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| recipe")]
    assert [row.split("|")[1].strip() for row in rows] == recipes
    assert "| +0% |" in rows[0]                                    # dcgan against itself
    for recipe in recipes:
        for seed in (0, 1):
            result = json.loads((out / f"{recipe}-seed{seed}" / "result.json").read_text())
            assert result["steps"] == 2 and result["recipe"] == recipe
    assert json.loads((out / "dcgan-ema-seed0" / "result.json").read_text())["ema"] is True
    picture = Image.open(out / "recipes.png")
    assert picture.height > picture.width / 2                      # four labelled grids, three a row: two rows

    capsys.readouterr()
    assert compare.main(argv) == 0                                 # a second time: every run is skipped
    assert capsys.readouterr().out.count("done already, skipped") == 8
