"""Checkpoints: one ``.npz`` file holding everything a run needs to continue.

A training checkpoint is a nested dict such as::

    {"step": 400, "epoch": 0, "batch": 400,            # where the run stands (batch: steps into the epoch,
     "batches_per_step": 1,                             #   each of n_critic real batches)
     "config": {...},                                   # the TrainConfig, as a dict
     "trainer": {"G": {"0.weight": array, ...},         # GANTrainer.state_dict():
                 "opt_G": {"lr": 2e-4, "state": {...}}, #   weights, Adam moments, EMA copy,
                 "rng": {"bit_generator": "PCG64", ...},#   the noise RNG's state, the step
                 ...},
     "fixed_noise": array}                              # the z behind every sample grid

:func:`save_checkpoint` splits it in two. Every NumPy array goes into the
``.npz`` under a path-like key (``trainer/G/0.weight``); everything else
(numbers, strings, the RNG state with its 128-bit integers) goes into one JSON
text stored under the key ``meta``, with each array replaced by a reference
``{"npz": "trainer/G/0.weight"}``. :func:`load_checkpoint` reads the file with
``allow_pickle=False`` (a checkpoint can never run code) and puts the tree back
together. ``numpy.load`` opens the file anywhere, no minigan needed.

Reading is bounded (:func:`check_members`): before any array is read, each
member's claimed size is checked against the bytes in the file (a compressed
member may expand at most :data:`MAX_EXPANSION` times: no zip bomb), each
``.npy`` header's shape against its member's size, and the JSON's nesting
against :data:`MAX_DEPTH`. So a checkpoint costs the memory of its arrays, no more.

Writing is atomic (:mod:`minigan.fileio`): a crash, a full disk or Ctrl-C
while saving leaves the previous checkpoint as it was. After a checkpoint is
complete, the text file ``<out>/latest`` is pointed at it (atomically too), and
then older checkpoints beyond the last ``keep`` are deleted.

    out/latest                       "checkpoints/step_000400.npz"
    out/checkpoints/step_000200.npz
    out/checkpoints/step_000400.npz
"""
from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from ..fileio import atomic_write, write_text_atomic

FORMAT, VERSION = "minigan-checkpoint", 1
LATEST = "latest"                     # the pointer file, in the output folder
FOLDER = "checkpoints"                # the checkpoints, under the output folder
NAME = re.compile(r"step_(\d+)\.npz$")
POINTER = re.compile(rf"(?:{FOLDER}/)?step_\d+\.npz")   # what a pointer holds: checkpoints/step_000400.npz
MAX_EXPANSION = 100                   # a compressed member may hold at most 100x its stored bytes (+ 1 MiB)
MAX_DEPTH = 100                       # the JSON's nesting (a checkpoint's is about 20 deep)


class CheckpointError(Exception):
    """A checkpoint is missing, unreadable, or not a minigan checkpoint; the message says which."""


