"""Detection quality against planted truth (the synthetic sample's ``truth.csv``).

Used by ``benchmarks/quality.py`` and the tests. A planted anomaly is *found* when the run has a
finding for that region with ``q <= q_found`` (or a rule-based high / medium finding) whose
indicator is one the anomaly touches (or whose detector family is the anomaly's), over periods
overlapping the planted window widened by one year (a correction comes the year after).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: planted kind -> (indicators it touches, detector families that see it without an indicator)
RELATED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "revenue_inflation": (frozenset({"fiscal_revenue", "nontax_revenue", "nontax_share", "tax_revenue"}), frozenset()),
    "gdp_without_proxy": (frozenset({"gdp", "gdp_real_growth", "gdp_secondary"}), frozenset()),
    "smoothed_growth": (frozenset({"gdp", "gdp_real_growth"}), frozenset()),
    "target_bunching": (frozenset({"gdp_real_growth", "growth_target", "gdp"}), frozenset()),
    "debt_surge": (frozenset({"debt_balance", "lgfv_debt", "interest_paid", "debt_service"}), frozenset({"debt"})),
    "digit_preference": (frozenset({"*"}), frozenset({"digits"})),
    "aggregation_mismatch": (frozenset({"gdp", "fiscal_revenue", "tax_revenue", "nontax_revenue"}), frozenset()),
    "pm25_drop": (frozenset({"pm25"}), frozenset()),
}


def _years(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.slice(0, 4), errors="coerce")


def significant(findings: pd.DataFrame, q_found: float = 0.05) -> pd.DataFrame:
    """Findings that count as a flag: q <= q_found, or rule-based (no q) high / medium."""
    q = pd.to_numeric(findings["q_value"], errors="coerce")
    rule = q.isna() & findings["severity"].isin(["high", "medium"])
    return findings[(q <= q_found) | rule]


def match_truth(findings: pd.DataFrame, truth: pd.DataFrame, q_found: float = 0.05) -> pd.DataFrame:
    """``truth`` with a boolean ``found`` column and the id of the best matching finding."""
    f = significant(findings, q_found).copy()
    f["y0"], f["y1"] = _years(f["period_start"]), _years(f["period_end"])
    fam = f["family"] if "family" in f.columns else pd.Series("", index=f.index)
    out = truth.copy()
    found, best = [], []
    for t in truth.itertuples(index=False):
        inds, fams = RELATED.get(t.kind, (frozenset({t.indicator}), frozenset()))
        inds = inds | {t.indicator}
        y0, y1 = int(str(t.period_start)[:4]) - 1, int(str(t.period_end)[:4]) + 1
        m = ((f["region_code"] == str(t.region_code)) & (f["indicator"].isin(inds) | fam.isin(fams))
             & (f["y0"] <= y1) & (f["y1"] >= y0))
        found.append(bool(m.any()))
        best.append(f.loc[m, "finding_id"].iat[0] if m.any() else "")
    out["found"] = found
    out["finding_id"] = best
    return out


def score_run(run_dir: str | Path, truth: str | Path | pd.DataFrame, q_found: float = 0.05) -> dict:
    """Recall per planted kind, region AUC, precision@k, clean regions with a high finding.

    Parameters
    ----------
    run_dir : path
        A ``detect run`` output directory (findings.csv, regions.csv, evidence.jsonl).
    truth : path or DataFrame
        ``truth.csv`` of the synthetic sample (empty for a clean panel).
    """
    from sklearn.metrics import roc_auc_score

    from detect.findings import read_findings

    run = Path(run_dir)
    findings = read_findings(run)
    regions = pd.read_csv(run / "regions.csv", dtype={"region_code": str, "top_finding": str})
    truth = truth if isinstance(truth, pd.DataFrame) else pd.read_csv(truth, dtype=str)
    positives = set(truth["region_code"].astype(str))
    regions["planted"] = regions["region_code"].isin(positives)
    # A parent's reported total includes its planted children's figures, so it is neither clean nor
    # planted: such parents are left out of the region metrics (unless planted themselves).
    parents = _parents(run)
    contaminated = {parents.get(c) for c in positives} - {None, ""} - positives
    all_regions = regions.copy()
    regions = regions[~regions["region_code"].isin(contaminated)].reset_index(drop=True)
    high_regions = set(findings.loc[findings["severity"] == "high", "region_code"])
    clean = regions[~regions["planted"]]
    out: dict = {
        "n_regions": int(len(regions)),
        "parents_left_out": sorted(contaminated),
        "n_planted_regions": int(regions["planted"].sum()),
        "n_findings": int(len(findings)),
        "n_high": int((findings["severity"] == "high").sum()),
        "n_significant": int(len(significant(findings, q_found))),
        "clean_regions_with_high": int(clean["region_code"].isin(high_regions).sum()),
        "clean_regions_with_high_share": float(clean["region_code"].isin(high_regions).mean()) if len(clean) else 0.0,
    }
    if len(truth):
        m = match_truth(findings, truth, q_found)
        out["recall_by_kind"] = {k: float(g["found"].mean()) for k, g in m.groupby("kind")}
        out["missed"] = m.loc[~m["found"], ["region_code", "kind", "indicator", "period_start", "period_end"]].to_dict("records")
        y = regions["planted"].to_numpy()
        s = regions["risk_score"].to_numpy(dtype=float)
        out["region_auc"] = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")
        k = int(y.sum())
        top = regions.sort_values("rank").head(k)
        out["precision_at_k"] = float(top["planted"].mean()) if k else float("nan")
        out["k"] = k
        # the same with the contaminated parents counted as clean (a stricter reading)
        ya = all_regions["planted"].to_numpy()
        out["region_auc_all_regions"] = (float(roc_auc_score(ya, all_regions["risk_score"].to_numpy(dtype=float)))
                                         if 0 < ya.sum() < len(ya) else float("nan"))
        out["precision_at_k_all_regions"] = (float(all_regions.sort_values("rank").head(k)["planted"].mean())
                                             if k else float("nan"))
    # series-level false-positive share (meaningful on a clean panel)
    sig = significant(findings, q_found)
    series = findings.groupby(["region_code", "indicator"]).ngroups if len(findings) else 0
    out["series_with_q_below"] = int(sig.groupby(["region_code", "indicator"]).ngroups) if len(sig) else 0
    out["series_flagged_any"] = int(series)
    return out


def _parents(run: Path) -> dict[str, str]:
    """region_code -> parent_code, read from the run's input files (manifest.json)."""
    import json

    try:
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        out: dict[str, str] = {}
        for inp in manifest.get("inputs", []):
            d = pd.read_csv(inp["file"], dtype=str, usecols=["region_code", "parent_code"], keep_default_na=False)
            out.update(d.drop_duplicates("region_code").set_index("region_code")["parent_code"].to_dict())
        return out
    except (OSError, ValueError, KeyError):
        return {}


def format_report(scores: dict, title: str) -> str:
    """Markdown lines for docs: the scores of one run."""
    lines = [f"### {title}", ""]
    for k in ("n_regions", "n_planted_regions", "n_findings", "n_high", "n_significant", "region_auc",
              "precision_at_k", "k", "region_auc_all_regions", "precision_at_k_all_regions", "clean_regions_with_high", "clean_regions_with_high_share",
              "series_with_q_below"):
        if k in scores:
            v = scores[k]
            lines.append(f"- {k}: {v:.3f}" if isinstance(v, float) else f"- {k}: {v}")
    if "recall_by_kind" in scores:
        lines.append("- recall by planted kind: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(scores["recall_by_kind"].items())))
    return "\n".join(lines) + "\n"


__all__ = ["RELATED", "match_truth", "score_run", "significant", "format_report", "np"]
