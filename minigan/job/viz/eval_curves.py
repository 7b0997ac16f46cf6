"""Metric curves: how the judge's numbers for G moved during training, in one PNG (``metrics.png``).

Three panels over the training step, one point per evaluation (``eval.csv``,
see :mod:`minigan.job.judge`):

**Fréchet distance** (top): the distance between Gaussians fitted to the
classifier's features of real and generated images. It should fall as G
learns and level off; a sudden rise means the samples got worse (a collapse,
or training coming apart).

**Classifier score** (middle): high when each sample is clearly one class and
the samples use many classes. The dashed line is the real test images' own
score, the most a generator can expect.

**Classes present** (bottom): how many of the K classes get at least a
quarter of their real share of the samples. All K (the dashed line) means no
class is missing; a drop is mode collapse, visible here before it is obvious
in the sample grids.
"""
from __future__ import annotations

import numpy as np

from minigan.job.viz.curves import BLUE, GREEN, GREY, ORANGE, plot_panels

#: The columns of ``history`` that :func:`plot_eval_curves` reads.
EVAL_KEYS = ("step", "frechet_distance", "classifier_score", "real_classifier_score", "classes_present")
HEIGHT = 820


def plot_eval_curves(history: dict, path, title: str | None = None, num_classes: int = 10):
    """Draw FD, classifier score and classes present against step as a PNG at ``path`` (atomically).

    history: ``{column: values}`` with at least :data:`EVAL_KEYS`, e.g.
    ``read_metrics("eval.csv")``; NaN values leave a gap. Returns ``path``.
    """
    missing = [k for k in EVAL_KEYS if k not in history]
    if missing:
        raise ValueError(f"plot_eval_curves: history is missing {missing}; it needs keys {list(EVAL_KEYS)}")
    data = {k: np.asarray(history[k], dtype=np.float64).reshape(-1) for k in EVAL_KEYS}
    if len({v.size for v in data.values()}) != 1:
        raise ValueError("plot_eval_curves: history columns must have equal lengths")
    order = np.argsort(data["step"], kind="stable")
    data = {k: v[order] for k, v in data.items()}

    real_scores = data["real_classifier_score"][np.isfinite(data["real_classifier_score"])]
    real_score = ((float(real_scores[-1]), f"real {real_scores[-1]:.2f}", GREY),) if real_scores.size else ()
    panels = (
        ("Frechet distance (lower is better)", "FD",         # (the built-in font has no é)
         (("frechet_distance", "FD", BLUE),), (), None),
        ("Classifier score (higher is better)", "score",
         (("classifier_score", "classifier score", ORANGE),), real_score, None),
        ("Classes present", "classes",
         (("classes_present", "classes present", GREEN),),
         ((num_classes, f"all {num_classes}", GREY),), (0, num_classes)),
    )
    return plot_panels(data["step"], data, panels, path, title=title, ref_legend="real images",
                       markers=True, height=HEIGHT)
