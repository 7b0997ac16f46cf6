"""The user's own command on a GPU, end to end: train, stop, resume, generate, on data made here.

A GPU machine reaches no network, so this builds its own MNIST-like data
(digits 0-9 drawn with Pillow's built-in font, jittered, as the four IDX files
``--data-dir`` reads), then runs what a user runs::

    python examples/train_mnist.py --backend cupy --data-dir D --out O --max-steps A
    python examples/train_mnist.py --backend cupy --data-dir D --out O --resume --max-steps B
    python -m minigan generate --checkpoint O --backend cupy --out O/generated.png

and checks what each leaves: the step lines, samples.png and the sample grids,
the checkpoints and ``latest`` at the right steps, metrics.csv with one row per
step, a resumed run that continued from the step it stopped at, and the
generated picture. Every check prints one line; the exit status is 0 only if
all pass. ``benchmarks/gpu_check.py`` runs it as one part of the GPU check;
``--fake-cupy`` there runs it on the CuPy stand-in with a tiny model.

    python benchmarks/gpu_user_run.py --workdir /tmp/run            # 200 + 100 steps, dcgan28
    python benchmarks/gpu_user_run.py --steps 10,15 --tiny           # the stand-in's quick version
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                       # minigan from the checkout, as gpu_check.sh runs it
from minigan.job.data import write_idx  # noqa: E402

TINY = ["--ngf", "8", "--ndf", "8", "--nz", "16", "--batch-size", "16"]


def digits(n, seed=0):
    """``n`` 28x28 uint8 pictures of the digits 0-9 (white on black), each jittered, and their labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    pictures = np.zeros((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        small = Image.new("L", (8, 12))
        ImageDraw.Draw(small).text((1, 0), str(label), fill=255)             # Pillow's built-in bitmap font
        size = int(rng.integers(14, 22))
        big = small.resize((size * 2 // 3, size), Image.BILINEAR)
        canvas = Image.new("L", (28, 28))
        canvas.paste(big, (int(rng.integers(2, 28 - big.width - 1)), int(rng.integers(2, 28 - size - 1))))
        pictures[i] = np.asarray(canvas)
    return pictures, labels.astype(np.uint8)


def make_data(folder: Path, n_train=2048, n_test=512) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        x, y = digits(n, seed)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", x)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", y)


def run(cmd, log):
    print("+", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=400)
    log.append(out.stdout + out.stderr)
    print(out.stdout[-1500:] + out.stderr[-1500:], flush=True)
    return out


def check(results, what, ok):
    results.append(bool(ok))
    print(f"{'PASS' if ok else 'FAIL'}: {what}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workdir", type=Path, default=None, help="where data and run go (default: a temp folder)")
    p.add_argument("--steps", default="200,300", help="steps of the first run, then of the resumed one")
    p.add_argument("--tiny", action="store_true", help="a tiny model (for the CuPy stand-in)")
    p.add_argument("--backend", default="cupy")
    args = p.parse_args()
    first, total = (int(s) for s in args.steps.split(","))
    with tempfile.TemporaryDirectory(prefix="minigan_gpu_run_") as tmp:
        work = args.workdir or Path(tmp)
        data, out = work / "data", work / "run"
        make_data(data)
        py, results, log = sys.executable, [], []
        flags = ["--backend", args.backend, "--data-dir", str(data), "--out", str(out),
                 "--sample-every", str(max(1, first // 2)), "--log-every", str(max(1, first // 4))]
        flags += TINY if args.tiny else []
        a = run([py, "examples/train_mnist.py", *flags, "--max-steps", str(first)], log)
        check(results, f"training {first} steps exits 0", a.returncode == 0)
        check(results, "its step lines show Loss_D and Loss_G", "Loss_D" in a.stdout and "Loss_G" in a.stdout)
        check(results, f"latest points at step {first}", (out / "latest").is_file()
              and f"step_{first:06d}" in (out / "latest").read_text())
        check(results, "samples.png and the sample grids are written", (out / "samples.png").is_file()
              and len(list((out / "samples").glob("step_*.png"))) >= 2)
        b = run([py, "examples/train_mnist.py", *flags, "--resume", "--max-steps", str(total)], log)
        check(results, f"the resumed run to step {total} exits 0", b.returncode == 0)
        check(results, f"it continued from step {first}", f"step {first}" in b.stdout or f"{first:,}" in b.stdout)
        rows = list(csv.DictReader(open(out / "metrics.csv"))) if (out / "metrics.csv").is_file() else []
        steps = [int(r["step"]) for r in rows]
        check(results, f"metrics.csv has steps 1..{total}, once each", steps == list(range(1, total + 1)))
        check(results, "every logged loss is finite", rows and all(np.isfinite(float(r["loss_d"])) and
                                                                   np.isfinite(float(r["loss_g"])) for r in rows))
        picture = out / "generated.png"
        g = run([py, "-m", "minigan", "generate", "--checkpoint", str(out), "--backend", args.backend,
                 "--n", "16", "--out", str(picture)], log)
        check(results, "generate exits 0 and writes a picture", g.returncode == 0 and picture.is_file()
              and Image.open(picture).size[0] > 28)
        print(f"{sum(results)} passed, {len(results) - sum(results)} failed", flush=True)
        return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
