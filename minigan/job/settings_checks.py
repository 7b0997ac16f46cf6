"""Which settings go together: the defaults and checks :meth:`TrainConfig.resolved` applies.

Each function takes a config and returns it completed, or raises one ``ValueError``
line naming the flag that cannot work and what to do::

    with_game_defaults, check_game        the game's (or the recipe's) settings; flags it would ignore
    check_flags_apply                     --clip without wgan, --gp-weight without wgan-gp, --n-critic's bound
    with_collapse_defaults, check_collapse  2D points, Stacked MNIST, --arch mlp, --pack, --mbstd
    check_out_path                        --out not inside the pictures a run trains on

They run before the job takes its lock or reads its data (minigan/job/run_setup.py).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..augment import parse_policy
from .data import POINT_SETS
from ..gan_losses import GAN_LOSSES
from ..models.mlp import MBSTD_GROUP
from ..recipes import RECIPES

if TYPE_CHECKING:                                # the dataclass these complete: config.py imports this file
    from .config import TrainConfig

IMAGE_SIZE = {"dcgan28": 28, "dcgan64": 64, "mlp": 28}   # the picture size each architecture makes
COLLAPSE_SETS = (*POINT_SETS, "stacked-mnist")        # the collapse lab's data (see with_collapse_defaults)


GAME_ONLY = {"clip": "wgan", "gp_weight": "wgan-gp"}
MAX_N_CRITIC = 100                               # D updates per step: beyond this, one step would run for hours


def check_flags_apply(cfg: TrainConfig) -> None:
    """A one-line ValueError for a flag the chosen game would ignore (call it before the defaults are filled)."""
    recipe = RECIPES[cfg.recipe].settings if cfg.recipe else {}
    loss = cfg.loss or recipe.get("loss", GAME_DEFAULTS["loss"])
    for key, game in GAME_ONLY.items():
        if getattr(cfg, key) is not None and loss != game:
            raise ValueError(f"--{key.replace('_', '-')} applies to --loss {game} only, and this run plays {loss}: "
                             f"leave it out, or add --loss {game}")
    if cfg.n_critic is not None and cfg.n_critic > MAX_N_CRITIC:
        raise ValueError(f"--n-critic {cfg.n_critic} is more than {MAX_N_CRITIC} D updates per step; "
                         "papers use 1 to 5")


#: The game's settings when neither a flag nor a recipe gives them: DCGAN's.
GAME_DEFAULTS = {"loss": "bce", "n_critic": 1, "lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "clip": 0.01,
                 "gp_weight": 10.0, "r1": 0.0, "spectral_norm": False}


def with_game_defaults(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` with each unset (None) game setting from its recipe, else :data:`GAME_DEFAULTS`, and
    D's form from the loss: no batch norm for the penalties or with spectral norm (Miyato et al.'s
    D has none; ``--d-norm batch`` keeps it), a Sigmoid head for bce/minimax only."""
    recipe = RECIPES[cfg.recipe].settings if cfg.recipe else {}
    if cfg.lr is not None:                           # an explicit --lr beats the recipe's lr_g and lr_d
        recipe = {k: v for k, v in recipe.items() if k not in ("lr_g", "lr_d")}
    fill = {k: v for k, v in {**GAME_DEFAULTS, **recipe}.items() if getattr(cfg, k) is None}
    cfg = replace(cfg, **fill)
    cfg = replace(cfg, **{k: None for k, game in GAME_ONLY.items() if cfg.loss != game})   # only its game reads it
    penalty = cfg.loss == "wgan-gp" or cfg.r1 > 0
    if cfg.d_norm is None:                           # spectral norm replaces batch norm, as the SN papers do
        cfg = replace(cfg, d_norm="none" if penalty or cfg.spectral_norm else "batch")
    if cfg.d_head is None:
        cfg = replace(cfg, d_head="sigmoid" if cfg.loss in ("bce", "minimax") and not penalty else "raw")
    return cfg


