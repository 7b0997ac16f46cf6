"""One job per run folder: the lock a training job holds on its ``--out``.

Two jobs writing into one folder would interleave their logs and point
``latest`` at each other's checkpoints. So a job takes the folder's lock
before it writes anything, and a second job on the same folder is refused
with a message naming the first::

    error: runs/fashion is in use by another training job (pid 4242 on host lab1, since
    2024-05-01 10:32:07: minigan train --out runs/fashion). Wait for it to finish, stop it,
    or train into another --out.

How: ``fcntl.flock`` on the file ``<out>/.lock``. The kernel holds the lock
for the open file and drops it when the process ends, however it ends (a
crash, ``kill -9``, a power cut), so a lock left by a dead job is no lock at
all: the next job simply takes it, with no guessing whether a pid is still
alive. The file itself stays in the folder (deleting a lock file while
another process opens it is a race), except after a start that failed before writing
anything: a lock file it created is removed then, with the folder if the job made it. It
holds the pid, host, start time and command of the job that holds it, which is what the
refusal message names; a job that ends (done, failed, or stopped by a signal) empties it
as it lets go, so only a job killed outright (``kill -9``) leaves a note naming it.

The lock file names no data: ``minigan report`` and the folder listing skip
it (it starts with a dot). On a system without ``fcntl`` (Windows) the lock
is skipped with a note. ``flock`` is not reliable on some network file
systems; there, do not point two jobs at one folder.
"""
from __future__ import annotations

import datetime
import json
import os
import socket
from pathlib import Path

try:
    import fcntl
except ImportError:                                  # Windows: no flock
    fcntl = None

LOCK_FILE = ".lock"


class FolderInUse(Exception):
    """Another live job holds the folder's lock; the message names it."""


class RunLock:
    """``with RunLock(out, command):`` holds ``out``'s lock for the block; raises :class:`FolderInUse`."""

    def __init__(self, folder, command: str = "minigan train"):
        self.folder, self.command = Path(folder), command
        self.path = self.folder / LOCK_FILE
        self._file = None

    def __enter__(self):
        if fcntl is None:
            print(f"note: no file locking on this system; make sure no other job trains into {self.folder}")
            return self
        self._created = [p for p in (self.folder, self.path) if not p.exists()]   # to tidy after a failed start
        self.folder.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+", encoding="utf-8")          # "a+": never truncates the holder's note
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = describe(f.read())
            f.close()
            raise FolderInUse(f"{self.folder} is in use by another training job ({holder}). Wait for it "
                              "to finish, stop it, or train into another --out.") from None
        f.seek(0)
        f.truncate()                                          # ours now: replace the last holder's note
        f.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                            "since": datetime.datetime.now().isoformat(timespec="seconds")}) + "\n")
        f.flush()
        self._file = f
        return self

    def __exit__(self, kind, value, traceback):
        if self._file is None:
            return
        if kind is not None and self.path in self._created and os.listdir(self.folder) == [LOCK_FILE]:
            self.path.unlink(missing_ok=True)                 # a start that failed before writing anything
            if self.folder in self._created:                  # leaves no lock, and no folder it made
                self.folder.rmdir()
        else:
            try:
                self._file.seek(0)
                self._file.truncate()                         # no holder now: the note names no finished job
            except OSError:
                pass
        self._file.close()                                    # closing the file releases the lock
        self._file = None


def describe(note: str) -> str:
    """The holder's note as words: ``pid 4242 on host lab1, since ...: minigan train ...``."""
    try:
        h = json.loads(note)
        return f"pid {h['pid']} on host {h['host']}, since {h['since'].replace('T', ' ')}: {h['command']}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return "its lock file says nothing more"
