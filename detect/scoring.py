"""From p-values to q-values, severities, scores and the region ranking.

Detectors return every test with ``p <= report_p`` and the count of all tests they ran. The
Benjamini–Hochberg step-up q-value of the k-th smallest of m p-values is
``q_(k) = min_{j >= k} m p_(j) / j``; every p-value not returned exceeds ``report_p``, so for
those terms ``m p_(j) / j > report_p``: the q-values at or below ``report_p`` computed from the
returned p-values alone are exact, and larger ones are upper bounds (conservative).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect.config import Config, threshold
from detect.findings import FINDING_COLUMNS, REGION_COLUMNS

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


def fdr(p: np.ndarray, m: int | None = None, method: str = "bh") -> np.ndarray:
    """Benjamini–Hochberg (``bh``) or Benjamini–Yekutieli (``by``) q-values.

    Parameters
    ----------
    p : array of float
        p-values (NaN entries get NaN q-values and do not count).
    m : int, optional
        Number of hypotheses tested, at least the number of finite p-values (default: that number).
    method : {"bh", "by"}
        ``by`` multiplies by ``sum_{i<=m} 1/i`` and is valid under arbitrary dependence
        (Benjamini & Yekutieli 2001, Ann. Stat. 29:1165-1188).
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    k = int(ok.sum())
    if k == 0:
        return q
    m = max(int(m or k), k)
    pv = p[ok]
    order = np.argsort(pv, kind="mergesort")
    ranks = np.arange(1, k + 1)
    raw = pv[order] * m / ranks
    if method == "by":
        raw = raw * np.sum(1.0 / np.arange(1, m + 1))
    elif method != "bh":
        raise ValueError(f"method must be 'bh' or 'by', got {method!r}")
    qs = np.minimum.accumulate(raw[::-1])[::-1]
    out = np.empty(k)
    out[order] = np.minimum(qs, 1.0)
    q[ok] = out
    return q


def severity(q: np.ndarray, effect: np.ndarray, hint: pd.Series, config: Config) -> np.ndarray:
    """Severity from the q-value and effect size, or the detector's hint for rule-based flags."""
    q_high = float(threshold("scoring.q_high", config))
    q_medium = float(threshold("scoring.q_medium", config))
    q_low = float(threshold("scoring.q_low", config))
    sev = np.where(q <= q_high, "high", np.where(q <= q_medium, "medium", np.where(q <= q_low, "low", "info")))
    hint = hint.fillna("").astype(str).to_numpy()
    has_hint = hint != ""
    return np.where(has_hint & ~np.isfinite(q), hint, sev).astype(object)


def score_findings(df: pd.DataFrame, n_tests: int, config: Config) -> pd.DataFrame:
    """Fill ``q_value``, ``severity`` and ``score`` and sort (severity, score desc, id)."""
    df = df.copy()
    if len(df) == 0:
        return df
    df["q_value"] = fdr(df["p_value"].to_numpy(), m=n_tests, method=config.fdr_method)
    df["severity"] = severity(df["q_value"].to_numpy(), df["effect"].to_numpy(), df["severity_hint"], config)
    rule_score = df["severity"].map({"high": 4.0, "medium": 2.5, "low": 1.3, "info": 0.5})
    tested = np.isfinite(df["q_value"])
    df["score"] = np.where(tested, -np.log10(np.clip(df["q_value"], 1e-16, 1.0)), rule_score).round(6)
    df["_sev"] = df["severity"].map(SEVERITY_ORDER)
    df = df.sort_values(["_sev", "score", "finding_id"], ascending=[True, False, True], kind="mergesort")
    return df.drop(columns="_sev").reset_index(drop=True)


def rank_regions(findings: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """``regions.csv``: one row per region, ranked by risk score (highest first, ties by code).

    The risk score is the region's best finding score plus a tenth of the rest (a simple
    combination; see docs/scoring.md).
    """
    reg = regions[["region_code", "region_name"]].drop_duplicates("region_code").copy()
    if len(findings):
        f = findings.sort_values(["score", "finding_id"], ascending=[False, True], kind="mergesort")
        agg = f.groupby("region_code", sort=False).agg(
            best=("score", "max"), total=("score", "sum"), top_finding=("finding_id", "first"),
            n_high=("severity", lambda s: int((s == "high").sum())),
            n_medium=("severity", lambda s: int((s == "medium").sum())),
            n_low=("severity", lambda s: int((s == "low").sum())),
        )
        agg["risk_score"] = (agg["best"] + 0.1 * (agg["total"] - agg["best"])).round(6)
        reg = reg.merge(agg[["risk_score", "n_high", "n_medium", "n_low", "top_finding"]],
                        left_on="region_code", right_index=True, how="left")
    else:
        reg = reg.assign(risk_score=np.nan, n_high=0, n_medium=0, n_low=0, top_finding="")
    reg["risk_score"] = reg["risk_score"].fillna(0.0)
    for c in ("n_high", "n_medium", "n_low"):
        reg[c] = reg[c].fillna(0).astype("int64")
    reg["top_finding"] = reg["top_finding"].fillna("")
    reg = reg.sort_values(["risk_score", "region_code"], ascending=[False, True], kind="mergesort")
    reg["rank"] = np.arange(1, len(reg) + 1)
    return reg[list(REGION_COLUMNS)].reset_index(drop=True)


__all__ = ["FINDING_COLUMNS", "fdr", "rank_regions", "score_findings", "severity"]
