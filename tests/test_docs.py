"""The docs can't rot: every snippet runs, every file and function they name exists.

Scope: ``README.md`` and every ``docs/*.md``.

1. **Snippets.** Every fenced block whose language is ``python`` (or ``py``)
   runs. The blocks of one file run in order, in one shared namespace, so a
   later block can use what an earlier one defined. Each block is compiled
   with the Markdown file's name and line numbers, so a failure points at
   ``docs/layers.md, line 123``. Blocks run in a temporary working directory
   (files a snippet writes go there). A block opts out only with the line
   ``<!-- no-test -->`` directly above its opening fence; keep that for long
   training commands. Other languages (``bash``, ``text``) never run.

2. **References.** The docs point into the source with one convention:

   - a repository path: ``minigan/nn/conv2d.py``, ``tests/gradcheck.py``,
     ``minigan/job/data/`` -- the file or folder must exist;
   - a path and a name, joined by ``::``:
     ``minigan/nn/batchnorm.py::batchnorm_rows_backward``,
     ``minigan/nn/conv2d.py::Conv2d.backward``,
     ``tests/nn/test_batchnorm.py::test_batchnorm2d_gradients_through_batch_statistics``.
     For a ``minigan/`` file the module is imported and the dotted name looked
     up with ``getattr``; for any other file (tests, examples, benchmarks) the
     name must be a function or class defined in it (found with ``ast``, so
     test files are not imported);
   - a dotted name in backticks, ``minigan.train.GANTrainer``: imported and
     looked up the same way;
   - a relative Markdown link, ``[layers](layers.md)``: the target must exist.

   Paths are found anywhere in the text, code blocks included (a bash block's
   ``pytest tests/nn/test_conv2d.py`` is a reference too).
"""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
NO_TEST = "<!-- no-test -->"
RUN_LANGUAGES = {"python", "py", "python3"}

# a path into one of the repository's source folders, e.g. minigan/nn/conv2d.py or tests/nn/
PATH = re.compile(r"(?<![\w./-])((?:minigan|tests|examples|benchmarks|docs)/[\w./-]*[\w/])"
                  r"(?:::([A-Za-z_][\w.]*))?")
DOTTED = re.compile(r"`(minigan(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def code_blocks(path: Path):
    """``(language, first_code_line_number, code, opted_out)`` for every fenced block in ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, language = m.group(1), m.group(2), m.group(3).lower()
        opted_out = i > 0 and lines[i - 1].strip() == NO_TEST
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        if j == len(lines):
            raise AssertionError(f"{rel(path)}:{i + 1}: code block is never closed")
        blocks.append((language, i + 2, "\n".join(body) + "\n", opted_out))
        i = j + 1
    return blocks


def test_there_are_docs_to_check():
    names = {rel(p) for p in DOC_FILES}
    assert "README.md" in names and "docs/index.md" in names, names


@pytest.mark.parametrize("path", DOC_FILES, ids=rel)
def test_python_snippets_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{path.stem}"}
    for language, line, code, opted_out in code_blocks(path):
        if language not in RUN_LANGUAGES or opted_out:
            continue
        # pad with blank lines so tracebacks show the line numbers of the .md file
        compiled = compile("\n" * (line - 1) + code, str(path), "exec")
        exec(compiled, namespace)  # noqa: S102  (running the docs is the point)


def test_no_test_marker_is_only_used_on_python_blocks():
    for path in DOC_FILES:
        for language, line, _, opted_out in code_blocks(path):
            assert not opted_out or language in RUN_LANGUAGES, (
                f"{rel(path)}:{line - 1}: {NO_TEST} above a {language or 'plain'} block has no effect")


def defined_names(path: Path) -> set[str]:
    """Top-level functions and classes of a Python file, and ``Class.method`` for their methods."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {f"{node.name}.{n.name}" for n in node.body
                          if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return names


def resolve(module_name: str, attribute: str):
    """getattr chain ``attribute`` ("Conv2d.backward") on the imported module."""
    obj = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def resolve_dotted(dotted: str):
    """``minigan.train.GANTrainer.step``: import the longest module prefix, getattr the rest."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ModuleNotFoundError:
            continue
        for part in parts[k:]:
            obj = getattr(obj, part)
        return obj
    raise ModuleNotFoundError(dotted)


def references(path: Path):
    """``(line_number, kind, target)`` for every reference in ``path``."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for m in PATH.finditer(line):
            yield n, "path", (m.group(1), m.group(2))
        for m in DOTTED.finditer(line):
            yield n, "dotted", m.group(1)
        for m in LINK.finditer(line):
            target = m.group(1)
            if not re.match(r"^[a-z]+:", target):                 # skip https:, mailto:
                yield n, "link", target


@pytest.mark.parametrize("path", DOC_FILES, ids=rel)
def test_every_named_file_and_function_exists(path):
    problems = []
    for line, kind, target in references(path):
        where = f"{rel(path)}:{line}"
        if kind == "link":
            if not (path.parent / target).resolve().exists():
                problems.append(f"{where}: link target {target} does not exist")
            continue
        if kind == "dotted":
            try:
                resolve_dotted(target)
            except (ImportError, AttributeError) as e:
                problems.append(f"{where}: `{target}` does not resolve ({type(e).__name__}: {e})")
            continue
        file, name = target
        if not (ROOT / file).exists():
            problems.append(f"{where}: {file} does not exist")
            continue
        if name is None:
            continue
        if not file.endswith(".py"):
            problems.append(f"{where}: {file}::{name} -- only .py files have names")
        elif file.startswith("minigan/"):
            module = file[:-3].replace("/", ".").removesuffix(".__init__")
            try:
                resolve(module, name)
            except (ImportError, AttributeError) as e:
                problems.append(f"{where}: {file}::{name} does not resolve ({type(e).__name__}: {e})")
        elif name not in defined_names(ROOT / file):
            problems.append(f"{where}: {file} defines no function or class {name}")
    assert not problems, "\n".join(problems)


def test_the_reference_checker_catches_rot(tmp_path):
    """The checker itself: a wrong path, name, test, dotted name or link is reported."""
    fake = tmp_path / "fake.md"
    fake.write_text(
        "`minigan/nn/conv2d.py::Conv2d.backward` and `tests/test_losses.py::test_bce_gradient` are fine;\n"
        "`minigan/nn/conv3d.py`, `minigan/nn/conv2d.py::Conv3d`,\n"
        "`tests/test_losses.py::test_no_such_test`, `minigan.nn.NoSuchLayer`, [x](no-such-file.md)\n",
        encoding="utf-8")
    found = list(references(fake))
    assert [k for _, k, _ in found] == ["path", "path", "path", "path", "path", "dotted", "link"]
    resolve("minigan.nn.conv2d", "Conv2d.backward")
    assert "test_bce_gradient" in defined_names(ROOT / "tests/test_losses.py")
    assert "test_no_such_test" not in defined_names(ROOT / "tests/test_losses.py")
    with pytest.raises(AttributeError):
        resolve("minigan.nn.conv2d", "Conv3d")
    with pytest.raises(AttributeError):
        resolve_dotted("minigan.nn.NoSuchLayer")
    assert not (ROOT / "minigan/nn/conv3d.py").exists()
