"""The run report: one self-contained HTML page that shows what happened in a training run.

    write_report("runs/fashion")          # -> runs/fashion/index.html; or: minigan report runs/fashion

``minigan train`` writes it at every sample point and at the end. The page
reads only the files in the run folder (see :mod:`minigan.job.run` for the list;
it imports nothing of the training job) and shows, each beside a short note
on what to look for:

    samples over time   the fixed-noise grids (samples/step_*.png), a handful spread over the run
    training curves     curves.png: the run's game's losses, D's outputs, W, penalties, with recent averages
    metrics             metrics.png and eval.csv: Frechet distance, classifier score, class mix
    gradient flow       gradflow.csv: per layer, activations and gradient sizes, first vs latest
    interpolation       interpolation.png: walks through latent space
    config              config.json, as a command line to paste and as a table

Self-contained means one file and nothing else: every picture is embedded as
a ``data:image/png;base64,...`` URI, the styles are inline, the bar charts
are HTML and inline SVG, and there is no script, web font or link to
anywhere. It opens from disk in any browser, offline, and can be mailed as
it is. It is written atomically (:mod:`minigan.fileio`), so a browser
reloading it mid-run never sees half a page.

The training job rewrites the page at every sample point, so its cost must
not grow with the run: each picture is base64-encoded once and reused while
its file is unchanged (:class:`~minigan.job.report.html.Embedder`), the strip
of grids over time keeps the same picks from one sample point to the next,
and the logs that grow every step are read in part: metrics.csv from its end,
gradflow.csv in a few blocks spread over it (:mod:`~minigan.job.report.run_files`).

    page.py         write_report, render_report: the page put together
    run_folder.py   Run: the run folder's files, read once
    training.py     overview, samples over time, training curves, interpolation
    game_reading.py the curves' reading per game: the note, the equilibrium table, the verdict and its advice
    measures.py     metrics and class mix, gradient flow
    config_table.py the config as a command line and a table
    html.py         small HTML helpers and the picture embedder
    style.py        the page's frame and stylesheet
"""
from .page import render_report, write_report

__all__ = ["render_report", "write_report"]
