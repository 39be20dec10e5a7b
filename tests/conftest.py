"""Shared fixtures: the shared reference data (skipped with the reason when absent), small panels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _shared_data import REPO, SHARED, shared_file  # noqa: F401  (re-exported for older imports)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data`` (real reference data that may not be redistributed).

    Skips the test, with the reason, when the folder is absent (a clone outside the workplace).
    Set DETECT_SHARED_DATA to point elsewhere.
    """
    if not SHARED.is_dir():
        pytest.skip(f"reference data folder {SHARED} is absent (it is not redistributable and not in the repo); "
                    "set DETECT_SHARED_DATA to its location to run this test")
    return SHARED


@pytest.fixture(autouse=True)
def _register_out_of_cwd(tmp_path_factory, monkeypatch):
    """`detect run` records itself in the follow-up register: keep tests' register out of the cwd."""
    monkeypatch.setenv("DETECT_DB", str(tmp_path_factory.getbasetemp() / "detect-review.sqlite"))


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture
def toy_panel():
    """A small clean long panel: 12 regions under 2 parents x 3 indicators x 15 years, seeded."""
    from detect.data.panel import Panel

    rng = np.random.default_rng(7)
    rows = []
    years = range(2006, 2021)
    for r in range(12):
        code = f"99{r // 6 + 1}{r % 6 + 1:03d}"
        parent = f"99{r // 6 + 1}000"
        level = 100 * (1 + r)
        for y in years:
            level *= np.exp(0.08 + rng.normal(0, 0.02) - (0.04 if y == 2009 else 0))
            for ind, k in (("gdp", 1.0), ("tax_revenue", 0.08), ("electricity", 0.05)):
                rows.append((code, f"R{r}", parent, ind, str(y), round(level * k * np.exp(rng.normal(0, 0.01)), 2), ""))
    df = pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator", "period", "value", "unit"])
    return Panel.from_frame(df)
