"""From p-values to q-values, severities, stories, scores and the region ranking.

1. **False-discovery control.** Detectors return every test with ``p <= report_p`` and count all
   the tests they ran. The Benjamini–Hochberg q-value of the k-th smallest of m p-values is
   ``q_(k) = min_{j >= k} m p_(j) / j``; every p-value not returned exceeds ``report_p``, so those
   terms are all ``> report_p``: q-values at or below ``report_p`` computed from the returned
   p-values alone are exact, larger ones are upper bounds. ``q_value`` is over the whole run;
   ``q_family`` within the detector family (digits, series, panel, debt).
2. **Merging.** Findings of the same region, detector, indicator and kind over overlapping or
   adjacent periods become one finding over the union, with the Simes combination of their
   p-values (valid under positive dependence; Simes 1986, Biometrika 73:751-754).
3. **Severity** from the q-value, downgraded one level when the effect is immaterial, capped for
   supporting signals; rule-based flags keep the detector's severity.
4. **Stories.** Findings about one region over overlapping periods are one story: ranked together,
   scored by the Cauchy combination of the best p-value of each detector in it (Liu & Xie 2020,
   JASA 115:393-402) plus a corroboration bonus per further detector.
5. **Region risk** is the Cauchy combination over all the region's tests, with the tests not
   returned (p > report_p) entered at their conditional median contribution (docs/scoring.md);
   ``risk_score = -log10(p_region)``.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
from scipy import stats

from detect.config import Config, threshold
from detect.explain import what_to_check
from detect.findings import REGION_COLUMNS, TOP_FINDINGS

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
_LEVELS = ("high", "medium", "low", "info")


# --- multiple testing ----------------------------------------------------------------------------

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
    raw = pv[order] * m / np.arange(1, k + 1)
    if method == "by":
        raw = raw * np.sum(1.0 / np.arange(1, m + 1))
    elif method != "bh":
        raise ValueError(f"method must be 'bh' or 'by', got {method!r}")
    qs = np.minimum.accumulate(raw[::-1])[::-1]
    out = np.empty(k)
    out[order] = np.minimum(qs, 1.0)
    q[ok] = out
    return q


def simes(p: np.ndarray) -> float:
    """Simes' combined p-value ``min_i k p_(i) / i`` of k p-values (NaN ignored)."""
    p = np.sort(np.asarray(p, dtype=float)[np.isfinite(p)])
    if len(p) == 0:
        return float("nan")
    return float(min(1.0, np.min(len(p) * p / np.arange(1, len(p) + 1))))


