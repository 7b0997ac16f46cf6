"""The benchmark script runs and prints its figures (it is never timed in a test: tiny configurations only)."""
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--no-torch", "--repeats", "1", "--warmup", "0", "--rounds", "1"]


def bench(*args, env=None):
    """Run benchmarks/bench_step.py with ``args``; the finished process."""
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_step.py"), *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)


def load(name):
    """Import a module of benchmarks/ (they import each other as scripts do, by their bare names)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_bench_step_times_the_plain_paths_when_asked():
    env = {k: v for k, v in os.environ.items() if k != "MINIGAN_PLAIN"}
    out = bench("--configs", "dcgan28:2", *TINY, "--plain", env=env)
    assert out.returncode == 0, out.stderr
    assert "paths=plain" in out.stdout.splitlines()[0]
    assert any(line.startswith("dcgan28:2") for line in out.stdout.splitlines())
    fast = bench("--configs", "dcgan28:2", *TINY, env=env)
    assert "paths=fast" in fast.stdout.splitlines()[0]


def test_bench_step_prints_every_figure_for_a_tiny_configuration():       # and the machine first
    out = bench("--configs", "dcgan28:2", *TINY, "--layers")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    machine = next(line for line in lines if line.startswith("machine: "))    # every output starts with its machine
    assert " CPUs; BLAS: " in machine
    if importlib.util.find_spec("threadpoolctl"):
        assert re.search(r"kernel \S+, \d+ threads", machine)
    settings = next(line for line in lines if line.startswith("BLAS settings: "))
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):                  # reported as they are, never changed
        assert f"{name}={os.environ.get(name, 'unset')}" in settings
    assert any(line.startswith("measured SGEMM") for line in lines)
    row = next(line for line in lines if line.startswith("dcgan28:2"))
    ms, images_per_s, gflops, pct, peak_mb = (float(v) for v in row.split()[1:6])
    assert ms > 0 and images_per_s > 0 and gflops > 0 and pct > 0 and peak_mb > 0
    assert any("G.3 ConvTranspose2d" in line for line in lines)       # the per-layer breakdown
    assert lines[-1].startswith("GEMM work per step: dcgan28:2")


def test_the_gemm_floor_prints_its_spread_and_every_shape_with_its_threads():
    out = bench("--configs", "dcgan28:2", *TINY, "--gemm-floor", "--floor-repeats", "3", "--threads", "2")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    lo, mid, hi = (float(v) for v in re.search(r"3 repeats .*: min (\S+) / median (\S+) / max (\S+) ms", text).groups())
    assert 0 < lo <= mid <= hi
    assert "BLAS in the floor's process: " in text
    shapes = [line for line in text.splitlines() if re.match(r"    \d+ x \d+ x \d+ +(nn|nt|tn) ", line)]
    floor = load("gemm_floor")
    assert len(shapes) == len(floor.step_gemms("dcgan28", 2))              # one line per distinct GEMM
    if importlib.util.find_spec("threadpoolctl"):
        assert all(re.search(r"\d\.\d\dx", line) for line in shapes)         # each with its speed-up 1 -> 2 threads
        assert "shapes that do not use their 2 threads" in text


def test_without_threadpoolctl_the_benchmark_says_what_it_cannot_check(tmp_path):
    (tmp_path / "threadpoolctl.py").write_text("raise ImportError('hidden by a test')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    out = bench("--configs", "dcgan28:1", *TINY, "--gemm-floor", "--floor-repeats", "1", env=env)
    assert out.returncode == 0, out.stderr
    assert "BLAS: unknown (threadpoolctl is not installed" in out.stdout
    assert "threads per shape: not checked (threadpoolctl is not installed" in out.stdout


def test_the_sweep_prints_a_markdown_table_one_row_per_batch():
    out = bench("--sweep", "1,2", "--arch", "dcgan28", *TINY)
    assert out.returncode == 0, out.stderr
    table = [line for line in out.stdout.splitlines() if line.startswith("|")]
    assert table[0].startswith("| configuration | minigan ms/step | images/s |") and "peak RSS MB" in table[0]
    assert set(table[1]) <= set("|-:")
    assert [row.split(" | ")[0] for row in table[2:]] == ["| dcgan28, batch 1", "| dcgan28, batch 2"]
    for row in table[2:]:
        cells = row.strip("| ").split(" | ")
        assert len(cells) == len(table[0].strip("| ").split(" | "))
        assert all(float(c.replace(",", "")) > 0 for c in cells[1:])


def test_the_sweep_against_pytorch_has_both_frameworks_and_their_ratios():
    pytest.importorskip("torch")
    out = bench("--sweep", "2", "--arch", "dcgan28", *TINY[1:])
    assert out.returncode == 0, out.stderr
    header, _, row = [line for line in out.stdout.splitlines() if line.startswith("|")]
    titles = header.strip("| ").split(" | ")
    assert titles[-5:] == ["PyTorch ms/step", "PyTorch images/s", "PyTorch peak RSS MB",
                           "minigan / PyTorch time", "minigan / PyTorch memory"]
    cells = dict(zip(titles, row.strip("| ").split(" | ")))
    ms, torch_ms = float(cells["minigan ms/step"].replace(",", "")), float(cells["PyTorch ms/step"].replace(",", ""))
    assert float(cells["minigan / PyTorch time"]) == pytest.approx(ms / torch_ms, rel=0.2)   # rounded figures


@pytest.mark.parametrize("args, message", [
    (["--configs", "dcgan99:2"], "bad configuration 'dcgan99:2'"),
    (["--configs", "dcgan28:x"], "bad configuration 'dcgan28:x'"),
    (["--sweep", "16", "--configs", "dcgan28:2"], "give one of them"),
])
def test_bad_configurations_are_one_line_and_exit_2(args, message):
    out = bench(*args, *TINY)
    assert out.returncode == 2 and message in out.stderr
    assert "Traceback" not in out.stderr


def test_a_failing_child_is_recorded_and_the_exit_status_says_so():
    out = bench("--configs", "dcgan28:1", *TINY, "--child-timeout", "0.001")
    assert out.returncode == 1
    assert "dcgan28:1       failed (see below)" in out.stdout
    assert "FAILED: minigan dcgan28:1 timed out after 0.001 s" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


# ---------------------------------------------------------------------------- the helpers, without timing
@pytest.mark.parametrize("arch, batch", [("dcgan28", 3), ("dcgan28", 64), ("dcgan64", 2), ("mlp2d", 100)])
def test_the_floors_gemms_are_the_steps_gemm_work(arch, batch):
    floor = load("gemm_floor")
    gemms = floor.step_gemms(arch, batch)
    work = sum(count * 2 * np.prod(floor.gemm_dims(key)) for key, (count, _) in gemms.items())
    assert work == floor.step_gemm_flops(arch, batch)


@pytest.mark.parametrize("kind", ["nn", "nt", "tn"])
def test_gemm_dims_name_the_output_and_the_shared_axis(kind):
    floor = load("gemm_floor")
    a_shape, b_shape = {"nn": ((5, 3), (3, 4)), "nt": ((5, 3), (4, 3)), "tn": ((3, 5), (3, 4))}[kind]
    m, n, k = floor.gemm_dims((a_shape, b_shape, kind))
    assert floor.PRODUCTS[kind](np.ones(a_shape), np.ones(b_shape)).shape == (m, n)
    assert np.all(floor.PRODUCTS[kind](np.ones(a_shape), np.ones(b_shape)) == k)


def synthetic_floor(scaling):
    """A floor child's result with two shapes: a big one (1 -> 2 threads: ``scaling``) and a tiny one."""
    return {"totals_ms": [10.0, 12.0, 11.0], "blas": [
        {"internal_api": "openblas", "version": "0.3.31", "architecture": "Haswell", "num_threads": 1,
         "threading_layer": "pthreads", "filepath": "/x/libopenblas.so", "user_api": "blas"}],
        "shapes": [{"dims": (512, 256, 1024), "kind": "nt", "count": 3, "who": ["D.2 Conv2d forward"] * 2,
                    "ms": [3.0, 3.5, 3.2], "scaling": scaling and (6.0, 5.9)},
                   {"dims": (2, 1, 16), "kind": "nn", "count": 1, "who": ["D.5 Conv2d input grad"],
                    "ms": [0.001] * 3, "scaling": scaling and (0.001, 0.001)}]}


