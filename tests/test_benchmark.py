"""The benchmark script runs and prints its figures (it is never timed in a test)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_step_prints_every_figure_for_a_tiny_configuration():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_step.py"), "--configs", "dcgan28:2", "--no-torch",
         "--repeats", "1", "--warmup", "0", "--rounds", "1", "--layers", "--gemm-floor"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    row = next(line for line in lines if line.startswith("dcgan28:2"))
    ms, images_per_s, gflops, pct, peak_mb = (float(v) for v in row.split()[1:6])
    assert ms > 0 and images_per_s > 0 and gflops > 0 and pct > 0 and peak_mb > 0
    assert any("GEMMs alone" in line for line in lines)
    assert any("G.3 ConvTranspose2d" in line for line in lines)       # the per-layer breakdown
    assert lines[-1].startswith("GEMM work per step: dcgan28:2")


def test_bench_step_gpu_child_runs_on_the_cupy_stand_in(fake_cupy, capsys):
    # The first run on a GPU machine goes through the CuPy branch of the child (device arrays,
    # synchronize, the memory pool); here it runs on tests/fakecupy.py, in this process.
    import argparse
    import json

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_step
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    args = argparse.Namespace(framework="minigan", arch="dcgan28", batch=2, backend="cupy", layers=True,
                              warmup=1, repeats=1, threads=1)
    bench_step.child(args)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(result["times"]) == 1 and result["times"][0] > 0
    assert result["gpu_peak_mb"] is not None
    assert "G.3 ConvTranspose2d|backward" in result["layers"]
