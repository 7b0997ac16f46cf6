"""Atomic file writing: a file is either the old one or the complete new one.

Every file minigan writes (downloads, checkpoints, sample grids, logs) goes
through :func:`atomic_write`: the bytes go to a temporary file in the same
folder, are flushed to disk, and only then renamed over the destination. A
crash, a full disk or Ctrl-C mid-write leaves the previous file untouched and
no half-written file behind.

Only ``kill -9`` (or a power cut) mid-write can leave the temporary file
behind: ``.<name>.<pid>.<random>.tmp``, named after the writing process so
that :func:`stale_temp_files` can tell an abandoned one (its writer is dead)
from one being written right now. ``minigan train`` removes the stale ones
in its run folder when it starts.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", encoding: str | None = None):
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    Usage::

        with atomic_write("out/grid.png") as f:
            image.save(f, format="PNG")

    If the body raises (including KeyboardInterrupt), the temporary file is
    removed and ``path`` is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, final_mode(path))    # mkstemp makes 0600; give the file the mode open() would
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def temp_beside(path: Path) -> tuple[int, str]:
    """``(fd, name)``: a new empty file ``.<name>.<pid>.<random>.tmp``, mode 0600, in ``path``'s folder (made)."""
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)


TEMP_NAME = re.compile(r"\.(?P<name>.+?)(?:\.(?P<pid>\d+))?\.[a-z0-9_]{8}\.tmp")   # .grid.png.4242.k3j_x9ab.tmp


def stale_temp_files(folder) -> list[Path]:
    """The temporary files in ``folder`` left by a writer that died mid-write (see the module docstring).

    A file named by a live process is kept: it may be being written now. One
    with no pid in its name comes from minigan <= 0.1, whose writes finished
    long ago. A pid is checked on this machine only; in a folder several
    machines write to, clean up by hand.
    """
    stale = []
    for path in Path(folder).glob(".*.tmp"):
        m = TEMP_NAME.fullmatch(path.name)
        if m and path.is_file() and not (m["pid"] and _alive(int(m["pid"]))):
            stale.append(path)
    return stale


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (``kill(pid, 0)`` sends no signal, it only asks)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:                       # alive, someone else's
        return True
    return True


def complete_lines(path) -> list[str]:
    """The lines of the CSV file ``path`` (with their newlines), less a last row cut off by a crash.

    A row is written as one line ending in a newline, so a last line without
    one was cut off half-way when the run stopped; the header line is kept.
    Feed the result to ``csv.reader`` or ``csv.DictReader``.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    if len(lines) > 1 and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    return lines


def final_mode(path: Path) -> int:
    """The existing file's permissions, or those a plain ``open(path, "w")`` would give (0666 minus umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def reserve_space(f, size: int, name=None) -> None:
    """Make the open file ``f`` take ``size`` bytes of disk now: ``OSError`` (ENOSPC) at once if they are not free.

    A file written piece by piece, or through a memory map, would otherwise find
    the disk full half-way (a memory map then dies of SIGBUS, with no message).
    ``os.posix_fallocate`` allocates the blocks; where the file system cannot
    (or the system has no such call), nothing is reserved and a full disk
    shows as the usual ``OSError`` of the write that fails.
    """
    if not hasattr(os, "posix_fallocate"):
        return
    try:
        os.posix_fallocate(f.fileno(), 0, size)
    except OSError as e:
        if e.errno in (errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS):
            return
        raise OSError(e.errno, e.strerror, str(name) if name is not None else None) from None


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as f:
        f.write(data)


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(text)
