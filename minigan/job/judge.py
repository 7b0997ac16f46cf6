"""Evaluating a generator during training and after it: the judge, the log row, the printed table.

:mod:`minigan.job.metrics` does the measuring; this module is how ``minigan train
--eval-every`` and ``minigan evaluate`` use it::

    judge = Judge("fashion-mnist", n=2000)      # the cached classifier + the real test set's statistics, once
    result = judge(G, nz=100)                   # n samples of G(z, None): FD, classifier score, classes present, ...
    result = judge(G, nz=100, num_classes=10)   # a conditional G(z, labels): + conditional accuracy, FD per class
    print(eval_line(step, result))              # one line in the training log
    print(result_table(result, judge.classes))  # the table minigan evaluate prints

The judge is the classifier trained on the run's own dataset (MNIST or
Fashion-MNIST), and the real side of every comparison is that dataset's 10,000
test images, which G never trained on. A folder with a sub-folder per class
gets a :class:`FolderJudge`: a classifier trained on most of the folder's
pictures, compared on the rest (minigan/job/metrics/folder_classifier.py); a folder
without classes has no labels to train one on, and gets one line saying so.

Every evaluation draws the *same* noise vectors (seeded by ``seed``, apart
from the trainer's noise, so evaluating never changes the training run): a
change in the curve is a change in G, not in the luck of the draw. The
Fréchet distance of n samples is biased upwards, the more so the smaller n
(about 1/n of the features' spread), so compare only numbers measured with the
same n.

A conditional G is asked for each class in turn (sample i for class i mod K),
so every class gets n / K samples, and the classifier's verdict on each is
compared with the class asked for (minigan/job/metrics/conditional_accuracy.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .checkpoint import resolve
from .settings_checks import IMAGE_SIZE
from .data import FASHION_MNIST, MNIST
from .generate import load_generator
from .logs import MetricsLog, read_metrics
from .metrics import evaluate_generator, load_or_train_classifier, real_statistics
from .metrics.cache import LOADERS
from .metrics.folder_classifier import NoClasses, folder_classifier
from ..models import sample_noise
from .viz import plot_eval_curves

#: The datasets a judge exists for, with their class names.
DATASETS = {"mnist": MNIST, "fashion-mnist": FASHION_MNIST}
NUM_CLASSES = 10                                  # both have 10 classes
JUDGE_CHANNELS = 1                                # both judges read grayscale pictures

#: The columns of ``eval.csv``: one row per evaluation. ``class_k``: the fraction of the
#: samples the judge puts in class k (the class mix; a collapsed G puts them all in one or two).
EVAL_COLUMNS = ("step", "n", "frechet_distance", "classifier_score", "real_classifier_score",
                "class_kl", "classes_present") + tuple(f"class_{k}" for k in range(NUM_CLASSES))

#: ``eval.csv`` of a conditional run: those columns, then the share of samples drawn as the class
#: asked for (overall, ``accuracy_k`` per class) and the Fréchet distance within each class.
CONDITIONAL_EVAL_COLUMNS = EVAL_COLUMNS + ("conditional_accuracy", "mean_class_frechet_distance") + tuple(
    f"accuracy_{k}" for k in range(NUM_CLASSES)) + tuple(f"frechet_{k}" for k in range(NUM_CLASSES))


def eval_columns(conditional: bool) -> tuple:
    """The columns of a run's ``eval.csv``: :data:`CONDITIONAL_EVAL_COLUMNS` for a conditional run."""
    return CONDITIONAL_EVAL_COLUMNS if conditional else EVAL_COLUMNS


class NoJudge(ValueError):
    """The dataset has no classifier to judge it (a folder of pictures has no labels)."""


class Judge:
    """The classifier for ``dataset`` and its statistics of the real test set: call it on a generator.

    dataset: ``"mnist"`` or ``"fashion-mnist"`` (else :class:`NoJudge`).
    data_dir: where the dataset's files are (as ``--data-dir``; default: found automatically).
    n, batch_size: samples per evaluation, generated how many at a time.
    backend: where the classifier runs. seed: seeds the evaluation's noise.
    progress: a stream for loading or (the first time only) training the classifier.
    """

    def __init__(self, dataset, data_dir=None, n=10000, batch_size=500, backend="numpy", seed=0,
                 progress=None):
        if dataset not in DATASETS:
            raise NoJudge(f"evaluation needs a labelled dataset (mnist or fashion-mnist), to train the "
                          f"classifier that judges the samples; --dataset {dataset} has none")
        self.dataset, self.n, self.batch_size, self.seed = dataset, int(n), int(batch_size), seed
        self.classes = DATASETS[dataset].classes
        self.classifier = load_or_train_classifier(dataset, root=data_dir, backend=backend, progress=progress)
        real, labels = LOADERS[dataset](data_dir, train=False, progress=progress)   # uint8 (10000, 28, 28), (10000,)
        self.n_real = len(real)
        self.real = real_statistics(self.classifier, real, batch_size, labels=labels)   # per class too

    def __call__(self, G, nz, noise="normal", dtype=None, num_classes=None) -> dict:
        """Measure ``n`` samples of ``G``: see :func:`minigan.job.metrics.evaluate_generator` for the dict returned.

        ``G(z, labels)`` -> images ``(m, C, H, W)`` in [-1, 1]; ``labels`` is None for an
        unconditional G. ``num_classes``: K for a conditional G on this judge's classes: sample i
        is asked for class ``i mod K``, and the result adds the conditional accuracy and FD per class.
        """
        rng = np.random.default_rng([self.seed, 3])             # the same z at every evaluation
        if num_classes is None:
            return evaluate_generator(lambda m: G(sample_noise(m, nz, noise, rng, dtype), None), self.classifier,
                                      n=self.n, batch_size=self.batch_size, real_stats=self.real)
        asked = np.arange(self.n) % num_classes                 # (n,): each class in turn
        return evaluate_generator(lambda m, y: G(sample_noise(m, nz, noise, rng, dtype), y), self.classifier,
                                  n=self.n, batch_size=self.batch_size, real_stats=self.real, labels=asked)

    def describe(self) -> str:
        accuracy = getattr(self.classifier, "test_accuracy", None)
        judged = f" (test accuracy {accuracy:.1%})" if accuracy is not None else ""
        return (f"{self.n:,} samples against the {self.n_real:,} {DATASETS[self.dataset].title} test "
                f"images, judged by its classifier{judged}")


