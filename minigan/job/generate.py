"""Sampling from a trained generator: random grids and latent interpolations.

A checkpoint (see :mod:`minigan.job.checkpoint`) holds G's weights, the EMA copy
when the run kept one, and the config that says how to rebuild G. So::

    G = load_generator("out")                      # the latest checkpoint of the run in out/
    z = sample_noise(64, G.nz, "normal", rng=0)    # (64, nz, 1, 1)
    images = G(z)                                  # (64, C, H, W) in [-1, 1]

**Latent interpolation.** Walking in a straight line from one z to another
and decoding each point shows whether G has learned a smooth map: the
pictures should morph, not jump. For Gaussian z a straight line passes near
the origin, where almost no training z ever lies (in nz = 100 dimensions
|z| is close to sqrt(100) = 10), so we walk along the great circle instead:
spherical interpolation (slerp; White, 2016, https://arxiv.org/abs/1609.04468)::

    slerp(a, b, t) = sin((1 - t) w) / sin(w) * a + sin(t w) / sin(w) * b,   cos(w) = a.b / (|a| |b|)

For uniform z (a box) we walk the straight line, which stays inside the box.

**Many pictures.** :func:`generate_batches` runs G on ``batch_size`` noise
vectors at a time and yields each batch, so memory stays bounded however many
pictures are asked for (a writer of many files consumes it batch by batch).
A grid is one picture, so it holds at most :data:`MAX_GRID` of them; many
pictures go to a folder of PNGs or a ``.npy`` array (minigan/job/sample_files.py).

**A conditional run** (``--conditional``): ``G(z, labels)`` draws the classes
asked for. :func:`asked_labels` turns ``--class 7`` or ``--class Sneaker`` into
labels (a name matched without regard to case when only one matches); without
``--class`` a grid's ``--n`` pictures are shared among the classes, one row per class
with its name beside it, each row drawn from the same noise vectors, so a column
shows one z in every class.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import backend as B
from .checkpoint import CheckpointError, load_checkpoint, resolve
from .config import TrainConfig, build_models
from .data import POINT_SETS, class_index, mixture
from .output_guard import OutputTarget
from .weights_fit import check_weights_fit
from ..models import sample_noise
from .viz import grid_scale, picture_format, save_grid
from .viz.scatter import save_scatter

BATCH = 256                  # pictures G makes at a time: bounds the memory of its activations
MAX_GRID = 1024              # pictures in one grid: 32 x 32 tiles, about 2,000 pixels a side


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points on the great circle from ``a`` (t = 0) to ``b`` (t = 1): a, b ``(nz,)``, t ``(T,)`` -> ``(T, nz)``."""
    cos_w = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    w = np.arccos(np.clip(cos_w, -1.0, 1.0))
    t = t[:, None]
    if w < 1e-6:                                      # a and b (nearly) parallel: a straight line
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * w) * a + np.sin(t * w) * b) / np.sin(w)


def latent_walk(nz: int, rows: int, steps: int, kind: str = "normal", rng=None, dtype=None) -> np.ndarray:
    """``rows`` walks of ``steps`` points each, between random pairs of z: ``(rows * steps, nz, 1, 1)``.

    Row r goes from one noise vector to another (slerp for normal z, a
    straight line for uniform z); laid out with ``nrow=steps``, each grid row
    is one walk.
    """
    ends = sample_noise(2 * rows, nz, kind, rng, np.float64)[:, :, 0, 0]     # (2 rows, nz)
    t = np.linspace(0.0, 1.0, steps)                                          # (steps,)
    walk = slerp if kind == "normal" else (lambda a, b, t: (1 - t[:, None]) * a + t[:, None] * b)
    z = np.concatenate([walk(ends[2 * r], ends[2 * r + 1], t) for r in range(rows)])  # (rows*steps, nz)
    return z.reshape(rows * steps, nz, 1, 1).astype(B.resolve_dtype(dtype))


