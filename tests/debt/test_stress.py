"""Stress tables, fan charts (seeded, reproducible) and the debt_stress detector."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detect.config import load_config
from detect.debt.stress import DebtStress, stress_table

from .conftest import growth_panel

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
