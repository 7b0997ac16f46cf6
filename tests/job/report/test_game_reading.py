"""Each game's own picture of health: its curves' panels and lines, its equilibrium table, its verdict, and
advice whose command the real parser accepts for that run (resumed as the job resumes it)."""
from __future__ import annotations

import argparse
import html
import json
import re
import shlex
from dataclasses import asdict

import numpy as np
import pytest
from PIL import Image

from minigan.job.cli import add_train_arguments, main
from minigan.job.config import TrainConfig, config_for_resume
from minigan.job.game_views import game_view
from minigan.job.report import write_report
from minigan.job.report.game_reading import reading, recent_means
from minigan.job.run_folder import COLUMNS, GP_COLUMNS, R1_COLUMNS, metrics_columns
from minigan.job.viz.curves import HEIGHT, PANEL_HEIGHT, panels_of, plot_training_curves

from .test_report import Page

GAMES = {                                   # a run of each game, as the command line makes it
    "bce": ["--loss", "bce"], "minimax": ["--loss", "minimax"], "lsgan": ["--recipe", "lsgan"],
    "hinge": ["--recipe", "hinge"], "wgan": ["--recipe", "wgan"], "wgan-gp": ["--recipe", "wgan-gp"],
    "bce+r1": ["--loss", "bce", "--r1", "10"],
}
BCE_LINES = (round(2 * np.log(2), 3), round(np.log(2), 3))


def config_of(flags) -> dict:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    args = vars(parser.parse_args(list(flags)))
    return asdict(TrainConfig(**{k: v for k, v in args.items() if k not in ("resume", "discard_newer")}).resolved())


def history(config, n=400, d_x=0.8, d_g_z=0.2):
    h = {"step": np.arange(1, n + 1), "epoch": np.zeros(n), "loss_d": np.full(n, 1.0), "loss_g": np.full(n, 2.0),
         "d_x": np.full(n, d_x), "d_g_z": np.full(n, d_g_z), "d_g_z_after": np.full(n, d_g_z)}
    for k in metrics_columns(config["loss"], config["r1"])[len(COLUMNS):]:
        h[k] = np.full(n, 0.5)
    return h


@pytest.mark.parametrize("name", GAMES)
def test_each_games_curves_show_its_own_quantities(name, tmp_path):
    config = config_of(GAMES[name])
    panels = panels_of(game_view(config), history(config))
    titles, axes = [p[0] for p in panels], [p[1] for p in panels]
    refs = [round(v, 3) for p in panels for v, _, _ in p[3]]
    keys = {k for p in panels for k, _, _ in p[2]}
    bce_like = config["loss"] in ("bce", "minimax")
    assert ("loss (BCE" in axes[0]) == bce_like                          # the loss axis named for the game
    assert (BCE_LINES[0] in refs) == bce_like and (BCE_LINES[1] in refs) == (config["loss"] == "bce")
    assert (panels[1][4] == (0.0, 1.0)) == bce_like                        # raw scores: an axis fitted to them
    assert ("wasserstein" in keys) == (config["loss"] in ("wgan", "wgan-gp"))
    assert ("gp" in keys and "gp_grad_norm" in keys) == (config["loss"] == "wgan-gp")
    assert ("r1" in keys) == (config["r1"] > 0)
    path = plot_training_curves(history(config), tmp_path / "curves.png", game=config)
    assert Image.open(path).size[1] == HEIGHT + PANEL_HEIGHT * (len(titles) - 2)


def test_hinges_scores_are_drawn_where_they_are(tmp_path):
    """hinge's D(G(z)) at -0.91 stays on the plot (it left a [0, 1] axis after 15 steps)."""
    config = config_of(GAMES["hinge"])
    img = np.asarray(Image.open(plot_training_curves(history(config, d_x=0.9, d_g_z=-0.91), tmp_path / "c.png",
                                                     game=config)).convert("RGB"))
    red = np.nonzero(np.all(img == (214, 39, 40), axis=-1))
    assert red[0].size > 500                                            # the D(G(z)) line, drawn
    bce = np.asarray(Image.open(plot_training_curves(history(config, d_x=0.9, d_g_z=-0.91), tmp_path / "b.png",
                                                     game=None)).convert("RGB"))
    assert np.all(bce == (214, 39, 40), axis=-1).sum() < red[0].size / 4  # on bce's [0, 1] axis it is clipped


def test_the_step_axis_ends_at_the_last_step(tmp_path):
    """A 1,500-step run's axis ends at 1,500, not at the next round tick (1,600)."""
    config = config_of(GAMES["bce"])
    h = history(config, n=1500, d_x=0.9)
    img = np.asarray(Image.open(plot_training_curves(h, tmp_path / "c.png", smooth=False)).convert("RGB"))
    green = np.nonzero(np.all(img == (44, 160, 44), axis=-1))[1]
    frame_right = 1000 - 120                                            # curves.py: right = WIDTH - 120
    assert green.max() >= frame_right - 3                               # the line reaches the frame's right edge


def advice_commands(text: str) -> list[list[str]]:
    return [shlex.split(html.unescape(c)) for c in re.findall(r'<code class="advice">(.*?)</code>', text)]


MEANS = [dict(d_x=0.99, d_g_z=0.01), dict(d_x=0.7, d_g_z=0.3), dict(d_x=0.5, d_g_z=0.5), dict(d_x=0.2, d_g_z=0.8),
         dict(d_x=1.5, d_g_z=-1.4), dict(d_x=-0.3, d_g_z=0.4), dict(d_x=3.0, d_g_z=1.0, gp_grad_norm=2.5)]


