"""False-discovery control against the textbook procedure (statsmodels' implementation)."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from detect.scoring import fdr


@pytest.mark.parametrize("method, sm", [("bh", "fdr_bh"), ("by", "fdr_by")])
def test_fdr_matches_statsmodels(method, sm):
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(size=300), rng.uniform(0, 1e-3, size=20)])
    ours = fdr(p, method=method)
    ref = multipletests(p, method=sm)[1]
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_fdr_exact_below_report_p_with_truncated_p_values():
    """Detectors return only p <= 0.05 with the total count m; q <= 0.05 must equal the full BH."""
    rng = np.random.default_rng(2)
    p = np.concatenate([rng.uniform(size=5000), rng.uniform(0, 1e-4, size=40)])
    full = multipletests(p, method="fdr_bh")[1]
    keep = p <= 0.05
    trunc = fdr(p[keep], m=len(p))
    small = trunc <= 0.05
    np.testing.assert_allclose(trunc[small], full[keep][small], rtol=1e-12)
    assert np.all(trunc >= full[keep] - 1e-15)         # larger ones are conservative


def test_fdr_nan_passthrough():
    q = fdr(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.02) and q[2] == pytest.approx(0.02)


# --- merging, stories, combination -------------------------------------------------------------

import json  # noqa: E402

import pandas as pd  # noqa: E402

from detect.config import load_config  # noqa: E402
from detect.findings import Finding, findings_frame  # noqa: E402
from detect.scoring import (assign_stories, cauchy_combination, merge_same_kind, rank_regions,  # noqa: E402
                            region_p_values, score_findings, simes)


def _f(region, det, ind, y0, y1, p, kind="k", fam="series", hint=None):
    return Finding(region_code=region, region_name=region, indicator=ind, period_start=str(y0), period_end=str(y1),
                   detector=det, statistic=1.0, p_value=p, summary=f"{det} {ind} {y0}", summary_zh="中文",
                   family=fam, kind=kind, severity_hint=hint)


def test_simes_and_cauchy_reference_values():
    assert simes(np.array([0.01, 0.04, 0.5])) == pytest.approx(0.03)
    # one p-value: Cauchy combination returns it
    assert cauchy_combination(np.array([0.2])) == pytest.approx(0.2)
    # equal small p-values: Cauchy combination returns about the same p (no independence assumed)
    assert cauchy_combination(np.array([1e-4, 1e-4, 1e-4])) == pytest.approx(1e-4, rel=1e-3)


def test_cauchy_combination_is_calibrated_under_null():
    rng = np.random.default_rng(5)
    p = np.array([cauchy_combination(rng.uniform(size=10)) for _ in range(4000)])
    assert abs((p < 0.05).mean() - 0.05) < 0.012


def test_merge_same_kind_adjacent_years():
    df = findings_frame([_f("A", "d", "gdp", 2011, 2011, 0.001), _f("A", "d", "gdp", 2012, 2012, 0.01),
                         _f("A", "d", "gdp", 2015, 2015, 0.02), _f("A", "d", "tax_revenue", 2012, 2012, 0.01)])
    m = merge_same_kind(df)
    assert len(m) == 3
    row = m[(m["indicator"] == "gdp") & (m["period_start"] == "2011")].iloc[0]
    assert row["period_end"] == "2012"
    assert row["p_value"] == pytest.approx(simes(np.array([0.001, 0.01])))
    assert len(json.loads(row["evidence"])["merged"]) == 2


def test_stories_group_overlapping_findings_of_a_region():
    df = findings_frame([_f("A", "level_shift", "fiscal_revenue", 2015, 2015, 1e-6),
                         _f("A", "composition", "nontax_revenue", 2011, 2014, 1e-5),
                         _f("A", "proxy", "fiscal_revenue", 2012, 2015, 1e-4),
                         _f("A", "growth", "gdp", 2019, 2019, 1e-3),
                         _f("B", "growth", "gdp", 2012, 2012, 1e-3)])
    s = assign_stories(df)
    a = s[s["region_code"] == "A"]
    assert a[a["period_start"].isin(["2015", "2011", "2012"])]["story_id"].nunique() == 1
    assert a["story_id"].nunique() == 2
    assert s[s["region_code"] == "B"]["story_id"].iat[0] not in set(a["story_id"])


def test_scored_findings_sorted_by_story_and_deterministic():
    items = [_f("A", "level_shift", "fiscal_revenue", 2015, 2015, 1e-9, fam="series"),
             _f("A", "composition", "nontax_revenue", 2011, 2014, 1e-7, fam="panel"),
             _f("B", "growth", "gdp", 2012, 2012, 1e-8),
             _f("C", "debt_ratios", "debt_balance", 2020, 2020, float("nan"), fam="debt", hint="high")]
    cfg = load_config()
    a = score_findings(findings_frame(items), {"level_shift": 1000, "composition": 1000, "growth": 1000,
                                               "debt_ratios": 0}, cfg,
                       {"level_shift": "series", "composition": "panel", "growth": "series", "debt_ratios": "debt"})
    b = score_findings(findings_frame(list(reversed(items))), 3000, cfg)
    assert a["finding_id"].tolist()[:2] == b["finding_id"].tolist()[:2]
    # region A's two detectors form one story ranked first, rows adjacent
    assert a["region_code"].tolist()[:2] == ["A", "A"]
    assert set(a["severity"]) <= {"high", "medium", "low", "info"}
    assert a.loc[a["region_code"] == "C", "severity"].iat[0] == "high"
    assert (a["check"].str.len() > 20).all() and (a["check_zh"].str.len() > 5).all()


def test_region_risk_ranks_strong_evidence_first_and_is_calibrated_on_null():
    rng = np.random.default_rng(11)
    regions = [f"R{i:03d}" for i in range(200)]
    data = pd.DataFrame({"region_code": np.repeat(regions, 50), "value": 1.0})
    # null world: each region 50 tests, uniform p; keep only p <= 0.05 as detectors do
    rows = []
    for r in regions:
        p = rng.uniform(size=50)
        rows += [_f(r, "d", f"i{j}", 2010, 2010, float(x)) for j, x in enumerate(p) if x <= 0.05]
    cfg = load_config()
    df = score_findings(findings_frame(rows), 200 * 50, cfg)
    pr = region_p_values(df, data, 200 * 50, cfg)
    assert (pr < 0.05).mean() <= 0.08                  # roughly calibrated (conservative tail)
    rows.append(_f("R000", "d2", "x", 2012, 2012, 1e-9))
    df = score_findings(findings_frame(rows), 200 * 50 + 1, cfg)
    pr = region_p_values(df, data, 200 * 50 + 1, cfg)
    reg = rank_regions(df, pd.DataFrame({"region_code": regions, "region_name": regions}), pr)
    assert reg["region_code"].iat[0] == "R000" and reg["rank"].tolist() == list(range(1, 201))
    # the top contributing findings: up to three ids, best score first, the first one is top_finding
    top = reg.iloc[0]
    ids = top["top_findings"].split(";")
    mine = df[df["region_code"] == "R000"].sort_values(["score", "finding_id"], ascending=[False, True])
    assert ids == mine["finding_id"].tolist()[:3] and ids[0] == top["top_finding"]


# --- severity rules (issue 6): q cut-offs, materiality downgrade, supporting cap ------------------

from detect.config import threshold  # noqa: E402
from detect.scoring import severity  # noqa: E402


def _sev(q, effect=None, kind=None, hint=None, cfg=None):
    """severity() on parallel lists (defaults: effect unknown, not supporting, no hint)."""
    n = len(q)
    effect = [np.nan] * n if effect is None else effect
    kind = pd.Series([""] * n if kind is None else kind, dtype=object)
    hint = pd.Series([""] * n if hint is None else hint, dtype=object)
    return list(severity(np.array(q, dtype=float), np.array(effect, dtype=float), hint, kind,
                         cfg or load_config()))


def _cuts(cfg=None):
    cfg = cfg or load_config()
    qh, qm, ql = (float(threshold(f"scoring.q_{s}", cfg)) for s in ("high", "medium", "low"))
    assert 0 < qh < qm < ql < 1            # the rules below assume ordered cut-offs
    return qh, qm, ql


def test_severity_q_cut_offs_are_inclusive_upper_bounds():
    qh, qm, ql = _cuts()
    up = lambda x: float(np.nextafter(x, 1.0))  # noqa: E731 - the smallest q above a cut-off
    q = [0.0, qh / 10, qh, up(qh), qm, up(qm), ql, up(ql), 1.0]
    assert _sev(q) == ["high", "high", "high", "medium", "medium", "low", "low", "info", "info"]


def test_severity_follows_the_configured_cut_offs():
    """Thresholds come from the config, not literals: moving q_high moves the boundary."""
    qh, qm, _ = _cuts()
    stricter = load_config().with_(thresholds={"scoring": {"q_high": qh / 10}})
    assert _sev([qh], cfg=stricter) == ["medium"] and _sev([qh / 10], cfg=stricter) == ["high"]
    assert _sev([qh]) == ["high"]


def test_severity_immaterial_effect_is_downgraded_one_level():
    qh, qm, ql = _cuts()
    me = float(threshold("scoring.min_effect", load_config()))
    between = (qm + ql) / 2                 # low before the downgrade
    q = [qh, qh, qh, qh, qh, qm, between, 1.0]
    eff = [me / 2, -me / 2, me, -2 * me, np.nan, me / 2, me / 2, me / 2]
    # |effect| < min_effect -> one level down (sign ignored); |effect| == min_effect is material;
    # an unknown effect (NaN) is not downgraded; info cannot go lower
    assert _sev(q, eff) == ["medium", "medium", "high", "high", "high", "low", "info", "info"]


def test_severity_supporting_signals_capped_at_medium():
    qh, qm, ql = _cuts()
    me = float(threshold("scoring.min_effect", load_config()))
    between = (qm + ql) / 2
    q = [qh / 100, qh / 100, qm, between, 1.0, qh / 100]
    kind = ["supporting", "supporting_profile", "supporting", "supporting", "supporting", "level_shift"]
    assert _sev(q, kind=kind) == ["medium", "medium", "medium", "low", "info", "high"]
    # a supporting signal with an immaterial effect: downgraded to medium, not further by the cap
    assert _sev([qh / 100], [me / 2], ["supporting"]) == ["medium"]
    assert _sev([qm], [me / 2], ["supporting"]) == ["low"]


def test_severity_rule_flags_keep_their_hint_tested_ones_do_not():
    qh, _, _ = _cuts()
    assert _sev([np.nan, np.nan, np.nan, qh], hint=["high", "low", "", "low"]) == ["high", "low", "info", "high"]


# --- q_family: Benjamini-Hochberg within each detector family --------------------------------------

@pytest.mark.parametrize("method, sm", [("bh", "fdr_bh"), ("by", "fdr_by")])
def test_q_family_is_fdr_within_each_family_with_its_test_count(method, sm):
    """q_family = the textbook BH (BY) q-value over the family's hypotheses: the family's returned
    p-values plus the tests its detectors ran without returning (p > report_p, padded as p = 1,
    which leaves the q-values of the returned ones unchanged)."""
    rng = np.random.default_rng(8)
    tests = {"growth_peers": 400, "level_shift": 250, "arima": 150,     # series (arima returned nothing)
             "composition": 120, "proxy": 80,                          # panel
             "benford": 60}                                            # digits
    families = {"growth_peers": "series", "level_shift": "series", "arima": "series",
                "composition": "panel", "proxy": "panel", "benford": "digits"}
    returned = {"growth_peers": 9, "level_shift": 6, "composition": 5, "proxy": 4, "benford": 3}
    items = []
    for det, k in returned.items():
        p = np.concatenate([rng.uniform(0, 1e-4, size=2), rng.uniform(0, 0.01, size=k - 2)])
        items += [_f(f"{det}{i:02d}", det, "gdp", 2015, 2015, float(x), fam=families[det]) for i, x in enumerate(p)]
    items.append(_f("debt00", "debt_ratios", "debt_balance", 2020, 2020, float("nan"), fam="debt", hint="high"))
    tests["debt_ratios"] = 0
    families["debt_ratios"] = "debt"
    cfg = load_config(fdr_method=method)
    out = score_findings(findings_frame(items), tests, cfg, families)
    assert len(out) == len(items)                          # nothing merged: one finding per region
    for fam in ("series", "panel", "digits"):
        g = out[out["family"] == fam]
        m = sum(n for d, n in tests.items() if families[d] == fam)
        p = g["p_value"].to_numpy()
        ref = multipletests(np.concatenate([p, np.ones(m - len(p))]), method=sm)[1][:len(p)]
        np.testing.assert_allclose(g["q_family"].to_numpy(), ref, rtol=1e-12)
    # the run-wide q-value is BH over all the run's tests (a different number from the family's)
    m_all = sum(tests.values())
    p_all = out["p_value"].to_numpy()
    fin = np.isfinite(p_all)
    ref_all = multipletests(np.concatenate([p_all[fin], np.ones(m_all - fin.sum())]), method=sm)[1][:fin.sum()]
    np.testing.assert_allclose(out["q_value"].to_numpy()[fin], ref_all, rtol=1e-12)
    assert (np.abs(out["q_value"] - out["q_family"]).to_numpy()[fin] > 1e-6).any()
    assert (out["q_family"].to_numpy()[fin] < 1).sum() >= 10     # informative q-values, not all clipped at 1
    # a rule-based flag (no p-value) has no q-value in its family either
    assert np.isnan(out.loc[out["family"] == "debt", "q_family"]).all()
