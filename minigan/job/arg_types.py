"""argparse types for minigan's flags: a bad value is one clear line, not a traceback.

Each takes the flag's text and returns its value, or raises
``argparse.ArgumentTypeError`` with what was expected; argparse prints that as
``minigan train: error: argument --lr: must be a number > 0, got -1`` and exits
with status 2.
"""
from __future__ import annotations

import argparse
import math


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def yes_no(text):
    """An argparse type: ``yes``/``no`` (also true/false, on/off, 1/0) as a bool."""
    value = {"yes": True, "true": True, "on": True, "1": True, "no": False, "false": False, "off": False, "0": False}
    if text.lower() not in value:
        raise argparse.ArgumentTypeError(f"must be yes or no, got {text}")
    return value[text.lower()]


def nonnegative_float(text):
    value = float(text)
    if not value >= 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def in_range(lo, hi, closed_lo=True):
    """An argparse type: a float in [lo, hi) (or (lo, hi) with ``closed_lo=False``)."""
    def check(text):
        value = float(text)
        if not ((lo <= value if closed_lo else lo < value) and value < hi):
            raise argparse.ArgumentTypeError(
                f"must be in {'[' if closed_lo else '('}{lo}, {hi}), got {text}")
        return value
    check.__name__ = f"number in [{lo}, {hi})"
    return check


__all__ = ["in_range", "nonnegative_float", "nonnegative_int", "positive_float", "positive_int", "yes_no"]
