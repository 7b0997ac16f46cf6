"""The output guard: a command writes only where it may, and never over a file that is not its own.

Every command that writes a file the user names (``generate --out``, ``export
--out``, ``report --out``, ``evaluate --json``) asks the guard first::

    target = OutputTarget("grid.png", "picture", force=args.force)   # refused now, before any work
    ...                                                             # load G, draw the pictures
    with target.temp() as tmp:                                       # a temporary file beside grid.png
        save_grid(images, tmp, fmt="PNG", options=target.mark("PNG"))
    # grid.png is in place, complete, or (an error, Ctrl-C, SIGTERM) untouched and no temporary file left

**What is refused** (:class:`OutputRefused`, one line; the command exits 2):

- a file of a training run's folder (:data:`RUN_FILES`, see minigan/job/run_folder.py; anything in its
  ``checkpoints/`` or ``samples/``) other than the command's own output in its own run
  (``report RUN`` writes ``RUN/index.html``): writing there would destroy the run's checkpoint,
  pointer, logs or pictures, or be overwritten by the run;
- a folder, a device node (``/dev/full``), a FIFO or a socket: none of them is a file to replace;
- a symbolic link: the guard does not write through it (the file it names might be anyone's), and
  says so: give the real path;
- an existing file that no minigan command wrote as this kind of output (a user's photo named
  ``generated.png``), unless the user adds ``--force``. ``generate`` may replace the grid it
  wrote before, ``export`` its safetensors file, ``report`` its page, ``evaluate`` its JSON.

**How minigan knows it wrote a file**: a mark inside the file itself, in the metadata its
format already has, so the mark travels with the file (copied, moved, mailed) and is gone
when anyone else rewrites it (an editor saving over it writes its own metadata):

    picture       PNG: a tEXt chunk ``Software: minigan generate``; JPEG, WebP, TIFF: the EXIF tag
                  Software (0x0131) with that text; GIF: its comment. BMP has no metadata: never marked.
    safetensors   the header's ``__metadata__`` holds ``minigan.net`` (minigan/models/safetensors_file.py)
    report        ``<meta name="generator" content="minigan report">`` in the page's head
    evaluation    a JSON object with the keys of an evaluation's result (``judge``, ``frechet_distance``, ...)
    array         ``.npy`` has no room for a mark (numpy refuses extra header keys): never marked,
                  so an existing ``.npy`` is replaced only with ``--force``.

Only the first bytes of a file are read to find its mark (the header, the page's head).

**Moving into place without replacing.** The output is written to a temporary file beside
its name (``.NAME.PID.RANDOM.tmp``, minigan/fileio.py), flushed to disk, given the mode a
plain ``open()`` would (0666 less the umask), and then linked to its name with ``os.link``,
which fails if a file of that name appeared meanwhile: of two ``generate --out same.npy`` at
once, one succeeds and the other says so, and neither replaces the other's file. Replacing a
file the guard allowed (minigan's own, or ``--force``) is an ``os.replace``, done only if
the file is still the one that was checked (same inode, size and modification time). On a
file system without hard links (some network and FAT file systems) the link falls back to
a check for the name followed by ``os.replace``: a window of microseconds, not of the run.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from pathlib import Path

from PIL import Image, PngImagePlugin

from ..fileio import final_mode, temp_beside
from .checkpoint import FOLDER, LATEST

SOFTWARE = "minigan generate"                     # the mark of a picture generate wrote
REPORT_MARK = '<meta name="generator" content="minigan report">'
EVALUATION_KEYS = {"checkpoint", "step", "dataset", "judge", "frechet_distance", "classifier_score"}
HEAD_BYTES = 64 * 1024                            # how much of a file is read to find its mark
RUN_FILES = ("config.json", "run.json", "metrics.csv", "eval.csv", "gradflow.csv", "samples.png", "training.gif",
             "curves.png", "interpolation.png", "metrics.png", "index.html", LATEST, ".lock")
RUN_SUBFOLDERS = ("samples", FOLDER)             # every file in them is the run's
COMMANDS = {"picture": "generate", "array": "generate", "safetensors": "export", "report": "report",
            "evaluation": "evaluate --json"}


class OutputRefused(ValueError):
    """The command may not write this path; the message says why and what to do instead."""


class OutputTarget:
    """The file ``path`` a command writes, checked by :meth:`check` now and again when it is written.

    ``kind``: one of :data:`COMMANDS` (what the command writes there). ``force``: the user's
    ``--force``: replace an existing file that carries no mark. ``own``: ``(run_folder, names)``,
    the files of its own run the command writes (``report``: the run's ``index.html``).
    """

    def __init__(self, path, kind: str, force: bool = False, own=None, flag: str = "--out"):
        self.path = Path(os.path.abspath(Path(path).expanduser()))   # absolute, the last name not resolved
        self.kind, self.force, self.own, self.flag = kind, force, own, flag
        self.replaces = self.check()

    def check(self):
        """The ``os.stat_result`` of the file this will replace, or None (a new file); :class:`OutputRefused`."""
        path, flag = self.path, self.flag
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        except NotADirectoryError:                    # a file where a folder should be: a plain OSError later
            st = None
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise OutputRefused(f"{flag} {path} is a symbolic link (to {os.readlink(path)}); minigan does not "
                                "write through links, so as not to replace a file it does not know: give the "
                                "real file's path, or another name")
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise OutputRefused(f"{flag} {path} is a folder; give a file name, e.g. {path / example(self.kind)}")
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise OutputRefused(f"{flag} {path} is {special_file(st.st_mode)}, not a file; minigan writes only "
                                "regular files: give a file name")
        run_file = run_file_of(path) or run_file_of(Path(os.path.realpath(path.parent)) / path.name)   # via a link
        if run_file is not None and not self._own(run_file):
            folder, what = run_file
            if what.startswith(f"{FOLDER}/"):
                what, harm = f"a checkpoint ({what})", "would destroy the model"
            elif what == LATEST:
                what, harm = f"the '{LATEST}' pointer", "would lose the checkpoint it names"
            else:
                what, harm = f"the {what}", "would destroy it, or the run would write over it"
            raise OutputRefused(f"{flag} {path} is {what} of the training run in {folder}: writing there {harm}. "
                                f"Choose a file outside the run's files, e.g. {folder / example(self.kind)}")
        if st is None or self.force or self._own(run_file):
            return st
        if not marked(path, self.kind):
            raise OutputRefused(f"{flag} {path} exists; choose a new file name, or add --force to replace it "
                                f"({refusal_reason(self.kind)})")
        return st

    def _own(self, run_file) -> bool:
        if run_file is None or self.own is None:
            return False
        folder, names = self.own
        return os.path.realpath(folder) == os.path.realpath(run_file[0]) and run_file[1] in names

    def mark(self, fmt: str | None = None) -> dict:
        """What to add to a picture's ``PIL.Image.save`` (format ``fmt``) so that it carries the mark."""
        if fmt == "PNG":
            info = PngImagePlugin.PngInfo()
            info.add_text("Software", SOFTWARE)
            return {"pnginfo": info}
        if fmt == "GIF":
            return {"comment": SOFTWARE.encode()}
        if fmt in ("JPEG", "WEBP", "TIFF"):
            exif = Image.Exif()
            exif[0x0131] = SOFTWARE                   # EXIF Software
            return {"exif": exif.tobytes()}
        return {}

    @contextlib.contextmanager
    def temp(self):
        """Yield a new empty temporary file beside the target; when the block ends, move it into place.

        The block writes the temporary file by any means (it may even replace it atomically).
        If the block raises -- an error, Ctrl-C, SIGTERM or SIGHUP (minigan/job/interrupts.py) --
        the temporary file is removed and the target left as it was.
        """
        fd, tmp = temp_beside(self.path)
        os.close(fd)
        try:
            yield Path(tmp)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)                          # on disk before it gets its name
            finally:
                os.close(fd)
            os.chmod(tmp, final_mode(self.path))      # mkstemp makes 0600; give the mode open() would
            self._place(tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _place(self, tmp: str) -> None:
        """Give ``tmp`` the target's name, replacing only the file :meth:`check` allowed (module docstring)."""
        try:
            now = os.lstat(self.path)                 # the file may have changed while we wrote
        except FileNotFoundError:
            now = None
        if now is not None and self.replaces is None:
            raise OutputRefused(self._raced("appeared"))
        if now is not None:
            if same_file(now, self.replaces):
                os.replace(tmp, self.path)
                return
            raise OutputRefused(self._raced("changed"))
        try:
            os.link(tmp, self.path)                   # fails if the name exists: nothing is replaced
        except FileExistsError:
            raise OutputRefused(self._raced("appeared")) from None
        except OSError as e:                          # no hard links on this file system: check, then rename
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
            if os.path.lexists(self.path):
                raise OutputRefused(self._raced("appeared")) from None
            os.replace(tmp, self.path)

    def _raced(self, what: str) -> str:
        return (f"{self.flag} {self.path} {what} while this command was writing it (another command writing "
                "the same file?); it was left as it is and nothing was written. Choose another name")


def same_file(a: os.stat_result, b: os.stat_result) -> bool:
    """Whether two ``lstat`` results are of one unchanged file: same device, inode, size and modification time."""
    return (a.st_dev, a.st_ino, a.st_size, a.st_mtime_ns) == (b.st_dev, b.st_ino, b.st_size, b.st_mtime_ns)


# ------------------------------------------------------------------------------------ a run's files
def holds_run(folder) -> bool:
    """Whether ``folder`` holds a training run: its run.json, a ``latest`` pointer, a checkpoints/ folder,
    or (a run of minigan <= 0.1) config.json beside metrics.csv."""
    folder = Path(folder)
    return ((folder / "run.json").is_file() or (folder / LATEST).is_file()
            or (folder / FOLDER).is_dir()
            or ((folder / "config.json").is_file() and (folder / "metrics.csv").is_file()))


def run_file_of(path) -> tuple[Path, str] | None:
    """``(run_folder, what)`` when ``path`` is (or would be) one of a run's files (:data:`RUN_FILES`, or any
    file in its samples/ or checkpoints/), else None. ``what``: the file as the run names it."""
    path = Path(path)
    if path.name in RUN_FILES and holds_run(path.parent):
        return path.parent, path.name
    if path.parent.name in RUN_SUBFOLDERS and holds_run(path.parent.parent):
        return path.parent.parent, f"{path.parent.name}/{path.name}"
    return None


# ------------------------------------------------------------------------------------ the marks
def marked(path: Path, kind: str) -> bool:
    """Whether the existing file ``path`` carries the mark of a minigan output of ``kind`` (module docstring)."""
    try:
        if kind == "picture":
            with Image.open(path) as im:
                found = im.info.get("Software") or im.info.get("comment") or im.getexif().get(0x0131)
            return found in (SOFTWARE, SOFTWARE.encode())
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
        if kind == "safetensors":
            n = int.from_bytes(head[:8], "little")
            meta = json.loads(head[8:8 + n]).get("__metadata__") if 0 < n <= len(head) - 8 else None
            return isinstance(meta, dict) and "minigan.net" in meta
        if kind == "report":
            return REPORT_MARK.encode() in head
        if kind == "evaluation":
            if len(head) == HEAD_BYTES:               # an evaluation's JSON is a few kB
                return False
            result = json.loads(head)
            return isinstance(result, dict) and EVALUATION_KEYS <= result.keys()
    except (OSError, ValueError, RecursionError, Image.DecompressionBombError, AttributeError):
        return False                                  # unreadable or another format: not ours
    return False                                      # "array": .npy has no room for a mark


def refusal_reason(kind: str) -> str:
    """Why an existing file of ``kind`` was not taken for minigan's own, for the refusal line."""
    if kind == "array":
        return "a .npy file carries no mark of what wrote it, so nothing is overwritten without --force"
    return f"it carries no mark of a file minigan {COMMANDS[kind]} wrote, so it may be yours"


def example(kind: str) -> str:
    return {"picture": "generated.png", "array": "samples.npy", "safetensors": "G.safetensors",
            "report": "report.html", "evaluation": "result.json"}[kind]


def special_file(mode: int) -> str:
    """``'a device node'``, ``'a FIFO'``, ``'a socket'``: what a non-regular, non-folder path is."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
