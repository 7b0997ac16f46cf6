"""The CSV logs (metrics.csv, eval.csv, gradflow.csv): one row per logged step, safe against crashes, resumable.

The file is plain CSV with a header row, so pandas (``pd.read_csv``), a
spreadsheet or ``column -s, -t`` opens it as it is::

    step,loss_d,loss_g,d_x,d_g_z
    100,1.3127,0.8410,0.5612,0.4470
    200,1.1093,1.0722,0.6285,0.3871

Crash safety: the header is written atomically (``minigan.fileio``), and each
row is one appended line, flushed to the operating system as soon as it is
logged, so a crash loses at most the row being written. A row cut off
half-way (no newline at the end of the file) is dropped when the log is
reopened, and skipped by :func:`read_metrics` (and by any reader that takes
its lines from :func:`complete_lines`, such as ``gradflow.read_log``).

Most columns hold numbers; a log may also name a few ``text_fields`` that
hold labels, as ``gradflow.csv`` does with ``net`` and ``layer`` (read such a
log with the ``csv`` module; :func:`read_metrics` reads numbers only).

Reading a long log in part: the report is rewritten at every sample point, so
it must not read a whole log that grows by a row a step. :func:`tail_lines`
reads backwards from a file's end until it holds the last ``n`` lines, and
:func:`spread_lines` reads a few windows spread evenly over a file; both read a
number of bytes set by their arguments, not by the file's length.
:func:`read_metrics_tail` is :func:`read_metrics` for the last ``n`` rows.

Resuming: opening an existing log with the same columns appends to it; with
different columns it raises, rather than mix two layouts in one file. After
resuming from a checkpoint older than the log's last row, call
:meth:`MetricsLog.drop_rows_after` so those steps are not logged twice.
"""
from __future__ import annotations

import csv
import io
import numbers
from pathlib import Path

import numpy as np

from minigan.backend import to_numpy
from minigan.fileio import complete_lines, write_text_atomic


