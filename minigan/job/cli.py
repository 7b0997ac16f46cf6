"""The ``minigan`` command (also ``python -m minigan``)::

    minigan train    --dataset fashion-mnist --backend cupy --out runs/fashion
    minigan train    --out runs/fashion --resume
    minigan generate --checkpoint runs/fashion --n 64 [--out grid.png] [--seed S] [--interpolate]
    minigan generate --checkpoint runs/cfashion --class Sneaker --n 5000 --out sneakers.npy
    minigan evaluate --checkpoint runs/fashion [--n 10000] [--json result.json]
    minigan report   runs/fashion            # writes runs/fashion/index.html

Each subcommand is a :class:`Command`: a name, a line of help, a function that
adds its flags to a parser, and a function that runs it and returns the exit
status. To add one (``evaluate``, say), write those two functions and append a
``Command`` to :data:`COMMANDS`. Errors a user can act on are printed as one
``error: ...`` message, never a traceback.

Every file a command writes at a path the user names goes through the output
guard (minigan/job/output_guard.py): never a run's checkpoint, log or picture,
a link, a device or a folder, and an existing file only if minigan wrote it as
the same kind of output, or with ``--force``. While a command runs, SIGTERM and
SIGHUP interrupt it like Ctrl-C, and a closed stdout or stderr (``| tee log``,
Ctrl-C in a terminal) is no error (minigan/job/interrupts.py).

Exit status: 0 done; 1 a run-time failure (data, disk, checkpoint, memory); 2 bad
usage, a run folder in use or one a start would damage, or the backend cannot run
here; 3 a loss became NaN/inf or the run diverged; 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Callable

from ..backend import BackendUnavailable
from .checkpoint import CheckpointError, load_checkpoint, resolve, resume_point
from .arg_types import nonnegative_int, positive_int
from .config import TrainConfig, config_for_resume
from .data import DatasetError
from .collapse_eval import COLLAPSE_DATASETS, collapse_table, evaluate_collapse, record_collapse
from .judge import DATASETS, NoJudge, evaluate_checkpoint, record_evaluation, result_table, run_folder_of
from .export import add_export_arguments, run_export
from ..fileio import write_text_atomic
from .interrupts import InterruptSignals, OutputPipes
from .output_guard import OutputRefused, OutputTarget
from .generate import MAX_GRID, generate_grid, load_generator
from .sample_files import export_kind, write_samples
from .report import write_report
from .run import StopRun, train


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, argparse.ArgumentParser], int]


# ------------------------------------------------------------------------------------ train
def add_train_arguments(parser):
    """One flag per :class:`~minigan.job.config.TrainConfig` field, plus ``--resume`` and ``--discard-newer``.

    The flags have no argparse defaults (the dataclass holds them), so the
    parsed namespace holds exactly the flags given: a resumed run takes its
    config from the checkpoint and only those flags on top.
    """
    groups = {}
    for f in fields(TrainConfig):
        if not f.metadata.get("flag", True):        # filled in by the job (class_names), not a flag
            continue
        meta = dict(f.metadata)
        help_text, group = meta.pop("help"), meta.pop("group")
        if group not in groups:
            groups[group] = parser.add_argument_group(group)
        if f.default is not None and f.default is not MISSING:
            help_text += f" (default: {f.default})"
        meta.setdefault("type", type(f.default))
        if "choices" not in meta and "metavar" not in meta:
            meta["metavar"] = "N" if meta["type"] in (int, positive_int, nonnegative_int) else "X"
        groups[group].add_argument("--" + f.name.replace("_", "-"), dest=f.name, help=help_text,
                                   default=argparse.SUPPRESS, **meta)
    groups["training"].add_argument(
        "--resume", nargs="?", const="", default=None, metavar="CHECKPOINT",
        help="continue a run exactly where it stopped: from CHECKPOINT (a .npz file, a 'latest' "
             "pointer or an output folder), or with no value from OUT/latest. The config comes from "
             "the checkpoint; flags given now (say --lr) override it. The run keeps its length unless "
             "--max-steps or --epochs is given now, which then sets it alone")
    groups["training"].add_argument(
        "--discard-newer", action="store_true",
        help="allow going back: resume from a checkpoint older than the newest step in --out, deleting "
             "the later log rows, samples and checkpoints (or start over where a run saved no checkpoint). "
             "Without it, such a start is refused; to keep both, resume into a new --out")


def run_train(args, parser) -> int:
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    state = None
    try:
        if args.resume is None:
            cfg = TrainConfig(**given)
        else:
            out = Path(given.get("out", TrainConfig.out)).expanduser()
            path, note = (resolve(args.resume), None) if args.resume else resume_point(out)
            if note:
                print(f"note: {note}")
            state = load_checkpoint(path)
            if "out" not in given and path.parent.name == "checkpoints":
                given["out"] = str(path.parent.parent)   # keep writing beside the checkpoint
            cfg = config_for_resume(state.get("config", {}), given)
        cfg = cfg.resolved()
    except (ValueError, TypeError) as e:
        parser.error(str(e))                             # exits 2 with the usage line
    train(cfg, resume=state if state is None else path, command=parser.prog,
          discard_newer=args.discard_newer)
    return 0


# ------------------------------------------------------------------------------------ generate
def add_generate_arguments(parser):
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="a checkpoint .npz, a 'latest' pointer, or a run's output folder")
    parser.add_argument("--n", type=positive_int, default=None,
                        help=f"how many pictures, at most {MAX_GRID:,} in one grid, any number in a folder or "
                             ".npy (default: 64; a conditional run's grid: a row of --nrow per class); with "
                             "--interpolate, rounded up to whole walks, and for a conditional run to as many "
                             "walks for every class")
    parser.add_argument("--out", default=None, metavar="PATH",
                        help="where to write: a grid picture, its extension picks the format: .png, .jpg, .gif, "
                             ".bmp, .tif, .webp (default: generated.png in the run's folder); a folder (samples/): "
                             "one PNG per picture; a .npy file: the raw array (N, C, H, W) float32 in [-1, 1], "
                             "and for a conditional run NAME.labels.npy with each picture's class")
    parser.add_argument("--class", dest="class_spec", default=None, metavar="CLASS",
                        help="a conditional run's class to draw, by name (Sneaker) or index (7); without it, a "
                             "grid has one row per class (of --nrow pictures), a folder or .npy each class in turn")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seeds z (default: 0)")
    parser.add_argument("--interpolate", action="store_true",
                        help="rows of latent walks between pairs of z instead of independent samples (default "
                             "--out: interpolation-generated.png in the run's folder)")
    parser.add_argument("--nrow", type=positive_int, default=8,
                        help="pictures per row; with --interpolate, the steps of each walk (default: 8)")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                        help="numpy (CPU) or cupy (NVIDIA GPU) (default: numpy)")
    parser.add_argument("--no-ema", dest="use_ema", action="store_false",
                        help="use the trained G even when the checkpoint has an EMA copy")
    parser.add_argument("--force", action="store_true",
                        help="replace existing files at --out that generate did not write (a .npy always needs it); "
                             "never a run's checkpoint, log or picture, a link or a device")


def run_generate(args, parser) -> int:
    name = "interpolation-generated.png" if args.interpolate else "generated.png"   # not the run's interpolation.png
    out = args.out or checkpoint_folder(resolve(args.checkpoint)) / name   # not the current folder
    try:
        if export_kind(out) and not args.interpolate:    # a folder of PNGs or a .npy array, batch by batch
            write_samples(args.checkpoint, out, n=args.n or 64, seed=args.seed, backend=args.backend,
                          use_ema=args.use_ema, class_spec=args.class_spec, force=args.force)
        else:
            generate_grid(args.checkpoint, out, n=args.n, seed=args.seed, interpolate=args.interpolate,
                          nrow=args.nrow, backend=args.backend, use_ema=args.use_ema, class_spec=args.class_spec,
                          force=args.force)
    except ValueError as e:                              # --out a checkpoint or no picture, --n too many, --class
        parser.error(str(e))
    return 0


def checkpoint_folder(checkpoint_file: Path) -> Path:
    """Where generate writes by default: ``out`` for ``out/checkpoints/step_000400.npz``, else the file's folder."""
    folder = checkpoint_file.parent
    return folder.parent if folder.name == "checkpoints" else folder


