"""GifWriter: the training GIF grown one frame at a time, cut back on resume, repaired after a crash;
the work per sample point counted at 10 and at 1,000 frames."""
import numpy as np
import pytest
from PIL import Image

from minigan.job.viz import gif as gif_module
from minigan.job.viz import save_grid
from minigan.job.viz.gif import GifWriter, save_gif


def frame(i, h=12, w=16):
    """A visibly different (H, W, 3) uint8 frame for each ``i``: a bar of width i, a coloured corner."""
    f = np.zeros((h, w, 3), np.uint8)
    f[:, : i % (w + 1)] = 255
    f[0, 0] = (i % 256, 7, 200)
    return f


def played(path):
    """Each frame's RGB pixels, duration and comment, as Pillow reads the file."""
    out = []
    with Image.open(path) as im:
        for k in range(im.n_frames):
            im.seek(k)
            out.append((np.asarray(im.convert("RGB")), im.info["duration"], im.info.get("comment")))
        loop = im.info.get("loop")
    return out, loop


def test_appended_frames_play_in_order_with_the_last_held(tmp_path):
    path = tmp_path / "training.gif"
    gif = GifWriter(path, duration_ms=200, hold_last_ms=900)
    for i in range(4):
        gif.append(frame(i), label=f"step_{i:06d}")
        frames, loop = played(path)                     # a valid GIF after every append
        assert len(frames) == i + 1 and loop == 0
        assert [d for _, d, _ in frames] == [200] * i + [900]
    for i, (pixels, _, comment) in enumerate(frames):
        assert np.array_equal(pixels, frame(i)) and comment == f"step_{i:06d}".encode()
    assert GifWriter(path).labels == [f"step_{i:06d}" for i in range(4)]   # the file says what it holds
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training.gif"]


def test_sync_cuts_a_resumed_runs_later_frames_and_fills_missing_ones(tmp_path):
    grids = []
    for i in range(5):
        grids.append(tmp_path / f"step_{i:06d}.png")
        save_grid(np.full((1, 1, 4, 4), -1 + i / 2), grids[-1])
    path = tmp_path / "training.gif"
    GifWriter(path).sync(grids)

    continuing = GifWriter(path)
    continuing.sync(grids)                               # nothing new: nothing encoded
    assert continuing.frames_encoded == 0 and continuing.labels == [g.stem for g in grids]

    resumed = GifWriter(path)                            # resumed from step 2: grids 3 and 4 were dropped
    resumed.sync(grids[:3])
    assert resumed.frames_encoded == 0 and resumed.labels == [g.stem for g in grids[:3]]
    frames, _ = played(path)
    assert len(frames) == 3 and frames[-1][1] == 1500     # the new last frame is held
    resumed.append(grids[4])
    assert [c for _, _, c in played(path)[0]] == [b"step_000000", b"step_000001", b"step_000002", b"step_000004"]

    path.unlink()                                        # the GIF was deleted: rebuilt once from the grids
    rebuilt = GifWriter(path)
    rebuilt.sync(grids)
    assert rebuilt.frames_encoded == 5 and len(played(path)[0]) == 5


def test_a_gif_cut_short_by_a_crash_is_cut_back_to_its_last_whole_frame(tmp_path):
    path = tmp_path / "training.gif"
    gif = GifWriter(path)
    for i in range(3):
        gif.append(frame(i), label=f"f{i}")
    whole = path.read_bytes()
    path.write_bytes(whole[:-25])                        # killed while writing the third frame
    after = GifWriter(path)
    assert after.labels == ["f0", "f1"]
    after.append(frame(9), label="f9")
    frames, _ = played(path)
    assert [c for _, _, c in frames] == [b"f0", b"f1", b"f9"] and np.array_equal(frames[-1][0], frame(9))
    assert [d for _, d, _ in frames] == [300, 300, 1500]


def test_a_file_of_another_layout_is_replaced_not_extended(tmp_path):
    path = tmp_path / "training.gif"
    Image.fromarray(frame(1)).save(path, format="GIF")  # Pillow's own layout: a global colour table
    gif = GifWriter(path)
    assert gif.labels == []
    gif.sync([])
    gif.append(frame(2), label="a")
    assert [c for _, _, c in played(path)[0]] == [b"a"]


def test_frames_of_another_size_are_refused(tmp_path):
    gif = GifWriter(tmp_path / "a.gif")
    gif.append(frame(1))
    with pytest.raises(ValueError, match="same size"):
        gif.append(frame(1, h=13))


@pytest.mark.parametrize("earlier", [10, 1000])
def test_the_work_per_sample_point_does_not_grow_with_the_gif(tmp_path, monkeypatch, earlier):
    """Appending frame ``earlier + 1`` decodes one picture, encodes one frame and writes one frame's bytes,
    whether the GIF holds 10 frames or 1,000 (rebuilding it encoded them all again)."""
    path = tmp_path / "training.gif"
    save_gif([frame(i) for i in range(earlier)], path)   # the run so far (labels frame_0, frame_1, ...)
    new = tmp_path / "step_new.png"
    Image.fromarray(frame(earlier + 1)).save(new)

    opened, encoded = [], []
    real_open, real_encode = Image.open, gif_module.encode_frame
    monkeypatch.setattr(gif_module.Image, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    monkeypatch.setattr(gif_module, "encode_frame", lambda im: encoded.append(im.size) or real_encode(im))
    gif = GifWriter(path)
    gif.append(new)

    one_frame = len(gif_module.frame_block(real_encode(Image.fromarray(frame(earlier + 1))), 150, "step_new"))
    assert (opened, len(encoded), gif.frames_encoded) == ([new], 1, 1)
    assert gif.bytes_written == one_frame + 1 + 2        # the frame, the trailer, the old last frame's delay
    with Image.open(path) as im:
        assert im.n_frames == earlier + 1
