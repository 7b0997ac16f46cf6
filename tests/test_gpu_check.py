"""benchmarks/gpu_check.sh, the prepared GPU check, run on the CuPy stand-in (tests/fakecupy.py): no GPU needed.

A session lent a GPU has minutes for it, so the script must work the first
time: every part runs here on the stand-in, with tiny configurations, and the
markdown file must hold every section -- also when a part fails or the time
budget runs out.
"""
import importlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--fake-cupy", "--configs", "dcgan28:2", "--bench-args", "--warmup 0 --repeats 1 --rounds 1 --threads 1",
        "--suite", "tests/job/viz/test_grid.py"]
SECTIONS = ["# minigan GPU check", "## Machine", "## Parts", "## CuPy parity tests", "## CuPy-capable tests",
            "## The user's command on the GPU", "## Step benchmark: minigan on CuPy against PyTorch CUDA"]


def gpu_check(*args, out_dir, script="gpu_check.py"):
    """Run the check with ``$OUT`` set to ``out_dir``; the process and the markdown file's text."""
    cmd = ["bash", str(ROOT / "benchmarks" / script)] if script.endswith(".sh") else [
        sys.executable, str(ROOT / "benchmarks" / script)]
    env = dict(os.environ, OUT=str(out_dir), PYTHONPATH=str(ROOT))
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=400, cwd=out_dir, env=env)
    path = out_dir / "gpu_check.md"
    return proc, path.read_text(encoding="utf-8") if path.exists() else ""


def section(text, title):
    """The markdown from heading ``title`` to the next heading of its level."""
    body = text.split(title + "\n", 1)[1]
    return body.split("\n## ", 1)[0]


def load_gpu_check():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module("gpu_check")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_the_script_writes_every_section_on_the_stand_in(tmp_path):
    proc, text = gpu_check(*TINY, out_dir=tmp_path, script="gpu_check.sh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [line for line in text.splitlines() if line in SECTIONS] == SECTIONS
    assert "A stand-in run" in text and "- cupy: 13.0.0+fake" in text and "- numpy: " in text
    parity = re.search(r"\*\*passed\*\*: (\d+) passed in", section(text, "## CuPy parity tests"))
    assert parity and int(parity[1]) >= 40                   # every layer's passes, on both paths
    user = section(text, "## The user's command on the GPU")
    assert "python benchmarks/gpu_user_run.py --steps 10,15 --tiny" in user and "**passed**" in user
    assert "- PASS: the resumed run to step 15 exits 0" in user and "FAIL" not in user
    suite = section(text, "## CuPy-capable tests")
    assert "-k 'cupy or gpu or cuda' tests/job/viz/test_grid.py" in suite and "**passed**: 1 passed" in suite
    bench = section(text, "## Step benchmark: minigan on CuPy against PyTorch CUDA")
    assert bench.splitlines()[1].startswith("| configuration | minigan ms/step |")
    assert bench.splitlines()[3].startswith("| dcgan28, batch 2 | ")
    assert "python benchmarks/bench_step.py --backend cupy --configs dcgan28:2 --markdown" in bench
    parts = section(text, "## Parts").splitlines()
    assert [row.split(" | ")[:2] for row in parts if row.startswith("| ") and "seconds" not in row] == [
        ["| GPU (nvidia-smi)", "passed"], ["| versions", "passed"], ["| CuPy parity tests", "passed"],
        ["| CuPy-capable tests", "passed"], ["| the user's command: train, resume, generate", "passed"],
        ["| benchmark: dcgan28:2", "passed"]]


def test_a_failing_part_is_recorded_and_the_rest_still_runs(tmp_path):
    args = [*TINY, "--parity", "tests/no_such_test_file.py", "--configs", "dcgan99:2,dcgan28:2"]
    proc, text = gpu_check(*args, out_dir=tmp_path)
    assert proc.returncode == 1
    assert "| CuPy parity tests | failed (exit 4) |" in text                 # pytest: file not found
    assert "| benchmark: dcgan99:2 | failed (exit 2) |" in text               # bench_step: bad configuration
    assert "| CuPy-capable tests | passed |" in text and "| benchmark: dcgan28:2 | passed |" in text
    bench = section(text, "## Step benchmark: minigan on CuPy against PyTorch CUDA").split("\n### ")[0]
    table = [row for row in bench.splitlines() if row.startswith("| ")]
    assert table[0].startswith("| configuration | minigan ms/step |")
    assert table[1:] == ["| dcgan99:2 | failed (exit 2) |", table[2]] and table[2].startswith("| dcgan28, batch 2 |")


def test_out_of_time_every_part_is_skipped_and_the_file_still_has_every_section(tmp_path):
    proc, text = gpu_check(*TINY, "--budget", "0", "--out", str(tmp_path / "sub.md"), out_dir=tmp_path)
    assert proc.returncode == 1
    text = (tmp_path / "sub.md").read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if line in SECTIONS] == SECTIONS
    assert section(text, "## Parts").count("| skipped: no time left |") == 6


