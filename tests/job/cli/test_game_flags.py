"""The game's flags: --loss, --recipe, --r1, --spectral-norm, --augment ... reach the trainer; bad
combinations are one-line errors; a few real steps of each recipe's run on the tiny dataset."""
from __future__ import annotations

import argparse
import json
import re

import numpy as np
import pytest

from minigan import nn
from minigan.job.cli import add_train_arguments, main
from minigan.job.config import LOCKED_ON_RESUME, TrainConfig, build_models, config_for_resume
from minigan.gan_losses import WGANGP
from minigan.recipes import RECIPES
from minigan.train import GANTrainer


def parsed(*flags) -> TrainConfig:
    """The config the real parser makes of ``flags``, resolved as the job resolves it."""
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    args = parser.parse_args(list(flags))
    return TrainConfig(**{k: v for k, v in vars(args).items() if k not in ("resume", "discard_newer")}).resolved()


def trainer_for(cfg: TrainConfig) -> GANTrainer:
    """The trainer minigan/job/run.py builds for ``cfg`` (the same call)."""
    G, D = build_models(cfg)
    return GANTrainer(G, D, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), seed=cfg.seed, noise=cfg.noise,
                      label_smoothing=cfg.label_smoothing, n_critic=cfg.n_critic, ema=cfg.ema, loss=cfg.loss,
                      clip=cfg.clip, gp_weight=cfg.gp_weight, r1=cfg.r1, lr_g=cfg.lr_g, lr_d=cfg.lr_d,
                      augment=cfg.augment)


TINY = ("--ngf", "2", "--ndf", "2", "--nz", "4")


def test_defaults_are_dcgans():
    cfg = parsed(*TINY)
    assert (cfg.loss, cfg.n_critic, cfg.lr, cfg.beta1, cfg.beta2, cfg.d_norm, cfg.spectral_norm, cfg.d_head) == \
        ("bce", 1, 2e-4, 0.5, 0.999, "batch", False, "sigmoid")
    t = trainer_for(cfg)
    assert type(t.D.layers[-1]) is nn.Sigmoid and any(isinstance(m, nn.BatchNorm2d) for m in t.D.layers)
    assert t.augment.policy == () and t.opt_D.betas == (0.5, 0.999)


def test_each_flag_reaches_the_trainer():
    cfg = parsed(*TINY, "--loss", "wgan-gp", "--gp-weight", "5", "--r1", "2", "--lr", "3e-4", "--lr-d", "6e-4",
                 "--beta1", "0", "--beta2", "0.9", "--n-critic", "3", "--spectral-norm", "--augment",
                 "translation,color")
    t = trainer_for(cfg)
    assert isinstance(t.loss, WGANGP) and (t.gp_weight, t.r1, t.n_critic) == (5.0, 2.0, 3)
    assert (t.opt_G.lr, t.opt_D.lr, t.opt_G.betas) == (3e-4, 6e-4, (0.0, 0.9))
    assert t.augment.policy == ("translation", "color")
    assert all(isinstance(m, nn.SpectralNorm) for m in t.D.layers if "weight" in m.params)
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.Sigmoid)) for m in t.D.layers)   # d_norm, head from the loss
    t = trainer_for(parsed(*TINY, "--loss", "wgan", "--clip", "0.05", "--lr-g", "1e-4", "--spectral-norm", "no"))
    assert t.clip == 0.05 and t.opt_G.lr == 1e-4 and t.opt_D.lr == 2e-4
    assert not any(isinstance(m, nn.SpectralNorm) for m in t.D.layers)


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_builds_a_trainer_with_its_settings(name):
    cfg = parsed(*TINY, "--recipe", name)
    t = trainer_for(cfg)
    for key, value in RECIPES[name].settings.items():
        assert getattr(cfg, key) == value, key
    assert t.n_critic == cfg.n_critic and t.opt_D.betas == (cfg.beta1, cfg.beta2) and t.loss.name == cfg.loss
    assert t.opt_D.lr == (cfg.lr_d or cfg.lr) and t.opt_G.lr == (cfg.lr_g or cfg.lr)


def test_wgan_gp_recipe_is_the_papers_and_a_flag_overrides_it():
    cfg = parsed(*TINY, "--recipe", "wgan-gp", "--lr", "2e-4")
    assert (cfg.loss, cfg.n_critic, cfg.lr, cfg.beta1, cfg.beta2, cfg.gp_weight, cfg.d_norm) == \
        ("wgan-gp", 5, 2e-4, 0.0, 0.9, 10.0, "none")
    sngan = parsed(*TINY, "--recipe", "sngan", "--d-norm", "batch")
    assert (sngan.loss, sngan.spectral_norm, sngan.d_norm) == ("hinge", True, "batch")


