"""The Dirac-GAN: the smallest GAN that does not converge, and the penalty that makes it.

Mescheder, Geiger & Nowozin, "Which Training Methods for GANs do actually Converge?",
ICML 2018, https://arxiv.org/abs/1801.04406, section 2.2::

    data:  every real sample is x = 0
    G:     every fake sample is x = theta          (G = delta_theta: one number to learn)
    D:     D(x) = psi * x, a logit                 (one Linear(1, 1) weight, no bias)
    equilibrium: theta = 0 (G found the data), psi = 0 (D cannot tell)

Near the equilibrium the game's vector field is a rotation. In the original minimax
game, D's step turns psi towards the side theta is on (psi <- psi - lr sigma(psi theta)
theta) and G's step turns theta against psi (theta <- theta + lr sigma(psi theta) psi):
neither has a reason to stop, and the pair circles the equilibrium for ever (the
distance from it stays 1.38-1.41 over 6,000 steps from (1, 1); with simultaneous or
too-large steps it spirals out). The non-saturating G loss (bce) only drifts inwards,
slowly (1.41 -> 0.35 -> 0.11 after 600 and 6,000 steps). R1's zero-centred penalty on
the real data, (gamma / 2) |dD/dx|^2 = (gamma / 2) psi^2 here, adds a friction to psi
alone, and the spiral falls into the equilibrium within a hundred steps.

Every number below comes from minigan's own pieces, as the trainer uses them: a game
of minigan/gan_losses.py (minimax by default, ``--loss bce`` for the non-saturating one), D's backward pass
(dLoss/dx is G's gradient), and R1 from minigan/penalties.py. Plain gradient steps,
one D update then one G update, as minigan.train.GANTrainer alternates them.

    python examples/dirac_gan.py                       # writes dirac-gan.png: the phase portrait
    python examples/dirac_gan.py --gamma 0.3 --steps 2000 --out slow.png
"""
from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from minigan import nn
from minigan.gan_losses import make_gan_loss
from minigan.job.viz.axes import load_font
from minigan.penalties import r1_penalty

START = (1.0, 1.0)                                          # (theta, psi)


def trajectory(gamma=0.0, steps=600, lr=0.1, start=START, loss="minimax") -> np.ndarray:
    """``(steps + 1, 2)``: (theta, psi) after each alternating step, from ``start``; R1 with ``gamma`` (0: none)."""
    D = nn.Sequential(nn.Linear(1, 1, bias=False, dtype="float64"))   # D(x) = psi x
    game = make_gan_loss(loss, sigmoid_head=False)
    theta, D.params["0.weight"][...] = start[0], start[1]
    x_real = np.zeros((1, 1))                                        # the data: x = 0
    path = [(theta, start[1])]
    for _ in range(steps):
        # D's update: real -> 1, fake -> 0 (+ R1 on the reals), one gradient step
        D.zero_grad()
        D.backward(game.d_real(D(x_real))[1])                       # dLoss/dpsi = ds * 0 = 0: the reals say nothing
        D.backward(game.d_fake(D(np.array([[theta]])))[1])          # dLoss/dpsi = sigma(psi theta) theta
        if gamma:
            r1_penalty(D, x_real, weight=gamma / 2)                  # + (gamma/2) d(psi^2)/dpsi = gamma psi
        D.params["0.weight"] -= lr * D.grads["0.weight"]
        # G's update: make the updated D say 1 on the fake; dLoss/dtheta is D's input gradient
        dtheta = D.backward(game.g_loss(D(np.array([[theta]])))[1])  # minimax: -sigma(psi theta) psi
        theta -= lr * float(dtheta[0, 0])
        path.append((theta, float(D.params["0.weight"][0, 0])))
    return np.array(path)


def phase_portrait(paths: dict, path, size: int = 480, half: float = 2.0):
    """The trajectories in the (theta, psi) plane, one colour each, as a PNG at ``path``."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)

    def px(p):
        return [((t + half) / (2 * half) * size, (half - s) / (2 * half) * size) for t, s in p]
    draw.line([(size / 2, 0), (size / 2, size)], fill=(220, 220, 220))
    draw.line([(0, size / 2), (size, size / 2)], fill=(220, 220, 220))
    font = load_font(14)
    draw.text((size - 72, size / 2 + 4), "theta (G)", fill=(90, 90, 90), font=font)
    draw.text((size / 2 + 6, 4), "psi (D)", fill=(90, 90, 90), font=font)
    for i, (label, (points, colour)) in enumerate(paths.items()):
        draw.line(px(points), fill=colour, width=2)
        draw.text((8, 8 + 18 * i), label, fill=colour, font=font)
    x, y = px([START])[0]
    draw.ellipse([x - 4, y - 4, x + 4, y + 4], outline=(0, 0, 0))           # where both start
    image.save(path)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="dirac-gan.png", help="the phase portrait (default: dirac-gan.png)")
    p.add_argument("--steps", type=int, default=600, help="alternating steps (default: 600)")
    p.add_argument("--lr", type=float, default=0.1, help="the gradient step of both players (default: 0.1)")
    p.add_argument("--gamma", type=float, default=1.0, help="R1's gamma for the damped run (default: 1)")
    p.add_argument("--loss", default="minimax", choices=("minimax", "bce"),
                   help="the game: minimax (the original) or bce (non-saturating G) (default: minimax)")
    args = p.parse_args(argv)
    plain = trajectory(0.0, args.steps, args.lr, loss=args.loss)
    damped = trajectory(args.gamma, args.steps, args.lr, loss=args.loss)
    for name, t in (("plain", plain), (f"R1 gamma={args.gamma:g}", damped)):
        print(f"{name:>14}: distance from the equilibrium {np.hypot(*t[0]):.3f} -> {np.hypot(*t[-1]):.3f} "
              f"after {args.steps} steps")
    phase_portrait({f"plain GAN ({args.loss})": (plain, (214, 39, 40)),
                    f"R1, gamma = {args.gamma:g}: converges": (damped, (31, 119, 180))}, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