def test_a_hanging_part_is_killed_at_its_limit(tmp_path, monkeypatch):
    gpu_check_module = load_gpu_check()
    part = gpu_check_module.Part("sleeps", [sys.executable, "-c", "import time; print('started', flush=True); "
                                            "time.sleep(60)"], cap_s=60, reserve_s=0)
    gpu_check_module.run_part(part, timeout=3, env=dict(os.environ))
    assert part.status == "timed out after 3 s" and "started" in part.output and part.seconds < 30


def test_terminated_the_check_stops_its_part_and_keeps_what_it_has(tmp_path):
    # gpu_check.sh's last resort is a SIGTERM: the running part must die with the check, and the
    # file must say which part was cut short.
    hang = tmp_path / "test_hangs.py"
    hang.write_text("import os, time\n\ndef test_hangs():\n"
                    f"    open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid()))\n    time.sleep(120)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), *TINY, "--parity", str(hang),
                             "--out", str(tmp_path / "check.md")], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(600):                                         # until the hanging test runs (at most 60 s)
        if (tmp_path / "pid").exists() and (tmp_path / "pid").read_text():
            break
        time.sleep(0.1)
    proc.terminate()
    assert proc.wait(timeout=60) == 143
    text = (tmp_path / "check.md").read_text(encoding="utf-8")
    assert "| CuPy parity tests | stopped: the check itself was terminated |" in text
    assert "| versions | passed |" in text and "| benchmark: dcgan28:2 | not run |" in text
    pid = int((tmp_path / "pid").read_text())
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), "the part's process outlived the check"


def test_the_cupy_capable_tests_are_found_by_what_they_say():
    files = load_gpu_check().cupy_test_files()
    assert {"tests/job/metrics/test_classifier.py", "tests/job/viz/test_grid.py", "tests/test_cupy_steps.py"} <= set(files)
    assert not {"tests/nn/test_cupy_parity.py", "tests/test_fake_cupy.py", "tests/test_gpu_check.py",
                "tests/test_benchmark.py"} & set(files)


def test_pytest_summaries_and_the_merged_benchmark_table():
    g = load_gpu_check()
    assert g.pytest_summary("..s\n=== 2 passed, 1 skipped in 0.51s ===\n") == "2 passed, 1 skipped in 0.51s"
    assert g.pytest_summary("Traceback...\n") == "no pytest summary (see the output)"
    ok = g.Part("benchmark: dcgan28:64", [], 1, 1, status="passed",
                output="header\n\n| configuration | ms |\n|---|---:|\n| dcgan28, batch 64 | 5 |\nGEMM work\n")
    late = g.Part("benchmark: dcgan64:128", [], 1, 1, status="timed out after 90 s", output="header\n")
    assert g.benchmark_table([late, ok]) == ["| configuration | ms |", "|---|---:|",
                                             "| dcgan64:128 | timed out after 90 s |", "| dcgan28, batch 64 | 5 |"]
