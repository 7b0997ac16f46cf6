"""download_file / download_from_mirrors against a local server, and the progress bar."""
import hashlib
import io

import pytest

from minigan.job.data import DatasetError
from minigan.job.data.download import download_file, download_from_mirrors
from minigan.job.progress import ProgressBar

BODY = bytes(range(256)) * 1000  # 256 kB: several chunks, so the bar moves
MD5 = hashlib.md5(BODY).hexdigest()


def files_in(folder):
    """Every file in ``folder``, temporary ones (dot-names) included."""
    return sorted(p.name for p in folder.iterdir())


def test_download_checks_md5_and_writes_the_file(server, tmp_path, log):
    base = server.serve("m", {"data.gz": BODY})
    path = download_file(base + "data.gz", tmp_path / "data.gz", MD5, progress=log)
    assert path == tmp_path / "data.gz"
    assert path.read_bytes() == BODY
    assert files_in(tmp_path) == ["data.gz"]  # no temporary file left behind
    assert "data.gz [####################] 256.0 kB / 256.0 kB 100%" in log.getvalue()


def test_checksum_mismatch_is_rejected_and_nothing_is_kept(server, tmp_path, log):
    base = server.serve("m", {"data.gz": BODY})
    with pytest.raises(DatasetError) as error:
        download_file(base + "data.gz", tmp_path / "data.gz", "0" * 32, progress=log)
    message = str(error.value)
    assert message.startswith(base + "data.gz: checksum mismatch")
    assert f"MD5 is {MD5}, the published one is {'0' * 32}; the file was discarded" in message
    assert files_in(tmp_path) == []


def test_connection_dropped_mid_file_leaves_no_partial_file(server, tmp_path, log):
    base = server.serve("m", {"data.gz": BODY}, how="drop")
    with pytest.raises(DatasetError) as error:
        download_file(base + "data.gz", tmp_path / "data.gz", MD5, progress=log)
    assert "data.gz: the connection closed after 128,000 of 256,000 bytes" in str(error.value)
    assert files_in(tmp_path) == []


def test_failed_download_keeps_an_existing_file(server, tmp_path, log):
    (tmp_path / "data.gz").write_bytes(b"old")
    base = server.serve("m", {"data.gz": BODY}, how="drop")
    with pytest.raises(DatasetError):
        download_file(base + "data.gz", tmp_path / "data.gz", MD5, progress=log)
    assert (tmp_path / "data.gz").read_bytes() == b"old"
    assert files_in(tmp_path) == ["data.gz"]


def test_http_error_names_url_and_status(server, tmp_path, log):
    with pytest.raises(DatasetError, match=r"/m/missing.gz: HTTP error 404 Not Found"):
        download_file(server.url("/m/missing.gz"), tmp_path / "missing.gz", MD5, progress=log)
    assert files_in(tmp_path) == []


def test_unreachable_server_is_a_dataset_error(dead_url, tmp_path, log):
    with pytest.raises(DatasetError, match=r"/mirror/data.gz: cannot connect: .*refused"):
        download_file(dead_url + "data.gz", tmp_path / "data.gz", MD5, progress=log)


def test_silent_server_times_out(silent_url, tmp_path, log):
    with pytest.raises(DatasetError, match=r"/mirror/data.gz: no data for 0.3 s; gave up"):
        download_file(silent_url + "data.gz", tmp_path / "data.gz", MD5, timeout=0.3, progress=log)
    assert files_in(tmp_path) == []


def test_unknown_length_still_downloads_and_shows_bytes(server, tmp_path, log):
    base = server.serve("m", {"data.gz": BODY}, how="no-length")
    download_file(base + "data.gz", tmp_path / "data.gz", MD5, progress=log)
    assert (tmp_path / "data.gz").read_bytes() == BODY
    assert log.getvalue().endswith("\rdata.gz 256.0 kB\n")


def test_progress_bar_shows_the_final_count_when_closed():
    stream = io.StringIO()
    bar = ProgressBar("f", None, stream)
    bar.update(150_000)  # a new 100 kB step: drawn
    bar.update(190_000)  # the same step: not drawn ...
    bar.close()          # ... until the end
    assert stream.getvalue() == "\rf 150.0 kB\rf 190.0 kB\n"


def test_first_mirror_down_second_used(server, dead_url, tmp_path, log):
    base = server.serve("second", {"data.gz": BODY})
    path = download_from_mirrors("data.gz", MD5, [dead_url, base], tmp_path, progress=log)
    assert path.read_bytes() == BODY
    assert server.requests == ["/second/data.gz"]
    assert f"downloading {dead_url}data.gz\n  failed: {dead_url}data.gz: cannot connect" in log.getvalue()


def test_bad_first_mirror_falls_through_to_good_one(server, tmp_path, log):
    bad = server.serve("bad", {"data.gz": b"an error page"})
    good = server.serve("good", {"data.gz": BODY})
    download_from_mirrors("data.gz", MD5, [bad, good], tmp_path, progress=log)
    assert server.requests == ["/bad/data.gz", "/good/data.gz"]
    assert files_in(tmp_path) == ["data.gz"]


def test_all_mirrors_failing_lists_every_url_and_reason(server, dead_url, tmp_path, log):
    bad = server.serve("bad", {"data.gz": b"an error page"})
    with pytest.raises(DatasetError) as error:
        download_from_mirrors("data.gz", MD5, [dead_url, bad], tmp_path, progress=log)
    lines = str(error.value).splitlines()
    assert lines[0] == "could not download data.gz from any mirror:"
    assert lines[1].startswith(f"  {dead_url}data.gz: cannot connect")
    assert lines[2].startswith(f"  {bad}data.gz: checksum mismatch")
    assert files_in(tmp_path) == []


def test_progress_false_prints_nothing(server, tmp_path, capsys):
    base = server.serve("m", {"data.gz": BODY})
    download_from_mirrors("data.gz", MD5, [base], tmp_path, progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_defaults_to_stderr(server, tmp_path, capsys):
    base = server.serve("m", {"data.gz": BODY})
    download_from_mirrors("data.gz", MD5, [base], tmp_path)
    out, err = capsys.readouterr()
    assert out == "" and "100%" in err


# --------------------------------------------------------------------------- the bar itself
def test_progress_bar_line():
    bar = ProgressBar("f.gz", 26_421_880, stream=False)
    assert bar.line(0) == "f.gz [....................]      0 B / 26.4 MB   0%"
    assert bar.line(13_210_940) == "f.gz [##########..........]  13.2 MB / 26.4 MB  50%"
    assert bar.line(26_421_880) == "f.gz [####################]  26.4 MB / 26.4 MB 100%"
    assert ProgressBar("f.gz", None, stream=False).line(5125) == "f.gz 5.1 kB"


def test_progress_bar_redraws_only_when_the_percent_changes():
    stream = io.StringIO()
    bar = ProgressBar("f", 10_000_000, stream)
    for done in range(0, 10_000_001, 1000):  # 10,001 updates ...
        bar.update(done)
    bar.close()
    redraws = stream.getvalue().count("\r")
    assert redraws == 101  # ... but the bar redraws only for a new percent, 0% to 100%
    assert stream.getvalue().endswith("\rf [####################]  10.0 MB / 10.0 MB 100%\n")
