"""--lr-decay linear: both learning rates constant for half the run, then down to near 0; exact on resume."""
import os
import signal

import pytest

from minigan.job import run_loop
from minigan.job.checkpoint import load_checkpoint
from minigan.job.lr_schedule import lr_factor, set_learning_rates
from tests.job.cli.test_resume import assert_trees_equal


def test_the_factor_is_one_for_the_first_half_then_falls_in_a_straight_line():
    factors = [lr_factor("linear", t, 10) for t in range(1, 11)]
    assert factors == pytest.approx([1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4, 0.2])
    odd = [lr_factor("linear", t, 5) for t in range(1, 6)]           # H = 3 decaying steps of 5
    assert odd == pytest.approx([1, 1, 1, 2 / 3, 1 / 3])
    assert all(lr_factor("none", t, 10) == 1.0 for t in range(1, 11))
    with pytest.raises(ValueError, match="unknown --lr-decay 'cosine'"):
        lr_factor("cosine", 1, 10)


def test_a_decayed_run_ends_at_the_last_factor_and_resumes_bit_for_bit(train, tmp_path, monkeypatch):
    flags = ("--dataset", "ring", "--lr", "1e-3", "--lr-d", "2e-3", "--lr-decay", "linear",
             "--checkpoint-every", 2)
    straight, split, constant = tmp_path / "straight", tmp_path / "split", tmp_path / "constant"
    rc, stdout, _ = train(straight, *flags, "--max-steps", 8)
    assert rc == 0 and "learning rates: constant to step 4, then linearly down to 1/4 of --lr at step 8" in stdout
    end = load_checkpoint(straight)["trainer"]
    assert end["opt_G"]["lr"] == pytest.approx(1e-3 / 4) and end["opt_D"]["lr"] == pytest.approx(2e-3 / 4)
    def ctrl_c_in_step_5(trainer, cfg, step, last_step):
        if step == 5:
            os.kill(os.getpid(), signal.SIGINT)             # Ctrl-C: step 5 finishes, is saved, the run stops
        set_learning_rates(trainer, cfg, step, last_step)
    with monkeypatch.context() as m:
        m.setattr(run_loop, "set_learning_rates", ctrl_c_in_step_5)
        assert train(split, *flags, "--max-steps", 8)[0] == 130
    assert load_checkpoint(split)["step"] == 5
    assert train(split, *flags, "--max-steps", 8, "--resume")[0] == 0
    assert_trees_equal(end, load_checkpoint(split)["trainer"])
    assert train(constant, "--dataset", "ring", "--lr", "1e-3", "--lr-d", "2e-3", "--max-steps", 8)[0] == 0
    assert load_checkpoint(constant)["trainer"]["opt_G"]["lr"] == pytest.approx(1e-3)
    assert (straight / "metrics.csv").read_text() != (constant / "metrics.csv").read_text()   # it did change
