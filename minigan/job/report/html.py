"""Small HTML pieces of the report: sections, escaped text, numbers, and pictures embedded in the page.

A picture is embedded as a ``data:image/png;base64,...`` URI, so the page is
one self-contained file. The report is rewritten at every sample point, so
:class:`Embedder` encodes each picture file once and reuses the text while the
file is unchanged: a rewrite costs the few pictures that changed (the new
sample grid, the redrawn curves), however long the run is.
"""
from __future__ import annotations

import base64
import html
import math
from collections import OrderedDict
from pathlib import Path


class Embedder:
    """PNG files as data URIs, each file base64-encoded once while it stays the same file.

    A file is "the same" while its inode, size and modification time are
    (minigan replaces files by renaming a new one over them, which changes the
    inode). ``keep``: how many encoded pictures to remember. ``encoded`` and
    ``bytes_encoded`` count the work done, for the tests.
    """

    def __init__(self, keep: int = 64):
        self.keep, self.encoded, self.bytes_encoded = keep, 0, 0
        self._uris: OrderedDict = OrderedDict()

    def uri(self, path) -> str:
        path = Path(path)
        st = path.stat()
        key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
        if key in self._uris:
            self._uris.move_to_end(key)
            return self._uris[key]
        data = path.read_bytes()
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        self.encoded, self.bytes_encoded = self.encoded + 1, self.bytes_encoded + len(data)
        self._uris[key] = uri
        while len(self._uris) > self.keep:
            self._uris.popitem(last=False)                # forget the least recently shown
        return uri


#: The embedder every report in this process shares (the training job writes one report per sample point).
EMBEDDED = Embedder()


def img(path: Path, alt: str) -> str:
    """An <img> whose picture is inside the page: a base64 data URI of the PNG's bytes."""
    return f'<img src="{EMBEDDED.uri(path)}" alt="{esc(alt)}">'


def section(anchor, title, body) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def num(v) -> str:
    """A number to 3 decimals, or a grey dash for a missing one."""
    return f"{v:.3f}" if v is not None and math.isfinite(v) else '<span class="na">—</span>'


def positive(v) -> bool:
    return v is not None and math.isfinite(v) and v > 0
