"""benchmarks/compare_collapse.py runs its variants and writes its table (tiny runs only, never timed)."""
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module("compare_collapse")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_two_variants_two_seeds_make_a_table_and_a_rerun_skips_them(tmp_path, monkeypatch, capsys):
    compare = load()
    monkeypatch.setattr(compare, "BASE", ["--batch-size", "12"])        # tiny runs
    monkeypatch.setitem(compare.VARIANTS, "pack3", ["--pack", "3"])
    out = tmp_path / "runs"
    argv = ["--variants", "gan,pack3", "--datasets", "ring", "--seeds", "0,1", "--steps", "2", "--out", str(out)]
    assert compare.main(argv) == 0
    text = (out / "collapse.md").read_text()
    assert "| gan | `-` | 2 |" in text and "| pack3 | `--pack 3` | 2 |" in text and " ± " in text
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        "ring-gan-seed0", "ring-gan-seed1", "ring-pack3-seed0", "ring-pack3-seed1"]
    before = (out / "ring-gan-seed0" / "result.json").read_text()
    assert compare.main(argv) == 0                                       # done runs are read, not trained again
    assert (out / "ring-gan-seed0" / "result.json").read_text() == before


def test_more_seeds_for_one_variant_add_to_the_table(tmp_path, monkeypatch):
    compare = load()
    monkeypatch.setattr(compare, "BASE", ["--batch-size", "12"])
    out = tmp_path / "runs"
    common = ["--datasets", "ring", "--steps", "2", "--out", str(out)]
    assert compare.main(["--variants", "gan,r1", "--seeds", "0", *common]) == 0
    assert compare.main(["--variants", "gan,r1", "--seeds", "1", *common]) == 0      # a second call: seed 1
    text = (out / "collapse.md").read_text()
    assert "| gan | `-` | 2 |" in text and "| r1 | `--r1 1` | 2 |" in text   # both calls' seeds, in one table
    assert set(compare.finished(out)) == {("ring", v, s) for v in ("gan", "r1") for s in (0, 1)}
