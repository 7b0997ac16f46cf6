"""The HTML report: one self-contained file (no link to anywhere, every picture inside), and what it shows."""
import base64
import io
import json
import re
from html.parser import HTMLParser

import numpy as np
from PIL import Image

from minigan.job.report import write_report

from .conftest import run_main


class Page(HTMLParser):
    """Every tag, with its attributes, and the page's text."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.text, self.ids = [], [], set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])

    def handle_data(self, data):
        self.text.append(data)

    def images(self):
        return [a["src"] for t, a in self.tags if t == "img"]


def decode_png(src):
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:60]
    return Image.open(io.BytesIO(base64.b64decode(src[len(prefix):], validate=True)))


def test_the_report_is_self_contained(finished_run):
    out, _ = finished_run
    text = (out / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    outside_pictures = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert "//" not in outside_pictures                 # no http://, https://, file:// or //host/...
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe", "object", "embed")]
    for tag, attrs in page.tags:
        for key in ("src", "href", "srcset", "poster", "data"):
            value = attrs.get(key)
            if value is not None:                       # only pictures inside the page, and in-page anchors
                assert value.startswith("data:image/png;base64,") or value.startswith("#"), (tag, key, value[:80])
    assert "url(" not in text and "@import" not in text and "@font-face" not in text

    images = page.images()
    # the latest grid, 4 grids over time (steps 0, 4, 8, 12), curves, metrics, interpolation
    assert len(images) == 8
    for src in images:
        with decode_png(src) as im:
            im.load()
            assert im.size[0] > 100


def test_the_report_shows_every_part_of_the_run(finished_run):
    out, _ = finished_run
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    text = " ".join(page.text)
    assert {"samples", "curves", "metrics", "gradflow", "interpolation", "config"} <= page.ids
    config = json.loads((out / "config.json").read_text())
    for flag in ("--ngf", "--eval-every", "--grad-flow-every", "--ema"):
        assert flag in text
    assert config["data_dir"] in text                                       # values as in config.json
    assert "step 4" in text and "step 8" in text and "step 12" in text      # grids and flow over time
    assert "Frechet distance" in text and "classes present" in text and "Class mix at step 12" in text
    assert "0:ConvTranspose2d" in text and "0:Conv2d" in text               # one row per layer
    assert "2 ln 2" in text and "D(G(z))" in text                           # what to look for
    # the class-mix bars and gradient bars are drawn in HTML and inline SVG
    assert sum(1 for t, _ in page.tags if t == "svg") > 5
    assert sum(1 for t, a in page.tags if "lbar" in a.get("class", "")) > 10


def test_minigan_report_rebuilds_it_anywhere(finished_run, tmp_path):
    out, _ = finished_run
    target = tmp_path / "elsewhere.html"
    rc, stdout, stderr = run_main("report", out, "--out", target)
    assert rc == 0, stderr
    assert str(target) in stdout and "open it in a browser" in stdout
    assert len(Page(target.read_text(encoding="utf-8")).images()) == 8

    rc, _, stderr = run_main("report", tmp_path)                            # not a run folder
    assert rc == 1 and "no config.json" in stderr


def test_a_run_in_its_first_steps_gets_a_report_too(tmp_path):
    """Only config.json and a few metrics rows: every section says what is missing and how to get it."""
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "folder", "arch": "dcgan64", "ngf": 8}))
    (tmp_path / "metrics.csv").write_text("step,epoch,loss_d,loss_g,d_x,d_g_z,d_g_z_after\n"
                                          "1,1,1.3,0.7,0.5,0.5,0.5\n2,1,1.2,0.8,0.6,0.4,0.4\n")
    path = write_report(tmp_path)
    page = Page(path.read_text(encoding="utf-8"))
    text = " ".join(page.text)
    assert page.images() == []
    assert "No sample grid yet" in text and "sub-folder per class, whose labels train the judging classifier" in text
    assert "No gradient-flow statistics" in text and "dcgan64" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "index.html", "metrics.csv"]   # no temp file


def test_the_class_mix_marks_missing_classes(tmp_path):
    from minigan.job.judge import EVAL_COLUMNS
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "fashion-mnist", "arch": "dcgan28"}))
    shares = [0.9, 0.1] + [0.0] * 8                                       # a collapsed G: two classes
    row = dict(zip(EVAL_COLUMNS, [100, 64, 80.0, 1.4, 8.0, 1.8, 2, *shares]))
    (tmp_path / "eval.csv").write_text(",".join(EVAL_COLUMNS) + "\n" + ",".join(map(str, row.values())) + "\n")
    page = Page(write_report(tmp_path).read_text(encoding="utf-8"))
    low = [a for t, a in page.tags if a.get("class") == "bar low"]
    assert len(low) == 8                                                   # the missing classes, in red
    assert "Ankle boot" in " ".join(page.text) and "2 / 10" in " ".join(page.text)
    np.testing.assert_equal(len([a for t, a in page.tags if a.get("class") == "bar"]), 2)


def test_the_planned_length_is_where_the_run_will_stop(train, tmp_path):
    """--max-steps 1000 but 2 epochs of 10 steps: the run stops at 20, and the header says so."""
    out = tmp_path / "run"
    rc, _, stderr = train(out, "--epochs", 2, "--max-steps", 1000, "--sample-every", 5)
    assert rc == 0, stderr
    assert json.loads((out / "run.json").read_text()).items() >= {"steps_per_epoch": 10, "last_step": 20}.items()
    text = " ".join(" ".join(Page((out / "index.html").read_text(encoding="utf-8")).text).split())
    assert "step 20 of 20" in text and "of 1,000" not in text


def test_the_gradient_flow_note_says_which_loss_each_number_belongs_to(finished_run):
    out, _ = finished_run
    text = " ".join(" ".join(Page((out / "index.html").read_text(encoding="utf-8")).text).split())
    assert ("D's table mixes two: its |dL/d weights| is the gradient of Loss_D , D's own update, while its "
            "activations and |dL/d input| come from G's update -- D judging the fake batch and passing "
            "dLoss_G/dx back towards G.") in text
    assert "what its own update is made of" not in text
