"""A diverged run stops (exit 3) naming the step, and never leaves a checkpoint of the diverged model."""
import numpy as np
import pytest

from minigan.job.divergence import CLAMP, PINNED_STEPS, Diverged, DivergenceGuard
from minigan.models import dcgan28
from minigan.train import GANTrainer

from .test_faults import run_minigan
from .conftest import TINY


def test_a_huge_learning_rate_stops_the_run_with_no_checkpoint(idx_dir, tmp_path):
    """--lr 1e9 once "finished" with both losses at the clamp and inf in a checkpoint's running variance."""
    out = tmp_path / "run"
    proc = run_minigan("train", "--data-dir", idx_dir, *TINY, "--out", out, "--max-steps", 30, "--lr", "1e9",
                       "--checkpoint-every", 1)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 3, stderr
    assert "Traceback" not in stderr
    assert "error: step 1: " in stderr and "the run has diverged" in stderr and "lower --lr" in stderr
    assert not (out / "checkpoints").exists() and not (out / "latest").exists()


def pinned_after(monkeypatch, step):
    """From ``step`` on, the trainer reports Loss_G at the clamp, as a saturated D gives."""
    real_step = GANTrainer.step

    def step_fn(self, x_real, *args, **kwargs):
        stats = real_step(self, x_real, *args, **kwargs)
        if self.step_count >= step:
            stats["loss_g"] = CLAMP
        return stats
    monkeypatch.setattr(GANTrainer, "step", step_fn)


def test_a_loss_pinned_at_the_clamp_stops_the_run_before_a_checkpoint(train, tmp_path, monkeypatch):
    pinned_after(monkeypatch, 3)
    out = tmp_path / "run"
    rc, _, stderr = train(out, "--max-steps", 20, "--checkpoint-every", 2)
    assert rc == 3 and "Traceback" not in stderr
    assert "step 4: a loss is at 100, the loss's clamp" in stderr and "not saved" in stderr
    assert "step_000002.npz" in stderr                  # the last good checkpoint, named
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000002.npz"]


def test_a_loss_pinned_for_many_steps_stops_the_run(train, tmp_path, monkeypatch):
    pinned_after(monkeypatch, 1)
    rc, _, stderr = train(tmp_path / "run", "--max-steps", 40, "--checkpoint-every", 1000)
    assert rc == 3
    assert f"step {PINNED_STEPS}: Loss_G at 100, the loss's clamp, for {PINNED_STEPS} steps in a row" in stderr


def test_the_guard_counts_steps_in_a_row_and_forgives_one():
    G, D = dcgan28(nz=4, ngf=2, ndf=2, seed=0)
    trainer = GANTrainer(G, D)
    guard = DivergenceGuard(pinned_steps=3)
    ok, pinned = {"loss_d": 1.0, "loss_g": 1.0}, {"loss_d": 1.0, "loss_g": CLAMP}
    for step, stats in enumerate([pinned, pinned, ok, pinned, pinned], start=1):
        guard.check_step(step, stats, trainer)          # never three in a row
    with pytest.raises(Diverged, match="step 6: Loss_G at 100.*3 steps in a row"):
        guard.check_step(6, pinned, trainer)


def test_the_guard_finds_inf_anywhere_in_a_checkpoint_and_in_running_stats():
    G, D = dcgan28(nz=4, ngf=2, ndf=2, seed=0)
    trainer = GANTrainer(G, D)
    guard = DivergenceGuard()
    state = {"trainer": trainer.state_dict()}
    guard.check_state(5, state)                         # finite: fine
    state["trainer"]["opt_D"]["state"] = {"m": [np.array([1.0, np.inf])]}
    with pytest.raises(Diverged, match=r"step 5: checkpoint/trainer/opt_D/state/m/0 holds inf or NaN"):
        guard.check_state(5, state)
    D.layers[3].buffers["running_var"][0] = np.inf
    with pytest.raises(Diverged, match=r"step 7: D's layer 3 \(BatchNorm2d\) has inf or NaN in its running_var"):
        guard.check_step(7, {"loss_d": 1.0, "loss_g": 1.0}, trainer)


def test_the_clamp_rule_applies_only_to_the_games_that_have_the_clamp():
    """bce/minimax on a Sigmoid D clamp log p at -100; a raw-score critic's loss may pass 100."""
    pinned = {"loss_d": 150.0, "loss_g": -150.0}
    for loss in ("wgan", "hinge", "bce"):
        G, D = dcgan28(nz=4, ngf=2, ndf=2, seed=0, sigmoid=False)
        guard = DivergenceGuard(pinned_steps=2)
        for step in range(1, 5):
            guard.check_step(step, pinned, GANTrainer(G, D, loss=loss))   # never "pinned": no clamp
    G, D = dcgan28(nz=4, ngf=2, ndf=2, seed=0)
    guard = DivergenceGuard(pinned_steps=2)
    guard.check_step(1, pinned, GANTrainer(G, D, loss="minimax"))
    with pytest.raises(Diverged, match="Loss_D at 100"):
        guard.check_step(2, pinned, GANTrainer(G, D, loss="minimax"))
