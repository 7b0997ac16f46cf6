"""One prepared GPU check: the CuPy tests and the step benchmark against PyTorch CUDA, in one markdown file.

A session that is lent a GPU machine gets it for minutes, fresh, with Python,
CuPy, PyTorch CUDA, NumPy, Pillow, pytest and hypothesis installed and nothing
else reachable. This script (started by ``benchmarks/gpu_check.sh`` from the
checkout, ``PYTHONPATH=.``, no pip install) runs, each part in its own
process with its own time limit, so a failing or hanging part is recorded and
the rest still runs:

1. the GPU (``nvidia-smi``) and the versions of everything that matters;
2. the CuPy parity tests, ``tests/nn/test_cupy_parity.py``: every layer's
   forward, backward and tangent pass on CuPy equal to NumPy's in float64, on
   the plain path and on the fast one;
3. the suite's other CuPy-capable tests (:func:`cupy_test_files`), among them
   ``tests/test_cupy_steps.py``: whole ``GANTrainer.step`` runs of every game,
   conditional pairs, penalties and augmentation, equal across the backends;
4. the user's own command, ``python examples/train_mnist.py --backend cupy``,
   for a few hundred steps on digits the check draws itself, stopped, resumed
   and sampled with ``minigan generate`` (``benchmarks/gpu_user_run.py``);
5. ``benchmarks/bench_step.py --backend cupy`` for each GPU configuration
   (dcgan28 b64 and b512, dcgan64 b128), against PyTorch CUDA.

It rewrites the markdown file after every part (atomically), so even a run cut
short leaves every finished part on disk: ``$OUT/gpu_check.md`` if ``$OUT`` is
set, else ``/tmp/minigan_gpu_check.md``. All parts share one time budget
(:data:`BUDGET_S`, under the 8 minutes a session can spend): each part gets at
most its own cap and never the time the parts after it need at least.

``--fake-cupy`` runs the same on ``tests/fakecupy.py`` instead of CuPy (no GPU
needed: what ``tests/test_gpu_check.py`` does); its figures mean nothing.
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import machine_info
from bench_step import CONFIGS
from minigan.fileio import write_text_atomic     # minigan from the checkout: gpu_check.sh sets PYTHONPATH

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 450                  # 7.5 minutes; gpu_check.sh stops everything at 470 s
BENCH_ARGS = "--warmup 3 --repeats 10 --rounds 2"
TAIL_CHARS = 6000               # how much of a part's output goes into the file

#: What ``--fake-cupy`` puts first on PYTHONPATH: ``import cupy`` / ``import cupyx`` give the stand-in.
FAKE_MODULE = """import sys
from tests.fakecupy import {name} as _fake   # tests/fakecupy.py, found through PYTHONPATH=<checkout>
sys.modules[__name__] = _fake                 # what `import {name}` returns from now on
"""


@dataclass
class Part:
    """One step of the check: a command, the most time it may take, the least it needs."""
    title: str
    cmd: list[str]
    cap_s: float
    reserve_s: float
    status: str = "not run"
    seconds: float = 0.0
    output: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def cupy_test_files(root: Path = ROOT) -> list[str]:
    """Test files that can exercise CuPy: they mention cupy, minus the stand-in's and this tooling's own.

    The CuPy-only tests among them skip without CuPy and a GPU; on the GPU
    machine ``-k "cupy or gpu or cuda"`` selects them (a CuPy-only test should
    say cupy in its name). The parity tests are a part of their own.
    """
    own = {"tests/nn/test_cupy_parity.py", "tests/test_fake_cupy.py", "tests/test_gpu_check.py",
           "tests/test_benchmark.py", "tests/fakecupy.py", "tests/conftest.py"}
    found = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        name = path.relative_to(root).as_posix()
        if name not in own and "cupy" in path.read_text(encoding="utf-8"):
            found.append(name)
    return found


def run_part(part: Part, timeout: float, env: dict) -> None:
    """Run ``part.cmd`` in its own process group, killed whole after ``timeout`` seconds."""
    if timeout < 1:
        part.status = "skipped: no time left"
        return
    start = time.monotonic()
    try:
        proc = subprocess.Popen(part.cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
    except OSError as e:
        part.status, part.output = f"failed: {e.strerror or e}", ""
        return
    try:
        part.output, _ = proc.communicate(timeout=timeout)
        part.status = "passed" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)             # the part and every process it started
        part.output, _ = proc.communicate()
        part.status = f"timed out after {timeout:.0f} s"
    finally:
        if proc.poll() is None:                         # we were stopped ourselves (SIGTERM): no orphans
            os.killpg(proc.pid, signal.SIGKILL)
            part.status = "stopped: the check itself was terminated"
        part.seconds = time.monotonic() - start


# ---------------------------------------------------------------------------- the markdown file
def pytest_summary(output: str) -> str:
    """pytest's last line ("3 passed, 1 skipped in 2.01s"), or that there is none."""
    lines = [l.strip("= ") for l in output.splitlines()
             if re.search(r"\b(passed|failed|skipped|error|errors|no tests ran|deselected)\b", l) and " in " in l]
    return lines[-1] if lines else "no pytest summary (see the output)"


def command(part: Part) -> str:
    """The part's command as one would type it in the checkout."""
    return shlex.join(["python" if part.cmd[0] == sys.executable else part.cmd[0], *part.cmd[1:]])


def fenced(text: str) -> str:
    """The end of a part's output in a folded block."""
    text = text if len(text) <= TAIL_CHARS else "...\n" + text[-TAIL_CHARS:]
    return f"<details><summary>output</summary>\n\n```\n{text.rstrip()}\n```\n</details>\n"


def benchmark_table(bench: list[Part]) -> list[str]:
    """The rows of every benchmark part under one header; a part without a row says why."""
    header, rows = [], []
    for part in bench:
        table = [l for l in part.output.splitlines() if l.startswith("|")]
        header = header or table[:2]
        rows += table[2:] or [f"| {part.title.split(': ')[-1]} | {part.status} |"]
    return (header or ["| configuration | result |", "|---|---|"]) + rows


def markdown(parts: dict, bench: list[Part], started: float, budget: float, fake: bool) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    out = ["# minigan GPU check", "",
           f"{when}, commit {commit.stdout.strip() or 'unknown (no git)'}, "
           f"{time.monotonic() - started:.0f} s of a {budget:.0f} s budget "
           f"(`bash benchmarks/gpu_check.sh`, `benchmarks/gpu_check.py`).", ""]
    if fake:
        out += ["**A stand-in run: tests/fakecupy.py replaced CuPy, there is no GPU, the figures mean nothing.**", ""]
    gpu = parts["gpu"].output.strip() if parts["gpu"].passed else parts["gpu"].status
    out += ["## Machine", "", f"- GPU (nvidia-smi): {gpu}"]
    out += [f"- {line}" for line in parts["versions"].output.strip().splitlines()]
    out += ["", "## Parts", "", "| part | result | seconds |", "|---|---|---:|"]
    out += [f"| {p.title} | {p.status} | {p.seconds:.0f} |" for p in [*parts.values(), *bench]]
    for key, title in (("parity", "CuPy parity tests"), ("suite", "CuPy-capable tests")):
        p = parts[key]
        skipped = [l for l in p.output.splitlines() if l.startswith("SKIPPED")]
        out += ["", f"## {title}", "", f"`{command(p)}`", "", f"**{p.status}**: {pytest_summary(p.output)}", ""]
        out += [f"- {l}" for l in skipped] + ([""] if skipped else []) + [fenced(p.output)]
    user = parts["user"]
    checks = [l for l in user.output.splitlines() if l.startswith(("PASS:", "FAIL:"))]
    out += ["## The user's command on the GPU", "", f"`{command(user)}`: **{user.status}**", ""]
    out += [f"- {l}" for l in checks] + ([""] if checks else []) + [fenced(user.output)]
    out += ["## Step benchmark: minigan on CuPy against PyTorch CUDA", "", *benchmark_table(bench), ""]
    for p in bench:
        out += [f"### {p.title}", "", f"`{command(p)}`: {p.status}", "", fenced(p.output)]
    return "\n".join(out)


# ---------------------------------------------------------------------------- the parts
def versions() -> None:
    """Print (``--versions``, run as a part) the versions and devices the figures depend on."""
    print(f"python: {sys.version.split()[0]}; CPU: {machine_info.cpu_model()}, {os.cpu_count()} CPUs")
    for name in ("numpy", "cupy", "torch"):
        try:
            module = __import__(name)
            print(f"{name}: {module.__version__}")
        except Exception as e:                    # noqa: BLE001  (a broken install is a finding, not a crash)
            print(f"{name}: not usable ({type(e).__name__}: {e})")
            continue
        try:
            if name == "cupy":
                runtime = module.cuda.runtime
                print(f"cupy devices: {runtime.getDeviceCount()}, CUDA runtime {runtime.runtimeGetVersion()}")
                gpu = runtime.getDeviceProperties(0)["name"]                 # bytes in CuPy
                print(f"cupy device 0: {gpu.decode() if isinstance(gpu, bytes) else gpu}")
            elif name == "torch":
                print(f"torch CUDA: {module.version.cuda}, available {module.cuda.is_available()}"
                      + (f", device 0: {module.cuda.get_device_name(0)}" if module.cuda.is_available() else ""))
        except Exception as e:                    # noqa: BLE001
            print(f"{name} device: unknown ({type(e).__name__}: {e})")


