"""Flags mean what they say: a flag the game ignores is refused, --lr beats a recipe's rates, the
game is locked on resume, --n-critic is bounded, and a failed start leaves nothing behind."""
from __future__ import annotations

import json
import os
import signal

import pytest

from minigan.job.cli import main
from minigan.job.config import TrainConfig, config_for_resume, recipe_line
from minigan.job.settings_checks import MAX_N_CRITIC
from tests.job.cli.conftest import TINY


def refused(idx_dir, tmp_path, capsys, *flags):
    """Run ``minigan train`` expecting a usage refusal; returns its last line."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["train", "--data-dir", str(idx_dir), *TINY, "--out", str(tmp_path / "run"), *map(str, flags)])
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "config (" not in out          # refused before the config dump
    assert not (tmp_path / "run").exists()                           # ... and before the lock and folder
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize("flags, message", [
    (("--clip", "0.05"), "--clip applies to --loss wgan only, and this run plays bce"),
    (("--loss", "hinge", "--clip", "0.05"), "--clip applies to --loss wgan only, and this run plays hinge"),
    (("--recipe", "wgan", "--loss", "hinge", "--clip", "0.1"), "--clip applies to --loss wgan only"),
    (("--gp-weight", "5"), "--gp-weight applies to --loss wgan-gp only, and this run plays bce"),
    (("--recipe", "wgan", "--gp-weight", "5"), "--gp-weight applies to --loss wgan-gp only, and this run plays wgan"),
    (("--n-critic", MAX_N_CRITIC + 1), f"--n-critic {MAX_N_CRITIC + 1} is more than {MAX_N_CRITIC}"),
    (("--n-critic", 1_000_000_000), "is more than"),
])
def test_a_flag_the_game_ignores_is_refused(idx_dir, tmp_path, capsys, flags, message):
    assert message in refused(idx_dir, tmp_path, capsys, *flags)


def test_flags_of_the_game_played_are_accepted():
    cfg = TrainConfig(loss="wgan", clip=0.05, n_critic=MAX_N_CRITIC).resolved()
    assert (cfg.clip, cfg.gp_weight) == (0.05, None)
    cfg = TrainConfig(recipe="wgan-gp", gp_weight=5.0).resolved()
    assert (cfg.clip, cfg.gp_weight) == (None, 5.0)
    assert TrainConfig(recipe="wgan-gp").resolved().resolved() == TrainConfig(recipe="wgan-gp").resolved()


def test_an_explicit_lr_overrides_a_recipes_lr_g_and_lr_d_and_the_line_says_so(train, tmp_path):
    cfg = TrainConfig(recipe="dcgan-ttur", lr=1e-3).resolved()
    assert (cfg.lr, cfg.lr_g, cfg.lr_d) == (1e-3, None, None)
    assert "overridden by flags: --lr 0.001, --lr-g 0.001, --lr-d 0.001" in recipe_line(cfg)
    own = TrainConfig(recipe="dcgan-ttur", lr=1e-3, lr_d=5e-4).resolved()       # --lr-d given too: it wins for D
    assert (own.lr_g, own.lr_d) == (None, 5e-4) and "--lr-g 0.001, --lr-d 0.0005" in recipe_line(own)
    plain = TrainConfig(recipe="dcgan-ttur").resolved()
    assert (plain.lr_g, plain.lr_d) == (1e-4, 4e-4) and "overridden" not in recipe_line(plain)

    out = tmp_path / "ttur"
    rc, stdout, err = train(out, "--recipe", "dcgan-ttur", "--lr", "1e-3", "--max-steps", 1)
    assert rc == 0, err
    assert "--lr-g 0.001, --lr-d 0.001" in stdout
    rc, stdout, err = train(out, "--resume", "--max-steps", 2, "--lr", "3e-4")    # a resume's --lr: both rates
    assert rc == 0, err
    assert "--lr-g 0.0003, --lr-d 0.0003" in stdout


def test_a_resume_runs_the_rates_the_config_names(train, tmp_path):
    out = tmp_path / "ttur"
    assert train(out, "--recipe", "dcgan-ttur", "--max-steps", 1)[0] == 0
    saved = json.loads((out / "config.json").read_text())
    cfg = config_for_resume(saved, {"lr": 1e-3}).resolved()
    assert (cfg.lr, cfg.lr_g, cfg.lr_d) == (1e-3, None, None)
    assert config_for_resume(saved, {}).resolved().lr_d == 4e-4


@pytest.mark.parametrize("flags, locked", [(("--recipe", "wgan"), "recipe"), (("--loss", "hinge"), "loss"),
                                           (("--recipe", "dcgan"), "recipe")])
def test_resume_with_another_recipe_or_loss_is_refused(train, tmp_path, capsys, flags, locked):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 1)[0] == 0
    before = (out / "config.json").read_bytes()
    with pytest.raises(SystemExit) as e:
        train(out, "--resume", "--max-steps", 2, *flags)
    assert e.value.code == 2
    assert (out / "config.json").read_bytes() == before
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"cannot resume with different {locked}: the checkpoint was trained with " in err
    assert "None" not in err and ("no --recipe" in err) == (locked == "recipe")


def test_an_old_bce_config_with_a_clip_still_resumes():
    old = {**{k: v for k, v in vars(TrainConfig(ngf=4)).items()}, "loss": "bce", "clip": 0.01, "gp_weight": 10.0}
    cfg = config_for_resume(old, {}).resolved()
    assert (cfg.loss, cfg.clip, cfg.gp_weight) == ("bce", None, None)
    with pytest.raises(ValueError, match="--clip applies to --loss wgan only"):
        config_for_resume(old, {"clip": 0.02}).resolved()


def test_a_start_failing_after_the_lock_leaves_no_lock_and_no_folder(train, tmp_path):
    out = tmp_path / "run"
    rc, stdout, err = train(out, "--batch-size", 1000)                  # larger than the data: found after loading
    assert rc == 2 and "larger than the dataset" in err
    assert "saved to" not in stdout
    assert not out.exists()
    out.mkdir()                                                          # a folder of the user's: kept, no lock left
    rc, _, _ = train(out, "--batch-size", 1000)
    assert rc == 2 and out.is_dir() and list(out.iterdir()) == []


@pytest.mark.parametrize("flags", [("--conditional", "concat", "--recipe", "wgan-gp"),
                                   ("--conditional", "projection", "--loss", "hinge", "--r1", "1"),
                                   ("--conditional", "projection", "--recipe", "wgan-gp")])
def test_a_conditional_run_trains_with_the_gradient_penalties(train, tmp_path, flags):
    rc, stdout, err = train(tmp_path / "run", *flags, "--max-steps", 2, "--sample-every", 2)
    assert rc == 0, err
    assert "Traceback" not in err and (tmp_path / "run" / "checkpoints" / "step_000002.npz").is_file()


def test_a_signal_between_d_updates_stops_the_step_and_the_resume_finishes_it_exactly(train, tmp_path, monkeypatch):
    """--n-critic 3 (3 steps of 3 x 16 an epoch, a real batch per D update): SIGTERM during step 5's second
    D update stops before its third; the checkpoint holds the step part-way, and the resumed run goes on
    with that step's third batch: bitwise the run that was never stopped."""
    from minigan.job.checkpoint import load_checkpoint
    from minigan.train import GANTrainer
    from tests.job.cli.test_resume import assert_trees_equal
    flags = ("--loss", "wgan", "--n-critic", 3, "--checkpoint-every", 1000, "--sample-every", 1000)
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train(straight, *flags, "--max-steps", 6)[0] == 0

    real_noise, calls = GANTrainer._noise, []

    def noise(self, n, rng=None):
        if rng is None:
            calls.append(1)
            if len(calls) == 14:                            # step 5 (3 draws a step), its 2nd D update
                os.kill(os.getpid(), signal.SIGTERM)
        return real_noise(self, n, rng)
    monkeypatch.setattr(GANTrainer, "_noise", noise)
    rc, stdout, err = train(split, *flags, "--max-steps", 6)
    monkeypatch.undo()
    assert rc == 143 and "Interrupted (SIGTERM) at step 4" in err, err
    assert "note: step 5 stopped after 2 of 3 D updates" in stdout
    state = load_checkpoint(split)
    assert (state["step"], state["epoch"], state["batch"], state["trainer"]["critic_done"]) == (4, 1, 1, 2)
    rc, _, err = train(split, "--resume", "--max-steps", 6)
    assert rc == 0, err
    a, b = load_checkpoint(straight), load_checkpoint(split)
    assert a["step"] == b["step"] == 6 and b["trainer"]["critic_done"] == 0
    assert_trees_equal(a["trainer"], b["trainer"])
    assert (straight / "metrics.csv").read_text() == (split / "metrics.csv").read_text()
