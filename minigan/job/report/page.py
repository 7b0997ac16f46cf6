"""The report page put together: read the run folder, render each section, write one file atomically."""
from __future__ import annotations

from pathlib import Path

from ...fileio import write_text_atomic
from .config_table import config_section
from .html import esc
from .measures import gradflow_section, metrics_section
from .run_files import Run
from .style import PAGE, STYLE
from .training import curves_section, interpolation_section, overview, samples_section


def write_report(run_dir, path=None) -> Path:
    """Write the report of the run in ``run_dir`` to ``path`` (default ``run_dir/index.html``); returns it."""
    run_dir = Path(run_dir)
    path = run_dir / "index.html" if path is None else Path(path)
    write_text_atomic(path, render_report(run_dir))
    return path


def render_report(run_dir) -> str:
    """The report's HTML, from whatever files ``run_dir`` holds so far."""
    run = Run(Path(run_dir))
    title = f"{run.config.get('arch', 'GAN')} on {run.dataset_title}"
    sections = [overview(run), samples_section(run), curves_section(run), metrics_section(run),
                gradflow_section(run), interpolation_section(run), config_section(run)]
    return PAGE.format(title=esc(title), style=STYLE, body="\n".join(s for s in sections if s))