class MetricsLog:
    """Append-only CSV log with columns ``fieldnames``; use ``log(**row)`` once per step.

    Usage::

        with MetricsLog(out / "metrics.csv", ["step", "loss_d", "loss_g", "d_x", "d_g_z"]) as log:
            log.log(step=100, loss_d=1.31, loss_g=0.84, d_x=0.56, d_g_z=0.45)
    """

    def __init__(self, path, fieldnames, text_fields=()):
        self.path = Path(path)
        self.fieldnames = [str(name) for name in fieldnames]
        if not self.fieldnames or len(set(self.fieldnames)) != len(self.fieldnames):
            raise ValueError(f"MetricsLog: fieldnames must be non-empty and distinct, got {self.fieldnames}")
        self.text_fields = set(text_fields)       # columns of labels (a layer's name), not numbers
        if not self.text_fields <= set(self.fieldnames):
            raise ValueError(f"MetricsLog: text_fields {sorted(self.text_fields)} must be among the columns")

        if self.path.exists() and self.path.stat().st_size > 0:
            text = self.path.read_text(encoding="utf-8")
            header = next(csv.reader([text.splitlines()[0]]))
            if header != self.fieldnames:
                raise ValueError(
                    f"MetricsLog: {self.path} already exists with columns {header}, "
                    f"but this run logs {self.fieldnames}: one file cannot hold both"
                )
            if not text.endswith("\n"):           # the last row was cut off by a crash: drop it
                write_text_atomic(self.path, text[: text.rfind("\n") + 1] or _csv_line(self.fieldnames))
        else:
            write_text_atomic(self.path, _csv_line(self.fieldnames))
        self._file = open(self.path, "a", encoding="utf-8", newline="")

    def log(self, **row) -> None:
        """Append one row. Keys must be column names; a missing column is left blank (read as NaN).

        Values must be numbers: Python, NumPy, or one-element NumPy/CuPy arrays
        (a loss straight off the device); floats are written with full precision.
        Columns in ``text_fields`` take any text (quoted as CSV needs).
        """
        if self._file is None:
            raise ValueError(f"MetricsLog: {self.path} is closed")
        unknown = [k for k in row if k not in self.fieldnames]
        if unknown:
            raise ValueError(f"MetricsLog.log: unknown columns {unknown}; the columns are {self.fieldnames}")
        cells = [("" if name not in row else str(row[name]) if name in self.text_fields
                  else _format(row[name], name)) for name in self.fieldnames]
        self._file.write(_csv_line(cells))
        self._file.flush()                        # to the OS now: a crash after this loses nothing

    def drop_rows_after(self, step: float, key: str = "step") -> None:
        """Delete rows whose ``key`` column is greater than ``step`` (rewrites the file atomically).

        For resuming: rows logged after the checkpoint being resumed from would
        otherwise appear twice.
        """
        if self._file is None:
            raise ValueError(f"MetricsLog: {self.path} is closed")
        if key not in self.fieldnames:
            raise ValueError(f"MetricsLog.drop_rows_after: no column {key!r}; "
                             f"the columns are {self.fieldnames}")
        self._file.close()
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        col = self.fieldnames.index(key)
        kept = [lines[0]]
        for line_no, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cells = next(csv.reader([line]))
            try:
                if _parse(cells[col]) > step:
                    continue
            except (IndexError, ValueError):
                raise ValueError(f"MetricsLog: {self.path} line {line_no} has no number in column "
                                 f"{key!r}: {cells}") from None
            kept.append(line)
        write_text_atomic(self.path, "".join(kept))
        self._file = open(self.path, "a", encoding="utf-8", newline="")

    def close(self) -> None:
        """Close the file (further ``log`` calls raise)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"MetricsLog({str(self.path)!r}, {self.fieldnames})"


def read_metrics(path) -> dict[str, list[float]]:
    """Read a metrics CSV back as ``{column: [value per row]}``, e.g. the ``history`` for the curves plot.

    Blank cells become NaN. A last row cut off by a crash is skipped; any
    other malformed row raises ``ValueError`` naming its line.
    """
    rows = list(csv.reader(complete_lines(path)))
    if not rows:
        raise ValueError(f"read_metrics: {path} is empty (no header row)")
    return _columns(rows[0], rows[1:], lambda i: f"read_metrics: {path} line {i + 2}")


def read_metrics_tail(path, n: int) -> dict[str, list[float]]:
    """The last ``n`` rows of a metrics CSV (all of them when it has fewer), as :func:`read_metrics` reads them.

    Read from the file's end (:func:`tail_lines`): the work grows with ``n``,
    not with the length of the log. A last row cut off by a crash is skipped.
    """
    header, lines = tail_lines(path, n)
    if not header:
        raise ValueError(f"read_metrics_tail: {path} is empty (no header row)")
    rows = list(csv.reader([header] + lines))
    return _columns(rows[0], rows[1:], lambda i: f"read_metrics_tail: {path} line {len(rows) - 1 - i} from the end")


def tail_lines(path, n: int) -> tuple[str, list[str]]:
    """The header line of the text file ``path`` and its last ``n`` complete lines (fewer if it has fewer).

    Reads a block from the end, doubling it until the block holds ``n`` whole
    lines: about ``2 n`` lines' worth of bytes at most, however long the file.
    A last line with no newline (cut off by a crash) is left out.
    """
    with open(path, "rb") as f:
        header, start, end = _header(f)
        size = 128 * (n + 1)                         # bytes for n lines of ~128 characters, to start with
        while True:
            at = max(start, end - size)
            lines = _whole_lines(f, at, end, start)
            if len(lines) >= n or at == start:
                return header, lines[max(0, len(lines) - n):] if n > 0 else []
            size *= 2


def spread_lines(path, windows: int, window: int) -> tuple[str, list[str]]:
    """The header line of ``path`` and the complete lines inside ``windows`` blocks of ``window`` bytes,
    spread evenly over the file, in file order.

    The first block starts at the first row and the last one ends at the file's
    end, so the first and last rows are among the lines (those shorter than a
    block). A file whose rows fit in the blocks is read whole; the bytes read
    are at most ``windows * window``, however long the file. A last line with
    no newline (cut off by a crash) is left out.
    """
    if windows < 2 or window < 1:
        raise ValueError(f"spread_lines: need 2 or more windows of 1 or more bytes, got {windows} of {window}")
    with open(path, "rb") as f:
        header, start, end = _header(f)
        if end - start <= windows * window:
            return header, _whole_lines(f, start, end, start)
        gap = (end - start - window) / (windows - 1)                 # > window: the blocks never overlap
        lines = []
        for i in range(windows):
            at = start + round(i * gap)
            lines += _whole_lines(f, at, min(at + window, end), start)
        return header, lines


def _header(f) -> tuple[str, int, int]:
    """The first line of the binary file ``f`` (text), where the next line starts, and the file's length."""
    header = f.readline().decode("utf-8")
    start = f.tell()
    return header, start, f.seek(0, io.SEEK_END)


