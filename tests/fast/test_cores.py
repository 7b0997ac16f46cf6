"""The idle core (minigan/fast/cores.py): the same numbers on any number of cores, and exact gradients.

The suite's other tests use small arrays, which ``on_cores`` runs in one
piece; here ``forced_split`` cuts every array, however small, into its
SLICES slices, shared out between 1 to 4 threads, so the split path is what runs.
"""
import contextlib
import multiprocessing
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from minigan.fast import cores
from minigan import nn
from minigan.models import dcgan28
from minigan.fast.im2col import im2col
from minigan.optim import Adam
from minigan.train import GANTrainer
from tests.gradcheck import batchnorm_margin, check_layer_gradients, kink_margin
from tests.strategies import seeds


@contextlib.contextmanager
def forced_split(n):
    """Within the block every array, however small, is cut into ``n`` slices (1: one piece)."""
    old = cores.MIN_ELEMENTS
    cores.MIN_ELEMENTS = 0
    cores.set_threads(n)
    try:
        yield n
    finally:
        cores.MIN_ELEMENTS = old
        cores.set_threads(1)


@pytest.fixture(params=[2, 3, 4], ids=["2 threads", "3 threads", "4 threads"])
def split(request):
    with forced_split(request.param) as n:
        yield n


@given(n=st.integers(0, 50), parts=st.integers(1, 6))
def test_row_slices_cover_every_row_once_in_order_and_evenly(n, parts):
    slices = cores.row_slices(n, parts)
    rows = [i for s in slices for i in range(n)[s]]
    assert rows == list(range(n))
    sizes = [s.stop - s.start for s in slices]
    assert len(slices) == max(1, min(parts, n)) and (n == 0 or min(sizes) >= 1) and max(sizes) - min(sizes) <= 1


def test_the_first_slice_runs_here_the_others_on_helper_threads_and_results_come_back_in_order(split):
    x = np.arange(12.0).reshape(6, 2)
    where = {}

    def record(x):
        where[float(x[0, 0])] = threading.get_ident()
        return x.copy()
    out = cores.on_cores(record, x)
    assert len(out) == cores.SLICES and np.array_equal(np.concatenate(out), x)   # in row order
    here = threading.get_ident()
    first_group = cores.row_slices(cores.SLICES, split)[0]                     # the slices this thread runs
    starts = [float(x[s][0, 0]) for s in cores.row_slices(len(x), cores.SLICES)]
    assert all(where[v] == here for v in starts[first_group])
    assert all(where[v] != here for v in starts[first_group.stop:])         # on the helper threads


def test_an_error_in_a_helper_thread_reaches_the_caller(split):
    def fail_on_last_rows(x):
        if x[0, 0] > 0:
            raise ValueError("row trouble")
    with pytest.raises(ValueError, match="row trouble"):
        cores.on_cores(fail_on_last_rows, np.arange(12.0).reshape(6, 2))


def test_small_arrays_gpu_arrays_and_nested_calls_run_in_one_piece(monkeypatch, fake_cupy):
    cores.set_threads(2)
    try:
        assert len(cores.on_cores(lambda x: x, np.zeros((4, 3)))) == 1     # below MIN_ELEMENTS
        monkeypatch.setattr(cores, "MIN_ELEMENTS", 0)
        assert len(cores.on_cores(lambda x: x, fake_cupy.zeros((4, 3)))) == 1   # a GPU kernel covers the device
        inner = cores.on_cores(lambda x: len(cores.on_cores(lambda y: y, x)), np.zeros((4, 3)))
        assert inner == [1, 1, 1, 1]                                       # no splitting inside a slice
    finally:
        cores.set_threads(1)


def test_set_threads_refuses_zero():
    with pytest.raises(ValueError, match="at least 1 thread"):
        cores.set_threads(0)


@given(sizes=st.lists(st.integers(1, 10**5), min_size=1, max_size=12))
def test_share_out_deals_every_job_once_into_balanced_groups(sizes):
    cores.set_threads(2)
    try:
        items = list(enumerate(sizes))
        groups = cores.share_out(items, size=lambda e: e[1])
        assert sorted(e for g in groups for e in g) == items
        if sum(sizes) >= cores.MIN_ELEMENTS and len(items) > 1:
            totals = sorted(sum(e[1] for e in g) for g in groups)
            assert len(groups) == 2 and totals[1] - totals[0] <= max(sizes)   # greedy, largest first
        else:
            assert groups == [items]
    finally:
        cores.set_threads(1)


