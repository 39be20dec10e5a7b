"""Debt dynamics: the projection and every scenario checked against level arithmetic done by hand."""

from __future__ import annotations

import numpy as np
import pytest

from detect.config import load_config
from detect.data.panel import Panel
from detect.debt._inputs import debt_frame
from detect.debt.dynamics import Assumptions, history, project
from detect.debt.stress import first_crossings, lines, scenario_paths
from detect.exceptions import UsageError

from .conftest import long_frame

CFG = load_config()


def test_project_two_steps_by_hand():
    # d1 = 1.04/1.05 * 1.0 + 0.02 + 0.01 ; in levels: B 100 -> 105, D1 = 1.04*100 - PB1 + SFA1 with
    # PB1 = -0.02*105 = -2.1, SFA1 = 0.01*105 = 1.05 -> D1 = 107.15, d1 = 107.15/105
    d = project(1.0, np.array([0.05, 0.05]), np.array([0.04, 0.04]), np.array([-0.02, 0.0]), np.array([0.01, 0.0]))
    assert d[0] == pytest.approx(107.15 / 105, rel=1e-12)
    # D2 = 1.04*107.15 - 0 + 0 = 111.436, B2 = 110.25
    assert d[1] == pytest.approx(111.436 / 110.25, rel=1e-12)


def _assumptions(base="resources") -> Assumptions:
    one = lambda v: np.array([v], dtype=float)  # noqa: E731
    return Assumptions(base=base, codes=np.array(["990100"], dtype=object), year0=np.array([2020]), d0=one(1.0),
                       g=one(0.05), i=one(0.04), flow=one(0.01), pb=one(-0.01), sfa=one(0.0), sd_g=one(0.02),
                       sd_pb=one(0.02), land_share=one(0.2), transfer_share=one(0.3), lgfv_share=one(0.5),
                       reason=np.array([""], dtype=object), n_hist=np.array([5]))


def _proj(paths, sc):
    return project(*paths[sc])[0]


def test_scenarios_against_level_arithmetic():
    """B0 = 100, D0 = 100, g 5 %, i 4 %, primary deficit 1 % of the base; each scenario recomputed in levels."""
    p = scenario_paths(_assumptions(), CFG)
    # baseline: D1 = 104 + 1.05 = 105.05 over B1 = 105; D2 = 1.04*105.05 + 1.1025 = 110.3545 over 110.25
    assert _proj(p, "baseline")[:2] == pytest.approx([105.05 / 105, 110.3545 / 110.25], rel=1e-12)
    # growth -1 s.d. (2 pp) for 2 years: B 103, 106.09, then +5 %: 111.3945
    # D1 = 104 + 1.03 = 105.03; D2 = 1.04*105.03 + 1.0609 = 110.2921; D3 = 1.04*110.2921 + 1.113945
    assert _proj(p, "growth")[:3] == pytest.approx([105.03 / 103, 110.2921 / 106.09,
                                                    (1.04 * 110.2921 + 1.113945) / 111.3945], rel=1e-12)
    # interest +200 bp on the rolled-over share (10 %/yr): i1 = 4.2 %, i2 = 4.4 %
    # D1 = 104.2 + 1.05 = 105.25; D2 = 1.044*105.25 + 1.1025 = 110.9835
    assert _proj(p, "interest")[:2] == pytest.approx([105.25 / 105, 110.9835 / 110.25], rel=1e-12)
    # primary balance -1/2 s.d. (1 pp): PB1 = -2.1 -> D1 = 106.1
    assert _proj(p, "primary")[0] == pytest.approx(106.1 / 105, rel=1e-12)
    # land -50 %: land = 20 % of the base; lost 10.5 in year 1 (borrowed), base 94.5
    # D1 = 104 + 1.05 + 10.5 = 115.55; year 2: base 99.225, D2 = 1.04*115.55 + 1.1025 + 11.025 = 132.2995
    assert _proj(p, "land_50")[:2] == pytest.approx([115.55 / 94.5, 132.2995 / 99.225], rel=1e-12)
    # land -30 %: lost 6.3, base 98.7 -> D1 = 104 + 1.05 + 6.3 = 111.35
    assert _proj(p, "land_30")[0] == pytest.approx(111.35 / 98.7, rel=1e-12)
    # transfers -10 %: transfers = 30 % of the base, lost 3.15, base 101.85 -> D1 = 108.2
    assert _proj(p, "transfers_10")[0] == pytest.approx(108.2 / 101.85, rel=1e-12)
    # 30 % of LGFV debt (50 of the base) recognised: D0 = 115 -> D1 = 119.6 + 1.05
    assert _proj(p, "lgfv_30")[0] == pytest.approx(120.65 / 105, rel=1e-12)
    # combined year 1: growth 3 %, i 4.2 %, pb -2 %, land -30 % and transfers -10 % (lost 0.06+0.03 of the
    # base = 9.27), LGFV 30 %: B1 = 103*(1-0.09) = 93.73; D1 = 1.042*115 + 2.06 + 9.27
    assert _proj(p, "combined")[0] == pytest.approx((1.042 * 115 + 2.06 + 9.27) / 93.73, rel=1e-12)


