"""Reckless-borrowing surges: crafted panels and the planted surges of the sample panel."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detect.config import load_config
from detect.data import load
from detect.debt._inputs import debt_frame
from detect.debt.surge import DebtSurge, excess_growth

from .conftest import growth_panel

CFG = load_config()
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def test_surge_run_merged_into_one_finding():
    p = growth_panel(n=24, surge=(3, [2016, 2017], 0.35))
    out = DebtSurge().run(p, CFG)
    mine = [f for f in out if f.region_code == "990400" and f.period_end >= "2016"]   # the planted years
    assert len(mine) == 1
    f = mine[0]
    assert (f.period_start, f.period_end) == ("2016", "2017")
    assert f.p_value < 1e-4 and f.statistic > 0
    assert out.n_tests == 24 * 11  # every region-year with growth
    assert set(f.evidence["z"]) == {"2016", "2017"}


def test_excess_growth_by_hand():
    p = growth_panel(n=10, years=range(2010, 2013))
    eg = excess_growth(debt_frame(p))
    d = p.data.query("region_code == '990100'").pivot(index="year", columns="indicator", values="value")
    gd = np.log(d.loc[2012, "debt_balance"] / d.loc[2011, "debt_balance"])
    assert eg["x_rev"][0, 2] == pytest.approx(gd - np.log(d.loc[2012, "fiscal_revenue"] / d.loc[2011, "fiscal_revenue"]))
    assert eg["x_gdp"][0, 2] == pytest.approx(gd - np.log(d.loc[2012, "gdp"] / d.loc[2011, "gdp"]))


@pytest.mark.parametrize("seed", [5, 6, 7, 8])
def test_clean_panel_few_flags(seed):
    out = DebtSurge().run(growth_panel(n=30, seed=seed), CFG)
    # under the null about 5 % of tests come back at p <= 0.05; none should be extreme
    assert len(out) <= 0.1 * out.n_tests
    assert all(f.p_value > 1e-4 for f in out)


def test_persistent_honest_growth_is_not_a_surge():
    """Years of a region are correlated; the run's p-value must not treat them as independent.

    Five consecutive years at p 0.005-0.01 each (z ~ 2.3-2.6), as an honest region whose debt
    grows a little faster than its peers' every year gives: the plain Stouffer sum makes that
    p ~ 3e-8; with lag correlations like the sample panel's (0.48 at lag 1) it is ~5e-4.
    """
    from detect.debt.surge import correlated_stouffer

    p = np.array([0.01, 0.006, 0.008, 0.005, 0.01])
    rho = np.array([0.0, 0.48, 0.45, 0.39, 0.3])
    z_ind = correlated_stouffer(p, np.zeros(5))
    z_cor = correlated_stouffer(p, rho)
    # Strube (1985): var(sum) = k + 2 * sum_{l} (k - l) rho_l = 5 + 2 * (4*.48 + 3*.45 + 2*.39 + .3) = 13.7
    assert z_cor == pytest.approx(z_ind * math.sqrt(5 / 13.7), rel=1e-9)
    from scipy import stats
    assert stats.norm.sf(z_ind) < 1e-7 and stats.norm.sf(z_cor) > 1e-4   # 2.8e-8 against 5.1e-4


def _bh(p: np.ndarray, m: int) -> np.ndarray:
    order = np.argsort(p)
    q = p[order] * m / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1)
    return out


@pytest.mark.skipif(not (SAMPLE / "panel.csv").exists(), reason="data/sample/panel.csv not generated")
def test_sample_recall_of_planted_surges():
    """Every planted debt_surge is found by debt_surge alone with a BH q <= 0.05 (within the detector)."""
    panel = load(SAMPLE / "panel.csv").panel
    truth = pd.read_csv(SAMPLE / "truth.csv", dtype=str)
    truth = truth[truth["kind"] == "debt_surge"]
    out = DebtSurge().run(panel, CFG)
    q = _bh(np.array([f.p_value for f in out]), out.n_tests)
    found = 0
    for t in truth.itertuples():
        hit = [f for f, qq in zip(out, q) if f.region_code == t.region_code and qq <= 0.05
               and int(f.period_start) <= int(t.period_end) and int(f.period_end) >= int(t.period_start)]
        found += bool(hit)
    assert len(truth) >= 4
    assert found / len(truth) >= 0.9


def test_english_summary_has_no_chinese_units():
    p = growth_panel(n=24, surge=(3, [2016, 2017], 0.35))
    f = next(f for f in DebtSurge().run(p, CFG) if f.region_code == "990400" and f.period_start == "2016")
    assert "亿元" not in f.summary and " bn)" in f.summary and "CNY " in f.summary
    assert "亿元" in f.summary_zh