# ---------------------------------------------------------------------------- the layers, split
@given(N=st.integers(1, 5), H=st.integers(2, 9), C=st.integers(1, 4), k=st.integers(1, 4),
       s=st.integers(1, 3), p=st.integers(0, 2), seed=seeds)
def test_im2col_split_copies_the_same_windows(N, H, C, k, s, p, seed):
    assume(H + 2 * p >= k)
    x = np.random.default_rng(seed).standard_normal((N, H, H, C))
    whole = im2col(x, (k, k), (s, s), (p, p))
    with forced_split(2):
        assert np.array_equal(im2col(x, (k, k), (s, s), (p, p)), whole)


@pytest.mark.parametrize("make", [nn.ReLU, lambda: nn.LeakyReLU(0.2), lambda: nn.LeakyReLU(3.0),
                                  lambda: nn.Conv2d(3, 4, 4, 2, 1, dtype="float64"),
                                  lambda: nn.ConvTranspose2d(3, 4, 4, 2, 1, dtype="float64"),
                                  lambda: nn.BatchNorm2d(3, dtype="float64")],
                         ids=["relu", "leaky 0.2", "leaky 3", "conv", "conv transpose", "batchnorm"])
def test_layers_give_the_same_results_split(make, split):
    rng = np.random.default_rng(0)
    layer = make()
    x = rng.standard_normal((5, 6, 6, 3)).transpose(0, 3, 1, 2)                # NHWC memory, as in the nets
    y, dx = [], []
    for n in (1, split):
        cores.set_threads(n)                                                # the fixture puts 1 back
        layer.zero_grad()
        y.append(layer.forward(x))
        dx.append(layer.backward(np.cos(y[-1])))
    for a, b in ((y[0], y[1]), (dx[0], dx[1])):
        assert np.array_equal(a, b)                                         # bit for bit, BatchNorm's sums too
        assert a.strides == b.strides                                       # the same memory order


@given(N=st.integers(2, 4), C=st.integers(1, 3), H=st.integers(1, 3), seed=seeds)
def test_batchnorm_gradients_are_exact_split(N, C, H, seed):
    rng = np.random.default_rng(seed)
    layer = nn.BatchNorm2d(C, dtype="float64")
    layer.params["weight"][...] = rng.uniform(0.5, 2.0, C)
    layer.params["bias"][...] = rng.standard_normal(C)
    x = 3.0 * rng.standard_normal((N, C, H, H)) + 1.5
    assume(batchnorm_margin(nn.Sequential(layer), x) > 1e-3)
    with forced_split(2):
        check_layer_gradients(layer, x, rng)


@settings(max_examples=10)          # each example is ~300 finite differences, each forward split 3 ways
@given(slope=st.sampled_from([None, 0.2]), seed=seeds)
def test_activation_and_convolution_gradients_are_exact_split(slope, seed):
    rng = np.random.default_rng(seed)
    act = nn.ReLU() if slope is None else nn.LeakyReLU(slope)
    net = nn.Sequential(nn.Conv2d(2, 3, 4, 2, 1, dtype="float64", rng=rng), act,
                        nn.ConvTranspose2d(3, 2, 4, 2, 1, dtype="float64", rng=rng))
    x = rng.standard_normal((3, 2, 4, 4))
    assume(kink_margin(net, x) > 1e-4)
    with forced_split(3):
        check_layer_gradients(net, x, rng)


def test_adam_updates_the_same_split():
    nets = [nn.Sequential(nn.Linear(300, 200, dtype="float64", rng=np.random.default_rng(1)),
                          nn.BatchNorm1d(200, dtype="float64")) for _ in range(2)]
    for net, n in zip(nets, (1, 2)):
        rng = np.random.default_rng(0)                                      # the same gradients for both
        with forced_split(n):
            opt = Adam(net, lr=1e-2, betas=(0.5, 0.999))
            for _ in range(3):
                net.zero_grad()
                for _, _, g in net.parameters():
                    g[...] = rng.standard_normal(g.shape)
                opt.step()
    for (name, p1, _), (_, p2, _) in zip(nets[0].parameters(), nets[1].parameters()):
        assert np.array_equal(p1, p2), name


