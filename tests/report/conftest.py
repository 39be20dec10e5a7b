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
    """The report of ``run_dir``, rendered through the command line ``detect report``."""
    from detect.cli import main

    assert main(["report", str(run_dir), "--date", "2026-01-15", "--quiet"]) == 0
    return {"pdf": run_dir / "report.pdf", "xlsx": run_dir / "worklist.xlsx"}


@pytest.fixture(scope="session")
def page_texts(rendered) -> list[str]:
    """Extracted text of each page of the rendered report (pypdf; extraction is slow, so once)."""
    import pypdf

    return [p.extract_text() for p in pypdf.PdfReader(rendered["pdf"]).pages]