@pytest.mark.parametrize("name", GAMES)
def test_every_advice_parses_for_its_game(name, tmp_path):
    """Each command the verdicts suggest continues this run, and the run's config takes the flag."""
    config = config_of(GAMES[name])
    parser = argparse.ArgumentParser(prog="minigan train")
    add_train_arguments(parser)
    suggested = []
    for steps in (15, 5000):
        for means in MEANS:
            suggested += advice_commands(reading({"gp_grad_norm": 1.0, **means}, steps, config, str(tmp_path)))
    assert suggested, "no verdict of this game suggested anything"
    for words in suggested:
        assert words[:2] == ["minigan", "train"] and "--resume" in words
        args = vars(parser.parse_args(words[2:]))                    # argparse exits on a flag it does not know
        given = {k: v for k, v in args.items() if k not in ("resume", "discard_newer", "out")}
        config_for_resume(config, given).resolved()                  # the game accepts it (no ValueError)
    flags = {w for words in suggested for w in words if w.startswith("--")}
    if config["loss"] in ("hinge", "wgan", "wgan-gp"):
        assert "--label-smoothing" not in flags                      # these games reject it


def test_the_verdicts_speak_of_the_game():
    wgan = config_of(GAMES["wgan"])
    assert "The critic is behind" in reading({"d_x": -0.3, "d_g_z": 0.4}, 5000, wgan)
    assert "--n-critic 5" not in reading({"d_x": -0.3, "d_g_z": 0.4}, 5000, wgan)   # wgan's n_critic is 5 already
    gp = config_of(GAMES["wgan-gp"])
    assert "--gp-weight 20" in reading({"d_x": 3.0, "d_g_z": 1.0, "gp_grad_norm": 2.5}, 5000, gp)
    hinge = config_of(GAMES["hinge"])
    assert "clears both margins" in reading({"d_x": 1.5, "d_g_z": -1.4}, 5000, hinge)
    assert "winning decisively" not in reading({"d_x": 0.99, "d_g_z": 0.01}, 5000, hinge)
    smoothed = config_of(["--loss", "bce", "--label-smoothing", "0.1"])
    assert "--lr-d 0.0001" in reading({"d_x": 0.9, "d_g_z": 0.0}, 5000, smoothed)   # smoothing on: a slower D


@pytest.mark.parametrize("name", ["hinge", "wgan-gp", "minimax"])
def test_the_report_table_and_note_are_the_games(name, tmp_path):
    config = config_of(GAMES[name])
    (tmp_path / "config.json").write_text(json.dumps(config))
    columns = metrics_columns(config["loss"], config["r1"])
    rows = "".join(",".join(["%d" % s, "0"] + ["0.5"] * (len(columns) - 2)) + "\n" for s in range(1, 401))
    (tmp_path / "metrics.csv").write_text(",".join(columns) + "\n" + rows)
    Image.new("RGB", (120, 40), "white").save(tmp_path / "curves.png")
    text = " ".join(" ".join(Page(write_report(tmp_path).read_text(encoding="utf-8")).text).split())
    text = text[text.index("Training curves"):text.index("Config")]      # the curves' section
    assert ("1.386" in text) == (name == "minimax")
    assert "-0.693" in text or "−0.693" in text if name == "minimax" else "0.693" not in text
    if name == "wgan-gp":
        assert "Wasserstein" in text and "||grad D(x_hat)||" in text and "none" in text
    if name == "hinge":
        assert "margin" in text and "label-smoothing" not in text


def test_a_wgan_gp_and_r1_run_logs_the_penalties(tmp_path, capsys, idx_dir):
    """metrics.csv gains the penalty columns (finite numbers); an older run's log keeps its columns."""
    from ..cli.conftest import TINY
    out = tmp_path / "gp"
    rc = main(["train", "--data-dir", str(idx_dir), *TINY, "--out", str(out), "--recipe", "wgan-gp", "--r1", "1",
               "--max-steps", "3", "--sample-every", "3"])
    assert rc == 0, capsys.readouterr().err
    header, *rows = (out / "metrics.csv").read_text().splitlines()
    assert tuple(header.split(",")) == COLUMNS + GP_COLUMNS + R1_COLUMNS
    assert len(rows) == 3 and all(np.isfinite(float(c)) for row in rows for c in row.split(","))
    means = recent_means({k: [float(r.split(",")[i]) for r in rows] for i, k in enumerate(header.split(","))})
    assert means["gp_grad_norm"] > 0 and means["r1"] > 0


@pytest.fixture
def idx_dir(tmp_path_factory):
    from ..cli.conftest import squares
    from minigan.job.data import write_idx
    folder = tmp_path_factory.mktemp("idx-games")
    write_idx(folder / "train-images-idx3-ubyte", squares(160))       # wgan-gp's step: 5 batches of 16
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(160, np.uint8))
    return folder


def test_an_older_wgan_gp_run_resumes_with_its_own_columns(tmp_path, capsys, idx_dir):
    """A run logged before the penalty columns existed keeps its metrics.csv layout when resumed."""
    from ..cli.conftest import TINY
    out = tmp_path / "old"
    flags = ["train", "--data-dir", str(idx_dir), *TINY, "--out", str(out), "--recipe", "wgan-gp"]
    assert main([*flags, "--max-steps", "2"]) == 0
    lines = (out / "metrics.csv").read_text().splitlines()
    width = len(COLUMNS)
    (out / "metrics.csv").write_text("".join(",".join(line.split(",")[:width]) + "\n" for line in lines))
    assert main([*flags, "--max-steps", "3", "--resume"]) == 0, capsys.readouterr().err
    header, *rows = (out / "metrics.csv").read_text().splitlines()
    assert tuple(header.split(",")) == COLUMNS and len(rows) == 3
    assert (out / "curves.png").is_file() and "Wasserstein" in (out / "index.html").read_text(encoding="utf-8")