def test_gdp_base_revenue_shock_does_not_move_gdp():
    p = scenario_paths(_assumptions("gdp"), CFG)
    # GDP unchanged at 105; D1 = 104 + 1.05 + 0.5*0.2*105
    assert _proj(p, "land_50")[0] == pytest.approx((104 + 1.05 + 10.5) / 105, rel=1e-12)


def test_missing_shares_make_scenarios_nan_and_combined_omits_them():
    a = _assumptions()
    a.land_share[:] = np.nan
    a.lgfv_share[:] = np.nan
    p = scenario_paths(a, CFG)
    assert np.isnan(_proj(p, "land_30")).all() and np.isnan(_proj(p, "lgfv_10")).all()
    comb = _proj(p, "combined")[0]
    # growth 3 %, i 4.2 %, pb -2 %, transfers only (3 % of base): B1 = 103*0.97 = 99.91, D1 = 104.2 + 2.06 + 3.09
    assert comb == pytest.approx((104.2 + 2.06 + 3.09) / 99.91, rel=1e-12)


def test_first_crossings():
    path = np.array([[0.9, 1.05, 1.25, 2.1, 2.2]])
    cr = first_crossings(np.array([0.8]), path, np.array([2022]), lines("resources", CFG))
    assert {k: int(v[0]) for k, v in cr.items()} == {"100%": 2024, "120%": 2025, "200%": 2026, "300%": -1}
    cr = first_crossings(np.array([1.3]), path, np.array([2022]), lines("resources", CFG))
    assert int(cr["100%"][0]) == 2022 and int(cr["120%"][0]) == 2022  # already above: the last observed year
    assert lines("gdp", CFG) == {"60%": 0.6}


def test_history_terms_by_hand():
    recs = {}
    for y, fr, exp, interest, debt in ((2019, 100, 200, 4, 100), (2020, 110, 220, 5, 115), (2021, 121, 242, 6, 130)):
        recs[("990100", y)] = dict(fiscal_revenue=fr, transfer_revenue=fr / 2, fund_revenue=fr / 2,
                                   fiscal_expenditure=exp, interest_paid=interest, debt_balance=debt, gdp=10 * fr)
    h = history(debt_frame(Panel.from_frame(long_frame(recs))), "resources", CFG)
    j = 1  # 2020: resources 220 (g = 10 %), i = 5/100, d = 115/220
    assert h.g[0, j] == pytest.approx(0.1) and h.i[0, j] == pytest.approx(0.05)
    assert h.d[0, j] == pytest.approx(115 / 220)
    assert h.flow[0, j] == pytest.approx(115 / 220 - 1.05 / 1.1 * 0.5)
    # PB = 110 + 55 - (220 - 5) = -50; SFA from D20 = 1.05*100 - PB + SFA -> SFA = 115 - 105 - 50 = -40
    assert h.pb[0, j] == pytest.approx(-50 / 220)
    assert h.sfa[0, j] == pytest.approx(-40 / 220)
    with pytest.raises(UsageError):
        history(debt_frame(Panel.from_frame(long_frame(recs))), "revenue", CFG)
