"""``python -m minigan train ...`` / ``python -m minigan generate ...``: the same as the ``minigan`` command."""
from .job.start import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m minigan"))