def test_the_floor_report_names_a_shape_that_does_not_scale_and_a_blas_on_too_few_threads():
    lines = load("gemm_floor").report_lines(synthetic_floor(True), step_ms=20.0, torch_ms=None, sgemm=100.0, threads=2)
    text = "\n".join(lines)
    assert "min 10 / median 11 / max 12 ms = 50-60% of minigan's step" in text
    assert "kernel Haswell, 1 threads" in text and "WARNING: openblas runs 1 threads, 2 configured" in text
    big = next(line for line in lines if line.startswith("    512 x 256 x 1024"))
    assert "1.02x <- does not scale" in big and big.endswith("D.2 Conv2d forward")      # one name per layer
    tiny = next(line for line in lines if line.startswith("    2 x 1 x 16"))
    assert "does not scale" not in tiny                                   # too small to matter, rightly 1 thread
    assert lines[-2] == "    512 x 256 x 1024 (D.2 Conv2d forward): 1.02x"


def test_the_floor_report_without_threadpoolctl_says_threads_were_not_checked():
    floor = synthetic_floor(None)
    floor["blas"] = None
    text = "\n".join(load("gemm_floor").report_lines(floor, step_ms=None, torch_ms=None, sgemm=None, threads=2))
    assert "BLAS in the floor's process: unknown (threadpoolctl is not installed" in text
    assert "threads per shape: not checked" in text and "does not scale" not in text


