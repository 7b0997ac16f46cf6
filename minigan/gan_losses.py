"""The six GAN games: each loss, its gradient with respect to D's output, by hand.

Every game is two losses on D's outputs, means over the batch of N:

    D's side  Loss_D(s_real, s_fake)  ->  loss, dLoss_D/ds_real, dLoss_D/ds_fake
    G's side  Loss_G(s_fake)          ->  loss, dLoss_G/ds_fake

Each loss comes back as a 0-d float64 array on s's backend, not a Python float:
on a GPU, ``float()`` waits for the GPU, and the trainer fetches all of a
step's numbers at once (minigan/step_stats.py). ``float(loss)`` reads one.

Here ``s`` is what D returns: a probability p when D ends with a Sigmoid
(DCGAN, ``bce`` and ``minimax`` only), otherwise a raw score (a logit, for the
BCE games). ``GANTrainer.step`` hands each gradient to ``D.backward``; the
layers do the rest. D's loss is always a sum ``Loss_real(s_real) + Loss_fake(s_fake)``:
the trainer calls the two halves, :meth:`GANLoss.d_real` and :meth:`GANLoss.d_fake`,
one after the other, because D keeps the cache of one forward pass only
(its backward on the real batch must run before its forward on the fakes).

=========  ==============================================  ==================================
loss       D minimizes                                     G minimizes
=========  ==============================================  ==================================
bce        BCE(D(x), 1) + BCE(D(G(z)), 0)                  BCE(D(G(z)), 1)     non-saturating
minimax    as bce                                          mean log(1 - D(G(z)))  saturating
lsgan      0.5 mean (s_real - 1)^2 + 0.5 mean s_fake^2     0.5 mean (s_fake - 1)^2
hinge      mean relu(1 - s_real) + mean relu(1 + s_fake)   -mean s_fake
wgan       mean s_fake - mean s_real                       -mean s_fake
wgan-gp    as wgan (+ a gradient penalty, in the trainer)  -mean s_fake
=========  ==============================================  ==================================

Papers: Goodfellow et al. 2014 (bce, minimax); Mao et al. 2017 (lsgan);
Lim & Ye 2017, Miyato et al. 2018 (hinge); Arjovsky et al. 2017 (wgan);
Gulrajani et al. 2017 (wgan-gp). The derivations: docs/losses-and-stabilizers.md.
"""
from __future__ import annotations

from .backend import get_array_module
from .finite_check import kept_only_if
from .losses import as_float64, bce_array, bce_with_logits_array
from .nn.activations import sigmoid


class GANLoss:
    """One game. ``logits``: D gives raw scores (True) or probabilities (False, BCE games only).

    real_label: D's target on real images where the game has targets (``1 - label_smoothing``).
    Class attributes the trainer reads:
        has_labels:          the game has a real target, so label smoothing means something
        needs_raw_score:     D must not end with a Sigmoid
        weight_clipping:     clip D's weights after each critic update (wgan)
        gradient_penalty:    add the WGAN-GP penalty to D's loss (wgan-gp)
    """
    name = ""
    has_labels = False
    needs_raw_score = True
    weight_clipping = False
    gradient_penalty = False

    def __init__(self, logits=True, real_label=1.0):
        if not logits and self.needs_raw_score:
            raise ValueError(f"loss {self.name!r} works on D's raw score, not on probabilities")
        self.logits, self.real_label = bool(logits), float(real_label)

    def d_real(self, s):
        """D's loss on the real batch: ``(loss, dLoss/ds)``, s of shape (N, 1, 1, 1)."""
        raise NotImplementedError

    def d_fake(self, s):
        """D's loss on the fake batch: ``(loss, dLoss/ds)``."""
        raise NotImplementedError

    def g_loss(self, s_fake):
        """G's loss on D's verdict on the fakes: ``(loss, dLoss/ds_fake)``."""
        raise NotImplementedError

    def d_loss(self, s_real, s_fake):
        """D's whole loss: ``(loss, dLoss/ds_real, dLoss/ds_fake)``, the sum of the two halves."""
        loss_real, ds_real = self.d_real(s_real)
        loss_fake, ds_fake = self.d_fake(s_fake)
        return loss_real + loss_fake, ds_real, ds_fake

    def d_mean(self, s):
        """The number the trainer reports for D's output ``s`` (``d_x``, ``d_g_z``): its mean (0-d, float64)."""
        return as_float64(s.mean())

    def __repr__(self):
        return f"{type(self).__name__}(logits={self.logits}, real_label={self.real_label})"


class BCE(GANLoss):
    """Non-saturating BCE (DCGAN). On probabilities: :func:`minigan.losses.bce`, dBCE/dp =
    (p - y) / (p (1 - p)) / N; on logits: :func:`minigan.losses.bce_with_logits`, dBCE/ds = (sigmoid(s) - y) / N.
    """
    name, has_labels, needs_raw_score = "bce", True, False

    def _bce(self, s, target):
        return bce_with_logits_array(s, target) if self.logits else bce_array(s, target)

    def d_real(self, s):
        return self._bce(s, self.real_label)        # target 1 (or 1 - smoothing)

    def d_fake(self, s):
        return self._bce(s, 0.0)                    # target 0

    def g_loss(self, s_fake):
        return self._bce(s_fake, 1.0)               # -mean log D(G(z)): G wants D to say 1

    def d_mean(self, s):
        """Mean probability: sigmoid of a logit first, so d_x reads the same for either head."""
        return as_float64((sigmoid(s) if self.logits else s).mean())


