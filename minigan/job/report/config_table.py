"""The report's config section: the run's settings as a command line to paste, and as a table.

The settings come from the run folder's ``config.json`` (the report imports
nothing of the training job). Each setting ``batch_size: 64`` is the flag
``--batch-size 64``; a setting left unset (``null``) is left out, so the
command line means what the run meant.
"""
from __future__ import annotations

import shlex

from .html import esc, section
from .run_files import Run


def flag_words(config: dict, skip=("out",)) -> list[tuple[str, str]]:
    """``[(flag, value)]`` for the settings in ``config``.

    Unset settings (None) are left out, as are lists and dicts, which no flag
    takes (``class_names``, filled in by the job); a yes/no setting reads
    ``--spectral-norm no``. ``skip`` names settings left to the caller
    (``out``: the folder a rerun writes to).
    """
    words = []
    for key, value in config.items():
        if key in skip or value is None or isinstance(value, (list, dict)):
            continue
        flag = "--" + key.replace("_", "-")
        words.append((flag, {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)))
    return words


def command_line(config: dict, out: str, program: str = "minigan train") -> str:
    """The shell command that reruns ``config`` into the folder ``out``, every word shell-quoted."""
    words = program.split()
    for flag, value in flag_words(config) + [("--out", out)]:
        words += [flag, value]
    return " ".join(shlex.quote(w) for w in words)


def config_section(run: Run) -> str:
    if not run.config:
        return ""
    folder = str(run.folder)
    rerun = command_line(run.config, folder.rstrip("/") + "-again")
    rows = "".join(f"<tr><td><code>{esc(flag)}</code></td><td><code>{esc(value)}"
                   f"</code></td></tr>" for flag, value in flag_words(run.config))
    unset = [k for k, v in run.config.items() if v is None]
    files = sorted(p.name + ("/" if p.is_dir() else "") for p in run.folder.iterdir() if not p.name.startswith("."))
    return section("config", "Config", f"""<p>The settings of this run (config.json), as the command that reruns
it into a new folder:</p>
<pre class="command"><code>{esc(rerun)}</code></pre>
<p>Continue this run instead with <code>minigan train --out {esc(shlex.quote(folder))} --resume</code>.
<code>minigan train --help</code> says what each flag means.</p>
<table class="config"><tr><th>flag</th><th>value</th></tr>{rows}</table>
{f'<p class="note">Left at their defaults (unset in config.json): {esc(", ".join(unset))}.</p>' if unset else ""}
<p class="note">In the run folder: {esc(", ".join(files))}.</p>""")
