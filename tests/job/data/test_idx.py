"""read_idx / write_idx: the byte layout, round trips for every dtype code, and every error."""
import gzip
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigan.job.data import DatasetError, read_idx, write_idx

# dtype code -> the NumPy dtype read_idx returns for it
CODES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32, 0x0D: np.float32, 0x0E: np.float64}


# --------------------------------------------------------------------------- layout and round trip
@pytest.mark.parametrize("code, dtype", CODES.items())
def test_write_idx_writes_the_documented_layout(tmp_path, code, dtype):
    array = np.array([[1, 2, 3], [4, 5, 6]], dtype=dtype)
    write_idx(tmp_path / "a.idx", array)
    expected = (bytes([0, 0, code, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
                + array.astype(np.dtype(dtype).newbyteorder(">")).tobytes())  # values big-endian
    assert (tmp_path / "a.idx").read_bytes() == expected


def test_read_idx_reads_hand_made_big_endian_bytes(tmp_path):
    # int16, 1 dimension of size 2, values 1 and -2: 00 01 FF FE big-endian
    (tmp_path / "a.idx").write_bytes(bytes.fromhex("00000B01 00000002 0001 FFFE"))
    array = read_idx(tmp_path / "a.idx")
    assert array.dtype == np.int16 and array.dtype.isnative
    assert array.tolist() == [1, -2]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    array=st.sampled_from(list(CODES.values())).flatmap(
        lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    ),
    compressed=st.booleans(),
)
def test_round_trip_every_dtype_code(tmp_path, array, compressed):
    path = tmp_path / ("a.idx.gz" if compressed else "a.idx")
    write_idx(path, array)
    assert path.read_bytes().startswith(b"\x1f\x8b") == compressed
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == array.tobytes()  # bit for bit, NaNs and -0.0 included
    assert back.flags.writeable


def test_gz_output_is_reproducible(tmp_path):
    array = np.arange(100, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    first = (tmp_path / "a.gz").read_bytes()
    write_idx(tmp_path / "a.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == first  # no timestamp in the gzip header


def test_uncompressed_file_named_gz_still_reads(tmp_path):
    # A browser may unpack a download but keep the .gz name.
    write_idx(tmp_path / "raw.idx", np.arange(6, dtype=np.uint8).reshape(2, 3))
    (tmp_path / "labels.gz").write_bytes((tmp_path / "raw.idx").read_bytes())
    assert read_idx(tmp_path / "labels.gz").tolist() == [[0, 1, 2], [3, 4, 5]]


def test_write_idx_rejects_what_idx_cannot_store(tmp_path):
    with pytest.raises(ValueError, match="IDX cannot store dtype int64"):
        write_idx(tmp_path / "a.idx", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="IDX cannot store dtype bool"):
        write_idx(tmp_path / "a.idx", np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match=r"below 2\*\*32"):
        write_idx(tmp_path / "a.idx", np.zeros((2**32, 0), dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- errors
HEADER_2x3 = bytes.fromhex("00000802 00000002 00000003")  # uint8, shape (2, 3): 6 data bytes


@pytest.mark.parametrize("content, message", [
    (b"", "truncated IDX file: 0 bytes"),
    (b"\x00\x00\x08", "truncated IDX file: 3 bytes"),
    (b"\x89PNG\r\n\x1a\n" + bytes(20), "wrong magic number 89 50 4e 47"),
    (bytes.fromhex("00000A01 00000001 00"), "unknown IDX dtype code 0x0A"),
    (bytes(12), "unknown IDX dtype code 0x00"),  # a file of zeros, as a crash can leave
    (bytes.fromhex("00000803 00000002"), "truncated IDX header: it declares 3 dimensions"),
    (HEADER_2x3 + bytes(5), "truncated IDX file: the header declares a uint8 array of shape (2, 3), "
                            "6 bytes of data, but only 5 bytes follow"),
    (HEADER_2x3 + bytes(7), "corrupt IDX file: the header declares a uint8 array of shape (2, 3), "
                            "6 bytes of data, but 7 bytes follow"),
])
@pytest.mark.parametrize("compressed", [False, True])
def test_bad_idx_content_is_a_dataset_error_naming_the_file(tmp_path, content, message, compressed):
    path = tmp_path / ("bad-file.gz" if compressed else "bad-file")
    path.write_bytes(gzip.compress(content) if compressed else content)
    with pytest.raises(DatasetError) as error:
        read_idx(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def good_gzip() -> bytes:
    return gzip.compress(HEADER_2x3 + bytes(range(6)), mtime=0)


@pytest.mark.parametrize("damage, message", [
    (lambda gz: gz[: len(gz) // 2], "truncated gzip file"),
    (lambda gz: gz[:10] + bytes([gz[10] | 0b110]) + gz[11:], "corrupt gzip data"),  # block type 3: invalid
    (lambda gz: gz[:-8] + bytes(4) + gz[-4:], "corrupt gzip data (CRC check failed"),  # zeroed CRC-32
])
def test_damaged_gzip_is_a_dataset_error_naming_the_file(tmp_path, damage, message):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(damage(good_gzip()))
    with pytest.raises(DatasetError) as error:
        read_idx(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert "download it again" in str(error.value)


def test_missing_file_and_folder_are_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="nope.idx: no such file"):
        read_idx(tmp_path / "nope.idx")
    with pytest.raises(DatasetError, match=re.escape(f"{tmp_path}: is a folder, not an IDX file")):
        read_idx(tmp_path)
