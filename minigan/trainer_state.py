"""What a :class:`~minigan.train.GANTrainer` samples and saves: ``generate``, ``state_dict``, ``load_state_dict``.

The training step is in minigan/train.py; these methods are the trainer's other
job, kept apart so that file reads as the algorithm. They use the trainer's
``G``, ``D``, ``G_ema``, optimizers, random streams and augmentation, and its
``_noise``, ``_to_model`` and ``_labels`` helpers.
"""
from __future__ import annotations

import numpy as np


class SamplingAndSaving:
    """The sampling and checkpoint methods of :class:`~minigan.train.GANTrainer` (a base class of it)."""

    # -- sampling ---------------------------------------------------------------
    def generate(self, n=64, labels=None, z=None, use_ema=True):
        """``n`` images, in eval mode, as an array on G's backend.

        labels: (n,) classes for a conditional G; None: each class in turn (0, 1, ..., K-1, 0, ...).
        z:      (n, nz, 1, 1) noise, or None for fresh noise from the sampling stream.
        Given ``labels`` or ``z`` set the number of pictures (one per entry), not ``n``.
        Uses the EMA generator when one is kept (``use_ema``). Eval mode means
        batch norm uses its running statistics, so a sample does not depend on
        the rest of its batch; nothing about G's training state changes.
        """
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"generate: n must be an int (pass noise as generate(z=...)), got {type(n).__name__}")
        net = self.G_ema if (use_ema and self.G_ema is not None) else self.G
        if z is None:
            z = self.sample_noise(n if labels is None else len(labels))
        z = self._to_model(z, "z")
        if self.num_classes is not None and labels is None:
            labels = np.arange(len(z)) % self.num_classes      # every class in turn
        y = self._labels(labels, z, "labels")                 # (labels,) or ()
        with net.evaluating():                                # eval mode; G's backward cache survives
            return net.forward(z, *y)

    def sample_noise(self, n):
        """``n`` noise vectors for sampling, on G's backend (not the training steps' stream)."""
        return self._noise(n, self.sample_rng)

    # -- saving and resuming ----------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue bitwise-exactly: weights, Adam moments, EMA, RNG, step."""
        return {
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "G_ema": None if self.G_ema is None else self.G_ema.state_dict(),
            "rng": self.rng.bit_generator.state, "sample_rng": self.sample_rng.bit_generator.state,
            "augment": self.augment.state_dict(),
            "dropout_rng": self.dropout_rng.bit_generator.state,
            "step": self.step_count,
            "critic_done": self.critic_done,
        }

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        if self.G_ema is not None:
            if state.get("G_ema") is None:
                raise ValueError("the checkpoint has no EMA generator, but this trainer keeps one; "
                                 "resume without --ema (or GANTrainer(ema=None)), or start a new run with it")
            self.G_ema.load_state_dict(state["G_ema"])
        self.rng.bit_generator.state = state["rng"]
        if "sample_rng" in state:                             # absent in checkpoints of minigan <= 0.1.0
            self.sample_rng.bit_generator.state = state["sample_rng"]
        if "augment" in state:                                # absent in checkpoints before DiffAugment
            self.augment.load_state_dict(state["augment"])
        if "dropout_rng" in state:                            # absent in checkpoints before Dropout
            self.dropout_rng.bit_generator.state = state["dropout_rng"]
        self.step_count = int(state["step"])
        self.critic_done = int(state.get("critic_done", 0))   # absent before steps could stop between D updates