def test_spectral_norm_alone_replaces_batch_norm_unless_it_is_asked_for():
    assert parsed(*TINY, "--spectral-norm").d_norm == "none"                     # as the SN papers' D
    assert parsed(*TINY, "--spectral-norm", "--d-norm", "batch").d_norm == "batch"   # the hybrid, on request
    assert parsed(*TINY).d_norm == "batch" and parsed(*TINY, "--spectral-norm", "no").d_norm == "batch"
    D = trainer_for(parsed(*TINY, "--spectral-norm")).D
    assert not any(isinstance(m, nn.BatchNorm2d) for _, m in D.named_modules())


@pytest.mark.parametrize("flags, message", [
    (("--loss", "wgan-gp", "--d-norm", "batch"), "--loss wgan-gp needs D without batch norm .*: use --d-norm none"),
    (("--r1", "10", "--d-norm", "batch"), "--r1 10 needs D without batch norm"),
    (("--r1", "10", "--d-norm", "none", "--d-head", "sigmoid"), "--r1 10 acts on D's raw score: use --d-head raw"),
    (("--loss", "hinge", "--d-head", "sigmoid"), "--loss hinge needs D's raw score, but --d-head is sigmoid"),
    (("--loss", "wgan", "--label-smoothing", "0.1"), "--label-smoothing works with the losses that have targets"),
    (("--augment", "flip"), "unknown DiffAugment policy 'flip'"),
    (("--recipe", "biggan"), "invalid choice: 'biggan'"),
    (("--spectral-norm", "maybe"), "must be yes or no"),
    (("--r1", "-1"), "must be a number >= 0"),
])
def test_bad_combinations_are_one_line_errors(idx_dir, tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        main(["train", "--data-dir", str(idx_dir), "--out", str(tmp_path / "run"), *flags])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and not (tmp_path / "run").exists()      # refused before anything is written
    assert re.search(message, err.strip().splitlines()[-1]), err


@pytest.mark.parametrize("recipe, extra", [("wgan-gp", ()), ("sngan", ("--augment", "translation,cutout,color")),
                                           ("r1", ()), ("lsgan", ()), ("dcgan-ttur", ())])
def test_a_short_real_run_of_a_recipe(train, tmp_path, recipe, extra):
    out = tmp_path / recipe
    rc, stdout, stderr = train(out, "--recipe", recipe, "--max-steps", 3, "--sample-every", 3, *extra)
    assert rc == 0, stderr
    assert f"recipe {RECIPES[recipe].describe()}" in stdout
    saved = json.loads((out / "config.json").read_text())
    assert saved["recipe"] == recipe and saved["loss"] == RECIPES[recipe].settings["loss"]
    assert (out / "samples.png").is_file()
    rc, stdout, stderr = train(out, "--resume", "--max-steps", 4, "--lr", "3e-4")   # resumes, lr may change
    assert rc == 0, stderr
    assert "overridden by flags: --lr 0.0003" in stdout


def test_the_recipe_line_names_the_overrides(train, tmp_path):
    rc, stdout, _ = train(tmp_path / "run", "--recipe", "wgan-gp", "--n-critic", 2, "--max-steps", 1)
    assert rc == 0
    assert "recipe wgan-gp (Gulrajani et al. 2017): loss wgan-gp, n-critic 5" in stdout
    assert "overridden by flags: --n-critic 2" in stdout


def test_d_form_is_locked_on_resume_and_old_configs_get_dcgans_d():
    assert {"d_norm", "spectral_norm", "d_head"} <= set(LOCKED_ON_RESUME)
    old = {k: v for k, v in vars(parsed(*TINY)).items()
           if k not in ("d_norm", "spectral_norm", "d_head", "loss", "recipe", "r1", "clip", "gp_weight",
                        "lr_g", "lr_d", "beta2", "augment")}                   # a config.json from before them
    cfg = config_for_resume(old, {"d_norm": "batch"}).resolved()
    assert (cfg.loss, cfg.d_head, cfg.d_norm, cfg.spectral_norm) == ("bce", "sigmoid", "batch", False)
    with pytest.raises(ValueError, match="cannot resume with different spectral_norm"):
        config_for_resume(old, {"spectral_norm": True})
    with pytest.raises(ValueError, match="cannot resume with different loss: .* --loss bce"):
        config_for_resume(old, {"loss": "hinge"})           # an old config: its game was bce
    G, D = build_models(TrainConfig.from_dict(old))
    assert type(D.layers[-1]) is nn.Sigmoid and np.isfinite(D(G(np.zeros((1, 4, 1, 1), np.float32)))).all()


def test_generate_and_export_rebuild_the_runs_own_d(train, tmp_path, capsys):
    pytest.importorskip("safetensors")
    from minigan.models import load_safetensors
    out = tmp_path / "sngan"
    assert train(out, "--recipe", "sngan", "--max-steps", 2)[0] == 0
    assert main(["export", "--checkpoint", str(out), "--out", str(tmp_path / "D.safetensors"), "--net", "D"]) == 0
    D = load_safetensors(tmp_path / "D.safetensors")
    assert any(isinstance(m, nn.SpectralNorm) for m in D.layers) and not isinstance(D.layers[-1], nn.Sigmoid)
    assert main(["generate", "--checkpoint", str(out), "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").is_file()