# ------------------------------------------------------------------------------------ evaluate
def add_evaluate_arguments(parser):
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="a checkpoint .npz, a 'latest' pointer, or a run's output folder")
    parser.add_argument("--n", type=positive_int, default=None,
                        help="how many samples to judge (default: 10000; ring and grid: 2500, stacked-mnist: "
                             "26000, as in the papers; compare runs at the same n)")
    parser.add_argument("--dataset", choices=tuple(DATASETS), default=None,
                        help="whose classifier and test images judge the samples (default: the run's dataset; a "
                             "folder run with a sub-folder per class: a classifier trained on most of the folder, "
                             "cached by its pictures' content, judges against the rest)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder holding the dataset's files (default: the run's, else found automatically)")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the results to FILE as JSON")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --json FILE that is not an earlier evaluation's result")
    parser.add_argument("--batch-size", type=positive_int, default=500,
                        help="samples generated and judged at a time (default: 500)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seeds z (default: 0)")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                        help="numpy (CPU) or cupy (NVIDIA GPU) (default: numpy)")
    parser.add_argument("--no-ema", dest="use_ema", action="store_false",
                        help="judge the trained G even when the checkpoint has an EMA copy")
    parser.add_argument("--no-record", dest="record", action="store_false",
                        help="do not add the result to the run's eval.csv (by default a run folder's checkpoint "
                             "judged by its own dataset gets a row there, which its report shows)")


