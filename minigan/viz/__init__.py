"""Looking at training: sample grids, an animated GIF of them, the training and metric curves.

The CSV logs these read are written by :mod:`minigan.logs`.

Everything here writes its file atomically (:mod:`minigan.fileio`) and draws
with Pillow and NumPy only; there is no plotting dependency.
"""
from minigan.viz.curves import plot_training_curves
from minigan.viz.eval_curves import plot_eval_curves
from minigan.viz.gif import GifWriter, save_gif
from minigan.viz.grid import grid_scale, make_grid, picture_format, save_grid

__all__ = ["grid_scale", "make_grid", "picture_format", "save_grid", "plot_training_curves", "plot_eval_curves",
           "save_gif", "GifWriter"]
