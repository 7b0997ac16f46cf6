import os
import stat

import pytest

from minigan.fileio import atomic_write, write_bytes_atomic, write_text_atomic


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    p = tmp_path / "sub" / "a.txt"
    write_text_atomic(p, "first")
    write_text_atomic(p, "second")
    assert p.read_text() == "second"
    assert [f.name for f in p.parent.iterdir()] == ["a.txt"]


def test_failure_mid_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "a.bin"
    write_bytes_atomic(p, b"good")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(p, "wb") as f:
            f.write(b"half")
            raise KeyboardInterrupt
    assert p.read_bytes() == b"good" and [f.name for f in tmp_path.iterdir()] == ["a.bin"]


def test_new_files_get_the_usual_permissions_and_old_files_keep_theirs(tmp_path):
    umask = os.umask(0o022)
    try:
        p = tmp_path / "new.png"
        write_bytes_atomic(p, b"x")
        assert stat.S_IMODE(p.stat().st_mode) == 0o644          # not mkstemp's 0600
        os.chmod(p, 0o600)
        write_bytes_atomic(p, b"y")
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    finally:
        os.umask(umask)


def test_bad_mode_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb'"):
        with atomic_write(tmp_path / "x", "a"):
            pass
