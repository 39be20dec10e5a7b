"""Fixtures of tests/review (defined in review_helpers.py)."""

from review_helpers import make_run, reg  # noqa: F401
