"""Looking at training: sample grids, an animated GIF of them, the training and metric curves, the CSV logs.

Everything here writes its file atomically (:mod:`minigan.fileio`) and draws
with Pillow and NumPy only; there is no plotting dependency.
"""
from minigan.viz.curves import plot_training_curves
from minigan.viz.eval_curves import plot_eval_curves
from minigan.viz.gif import save_gif
from minigan.viz.grid import grid_scale, make_grid, save_grid
from minigan.viz.metrics_log import MetricsLog, read_metrics

__all__ = ["grid_scale", "make_grid", "save_grid", "plot_training_curves", "plot_eval_curves", "save_gif",
           "MetricsLog", "read_metrics"]
