"""Fixtures of tests/review (defined in review_helpers.py)."""

from review_helpers import make_run, one, one_finding_template, reg, unwritable  # noqa: F401
