"""The adversarial game, one step at a time, with every gradient written out.

Goodfellow et al. (2014, https://arxiv.org/abs/1406.2661) train two networks
against each other:

- D, the discriminator, learns to output 1 on real images and 0 on G's fakes:
  it minimizes  BCE(D(x), 1) + BCE(D(G(z)), 0);
- G, the generator, learns to make D say 1 on its fakes: it minimizes
  BCE(D(G(z)), 1)  -- the *non-saturating* loss. (The original minimax loss,
  maximizing BCE(D(G(z)), 0), gives G almost no gradient early on, when D
  easily spots the fakes.)

That is the default game, ``loss="bce"``. Five others (minimax, lsgan, hinge,
wgan, wgan-gp) change only the two loss lines of each update and what D's last
layer outputs; they live in :mod:`minigan.gan_losses`, each with its gradient.

A *conditional* GAN (Mirza & Osindero, 2014) plays the same game with a class
label y beside every picture: D judges "a real picture of class y?", G draws
``G(z, y)``. The real batch comes with its labels; G's fakes get labels drawn
uniformly from the trainer's RNG, as in the cGAN and projection papers' code,
and D judges each fake with the label G was given. Labels are data: nothing
in the step computes a gradient for them (minigan/models/conditional.py).

G never sees a real image. Everything it learns arrives as dL/dx_fake: the
gradient of the loss with respect to D's *input*, which D's backward pass
computes anyway and hands back. That gradient then runs through G's backward
pass into G's weights. :meth:`GANTrainer.step` spells this out line by line.
"""
from __future__ import annotations

import copy

import numpy as np

from . import backend as B
from .augment import DiffAugment
from .critic_batches import critic_batches
from .gradflow import GradFlow
from .ema import update_ema
from .finite_check import FiniteCheck, NonFiniteLossError, all_buffers, all_finite, saved_buffers
from .gan_losses import clip_weights, make_gan_loss
from .models.noise import sample_noise
from .models.labels import conditional_classes, labels_checked, step_labels
from .nn import Sigmoid, first_layer_with_input_grad
from .nn.dropout import use_stream
from .optim import Adam
from .penalties import critic_layers, gradient_penalty_array, r1_penalty_array
from .step_stats import StepStats
from .trainer_state import SamplingAndSaving

__all__ = ["GANTrainer", "NonFiniteLossError", "StepInterrupted", "StepStats", "conditional_classes"]


class StepInterrupted(Exception):
    """``interrupted()`` said stop between two D updates: ``done`` of ``n_critic`` are applied, the rest and
    G's update are not. ``state_dict()`` now saves the step part-way; a trainer loaded from it finishes it."""

    def __init__(self, done: int, n_critic: int):
        super().__init__(f"stopped after {done} of {n_critic} D updates; the step goes on from there when resumed")
        self.done, self.n_critic = done, n_critic


