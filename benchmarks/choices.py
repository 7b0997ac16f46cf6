"""Comma-separated choices on a benchmark's command line: ``--recipes dcgan,hinge``, ``--seeds 0,1``."""
from __future__ import annotations


def comma_list(parser, flag: str, text: str, known=None) -> list[str]:
    """The names in ``text``, each one of ``known`` (if given); else ``parser.error`` names the first that is not."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if known is not None and n not in known]
    if unknown:
        parser.error(f"{flag}: unknown {unknown[0]!r}; choose from {', '.join(known)}")
    return names


def comma_ints(parser, flag: str, text: str) -> list[int]:
    """The whole numbers in ``text``, e.g. ``0,1``; else ``parser.error``."""
    try:
        return [int(t) for t in comma_list(parser, flag, text)]
    except ValueError:
        parser.error(f"{flag} must be whole numbers separated by commas, e.g. 0,1; got {text!r}")