def test_blas_warnings_name_thread_counts_and_a_second_blas(monkeypatch):
    info = load("machine_info")
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    lib = {"internal_api": "openblas", "num_threads": 2, "filepath": "/a/libopenblas.so"}
    assert info.blas_warnings([lib], 2) == []
    assert info.blas_warnings(None, 2) == []
    warnings = info.blas_warnings([lib, dict(lib, internal_api="mkl", num_threads=1, filepath="/b/libmkl.so")], 2)
    assert warnings == ["mkl runs 1 threads, 2 configured (libmkl.so)",
                        "2 BLAS libraries loaded in one process: libopenblas.so, libmkl.so"]
    assert info.cpu_model()


@pytest.mark.parametrize("arch, layer", [("dcgan28", "G.3 ConvTranspose2d"), ("mlp2d", "D.2 Maxout")])
def test_bench_step_gpu_child_runs_on_the_cupy_stand_in(fake_cupy, capsys, arch, layer):
    # The first run on a GPU machine goes through the CuPy branch of the child (device arrays,
    # synchronize, the memory pool); here it runs on tests/fakecupy.py, in this process.
    import argparse
    import json

    bench_step = load("bench_step")
    args = argparse.Namespace(framework="minigan", arch=arch, batch=2, backend="cupy", layers=True,
                              warmup=1, repeats=1, threads=1)
    bench_step.child(args)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(result["times"]) == 1 and result["times"][0] > 0
    assert result["gpu_peak_mb"] is not None
    assert f"{layer}|backward" in result["layers"]


# ---------------------------------------------------------------------------- mlp2d: the 2D job's step
def test_mlp2d_is_a_configuration_and_in_the_cpu_set():
    import argparse

    bench_step = load("bench_step")
    assert "mlp2d:100" in bench_step.CONFIGS["cpu"].split(",")
    args = argparse.Namespace(sweep=None, configs="mlp2d:100,dcgan28:2", backend="numpy", arch=None)
    assert bench_step.parse_configs(argparse.ArgumentParser(), args) == [("mlp2d", 100), ("dcgan28", 2)]
    x = bench_step.real_batch("mlp2d", 10)
    assert x.shape == (10, 2, 1, 1) and x.dtype == np.float32
    assert np.allclose(np.hypot(x[:, 0, 0, 0], x[:, 1, 0, 0]), 1, atol=0.1)   # on the ring


