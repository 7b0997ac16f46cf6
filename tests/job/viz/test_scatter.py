"""A 2D run's pictures: the scatter plot, and D's verdict over the plane behind it."""
import numpy as np
import pytest

from minigan.job.data import mixture
from minigan.job.plane import decision_field
from minigan.job.viz.scatter import FAKE, plot_extent, save_scatter, scatter_picture
from minigan.models import mlp


def test_samples_are_drawn_where_they_are():
    modes, std = mixture("ring")
    picture = np.asarray(scatter_picture(np.array([[1.0, 0.0]]), modes, std, size=300))
    # x = 1 on [-1.5, 1.5]: pixel column (1 + 1.5) / 3 * 300 = 250, row 150
    assert tuple(picture[150, 250]) == FAKE and tuple(picture[150, 50]) != FAKE
    assert plot_extent(mixture("grid")[0]) == 6.0


@pytest.mark.parametrize("pack, sigmoid", [(1, True), (2, False)])
def test_decision_field_is_d_over_the_plane_and_changes_nothing(pack, sigmoid):
    G, D = mlp(2, points=True, pack=pack, mbstd=pack > 1, sigmoid=sigmoid, seed=0, dtype="float64",
               width=8, d_width=6)
    x = np.random.default_rng(0).standard_normal((8, 2, 1, 1))
    D.forward(x)
    cache = [m.cache for _, m in D.named_modules()]
    field = decision_field(D, 1.5, resolution=10)
    assert field.shape == (10, 10) and (0 <= field).all() and (field <= 1).all()
    assert all(m.cache is c for (_, m), c in zip(D.named_modules(), cache))   # a step in progress survives
    if pack == 1:                                                    # the top-left cell is D at (-1.35, 1.35)
        with D.evaluating():
            corner = float(D.forward(np.array([[[[-1.35]], [[1.35]]]]))[0, 0])
        assert field[0, 0] == pytest.approx(corner)
    else:
        assert field.min() == 0.0 and field.max() == 1.0              # a raw score, scaled over the square


def test_save_scatter_with_a_field(tmp_path):
    modes, std = mixture("grid")
    field = np.linspace(0, 1, 16).reshape(4, 4)
    save_scatter(np.zeros((3, 2)), tmp_path / "s.png", modes, std, real=modes, field=field, title="t")
    assert (tmp_path / "s.png").stat().st_size > 0


def test_warped_grid_is_g_of_a_square_grid_of_z(tmp_path):
    from minigan.job.plane import warped_grid
    grid = warped_grid(lambda z: 2 * z, lines=5, extent=3.0)            # G doubles z: the grid, doubled
    assert grid.shape == (5, 5, 2)
    np.testing.assert_allclose(grid[0, :, 0], [-6, -3, 0, 3, 6])        # row 0: z_2 = -3, z_1 runs along it
    np.testing.assert_allclose(grid[:, 0, 1], [-6, -3, 0, 3, 6])
    modes, std = mixture("ring")
    save_scatter(np.zeros((3, 2)), tmp_path / "m.png", modes, std, manifold=grid / 6)
    picture = np.asarray(scatter_picture(np.zeros((0, 2)), modes, std, size=300, manifold=grid / 6))
    assert (picture != 255).any(axis=2).sum() > 300                      # the lines are drawn


def test_gs_arrows_are_the_trainers_own_dx_fake_drawn_downhill():
    from minigan.train import GANTrainer
    G, D = mlp(2, points=True, seed=0, width=8, d_width=6)
    trainer = GANTrainer(G, D, seed=0)
    assert trainer.last_fakes is None
    trainer.step(np.random.default_rng(0).standard_normal((8, 2, 1, 1)).astype(np.float32))
    x_fake, dx_fake = trainer.last_fakes
    assert x_fake.shape == dx_fake.shape == (8, 2, 1, 1) and np.abs(dx_fake).max() > 0
    modes, std = mixture("ring")
    one = (np.array([[0.0, 0.0]]), np.array([[-1.0, 0.0]]))            # dLoss/dx = -e_1: the arrow points right
    picture = np.asarray(scatter_picture(np.zeros((0, 2)), modes, std, size=300, arrows=one))
    box = picture[130:170, 100:200]                                      # around the centre, away from the modes
    dark = np.argwhere((box[:, :, 0] < 100) & (box[:, :, 1] < 100)) + [130, 100]
    assert dark[:, 1].min() >= 148 and dark[:, 1].max() > 165           # from the centre, rightwards only
