"""A fresh real batch for each critic update: ``GANTrainer.step`` given a list of ``n_critic`` batches.

D update k trains on batch k (its pictures, its labels, its penalties); one array is every
update's, as before. Each update's gradient against finite differences of the loss on *its*
batch: tests/test_train_losses.py::test_penalty_step_gradients_match_finite_differences_end_to_end
and tests/test_penalties_conditional.py (both draw the list form).
"""
import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigan.critic_batches import critic_batches
from minigan.train import GANTrainer, StepInterrupted
from tests.models.test_conditional import tiny_conditional_gan
from tests.test_penalties_conditional import conditional_critic
from tests.test_train import tiny_gan
from tests.test_train_losses import critic_gan
from tests.job.cli.test_resume import assert_trees_equal

# the trainer's options for the unconditional cases: the default game, and the penalties with more critic updates
GAMES = {"bce": dict(loss="bce"), "wgan-gp": dict(loss="wgan-gp"), "wgan-gp+r1": dict(loss="wgan-gp", r1=0.5),
         "hinge+r1": dict(loss="hinge", r1=2.0)}


def make(game, n_critic, seed=0, conditional=None):
    """A float64 trainer: tests/test_train.py's tiny GAN (a critic for the penalties), or a conditional pair."""
    options = GAMES[game]
    if conditional:
        G, D = tiny_conditional_gan(conditional, 3, 2, 1, 3, seed)
        if game != "bce":                                             # the penalties': no BatchNorm, no Sigmoid
            D = conditional_critic(conditional, 1, 2, 3, np.random.default_rng(seed)).train()
    else:
        G, D = tiny_gan(seed=seed) if game == "bce" else critic_gan(seed)
    return GANTrainer(G, D, seed=seed, n_critic=n_critic, **options)


def state(trainer):
    """The whole trainer state minus the step's bookkeeping: G, D, G_ema, both Adams, the RNGs."""
    return {k: v for k, v in copy.deepcopy(trainer.state_dict()).items() if k not in ("step", "critic_done")}


def real_batches(n, N, seed, K=3):
    """``n`` different real batches (N, 1, 8, 8) in [-1, 1], float64, and their labels (N,) in [0, K)."""
    rng = np.random.default_rng(seed)
    return list(rng.uniform(-1, 1, (n, N, 1, 8, 8))), list(rng.integers(0, K, (n, N)))


def seen_by_d(trainer):
    """Every ``(x, labels)`` D's forward is given, in order (D's update: real, fake[, the penalties'])."""
    seen, forward = [], trainer.D.forward

    def spy(x, *labels):
        seen.append((x.copy(), labels[0].copy() if labels else None))
        return forward(x, *labels)
    trainer.D.forward = spy
    return seen


@pytest.mark.parametrize("conditional", [None, "concat", "projection"])
@pytest.mark.parametrize("game", GAMES)
@settings(max_examples=3, deadline=None)
@given(N=st.integers(1, 3), n_critic=st.integers(1, 3), seed=st.integers(0, 2**31), as_tuple=st.booleans())
def test_a_list_of_the_same_batch_is_bitwise_the_one_array_form(game, conditional, N, n_critic, seed, as_tuple):
    xs, ys = real_batches(1, max(N, 2), seed)
    x, y = xs[0], (ys[0] if conditional else None)
    one, many = make(game, n_critic, conditional=conditional), make(game, n_critic, conditional=conditional)
    listed = tuple if as_tuple else list
    for _ in range(2):
        a = dict(one.step(x, y))
        b = dict(many.step(listed([x] * n_critic), None if y is None else listed([y] * n_critic)))
        assert a == b
    assert_trees_equal(state(one), state(many))


@pytest.mark.parametrize("conditional", [None, "projection"])
@pytest.mark.parametrize("game", ["bce", "wgan-gp+r1"])
def test_different_batches_give_another_step_and_the_same_one_every_time(game, conditional):
    xs, ys = real_batches(3, 4, seed=1)
    ys = ys if conditional else None
    runs = []
    for _ in range(2):
        trainer = make(game, 3, conditional=conditional)
        stats = [dict(trainer.step(xs, ys)) for _ in range(2)]
        runs.append((stats, state(trainer)))
    assert runs[0][0] == runs[1][0]
    assert_trees_equal(runs[0][1], runs[1][1])                              # repeatable, bitwise
    first = make(game, 3, conditional=conditional)
    for _ in range(2):
        first.step(xs[0], None if ys is None else ys[0])
    alone = state(first)["D"]                                        # batch 0 for every update: another D
    assert any(not np.array_equal(alone[k], v) for k, v in runs[0][1]["D"].items())


