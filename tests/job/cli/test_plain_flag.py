"""``--plain``: a training job on the plain paths, the same run to the last bits, and the switch put back after."""
import numpy as np

from minigan import fast
from minigan.job.checkpoint import load_checkpoint


def test_plain_trains_the_same_run_on_the_plain_paths(train, tmp_path):
    rc, out, _ = train(tmp_path / "fast", "--max-steps", "4", "--dtype", "float64")
    assert rc == 0 and "layers: the fast paths (minigan/fast/)" in out
    rc, out, _ = train(tmp_path / "plain", "--max-steps", "4", "--dtype", "float64", "--plain")
    assert rc == 0 and "layers: the plain paths (minigan/nn/)" in out
    assert "cores:" not in out                                   # the core split is the fast path's
    assert fast.enabled()                                        # the job's switch does not outlive it
    a = load_checkpoint(tmp_path / "fast")["trainer"]
    b = load_checkpoint(tmp_path / "plain")["trainer"]
    for net in ("G", "D"):
        for key, value in a[net].items():
            np.testing.assert_allclose(b[net][key], value, rtol=1e-9, atol=1e-12, err_msg=f"{net}.{key}")
    assert load_checkpoint(tmp_path / "plain")["config"]["plain"] is True


def test_minigan_plain_environment_variable_starts_a_process_on_the_plain_paths():
    import os
    import subprocess
    import sys
    code = "import minigan.fast as f; print(f.enabled())"
    for value, expected in (("1", "False"), ("0", "True"), ("", "True")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "MINIGAN_PLAIN": value})
        assert out.stdout.strip() == expected, (value, out.stderr)
