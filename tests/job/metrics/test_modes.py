"""The collapse measures of the 2D and Stacked MNIST tables, on samplers whose answers are known."""
import numpy as np
import pytest

from minigan.job.data import PointSet, mixture
from minigan.job.data.points import sample_mixture
from minigan.job.metrics.modes import (HQ_STDS, SAMPLES_2D, mode_measures, nearest_modes, reverse_kl,
                                       stacked_measures, stacked_modes)


@pytest.mark.parametrize("name, K", [("ring", 8), ("grid", 25)])
def test_a_perfect_sampler_scores_every_mode_about_98_9_percent_and_a_small_kl(name, K):
    modes, std = mixture(name)
    m = mode_measures(sample_mixture(name, SAMPLES_2D, np.random.default_rng(0)), modes, std)
    assert m["modes"] == K
    assert abs(m["high_quality"] - 100 * (1 - np.exp(-HQ_STDS ** 2 / 2))) < 0.6    # 98.89%, sampling error ~0.2
    assert m["reverse_kl"] < 0.03 and m["histogram"].sum() == round(SAMPLES_2D * m["high_quality"] / 100)


@pytest.mark.parametrize("name, K", [("ring", 8), ("grid", 25)])
def test_collapse_onto_one_mode_scores_one_mode_and_ln_k(name, K):
    modes, std = mixture(name)
    rng = np.random.default_rng(1)
    samples = modes[3] + std * rng.standard_normal((SAMPLES_2D, 2))
    m = mode_measures(samples, modes, std)
    assert m["modes"] == 1 and m["reverse_kl"] == pytest.approx(np.log(K))


def test_points_between_the_modes_are_not_high_quality_and_capture_nothing():
    modes, std = mixture("ring")
    samples = np.zeros((100, 2))                                  # the centre of the ring, far from every mode
    m = mode_measures(samples, modes, std)
    assert (m["modes"], m["high_quality"], m["reverse_kl"]) == (0, 0.0, pytest.approx(np.log(8)))


def test_reverse_kl_by_hand():
    # q = (1/2, 1/2, 0, 0): sum q log(4 q) = 2 * 1/2 * log 2 = log 2
    assert reverse_kl([5, 5, 0, 0]) == pytest.approx(np.log(2))
    assert reverse_kl([3, 3, 3]) == pytest.approx(0.0)


def test_nearest_modes_and_the_3_std_boundary():
    modes, std = mixture("grid")
    k, d = nearest_modes(np.array([[2.0 + 2.9 * std, 0.0], [-4.0, 4.0 - 3.1 * std]]), modes)
    np.testing.assert_array_equal(modes[k], [[2, 0], [-4, 4]])
    m = mode_measures(np.array([[2.0 + 2.9 * std, 0.0], [-4.0, 4.0 - 3.1 * std]]), modes, std)
    assert (m["modes"], m["high_quality"]) == (1, 50.0)


def test_the_ring_has_8_distinct_modes_on_the_unit_circle_and_the_grid_25():
    ring, std = mixture("ring")
    assert std == 0.01 and len(np.unique(ring.round(6), axis=0)) == 8
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 1.0)
    grid, std = mixture("grid")
    assert std == 0.05 and sorted(set(grid[:, 0])) == [-4, -2, 0, 2, 4] and len(grid) == 25


def test_the_training_points_are_fixed_by_the_seed():
    a, b, c = PointSet("ring", 0, n=1000), PointSet("ring", 0, n=1000), PointSet("ring", 1, n=1000)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, c.points) and a.points.dtype == np.float32


def test_stacked_measures():
    assert stacked_measures(np.arange(1000)) == {"modes": 1000, "kl": pytest.approx(0.0)}
    assert stacked_measures(np.full(26000, 123)) == {"modes": 1, "kl": pytest.approx(np.log(1000))}
    two = stacked_measures(np.array([1, 1, 2, 2]))                 # p = (1/2, 1/2): log(1000/2)
    assert two["modes"] == 2 and two["kl"] == pytest.approx(np.log(500))


class FakeClassifier:
    """Reads a channel's digit from its mean brightness: digit = round(mean + 1) * ... (a stand-in)."""

    def predict(self, x, batch_size=500):
        assert x.shape[1:] == (1, 28, 28)
        return np.rint((x.mean(axis=(1, 2, 3)) + 1) * 4.5).astype(np.int64)   # [-1, 1] -> 0..9


def test_stacked_modes_reads_each_channel_on_its_own():
    digits = np.array([[7, 0, 3], [9, 9, 9]])
    pictures = np.broadcast_to((digits / 4.5 - 1)[:, :, None, None], (2, 3, 28, 28))
    np.testing.assert_array_equal(stacked_modes(FakeClassifier(), pictures), [703, 999])