def test_mlp2d_minigan_child_runs_the_2d_jobs_step():
    bench_step = load("bench_step")
    step, timings = bench_step.minigan_step_fn("mlp2d", 4, "numpy", layers=True)
    step()
    assert timings[("D.2 Maxout", "backward")] > 0 and timings[("G.2 BatchNorm1d", "forward")] > 0


def test_mlp2d_torch_child_runs_one_step(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))            # as when the script runs: torch_nets
    step = load("bench_step").torch_step_fn("mlp2d", 4, "numpy")
    step()
    step()


def test_torch_nets_mlp2d_computes_what_minigans_nets_compute():
    # The same nets: minigan's weights copied into torch_nets' give the same G(z) and D(x) (G in
    # training mode: batch statistics), so the two frameworks time the same computation.
    torch = pytest.importorskip("torch")
    from minigan.models import mlp_points

    G, D = mlp_points()
    tG, tD = load("torch_nets").mlp_points()
    for net, tnet in ((G, tG), (D, tD)):
        ours = [m for _, m in net.leaves() if m.params]
        theirs = [m for m in tnet.modules() if isinstance(m, (torch.nn.Linear, torch.nn.BatchNorm1d))]
        assert [tuple(m.params["weight"].shape) for m in ours] == [tuple(m.weight.shape) for m in theirs]
        with torch.no_grad():
            for m, t in zip(ours, theirs):
                t.weight.copy_(torch.from_numpy(m.params["weight"])), t.bias.copy_(torch.from_numpy(m.params["bias"]))
    rng = np.random.default_rng(1)
    z = rng.standard_normal((16, 2, 1, 1)).astype(np.float32)
    x = load("bench_step").real_batch("mlp2d", 16)
    with torch.no_grad():
        assert np.allclose(tG(torch.from_numpy(z)).numpy(), G(z), atol=1e-5)
        assert np.allclose(tD(torch.from_numpy(x)).numpy(), D(x), atol=1e-6)


def test_price_parts_prices_every_part_and_puts_everything_back():
    price = load("price_parts")
    import minigan.fast.batchnorm as batchnorm
    import minigan.fast.conv2d as conv2d
    import minigan.nn.activations as activations
    from minigan.optim import Adam

    before = (np.pad, conv2d.im2col, batchnorm.rows_forward, activations.ReLU.__dict__["forward"],
              Adam.__dict__["step"])
    times = price.price_parts("dcgan28", 2, rounds=2, repeats=1, warmup=0)
    assert set(times) == {"none", *price.PARTS} and all(len(ts) == 2 for ts in times.values())
    assert all(t > 0 for ts in times.values() for t in ts)
    assert (np.pad, conv2d.im2col, batchnorm.rows_forward, activations.ReLU.__dict__["forward"],
            Adam.__dict__["step"]) == before
    table = price.report(times).splitlines()
    assert table[2].startswith("| nothing (the whole step) |") and len(table) == 3 + len(price.PARTS)


def test_a_part_made_free_computes_only_its_first_call_per_shape():
    price = load("price_parts")
    import minigan.fast.batchnorm as batchnorm

    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    gamma, beta = np.ones(3), np.zeros(3)
    with price.made_free("batchnorm"):
        y1 = batchnorm.rows_forward(x1, gamma, beta, 1e-5)[0]
        y2 = batchnorm.rows_forward(x2, gamma, beta, 1e-5)[0]
        assert y2 is y1                                            # the first result again: x2 never normalized
    y2 = batchnorm.rows_forward(x2, gamma, beta, 1e-5)[0]
    assert not np.allclose(y2, y1)                                 # the real one is back
    with pytest.raises(ValueError, match="unknown part 'bn'"):
        with price.made_free("bn"):
            pass


def test_price_parts_refuses_an_unknown_part_in_one_line():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "price_parts.py"), "--parts", "im2col,bn"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 2 and out.stderr.strip() == (
        "price_parts.py: unknown part(s) bn; choose from im2col, pad, batchnorm, activations, adam")