def _whole_lines(f, at: int, stop: int, start: int) -> list[str]:
    """The complete lines among bytes ``at:stop`` of ``f`` (rows begin at ``start``): a line cut by either edge is
    left out, and so is a last line with no newline."""
    begin = max(at - 1, start)                       # one byte early, to see whether a line starts at ``at``
    f.seek(begin)
    data = f.read(stop - begin)
    if at > start:                                   # drop the piece of a line before the first break
        cut = data.find(b"\n")
        data = data[cut + 1:] if cut >= 0 else b""
    data = data[:data.rfind(b"\n") + 1]            # drop the piece after the last break
    return [line.decode("utf-8") + "\n" for line in data.split(b"\n")[:-1]]


def _columns(header: list[str], body: list[list[str]], where) -> dict[str, list[float]]:
    """CSV rows of numbers as ``{column: [value per row]}``; ``where(i)`` names row ``i`` in an error."""
    history = {name: [] for name in header}
    for i, cells in enumerate(body):
        if not cells:                             # a blank line (e.g. added by an editor)
            continue
        if len(cells) != len(header):
            raise ValueError(f"{where(i)} has {len(cells)} cells, the header has {len(header)}: {cells}")
        try:
            values = [_parse(c) for c in cells]
        except ValueError:
            raise ValueError(f"{where(i)} has a non-numeric cell: {cells}") from None
        for name, v in zip(header, values):
            history[name].append(v)
    return history


def _csv_line(cells) -> str:
    """One CSV line, quoted where needed, ending in a newline."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def _format(value, name: str) -> str:
    """A number as CSV text: integers as integers, floats as the shortest text that reads back exactly."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"MetricsLog.log: {name}={value!r} is not a number")
    if not isinstance(value, numbers.Number):         # a 0-d or one-element NumPy / CuPy array
        a = to_numpy(value)
        if a.size != 1:
            raise TypeError(f"MetricsLog.log: {name} must be a single number, got an array of shape {a.shape}")
        value = a.reshape(())[()]                     # -> a NumPy scalar
    if not isinstance(value, numbers.Real):
        raise TypeError(f"MetricsLog.log: {name}={value!r} is not a number")
    if isinstance(value, numbers.Integral):           # int, bool, np.int64: 1, not 1.0
        return str(int(value))
    if isinstance(value, np.floating):                # float32 0.3 -> '0.3', not '0.30000001192092896'
        return str(value)
    return repr(float(value))                         # also 'nan' and 'inf', which float() reads back


def _parse(cell: str) -> float:
    """A CSV cell as a float; blank is NaN."""
    return float(cell) if cell.strip() else float(np.nan)
