"""Crafted panels for the debt tests (every number chosen so the ratios can be checked by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detect.data.panel import Panel

COLS = ["region_code", "region_name", "parent_code", "indicator", "period", "value", "unit"]


def long_frame(records: dict[tuple[str, int], dict[str, float]], parent: str = "990000") -> pd.DataFrame:
    """``{(code, year): {indicator: value}}`` -> long frame (values in 亿元)."""
    rows = []
    for (code, year), vals in records.items():
        for ind, v in vals.items():
            rows.append((code, f"R{code}", parent, ind, str(year), v, ""))
    return pd.DataFrame(rows, columns=COLS)


def growth_panel(n: int = 24, years=range(2010, 2022), seed: int = 3, surge=None, hidden=None,
                 persistent=None) -> Panel:
    """Peers whose debt follows ``ΔD = 0.6 · deficit + noise``; optional anomalies:

    surge = (row, [years], extra) : debt up ``extra`` x debt in those years, revenue unchanged;
    hidden = (row, year, share) : debt up ``share`` x expenditure with no deficit behind it;
    persistent = (row, first_year, share) : the same every year from first_year on.
    """
    rng = np.random.default_rng(seed)
    recs = {}
    for r in range(n):
        code = f"99{r + 1:02d}00"
        fr, exp = 80.0 + 5 * r, 150.0 + 8 * r
        tr, fund, gdp = 0.6 * (exp - fr), 40.0 + r, 1000.0 + 40 * r
        debt = 0.9 * (fr + tr + fund)
        for y in years:
            g = 0.07 + rng.normal(0, 0.01)
            fr, exp, fund, gdp = fr * (1 + g + rng.normal(0, 0.01)), exp * (1 + g), fund * (1 + g), gdp * (1 + g)
            tr = 0.6 * (exp - fr)
            deficit = exp - fr - tr
            dd = 0.6 * deficit + rng.normal(0, 0.01 * exp)
            if surge and r == surge[0] and y in surge[1]:
                dd += surge[2] * debt
            if hidden and r == hidden[0] and y == hidden[1]:
                dd += hidden[2] * exp
            if persistent and r == persistent[0] and y >= persistent[1]:
                dd += persistent[2] * exp
            interest = 0.04 * debt
            debt += dd
            recs[(code, y)] = dict(gdp=round(gdp, 2), fiscal_revenue=round(fr, 2), fiscal_expenditure=round(exp, 2),
                                   transfer_revenue=round(tr, 2), fund_revenue=round(fund, 2),
                                   land_revenue=round(0.7 * fund, 2), debt_balance=round(debt, 2),
                                   debt_limit=round(debt * 1.08, 2), interest_paid=round(interest, 2))
    return Panel.from_frame(long_frame(recs))


@pytest.fixture
def crafted_panel() -> Panel:
    """Regions with hand-computable ratios in 2020 (综合财力 = 200 unless stated)."""
    base = dict(fiscal_revenue=100.0, transfer_revenue=60.0, fund_revenue=40.0, gdp=500.0,
                fiscal_expenditure=250.0)
    recs = {
        # A: 债务率 150/200 = 75 %; full (150+210)/200 = 180 % yellow; 负债率 30 %; 利息 30/250 = 12 %;
        #    偿债率 50/200 = 25 %; 逾期 15/150 = 10 %; 限额 150/140 = 107.1 %; 自给 40 %; 土地 30/200 = 15 %
        ("990100", 2020): {**base, "debt_balance": 150.0, "lgfv_debt": 210.0, "interest_paid": 30.0,
                           "debt_service": 50.0, "overdue_debt": 15.0, "debt_limit": 140.0, "land_revenue": 30.0},
        # B: state capital 10 -> 综合财力 = 100 + 50 + 40 + 10 = 200; 债务率 700/200 = 350 % red (statutory only)
        ("990200", 2020): {**base, "transfer_revenue": 50.0, "state_capital_revenue": 10.0, "debt_balance": 700.0},
        # C: exactly 120 % -> yellow;  D: exactly 200 % -> orange;  E: 299.99/... just below red
        ("990300", 2020): {**base, "debt_balance": 240.0},
        ("990400", 2020): {**base, "debt_balance": 400.0},
        ("990500", 2020): {**base, "debt_balance": 599.98},
        # F: fund revenue missing this year -> 债务率 not computable; expenditure 0 -> 自给率 not computable
        ("990600", 2020): {**{k: v for k, v in base.items() if k != "fund_revenue"}, "debt_balance": 100.0,
                           "fiscal_expenditure": 0.0},
        ("990600", 2019): {**base, "debt_balance": 90.0},
    }
    return Panel.from_frame(long_frame(recs))
