"""A folder of random RGB PNG files, for tests that train on ``--dataset folder``."""
import numpy as np
from PIL import Image


def random_pictures(folder, n, size, seed=0):
    """Write ``n`` random ``size x size`` RGB PNGs into ``folder`` (created); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder
