"""The package shows its layers: engine and GAN at the top, the job in minigan/job/, no import circles.

- every module imports on its own, first, in a fresh set of modules (an import circle fails here
  when it is entered at the wrong end);
- nothing in the engine or the GAN imports the job, and nothing in ``minigan/fast/`` imports the
  plain layers (``minigan/nn/`` calls the fast path, never the other way round);
- no two modules have names a learner would confuse.
"""
import ast
import difflib
import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "minigan"
MODULES = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                 for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def imported_modules(path: Path) -> set[str]:
    """The minigan modules a file imports, as dotted names (relative imports resolved)."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            found |= {name} | {f"{name}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {n for n in found if n.startswith("minigan")}


@pytest.mark.parametrize("module", MODULES)
def test_every_module_imports_first_on_its_own(module):
    saved = {k: v for k, v in sys.modules.items() if k == "minigan" or k.startswith("minigan.")}
    for k in saved:
        del sys.modules[k]
    try:
        importlib.import_module(module)
    finally:
        for k in [k for k in sys.modules if k == "minigan" or k.startswith("minigan.")]:
            del sys.modules[k]
        sys.modules.update(saved)                         # the tests around keep the modules they hold


def test_the_engine_and_the_gan_never_import_the_job_and_fast_never_imports_nn():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "__main__.py":                          # ``python -m minigan``: the job's own entry point
            continue
        imports = imported_modules(path)
        if not rel.startswith("job/") and any(m.startswith("minigan.job") for m in imports):
            wrong.append(f"{rel} imports the job: {sorted(m for m in imports if m.startswith('minigan.job'))}")
        if rel.startswith("fast/") and any(m.startswith("minigan.nn") for m in imports):
            wrong.append(f"{rel} imports the plain layers")
    assert not wrong, "\n".join(wrong)


def test_the_top_level_shows_engine_and_gan_and_one_job_package():
    names = {p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", "."))}
    assert {"backend.py", "nn", "optim.py", "losses.py", "fast"} <= names                  # the engine
    assert {"train.py", "gan_losses.py", "penalties.py", "models", "augment", "recipes.py"} <= names   # the GAN
    assert "job" in names
    job_like = {"cli.py", "config.py", "run.py", "checkpoint.py", "logs.py", "progress.py", "report", "viz",
                "data", "metrics", "runlock.py", "generate.py", "export.py"}
    assert not job_like & names, f"job modules at the top: {sorted(job_like & names)}"


def test_no_two_modules_have_near_identical_names():
    stems = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name not in ("__init__.py", "__main__.py"):
            stems.setdefault(path.stem.replace("_", ""), []).append(path.relative_to(ROOT).as_posix())
    close = [(a, b) for a in stems for b in stems if a < b and difflib.SequenceMatcher(None, a, b).ratio() > 0.9]
    same = {k: v for k, v in stems.items() if len(v) > 1 and not all(p.startswith(("minigan/nn/", "minigan/fast/"))
                                                                        for p in v)}
    assert not close and not same, (close, same)
