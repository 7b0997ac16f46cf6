"""Fixtures for the evaluation and report tests: a labelled tiny dataset, a tiny judge, one finished run.

The judge is a tiny *untrained* classifier (random weights, eval mode) put
where minigan looks for the cached MNIST classifier (``$MINIGAN_DATA/
classifiers``). Its numbers mean nothing, but every step of the pipeline --
loading it, the real test set's statistics, judging samples, logging,
plotting, reporting -- runs for real, in milliseconds, and the full
classifier is never trained.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from minigan.job.cli import main
from minigan.job.data import write_idx
from minigan.job.metrics import Classifier, classifier_path, save_classifier

from ..cli.conftest import TINY, squares

N_TRAIN, N_TEST = 160, 100                 # 10 steps per epoch at batch 16
#: The finished run's flags: evaluations at 5, 10 and the end (12); grad flow and samples at 4, 8, 12.
RUN_FLAGS = ("--max-steps", 12, "--eval-every", 5, "--eval-samples", 64, "--grad-flow-every", 4,
             "--sample-every", 4, "--ema")


@pytest.fixture(scope="session")
def labelled_dir(tmp_path_factory):
    """MNIST-style IDX files of squares: the training split and the test split the judge compares with."""
    folder = tmp_path_factory.mktemp("idx-labelled")
    rng = np.random.default_rng(0)
    for split, n, seed in (("train", N_TRAIN, 0), ("t10k", N_TEST, 1)):
        write_idx(folder / f"{split}-images-idx3-ubyte", squares(n, seed=seed))
        write_idx(folder / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
    return folder


@pytest.fixture(scope="session")
def judge_cache(tmp_path_factory):
    """A ``$MINIGAN_DATA`` folder whose classifiers/ holds a tiny MNIST judge."""
    root = tmp_path_factory.mktemp("minigan-data")
    clf = Classifier(widths=(4, 4, 8), hidden=16, seed=0).eval()
    save_classifier(clf, classifier_path("mnist", root / "classifiers"), dataset="mnist", test_accuracy=0.1)
    return root


@pytest.fixture
def judged(judge_cache, monkeypatch):
    """Point minigan at the tiny judge for this test."""
    monkeypatch.setenv("MINIGAN_DATA", str(judge_cache))
    return judge_cache


def run_main(*argv):
    """``minigan ARGV`` in-process; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture
def train(labelled_dir, judged):
    """``train(out, *flags)``: a tiny ``minigan train`` on the labelled squares, judged by the tiny judge."""
    def run(out, *flags):
        return run_main("train", "--data-dir", labelled_dir, *TINY, "--out", out, *flags)
    return run


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory, labelled_dir, judge_cache):
    """One tiny run with evaluation, grad flow and EMA, shared by the tests that only read its outputs.

    Returns ``(out, stdout)``.
    """
    out = tmp_path_factory.mktemp("runs") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINIGAN_DATA", str(judge_cache))
        rc, stdout, stderr = run_main("train", "--data-dir", labelled_dir, *TINY, "--out", out, *RUN_FLAGS)
    assert rc == 0, stderr
    return out, stdout