def run_evaluate(args, parser) -> int:
    G = load_generator(args.checkpoint, backend=args.backend, use_ema=args.use_ema)   # the collapse lab's runs:
    if G.config.dataset in COLLAPSE_DATASETS and args.dataset is None:             # modes, as the papers count
        r = evaluate_collapse(G, args.n, args.seed, args.batch_size, args.data_dir, args.backend)
        print(f"{'EMA ' if r['ema'] else ''}G at step {r['step']:,}: {r['n']:,} samples of {r['dataset']}, "
              f"in {r['seconds']:.1f} s\n\n{collapse_table(r)}")
        if args.json:
            write_text_atomic(args.json, json.dumps(r, indent=2) + "\n")
            print(f"\nwrote {args.json}")
        run_dir = run_folder_of(resolve(args.checkpoint))
        if args.record and run_dir is not None:
            print(f"\nadded a row to {record_collapse(run_dir, r)}; the report shows it: {write_report(run_dir)}")
        return 0
    args.n = 10000 if args.n is None else args.n
    if args.n < 2:
        parser.error("--n must be at least 2 (the Frechet distance needs a covariance)")
    try:
        target = args.json and OutputTarget(args.json, "evaluation", args.force, flag="--json")   # refused now
        r = evaluate_checkpoint(args.checkpoint, n=args.n, dataset=args.dataset, data_dir=args.data_dir,
                                batch_size=args.batch_size, seed=args.seed, backend=args.backend,
                                use_ema=args.use_ema)
    except (NoJudge, OutputRefused) as e:
        parser.error(str(e))
    print(f"{'EMA ' if r['ema'] else ''}G at step {r['step']:,} ({r['checkpoint']}):\n{r['judge']}, "
          f"in {r['seconds']:.1f} s\n")
    print(result_table(r, r["classes"]))
    if target:
        try:
            with target.temp() as tmp:
                write_text_atomic(tmp, json.dumps(r, indent=2) + "\n")
        except OutputRefused as e:
            parser.error(str(e))
        print(f"\nwrote {args.json}")
    run_dir = run_folder_of(r["checkpoint"])
    if args.record and run_dir is not None and r["dataset"] == r["run_dataset"]:
        path = record_evaluation(run_dir, r)
        report = write_report(run_dir)
        print(f"\nadded a row to {path} and redrew metrics.png; the report shows it: {report}")
    return 0


