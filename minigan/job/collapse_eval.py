"""``minigan evaluate`` on the collapse lab's runs: modes counted as the papers count them.

A ring or grid run is judged on :data:`~minigan.job.metrics.modes.SAMPLES_2D` points
(modes captured, % high quality, reverse KL); a Stacked MNIST run on
:data:`~minigan.job.metrics.modes.SAMPLES_STACKED` pictures, each channel read by the
MNIST classifier (modes of 1,000, KL to uniform). The measures and their formulas:
:mod:`minigan.job.metrics.modes`.

    G = load_generator("runs/ring")
    result = evaluate_collapse(G)                 # {"modes": 8, "of": 8, "high_quality": 97.1, ...}
    print(collapse_table(result))
"""
from __future__ import annotations

import time

import numpy as np

from .data import POINT_SETS, mixture
from .generate import generate_batches
from .metrics import load_or_train_classifier
from .metrics.modes import SAMPLES_2D, SAMPLES_STACKED, STACKED_MODES, mode_measures, stacked_measures, stacked_modes

COLLAPSE_DATASETS = (*POINT_SETS, "stacked-mnist")


def evaluate_collapse(G, n=None, seed=0, batch_size=500, data_dir=None, backend="numpy", progress=None) -> dict:
    """The collapse measures of ``n`` samples of ``G`` (a :class:`~minigan.job.generate.Generator`).

    ``n``: default the papers' (2,500 points; 26,000 pictures). Returns a dict with ``dataset``, ``n``,
    ``modes``, ``of`` (K), and ``high_quality``, ``reverse_kl``, ``histogram`` (2D) or ``kl`` (Stacked MNIST).
    """
    dataset, start = G.config.dataset, time.perf_counter()
    if dataset in POINT_SETS:
        n = n or SAMPLES_2D
        points = np.concatenate(list(generate_batches(G, n, seed, batch_size))).reshape(n, 2)
        modes, std = mixture(dataset)
        result = mode_measures(points, modes, std)
        result = {**result, "histogram": result["histogram"].tolist(), "of": len(modes)}
    elif dataset == "stacked-mnist":
        n = n or SAMPLES_STACKED
        classifier = load_or_train_classifier("mnist", root=data_dir or G.config.data_dir, backend=backend,
                                              progress=progress)
        triples = np.concatenate([stacked_modes(classifier, x, batch_size)
                                  for x in generate_batches(G, n, seed, batch_size)])
        result = {**stacked_measures(triples), "of": STACKED_MODES}
    else:
        raise ValueError(f"--dataset {dataset} has no modes to count: the collapse measures are for "
                         f"{', '.join(COLLAPSE_DATASETS)}")
    return {"dataset": dataset, "n": n, "step": G.step, "ema": G.ema, **result,
            "seconds": time.perf_counter() - start}


def collapse_table(r: dict) -> str:
    """The measures as a table a person reads, each with what it means."""
    modes = f"{r['modes']} / {r['of']}"
    lines = [f"  modes              {modes:>11}   "
             + ("modes with at least one high-quality sample nearest to them" if "high_quality" in r else
                "digit triples present among the samples (each channel read by the MNIST classifier)")]
    if "high_quality" in r:
        lines += [f"  high quality       {r['high_quality']:10.1f}%   samples within 3 std of their nearest mode; "
                  "a perfect sampler scores 98.9%",
                  f"  reverse KL         {r['reverse_kl']:11.4f}   KL(histogram of the high-quality samples over "
                  f"the modes || uniform): 0 = even, ln {r['of']} = {np.log(r['of']):.2f} = one mode",
                  "", "  high-quality samples per mode: " + " ".join(str(c) for c in r["histogram"])]
    else:
        lines.append(f"  KL                 {r['kl']:11.4f}   KL(triples' distribution || uniform over 1,000), "
                     f"nats: 0 = even, ln 1000 = {np.log(1000):.2f} = one triple")
    return "\n".join(lines)