class Generator:
    """G rebuilt from a checkpoint, in eval mode: ``Generator(...)(z)`` -> images ``(N, C, H, W)``.

    Attributes: ``net`` (the Sequential), ``config`` (the run's settings, as attributes:
    ``config.dataset``, ``config.nz``, ...), ``nz``, ``noise``, ``channels``,
    ``step`` (the training step the checkpoint was saved at), ``ema`` (whether ``net`` is the EMA copy),
    ``class_names`` and ``num_classes`` (K) of a conditional run, else None.
    A conditional G is called ``G(z, labels)``; without labels it draws each class in turn.
    """

    def __init__(self, net, config, step, ema):
        self.net, self.config, self.step, self.ema = net.eval(), config, step, ema
        self.nz, self.noise, self.channels = config.nz, config.noise, config.channels
        self.class_names = list(config.class_names) if config.conditional else None
        self.num_classes = len(self.class_names) if self.class_names else None

    def __call__(self, z, labels=None):
        ref = next(iter(self.net.params.values()))
        z = B.asarray(z, B.backend_name(ref), ref.dtype)
        if self.num_classes is None:
            if labels is not None:
                raise ValueError("this G is not conditional: it takes no labels")
            return self.net.forward(z)
        if labels is None:
            labels = np.arange(len(z)) % self.num_classes                 # each class in turn
        return self.net.forward(z, np.asarray(labels, dtype=np.int64))  # the label enters G with z


def load_generator(path, backend: str = "numpy", use_ema: bool = True) -> Generator:
    """G from a checkpoint file, a ``latest`` pointer or a run's output folder, on ``backend``.

    Uses the EMA generator when the checkpoint has one and ``use_ema``. G is
    rebuilt from the settings saved in the checkpoint (its architecture and
    sizes). Raises :class:`~minigan.job.checkpoint.CheckpointError` with one line
    when the checkpoint lacks a setting or an array, or holds one of another shape.
    """
    where = resolve(path)
    try:
        state = load_checkpoint(path)                                    # KeyError: an array listed but missing
        saved = state["config"]
        missing = [k for k in ("arch", "nz", "ngf", "ndf", "dtype", "noise", "dataset") if k not in saved]
        if missing:
            raise KeyError(f"its config has no {', '.join(missing)}")
        config = TrainConfig.from_dict(saved)
        config.backend = "numpy"                                          # built on the CPU, moved below
        config = config.resolved()
        use_ema = use_ema and state["trainer"].get("G_ema") is not None
        check_weights_fit(config, state["trainer"], ("G_ema" if use_ema else "G",))   # before building anything
        G, _ = build_models(config)                                      # the architecture the run trained
        weights = state["trainer"].get("G_ema") if use_ema else None     # the checkpoint's weights replace G's
        G.load_state_dict(weights if weights is not None else state["trainer"]["G"])
    except KeyError as e:
        what = e.args[0] if e.args else e
        raise CheckpointError(f"{where} is damaged or incomplete: {what}. Use another checkpoint "
                              "(the run keeps the last few in its checkpoints/ folder)") from None
    except ValueError as e:                                              # an array of another shape
        raise CheckpointError(f"{where} does not match the generator it describes: {e}. "
                              "Use another checkpoint") from None
    return Generator(G.to(backend=backend), config, int(state.get("step", 0)), ema=weights is not None)


def generate_batches(G: Generator, n: int, seed: int = 0, batch_size: int = BATCH, labels=None):
    """``n`` samples of ``G``, ``batch_size`` at a time: yields NumPy ``(m, C, H, W)`` arrays in [-1, 1].

    The noise is drawn batch by batch from one generator seeded with ``seed``,
    which gives the same z (so the same pictures) as drawing all ``n`` at once.
    ``labels``: a conditional G's classes, int ``(n,)`` (see :func:`asked_labels`), or None.
    """
    rng = np.random.default_rng(seed)
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        z = sample_noise(m, G.nz, G.noise, rng)                          # (m, nz, 1, 1)
        y = None if labels is None else labels[start:start + m]          # (m,): the classes asked for
        yield B.to_numpy(G(z, y))                                        # (m, C, H, W)


def asked_labels(G: Generator, n: int, class_spec=None):
    """The classes to ask G for: int64 ``(n,)``, or None for an unconditional G.

    ``class_spec``: a class name or index (``--class``): all ``n`` of it; None: each class
    in turn. ``ValueError`` (one line) for ``--class`` on an unconditional G, or an unknown class.
    """
    if G.num_classes is None:
        if class_spec is not None:
            raise ValueError(f"--class {class_spec}: this checkpoint's G is not conditional (the run was trained "
                             "without --conditional), so it cannot be asked for a class; leave --class out")
        return None
    if class_spec is None:
        return np.arange(n, dtype=np.int64) % G.num_classes
    return np.full(n, class_index(class_spec, G.class_names), dtype=np.int64)