class FolderJudge(Judge):
    """:class:`Judge` for a folder with a sub-folder per class: its classifier, trained on most of the folder,
    judges G's samples against the held-out rest (minigan/job/metrics/folder_classifier.py). ``size``, ``channels``:
    the run's pictures. :class:`NoJudge` for a folder without classes."""

    def __init__(self, data_dir, size, channels, n=10000, batch_size=500, backend="numpy", seed=0, progress=None):
        try:
            self.classifier, real, labels, self.classes = folder_classifier(data_dir, size, channels,
                                                                            progress=progress, backend=backend)
        except NoClasses as e:
            raise NoJudge(f"{e}; grayscale digits or clothes can be judged with --dataset mnist or --dataset "
                          "fashion-mnist") from None
        self.dataset, self.data_dir, self.seed = "folder", data_dir, seed
        self.n, self.batch_size = int(n), int(batch_size)
        self.n_real = len(real)
        self.real = real_statistics(self.classifier, real, batch_size, labels=labels)   # per class too

    def describe(self) -> str:
        return (f"{self.n:,} samples against the {self.n_real:,} held-out pictures of {self.data_dir} "
                f"({len(self.classes)} classes), judged by a classifier trained on the rest (held-out accuracy "
                f"{self.classifier.test_accuracy:.1%})")


def log_row(step: int, result: dict) -> dict:
    """One row of ``eval.csv`` (:data:`EVAL_COLUMNS`) from an :func:`evaluate_generator` result."""
    row = {k: result[k] for k in EVAL_COLUMNS[1:7]}
    row.update({f"class_{k}": share for k, share in enumerate(result["class_histogram"][:NUM_CLASSES])})
    if "conditional_accuracy" in result:                        # a conditional G: its own columns
        row.update({k: result[k] for k in ("conditional_accuracy", "mean_class_frechet_distance")})
        row.update({f"accuracy_{k}": v for k, v in enumerate(result["class_accuracy"][:NUM_CLASSES])})
        row.update({f"frechet_{k}": v for k, v in enumerate(result["class_frechet_distance"][:NUM_CLASSES])})
    return {"step": step, **row}


def eval_line(step: int, r: dict) -> str:
    """``eval at step 400: FD 23.41, classifier score 6.12 (real 8.90), classes present 10/10, ...``"""
    return (f"eval at step {step}: FD {r['frechet_distance']:.2f}, classifier score "
            f"{r['classifier_score']:.2f} (real {r['real_classifier_score']:.2f}), classes present "
            f"{r['classes_present']}/{len(r['class_histogram'])}, class KL {r['class_kl']:.3f}"
            + (f", conditional accuracy {r['conditional_accuracy']:.1%}, FD per class (mean) "
               f"{r['mean_class_frechet_distance']:.2f}" if "conditional_accuracy" in r else "")
            + f"  [{r['n']:,} samples, {r['seconds']:.1f} s]")