class GANTrainer(SamplingAndSaving):
    """Trains a generator ``G`` and a discriminator ``D`` (both :class:`~minigan.nn.Sequential`).

    G maps z ``(N, nz, 1, 1)`` to images ``(N, C, H, W)``; D maps images to
    ``(N, 1, 1, 1)``: probabilities when its last layer is a Sigmoid, raw scores
    otherwise. Works on whichever backend G and D are on. A class-conditional pair
    (``dcgan28(..., num_classes=K)``: ``G(z, labels)``, ``D(x, labels)``) trains the
    same way, with the real batch's labels passed to :meth:`step`.

    Options:
        loss:             the game, a name in :data:`minigan.gan_losses.GAN_LOSSES`: ``"bce"``
                          (DCGAN's, the default), ``"minimax"``, ``"lsgan"``, ``"hinge"``,
                          ``"wgan"``, ``"wgan-gp"``. All but bce and minimax need D's raw score
                          (no final Sigmoid: ``dcgan28(sigmoid=False)``); bce and minimax on a
                          raw score use the stable with-logits form.
        clip:             wgan: every parameter of D is clipped into ``[-clip, clip]`` after
                          each D update.
        gp_weight:        wgan-gp: lambda, the gradient penalty's weight (10 in the paper).
        r1:               gamma of the R1 penalty ``(gamma/2) mean ||grad_x D(x_real)||^2``, any
                          loss; 0 = off.
        lr, betas:        Adam's, for both networks (DCGAN: 2e-4, (0.5, 0.999)).
        lr_g, lr_d:       each network's own learning rate, when given (TTUR: e.g. lr_d = 4 lr_g).
        seed:             seeds the training noise; same seed + same data -> bitwise the same
                          weights (NumPy). :meth:`generate` and :meth:`sample_noise` draw from a
                          second stream, so sampling between steps never changes training; the
                          masks of any Dropout in G or D from a fourth (minigan/nn/dropout.py).
        noise:            ``"normal"`` or ``"uniform"`` z.
        label_smoothing:  one-sided: D's target for real images is ``1 - label_smoothing``
                          (fakes stay 0), so D is never rewarded for total certainty. Only for
                          the losses with targets (bce, minimax, lsgan); an error with the others.
        n_critic:         D updates per G update, each with a fresh fake batch, and its own real
                          batch when :meth:`step` is given a list of them (else the same one).
        ema:              decay of an exponential moving average of G's weights (e.g. 0.999),
                          or None. The average G gives smoother samples; :meth:`generate` uses it.
        augment:          DiffAugment's policy, e.g. ``"translation,cutout,color"`` (Zhao et al. 2020), or
                          None: every image D sees in the losses, real and fake, in D's update and
                          in G's, goes through a fresh random transform T, and G's gradient through
                          ``T.backward`` (docs/augmentation.md). The penalties (wgan-gp, r1) act on
                          the un-augmented x_hat and x_real. Its draws come from a third stream.
        track_grad_flow:  record per-layer statistics in ``stats["grad_flow"]`` (see
                          :mod:`minigan.gradflow`). An attribute too: switch it on for only
                          the steps you want to record, as ``minigan train`` does.

    The trainer sets G's first layer's ``input_grad = False`` for good: nothing upstream of z
    learns, so G's backward skips dLoss/dz (and returns None). D's is False in D's update
    and True in G's. "First" is :func:`~minigan.nn.first_layer_with_input_grad`: the first
    layer that would compute dLoss/dx, behind any Flatten, Pack or Dropout (the MLPs').
    """

    def __init__(self, G, D, lr=2e-4, betas=(0.5, 0.999), seed=0, noise="normal",
                 label_smoothing=0.0, n_critic=1, ema=None, track_grad_flow=False,
                 loss="bce", clip=0.01, gp_weight=10.0, r1=0.0, lr_g=None, lr_d=None, augment=None):
        if not 0.0 <= label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}")
        if ema is not None and not 0.0 < ema < 1.0:
            raise ValueError(f"ema decay must be in (0, 1), e.g. 0.999; got {ema}")
        clip = 0.01 if clip is None else clip                   # None: the default (a config leaves unset
        gp_weight = 10.0 if gp_weight is None else gp_weight    # what its game does not read)
        if not (clip > 0 and gp_weight >= 0 and r1 >= 0):
            raise ValueError(f"need clip > 0, gp_weight >= 0 and r1 >= 0; got clip={clip}, "
                             f"gp_weight={gp_weight}, r1={r1}")
        self.G, self.D = G, D
        self.num_classes = conditional_classes(G, D)          # K for a conditional pair, else None
        last = getattr(D, "sigmoid", None) or D.layers[-1]      # ProjectionD keeps its sigmoid apart from .layers
        self.loss = make_gan_loss(loss, sigmoid_head=isinstance(last, Sigmoid), label_smoothing=label_smoothing)
        self.clip = float(clip) if self.loss.weight_clipping else None   # wgan only
        self.gp_weight, self.r1 = float(gp_weight), float(r1)
        if self.loss.gradient_penalty or self.r1 > 0:         # a clear error now, not at the first step
            critic_layers(D, f"GANTrainer({'loss=' + repr(loss) if self.loss.gradient_penalty else 'r1=' + str(r1)})")
        self.opt_G = Adam(G, lr=lr if lr_g is None else lr_g, betas=betas)
        self.opt_D = Adam(D, lr=lr if lr_d is None else lr_d, betas=betas)
        self.rng = np.random.default_rng(seed)                # z for training steps (and wgan-gp's a)
        self.sample_rng = np.random.default_rng([seed, 1])    # z for generate(): its own stream
        self.augment = DiffAugment(augment or "", seed=[seed, 2])   # T, drawing from a third stream;
                                                              # with no policy, the identity (draws nothing)
        self.dropout_rng = np.random.default_rng([seed, 3, 0])   # Dropout's masks: a fourth stream, a key
        for net in (G, D):                                    # no other stream uses (minigan/nn/dropout.py)
            use_stream(net, self.dropout_rng)
        self.noise, self.label_smoothing, self.n_critic = noise, float(label_smoothing), int(n_critic)
        self.nz = G.nz if hasattr(G, "nz") else G.layers[0].in_channels   # a conditional G's (and an MLP's) G.nz
        self.ema_decay = ema
        self.G_ema = copy.deepcopy(G).eval() if ema is not None else None
        self.step_count = 0
        self.last_fakes = None                                # (x_fake, dLoss_G/dx_fake) of the latest G update
        self.critic_done = 0        # D updates of the current step done before it was cut short (saved, resumed)
        self.interrupted = None     # None, or a callable (the job's signal flag) that stops a step between D updates
        first_layer_with_input_grad(G).input_grad = False     # z is drawn, not learned: skip dLoss/dz
        self.track_grad_flow = track_grad_flow
        self.gradflow = {"G": GradFlow(G), "D": GradFlow(D)}  # attached only while track_grad_flow

    # -- the algorithm ----------------------------------------------------------
    @labels_checked()                                         # labels are checked on the host, before they move
    def step(self, x_real, labels=None, z=None, *, fake_labels=None) -> StepStats:
        """One D update (``n_critic`` of them), then one G update. Returns the statistics below.

        x_real: (N, C, H, W) real images scaled to [-1, 1] (NumPy arrays are moved to G's backend), used
                by every D update; or a list/tuple of ``n_critic`` such batches, batch k for D update k:
                a fresh real batch per critic update, as WGAN's and WGAN-GP's papers (minigan/critic_batches.py).
        labels: (N,) int class of each real image: required for a conditional pair, an error otherwise;
                with a list of batches, a list of their ``n_critic`` label arrays.
        z:      (N, nz, 1, 1) noise, or None to draw it from the trainer's seeded RNG.
        fake_labels: (N,) classes G is asked to draw, or None to draw them uniformly from that RNG
                (conditional only; like z, fresh for each D update unless given).

        ``s`` below is D's output: a probability p = D(x) on a Sigmoid D, a raw score otherwise;
        ``ds_real``, ``ds_fake``, ``ds_g`` are the derivatives of one loss with respect to one ``s``.
        The statistics (the keys of the job's metrics.csv):
            loss_d        D's loss in its (last) update: bce/minimax ``BCE(D(x), 1) + BCE(D(G(z)), 0)``;
                          lsgan, hinge, wgan as in :mod:`minigan.gan_losses` (wgan: ``mean s_fake -
                          mean s_real``, minus the critic's Wasserstein estimate)
            loss_g        G's loss, by the updated D (minimax: ``mean log(1 - D(G(z)))``, negative)
            d_x           D on the real batch; d_g_z: on the fakes, in D's update; d_g_z_after: on
                          the fakes, in G's update, after D's. bce/minimax: the mean *probability*
                          (``sigmoid(s)`` first on a raw score); lsgan/hinge/wgan: the mean raw score.
            gp, gp_grad_norm  wgan-gp only: the penalty term in loss_d, ``lambda mean (||g|| - 1)^2``,
                          and ``mean ||g||``, g = grad_x D(x_hat) (the last critic update's)
            r1, r1_grad_norm  r1 > 0 only: ``(gamma / 2) mean ||g||^2`` in loss_d, and ``mean ||g||``,
                          g = grad_x D(x_real)

        Read them like a dict of Python floats (a :class:`~minigan.step_stats.StepStats`). On a GPU
        nothing in the step waits for it: the numbers come in one transfer when first read (a
        ``track_grad_flow`` step's tables transfer as they are gathered).

        A NaN or infinite loss raises :class:`NonFiniteLossError` naming the update; it is not
        applied, nor any later one of the step, and the BatchNorm statistics are put back. NumPy
        raises here; a GPU masks the updates on the device and raises when the statistics are
        read (minigan/finite_check.py), ``step_count`` having counted the step.
        """
        G, D, T = self.G, self.D, self.augment               # T: DiffAugment (the identity without augment=)
        reals = critic_batches(x_real, labels, self.n_critic, self._real_batch)   # n_critic (x, y), on G's
        N = reals[0][0].shape[0]                              # backend: update k's; y: (labels,) or ()
        check = FiniteCheck(self.step_count + 1)              # refuses a NaN update (minigan/finite_check.py)
        flow = self._monitor_g()                              # grad-flow monitors, if tracked (a side task)

        # ---- 1 + 2. Update D: real images -> 1, fake images -> 0 (or the chosen game's targets)
        D_first = first_layer_with_input_grad(D)              # D's first layer (behind Flatten, Pack, Dropout)
        D_first.input_grad = False                            # D's inputs are constants in its update
        start = min(self.critic_done, self.n_critic - 1)      # a step cut short goes on at its next D update
        for k in range(start, self.n_critic):
            if k > start and self.interrupted is not None and self.interrupted():
                self.critic_done = k                          # saved with the state: a resume goes on from here,
                raise StepInterrupted(k, self.n_critic)       # exactly as if the step had not stopped
            before = saved_buffers(G, D)                      # BN running stats, to undo a failed update
            self.opt_D.zero_grad()
            x_real, y_real = reals[k]                         # (N, C, H, W): this update's real batch

            # 1. D on the real batch, target 1.
            s_real = D.forward(T.forward(x_real), *y_real)    # (N, 1, 1, 1): D's output s = D(x)
            loss_real, ds_real = self.loss.d_real(s_real)     # bce: BCE(D(x), 1); ds_real = dLoss_real/ds_real
            D.backward(ds_real)                               # D.grads += dLoss_real/dtheta_D

            # 2. G makes a fake batch; D on it, target 0.
            z_k, y_fake = self._noise_and_labels(N, z, fake_labels, x_real)   # (N, nz, 1, 1); conditional: classes
            x_fake = G.forward(z_k, *y_fake)                  # (N, C, H, W); G's caches are kept for step 3
            s_fake = D.forward(T.forward(x_fake), *y_fake)    # D(G(z))
            loss_fake, ds_fake = self.loss.d_fake(s_fake)     # bce: BCE(D(G(z)), 0)
            D.backward(ds_fake)                               # D.grads += dLoss_fake/dtheta_D; the dx it
                                                              # returns is dropped: nothing flows into G
            penalty, penalties = self._penalties(x_real, x_fake, y_real)   # 2b. wgan-gp, R1 (if on); their terms, logged
            loss_d = loss_real + loss_fake + penalty
            ok = check(loss_d, "Loss_D", self._critic_name(k), before)   # finite? (on a GPU: a device bool)
            self.opt_D.step(apply=ok)                         # Adam on D only
            self._clip_critic(ok)                             # wgan: every weight of D into [-c, c]

        # ---- 3. Update G: make D say 1 on the same fake batch (bce: the non-saturating loss)
        before = saved_buffers(G, D)
        self.opt_G.zero_grad()
        D.requires_grad_(False)                               # D's weights are fixed in this step:
        D_first.input_grad = True                             # its backward only passes dx through
        D.monitor = flow["D"] if flow else None
        s_fake_g = D.forward(T.forward(x_fake), *y_fake)      # the updated D judges G's batch again
        loss_g, ds_g = self.loss.g_loss(s_fake_g)             # bce: BCE(D(G(z)), 1); ds_g = dLoss_G/ds_fake_g
        dx_fake = T.backward(D.backward(ds_g))                # dLoss_G/dx_fake: (N, C, H, W), through D, then T
        self.last_fakes = x_fake, dx_fake                     # kept for the 2D lab's arrows (minigan/job/plane.py)
        D.requires_grad_(True)
        D.monitor = None
        G.backward(dx_fake)                                   # ... and on through G: G.grads = dLoss_G/dtheta_G
        ok = check(loss_g, "Loss_G", "the generator G", before)
        self.opt_G.step(apply=ok)                             # Adam on G only
        self._update_ema(ok)                                  # the moving average of G, if kept

        self.step_count += 1
        self.critic_done = 0                                  # the step is whole
        return self._statistics(loss_d, loss_g, s_real, s_fake, s_fake_g, penalties, check, flow)

    # -- the named steps the algorithm above calls (each one a reader can skip) --
    def _real_batch(self, x_real, labels, which=""):
        """``(x_real, y_real)``: the batch on G's backend; ``(labels,)`` for a conditional pair, else ``()``."""
        x_real = self._to_model(x_real, f"x_real{which}")
        return x_real, self._labels(labels, x_real, f"labels{which}")

    def _noise_and_labels(self, N, z, fake_labels, x_real):
        """This D update's noise ``(N, nz, 1, 1)`` (``z``, or fresh draws) and the classes G is asked for."""
        z_k = self._noise(N) if z is None else self._to_model(z, "z")
        return z_k, self._fake_labels(N, fake_labels, x_real)

    def _penalties(self, x_real, x_fake, y_real):
        """Loss_D's penalty terms: ``(their sum, {name: weight * P, name_grad_norm: mean ||grad_x D||})``.

        Each adds its ``weight * dP/dtheta_D`` into D.grads. wgan-gp: ``lambda * mean
        (||grad_x D(x_hat)|| - 1)^2`` at random points between reals and fakes; R1 (``--r1
        gamma``): ``gamma/2 * mean ||grad_x D(x_real)||^2``. They judge D itself, at the
        un-augmented images (no T); a conditional D with the real pictures' labels ``y_real``.
        ``(0.0, {})`` when neither is on.
        """
        terms = []
        if self.loss.gradient_penalty:
            a = self._uniform(x_real.shape[0])                # (N, 1, 1, 1): a ~ U(0, 1), one per sample
            terms.append(("gp", gradient_penalty_array, a * x_real + (1 - a) * x_fake, self.gp_weight))
        if self.r1 > 0:
            terms.append(("r1", r1_penalty_array, x_real, self.r1 / 2))
        total, logged = 0.0, {}
        labels = y_real[0] if y_real else None                 # conditional: D(., y) with the reals' labels
        for name, penalty, x, weight in terms:
            P, norm = penalty(self.D, x, weight=weight, labels=labels, with_norm=True)   # + weight * dP/dtheta_D
            logged[name], logged[f"{name}_grad_norm"] = weight * P, norm   # ... and weight * P into Loss_D:
            total = total + logged[name]                                   # the weight, in one place
        return total, logged

    def _clip_critic(self, ok):
        if self.clip is not None:                             # wgan only
            clip_weights(self.D, self.clip, apply=ok)

    def _update_ema(self, ok):
        if self.G_ema is not None:                            # minigan/ema.py
            update_ema(self.G_ema, self.G, self.ema_decay, self.step_count, apply=ok)

    def _monitor_g(self):
        """The step's grad-flow monitors when ``track_grad_flow`` (G's is attached now, D's in step 3)."""
        flow = self.gradflow if self.track_grad_flow else None
        if flow:
            self.G.monitor = flow["G"]
        return flow

    def _statistics(self, loss_d, loss_g, s_real, s_fake, s_fake_g, penalties, check, flow):
        """The step's :class:`StepStats` (see :meth:`step`): nothing is fetched from a GPU yet."""
        stats = {
            "loss_d": loss_d,                                 # bce: BCE(D(x), 1) + BCE(D(G(z)), 0)
            "loss_g": loss_g,                                 # bce: BCE(D(G(z)), 1), after D's update
            "d_x": self.loss.d_mean(s_real),                  # mean D(x): D's belief the reals are real
            "d_g_z": self.loss.d_mean(s_fake),                # mean D(G(z)) in D's step, before its update
            "d_g_z_after": self.loss.d_mean(s_fake_g),        # mean D(G(z)) in G's step, after D's update
            **penalties,                                      # wgan-gp: gp, gp_grad_norm; --r1: r1, r1_grad_norm
        }
        on_host = {}                                          # entries gathered on the host already
        if flow:
            self.G.monitor = None
            on_host["grad_flow"] = {name: gf.summary() for name, gf in flow.items()}
        return StepStats(stats, check, all_finite(all_buffers(self.G, self.D)), on_host)

    # -- labels: the conditional pair's extra input -----------------------------
    def _labels(self, labels, x, name):
        return step_labels(self.num_classes, labels, x, name)   # conditional: (labels,); else ()

    def _fake_labels(self, n, given, x):
        """The classes G draws in this D update: ``given``, or n uniform draws from the training RNG."""
        if self.num_classes is not None and given is None:
            given = self.rng.integers(0, self.num_classes, n)  # uniform over the classes, as the papers' code
        return self._labels(given, x, "fake_labels")

    # -- helpers ----------------------------------------------------------------
    def _reference(self):
        return next(iter(self.G.params.values()))

    def _to_model(self, a, name):
        ref = self._reference()
        if not hasattr(a, "shape") or getattr(a, "ndim", 0) != 4:
            raise ValueError(f"GANTrainer: {name} must be a 4-D array (N, C, H, W), got "
                             f"{getattr(a, 'shape', type(a).__name__)}")
        return B.asarray(a, B.backend_name(ref), ref.dtype)

    def _noise(self, n, rng=None):
        ref = self._reference()
        z = sample_noise(n, self.nz, self.noise, self.rng if rng is None else rng, ref.dtype)
        return B.asarray(z, B.backend_name(ref))

    def _uniform(self, n):
        """(n, 1, 1, 1) draws of U(0, 1) from the training stream, on G's backend (wgan-gp's a)."""
        ref = self._reference()
        return B.asarray(self.rng.uniform(0.0, 1.0, (n, 1, 1, 1)), B.backend_name(ref), ref.dtype)

    def _critic_name(self, k):
        if self.n_critic == 1:
            return "the discriminator D"
        return f"the discriminator D (D update {k + 1} of {self.n_critic}; the earlier ones were applied)"