def cauchy_combination(p: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Cauchy combination test (Liu & Xie 2020): ``T = sum w_i tan((0.5 - p_i) pi)``,
    ``p = 1/2 - arctan(T) / pi``; valid under arbitrary dependence for small p. Tiny p-values use
    ``tan((0.5 - p) pi) ~ 1 / (pi p)`` to avoid overflow."""
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    p = np.clip(p[ok], 1e-300, 1.0)
    if len(p) == 0:
        return float("nan")
    w = np.full(len(p), 1.0 / len(p)) if weights is None else np.asarray(weights, float)[ok] / np.sum(np.asarray(weights, float)[ok])
    t = np.where(p < 1e-15, 1.0 / (np.pi * p), np.tan((0.5 - p) * np.pi))
    return _cauchy_sf(float(np.sum(w * t)))


def _cauchy_sf(t: float) -> float:
    if t > 1e15:
        return 1.0 / (np.pi * t)
    return float(stats.cauchy.sf(t))


# --- merging and stories -------------------------------------------------------------------------

def _years(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s.astype(str).str.slice(0, 4), errors="coerce").fillna(0).astype(int).to_numpy()


def _interval_groups(df: pd.DataFrame, keys: list[str], gap: int) -> np.ndarray:
    """Group numbers for rows sorted by ``keys`` then start year: a row starts a new group when its
    key changes or it starts more than ``gap`` years after every earlier row of the group ended."""
    if len(df) == 0:
        return np.zeros(0, dtype=int)
    key_change = np.ones(len(df), dtype=bool)
    k = df[keys].to_numpy()
    key_change[1:] = (k[1:] != k[:-1]).any(axis=1)
    y0, y1 = df["_y0"].to_numpy(), df["_y1"].to_numpy()
    block = np.cumsum(key_change)
    # running maximum of the end year within each key block, before this row
    run_max = pd.Series(y1).groupby(block).cummax().to_numpy()
    prev_max = np.concatenate([[np.iinfo(np.int64).min // 2], run_max[:-1]])
    new = key_change | (y0 > prev_max + gap)
    return np.cumsum(new) - 1


def merge_same_kind(df: pd.DataFrame) -> pd.DataFrame:
    """Merge findings of the same region, detector, indicator and kind over overlapping or adjacent
    periods into one finding over the union (Simes p-value; the strongest member's statistic)."""
    if len(df) == 0:
        return df
    df = df.copy()
    df["_y0"], df["_y1"] = _years(df["period_start"]), _years(df["period_end"])
    keys = ["region_code", "detector", "indicator", "kind"]
    df = df.sort_values([*keys, "_y0", "_y1", "period_start"], kind="mergesort").reset_index(drop=True)
    grp = _interval_groups(df, keys, gap=1)
    df["_grp"] = grp
    sizes = df.groupby("_grp")["_grp"].transform("size")
    if (sizes == 1).all():
        return df.drop(columns=["_y0", "_y1", "_grp"])
    single = df[sizes.to_numpy() == 1]
    multi = df[sizes.to_numpy() > 1].reset_index(drop=True)
    out_rows = []
    cols = list(df.columns)
    all_recs = multi.to_dict("records")
    for _, idx in sorted(multi.groupby("_grp").indices.items()):
        recs = [all_recs[i] for i in idx]
        p = np.array([r["p_value"] for r in recs], dtype=float)
        best = recs[int(np.nanargmin(p))] if np.isfinite(p).any() else recs[0]
        row = dict(best)
        row["period_start"] = recs[int(np.argmin([r["_y0"] for r in recs]))]["period_start"]
        row["period_end"] = recs[int(np.argmax([r["_y1"] for r in recs]))]["period_end"]
        row["p_value"] = simes(p) if np.isfinite(p).any() else float("nan")
        ev = json.loads(best["evidence"]) if best["evidence"] else {}
        ev["merged"] = [{"period_start": r["period_start"], "period_end": r["period_end"],
                         "p_value": None if not math.isfinite(r["p_value"]) else r["p_value"],
                         "statistic": None if not math.isfinite(r["statistic"]) else r["statistic"]}
                        for r in recs]
        row["evidence"] = json.dumps(ev, ensure_ascii=False, sort_keys=True)
        span = f"{row['period_start']}–{row['period_end']}"
        row["summary"] = f"{best['summary']} (one of {len(recs)} such findings over {span}, Simes p = {row['p_value']:.2g})"
        row["summary_zh"] = f"{best['summary_zh']}（{span}年间同类发现{len(recs)}项，Simes合并p={row['p_value']:.2g}）"
        out_rows.append(row)
    merged = pd.DataFrame(out_rows, columns=cols)
    for c in ("statistic", "p_value", "q_value", "score", "effect"):
        if c in merged.columns:
            merged[c] = merged[c].astype("float64")
    from detect.findings import finding_id

    if len(merged):
        merged["finding_id"] = [finding_id(*k) for k in merged[["region_code", "indicator", "period_start",
                                                                "period_end", "detector"]].itertuples(index=False, name=None)]
    out = pd.concat([single, merged], ignore_index=True) if len(merged) else single.reset_index(drop=True)
    out = out.drop(columns=["_y0", "_y1", "_grp"])
    # two kinds of one detector merged onto the same span would share an id: keep the strongest
    if out["finding_id"].duplicated().any():
        out = out.sort_values(["finding_id", "p_value"], kind="mergesort", na_position="last")
        out = out.drop_duplicates("finding_id", keep="first").reset_index(drop=True)
    return out


def assign_stories(df: pd.DataFrame, gap: int = 0) -> pd.DataFrame:
    """Group each region's findings over overlapping (or within ``gap`` years) periods into stories.

    Adds ``story_id`` (``S`` + hash of region and the story's span), ``story_start``, ``story_end``.
    """
    df = df.copy()
    if len(df) == 0:
        return df.assign(story_id=pd.Series(dtype=object), story_start=pd.Series(dtype=object),
                         story_end=pd.Series(dtype=object))
    df["_y0"], df["_y1"] = _years(df["period_start"]), _years(df["period_end"])
    df = df.sort_values(["region_code", "_y0", "_y1", "finding_id"], kind="mergesort")
    story = pd.Series(_interval_groups(df, ["region_code"], gap=gap), index=df.index)
    df["_story"] = story
    span = df.groupby("_story").agg(s0=("_y0", "min"), s1=("_y1", "max"), region=("region_code", "first"))
    span["story_id"] = ["S" + hashlib.sha256(f"{r}\x1f{a}\x1f{b}".encode()).hexdigest()[:10]
                        for r, a, b in zip(span["region"], span["s0"], span["s1"])]
    df["story_id"] = df["_story"].map(span["story_id"])
    df["story_start"] = df["_story"].map(span["s0"]).astype(str)
    df["story_end"] = df["_story"].map(span["s1"]).astype(str)
    return df.drop(columns=["_y0", "_y1", "_story"])


# --- severity and scores ---------------------------------------------------------------------------

def severity(q: np.ndarray, effect: np.ndarray, hint: pd.Series, kind: pd.Series, config: Config) -> np.ndarray:
    """Severity from the q-value (``scoring.q_high`` / ``q_medium`` / ``q_low``), one level lower
    when ``|effect| < scoring.min_effect``, capped at medium for supporting signals; rule-based flags
    (no q-value) keep the detector's ``severity_hint``."""
    q = np.asarray(q, dtype=float)
    eff = np.asarray(effect, dtype=float)
    lv = np.where(q <= threshold("scoring.q_high", config), 0,
                  np.where(q <= threshold("scoring.q_medium", config), 1,
                           np.where(q <= threshold("scoring.q_low", config), 2, 3)))
    immaterial = np.isfinite(eff) & (np.abs(eff) < float(threshold("scoring.min_effect", config)))
    lv = np.where(immaterial & (lv < 3), lv + 1, lv)
    supporting = kind.fillna("").astype(str).str.startswith("supporting").to_numpy()
    lv = np.where(supporting & (lv < 1), 1, lv)
    sev = np.array(_LEVELS, dtype=object)[lv]
    hint = hint.fillna("").astype(str).to_numpy()
    use_hint = (hint != "") & ~np.isfinite(q)
    return np.where(use_hint, hint, sev).astype(object)


def _pseudo_p(sev: pd.Series, config: Config) -> np.ndarray:
    """Nominal p-values for rule-based flags in the combinations (thresholds scoring.rule_p_*)."""
    m = {s: float(threshold(f"scoring.rule_p_{s}", config)) for s in ("high", "medium", "low")}
    return sev.map(m).astype(float).fillna(np.nan).to_numpy()


def score_findings(df: pd.DataFrame, tests: dict[str, int] | int, config: Config,
                   families: dict[str, str] | None = None) -> pd.DataFrame:
    """Merge, fill ``q_value`` / ``q_family`` / ``severity`` / ``score`` / stories, and sort.

    Parameters
    ----------
    df : DataFrame
        Unscored findings (``findings_frame``).
    tests : dict or int
        Hypotheses tested per detector (or the total).
    families : dict, optional
        Detector name -> family, for the per-family q-values.

    Returns
    -------
    DataFrame sorted by story (strongest first), then by finding score within the story.
    """
    if len(df) == 0:
        return df.assign(q_family=pd.Series(dtype=float), story_id=pd.Series(dtype=object),
                         story_start=pd.Series(dtype=object), story_end=pd.Series(dtype=object),
                         story_score=pd.Series(dtype=float), check=pd.Series(dtype=object),
                         check_zh=pd.Series(dtype=object))
    df = merge_same_kind(df)
    n_total = sum(tests.values()) if isinstance(tests, dict) else int(tests)
    df["q_value"] = fdr(df["p_value"].to_numpy(), m=n_total, method=config.fdr_method)
    df["q_family"] = np.nan
    if isinstance(tests, dict) and families:
        fam_tests: dict[str, int] = {}
        for det, n in tests.items():
            fam_tests[families.get(det, "")] = fam_tests.get(families.get(det, ""), 0) + n
        for fam, idx in df.groupby("family").groups.items():
            df.loc[idx, "q_family"] = fdr(df.loc[idx, "p_value"].to_numpy(), m=fam_tests.get(fam, len(idx)),
                                          method=config.fdr_method)
    df["severity"] = severity(df["q_value"].to_numpy(), df["effect"].to_numpy(), df["severity_hint"],
                              df["kind"], config)
    tested = np.isfinite(df["q_value"].to_numpy())
    p_eff = np.where(tested, df["q_value"].to_numpy(), _pseudo_p(df["severity"], config))
    df["score"] = np.round(-np.log10(np.clip(np.nan_to_num(p_eff, nan=1.0), 1e-16, 1.0)), 6)
    df["check"] = [what_to_check(i, f, "en") for i, f in zip(df["indicator"], df["family"])]
    df["check_zh"] = [what_to_check(i, f, "zh") for i, f in zip(df["indicator"], df["family"])]
    # stories
    df = assign_stories(df, gap=int(threshold("scoring.story_gap_years", config)))
    bonus = float(threshold("scoring.corroboration_bonus", config))
    df["_p_or_rule"] = np.where(tested, df["p_value"].to_numpy(), _pseudo_p(df["severity"], config))
    # per story: the best p-value of each detector, Cauchy-combined (as cauchy_combination, vectorised)
    best = df.groupby(["story_id", "detector"], sort=False)["_p_or_rule"].min().reset_index()
    pb = np.clip(best["_p_or_rule"].to_numpy(dtype=float), 1e-300, 1.0)
    ok = np.isfinite(best["_p_or_rule"].to_numpy(dtype=float))
    best["_t"] = np.where(pb < 1e-15, 1.0 / (np.pi * pb), np.tan((0.5 - pb) * np.pi))
    best["_ok"] = ok
    agg = best[best["_ok"]].groupby("story_id")["_t"].mean()
    n_det = best.groupby("story_id")["detector"].size()
    pc = pd.Series([_cauchy_sf(float(t)) for t in agg.to_numpy()], index=agg.index)
    pc = pc.reindex(n_det.index).fillna(1.0)
    story_score = (-np.log10(np.clip(pc, 1e-300, 1.0)) + bonus * (n_det - 1)).round(6)
    df["story_score"] = df["story_id"].map(story_score)
    df["_sev"] = df["severity"].map(SEVERITY_ORDER)
    story_sev = df.groupby("story_id")["_sev"].transform("min")
    df = df.assign(_story_sev=story_sev).sort_values(
        ["_story_sev", "story_score", "story_id", "_sev", "score", "finding_id"],
        ascending=[True, False, True, True, False, True], kind="mergesort")
    return df.drop(columns=["_sev", "_story_sev", "_p_or_rule"]).reset_index(drop=True)


def region_p_values(findings: pd.DataFrame, panel_data: pd.DataFrame, n_tests: int, config: Config) -> pd.Series:
    """Combined p-value per region: Cauchy combination over the region's tests.

    The region's number of tests is estimated as ``n_tests`` times its share of the panel's
    reported values; the tests not returned (p > report_p) enter at their conditional median
    contribution under the null (:func:`_tail_mean`). Rule-based flags enter with the nominal
    p-values ``scoring.rule_p_*``.
    """
    counts = panel_data.loc[panel_data["value"].notna()].groupby("region_code").size()
    if counts.sum() == 0:
        return pd.Series(dtype=float)
    m_r = np.maximum(1.0, n_tests * counts / counts.sum())
    c = float(threshold("scoring.report_p", config))
    fill = _tail_mean(c)
    out = {}
    if len(findings):
        tested = np.isfinite(findings["p_value"].to_numpy(dtype=float))
        pv = np.where(tested, findings["p_value"].to_numpy(dtype=float), _pseudo_p(findings["severity"], config))
        f = findings.assign(_p=pv)
        by_region = {r: g["_p"].to_numpy() for r, g in f.groupby("region_code")}
    else:
        by_region = {}
    for region, m in m_r.items():
        p = by_region.get(region, np.array([]))
        p = np.clip(p[np.isfinite(p)], 1e-300, 1.0)
        k = len(p)
        total = max(m, k)
        t_obs = np.where(p < 1e-15, 1.0 / (np.pi * p), np.tan((0.5 - p) * np.pi)).sum() if k else 0.0
        t = (t_obs + (total - k) * fill) / total
        out[region] = _cauchy_sf(float(t))
    return pd.Series(out, dtype=float)


def _tail_mean(c: float) -> float:
    """Conditional median of ``tan((0.5 - p) pi)`` for p uniform on (c, 1): ``tan(-c pi / 2)``.

    The Cauchy kernel has no mean, so a test not returned (p > c) is entered at its conditional
    median; for c = 0.05 that is -0.079, close to 0: the combination then behaves like Wilson's
    harmonic mean p-value over the region's tests (Wilson 2019, PNAS 116:1195-1200).
    """
    return float(np.tan(-c * np.pi / 2))


def rank_regions(findings: pd.DataFrame, regions: pd.DataFrame, p_region: pd.Series | None = None) -> pd.DataFrame:
    """``regions.csv``: one row per region, ranked by risk score (highest first, ties by code).

    ``risk_score = -log10(max(p_region, 1e-16))`` with the Cauchy-combined p-value of :func:`region_p_values`
    (p-values below double precision are not meaningful: the score tops out at 16)
    (when not given, the region's best finding score).
    """
    reg = regions[["region_code", "region_name"]].drop_duplicates("region_code").copy()
    if len(findings):
        f = findings.sort_values(["score", "finding_id"], ascending=[False, True], kind="mergesort")
        agg = f.groupby("region_code", sort=False).agg(
            best=("score", "max"), top_finding=("finding_id", "first"),
            top_findings=("finding_id", lambda ids: ";".join(ids.iloc[:TOP_FINDINGS])),
            n_high=("severity", lambda s: int((s == "high").sum())),
            n_medium=("severity", lambda s: int((s == "medium").sum())),
            n_low=("severity", lambda s: int((s == "low").sum())),
        )
        reg = reg.merge(agg, left_on="region_code", right_index=True, how="left")
    else:
        reg = reg.assign(best=np.nan, n_high=0, n_medium=0, n_low=0, top_finding="", top_findings="")
    if p_region is not None and len(p_region):
        reg["risk_score"] = (-np.log10(np.clip(reg["region_code"].map(p_region).fillna(1.0).astype(float), 1e-16, 1.0))).round(6)
    else:
        reg["risk_score"] = reg["best"].fillna(0.0).round(6)
    for c in ("n_high", "n_medium", "n_low"):
        reg[c] = reg[c].fillna(0).astype("int64")
    reg["top_finding"] = reg["top_finding"].fillna("")
    reg["top_findings"] = reg["top_findings"].fillna("")
    reg["_n"] = reg["n_high"] * 1_000_000 + reg["n_medium"] * 1000 + reg["n_low"]
    reg = reg.sort_values(["risk_score", "_n", "region_code"], ascending=[False, False, True], kind="mergesort")
    reg["rank"] = np.arange(1, len(reg) + 1)
    return reg[list(REGION_COLUMNS)].reset_index(drop=True)


__all__ = ["assign_stories", "cauchy_combination", "fdr", "merge_same_kind", "rank_regions", "region_p_values",
           "score_findings", "severity", "simes"]
