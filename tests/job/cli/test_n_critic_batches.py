"""--n-critic k > 1 in the job: each step takes the next k batches of the epoch's seeded order, one per
D update, so an epoch (one pass over the data) is N // (batch size x k) steps; (epoch, batch) counts
steps, a resumed run goes on with the very same batches, and a resume with another --n-critic is refused.

Bitwise resumes with k > 1: tests/job/cli/test_resume.py (a checkpoint), test_flags_apply.py (a step cut
short between two D updates), test_collapse_runs.py (2D points), test_conditional_run.py (labels).
"""
import numpy as np
import pytest

from minigan import train as train_module
from minigan.job.checkpoint import load_checkpoint, resolve, save_checkpoint
from minigan.job.data import batches

from .conftest import N_IMAGES, squares


def steps_seen(monkeypatch):
    """Every ``(x, y)`` a run's ``GANTrainer.step`` is given, copied."""
    seen, step = [], train_module.GANTrainer.step

    def spy(self, x, y=None, *args, **kwargs):
        seen.append(([a.copy() for a in x] if isinstance(x, list) else x.copy(), y))
        return step(self, x, y, *args, **kwargs)
    monkeypatch.setattr(train_module.GANTrainer, "step", spy)
    return seen


@pytest.mark.parametrize("k", [1, 5])
def test_a_step_takes_the_next_k_batches_of_the_epochs_order(train, tmp_path, monkeypatch, k):
    seen = steps_seen(monkeypatch)
    per_epoch = N_IMAGES // (16 * k)                                   # 10 steps of 16, or 2 of 5 x 16
    rc, stdout, err = train(tmp_path / "run", "--loss", "wgan", "--n-critic", k, "--max-steps", 2 * per_epoch)
    assert rc == 0, err
    shown = "16" if k == 1 else "5 x 16 (n_critic 5: a batch per D update)"
    assert f"data: {N_IMAGES} pictures of mnist, {per_epoch} steps per epoch of {shown}: {2 * per_epoch} steps" \
           f" in all (2 epochs)" in stdout
    assert len(seen) == 2 * per_epoch
    for epoch in range(2):                                             # each epoch: every picture once, in order
        expected = list(batches(squares(N_IMAGES), 16, np.random.default_rng([0, epoch])))
        given = seen[epoch * per_epoch:(epoch + 1) * per_epoch]
        if k == 1:
            assert all(isinstance(x, np.ndarray) for x, _ in given)    # one array, as before
            got = [x for x, _ in given]
        else:
            assert all(isinstance(x, list) and len(x) == k for x, _ in given)
            got = [b for x, _ in given for b in x]                     # D update j of step s: batch s k + j
        assert len(got) == len(expected) == 10
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
    state = load_checkpoint(tmp_path / "run")
    assert (state["step"], state["epoch"], state["batch"], state["batches_per_step"]) == (2 * per_epoch, 2, 0, k)


def test_a_resume_with_another_n_critic_is_refused(train, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--loss", "wgan", "--n-critic", 2, "--max-steps", 3)[0] == 0
    for other in (3, 1):
        with pytest.raises(SystemExit) as e:
            train(out, "--n-critic", other, "--max-steps", 5, "--resume")
        assert e.value.code == 2
        assert ("cannot resume with different n_critic: the checkpoint was trained with --n-critic 2. "
                "Leave these flags out, or start a new run in a new --out") in capsys.readouterr().err
    assert train(out, "--n-critic", 2, "--max-steps", 5, "--resume")[0] == 0   # the same one is fine


@pytest.mark.parametrize("k, old_batch, where", [(2, 7, (0, 3)), (3, 9, (1, 0))])
def test_an_older_minigans_checkpoint_goes_on_from_the_same_place_in_the_data(train, tmp_path, k, old_batch,
                                                                               where):
    """Saved before a step took k batches: its (epoch, batch) counted batches of one D update's, 10 an
    epoch here. The resume says so and goes on from the same place: batch // k, or the next epoch."""
    out = tmp_path / "run"
    assert train(out, "--loss", "wgan", "--n-critic", k, "--max-steps", 1)[0] == 0
    state = load_checkpoint(out)
    del state["batches_per_step"]
    state["batch"] = old_batch
    save_checkpoint(resolve(out), state)
    rc, stdout, err = train(out, "--max-steps", 3, "--resume")
    assert rc == 0, err
    assert (f"note: this run was saved by an older minigan, whose {k} D updates a step shared one real batch; "
            f"each now takes its own, so an epoch is {10 // k} steps: it goes on from the same place in the data, "
            f"epoch {where[0] + 1}, step {where[1]} of it") in stdout
    assert f"resumed from step 1 (epoch {where[0] + 1}, batch {where[1]})" in stdout
    assert load_checkpoint(out)["batches_per_step"] == k


def test_batch_size_times_n_critic_larger_than_the_data_is_one_line(train, tmp_path):
    rc, _, err = train(tmp_path / "run", "--loss", "wgan", "--n-critic", 11, "--max-steps", 1)
    assert rc == 2 and "--batch-size 16 x --n-critic 11 is larger than the dataset (160 pictures)" in err
