"""Limit breaches and the debt-deficit identity residual."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detect.config import load_config
from detect.data.panel import Panel
from detect.debt._inputs import debt_frame
from detect.debt.identity import DebtIdentity, identity_residuals, limit_breaches

from .conftest import growth_panel, long_frame

CFG = load_config()


def test_hidden_borrowing_year_is_flagged():
    # region 990500 takes on debt worth 25 % of its expenditure in 2017 with no deficit behind it
    p = growth_panel(n=24, hidden=(4, 2017, 0.25))
    out = DebtIdentity().run(p, CFG)
    mine = [f for f in out if f.region_code == "990500" and f.kind.endswith("debt_above_deficit") and f.p_value < 0.01]
    assert len(mine) == 1 and mine[0].kind == "debt_above_deficit"  # one bad year is not a persistent gap
    f = mine[0]
    assert f.period_start <= "2017" <= f.period_end
    assert f.p_value < 1e-3 and f.statistic > 0
    # the hidden amount is recovered: debt change minus deficit in 2017, beyond the usual gap
    ev = f.evidence
    gap = ev["debt_change"]["2017"] - ev["deficit"]["2017"]
    exp2017 = p.data.query("region_code == '990500' and indicator == 'fiscal_expenditure' and year == 2017")["value"].iat[0]
    usual = np.nanmedian([ev["residual_share_of_expenditure"][y] for y in ev["residual_share_of_expenditure"]
                          if ev["residual_share_of_expenditure"][y] is not None])
    assert gap - usual * exp2017 == pytest.approx(0.25 * exp2017, rel=0.15)
    # no region without hidden borrowing gets a residual flag at p < 0.001
    others = [g for g in out if g.region_code != "990500" and math.isfinite(g.p_value) and g.p_value < 1e-3]
    assert others == []


def test_persistent_hidden_borrowing_is_flagged_at_region_level():
    p = growth_panel(n=24, persistent=(6, 2015, 0.08))
    out = DebtIdentity().run(p, CFG)
    mine = [f for f in out if f.region_code == "990700" and f.kind == "persistent_debt_above_deficit"]
    assert len(mine) == 1 and mine[0].p_value < 1e-3
    assert mine[0].period_start <= "2015" and mine[0].period_end == "2021"


def test_residual_identity_by_hand():
    p = growth_panel(n=10, years=range(2010, 2014))
    res = identity_residuals(debt_frame(p), CFG)
    d = p.data.query("region_code == '990100'").pivot(index="year", columns="indicator", values="value")
    y = 2012
    dD = d.loc[y, "debt_balance"] - d.loc[y - 1, "debt_balance"]
    deficit = d.loc[y, "fiscal_expenditure"] - d.loc[y, "fiscal_revenue"] - d.loc[y, "transfer_revenue"]
    j = 2  # 2012 is the third grid year
    assert res["dD"][0, j] == pytest.approx(dD)
    assert res["deficit"][0, j] == pytest.approx(deficit)
    assert res["r"][0, j] == pytest.approx((dD - deficit) / d.loc[y, "fiscal_expenditure"])


def test_limit_breach_rule():
    recs = {("990100", 2020): {"debt_balance": 105.0, "debt_limit": 100.0},
            ("990100", 2021): {"debt_balance": 110.0, "debt_limit": 100.0},
            ("990200", 2020): {"debt_balance": 100.04, "debt_limit": 100.0},   # 0.04 %: rounding, not a breach
            ("990300", 2020): {"debt_balance": 90.0, "debt_limit": 100.0,
                               "general_debt_balance": 50.0, "general_debt_limit": 40.0}}
    p = Panel.from_frame(long_frame(recs))
    br = limit_breaches(debt_frame(p), CFG)
    assert sorted(zip(br.region_code, br.year, br.balance_indicator)) == [
        ("990100", 2020, "debt_balance"), ("990100", 2021, "debt_balance"), ("990300", 2020, "general_debt_balance")]
    out = DebtIdentity().run(p, CFG)
    f = {(x.region_code, x.kind): x for x in out}
    a = f[("990100", "limit_breach")]
    assert (a.period_start, a.period_end, a.severity_hint) == ("2020", "2021", "high")
    assert a.statistic == pytest.approx(1.10) and "10.0 %" in a.summary
    assert f[("990300", "sublimit_breach")].severity_hint == "medium"
    assert ("990200", "limit_breach") not in f
    assert any("residual not computable" in n for n in out.notes)


def test_breach_and_persistent_residual_over_the_same_years_have_distinct_ids():
    # debt hidden from 2011 on and above the limit from 2011 on: both findings cover 2011-2021
    p = growth_panel(n=24, persistent=(6, 2011, 0.08))
    d = p.data.copy()
    m = (d.region_code == "990700") & (d.indicator == "debt_limit") & (d.year >= 2011)
    d.loc[m, "value"] = 1.0
    out = DebtIdentity().run(Panel(d), CFG)
    ids = [f.finding_id for f in out]
    assert len(ids) == len(set(ids))
    mine = {f.kind: f for f in out if f.region_code == "990700"}
    a, b = mine["limit_breach"], mine["persistent_debt_above_deficit"]
    assert (a.period_start, a.period_end) == (b.period_start, b.period_end) == ("2011", "2021")
    assert (a.indicator, b.indicator) == ("limit_utilisation", "debt_balance")