def check_out_path(out, checkpoint_path, force: bool = False, kind: str = "picture") -> OutputTarget:
    """The output guard's target for ``out`` (minigan/job/output_guard.py), or ``ValueError`` (one line).

    Writing a picture over the checkpoint being read (or any checkpoint, or a
    run's ``latest`` pointer) would destroy the model, so it is refused, even
    with ``force``; so is a name with no picture format's extension (``kind``
    "picture"), and whatever the guard refuses (a run's file, a link, a
    device, a file minigan did not write as a picture, unless ``force``).
    """
    out = Path(out).expanduser()
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name such as {out / 'generated.png'}")
    if out.is_file() and not out.is_symlink():                           # a link, a FIFO: the guard's to refuse
        protected = {resolve(checkpoint_path).resolve(), Path(checkpoint_path).expanduser().resolve()}
        with open(out, "rb") as f:
            is_archive = f.read(4) == b"PK\x03\x04"                     # a .npz is a zip archive
        if out.resolve() in protected or out.name == "latest" or out.suffix == ".npz" or is_archive:
            raise ValueError(f"--out {out} is a checkpoint (or a 'latest' pointer): writing pictures there "
                             "would destroy the model. Choose another file name, such as generated.png")
    if kind == "picture":
        picture_format(out)
    return OutputTarget(out, kind, force=force)