@pytest.mark.parametrize("conditional", [None, "concat", "projection"])
@pytest.mark.parametrize("game", GAMES)
def test_d_update_k_sees_batch_k_and_its_labels_and_g_the_last_fakes(game, conditional):
    n = 3
    xs, ys = real_batches(n, 4, seed=2)
    trainer = make(game, n, conditional=conditional)
    seen, gp_points, r1_points = seen_by_d(trainer), [], []
    penalties = trainer._penalties

    def spy(x_real, x_fake, y_real):                                  # what each update's penalties are given
        r1_points.append((x_real.copy(), y_real[0].copy() if y_real else None))
        gp_points.append(x_fake.copy())
        return penalties(x_real, x_fake, y_real)
    trainer._penalties = spy
    trainer.step(xs, ys if conditional else None)
    assert len(seen) == 2 * n + 1                                     # real, fake per update (the penalties
    for k in range(n):                                                # run D's layers themselves), then G's
        x_real, y_real = seen[2 * k]
        np.testing.assert_array_equal(x_real, xs[k])
        np.testing.assert_array_equal(r1_points[k][0], xs[k])          # wgan-gp's x_hat and R1 from batch k
        if conditional:
            np.testing.assert_array_equal(y_real, ys[k])
            np.testing.assert_array_equal(r1_points[k][1], ys[k])     # the penalties judge with batch k's labels
    np.testing.assert_array_equal(seen[-1][0], seen[-2][0])           # G's update: the last D update's fakes
    np.testing.assert_array_equal(seen[-1][0], gp_points[-1])


@pytest.mark.parametrize("conditional", [None, "projection"])
@pytest.mark.parametrize("stop_after", [1, 2])
def test_a_step_cut_short_resumes_at_update_k_with_batch_k(conditional, stop_after):
    n = 3
    xs, ys = real_batches(n, 4, seed=3)
    ys = ys if conditional else None
    straight = make("wgan-gp+r1", n, conditional=conditional)
    for _ in range(2):
        expected = dict(straight.step(xs, ys))

    cut = make("wgan-gp+r1", n, conditional=conditional)
    cut.step(xs, ys)
    done = {"n": 0}

    def interrupted():                                                 # asked before each update after the first
        done["n"] += 1
        return done["n"] == stop_after
    cut.interrupted = interrupted
    with pytest.raises(StepInterrupted):
        cut.step(xs, ys)
    saved = copy.deepcopy(cut.state_dict())
    assert saved["critic_done"] == stop_after

    resumed = make("wgan-gp+r1", n, seed=9, conditional=conditional)   # other weights, replaced by the state
    resumed.load_state_dict(saved)
    seen = seen_by_d(resumed)
    assert dict(resumed.step(xs, ys)) == expected
    np.testing.assert_array_equal(seen[0][0], xs[stop_after])          # it goes on with batch stop_after
    assert_trees_equal(state(straight), state(resumed))
    assert resumed.step_count == 2 and resumed.critic_done == 0


def test_wrong_counts_and_mismatched_labels_are_one_clear_error():
    xs, ys = real_batches(3, 4, seed=4)
    plain, cond = make("bce", 3), make("bce", 3, conditional="concat")
    with pytest.raises(ValueError, match=r"x_real is a list of 2 batches, but a step makes n_critic = 3"):
        plain.step(xs[:2])
    with pytest.raises(ValueError, match=r"x_real is a list of 4 batches"):
        plain.step(xs + xs[:1])
    with pytest.raises(ValueError, match=r"labels must be a list of 3 label arrays, one per batch; got one array"):
        cond.step(xs, ys[0])
    with pytest.raises(ValueError, match=r"labels must be a list of 3 label arrays, one per batch; got a list of 2"):
        cond.step(xs, ys[:2])
    with pytest.raises(ValueError, match=r"must have one shape, got \(4, 1, 8, 8\), \(3, 1, 8, 8\)"):
        plain.step([xs[0], xs[1][:3], xs[2]])
    with pytest.raises(ValueError, match=r"x_real\[1\] must be a 4-D array"):
        plain.step([xs[0], xs[1][0], xs[2]])
    with pytest.raises(ValueError, match=r"\(labels\[2\]\): labels must be in \[0, 3\)"):
        cond.step(xs, [ys[0], ys[1], ys[2] + 3])
    with pytest.raises(ValueError, match=r"pass the batch's labels"):
        cond.step(xs)
    with pytest.raises(ValueError, match=r"labels\[0\] given, but G and D are not conditional"):
        plain.step(xs, ys)
    for trainer in (plain, cond):                                     # nothing was applied
        assert trainer.step_count == 0 and trainer.opt_D.step_count == 0


def test_critic_batches_checks_and_moves_each_batch_once():
    calls = []

    def to_model(x, y, which):
        calls.append(which)
        return x, y
    x = np.zeros((2, 1, 4, 4))
    assert critic_batches(x, None, 3, to_model) == [(x, None)] * 3 and calls == [""]
    calls.clear()
    assert len(critic_batches((x, x + 1), (np.zeros(2, int), np.ones(2, int)), 2, to_model)) == 2
    assert calls == ["[0]", "[1]"]
