"""The training run's configuration, and the models it describes.

:class:`TrainConfig` is the run's settings as a dataclass: every field is a
``--flag`` of ``minigan train`` (``batch_size`` is ``--batch-size``), with its
help text and its section of ``--help`` in the field's metadata. The job
prints it at start-up and saves it as ``config.json`` and in every checkpoint.

    cfg = TrainConfig(dataset="fashion-mnist", max_steps=500).resolved()
    G, D = build_models(cfg)                       # what the checkpoint's arrays belong to

Everything that rebuilds a run from its saved config (the job, ``generate``,
``evaluate``, the report) imports from here, so nothing imports the job.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

from .. import backend as B
from .arg_types import in_range, nonnegative_float, nonnegative_int, positive_float, positive_int, yes_no
from .data import DATASET_CLASSES, POINT_SETS
from ..gan_losses import GAN_LOSSES
from ..models import ARCHITECTURES, CONDITIONAL_FORMS
from ..recipes import RECIPES
from .settings_checks import (COLLAPSE_SETS, GAME_ONLY, check_collapse, check_flags_apply,
                              check_game, with_collapse_defaults, with_game_defaults)

DATASET_CHANNELS = {"folder": 3, "stacked-mnist": 3, "ring": 2, "grid": 2}   # the others: 1
DEFAULT_EPOCHS = 5                               # the length of a run given neither --epochs nor --max-steps


def option(default, help, group, **argparse_kwargs):
    """A config field that is also a --flag: its default, its --help text, its --help section."""
    return field(default=default, metadata={"help": help, "group": group, **argparse_kwargs})


@dataclass
class TrainConfig:
    """Everything a training run depends on. Field ``batch_size`` is the flag ``--batch-size``."""

    # data
    dataset: str = option("mnist", "the training pictures; ring and grid: 8 or 25 Gaussians in the plane "
                          "(2D points), stacked-mnist: three MNIST digits as one RGB picture (1,000 modes)", "data",
                          choices=("mnist", "fashion-mnist", "folder", *COLLAPSE_SETS))
    data_dir: str | None = option(None, "folder holding the dataset's files; default: the cache "
                                  "folder (see minigan/job/data/mnist.py); required for --dataset folder",
                                  "data", type=str, metavar="DIR")
    channels: int | None = option(None, "colour channels of --dataset folder: 3 = RGB, 1 = grayscale; "
                                  "default 3 (MNIST and Fashion-MNIST have 1)", "data", type=int, choices=(1, 3))
    # model
    arch: str | None = option(None, "dcgan28 makes 28x28 pictures, dcgan64 64x64 (it resizes 28x28 data to 64), "
                              "mlp the original GAN's multilayer perceptrons (minigan/models/mlp.py); default: "
                              "mlp for ring and grid, else dcgan28", "model", choices=tuple(ARCHITECTURES), type=str)
    nz: int | None = option(None, "length of the noise vector z; default: 2 for ring and grid, else 100", "model",
                            type=positive_int)
    ngf: int = option(64, "generator width (feature maps of G's last hidden layer)", "model",
                      type=positive_int)
    ndf: int = option(64, "discriminator width (feature maps of D's first layer)", "model",
                      type=positive_int)
    d_norm: str | None = option(None, "D's normalization: batch norm, or none (the penalties, wgan-gp and "
                                "--r1, need none); default: the recipe's, else none for wgan-gp, --r1 or "
                                "--spectral-norm (which replaces it, as the SN papers do) and batch otherwise",
                                "model", choices=("batch", "none"), type=str)
    spectral_norm: bool | None = option(
        None, "spectral normalization of every Conv2d (an MLP: Maxout and Linear) of D (Miyato et al. 2018); "
        "--spectral-norm alone means yes; default: the recipe's, else no",
        "model", type=yes_no, nargs="?", const=True, metavar="yes|no")
    g_norm: str = option("batch", "G's normalization on 2D data (--dataset ring or grid): batch norm after each "
                         "hidden layer (PacGAN's G), or none (ReLU layers, He-initialized)", "model",
                         choices=("batch", "none"), type=str)
    # the collapse lab's stabilizers: D sees more than one sample at a time
    pack: int = option(1, "PacGAN's packing: D judges M samples at once, reals with reals and fakes with fakes; "
                       "M must divide --batch-size; 1 = off", "model", type=positive_int, metavar="M")
    mbstd: bool = option(False, "minibatch standard deviation (ProGAN): one more feature before D's last layer, "
                         "the spread of D's features over groups of 4 samples; --mbstd alone means yes", "model",
                         type=yes_no, nargs="?", const=True, metavar="yes|no")
    d_head: str | None = option(None, "D's last layer: a Sigmoid (probabilities) or none (a raw score, as "
                                "every loss but bce and minimax needs); default: sigmoid for bce and "
                                "minimax without --r1, else raw", "model", choices=("sigmoid", "raw"), type=str)
    conditional: str | None = option(None, "train a class-conditional GAN: G(z, y) draws the class y asked "
                                     "for; concat: one-hot labels appended to G's z and D's channels; "
                                     "projection: D's score gains <embed(y), D's features> "
                                     "(docs/conditional-gan.md); mnist, fashion-mnist, or a folder with a "
                                     "sub-folder per class", "model", type=str, choices=CONDITIONAL_FORMS)
    class_names: list | None = field(default=None, metadata={
        "help": "the classes of a --conditional run, label k is class_names[k]: the dataset's, or a folder's "
                "sub-folders, sorted; filled in by the job, not a flag", "group": "model", "flag": False})
    data_fingerprint: dict | None = field(default=None, metadata={
        "help": "the training data's fingerprint, {pictures, sha256} of the decoded arrays "
                "(minigan/job/data/fingerprint.py): a resume on other data is refused; filled in by the job, "
                "not a flag", "group": "data", "flag": False})
    dtype: str = option("float32", "floating-point type of weights and activations", "model",
                        choices=("float32", "float64"))
    backend: str = option("numpy", "array backend: numpy on the CPU, cupy on an NVIDIA GPU", "model",
                         choices=B.BACKENDS)
    plain: bool = option(False, "run every layer and the optimizer on their plain paths, the code their "
                         "docstrings derive (minigan/fast/__init__.py): the same numbers to the last bits, "
                         "slower; --plain alone means yes; MINIGAN_PLAIN=1 does the same", "model",
                         type=yes_no, nargs="?", const=True, metavar="yes|no")
    # training
    epochs: int | None = option(None, f"passes over the training set; default: {DEFAULT_EPOCHS}, or as "
                                "many as --max-steps needs", "training", type=positive_int)
    max_steps: int | None = option(None, "stop after this many steps in all; given alone, it sets the "
                                   "run's length (the epochs follow); default: the epochs' steps",
                                   "training", type=positive_int)
    batch_size: int = option(64, "pictures per step", "training", type=positive_int)
    recipe: str | None = option(None, "a paper's settings (loss, n_critic, lr, betas, D's form; "
                                "minigan/recipes.py); any flag given overrides it; default: dcgan's",
                                "training", choices=tuple(RECIPES), type=str)
    loss: str | None = option(None, "the GAN game (minigan/gan_losses.py); default: the recipe's, else bce",
                              "training", choices=tuple(GAN_LOSSES), type=str)
    clip: float | None = option(None, "wgan: D's weights clipped into [-clip, clip]; default: 0.01",
                                "training", type=positive_float)
    gp_weight: float | None = option(None, "wgan-gp: lambda, the gradient penalty's weight; default: 10",
                                     "training", type=positive_float, metavar="LAMBDA")
    r1: float | None = option(None, "R1 penalty (gamma/2) mean ||grad_x D(x_real)||^2 with any loss; 0 = "
                              "off; default: the recipe's, else 0", "training", type=nonnegative_float,
                              metavar="GAMMA")
    lr: float | None = option(None, "Adam's learning rate, for G and D; default: the recipe's, else 2e-4",
                              "training", type=positive_float)
    lr_g: float | None = option(None, "G's own learning rate (TTUR); default: --lr", "training", type=positive_float)
    lr_d: float | None = option(None, "D's own learning rate (TTUR); default: --lr", "training", type=positive_float)
    beta1: float | None = option(None, "Adam's beta1; default: the recipe's, else 0.5 (DCGAN)", "training",
                                 type=in_range(0.0, 1.0))
    beta2: float | None = option(None, "Adam's beta2; default: the recipe's, else 0.999", "training",
                                 type=in_range(0.0, 1.0))
    augment: str | None = option(None, "DiffAugment policy, e.g. translation,cutout,color: every picture D "
                                 "sees is augmented, real and fake (docs/augmentation.md); default: none",
                                 "training", type=str, metavar="POLICY")
    noise: str = option("normal", "distribution of z: N(0, 1) or U(-1, 1)", "training",
                        choices=("normal", "uniform"))
    seed: int = option(0, "seeds the weights, the noise and the data order", "training",
                     type=nonnegative_int)
    ema: float | None = option(None, "keep an exponential moving average of G's weights with this "
                               "decay and sample from it; --ema alone means 0.999", "training",
                               type=in_range(0.0, 1.0, closed_lo=False), nargs="?", const=0.999,
                               metavar="DECAY")
    label_smoothing: float = option(0.0, "D's target for real pictures is 1 - this (one-sided)",
                                    "training", type=in_range(0.0, 0.5))
    lr_decay: str = option("none", "learning-rate schedule: none (constant), or linear: constant for the first "
                           "half of the run, then down in a straight line to near 0 at its last step "
                           "(minigan/job/lr_schedule.py)", "training", choices=("none", "linear"))
    n_critic: int | None = option(None, "D updates per G update, each on the next real batch, as the WGAN papers "
                                  "do (an epoch: pictures / (batch size x n_critic) steps); default: the "
                                  "recipe's, else 1", "training", type=positive_int)
    # output
    out: str = option("out", "output folder; its contents are listed in minigan/job/run_folder.py", "output",
                      type=str, metavar="DIR")
    sample_every: int = option(200, "save a sample grid every this many steps", "output",
                               type=positive_int, metavar="STEPS")
    log_every: int = option(50, "print a Loss_D/Loss_G/D(x)/D(G(z)) line every this many steps",
                            "output", type=positive_int, metavar="STEPS")
    checkpoint_every: int = option(1000, "save a checkpoint every this many steps; also at each "
                                   "epoch's end, at the end, and on Ctrl-C", "output",
                                   type=positive_int, metavar="STEPS")
    keep_checkpoints: int = option(3, "how many of the newest checkpoints to keep", "output",
                                   type=positive_int, metavar="K")
    # evaluation
    eval_every: int = option(0, "judge G every this many steps and at the end; with the dataset's "
                             "classifier: Frechet distance, classifier score, classes present, into "
                             "eval.csv and metrics.png; ring, grid, stacked-mnist: modes, high-quality share, "
                             "reverse KL (KL); 0 = off; mnist, fashion-mnist and those three only",
                             "evaluation", type=nonnegative_int, metavar="STEPS")
    eval_samples: int = option(10000, "samples per evaluation; fewer is faster, but the Frechet "
                               "distance comes out higher: compare runs at the same number; ring and grid "
                               "use the papers' 2500, stacked-mnist 26000",
                               "evaluation", type=positive_int, metavar="N")
    grad_flow_every: int | None = option(None, "record per-layer gradient statistics every this many "
                                         "steps; activations and gradients of each layer of G and D, into "
                                         "gradflow.csv; 0 = off; default: every --sample-every steps",
                                         "evaluation", type=nonnegative_int, metavar="STEPS")

    def resolved(self) -> "TrainConfig":
        """This config with defaults that depend on other fields filled in, checked as a whole."""
        if self.dataset == "folder" and not self.data_dir:
            raise ValueError("--dataset folder needs --data-dir DIR, the folder of your pictures")
        if self.dataset != "folder" and self.channels not in (None, DATASET_CHANNELS.get(self.dataset, 1)):
            own = DATASET_CHANNELS.get(self.dataset, 1)
            raise ValueError(f"--channels {self.channels} applies to --dataset folder only; "
                             f"{self.dataset} {'points' if own == 2 else 'pictures'} have {own} "
                             f"channel{'s' * (own > 1)}")
        if self.eval_samples < 2:
            raise ValueError("--eval-samples must be at least 2 (the Frechet distance needs a covariance)")
        check_flags_apply(self)
        channels = self.channels or DATASET_CHANNELS.get(self.dataset, 1)
        grad_flow_every = self.sample_every if self.grad_flow_every is None else self.grad_flow_every
        class_names = self.class_names                       # a folder's classes: known once it is read
        if self.conditional and self.dataset in DATASET_CLASSES:
            class_names = list(DATASET_CLASSES[self.dataset])
        cfg = replace(self, channels=channels, grad_flow_every=grad_flow_every,
                      class_names=class_names if self.conditional else None)
        cfg = with_collapse_defaults(cfg)                    # arch, nz and D's norm for the collapse lab's data
        return check_collapse(check_game(with_game_defaults(cfg)))

    @classmethod
    def from_dict(cls, saved: dict) -> "TrainConfig":
        """The config a checkpoint or config.json saved; keys this version has no field for are skipped."""
        names = {f.name for f in fields(cls)}
        cfg = cls(**{k: v for k, v in saved.items() if k in names})
        loss = cfg.loss or "bce"                             # a run from before the games played bce; older
        return replace(cfg, **{k: None for k, game in GAME_ONLY.items() if loss != game})   # configs saved clip
                                                             # and gp_weight for every game: its own alone count


#: Fields that fix the shapes of the arrays in a checkpoint, or the meaning of its position in the data (the
#: seed shuffles each epoch): a resumed run must keep them. --n-critic may change (run_setup.resume_trainer).
LOCKED_ON_RESUME = ("dataset", "channels", "arch", "nz", "ngf", "ndf", "d_norm", "spectral_norm", "d_head",
                    "batch_size", "seed", "conditional", "pack", "mbstd", "recipe", "loss", "g_norm")


def config_for_resume(saved: dict, overrides: dict) -> TrainConfig:
    """The config of a resumed run: the checkpoint's, with the flags given now on top.

    The run's length: with neither --epochs nor --max-steps given now, the
    resumed run keeps the length it was started with. Either one given now
    replaces that length outright (the other one saved is dropped), so
    ``--resume --epochs 10`` is not held back by an old ``--max-steps``.
    """
    cfg = TrainConfig.from_dict(saved)
    cfg = replace(cfg, **{k: v for k, v in zip(("d_head", "d_norm", "spectral_norm"), _form_fields(cfg))})
    cfg = replace(cfg, loss=cfg.loss or "bce")                    # a run from before the games played bce
    overrides = dict(overrides)
    if "lr" in overrides:                          # --lr given now sets both rates, unless --lr-g/--lr-d are given too
        overrides.setdefault("lr_g", None)
        overrides.setdefault("lr_d", None)
    if ("epochs" in overrides) != ("max_steps" in overrides):     # one length flag given: it alone decides
        overrides.setdefault("epochs", None)
        overrides.setdefault("max_steps", None)
    changed = [k for k in LOCKED_ON_RESUME if k in overrides and overrides[k] != getattr(cfg, k)]
    if changed:
        was = ", ".join(f"--{k.replace('_', '-')} {getattr(cfg, k)}" if getattr(cfg, k) is not None
                        else f"no --{k.replace('_', '-')}" for k in changed)
        raise ValueError(f"cannot resume with different {', '.join(changed)}: the checkpoint was "
                         f"trained with {was}. Leave these flags out, or start a new run in a new --out")
    return replace(cfg, **overrides)


def d_form(cfg: TrainConfig) -> dict:
    """D's form as the model builders take it: ``{"sigmoid": ..., "d_norm": ..., "spectral_norm": ...}``.

    A config saved before these settings existed (every run then was bce on DCGAN's D) gets DCGAN's.
    """
    cfg = with_game_defaults(cfg)
    return {"sigmoid": cfg.d_head == "sigmoid", "d_norm": cfg.d_norm, "spectral_norm": bool(cfg.spectral_norm)}


def recipe_line(cfg: TrainConfig) -> str | None:
    """The line the job prints for ``cfg.recipe``: its settings, and which flags overrode them."""
    if not cfg.recipe:
        return None
    recipe = RECIPES[cfg.recipe]
    used = {**{k: getattr(cfg, k) for k in recipe.settings},        # what the run trains with:
            "lr_g": cfg.lr if cfg.lr_g is None else cfg.lr_g,       # G's and D's rates, from --lr
            "lr_d": cfg.lr if cfg.lr_d is None else cfg.lr_d}       # unless --lr-g/--lr-d give them
    overridden = [f"--{k.replace('_', '-')} {used[k]}" for k, v in recipe.settings.items() if used[k] != v]
    return (f"recipe {recipe.describe()}" + (f"; overridden by flags: {', '.join(overridden)}" if overridden else ""))


def print_config(cfg: TrainConfig, path) -> None:
    print(f"config (to be saved as {path}):")
    width = max(len(f.name) for f in fields(cfg))
    for f in fields(cfg):
        if f.name == "class_names" and cfg.class_names:      # a long list: its length and first few
            more = f", ... ({len(cfg.class_names)})" if len(cfg.class_names) > 4 else ""
            print(f"  {f.name:<{width}} = {', '.join(map(str, cfg.class_names[:4]))}{more}")
            continue
        value = f"{getattr(cfg, f.name)!r}"
        print(f"  {f.name:<{width}} = {value:<18} # {f.metadata['help'].split(';')[0]}")


def run_length(cfg: TrainConfig, steps_per_epoch: int) -> tuple[int, int]:
    """``(epochs, last_step)``: how many epochs the run spans and the step it stops after.

    --max-steps alone: that many steps, over as many epochs as they need.
    --epochs alone (or neither): that many epochs (default 5) of whole batches.
    Both: whichever ends first.
    """
    if cfg.max_steps is not None and cfg.epochs is None:
        return math.ceil(cfg.max_steps / steps_per_epoch), cfg.max_steps
    epochs = cfg.epochs or DEFAULT_EPOCHS
    last_step = epochs * steps_per_epoch
    return epochs, last_step if cfg.max_steps is None else min(cfg.max_steps, last_step)


def _form_fields(cfg: TrainConfig):
    """``(d_head, d_norm, spectral_norm)`` as saved, or as an older run (saved without them) had them."""
    form = d_form(cfg)
    return "sigmoid" if form["sigmoid"] else "raw", form["d_norm"], form["spectral_norm"]


def build_models(cfg: TrainConfig):
    """``(G, D)`` for ``cfg`` (arch, sizes, D's form, dtype, seed), on ``cfg.backend``.

    A ``--conditional`` run's pair is conditional on ``len(cfg.class_names)`` classes.
    """
    labels = {}
    if cfg.conditional:                             # G(z, y), D(x, y): minigan/models/conditional.py
        if not cfg.class_names:
            raise ValueError("a --conditional config needs its class_names (the job fills them in from the data)")
        labels = dict(num_classes=len(cfg.class_names), conditional=cfg.conditional)
    if cfg.pack > 1 or cfg.mbstd:                   # the collapse lab's D (minigan/models/mlp.py, dcgan.py)
        labels.update(pack=cfg.pack, mbstd=cfg.mbstd)
    if cfg.arch == "mlp" and cfg.dataset in POINT_SETS:
        labels.update(points=True, g_norm=cfg.g_norm)
    G, D = ARCHITECTURES[cfg.arch](cfg.nz, cfg.ngf, cfg.ndf, cfg.channels, seed=cfg.seed, dtype=cfg.dtype,
                                   **d_form(cfg), **labels)
    return G.to(backend=cfg.backend), D.to(backend=cfg.backend)