# ---- one file ---------------------------------------------------------------------------------
def save_checkpoint(path, state: dict) -> Path:
    """Write the nested dict ``state`` to ``path`` (``.npz``), atomically. Returns ``path``."""
    arrays = {}
    meta = {"format": FORMAT, "version": VERSION, "state": _split(state, "", arrays)}
    if "meta" in arrays:
        raise ValueError("save_checkpoint: the key 'meta' is reserved for the JSON part")
    with atomic_write(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
    return Path(path)


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` back into its nested dict.

    ``path`` may also be an output folder or a ``latest`` pointer (see :func:`resolve`).
    Raises :class:`CheckpointError` with a plain message if it cannot.
    """
    path = resolve(path)
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":            # every .npz is a zip file; anything else is no checkpoint
            raise CheckpointError(f"{path} is not a minigan checkpoint (not a .npz file); pass a run's "
                                  "folder, its 'latest' pointer, or a checkpoints/step_*.npz file")
    try:
        check_members(path)                       # every claimed size against the file, before reading
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(e).__name__}: {e})") from None
    try:
        meta = json.loads(arrays.pop("meta").item())
        ok = meta.get("format") == FORMAT and nesting(meta) <= MAX_DEPTH
    except (KeyError, ValueError, AttributeError, TypeError, RecursionError):
        ok = False
    if not ok:
        raise CheckpointError(f"{path} is a .npz file but not a minigan checkpoint (no 'meta' entry, or one "
                              f"nested deeper than {MAX_DEPTH})")
    if not isinstance(meta.get("version", 0), int) or meta.get("version", 0) > VERSION:
        raise CheckpointError(f"{path} was written by a newer minigan (checkpoint version "
                              f"{meta['version']}, this one reads up to {VERSION}); upgrade minigan")
    try:
        return _join(meta["state"], arrays)
    except KeyError as e:
        raise CheckpointError(f"{path} is damaged: the array {e.args[0]!r} is missing from it; "
                              "use an earlier checkpoint of the run (its checkpoints/ folder)") from None
    except (ValueError, TypeError, AttributeError, StopIteration):
        raise CheckpointError(f"{path} is damaged: its 'meta' entry does not describe a checkpoint") from None


def check_members(path) -> None:
    """Raise ``ValueError`` unless every member of the ``.npz`` at ``path`` holds what it claims.

    Reads only the zip's directory and each ``.npy`` header: a compressed member
    must not expand more than :data:`MAX_EXPANSION` times, a stored one holds
    exactly its bytes (and they are in the file), and each header's ``shape x itemsize`` fills its member exactly.
    """
    size = Path(path).stat().st_size
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.header_offset + info.compress_size > size:
                raise ValueError(f"member {info.filename!r} claims {info.compress_size:,} stored bytes, more "
                                 f"than the {size:,}-byte file holds")
            if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
                raise ValueError(f"member {info.filename!r} claims {info.file_size:,} bytes but stores "
                                 f"{info.compress_size:,}")
            if info.file_size > MAX_EXPANSION * info.compress_size + 2**20:
                raise ValueError(f"member {info.filename!r} would expand from {info.compress_size:,} to "
                                 f"{info.file_size:,} bytes (a zip bomb?)")
            with archive.open(info) as f:
                version = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(f)
                data = math.prod(shape) * dtype.itemsize
                if dtype.hasobject or f.tell() + data != info.file_size:
                    raise ValueError(f"member {info.filename!r} claims an array {shape} of {dtype} that its "
                                     f"{info.file_size:,} bytes do not hold")


def nesting(tree) -> int:
    """How many levels of lists and dicts ``tree`` has, counted up to ``MAX_DEPTH + 1`` (without
    recursion: a hostile file may nest 200,000 deep)."""
    depth, level = 0, [tree]
    while depth <= MAX_DEPTH:
        level = [node for node in level if isinstance(node, (dict, list))]
        if not level:
            break
        depth += 1
        level = [v for node in level for v in (node.values() if isinstance(node, dict) else node)]
    return depth


def _split(tree, prefix: str, arrays: dict):
    """``tree`` as JSON-able data, with every array moved into ``arrays`` and replaced by a reference."""
    if isinstance(tree, np.ndarray):
        arrays[prefix] = tree
        return {"npz": prefix}
    if isinstance(tree, dict):
        for key in tree:
            if not isinstance(key, str) or "/" in key:
                raise TypeError(f"save_checkpoint: keys must be strings without '/', got {key!r} in {prefix!r}")
        return {"dict": {k: _split(v, f"{prefix}/{k}" if prefix else k, arrays) for k, v in tree.items()}}
    if isinstance(tree, (list, tuple)):
        return {"list": [_split(v, f"{prefix}/{i}", arrays) for i, v in enumerate(tree)]}
    if isinstance(tree, np.generic):                   # a NumPy scalar: a plain Python number
        tree = tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return {"value": tree}
    raise TypeError(f"save_checkpoint: cannot store {type(tree).__name__} at {prefix!r} "
                    "(only arrays, numbers, strings, None, lists and dicts)")


def _join(node: dict, arrays: dict):
    """The inverse of :func:`_split`."""
    kind, value = next(iter(node.items()))
    if kind == "npz":
        return arrays[value]
    if kind == "dict":
        return {k: _join(v, arrays) for k, v in value.items()}
    if kind == "list":
        return [_join(v, arrays) for v in value]
    return value


# ---- a run's folder of checkpoints --------------------------------------------------------------
def checkpoint_path(out, step: int) -> Path:
    """Where the checkpoint of ``step`` goes: ``out/checkpoints/step_000400.npz``."""
    return Path(out) / FOLDER / f"step_{step:06d}.npz"


def save_and_point(out, state: dict, step: int, keep: int = 3) -> Path:
    """Save ``state`` as step ``step``'s checkpoint, point ``out/latest`` at it, prune old ones.

    The order matters for crash safety: the new file is complete before the
    pointer moves, and the pointer has moved before anything is deleted.

    Pruning keeps the live line: the ``keep`` newest checkpoints at or before
    ``step``. A checkpoint after ``step`` belongs to another line of history
    (a run rolled back to an earlier step); it is never pruned here, only
    removed on purpose (``minigan train --discard-newer``).
    """
    out = Path(out)
    path = save_checkpoint(checkpoint_path(out, step), state)
    write_text_atomic(out / LATEST, f"{FOLDER}/{path.name}\n")
    live = sorted(s for s in saved_steps(out) if s <= step)
    for old in live[:-keep] if keep > 0 else []:
        checkpoint_path(out, old).unlink(missing_ok=True)
    return path


def saved_steps(out) -> list[int]:
    """The steps of the checkpoints in ``out/checkpoints``, in order."""
    return sorted(_step_of(p) for p in (Path(out) / FOLDER).glob("step_*.npz") if NAME.search(p.name))


def latest_step(out) -> int | None:
    """The step ``out/latest`` names (read from the pointer, whether or not the file is there), or None."""
    pointer = Path(out) / LATEST
    try:
        m = NAME.search(pointer.read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return None
    return int(m.group(1)) if m else None


def latest(out) -> Path | None:
    """The checkpoint ``out/latest`` points to, or None if there is no pointer."""
    pointer = Path(out) / LATEST
    if not pointer.is_file():
        return None
    return resolve(pointer)


def resolve(path) -> Path:
    """A checkpoint file from a checkpoint file, a ``latest`` pointer, or an output folder."""
    path = Path(path).expanduser()
    if path.is_dir():
        if _named_by_pointer(path) is None and saved_steps(path):        # a run whose pointer is damaged
            newest, pointer = checkpoint_path(path, saved_steps(path)[-1]), path / LATEST
            target = _pointer_target(pointer) if pointer.is_file() else None
            what = (f"points to {path / target}, which does not exist" if target else
                    "is missing" if not pointer.exists() else "is empty or damaged")
            raise CheckpointError(f"{pointer} {what}; pass a checkpoint itself (the newest is {newest}), "
                                  "or resume the run (--resume) to repair the pointer")
        if not (path / LATEST).is_file():
            raise CheckpointError(f"{path} is a folder with no '{LATEST}' pointer in it: "
                                  "no run has saved a checkpoint there yet")
        path = path / LATEST
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    pointer = _pointer_target(path)
    if pointer is not None:                     # a `latest` pointer: "checkpoints/step_000400.npz"
        target = path.parent / pointer
        if not target.is_file():
            raise CheckpointError(f"{path} points to {target}, which does not exist")
        path = target
    return path


def resume_point(out) -> tuple[Path, str | None]:
    """``(checkpoint, note)``: what ``--resume`` (no value) continues the run in ``out`` from, and why if
    that is not simply ``latest``'s (a line to print; None otherwise).

    Normally ``latest``'s. A job killed between writing a checkpoint and moving
    the pointer (both atomic, but two steps) leaves a complete newer file that
    ``latest`` does not name yet: that one is the run's newest state, so it wins.
    A pointer that is missing, empty, damaged or names a missing file heals: the
    newest complete checkpoint in ``out/checkpoints`` is the run's state.
    """
    out = Path(out).expanduser()
    named = _named_by_pointer(out)
    complete = [s for s in reversed(saved_steps(out)) if is_complete(checkpoint_path(out, s))]
    if named is not None:
        if complete and complete[0] > _step_of(named):
            return checkpoint_path(out, complete[0]), (
                f"{out / LATEST} names step {_step_of(named)}, but the job was stopped after saving "
                f"step_{complete[0]:06d}.npz completely; resuming from it")
        return named, None
    if not complete:
        return resolve(out), None                 # no checkpoint to heal from: resolve says what is wrong
    pointer = out / LATEST
    what = ("is missing" if not pointer.exists() else "is empty" if pointer.is_file() and not pointer.stat().st_size
            else "names no checkpoint there")
    return checkpoint_path(out, complete[0]), (f"{pointer} {what}; resuming from the newest complete "
                                               f"checkpoint, {FOLDER}/step_{complete[0]:06d}.npz")


def _named_by_pointer(out: Path) -> Path | None:
    """The checkpoint ``out/latest`` names, if it is a pointer and that file is there; else None."""
    pointer = out / LATEST
    if not pointer.is_file():
        return None
    target = _pointer_target(pointer)
    if target is None or not (out / target).is_file() or not NAME.search(target):
        return None
    return out / target


def is_complete(path) -> bool:
    """Whether ``path`` is a whole ``.npz`` whose members hold what they claim (reads only headers)."""
    try:
        check_members(path)
        return True
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return False


def _pointer_target(path: Path) -> str | None:
    """The relative path a ``latest`` pointer file holds, or None if ``path`` is no pointer.

    A pointer is one short line of text naming a checkpoint (:data:`POINTER`);
    a file that is not (a checkpoint, or a damaged one) is left for
    :func:`load_checkpoint` to open or reject.
    """
    if path.stat().st_size > 4096:
        return None
    try:
        text = path.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return text if POINTER.fullmatch(text) else None


def _step_of(path: Path) -> int:
    return int(NAME.search(path.name).group(1))
