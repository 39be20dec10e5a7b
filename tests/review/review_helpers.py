"""Helpers and fixtures of the follow-up register tests: small run directories written through the findings
contract (detect.findings.write_findings), without the full pipeline."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import pytest

from detect.findings import Finding, findings_frame, write_findings, write_table
from detect.review.store import TRANSITIONS, Register

TODAY = "2026-06-01"


def finding(region: str, detector: str = "growth_peers", indicator: str = "gdp", year: str = "2015",
            evidence: dict | None = None, severity: str = "high") -> Finding:
    f = Finding(region, f"Region {region}", indicator, year, year, detector, 2.5, 0.001,
                f"Region {region}: {indicator} grew unusually in {year}.", f"{region}地区{year}年增速异常。",
                evidence=evidence or {"series": {"2014": 1.0, "2015": 2.0}})
    f.severity = severity
    return f


def write_run_dir(path: Path, items: list[Finding], detectors=("growth_peers",), regions=None) -> Path:
    """A run directory like detect.pipeline.write_run makes: findings.csv, evidence.jsonl,
    regions.csv and manifest.json."""
    path.mkdir(parents=True, exist_ok=True)
    df = findings_frame(items)
    write_findings(df, path)
    import pandas as pd

    codes = sorted(set(regions) if regions is not None else {f.region_code for f in items})
    write_table(pd.DataFrame({"region_code": codes, "region_name": [f"Region {c}" for c in codes]}),
                path / "regions.csv")
    manifest = {"n_findings": len(items), "n_tests": {d: 10 for d in detectors}, "inputs": ["panel.csv"]}
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def make_run(tmp_path):
    counter = iter(range(1000))

    def make(items, **kw) -> Path:
        return write_run_dir(tmp_path / f"run{next(counter)}", items, **kw)

    return make


@pytest.fixture
def reg(tmp_path):
    r = Register(tmp_path / "register.sqlite", today=TODAY)
    yield r
    r.close()


@pytest.fixture(scope="session")
def one_finding_template(tmp_path_factory):
    """A register file holding one recorded finding, built once; tests get a copy (fast)."""
    base = tmp_path_factory.mktemp("template")
    r = Register(base / "template.sqlite", today=TODAY)
    r.record_run(write_run_dir(base / "run", [finding("110000")]))
    fid = r.table()["finding_id"].iat[0]
    r.close()  # checkpoints the WAL into the main file
    return base / "template.sqlite", fid


@pytest.fixture
def one(one_finding_template, tmp_path):
    """An open register (a fresh copy) with one open finding: ``(register, finding_id)``."""
    import shutil

    src, fid = one_finding_template
    shutil.copyfile(src, tmp_path / "one.sqlite")
    r = Register(tmp_path / "one.sqlite", today=TODAY)
    yield r, fid
    r.close()


def path_to(status: str) -> list[str]:
    """Shortest sequence of statuses from open to ``status`` along allowed transitions (BFS)."""
    prev = {"open": None}
    q = deque(["open"])
    while q:
        s = q.popleft()
        for (a, b) in TRANSITIONS:
            if a == s and b not in prev:
                prev[b] = s
                q.append(b)
    out = []
    s = status
    while s != "open":
        out.append(s)
        s = prev[s]
    return out[::-1]


def full_kwargs(target: str) -> dict:
    """Everything any transition may require, so that only the workflow decides."""
    return dict(owner="Li Wei", due="2026-12-31", reason="figures revised by the bureau",
                evidence="rectification notice 2026-17", note=f"moving to {target}")


def drive(reg: Register, fid: str, status: str, by: str = "Wang") -> None:
    """Bring a finding from open to ``status`` through allowed transitions (one transaction)."""
    with reg.transaction():
        for s in path_to(status):
            reg.set_status(fid, s, by=by, **full_kwargs(s))


@pytest.fixture
def unwritable(tmp_path):
    """``unwritable(path)`` makes a file (or folder) read-only for this process, also as root (chattr +i),
    and undoes it after the test; skips where neither works."""
    import os
    import shutil
    import subprocess

    done = []

    def make(path):
        if os.geteuid() != 0:
            path.chmod(0o555 if path.is_dir() else 0o444)
        elif not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)],
                                                          capture_output=True).returncode:
            pytest.skip("cannot make a file read-only for root here (no chattr +i)")
        done.append(path)

    yield make
    for path in reversed(done):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(0o755 if path.is_dir() else 0o644)
