"""The blocks of a GIF file, written and read back byte by byte (for :mod:`minigan.job.viz.gif`).

    GIF89a | screen size | loop (NETSCAPE2.0) | frame | frame | ... | frame | ; (0x3B, the trailer)
    frame = comment "step_000200" | delay (graphic control) | image descriptor | colour table | LZW pixels

Every extension and image's pixels are a chain of *sub-blocks*: a length byte,
that many bytes, ..., ended by a zero length. Pillow compresses the pixels;
the rest is a few fixed bytes each (GIF89a specification, sections 17-26).
"""
from __future__ import annotations

import io

from PIL import Image

TRAILER = b"\x3b"


def gif_header(size, loop: int | None) -> bytes:
    """``GIF89a``, the logical screen (size, no global colour table), and the NETSCAPE2.0 loop count."""
    W, H = size
    head = b"GIF89a" + W.to_bytes(2, "little") + H.to_bytes(2, "little") + b"\x00\x00\x00"
    if loop is not None:
        head += b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + int(loop).to_bytes(2, "little") + b"\x00"
    return head


def frame_block(image_data: bytes, delay_cs: int, label: str) -> bytes:
    """One frame: a comment naming it, its graphic control (delay in 1/100 s), and ``image_data``."""
    comment = label.encode("utf-8")[:255]
    comment_block = b"\x21\xfe" + bytes([len(comment)]) + comment + b"\x00"
    control = b"\x21\xf9\x04\x04" + delay_cs.to_bytes(2, "little") + b"\x00\x00"   # disposal 1: keep
    return comment_block + control + image_data


def encode_frame(image: Image.Image) -> bytes:
    """One RGB picture as a GIF frame's image data: descriptor, its own colour table, LZW pixels.

    Pillow writes a one-frame GIF (choosing the palette and compressing the
    pixels); we take its global colour table and make it the frame's local
    one, so every frame carries its own palette.
    """
    buffer = io.BytesIO()
    image.save(buffer, format="GIF")
    data = buffer.getvalue()
    screen = data[10]                                     # packed field of the logical screen descriptor
    at = 13
    table = b""
    if screen & 0x80:                                     # a global colour table of 2^(k+1) RGB entries
        table = data[at:at + 3 * 2 ** ((screen & 7) + 1)]
        at += len(table)
    while data[at] == 0x21:                               # skip any extension Pillow wrote
        at = _skip_sub_blocks(data, at + 2)
    if data[at] != 0x2C:
        raise ValueError("encode_frame: Pillow wrote no image descriptor")
    descriptor = bytearray(data[at:at + 10])
    at += 10
    if descriptor[9] & 0x80:                              # Pillow gave the frame a local table already
        table = data[at:at + 3 * 2 ** ((descriptor[9] & 7) + 1)]
        at += len(table)
    else:                                                 # the global table becomes the frame's own
        descriptor[9] = (descriptor[9] & 0x40) | 0x80 | (screen & 7)     # keep the interlace bit
    end = _skip_sub_blocks(data, at + 1)                  # the LZW code size, then the pixels' sub-blocks
    return bytes(descriptor) + table + data[at:end]


def index_gif(data: bytes):
    """``(size, [(label, delay_offset)], end)`` of a GIF this module wrote, without decoding pixels.

    ``end``: where the trailer is, or where the last whole frame ends when a
    crash cut the file short. Raises ``ValueError`` for a file of another layout.
    """
    if data[:6] != b"GIF89a" or len(data) < 13 or data[10] & 0x80:
        raise ValueError("not a GIF written by minigan.job.viz.gif")
    size = (int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little"))
    at, frames, end = 13, [], None
    label = delay_at = None
    try:
        while at < len(data) and data[at] != 0x3B:
            if data[at] == 0x21:                          # an extension: comment, graphic control, application
                kind = data[at + 1]
                if kind == 0xFE:
                    label = data[at + 3:at + 3 + data[at + 2]].decode("utf-8")
                elif kind == 0xF9:
                    delay_at = at + 4
                at = _skip_sub_blocks(data, at + 2)
            elif data[at] == 0x2C:                        # an image: descriptor, maybe a colour table, pixels
                packed = data[at + 9]
                at += 10 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
                at = _skip_sub_blocks(data, at + 1)
                if label is None or delay_at is None:
                    raise ValueError("a frame without its label or delay")
                frames.append((label, delay_at))
                end, label, delay_at = at, None, None
            else:
                raise ValueError(f"unexpected byte {data[at]:#x} at {at}")
    except IndexError:                                    # cut short mid-block: keep the whole frames
        pass
    if end is None:
        end = _header_end(data)
    return size, frames, end


def _header_end(data: bytes) -> int:
    """Where the first frame starts: after the screen descriptor and the loop extension, if any."""
    at = 13
    if data[at:at + 3] == b"\x21\xff\x0b":
        at = _skip_sub_blocks(data, at + 2)
    return at


def _skip_sub_blocks(data: bytes, at: int) -> int:
    """Past a chain of sub-blocks (a length byte, that many bytes, ... ended by a 0 length)."""
    while data[at] != 0:                                  # IndexError when the file was cut short
        at += data[at] + 1
    return at + 1


def comment_length(label: str) -> int:
    return 4 + len(label.encode("utf-8")[:255])
