"""Read a run directory into what the report needs (I/O at the edge; the rest is pure).

A run directory holds ``findings.csv``, ``evidence.jsonl``, ``regions.csv``, ``exclusions.csv``,
``manifest.json`` and, when written by ``detect run``, ``panel.parquet`` (the annual values used,
for charts of series that a finding's evidence does not carry). Everything but ``findings.csv``
and ``manifest.json`` is optional: the report says what is absent instead of failing.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from detect.exceptions import InputError

#: Columns of ``panel.parquet``: annual values only, enough for the charts.
PANEL_COLUMNS = ("region_code", "indicator", "year", "value")


@dataclass
class RunData:
    """A run directory in memory.

    Attributes
    ----------
    findings : DataFrame
        findings.csv merged with evidence.jsonl; ``evidence`` holds dicts.
    regions, exclusions : DataFrame
    manifest : dict
    panel : DataFrame or None
        ``region_code, indicator, year, value`` (annual), when panel.parquet exists.
    date : datetime.date
        The report date (see :func:`report_date`).
    """

    run_dir: Path
    findings: pd.DataFrame
    regions: pd.DataFrame
    exclusions: pd.DataFrame
    manifest: dict
    panel: pd.DataFrame | None
    date: _dt.date
    region_names: dict[str, str] = field(default_factory=dict)

    def series(self, region_code: str, indicator: str) -> dict[int, float]:
        """Annual values of one region and indicator from panel.parquet (empty when absent)."""
        if self.panel is None or not len(self.panel):
            return {}
        idx = self._panel_index()
        sub = idx.get((region_code, indicator))
        if sub is None:
            return {}
        return {int(y): float(v) for y, v in sub if v is not None and math.isfinite(v)}

    def _panel_index(self) -> dict:
        if not hasattr(self, "_pidx"):
            p = self.panel
            keys = list(zip(p["region_code"].astype(str), p["indicator"].astype(str)))
            pidx: dict = {}
            for k, y, v in zip(keys, p["year"].to_numpy(), p["value"].to_numpy(dtype=float)):
                pidx.setdefault(k, []).append((y, v))
            self._pidx = pidx
        return self._pidx


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def report_date(manifest: dict, date: str | _dt.date | None = None) -> _dt.date:
    """The date printed on the report and used to find overdue items.

    In order: ``date`` given by the caller (``--date``); the environment variable
    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention); ``run_date`` in manifest.json when
    the run recorded one; today's date (UTC). Only the day is used, never the time, so two renders
    of the same run on the same day are byte-identical, and any render can be reproduced exactly
    with ``--date``.
    """
    if isinstance(date, _dt.date):
        return date
    if date:
        try:
            return _dt.date.fromisoformat(str(date))
        except ValueError:
            raise InputError(f"report date must be YYYY-MM-DD, got {date!r}") from None
    sde = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if sde:
        try:
            return _dt.datetime.fromtimestamp(int(sde), tz=_dt.timezone.utc).date()
        except ValueError:
            raise InputError(f"SOURCE_DATE_EPOCH must be an integer, got {sde!r}") from None
    rd = manifest.get("run_date")
    if rd:
        try:
            return _dt.date.fromisoformat(str(rd)[:10])
        except ValueError:
            pass
    return _dt.datetime.now(tz=_dt.timezone.utc).date()


def _evidence(v: Any) -> dict:
    if isinstance(v, dict):
        return v
    if isinstance(v, str) and v.strip():
        try:
            out = json.loads(v)
            return out if isinstance(out, dict) else {}
        except json.JSONDecodeError:
            return {}
    return {}


def load_run(run_dir: str | Path, date: str | _dt.date | None = None) -> RunData:
    """Read a run directory.

    Raises
    ------
    InputError
        When the folder, findings.csv or manifest.json is missing or unreadable.
    """
    run = Path(run_dir)
    if run.is_file():
        raise InputError(f"{run} is a file, not a run directory: give the folder `detect run --out` wrote "
                         f"(or screen the file first: detect run {run})")
    if not run.is_dir():
        raise InputError(f"run directory not found: {run}")
    for need in ("findings.csv", "manifest.json"):
        if not (run / need).is_file():
            raise InputError(f"{run} is not a run directory: {need} is missing (write one with `detect run`)")
    try:
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{run / 'manifest.json'} is not valid JSON: {exc}") from None
    from detect.findings import read_findings

    try:
        f = read_findings(run)
    except (pd.errors.ParserError, UnicodeDecodeError, KeyError, json.JSONDecodeError) as exc:
        raise InputError(f"{run / 'findings.csv'} cannot be read: {exc}") from None
    for c in ("family", "kind", "severity_hint"):
        if c not in f.columns:
            f[c] = ""
        f[c] = f[c].fillna("").astype(str)
    if "effect" not in f.columns:
        f["effect"] = np.nan
    f["evidence"] = [_evidence(v) for v in f["evidence"]] if "evidence" in f.columns else [{} for _ in range(len(f))]
    regions = _read_csv(run / "regions.csv") if (run / "regions.csv").is_file() else pd.DataFrame(
        columns=["region_code", "region_name", "rank", "risk_score", "n_high", "n_medium", "n_low", "top_finding"])
    for c in ("rank", "risk_score", "n_high", "n_medium", "n_low"):
        if c in regions.columns:
            regions[c] = pd.to_numeric(regions[c].replace("", np.nan), errors="coerce").fillna(0)
    exclusions = _read_csv(run / "exclusions.csv") if (run / "exclusions.csv").is_file() else pd.DataFrame(
        columns=["file", "row", "column", "raw_value", "reason"])
    panel = None
    pq = run / "panel.parquet"
    if pq.is_file():
        panel = pd.read_parquet(pq)
    names = dict(zip(regions.get("region_code", []), regions.get("region_name", [])))
    if len(f):
        names.update(dict(zip(f["region_code"], f["region_name"])))
    return RunData(run, f, regions, exclusions, manifest, panel, report_date(manifest, date), names)


def save_panel(panel, out_dir: str | Path) -> Path:
    """Write ``panel.parquet``: the annual values used by the run (``region_code, indicator, year,
    value``), sorted, so the report can chart series that the findings' evidence does not carry."""
    data = panel.data
    if len(data):
        data = data[data["freq"].astype(str) == "A"]
    df = pd.DataFrame({
        "region_code": data["region_code"].astype(str).to_numpy() if len(data) else np.array([], dtype=object),
        "indicator": data["indicator"].astype(str).to_numpy() if len(data) else np.array([], dtype=object),
        "year": data["year"].astype("int32").to_numpy() if len(data) else np.array([], dtype="int32"),
        "value": data["value"].astype("float64").to_numpy() if len(data) else np.array([], dtype="float64"),
    })
    df = df.sort_values(["region_code", "indicator", "year"], kind="mergesort").reset_index(drop=True)
    df = df.drop_duplicates(["region_code", "indicator", "year"], keep="last")
    path = Path(out_dir) / "panel.parquet"
    df.to_parquet(path, index=False, compression="zstd")
    return path
