"""The Finding record, the ``findings.csv`` / ``regions.csv`` contracts and safe tabular output.

A finding is one flag a reviewer can follow up: which region, which figure, which periods, which
detector, how unusual (p-value, q-value, score), how severe, and one plain sentence with the
numbers in English and Chinese. Its ``finding_id`` is a stable hash of
``(region_code, indicator, period_start, period_end, detector)``: the same evidence gets the same
id on every run, so reviewers' decisions carry over.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

#: findings.csv columns, in this order (the output contract of DESIGN.md).
FINDING_COLUMNS: tuple[str, ...] = (
    "finding_id", "region_code", "region_name", "indicator", "period_start", "period_end",
    "detector", "statistic", "p_value", "q_value", "score", "severity", "summary", "summary_zh",
)
#: regions.csv columns, in this order: DESIGN.md's eight, then ``top_findings`` (up to three finding ids,
#: best first, joined by ";"), added at the end so that scripts reading by name or position still work.
REGION_COLUMNS: tuple[str, ...] = (
    "region_code", "region_name", "rank", "risk_score", "n_high", "n_medium", "n_low", "top_finding",
    "top_findings",
)
#: How many finding ids ``top_findings`` lists.
TOP_FINDINGS = 3
#: Extra columns kept beside the contract (evidence.jsonl, worklist, report); never in findings.csv.
EXTRA_COLUMNS: tuple[str, ...] = ("family", "kind", "effect", "severity_hint", "evidence")
#: Columns added by scoring (also written to evidence.jsonl).
SCORING_COLUMNS: tuple[str, ...] = ("q_family", "story_id", "story_start", "story_end", "story_score", "check",
                                    "check_zh")
FAMILIES: tuple[str, ...] = ("digits", "series", "panel", "debt")


def finding_id(region_code: str, indicator: str, period_start: str, period_end: str, detector: str) -> str:
    """Stable id of a piece of evidence: ``F`` + 12 hex digits of SHA-256 over the key fields.

    >>> finding_id("210000", "fiscal_revenue", "2015", "2015", "level_shift")
    'F...'
    """
    key = "\x1f".join(str(x) for x in (region_code, indicator, period_start, period_end, detector))
    return "F" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if not math.isfinite(f) else significant(f)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


@dataclass
class Finding:
    """One flag.

    Parameters
    ----------
    region_code, region_name : str
        The region the evidence is about.
    indicator : str
        Canonical indicator name (or ``"*"`` for evidence pooled over indicators, e.g. digit tests).
    period_start, period_end : str
        The periods the evidence covers, as in the panel (``"2011"``, ``"2015Q3"``).
    detector : str
        Registered detector name.
    statistic : float
        The test statistic (its meaning is the detector's; see ``evidence``).
    p_value : float
        p-value under the detector's null hypothesis; NaN for rule-based flags (a balance above its
        limit needs no test).
    summary, summary_zh : str
        One plain sentence with the numbers, in English and Chinese.
    kind : str
        Sub-type within the detector (``"level_shift"``, ``"additive_outlier"``, ``"grade_red"`` …).
    effect : float
        Effect size in natural units (a relative gap of 0.25 is 25 %), used for severity.
    severity_hint : str or None
        A detector's own severity for rule-based flags (grades, breaches); tested findings leave it
        None and scoring decides from the q-value and effect.
    evidence : dict
        The numbers behind the flag (series, expected values, peers), JSON-serialisable; used by the
        report's charts and tables.
    """

    region_code: str
    region_name: str
    indicator: str
    period_start: str
    period_end: str
    detector: str
    statistic: float
    p_value: float
    summary: str
    summary_zh: str
    family: str = "series"
    kind: str = ""
    effect: float = float("nan")
    severity_hint: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    q_value: float = float("nan")
    score: float = float("nan")
    severity: str = "info"

    @property
    def finding_id(self) -> str:
        return finding_id(self.region_code, self.indicator, self.period_start, self.period_end, self.detector)

    def to_record(self) -> dict[str, Any]:
        rec = {c: getattr(self, c) for c in FINDING_COLUMNS}
        rec.update({c: getattr(self, c) for c in EXTRA_COLUMNS})
        rec["evidence"] = json.dumps(_jsonable(self.evidence), ensure_ascii=False, sort_keys=True)
        return rec


@dataclass
class Findings:
    """What one detector returns: its findings and how many hypotheses it tested.

    Detectors return every test with ``p <= thresholds.scoring.report_p`` (and rule-based flags);
    ``n_tests`` counts all hypotheses tested, returned or not, so that Benjamini–Hochberg q-values
    below ``report_p`` are exact (see :func:`detect.scoring.fdr`).

    Parameters
    ----------
    items : list of Finding
    n_tests : int
        Number of hypotheses tested (with a p-value), including those not returned.
    notes : list of str
        What did not apply and why ("12 series too short for a level-shift test (< 8 points)").
    """

    items: list[Finding] = field(default_factory=list)
    n_tests: int = 0
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def extend(self, other: "Findings") -> None:
        self.items.extend(other.items)
        self.n_tests += other.n_tests
        self.notes.extend(other.notes)


def findings_frame(items: Iterable[Finding]) -> pd.DataFrame:
    """Findings as a DataFrame with the contract columns first and the extra columns after."""
    cols = [*FINDING_COLUMNS, *EXTRA_COLUMNS]
    recs = [f.to_record() for f in items]
    df = pd.DataFrame.from_records(recs, columns=cols) if recs else pd.DataFrame(columns=cols)
    for c in ("statistic", "p_value", "q_value", "score", "effect"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    return df


# --- safe output -------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def neutralise(value: Any) -> Any:
    """Neutralise spreadsheet formula injection in one cell.

    A text cell that starts with ``=``, ``+``, ``@``, a tab or carriage return, or with ``-`` and
    is not a number, is prefixed with an apostrophe so spreadsheet programs show it as text (OWASP
    "CSV Injection"). Numbers and other text pass unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if value[0] in "+-" and _is_number(value):
            return value
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell passed through :func:`neutralise`."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    return out


