"""plot_eval_curves: FD, classifier score and classes present in three panels, one dot per evaluation."""
import numpy as np
import pytest
from PIL import Image

from minigan.job.viz import plot_eval_curves
from minigan.job.viz.curves import BLUE, GREEN, ORANGE
from minigan.job.viz.eval_curves import HEIGHT


def history(n=4):
    return dict(step=np.arange(1, n + 1) * 100, frechet_distance=np.linspace(90, 30, n),
                classifier_score=np.linspace(2, 6, n), real_classifier_score=np.full(n, 8.5),
                classes_present=np.array([4, 7, 9, 10][:n] + [10] * max(0, n - 4)))


def test_each_metric_in_its_own_panel(tmp_path):
    path = plot_eval_curves(history(), tmp_path / "metrics.png", title="a run")
    img = np.asarray(Image.open(path).convert("RGB"))
    assert img.shape == (HEIGHT, 1000, 3)
    third = HEIGHT // 3
    for colour, panel in ((BLUE, 0), (ORANGE, 1), (GREEN, 2)):
        rows = np.nonzero(np.all(img == np.array(colour, np.uint8), axis=-1))[0]
        assert len(rows) > 100, colour                                  # the line and its dots
        assert np.median(rows) // third == panel


@pytest.mark.parametrize("n", [1, 2, 30])
def test_few_or_many_evaluations(tmp_path, n):
    plot_eval_curves(history(n), tmp_path / "m.png")                    # one point is a dot, not an error


def test_missing_columns_are_named(tmp_path):
    h = history()
    del h["classes_present"]
    with pytest.raises(ValueError, match="classes_present"):
        plot_eval_curves(h, tmp_path / "m.png")
