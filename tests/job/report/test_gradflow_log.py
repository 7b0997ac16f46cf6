"""Recording gradient flow on chosen steps only, and the CSV log that keeps it (text columns for the names)."""
import numpy as np
import pytest

from minigan.gradflow import LOG_COLUMNS, read_log
from minigan.models import dcgan28
from minigan.train import GANTrainer
from minigan.job.logs import MetricsLog


def tiny_trainer(**kwargs):
    G, D = dcgan28(nz=4, ngf=2, ndf=2, nc=1, seed=0)
    return GANTrainer(G, D, seed=0, **kwargs)


def test_grad_flow_can_be_switched_on_for_single_steps():
    trainer = tiny_trainer()
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)
    assert "grad_flow" not in trainer.step(x)
    trainer.track_grad_flow = True
    flow = trainer.step(x)["grad_flow"]
    assert set(flow) == {"G", "D"} and len(flow["G"]) == len(trainer.G.layers)
    assert trainer.G.monitor is None and trainer.D.monitor is None       # nothing watches the next step
    trainer.track_grad_flow = False
    assert "grad_flow" not in trainer.step(x)


def test_recording_grad_flow_does_not_change_training():
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)
    plain, watched = tiny_trainer(), tiny_trainer(track_grad_flow=True)
    for _ in range(3):
        plain.step(x), watched.step(x)
    for k, v in plain.G.state_dict().items():
        np.testing.assert_array_equal(watched.G.state_dict()[k], v)


def test_a_log_with_text_columns_round_trips_and_resumes(tmp_path):
    path = tmp_path / "gradflow.csv"
    with MetricsLog(path, LOG_COLUMNS, text_fields=("net", "layer")) as log:
        for step in (3, 6):
            log.log(step=step, net="G", layer="0:ConvTranspose2d", act_mean=0.1, act_std=1.0,
                    grad_in=float("nan"), grad_param=2e-3)
            log.log(step=step, net="D", layer="1:Odd, name", act_mean=0.2, act_std=0.5, grad_in=1e-4,
                    grad_param=float("nan"))
        with pytest.raises(TypeError, match="not a number"):
            log.log(step=9, net="G", layer="x", act_mean="high")     # only the text columns take text
    with MetricsLog(path, LOG_COLUMNS, text_fields=("net", "layer")) as log:
        log.drop_rows_after(3)                                         # resuming from step 3
    rows = read_log(path)
    assert [(r["step"], r["net"], r["layer"]) for r in rows] == [(3, "G", "0:ConvTranspose2d"), (3, "D", "1:Odd, name")]
    assert np.isnan(rows[0]["grad_in"]) and rows[1]["grad_in"] == 1e-4

    with open(path, "a") as f:
        f.write("6,G,0:Conv")                                          # a row cut off by a crash
    assert len(read_log(path)) == 2
    with pytest.raises(ValueError, match="text_fields"):
        MetricsLog(tmp_path / "other.csv", ["step"], text_fields=("net",))
