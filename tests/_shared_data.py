"""Where the non-redistributable reference data lives (``../shared/data``), for tests.

A module with a unique name (not ``conftest``), so test files in any folder can import it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DETECT_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_file(shared_data: Path, rel: str) -> Path:
    """A file under the shared data folder, skipping with the reason when that file is absent."""
    p = shared_data / rel
    if not p.exists():
        pytest.skip(f"reference file {p} is absent")
    return p