def significant(f: float, digits: int = 10) -> float:
    """``f`` with float noise removed for writing: ``digits`` decimal places for ``|f| >= 1`` and
    ``digits`` significant digits below 1 (a p-value of 2e-27 stays 2e-27; an amount of
    12345678901.5 keeps its digits).

    The written text is the shortest repr of that float, so two runs write the same bytes.
    """
    return round(f, digits) if abs(f) >= 1 else float(f"{f:.{digits}g}")


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(significant(float(v)))
    return str(v)


def write_table(df: pd.DataFrame, path: str | Path, columns: Iterable[str] | None = None) -> None:
    """Write a CSV deterministically (UTF-8, ``\\n``, floats rounded to 10 significant places,
    formula injection neutralised)."""
    cols = list(columns) if columns is not None else list(df.columns)
    safe = neutralise_frame(df[cols]) if len(df) else df[cols]
    text = safe.map(_fmt) if len(safe) else safe
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_findings(df: pd.DataFrame, out_dir: str | Path) -> None:
    """Write ``findings.csv`` (contract columns only) and ``evidence.jsonl`` (one line per finding)."""
    out = Path(out_dir)
    write_table(df, out / "findings.csv", FINDING_COLUMNS)
    extra = [c for c in (*EXTRA_COLUMNS, *SCORING_COLUMNS) if c in df.columns]
    with open(out / "evidence.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for rec in df[["finding_id", *extra]].to_dict("records"):
            rec = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}
            rec["evidence"] = json.loads(rec["evidence"]) if rec["evidence"] else {}
            fh.write(json.dumps(_jsonable(rec), ensure_ascii=False, sort_keys=True) + "\n")


def read_findings(run_dir: str | Path) -> pd.DataFrame:
    """Read ``findings.csv`` (and ``evidence.jsonl`` where present) of a run directory."""
    run = Path(run_dir)
    df = pd.read_csv(run / "findings.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    for c in ("statistic", "p_value", "q_value", "score"):
        df[c] = pd.to_numeric(df[c].replace("", np.nan), errors="coerce")
    ev_path = run / "evidence.jsonl"
    if ev_path.exists():
        ev = pd.DataFrame([json.loads(line) for line in ev_path.read_text(encoding="utf-8").splitlines() if line])
        if len(ev):
            df = df.merge(ev, on="finding_id", how="left")
    return df
