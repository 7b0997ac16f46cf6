#!/usr/bin/env bash
# The GPU check, in one command, on a fresh GPU machine (benchmarks/gpu_check.py says what it runs):
#
#     bash benchmarks/gpu_check.sh              # writes $OUT/gpu_check.md, else /tmp/minigan_gpu_check.md
#     bash benchmarks/gpu_check.sh --fake-cupy  # the same on the CuPy stand-in, no GPU (figures meaningless)
#
# Run from anywhere: it runs from the checkout with the checkout on PYTHONPATH (no pip install).
# The Python driver keeps to its budget (450 s) and writes the file after every part; the
# timeout below is the last resort that keeps the whole check under 8 minutes.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
timeout --kill-after=5 470 "$PYTHON" benchmarks/gpu_check.py "$@"
