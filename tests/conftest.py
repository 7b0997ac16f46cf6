"""Shared pytest set-up: hypothesis profiles.

CI runs on a loaded 2-core machine, so no test has a deadline, and under CI
(the ``CI`` environment variable is set) hypothesis is derandomized: the same
examples every run, so a red CI is always reproducible.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=30,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
