"""Fixtures of the per-series detector tests (helpers live in series_panels.py)."""
