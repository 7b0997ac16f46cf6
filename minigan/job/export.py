"""``minigan export``: a checkpoint's networks as safetensors files that PyTorch loads::

    minigan export --checkpoint runs/fashion --out G.safetensors            # G (its EMA copy if the run kept one)
    minigan export --checkpoint runs/fashion --out D.safetensors --net D
    minigan export --checkpoint runs/fashion --out model.safetensors --net both
                                                   # -> model.G.safetensors and model.D.safetensors

Each file holds one network, with exactly the keys and shapes of the PyTorch
``nn.Sequential`` of the same layers, so loading it there is one line,
``G.load_state_dict(safetensors.torch.load_file("G.safetensors"))``; its
metadata names the network, the step, which weights (``G``, ``G_ema``, ``D``)
and the run's config (see :mod:`minigan.models.safetensors_file`). The
networks are rebuilt from the config saved in the checkpoint, with
:data:`minigan.models.ARCHITECTURES`. A ``--conditional`` run's G and D read
labels: their keys are those of the PyTorch modules docs/pytorch-interop.md
writes out (an ``nn.Sequential`` that appends one-hot label planes; a
projection D), and the metadata says ``minigan.num_classes`` and ``minigan.conditional``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .checkpoint import LATEST, CheckpointError, load_checkpoint, resolve
from .config import TrainConfig, d_form
from .output_guard import OutputTarget
from .weights_fit import check_weights_fit
from ..models.pytorch_layout import NetSpec
from ..models.safetensors_file import SafetensorsUnavailable, require_safetensors, save_safetensors


def output_paths(out, net: str) -> dict:
    """``{"G": path}``, ``{"D": path}``, or for ``both`` one file each: model.safetensors -> model.G.safetensors."""
    out = Path(out)
    if net != "both":
        return {net: out}
    suffix = out.suffix or ".safetensors"
    return {which: out.with_name(f"{out.stem if out.suffix else out.name}.{which}{suffix}") for which in ("G", "D")}


def export_checkpoint(checkpoint, out, net: str = "G", ema: bool | None = None, force: bool = False) -> dict:
    """Write the checkpoint's ``net`` ("G", "D" or "both") to ``out``; returns ``{which: path}``.

    ``ema``: None uses G's EMA copy when the run kept one, True insists on it, False takes
    the trained G. Raises ValueError for a request that does not fit the checkpoint, and
    :class:`~minigan.job.checkpoint.CheckpointError` for a checkpoint that cannot be read. Each file
    goes through the output guard (minigan/job/output_guard.py): ``force`` replaces an existing
    file that is not an earlier export.
    """
    if net not in ("G", "D", "both"):
        raise ValueError(f"--net must be G, D or both, got {net!r}")
    if ema and net == "D":
        raise ValueError("--ema applies to G, and --net D exports D alone; drop --ema or use --net both")
    require_safetensors()
    targets = output_paths(out, net)
    source = resolve(checkpoint)
    for target in targets.values():
        _check_target(target, checkpoint, source)
    guarded = {which: OutputTarget(target, "safetensors", force) for which, target in targets.items()}
    state = load_checkpoint(source)
    config, weights = state.get("config"), state.get("trainer")
    if not isinstance(config, dict) or not isinstance(weights, dict):
        raise CheckpointError(f"{source} is a minigan checkpoint without a config and trainer weights")
    if config.get("arch") == "mlp" or config.get("pack", 1) > 1 or config.get("mbstd"):   # the collapse lab's nets
        raise ValueError(f"{source} is an --arch mlp, --pack or --mbstd run: its Maxout, Pack and MinibatchStdDev "
                         "layers have no torch.nn twin, so only the DCGANs without them export for now")
    has_ema = weights.get("G_ema") is not None
    if ema and not has_ema:
        raise ValueError(f"--ema: {source} has no EMA copy of G (the run was trained without --ema); "
                         "drop --ema, or pass --no-ema")
    use_ema = has_ema if ema is None else ema
    step = int(state.get("step", 0))
    try:                                              # every array against the config, before building anything
        check_weights_fit(TrainConfig.from_dict(config).resolved(), weights,
                          [("G_ema" if which == "G" and use_ema else which) for which in targets])
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{source} does not match the networks its config describes: {e}") from None
    for which, target in targets.items():
        key = "G_ema" if which == "G" and use_ema else which
        spec = _spec(config, which, source)
        model = spec.build(config.get("dtype", "float32"))
        try:
            model.load_state_dict(weights[key])
        except (KeyError, ValueError) as e:
            raise CheckpointError(f"{source}: its {key} weights do not fit the {spec} its config describes ({e})") \
                from None
        with guarded[which].temp() as tmp:           # in place once complete, or not at all
            save_safetensors(model, tmp, spec, steps=step, metadata={
                "minigan.weights": key, "minigan.step": str(step), "minigan.job.config": json.dumps(config)})
        print(f"wrote {target}: the {'EMA copy of ' if key == 'G_ema' else ''}{spec}, at step {step}")
    return targets


def _spec(config: dict, which: str, source) -> NetSpec:
    """The network ``which`` of the run ``config`` describes."""
    try:
        labels = {}
        if config.get("conditional"):                 # G(z, y), D(x, y): their PyTorch modules, docs/pytorch-interop.md
            labels = dict(num_classes=len(config["class_names"]), conditional=config["conditional"])
        return NetSpec(config["arch"], which, int(config["nz"]), int(config["ngf"]), int(config["ndf"]),
                       int(config["channels"]), **d_form(TrainConfig.from_dict(config)), **labels)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{source}: its config does not say the network's sizes ({type(e).__name__}: {e})") \
            from None


def _check_target(target: Path, given, source: Path) -> None:
    """Refuse an ``--out`` that is a folder, or would overwrite the checkpoint or its ``latest`` pointer."""
    if target.is_dir():
        raise ValueError(f"--out {target} is a folder; give a file name, e.g. {target / 'G.safetensors'}")
    pointers = {Path(given), Path(given) / LATEST}
    for kept in [source, *(p for p in pointers if p.is_file())]:
        if target.resolve() == kept.resolve():
            what = "the checkpoint itself" if kept == source else f"the run's '{LATEST}' pointer"
            raise ValueError(f"--out {target} is {what}; choose another file, e.g. G.safetensors")


# ------------------------------------------------------------------------------------ the command
def add_export_arguments(parser):
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="a checkpoint .npz, a 'latest' pointer, or a run's output folder")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="the .safetensors file to write; with --net both, FILE's name plus .G and .D "
                             "(model.safetensors -> model.G.safetensors, model.D.safetensors)")
    parser.add_argument("--net", choices=("G", "D", "both"), default="G",
                        help="which network: the generator, the discriminator, or both (default: G)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--ema", dest="ema", action="store_const", const=True, default=None,
                       help="export G's EMA copy (the default when the run kept one)")
    which.add_argument("--no-ema", dest="ema", action="store_const", const=False,
                       help="export the trained G even when the checkpoint has an EMA copy")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --out file that is not an earlier export (never a run's "
                             "checkpoint, log or picture, a link or a device)")


def run_export(args, parser) -> int:
    try:
        written = export_checkpoint(args.checkpoint, args.out, net=args.net, ema=args.ema, force=args.force)
    except SafetensorsUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        parser.error(str(e))                             # exits 2 with the usage line
    except OSError as e:                                 # an unwritable folder, a full disk
        print(f"error: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return 1
    which, path = next(iter(written.items()))
    print(f"in PyTorch: {which}.load_state_dict(safetensors.torch.load_file({str(path)!r})) "
          "(docs/pytorch-interop.md)")
    return 0
