"""Downloading a dataset file: mirrors, a published checksum, and an atomic write.

A download can stop half-way (Ctrl-C, a dropped connection, a full disk) or
bring back the wrong bytes (a mirror that serves an error page or an old
version). A file that then sits in the cache under its real name would make
every later run fail in a confusing way, far from the cause. So:

1. The response is streamed into a temporary file in the destination folder
   (:func:`minigan.fileio.atomic_write`), never into the real name.
2. An MD5 digest of the bytes is computed while they stream past.
3. Only if the byte count equals the ``Content-Length`` the server announced
   *and* the MD5 equals the published one is the temporary file renamed to
   the real name. Any failure deletes the temporary file instead.

So a dataset file at its real name in the cache is always complete and the
published one. (MD5 is no defence against a deliberate attacker, but it is what
the dataset authors publish, and it catches every accidental corruption.)

Mirrors are tried in order; if all fail, one :class:`DatasetError` lists
every URL tried and why each failed. Every network operation has a timeout
(:data:`TIMEOUT_S` seconds without a byte), so an unreachable server gives an
error instead of a hang.
"""
from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from pathlib import Path

from ...fileio import atomic_write
from .errors import DatasetError
from ..progress import ProgressBar, resolve_stream

TIMEOUT_S = 30.0        # seconds to wait for a connection or for the next bytes
CHUNK_BYTES = 1 << 16   # read and hash the response 64 KiB at a time


def download_file(url: str, dest, md5: str, *, timeout: float = TIMEOUT_S, progress=None) -> Path:
    """Download ``url`` to ``dest`` if and only if its MD5 is ``md5``; returns ``dest``.

    ``progress``: a text stream for the progress bar, ``None`` for
    ``sys.stderr``, ``False`` for none. Raises :class:`DatasetError` naming
    ``url`` and the reason (HTTP error, unreachable, timeout, connection closed
    early, checksum mismatch); ``dest`` is then left as it was.
    """
    dest = Path(dest)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_write(dest, "wb") as f:
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None else None
            digest = hashlib.md5(usedforsecurity=False)
            done = 0
            bar = ProgressBar(dest.name, total, progress)
            try:
                while chunk := response.read(CHUNK_BYTES):
                    f.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    bar.update(done)
            finally:
                bar.close()
            # Raising here, inside atomic_write, deletes the temporary file.
            if total is not None and done != total:
                raise DatasetError(f"{url}: the connection closed after {done:,} of {total:,} bytes")
            if digest.hexdigest() != md5:
                raise DatasetError(
                    f"{url}: checksum mismatch: the file's MD5 is {digest.hexdigest()}, "
                    f"the published one is {md5}; the file was discarded"
                )
    except DatasetError:
        raise
    except urllib.error.HTTPError as e:
        raise DatasetError(f"{url}: HTTP error {e.code} {e.reason}") from e
    except urllib.error.URLError as e:  # no connection: DNS failure, refused, timed out
        reason = f"timed out after {timeout:g} s" if isinstance(e.reason, TimeoutError) else e.reason
        raise DatasetError(f"{url}: cannot connect: {reason}") from e
    except TimeoutError as e:  # connected, then the server went quiet
        raise DatasetError(f"{url}: no data for {timeout:g} s; gave up") from e
    except (OSError, http.client.HTTPException) as e:  # connection reset, bad response, disk full
        raise DatasetError(f"{url}: {type(e).__name__}: {e}") from e
    return dest


def download_from_mirrors(filename: str, md5: str, mirrors, folder, *,
                          timeout: float = TIMEOUT_S, progress=None) -> Path:
    """Download ``mirror + filename`` into ``folder``, trying each mirror in order.

    Returns the path of the checked file. If every mirror fails, raises one
    :class:`DatasetError` that lists each URL tried and why it failed.
    """
    log = resolve_stream(progress)
    failures = []
    for mirror in mirrors:
        url = mirror + filename
        if log is not None:
            print(f"downloading {url}", file=log, flush=True)
        try:
            return download_file(url, Path(folder) / filename, md5, timeout=timeout, progress=progress)
        except DatasetError as e:
            failures.append(str(e))
            if log is not None:
                print(f"  failed: {e}", file=log, flush=True)
    tried = "\n".join(f"  {failure}" for failure in failures) or "  (no mirrors were given)"
    raise DatasetError(f"could not download {filename} from any mirror:\n{tried}")