def check_game(cfg: TrainConfig) -> TrainConfig:
    """``cfg``, or a one-line ValueError for settings that cannot train together."""
    penalty = "--loss wgan-gp" if cfg.loss == "wgan-gp" else f"--r1 {cfg.r1:g}" if cfg.r1 > 0 else None
    if penalty and cfg.d_norm == "batch":
        raise ValueError(f"{penalty} needs D without batch norm (a batch-normalized D's gradient for one picture "
                         "depends on the rest of the batch): use --d-norm none")
    if penalty and cfg.d_head == "sigmoid":
        raise ValueError(f"{penalty} acts on D's raw score: use --d-head raw")
    if GAN_LOSSES[cfg.loss].needs_raw_score and cfg.d_head == "sigmoid":
        raise ValueError(f"--loss {cfg.loss} needs D's raw score, but --d-head is sigmoid: use --d-head raw")
    if cfg.label_smoothing and not GAN_LOSSES[cfg.loss].has_labels:
        raise ValueError(f"--label-smoothing works with the losses that have targets (bce, minimax, lsgan), "
                         f"not --loss {cfg.loss}: leave it out")
    if cfg.augment is not None:
        parse_policy(cfg.augment)                        # a ValueError naming the valid policies
    return cfg


# ---- the collapse lab: 2D points, Stacked MNIST, --arch mlp, --pack, --mbstd -------------------------------


def with_collapse_defaults(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` with the unset arch and nz from the data (2D points: mlp and z in R^2), and no batch norm in
    an MLP's D (it has none)."""
    points = cfg.dataset in POINT_SETS
    cfg = replace(cfg, arch=cfg.arch or ("mlp" if points else "dcgan28"), nz=cfg.nz or (2 if points else 100))
    if cfg.arch == "mlp" and cfg.d_norm is None:
        cfg = replace(cfg, d_norm="none")
    return cfg


def check_collapse(cfg: TrainConfig) -> TrainConfig:
    """``cfg``, or a one-line ValueError for data, nets and stabilizers that cannot train together."""
    if cfg.dataset in POINT_SETS and cfg.arch != "mlp":
        raise ValueError(f"--dataset {cfg.dataset} makes 2D points, not pictures: only --arch mlp takes them "
                         "(leave --arch out)")
    if cfg.dataset == "stacked-mnist" and cfg.arch == "dcgan64":
        raise ValueError("--dataset stacked-mnist makes 28x28 pictures: use --arch dcgan28 (or mlp)")
    if cfg.conditional and (cfg.dataset in COLLAPSE_SETS or cfg.arch == "mlp" or cfg.pack > 1 or cfg.mbstd):
        raise ValueError("--conditional works with dcgan28/dcgan64 on labelled pictures, without --pack and "
                         "--mbstd: leave it out")
    if cfg.g_norm != "batch" and cfg.dataset not in POINT_SETS:
        raise ValueError(f"--g-norm {cfg.g_norm} is for the 2D nets (--dataset ring or grid); the picture GANs' "
                         "G keeps its own form: leave --g-norm out")
    if cfg.batch_size % cfg.pack:
        raise ValueError(f"--pack {cfg.pack} does not divide --batch-size {cfg.batch_size}: D judges the batch "
                         f"in packs of {cfg.pack}; use a batch size that is a multiple of it")
    judged = cfg.batch_size // cfg.pack                  # what D sees at once: samples, or packs of them
    if cfg.mbstd and judged % min(MBSTD_GROUP, judged):
        raise ValueError(f"--mbstd takes D's batch in groups of {MBSTD_GROUP}, but D judges {judged} "
                         f"{'packs' if cfg.pack > 1 else 'samples'} at a time: use a --batch-size that "
                         f"{MBSTD_GROUP * cfg.pack} divides")
    if cfg.mbstd and (cfg.loss == "wgan-gp" or cfg.r1 > 0):
        raise ValueError(f"--mbstd cannot be used with {'--loss wgan-gp' if cfg.loss == 'wgan-gp' else '--r1'}: "
                         "the penalty's exact gradient would need the layer's second derivative; leave one out")
    return cfg


def picture_size(cfg: TrainConfig) -> int:
    """The side of the pictures G makes: 1 for 2D points (a (2, 1, 1) "picture"), else the architecture's."""
    return 1 if cfg.dataset in POINT_SETS else IMAGE_SIZE[cfg.arch]


def check_out_path(cfg: TrainConfig) -> None:
    """A one-line ValueError if a run writing into ``cfg.out`` would train on its own files: ``--out`` inside
    a folder dataset's ``--data-dir`` (the pictures it saves would join the data on the next start)."""
    if cfg.dataset == "folder" and cfg.data_dir and _inside(cfg.out, cfg.data_dir):
        raise ValueError(f"--out {cfg.out} is inside --data-dir {cfg.data_dir}: the run would train on its own "
                         "samples; put --out outside the pictures' folder")


def _inside(path, folder) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (symlinks followed)."""
    path, folder = Path(path).expanduser().resolve(), Path(folder).expanduser().resolve()
    return path == folder or folder in path.parents
