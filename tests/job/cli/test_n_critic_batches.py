"""--n-critic k > 1 in the job: each step takes the next k batches of the epoch's seeded order, one per
D update, so an epoch (one pass over the data) is N // (batch size x k) steps; (epoch, batch) counts
steps, a resumed run goes on with the very same batches, and one resumed with another --n-critic (or from
an older minigan, whose D updates shared one batch) goes on from the same place in the data.

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


def test_a_resume_with_another_n_critic_goes_on_from_the_same_place_in_the_data(train, tmp_path, monkeypatch):
    """The report suggests ``--resume --n-critic 5`` for a critic that lags: 3 steps of 2 batches took 6 of
    epoch 1's 10; with 3 a step, the run goes on at its step 2, batches 6, 7, 8 (and the next epoch)."""
    out = tmp_path / "run"
    assert train(out, "--loss", "wgan", "--n-critic", 2, "--max-steps", 3)[0] == 0
    seen = steps_seen(monkeypatch)
    rc, stdout, err = train(out, "--n-critic", 3, "--max-steps", 5, "--resume")
    assert rc == 0, err
    assert ("note: the checkpoint's steps took 2 real batches each, this run's take 3, one per D update: it goes "
            "on from the same place in the data, step 2 of epoch 1 (3 steps an epoch now)") in stdout
    assert "resumed from step 3 (epoch 1, batch 2)" in stdout
    order = [list(batches(squares(N_IMAGES), 16, np.random.default_rng([0, e]))) for e in (0, 1)]
    for (got, _), want in zip(seen, [order[0][6:9], order[1][0:3]]):
        assert len(got) == 3 and all(np.array_equal(a, b) for a, b in zip(got, want))
    state = load_checkpoint(out)
    assert (state["step"], state["epoch"], state["batch"], state["batches_per_step"]) == (5, 1, 1, 3)
    assert state["config"]["n_critic"] == 3
    rc, stdout, _ = train(out, "--max-steps", 6, "--resume")        # saved with 3: no note now
    assert rc == 0 and "note: the checkpoint's steps" not in stdout


@pytest.mark.parametrize("k, old_batch, where", [(2, 7, (0, 3)), (3, 9, (1, 0))])
def test_an_older_minigans_checkpoint_goes_on_from_the_same_place_in_the_data(train, tmp_path, k, old_batch,
                                                                               where):
    """Saved before a step took k batches: its (epoch, batch) counted single batches, 10 an epoch here.
    The resume says so and goes on from the same place: batch // k, or the next epoch's start."""
    out = tmp_path / "run"
    assert train(out, "--loss", "wgan", "--n-critic", k, "--max-steps", 1)[0] == 0
    state = load_checkpoint(out)
    del state["batches_per_step"]
    state["batch"] = old_batch
    save_checkpoint(resolve(out), state)
    rc, stdout, err = train(out, "--max-steps", 3, "--resume")
    assert rc == 0, err
    assert (f"note: the checkpoint's steps took 1 real batch each (an older minigan: its D updates shared one), "
            f"this run's take {k}, one per D update: it goes on from the same place in the data, step {where[1]} "
            f"of epoch {where[0] + 1} ({10 // k} steps an epoch now)") in stdout
    assert f"resumed from step 1 (epoch {where[0] + 1}, batch {where[1]})" in stdout
    assert load_checkpoint(out)["batches_per_step"] == k


def test_batch_size_times_n_critic_larger_than_the_data_is_one_line(train, tmp_path):
    rc, _, err = train(tmp_path / "run", "--loss", "wgan", "--n-critic", 11, "--max-steps", 1)
    assert rc == 2 and "--batch-size 16 x --n-critic 11 is larger than the dataset (160 pictures)" in err
