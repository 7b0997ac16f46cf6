"""Looking at training: sample grids, an animated GIF of them, the training and metric curves.

The CSV logs these read are written by :mod:`minigan.job.logs`.

Everything here writes its file atomically (:mod:`minigan.fileio`) and draws
with Pillow and NumPy only; there is no plotting dependency.
"""
from minigan.job.viz.curves import plot_training_curves
from minigan.job.viz.eval_curves import plot_eval_curves
from minigan.job.viz.gif import GifWriter, save_gif
from minigan.job.viz.grid import grid_scale, make_grid, picture_format, save_grid

__all__ = ["grid_scale", "make_grid", "picture_format", "save_grid", "plot_training_curves", "plot_eval_curves",
           "save_gif", "GifWriter"]
