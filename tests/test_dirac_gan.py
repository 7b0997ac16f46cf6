"""examples/dirac_gan.py: minigan's own losses, backward and R1 reproduce Mescheder et al.'s Dirac-GAN."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import dirac_gan  # noqa: E402


def sigmoid(s):
    return 1 / (1 + np.exp(-s))


def test_one_step_is_the_papers_update_written_by_hand():
    theta, psi, lr, gamma = 1.0, 1.0, 0.1, 1.0
    psi -= lr * (sigmoid(psi * theta) * theta + gamma * psi)       # D: BCE(D(theta), 0) + (gamma/2) psi^2
    theta -= lr * (-sigmoid(psi * theta) * psi)                    # G (minimax): log(1 - D(theta)), the updated D
    np.testing.assert_allclose(dirac_gan.trajectory(gamma, steps=1)[1], [theta, psi], rtol=1e-12)


def test_the_plain_game_circles_and_r1_converges():
    plain, damped = dirac_gan.trajectory(0.0, 600), dirac_gan.trajectory(1.0, 600)
    radius = np.hypot(plain[:, 0], plain[:, 1])
    assert radius.min() > 1.3 and radius.max() < 1.45                 # round and round, never closer
    assert np.hypot(*damped[-1]) < 1e-3
    angle = np.unwrap(np.arctan2(plain[:, 1], plain[:, 0]))
    assert abs(angle[-1] - angle[0]) > 2 * np.pi                      # at least one whole turn


def test_the_script_draws_the_phase_portrait(tmp_path, capsys):
    dirac_gan.main(["--out", str(tmp_path / "d.png"), "--steps", "50"])
    assert (tmp_path / "d.png").stat().st_size > 0 and "R1 gamma=1" in capsys.readouterr().out
