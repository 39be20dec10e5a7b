"""Fixtures of the report tests (helpers in report_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from report_fixtures import make_run


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def rendered(run_dir) -> dict:
    from detect.report import render_run

    return render_run(run_dir, date="2026-01-15")