def make_parts(args) -> tuple[dict, list[Part]]:
    py, pytest = sys.executable, [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    suite = args.suite.split(",") if args.suite else cupy_test_files()
    parts = {
        "gpu": Part("GPU (nvidia-smi)", ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                                         "--format=csv,noheader"], 20, 2),
        "versions": Part("versions", [py, "benchmarks/gpu_check.py", "--versions"], 60, 5),
        "parity": Part("CuPy parity tests", pytest + args.parity.split(","), 90, 20),
        "suite": Part("CuPy-capable tests", pytest + ["-k", "cupy or gpu or cuda"] + suite, 150, 20),
        "user": Part("the user's command: train, resume, generate",
                     [py, "benchmarks/gpu_user_run.py", *shlex.split(args.user_args)], 150, 40),
    }
    bench = [Part(f"benchmark: {config}", [py, "benchmarks/bench_step.py", "--backend", "cupy",
                                           "--configs", config, "--markdown", *shlex.split(args.bench_args)], 150, 40)
             for config in args.configs.split(",")]
    return parts, bench


def install_fake_cupy(folder: Path) -> None:
    """Make ``folder`` hold ``cupy`` and ``cupyx`` packages that are the stand-in of tests/fakecupy.py."""
    for name in ("cupy", "cupyx"):
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(FAKE_MODULE.format(name=name), encoding="utf-8")


def run_check(args, env) -> bool:
    """Every part in turn, within the budget, the markdown file rewritten after each; whether all passed."""
    started = time.monotonic()
    parts, bench = make_parts(args)
    if args.fake_cupy:
        parts["gpu"].cmd = [sys.executable, "-c", "print('none: a stand-in run (--fake-cupy)')"]
    order = [*parts.values(), *bench]
    for i, part in enumerate(order):
        left = args.budget - (time.monotonic() - started) - sum(later.reserve_s for later in order[i + 1:])
        try:
            run_part(part, min(part.cap_s, left), env)
        finally:                                        # also when stopped: what is done is on disk
            write_text_atomic(args.out, markdown(parts, bench, started, args.budget, args.fake_cupy))
        print(f"{part.title}: {part.status} ({part.seconds:.0f} s)", flush=True)
    print(f"wrote {args.out}")
    return all(part.passed for part in order)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_out = Path(os.environ["OUT"]) / "gpu_check.md" if os.environ.get("OUT") else Path("/tmp/minigan_gpu_check.md")
    p.add_argument("--out", type=Path, default=default_out, help=f"the markdown file (default {default_out})")
    p.add_argument("--budget", type=float, default=BUDGET_S, help="seconds for all parts together")
    p.add_argument("--configs", default=CONFIGS["gpu"], help="benchmark configurations, arch:batch, one part each")
    p.add_argument("--bench-args", default=BENCH_ARGS, help="more arguments for bench_step.py")
    p.add_argument("--parity", default="tests/nn/test_cupy_parity.py", help="the parity tests (comma-separated)")
    p.add_argument("--suite", default=None, help="the CuPy-capable test files (default: found by cupy_test_files)")
    p.add_argument("--user-args", default="", help="more arguments for gpu_user_run.py (--fake-cupy: a tiny run)")
    p.add_argument("--fake-cupy", action="store_true", help="run on tests/fakecupy.py instead of CuPy (no GPU)")
    p.add_argument("--versions", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.versions:
        versions()
        return 0
    if args.fake_cupy and not args.user_args:
        args.user_args = "--steps 10,15 --tiny"                 # the stand-in is slow: a tiny run proves the path
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # gpu_check.sh's last resort: stop the part too
    env = dict(os.environ, CI="true",                          # hypothesis derandomized, as in CI
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if not args.fake_cupy:
        return 0 if run_check(args, env) else 1
    with tempfile.TemporaryDirectory(prefix="minigan_fake_cupy_") as fake:
        install_fake_cupy(Path(fake))
        env["PYTHONPATH"] = fake + os.pathsep + env["PYTHONPATH"]
        return 0 if run_check(args, env) else 1


if __name__ == "__main__":
    sys.exit(main())
