"""The real batches of one training step: one for each of D's ``n_critic`` updates.

WGAN (Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875, Algorithm 1) and WGAN-GP
(Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028, Algorithm 1) draw a fresh real
batch for every critic update::

    for t = 1, ..., n_critic:
        sample x ~ P_r (a real batch), z ~ p(z)      # batch t
        update the critic on x and G(z)
    update G                                         # minigan: on the last critic update's fakes

:meth:`minigan.train.GANTrainer.step` takes either one batch, which every D update then reuses,
or a list of ``n_critic`` batches, batch k for D update k. :func:`critic_batches` turns both
into the same list, so the step reads ``x_real, y_real = reals[k]`` either way.
"""
from __future__ import annotations

__all__ = ["critic_batches"]


def critic_batches(x_real, labels, n_critic: int, to_model) -> list:
    """``[to_model(x_0, y_0), ..., to_model(x_{n-1}, y_{n-1})]``: D update k's real batch, ``n_critic`` of them.

    x_real: one array ``(N, C, H, W)``, every D update's; or a list/tuple of exactly ``n_critic``
            arrays ``(N, C, H, W)`` of one shape, array k for D update k.
    labels: None, or their classes, matching ``x_real``: one ``(N,)`` for one array, a list/tuple of
            ``n_critic`` of them for a list.
    to_model: ``(x, labels, which) -> (x, y)``, the trainer's check-and-move of one batch (``which``:
            ``""`` or ``"[k]"``, for its error messages). It runs once per distinct batch, every batch
            before any update, so a bad one is refused before D changes.

    A wrong count, labels that do not match, or batches of different shapes: a ``ValueError`` saying which.
    """
    if not isinstance(x_real, (list, tuple)):
        return [to_model(x_real, labels, "")] * n_critic     # one batch for every update: checked and moved once
    if len(x_real) != n_critic:
        raise ValueError(f"GANTrainer: x_real is a list of {len(x_real)} batches, but a step makes n_critic = "
                         f"{n_critic} D updates: give one batch per update, or one array for all of them")
    if labels is None:
        labels = [None] * n_critic                           # an unconditional pair (a conditional one says so)
    elif not isinstance(labels, (list, tuple)) or len(labels) != n_critic:
        got = f"a list of {len(labels)}" if isinstance(labels, (list, tuple)) else "one array"
        raise ValueError(f"GANTrainer: x_real is a list of {n_critic} batches, so labels must be a list of "
                         f"{n_critic} label arrays, one per batch; got {got}")
    reals = [to_model(x, y, f"[{k}]") for k, (x, y) in enumerate(zip(x_real, labels))]
    shapes = [tuple(x.shape) for x, _ in reals]
    if len(set(shapes)) > 1:                                 # G's fakes (and a given z) have one N for all
        raise ValueError(f"GANTrainer: the {n_critic} real batches of a step must have one shape, got "
                         f"{', '.join(map(str, shapes))}")
    return reals
