"""--resume continues exactly: N steps, stop, resume, N steps == 2N steps, bitwise (NumPy)."""
import numpy as np
import pytest

from minigan.job.checkpoint import load_checkpoint


def assert_trees_equal(a, b, where="state"):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_trees_equal(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), where
    else:
        assert a == b, where


@pytest.mark.parametrize("n, game", [(7, ()), (10, ()),     # stop mid-epoch (7 of 10) and at an epoch's end;
                                     (4, ("--loss", "wgan", "--n-critic", 3)),    # 3 steps of 3 x 16 an epoch:
                                     (6, ("--loss", "wgan-gp", "--n-critic", 2))])  # a batch per D update
def test_resume_is_bitwise_exact(train, tmp_path, n, game):
    flags = ("--ema", "--sample-every", 4, "--checkpoint-every", 3, *game)
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train(straight, *flags, "--max-steps", 2 * n)[0] == 0
    assert train(split, *flags, "--max-steps", n)[0] == 0
    rc, stdout, stderr = train(split, *flags, "--max-steps", 2 * n, "--resume")   # OUT/latest
    assert rc == 0, stderr
    assert f"resumed from step {n}" in stdout

    a, b = load_checkpoint(straight), load_checkpoint(split)
    assert a["step"] == 2 * n
    assert_trees_equal(a["trainer"], b["trainer"])
    assert_trees_equal(a["fixed_noise"], b["fixed_noise"])
    assert (a["epoch"], a["batch"]) == (b["epoch"], b["batch"])
    assert (straight / "metrics.csv").read_text() == (split / "metrics.csv").read_text()
    assert (straight / "samples.png").read_bytes() == (split / "samples.png").read_bytes()
    extra = {f"step_{n:06d}.png"} if n % 4 else set()     # the first half's final grid
    assert {p.name for p in (split / "samples").iterdir()} == {p.name for p in (straight / "samples").iterdir()} | extra


def test_resume_takes_the_config_from_the_checkpoint(train, tmp_path, idx_dir, capsys):
    from minigan.job.cli import main
    out = tmp_path / "run"
    assert train(out, "--max-steps", 3, "--lr", "1e-3")[0] == 0
    # only --resume and --max-steps: --ngf 4, --lr 1e-3 and the data folder come from the checkpoint
    assert main(["train", "--resume", str(out / "checkpoints" / "step_000003.npz"), "--max-steps", "5"]) == 0
    state = load_checkpoint(out)
    assert state["step"] == 5 and state["config"]["lr"] == 1e-3 and state["config"]["ngf"] == 4


def test_resume_refuses_a_different_model(train, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    with pytest.raises(SystemExit) as e:
        train(out, "--ngf", 8, "--resume")
    assert e.value.code == 2
    assert ("cannot resume with different ngf: the checkpoint was trained with --ngf 4. Leave these flags "
            "out, or start a new run in a new --out") in capsys.readouterr().err


def test_resume_refuses_a_different_seed(train, tmp_path, capsys):
    """The seed shuffles each epoch: a new one mid-epoch would repeat some pictures and skip others."""
    out = tmp_path / "run"
    assert train(out, "--max-steps", 5, "--seed", 3)[0] == 0
    with pytest.raises(SystemExit) as e:
        train(out, "--seed", 7, "--max-steps", 10, "--resume")
    assert e.value.code == 2
    assert "cannot resume with different seed: the checkpoint was trained with --seed 3" in capsys.readouterr().err
    assert train(out, "--seed", 3, "--max-steps", 6, "--resume")[0] == 0     # the same seed is fine


def test_resume_with_a_new_lr_and_beta1_uses_them(train, tmp_path, monkeypatch):
    """--lr/--beta1 given with --resume reach the optimizers, not just config.json (Adam's
    load_state_dict restores the checkpoint's lr and betas; the run sets them from the config after it)."""
    from minigan import train as train_module
    out = tmp_path / "run"
    assert train(out, "--max-steps", 3)[0] == 0
    seen = []
    step = train_module.GANTrainer.step

    def spy(self, x, *args, **kwargs):
        seen.append([(o.lr, o.betas) for o in (self.opt_G, self.opt_D)])
        return step(self, x, *args, **kwargs)
    monkeypatch.setattr(train_module.GANTrainer, "step", spy)
    rc, stdout, stderr = train(out, "--max-steps", 5, "--lr", "1e-3", "--beta1", "0.9", "--resume")
    assert rc == 0, stderr
    assert seen == [[(1e-3, (0.9, 0.999))] * 2] * 2          # both steps, both optimizers
    state = load_checkpoint(out)
    for name in ("opt_G", "opt_D"):
        assert state["trainer"][name]["lr"] == 1e-3 and state["trainer"][name]["betas"] == [0.9, 0.999]
    assert state["config"]["lr"] == 1e-3 and state["config"]["beta1"] == 0.9


def test_resume_without_ema_in_the_checkpoint_cannot_add_it(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    rc, _, stderr = train(out, "--ema", "--max-steps", 4, "--resume")
    assert rc == 2
    assert stderr.startswith("error: cannot resume from this checkpoint: the checkpoint has no EMA generator")


def test_a_fresh_run_will_not_overwrite_a_run(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    rc, _, stderr = train(out, "--max-steps", 2)
    assert rc == 2 and "already holds a run" in stderr and "--resume" in stderr