# ------------------------------------------------------------------------------------ report
def add_report_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a training run's output folder (its --out)")
    parser.add_argument("--out", default=None, metavar="HTML",
                        help="where to write the page (default: RUN_DIR/index.html)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --out file that is not a minigan report (never a run's own "
                             "checkpoint, log or picture, a link or a device)")


def run_report(args, parser) -> int:
    if not (Path(args.run_dir) / "config.json").is_file():
        print(f"error: {args.run_dir} is not a training run's folder (it has no config.json)", file=sys.stderr)
        return 1
    path = Path(args.run_dir) / "index.html" if args.out is None else Path(args.out).expanduser()
    try:
        target = OutputTarget(path, "report", args.force, own=(args.run_dir, {"index.html"}))
        with target.temp() as tmp:
            write_report(args.run_dir, tmp)
    except OutputRefused as e:
        parser.error(str(e))
    print(f"wrote {path}: open it in a browser (file://{path.resolve()})")
    return 0


COMMANDS = [
    Command("train", "train a DCGAN (the job examples/train_mnist.py runs)", add_train_arguments, run_train),
    Command("generate", "sample a grid of pictures from a checkpoint", add_generate_arguments, run_generate),
    Command("evaluate", "judge a checkpoint's samples: Frechet distance, classifier score, classes present",
            add_evaluate_arguments, run_evaluate),
    Command("report", "write a run's self-contained HTML report (RUN_DIR/index.html)",
            add_report_arguments, run_report),
    Command("export", "write a checkpoint's G and/or D as safetensors files that PyTorch loads",
            add_export_arguments, run_export),
]


# ------------------------------------------------------------------------------------ entry points
def main(argv=None, prog: str | None = None) -> int:
    """``minigan COMMAND ...``: returns the exit status (the console script exits with it)."""
    parser = argparse.ArgumentParser(
        prog=prog or "minigan", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A DCGAN written from scratch on NumPy (CPU) or CuPy (GPU). "
                    "'COMMAND --help' lists a command's flags.",
        epilog="examples:\n" + "\n".join(line for line in __doc__.splitlines() if line.startswith("    minigan")))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(p)
        p.set_defaults(_command=command, _parser=p)
    args = parser.parse_args(argv)
    return _run(args._command, args, args._parser)


def run_command(name: str, argv=None, prog: str | None = None) -> int:
    """One subcommand as a program of its own: ``run_command("train")`` is examples/train_mnist.py."""
    command = next(c for c in COMMANDS if c.name == name)
    parser = argparse.ArgumentParser(prog=prog, description=command.help)
    command.add_arguments(parser)
    return _run(command, parser.parse_args(argv), parser)


def _run(command: Command, args, parser) -> int:
    """Run ``command``; turn the errors a user can act on into one message and an exit status."""
    with OutputPipes():                                  # a closed stdout or stderr is no error
        try:
            with InterruptSignals():                     # SIGTERM and SIGHUP interrupt like Ctrl-C
                return command.run(args, parser)
        except StopRun as e:
            print(str(e), file=sys.stderr)
            return e.exit_code
        except BackendUnavailable as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except (DatasetError, CheckpointError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except OSError as e:                             # an unwritable or full disk, say
            where = f" {shlex.quote(str(e.filename))}" if e.filename else ""
            print(f"error: cannot write{where}: {e.strerror or e}", file=sys.stderr)
            return 1
        except MemoryError:
            print("error: out of memory; try smaller sizes (--batch-size, --nz, --ngf, --ndf, --n)", file=sys.stderr)
            return 1
        except KeyboardInterrupt as e:                   # Ctrl-C, or SIGTERM / SIGHUP (interrupts.Interrupted)
            print(f"\ninterrupted{f' ({e.name})' if hasattr(e, 'name') else ''}; no half-written file was left",
                  file=sys.stderr)
            return getattr(e, "exit_code", 130)
