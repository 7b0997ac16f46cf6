"""What the report tells a learner: the equilibrium lines as the docs explain them, advice that depends on the
run's length, and a config one can paste as a command line (parsed here by the real train parser)."""
import argparse
import json
import re
import shlex

from PIL import Image

from minigan.job.cli import add_train_arguments
from minigan.job.report import write_report
from minigan.job.report.training import reading

from .test_report import Page


def words(path):
    return " ".join(" ".join(Page(path.read_text(encoding="utf-8")).text).split())


def test_the_curves_note_agrees_with_the_docs(finished_run):
    out, _ = finished_run
    text = words(out / "index.html")
    assert "stays in their neighbourhood" not in text and "oscillate around 0.5" not in text
    assert "A healthy DCGAN does not sit on them" in text
    assert "D(x) above 0.5 and D(G(z)) below it" in text
    docs = " ".join(open("docs/how-gans-work.md", encoding="utf-8").read().split())
    assert "The curves do not converge to the dashed lines." in docs and "D(x) > 1/2 > D(G(z))" in docs


def test_the_advice_depends_on_the_runs_length():
    """15 steps with D far ahead is the usual opening: train longer, not label smoothing."""
    early = reading({"d_x": 0.99, "d_g_z": 0.02}, steps=15)
    assert "Too early to tell" in early and "label-smoothing" not in early and "--max-steps" in early
    late = reading({"d_x": 0.99, "d_g_z": 0.02}, steps=5000)
    assert "winning decisively" in late and "--label-smoothing 0.1" in late
    healthy = reading({"d_x": 0.69, "d_g_z": 0.31}, steps=1500)     # the docs' Fashion-MNIST run, steps 601-1000
    assert "usual for a healthy DCGAN" in healthy


def test_a_15_step_report_says_train_longer(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "dcgan28"}))
    rows = "".join(f"{s},1,0.1,5.0,0.99,0.01,0.01\n" for s in range(1, 16))
    (tmp_path / "metrics.csv").write_text("step,epoch,loss_d,loss_g,d_x,d_g_z,d_g_z_after\n" + rows)
    Image.new("RGB", (120, 40), "white").save(tmp_path / "curves.png")
    text = words(write_report(tmp_path))
    assert "Too early to tell" in text and "after 15 steps" in text and "label-smoothing" not in text


def test_the_config_pastes_as_a_command_line_the_train_parser_accepts(finished_run):
    out, _ = finished_run
    config = json.loads((out / "config.json").read_text())
    html = (out / "index.html").read_text(encoding="utf-8")
    command = Page(re.search(r'<pre class="command"><code>(.*?)</code></pre>', html, re.S).group(1)).text
    command = "".join(command)
    words_ = shlex.split(command)
    assert words_[:2] == ["minigan", "train"] and "null" not in command and "None" not in command
    parser = argparse.ArgumentParser(prog="minigan train")
    add_train_arguments(parser)
    args = parser.parse_args(words_[2:])                            # argparse exits on a flag it does not know
    assert args.out == str(out) + "-again"
    for key, value in config.items():
        if key in ("out", "class_names", "data_fingerprint"):        # the last two: filled in by the job
            continue
        if value is None:
            assert not hasattr(args, key), key                      # left unset, as in the run
        else:
            assert getattr(args, key) == value, key                 # the same setting, the same type


def test_a_path_with_spaces_and_quotes_is_shell_quoted(tmp_path):
    folder = tmp_path / "my run's folder"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"dataset": "folder", "data_dir": "/data/it's here",
                                                     "arch": "dcgan64", "ema": 0.999, "max_steps": None}))
    html = write_report(folder).read_text(encoding="utf-8")
    command = "".join(Page(re.search(r'<pre class="command"><code>(.*?)</code></pre>', html, re.S).group(1)).text)
    assert shlex.split(command) == ["minigan", "train", "--dataset", "folder", "--data-dir", "/data/it's here",
                                    "--arch", "dcgan64", "--ema", "0.999", "--out", str(folder) + "-again"]
