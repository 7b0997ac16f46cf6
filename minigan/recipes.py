"""Recipes: each paper's training settings under one name, ``minigan train --recipe wgan-gp``.

A recipe fills in the settings a run leaves unset; any flag given explicitly
wins (``--recipe wgan-gp --lr 2e-4`` trains WGAN-GP at 2e-4). The job prints
the recipe it uses at start-up. The settings a recipe does not name keep
minigan's defaults, the ``dcgan`` recipe's.

========== ========= ======== ============ ============= ======= ===== ======= ================================
recipe     loss      n_critic lr (G / D)   betas         D norm  SN    D head  other
========== ========= ======== ============ ============= ======= ===== ======= ================================
dcgan      bce       1        2e-4         (0.5, 0.999)  batch   no    sigmoid
dcgan-ema  bce       1        2e-4         (0.5, 0.999)  batch   no    sigmoid EMA of G, decay 0.999
dcgan-fast bce       1        4e-4         (0.5, 0.999)  batch   no    sigmoid
dcgan-ttur bce       1        1e-4 / 4e-4  (0.5, 0.999)  batch   no    sigmoid
dcgan-sn   bce       1        2e-4         (0.5, 0.999)  none    yes   raw
lsgan      lsgan     1        2e-4         (0.5, 0.999)  batch   no    raw
hinge      hinge     1        2e-4         (0.5, 0.999)  batch   no    raw
sngan      hinge     1        2e-4         (0.5, 0.999)  none    yes   raw
wgan       wgan      5        5e-5         (0.0, 0.999)  batch   no    raw     clip 0.01
wgan-gp    wgan-gp   5        1e-4         (0.0, 0.9)    none    no    raw     lambda 10
r1         bce       1        2e-4         (0.5, 0.999)  none    no    raw     R1 gamma 10
========== ========= ======== ============ ============= ======= ===== ======= ================================

Where each comes from:

- ``dcgan``: Radford, Metz & Chintala 2016 (https://arxiv.org/abs/1511.06434): Adam, lr 2e-4, beta1 0.5,
  batch norm in D, non-saturating BCE on a Sigmoid.
- ``dcgan-ema``: DCGAN plus an exponential moving average of G's weights (Yazici et al. 2019,
  https://arxiv.org/abs/1806.04498); samples come from the average.
- ``dcgan-fast``: DCGAN at twice its learning rate, 4e-4 for both networks. Not a paper's
  setting: minigan's own measurement (docs/losses-and-stabilizers.md) found it the one change
  that lowers the Frechet distance at 1,500 generator steps by more than 15% (20%, two seeds).
  Whether it still wins at 50 epochs is not measured.
- ``dcgan-ttur``: the two time-scale update rule (Heusel et al. 2017, https://arxiv.org/abs/1706.08500),
  with the learning rates SAGAN made common (Zhang et al. 2019: lr_G 1e-4, lr_D 4e-4).
- ``dcgan-sn``: DCGAN's game with spectral normalization in place of D's batch norm
  (Miyato et al. 2018, https://arxiv.org/abs/1802.05957); the raw-score head, BCE with logits.
- ``lsgan``: Mao et al. 2017 (https://arxiv.org/abs/1611.04076). They train with Adam, beta1 0.5; minigan
  keeps DCGAN's lr 2e-4 and D, so a comparison isolates the loss.
- ``hinge``: the hinge game (Lim & Ye 2017, https://arxiv.org/abs/1705.02894) on DCGAN's D.
- ``sngan``: Miyato et al. 2018: hinge loss, spectral norm on every layer of D, no batch norm in D, their
  Table 1 setting C (lr 2e-4, betas (0.5, 0.999), n_dis 1), the setting that costs one D update per G update.
- ``wgan``: Arjovsky et al. 2017 (https://arxiv.org/abs/1701.07875): n_critic 5, each critic update on a
  fresh real batch (the job's step takes 5), clip 0.01, lr 5e-5 with RMSprop. minigan has Adam; Adam with
  beta1 = 0 keeps no momentum (the paper found momentum destabilized the critic) and is RMSprop with bias
  correction, so ``wgan`` uses Adam(5e-5, (0.0, 0.999)).
- ``wgan-gp``: Gulrajani et al. 2017 (https://arxiv.org/abs/1704.00028), Algorithm 1: lambda 10,
  n_critic 5 (a fresh real batch each, as for wgan), Adam lr 1e-4, betas (0, 0.9), no batch norm in the critic.
- ``r1``: the non-saturating game with the R1 penalty on real images, gamma 10 (Mescheder et al. 2018,
  https://arxiv.org/abs/1801.04406), on D without batch norm.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipe:
    """One recipe: the paper it follows and the :class:`~minigan.job.config.TrainConfig` fields it sets."""

    name: str
    source: str
    settings: dict = field(default_factory=dict)

    def describe(self) -> str:
        """``"wgan-gp (Gulrajani et al. 2017): loss wgan-gp, n_critic 5, ..."``, as the job prints it."""
        shown = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in self.settings.items())
        return f"{self.name} ({self.source}): {shown}"


DCGAN = {"loss": "bce", "n_critic": 1, "lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "d_norm": "batch",
         "spectral_norm": False}
"""minigan's defaults: every recipe starts from these."""

RECIPES = {r.name: r for r in [
    Recipe("dcgan", "Radford et al. 2016", dict(DCGAN, d_head="sigmoid")),
    Recipe("dcgan-ema", "Radford et al. 2016 + EMA of G, Yazici et al. 2019", dict(DCGAN, d_head="sigmoid", ema=0.999)),
    Recipe("dcgan-fast", "Radford et al. 2016 at twice the lr, measured by minigan", dict(DCGAN, d_head="sigmoid",
                                                                                          lr=4e-4)),
    Recipe("dcgan-ttur", "Radford et al. 2016 + TTUR, Heusel et al. 2017", dict(DCGAN, d_head="sigmoid",
                                                                               lr_g=1e-4, lr_d=4e-4)),
    Recipe("dcgan-sn", "Radford et al. 2016 + spectral norm, Miyato et al. 2018",
           dict(DCGAN, d_norm="none", spectral_norm=True, d_head="raw")),
    Recipe("lsgan", "Mao et al. 2017", dict(DCGAN, loss="lsgan", d_head="raw")),
    Recipe("hinge", "Lim & Ye 2017", dict(DCGAN, loss="hinge", d_head="raw")),
    Recipe("sngan", "Miyato et al. 2018, Table 1 setting C", dict(DCGAN, loss="hinge", d_norm="none",
                                                                   spectral_norm=True, d_head="raw")),
    Recipe("wgan", "Arjovsky et al. 2017, Adam(beta1 0) for RMSprop", dict(DCGAN, loss="wgan", n_critic=5, lr=5e-5,
                                                                          beta1=0.0, clip=0.01, d_head="raw")),
    Recipe("wgan-gp", "Gulrajani et al. 2017", dict(DCGAN, loss="wgan-gp", n_critic=5, lr=1e-4, beta1=0.0,
                                                     beta2=0.9, gp_weight=10.0, d_norm="none", d_head="raw")),
    Recipe("r1", "Mescheder et al. 2018", dict(DCGAN, r1=10.0, d_norm="none", d_head="raw")),
]}
"""Every recipe by name, as ``--recipe`` spells it."""
