"""The IDX file format, in which MNIST and Fashion-MNIST are published.

An IDX file holds one n-dimensional array: a 4-byte magic number, one 4-byte
size per dimension, then the values in C (row-major) order. Every multi-byte
number in the file is big-endian.

    offset      bytes      meaning
    0           2          0x00 0x00
    2           1          dtype code (table below)
    3           1          ndim, the number of dimensions
    4           4 * ndim   the size of each dimension, unsigned 32-bit
    4 + 4*ndim  the rest   prod(sizes) values, itemsize bytes each

    code   C type           NumPy     itemsize
    0x08   unsigned char    uint8     1
    0x09   signed char      int8      1
    0x0B   short            int16     2
    0x0C   int              int32     4
    0x0D   float            float32   4
    0x0E   double           float64   8

So the MNIST training images begin ``00 00 08 03  00 00 EA 60  00 00 00 1C
00 00 00 1C``: unsigned bytes, 3 dimensions, 60000 x 28 x 28, and exactly
47,040,000 pixel bytes follow. (Format described at the bottom of
http://yann.lecun.com/exdb/mnist/.)

The files are usually distributed gzip-compressed (``*.gz``). :func:`read_idx`
tells the two apart by their first two bytes (a gzip stream starts 0x1F 0x8B,
an IDX file 0x00 0x00), not by the name, so a file that a browser unpacked but
left named ``.gz`` still reads.

Everything :func:`read_idx` checks, and the :class:`DatasetError` it raises
when the check fails (the message always starts with the file's path):

- the file exists and can be read;
- gzip data is complete (not truncated) and not corrupt (gzip's CRC-32);
- the magic number starts 00 00 and names a known dtype code;
- the header has room for all ``ndim`` sizes;
- the bytes after the header are exactly ``prod(sizes) * itemsize``.
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from ...fileio import atomic_write
from .errors import DatasetError

# dtype code -> big-endian NumPy dtype, as stored in the file.
DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# (kind, itemsize) of a NumPy array -> the dtype code that stores it.
CODES = {(dtype.kind, dtype.itemsize): code for code, dtype in DTYPES.items()}

GZIP_MAGIC = b"\x1f\x8b"
REDOWNLOAD = "delete it and download it again"


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a native-endian NumPy array.

    Returns a new, writable array whose shape is the sizes in the header and
    whose dtype is the one the dtype code names (uint8 for MNIST images and
    labels). Raises :class:`DatasetError` naming ``path`` and what is wrong
    with it; the checks are listed in this module's docstring.
    """
    path = Path(path)
    data = _read_decompressed(path)

    # --- the magic number: 00 00, dtype code, ndim ---
    if len(data) < 4:
        raise DatasetError(
            f"{path}: truncated IDX file: {len(data)} bytes, too short even for the "
            f"4-byte magic number; {REDOWNLOAD}"
        )
    if data[:2] != b"\x00\x00":
        raise DatasetError(
            f"{path}: not an IDX file: wrong magic number {data[:4].hex(' ')} "
            f"(an IDX file starts with 00 00, then a dtype code and the number of dimensions)"
        )
    code, ndim = data[2], data[3]
    if code not in DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in DTYPES)
        raise DatasetError(f"{path}: unknown IDX dtype code 0x{code:02X} (known codes: {known})")

    # --- ndim sizes, each a big-endian uint32 ---
    header_bytes = 4 + 4 * ndim
    if len(data) < header_bytes:
        raise DatasetError(
            f"{path}: truncated IDX header: it declares {ndim} dimensions, which needs "
            f"{header_bytes} header bytes, but the file has only {len(data)}; {REDOWNLOAD}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_bytes])

    # --- the values: exactly prod(shape) of them ---
    dtype = DTYPES[code]
    count = math.prod(shape)
    expected, present = count * dtype.itemsize, len(data) - header_bytes
    if present < expected:
        raise DatasetError(
            f"{path}: truncated IDX file: the header declares a {dtype.name} array of shape "
            f"{shape}, {expected:,} bytes of data, but only {present:,} bytes follow; {REDOWNLOAD}"
        )
    if present > expected:
        raise DatasetError(
            f"{path}: corrupt IDX file: the header declares a {dtype.name} array of shape "
            f"{shape}, {expected:,} bytes of data, but {present:,} bytes follow"
        )
    values = np.frombuffer(data, dtype=dtype, count=count, offset=header_bytes)
    return values.reshape(shape).astype(dtype.newbyteorder("="))  # to native byte order, a writable copy


def _read_decompressed(path: Path) -> bytes:
    """The file's bytes, gunzipped if they are gzip data; DatasetError if unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, not an IDX file") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read it: {e.strerror or e}") from e
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DatasetError(
            f"{path}: truncated gzip file (it ends before the compressed data does); {REDOWNLOAD}"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt gzip data ({e}); {REDOWNLOAD}") from e


def write_idx(path, array) -> None:
    """Write ``array`` to ``path`` as an IDX file, gzip-compressed if the name ends in ``.gz``.

    The dtype must be one IDX can store (uint8, int8, int16, int32, float32,
    float64) and every dimension below 2**32. The file is written atomically
    (see :mod:`minigan.fileio`); the gzip header carries no timestamp, so the
    same array always gives the same bytes.
    """
    path = Path(path)
    array = np.asarray(array)
    code = CODES.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise ValueError(
            f"write_idx: IDX cannot store dtype {array.dtype}; "
            f"use one of uint8, int8, int16, int32, float32, float64"
        )
    if any(size >= 2**32 for size in array.shape):
        raise ValueError(f"write_idx: every dimension must be below 2**32, got shape {array.shape}")

    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    values = np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()  # big-endian, C order
    with atomic_write(path, "wb") as f:
        if path.suffix == ".gz":
            with gzip.GzipFile(filename=path.name, mode="wb", fileobj=f, mtime=0) as gz:
                gz.write(header)
                gz.write(values)
        else:
            f.write(header)
            f.write(values)
