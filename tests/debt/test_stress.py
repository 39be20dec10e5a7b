"""Stress tables, fan charts (seeded, reproducible) and the debt_stress detector."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from detect.config import load_config
from detect.data.panel import Panel
from detect.debt.stress import DebtStress, stress_table

from .conftest import growth_panel, long_frame

CFG = load_config()


@pytest.fixture(scope="module")
def panel():
    # region 990300 borrows 12 % of expenditure a year beyond its deficit from 2015: its ratio climbs
    return growth_panel(n=16, years=range(2010, 2022), persistent=(2, 2015, 0.12))


def test_stress_table_is_tidy_and_complete(panel):
    res = stress_table(panel, CFG)
    assert {"region_code", "base", "scenario", "year", "value"} <= set(res.paths.columns)
    assert set(res.paths["scenario"]) >= {"baseline", "growth", "interest", "primary", "land_30", "land_50",
                                         "transfers_10", "combined"}
    # no lgfv_debt in this panel: LGFV scenarios not computable, with the reason
    nc = res.not_computable
    assert set(nc.loc[nc["scenario"].str.startswith("lgfv"), "reason"]) == {"needs lgfv_debt in the last observed year"}
    # the first path point is the observed ratio in the last year
    b = res.paths[(res.paths.scenario == "baseline") & (res.paths.base == "resources")]
    assert b.groupby("region_code")["year"].min().eq(2021).all()
    assert "StressResult" in repr(res) and "<pre>" in res._repr_html_()
    d = res.deadlines()
    assert set(d.columns) == {"100%", "120%", "200%", "300%", "60%"}


def test_fan_chart_seeded_and_reproducible(panel):
    a = stress_table(panel, CFG).fan
    b = stress_table(panel, CFG).fan
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)
    c = stress_table(panel, CFG.with_(seed=CFG.seed + 1)).fan
    assert not np.allclose(a["value"].to_numpy(), c["value"].to_numpy())
    # a region's fan does not depend on which other regions are simulated
    code = a["region_code"].iat[0]
    one = stress_table(panel, CFG, regions=[code]).fan
    pd.testing.assert_frame_equal(one.reset_index(drop=True),
                                  a[a.region_code == code].reset_index(drop=True), check_dtype=False)
    # percentiles are ordered
    w = a[a.base == "resources"].pivot_table(index=["region_code", "year"], columns="percentile", values="value")
    assert (w["p5"] <= w["p50"]).all() and (w["p50"] <= w["p95"]).all()


def test_detector_reports_crossing_year(panel):
    out = DebtStress().run(panel, CFG)
    mine = [f for f in out if f.region_code == "990300" and f.indicator == "debt_ratio"]
    assert len(mine) == 1
    f = mine[0]
    ev = f.evidence
    start = ev["projection"]["start_value"]
    line = f.kind.split("_")[1]  # crosses_<line>_<scenario>
    scenario = f.kind.split("_", 2)[2]
    v = float(line) / 100
    assert start < v
    path = ev["projection"]["paths"][scenario]
    first = min(int(y) for y, x in path.items() if x >= v)
    assert int(f.period_end) == first == ev["crossing_years"][scenario][f"{line}%"]
    assert f.severity_hint in ("high", "medium", "low", "info")
    assert set(ev["fan"]) == {"p5", "p25", "p50", "p75", "p95"} and len(ev["fan"]["p50"]) == 5
    assert str(first) in f.summary_zh and "越过" in f.summary_zh


def test_short_history_is_not_projectable():
    p = growth_panel(n=10, years=range(2019, 2021))
    res = stress_table(p, CFG)
    assert len(res.paths) == 0
    assert res.not_computable["reason"].str.contains("fewer than 2 years").all()


def _land_panel() -> Panel:
    """Nine regions at 50 % and one (990100) at 115 % of 综合财力, every base growing 6 % a year; in
    990100 land sales are 30 % of 综合财力. The baseline keeps its ratio below the 120 % line; a 30 % fall
    in land revenue (9 % of 综合财力, spending unchanged so the gap is borrowed) lifts it to
    (115 + 9) / 91 = 136 % in the first projected year (debt up by the lost revenue, the base down by it)."""
    recs = {}
    for r in range(10):
        code = f"99{r + 1:02d}00"
        ratio = 1.15 if r == 0 else 0.5
        for k, y in enumerate(range(2012, 2022)):
            g = 1.06 ** k
            fr, tr, fund = 100.0 * g, 50.0 * g, 50.0 * g
            recs[(code, y)] = dict(fiscal_revenue=round(fr, 4), transfer_revenue=round(tr, 4), fund_revenue=round(fund, 4),
                                   land_revenue=round(0.3 * 200 * g if r == 0 else 10 * g, 4),
                                   debt_balance=round(ratio * 200 * g, 4), gdp=round(1000 * g, 4),
                                   fiscal_expenditure=round(180 * g, 4))
    return Panel.from_frame(long_frame(recs))


def test_shock_finding_says_what_was_shocked_and_by_how_much():
    """IMF (2013) MAC DSA practice: each stress scenario states the shock and its size. The finding names the
    shock in words with its size for this region (land revenue -30 % = 9 % of 综合财力), and every computed
    scenario and the fan chart are described in the evidence."""
    out = DebtStress().run(_land_panel(), CFG)
    f = [x for x in out if x.region_code == "990100" and x.indicator == "debt_ratio"]
    assert len(f) == 1
    f = f[0]
    assert f.kind == "crosses_120_land_30" and f.period_end == "2022"
    assert f.evidence["projection"]["paths"]["land_30"]["2022"] == pytest.approx(1.24 / 0.91, rel=1e-3)
    assert "land_30" not in f.summary  # words, not the scenario's code name
    assert "land-sale revenue" in f.summary and "30 %" in f.summary and "9.0 % of comprehensive resources" in f.summary
    assert "土地出让收入下降30 %" in f.summary_zh and "综合财力的9.0 %" in f.summary_zh
    sc = f.evidence["scenario_text"]
    assert {"baseline", "land_30", "land_50", "transfers_10", "interest"} <= set(sc)
    # no interest_paid in this panel: the 3.5 % is the default rate, and the description says so (in words:
    # the baseline's description is part of the finding's sentence)
    assert "3.5 % assumed: no interest paid reported" in sc["baseline"]["en"] and "默认利率" in sc["baseline"]["zh"]
    assert "200 bp" in sc["interest"]["en"] and "200个基点" in sc["interest"]["zh"]
    assert "15.0 % of comprehensive resources" in sc["land_50"]["en"]  # 50 % of land = 30 % of the base
    fm = f.evidence["fan_method"]
    assert fm["draws"] == 500 and fm["seed"] == [CFG.seed, zlib.crc32(b"990100")]
    assert "growth" in fm["resampled"] and "interest" in fm["resampled"]


def test_projection_from_an_earlier_year_says_the_debt_reported_since():
    """The ratio needs both debt and its base; when the base stops earlier than the debt (GDP of the latest
    years not yet published, as in the prefecture atlas) the projection starts at the last year with both.
    The finding must say so and set the debt already reported against the projected base, instead of
    presenting a crossing in a year whose debt is known as a pure forecast.

    By hand for 990100: GDP 1000·1.05^k for 2012-2019, debt 40 % of it rising 2 points a year (54 % in 2019,
    so the baseline crosses 60 % within the horizon), then debt 700 (2020) and 800 (2021) reported without GDP. Baseline GDP growth 5 %: projected GDP 2021 = 1000·1.05^9 = 1551.33, so the
    reported 2021 debt is 800 / 1551.33 = 51.6 % of it."""
    recs = {}
    for r in range(10):
        code = f"99{r + 1:02d}00"
        for k, y in enumerate(range(2012, 2022)):
            gdp = 1000 * 1.05 ** k
            v = dict(gdp=round(gdp, 4), debt_balance=round((0.40 + 0.02 * k) * gdp if r == 0 else 0.2 * gdp, 4))
            if r == 0 and y >= 2020:
                v = dict(debt_balance={2020: 700.0, 2021: 800.0}[y])
            recs[(code, y)] = v
    out = DebtStress().run(Panel.from_frame(long_frame(recs)), CFG)
    f = [x for x in out if x.region_code == "990100"]
    assert len(f) == 1 and f[0].indicator == "debt_to_gdp"
    f = f[0]
    proj = f.evidence["projection"]
    assert proj["start_year"] == 2019
    rep = proj["reported_debt_after_start"]
    assert rep["debt"] == {"2020": 700.0, "2021": 800.0}
    assert rep["ratio_on_projected_base"]["2021"] == pytest.approx(800 / (1000 * 1.05 ** 9), rel=1e-6)
    assert "debt is reported up to 2021" in f.summary and "51.6 %" in f.summary
    assert "2021年" in f.summary_zh and "51.6 %" in f.summary_zh


def test_the_report_charts_the_scenario_paths_not_their_descriptions():
    # the descriptions were stored under evidence["scenarios"], the key the report reads the paths from:
    # the stress chart drew text dicts as scenario lines (each reduced to its starting point)
    from detect.report import content

    f = next(x for x in DebtStress().run(_land_panel(), CFG) if x.region_code == "990100")
    ev, proj = f.evidence, f.evidence["projection"]
    scen = ev.get("scenarios") if isinstance(ev.get("scenarios"), dict) else proj.get("paths")
    picked = content._pick_scenarios(scen, proj, "en", ev["scenario_names"])
    assert picked and all(len(v) > 2 and all(isinstance(x, float) for x in v.values()) for v in picked.values())
    assert "land revenue -30 %" in picked or "land revenue -50 %" in picked


def test_overridden_shock_sizes_are_named_as_computed_and_still_raise_findings():
    from detect.debt.stress import plausible, scenario_names

    cfg = CFG.with_(thresholds={"debt_stress": {"land_shock": [0.2, 0.4], "interest_shock": 0.03,
                                                "transfer_shock": 0.15}})
    names = scenario_names(cfg)
    assert names["interest"] == ("interest +300 bp", "利率上升300个基点")
    assert names["land_20"] == ("land revenue -20 %", "土地出让收入下降20 %") and "land_30" not in names
    # the first land cut and the transfer cut are the plausible single shocks, whatever their sizes
    assert plausible(cfg) == ("baseline", "growth", "interest", "primary", "land_20", "transfers_15")
    out = DebtStress().run(_land_panel(), cfg)
    kinds = {x.kind for x in out if x.region_code == "990100"}
    assert any(k.endswith("land_20") for k in kinds)           # was never raised: only land_30 counted
    assert all("200 bp" not in x.summary for x in out)