def test_training_gives_the_same_numbers_on_1_2_or_4_cores():
    """End to end through ``GANTrainer.step``: the statistics, every parameter and buffer after two steps."""
    x = np.random.default_rng(0).uniform(-1, 1, (8, 1, 28, 28))
    runs = []
    for n in (1, 2, 4):
        with forced_split(n):
            G, D = dcgan28(dtype="float64")
            trainer = GANTrainer(G, D, seed=0)
            stats = [dict(trainer.step(x)) for _ in range(2)]
        arrays = [p.copy() for net in (G, D) for _, p, _ in net.parameters()]
        arrays += [b.copy() for net in (G, D) for _, b in net.named_buffers()]
        runs.append((stats, arrays))
    (stats1, arrays1), *others = runs
    assert len(arrays1) > 10
    for stats, arrays in others:
        assert stats == stats1                                              # bit for bit
        assert all(np.array_equal(a, b) for a, b in zip(arrays, arrays1))


def _split_in_child(queue):
    queue.put(cores.on_cores(lambda x: float(x.sum()), np.ones((6, 2))))


def test_a_forked_child_splits_work_too(split):
    cores.on_cores(lambda x: x, np.ones((6, 2)))                           # the parent's helper threads exist
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_split_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    expected = [2.0 * len(range(6)[s]) for s in cores.row_slices(6, cores.SLICES)]   # each slice's sum of ones
    assert child.exitcode == 0 and queue.get(timeout=5) == expected


# ---------------------------------------------------------------------------- the default
def threads_in_fresh_python(code, **env):
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"} | env
    out = subprocess.run([sys.executable, "-c", code + "; import os; from minigan.fast import cores; "
                          "print(cores.threads(), os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"],
                         capture_output=True, text=True, env=environ, timeout=60)
    assert out.returncode == 0, out.stderr
    threads, timeout = out.stdout.split()
    return int(threads), timeout


def default_threads():
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 4 if usable >= 4 else 2 if usable >= 2 else 1                   # divisors of SLICES


def test_importing_minigan_changes_no_environment_variable():
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    code = ("import os; before = dict(os.environ); import minigan, minigan.nn, minigan.train, minigan.job.cli; "
            "print(dict(os.environ) == before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr
    assert threads_in_fresh_python("import minigan") == (1, "None")        # nothing set: one core outside GEMMs


def test_a_job_shortens_openblas_spin_before_numpy_and_uses_the_cores():
    code = "from minigan.fast import blas; assert blas.shorten_spin(); import numpy"
    assert threads_in_fresh_python(code) == (default_threads(), "4")
    late = "import numpy; from minigan.fast import blas; assert not blas.shorten_spin()"   # too late: says so
    assert threads_in_fresh_python(late) == (1, "None")


def test_the_minigan_command_and_the_example_set_it_before_numpy_loads():
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    code = ("import sys, minigan.job.start as start; "
            "assert 'numpy' not in sys.modules, 'minigan.job.start imported NumPy before the setting'; "
            "start.main(['--version']) if False else None; "
            "from minigan.fast import blas; blas.shorten_spin(); import os; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "4", out.stderr
    example = open(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "train_mnist.py")).read()
    assert "from minigan.job.start import run_command" in example


def test_numpy_loaded_first_runs_in_one_thread_unless_the_spin_was_shortened():
    assert threads_in_fresh_python("import numpy") == (1, "None")
    assert threads_in_fresh_python("import numpy", OPENBLAS_THREAD_TIMEOUT="4") == (default_threads(), "4")


def test_the_job_says_how_many_cores_it_uses_and_why_only_one(monkeypatch):
    monkeypatch.setattr(cores, "_threads", 2)
    monkeypatch.setattr(cores, "_usable_cpus", lambda: 8)
    assert cores.describe() == "cores: 2 of 8 for the passes outside the matrix products (minigan/fast/cores.py)"
    monkeypatch.setattr(cores, "_threads", 1)                              # OpenBLAS spinning long
    monkeypatch.setattr(cores, "_usable_cpus", lambda: 2)
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    assert "OpenBLAS's threads spin after each product" in cores.describe()
    assert "set OPENBLAS_THREAD_TIMEOUT=4 before NumPy loads" in cores.describe()
    monkeypatch.setattr(cores, "_usable_cpus", lambda: 1)                  # one core: nothing to explain
    assert cores.describe() == "cores: 1 of 1 for the passes outside the matrix products (minigan/fast/cores.py)"