def result_table(r: dict, classes=None) -> str:
    """The results as a table a person reads: each number, what it means, then the class mix as bars."""
    K = len(r["class_histogram"])
    present = f"{r['classes_present']} / {K}"
    lines = [
        f"  Fréchet distance   {r['frechet_distance']:9.3f}   0 = the real images' feature statistics; "
        "lower is better",
        f"  classifier score   {r['classifier_score']:9.3f}   ± {r['classifier_score_std']:.3f}; the real "
        f"images score {r['real_classifier_score']:.3f}; 1 = one look-alike class, {K} = every class, each sure",
        f"  classes present    {present:>9}   classes with at least a quarter of their real share",
        f"  class KL           {r['class_kl']:9.4f}   KL(sample class mix || real mix): 0 = the same mix, "
        f"ln {K} = {np.log(K):.2f} = one class",
        "",
        "  class mix (share of the samples the classifier puts in each class; real images for comparison):",
    ]
    names = list(classes) if classes is not None else [str(k) for k in range(K)]
    width = max(len(name) for name in names)
    for name, share, real in zip(names, r["class_histogram"], r["real_class_histogram"]):
        bar = "#" * int(round(share * 100 / 2))                 # one # per 2% of the samples
        lines.append(f"    {name:<{width}}  {share:6.1%}  {bar:<30} real {real:5.1%}")
    if "conditional_accuracy" in r:
        lines += ["", f"  conditional accuracy {r['conditional_accuracy']:7.1%}   samples classified as the class "
                  f"asked for; chance = {1 / K:.0%}, the classifier's own test accuracy is the ceiling",
                  f"  FD within classes  {r['mean_class_frechet_distance']:9.3f}   the mean over classes of each "
                  "class's samples against its real pictures; lower is better", "",
                  "  per class asked for:   accuracy   FD within the class"]
        for name, acc, fd in zip(names, r["class_accuracy"], r["class_frechet_distance"]):
            lines.append(f"    {name:<{width}}  {acc:10.1%}   {fd:9.3f}")
    return "\n".join(lines)


def evaluate_checkpoint(path, n=10000, dataset=None, data_dir=None, batch_size=500, seed=0,
                        backend="numpy", use_ema=True, progress=None) -> dict:
    """Load G from a checkpoint (a file, a ``latest`` pointer or a run folder) and judge ``n`` samples.

    ``dataset``/``data_dir`` default to the run's own (from the checkpoint's config). Returns the
    :func:`evaluate_generator` dict plus ``checkpoint``, ``step``, ``ema``, ``dataset``, ``run_dataset``,
    ``arch`` and ``classes``. Raises :class:`NoJudge` (one line) when no judge can read G's pictures.
    """
    G = load_generator(path, backend=backend, use_ema=use_ema)
    dataset = dataset or G.config.dataset
    if dataset == "folder":                                     # your own pictures: a classifier of them
        folder = data_dir or G.config.data_dir
        judge = FolderJudge(folder, IMAGE_SIZE[G.config.arch], G.channels, n=n, batch_size=batch_size,
                            backend=backend, seed=seed, progress=progress)
        result = judge(G, G.nz, G.noise, G.config.dtype, num_classes=G.num_classes)
        return {"checkpoint": str(resolve(path)), "step": G.step, "ema": G.ema, "dataset": dataset,
                "run_dataset": G.config.dataset, "arch": G.config.arch,
                "judge": judge.describe(), "classes": list(judge.classes), **result}
    if dataset not in DATASETS:
        raise NoJudge(f"evaluation needs a labelled dataset, to train the classifier that judges the samples; "
                      f"this run's --dataset {dataset} has none: pass --dataset mnist or --dataset fashion-mnist "
                      "to judge its pictures with that dataset's classifier")
    if G.channels != JUDGE_CHANNELS:
        raise NoJudge(f"G makes {G.channels}-channel (RGB) pictures, and the {dataset} classifier judges "
                      f"grayscale ones, so there is nothing it can measure here; only a run with 1 channel "
                      f"(mnist, fashion-mnist, or --dataset folder --channels 1) can be evaluated")
    if data_dir is None and dataset == G.config.dataset:
        data_dir = G.config.data_dir                            # where the run found its data
    judge = Judge(dataset, data_dir, n=n, batch_size=batch_size, backend=backend, seed=seed, progress=progress)
    same_classes = dataset == G.config.dataset                  # a conditional G's labels mean this judge's classes
    result = judge(G, G.nz, G.noise, G.config.dtype, num_classes=G.num_classes if same_classes else None)
    return {"checkpoint": str(resolve(path)), "step": G.step, "ema": G.ema, "dataset": dataset,
            "run_dataset": G.config.dataset, "arch": G.config.arch,
            "judge": judge.describe(), "classes": list(judge.classes), **result}


def run_folder_of(checkpoint) -> Path | None:
    """The run folder a checkpoint file belongs to (``out/checkpoints/step_*.npz`` -> ``out``), or None."""
    checkpoint = Path(checkpoint)
    folder = checkpoint.parent.parent
    if checkpoint.parent.name == "checkpoints" and (folder / "config.json").is_file():
        return folder
    return None


def record_evaluation(run_dir, result: dict) -> Path:
    """Add ``result`` (from :func:`evaluate_checkpoint`) to the run's ``eval.csv``, redraw ``metrics.png``.

    The row is appended (the file is created with its header if the run had
    none), so no earlier row is touched; the report and the metric curves sort
    rows by step. Returns the path of ``eval.csv``.
    """
    run_dir = Path(run_dir)
    path = run_dir / "eval.csv"
    with MetricsLog(path, eval_columns("conditional_accuracy" in result)) as log:
        log.log(**log_row(result["step"], result))
    plot_eval_curves(read_metrics(path), run_dir / "metrics.png", title=f"{result['arch']} on {result['dataset']}",
                     num_classes=len(result["class_histogram"]))
    return path