class Minimax(BCE):
    """The original game: G minimizes mean log(1 - D(G(z))) = -BCE(D(G(z)), 0).

    Through D's logit s its gradient is -sigmoid(s) / N, which vanishes exactly
    when D rejects the fakes with confidence (p = sigmoid(s) near 0): G learns
    least when it is worst. (With respect to the probability p it is
    -1/(1 - p) / N, about -1/N there, not small; but D's Sigmoid multiplies it
    by p (1 - p) on the way back.) That is why nobody uses it.
    """
    name = "minimax"

    def g_loss(self, s_fake):
        loss, ds = self._bce(s_fake, 0.0)            # BCE(D(G(z)), 0) = -mean log(1 - p)
        return -loss, -ds                           # d(-BCE)/ds = -dBCE/ds: -1/(1-p)/N, or -sigmoid(s)/N


class LSGAN(GANLoss):
    """Least squares (Mao et al. 2017): D regresses reals to 1 and fakes to 0, G its fakes to 1."""
    name, has_labels = "lsgan", True

    def d_real(self, s):
        r = s - self.real_label                     # (N, 1, 1, 1) residual
        return as_float64(0.5 * (r * r).mean()), r / s.size  # d 0.5 mean r^2 / ds = r / N

    def d_fake(self, s):
        return as_float64(0.5 * (s * s).mean()), s / s.size  # d 0.5 mean s^2 / ds = s / N

    def g_loss(self, s_fake):
        r = s_fake - 1.0
        return as_float64(0.5 * (r * r).mean()), r / s_fake.size  # (s - 1) / N


class Hinge(GANLoss):
    """Hinge (Lim & Ye 2017): D is only pushed until s_real >= 1 and s_fake <= -1; G raises s_fake."""
    name = "hinge"

    def d_real(self, s):
        xp = get_array_module(s)
        active = s < 1                              # relu(1 - s) has slope -1 where 1 - s > 0, else 0
        loss = as_float64(xp.maximum(1 - s, 0).mean())
        return loss, -active.astype(s.dtype) / s.size       # d mean relu(1 - s) / ds = -[s < 1] / N

    def d_fake(self, s):
        xp = get_array_module(s)
        active = s > -1                             # relu(1 + s) has slope +1 where 1 + s > 0
        loss = as_float64(xp.maximum(1 + s, 0).mean())
        return loss, active.astype(s.dtype) / s.size        # d mean relu(1 + s) / ds = [s > -1] / N

    def g_loss(self, s_fake):
        return _minus_mean(s_fake)


class WGAN(GANLoss):
    """Wasserstein (Arjovsky et al. 2017): the critic widens mean s_real - mean s_fake.

    It estimates the Wasserstein-1 distance only if D is 1-Lipschitz; WGAN
    enforces that crudely by clipping every weight of D to [-c, c] after each
    critic update (:func:`clip_weights`).
    """
    name, weight_clipping = "wgan", True

    def d_real(self, s):
        return _minus_mean(s)                       # -mean s_real

    def d_fake(self, s):
        xp = get_array_module(s)
        return as_float64(s.mean()), xp.full_like(s, 1.0 / s.size)   # d mean s / ds = 1 / N

    def g_loss(self, s_fake):
        return _minus_mean(s_fake)


class WGANGP(WGAN):
    """WGAN-GP (Gulrajani et al. 2017): the WGAN critic loss; a gradient penalty replaces clipping."""
    name, weight_clipping, gradient_penalty = "wgan-gp", False, True


def _minus_mean(s):
    """``-mean(s)`` and its gradient ``-1/N`` everywhere."""
    xp = get_array_module(s)
    return -as_float64(s.mean()), xp.full_like(s, -1.0 / s.size)  # d(-mean s)/ds = -1/N


def clip_weights(module, c, apply=True):
    """WGAN's Lipschitz constraint: every parameter of ``module`` clipped into [-c, c], in place.

    ``apply``: as :meth:`minigan.optim.Adam.step`'s (a 0-d device bool: kept only where true).
    """
    for _, p, _ in module.parameters():
        with kept_only_if(apply, p):
            get_array_module(p).clip(p, -c, c, out=p)


GAN_LOSSES = {cls.name: cls for cls in (BCE, Minimax, LSGAN, Hinge, WGAN, WGANGP)}
"""Every game by its name, as ``GANTrainer(loss=...)`` and ``minigan train --loss`` spell it."""


def make_gan_loss(name, sigmoid_head, label_smoothing=0.0):
    """The game ``name`` for a D that ends with a Sigmoid (``sigmoid_head``) or gives raw scores.

    Raises a ValueError naming the fix for an unknown name, a raw-score game on a
    Sigmoid D, or label smoothing with a game that has no targets (hinge, wgan, wgan-gp).
    """
    if name not in GAN_LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(GAN_LOSSES)}")
    cls = GAN_LOSSES[name]
    if sigmoid_head and cls.needs_raw_score:
        raise ValueError(f"loss {name!r} needs D's raw score, but D ends with a Sigmoid: build D without "
                         "it (dcgan28(..., sigmoid=False), dcgan64(..., sigmoid=False)) or drop the "
                         "layer (D = Sequential(*D.layers[:-1]))")
    if label_smoothing and not cls.has_labels:
        raise ValueError(f"label_smoothing works with the losses that have targets (bce, minimax, lsgan); "
                         f"{name!r} has none: leave label_smoothing at 0")
    return cls(logits=not sigmoid_head, real_label=1.0 - label_smoothing)