def generate_grid(checkpoint_path, out, n: int | None = None, seed: int = 0, interpolate: bool = False,
                  nrow: int = 8, backend: str = "numpy", use_ema: bool = True,
                  batch_size: int = BATCH, class_spec=None, force: bool = False) -> Path:
    """Write a grid of ``n`` samples (or, with ``interpolate``, of latent walks) to ``out``.

    The format is the one ``out``'s extension names (.png, .jpg, .gif, ...). ``n``: how many
    pictures; None: 64, or for a conditional G without ``class_spec`` a row of ``nrow`` per class.
    Interpolation: ``ceil(n / nrow)`` rows of ``nrow`` steps each. G runs on ``batch_size``
    pictures at a time. A conditional G: ``class_spec`` (a class name or index) asks for that
    class only; without it the ``n`` pictures are shared among the classes in order (class k
    gets ``n // K``, one more for the first ``n % K``), one row per class with its name beside
    it, the same z down each column; interpolating, the walks are rounded up to the same
    number for every class, each class's rows walking within it. Raises ``ValueError`` (one
    line) for an ``out`` that is a checkpoint or has no picture extension, more pictures than
    :data:`MAX_GRID`, or a class G does not have, and
    :class:`~minigan.job.output_guard.OutputRefused` (a ``ValueError``) for an ``out`` it may not
    write (``force``: replace an existing file minigan did not write; minigan/job/output_guard.py).
    """
    target = check_out_path(out, checkpoint_path, force)                 # refused now, before any work
    out = Path(out).expanduser()
    G = load_generator(checkpoint_path, backend, use_ema)
    if G.config.dataset in POINT_SETS:                                    # a 2D run: a scatter plot of n points
        return generate_scatter(G, target, n or 2500, seed, batch_size, interpolate)
    K = G.num_classes
    by_class = K is not None and class_spec is None                      # rows of classes, named
    if n is None:
        n = K * nrow if by_class and not interpolate else 64
    rows = -(-n // nrow)
    if by_class and interpolate:
        rows = K * -(-rows // K)                                          # the same number of walks per class
    total = rows * nrow if interpolate else n
    if total > MAX_GRID:
        asked = f"--n {n:,}" if not interpolate else f"{rows:,} walks of {nrow} ({total:,} pictures)"
        raise ValueError(f"{asked} is too many pictures for one grid (at most {MAX_GRID:,}, a picture about "
                         f"2,000 pixels a side); ask for fewer (--n, --nrow), make several grids with different "
                         f"--seed values, or write them all to a folder (--out samples/) or an array "
                         f"(--out samples.npy)")
    rng, row_labels = np.random.default_rng(seed), None
    if interpolate:
        z = latent_walk(G.nz, rows=rows, steps=nrow, kind=G.noise, rng=rng)   # (rows * nrow, nz, 1, 1)
        labels = asked_labels(G, len(z), class_spec)
        if by_class:                                                      # class k: rows k*rows/K ... in order
            labels = np.arange(len(z)) // nrow // (rows // K)
            row_labels = [G.class_names[k] for k in range(K) for _ in range(rows // K)]
        images = _run_G(G, z, labels, batch_size)
    elif by_class:
        images, row_labels, nrow = class_rows_grid(G, n, rng, batch_size)
    else:
        labels = asked_labels(G, n, class_spec)                           # (n,), or None: unconditional
        images = np.concatenate(list(generate_batches(G, n, seed, batch_size, labels)))   # (n, C, H, W) in [-1, 1]
    fmt = picture_format(out)
    with target.temp() as tmp:                                            # in place once complete, or not at all
        save_grid(images, tmp, nrow=nrow, scale=grid_scale(images.shape[-1]), row_labels=row_labels,
                  fmt=fmt, options=target.mark(fmt))
    what = describe_classes(G, class_spec, by_class)
    walks = f" ({rows} latent walks of {nrow}, one per row)" if interpolate else ""
    print(f"wrote {out}: {total} pictures from {'EMA ' if G.ema else ''}G at step {G.step}{walks}{what}")
    return out


def class_rows_grid(G: Generator, n: int, rng, batch_size: int = BATCH):
    """``(images, row_labels, nrow)``: ``n`` pictures of a conditional G, a row per class in order.

    Class k gets ``n // K`` pictures, one more for the first ``n % K`` classes (a class with
    none has no row); column j of every row is drawn from the same z, so a column shows one
    z as every class. Rows shorter than the longest end in blank tiles, the grid's white.
    """
    K = G.num_classes
    shares = [n // K + (k < n % K) for k in range(K)]                    # pictures of each class, sum n
    width = max(shares)
    z = sample_noise(width, G.nz, G.noise, rng)                           # (width, nz, 1, 1): one per column
    kept = [k for k in range(K) if shares[k]]
    zs = np.concatenate([z[:shares[k]] for k in kept])                    # (n, nz, 1, 1)
    labels = np.concatenate([np.full(shares[k], k, dtype=np.int64) for k in kept])
    made = _run_G(G, zs, labels, batch_size)                              # (n, C, H, W)
    tiles = np.ones((len(kept) * width, *made.shape[1:]), dtype=made.dtype)   # blank: white, as the border
    at = 0
    for r, k in enumerate(kept):
        tiles[r * width:r * width + shares[k]] = made[at:at + shares[k]]
        at += shares[k]
    return tiles, [G.class_names[k] for k in kept], width


def _run_G(G: Generator, z, labels, batch_size: int) -> np.ndarray:
    """G on ``z`` (and ``labels``), ``batch_size`` at a time: NumPy ``(len(z), C, H, W)``."""
    return np.concatenate([B.to_numpy(G(z[i:i + batch_size], None if labels is None else labels[i:i + batch_size]))
                           for i in range(0, len(z), batch_size)])


def generate_scatter(G: Generator, target: OutputTarget, n: int, seed: int = 0, batch_size: int = BATCH,
                     interpolate=False) -> Path:
    """A 2D run's ``n`` samples as a scatter plot over its data's modes (minigan/job/viz/scatter.py)."""
    if interpolate:
        raise ValueError(f"--interpolate draws rows of pictures; {G.config.dataset}'s samples are 2D points: "
                         "leave it out")
    out = target.path
    points = np.concatenate(list(generate_batches(G, n, seed, batch_size)))    # (n, 2, 1, 1)
    modes, std = mixture(G.config.dataset)
    fmt = picture_format(out)
    with target.temp() as tmp:                                            # in place once complete, or not at all
        save_scatter(points, tmp, modes, std, title=f"{n:,} samples of G at step {G.step}", fmt=fmt,
                     options=target.mark(fmt))
    print(f"wrote {out}: a scatter plot of {n:,} points from {'EMA ' if G.ema else ''}G at step {G.step}")
    return Path(out)


def describe_classes(G: Generator, class_spec, rows_per_class: bool) -> str:
    """``", class 7 (Sneaker)"``, ``", one row per class: T-shirt/top, ..."``, or "" (unconditional)."""
    if G.num_classes is None:
        return ""
    if class_spec is not None:
        k = class_index(class_spec, G.class_names)
        return f", class {k} ({G.class_names[k]})"
    return f", {'one row per class' if rows_per_class else 'each class in turn'}: {', '.join(G.class_names)}"
