"""Liaoning's corrections in real data: GDP 2016 (first-published provincial GDP) and fiscal revenue 2015.

Data (not in the repo; skipped with the reason when absent, see tests/conftest.py ``shared_data``):

* ``cn-province-csmar-ntl/province__ADM1.csv``: provincial GDP *as first published* (CSMAR), 31
  provinces, 1992-2022. Liaoning's first-published GDP fell from 28 669 (2015) to 22 247 亿元 (2016),
  -22.4 %, when the inflated figures were corrected.
* ``cn-localdebt-fiscal/All_Province_2014_-_17.csv``: general public budget revenue of the 31
  provinces 2014-2017. Liaoning's fell from 3 192.78 (2014) to 2 127.39 亿元 (2015), -33.4 %.
  No file in the shared data carries provincial fiscal revenue for 2011-2015: ``cityincome2003_13``
  (prefecture ``pub_income``) ends in 2013, ``All_Province`` starts in 2014, the city ``ADM2`` panel's
  undocumented ``fict03`` column does not behave like revenue (every Liaoning city falls 80-99 % in
  2015), the prefecture debt atlas starts in 2018 and the WIND ``.xls`` sheets are bond lists. So the
  revenue correction is tested as a one-year drop against all provinces (growth_peers); a
  level-shift test needs 8 years and says so in a note.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from detect.config import load_config
from detect.data.panel import Panel
from detect.registry import get_detector
from detect.series.level_shift import screen

pytestmark = pytest.mark.shared_data

CFG = load_config()
LIAONING = "210000"


def province_gdp_panel(path) -> Panel:
    """Adapter: province__ADM1.csv (wide, CSMAR codes) -> long panel of first-published GDP."""
    d = pd.read_csv(path, encoding="utf-8-sig")
    long = pd.DataFrame({"region_code": d["regionid"].astype(str), "region_name": d["regionName"],
                         "indicator": "gdp", "period": d["year"].astype(str), "value": d["Gdp0101"], "unit": "亿元"})
    return Panel.from_frame(long, source=str(path))


def province_revenue_panel(path) -> Panel:
    """Adapter: All_Province_2014_-_17.csv -> long panel of revenue, tax, non-tax revenue and VAT (亿元)."""
    a = pd.read_csv(path)
    w = a[["province", "year", "revenue_all", "revenue_alltax", "revenue_allnontax", "revenue_vat"]]
    long = w.melt(id_vars=["province", "year"], var_name="indicator", value_name="value")
    long = long.rename(columns={"province": "region_name", "year": "period"}).assign(unit="亿元")
    return Panel.from_frame(long, source=str(path))


def shared_file(shared_data, rel):
    """A file under the shared data folder; skips with the reason when it is absent."""
    p = shared_data / rel
    if not p.exists():
        pytest.skip(f"reference file {p} is absent")
    return p


def _run(name, panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_detector(name).run(panel, CFG)


@pytest.fixture(scope="module")
def gdp_panel(shared_data):
    return province_gdp_panel(shared_file(shared_data, "cn-province-csmar-ntl/province__ADM1.csv"))


@pytest.fixture(scope="module")
def revenue_panel(shared_data):
    return province_revenue_panel(shared_file(shared_data, "cn-localdebt-fiscal/All_Province_2014_-_17.csv"))


def test_liaoning_gdp_2016_is_the_top_growth_peers_finding(gdp_panel):
    res = _run("growth_peers", gdp_panel)
    top = min(res.items, key=lambda f: f.p_value)
    assert (top.region_code, top.period_start, top.kind) == (LIAONING, "2016", "growth_drop")
    assert top.evidence["growth"] == pytest.approx(22246.9 / 28669.016 - 1, abs=1e-6)


def test_liaoning_gdp_2016_level_shift_ranks_in_the_top_five(gdp_panel):
    tab, _ = screen(gdp_panel, CFG)
    tab = tab.sort_values("p_value").reset_index(drop=True)
    row = tab[tab["region_code"] == LIAONING].iloc[0]
    assert int(row["break_year"]) == 2016 and row["type"] == "LS"
    assert -0.35 < np.expm1(row["delta"]) < -0.2
    # first-published provincial GDP is heavy-tailed (census revisions, Chongqing split from Sichuan in
    # 1997), so the null has t(3) errors and p is about 0.05; by rank Liaoning is among the top 5 of 31
    assert int(tab.index[tab["region_code"] == LIAONING][0]) < 5
    assert row["p_value"] < 0.1


def test_liaoning_revenue_2015_drop_is_a_top_growth_peers_finding(revenue_panel):
    res = _run("growth_peers", revenue_panel)
    # the most extreme fiscal-revenue move of any province in 2015-2017 ...
    fiscal = [f for f in res if f.indicator == "fiscal_revenue"]
    top = min(fiscal, key=lambda f: f.p_value)
    assert (top.region_code, top.indicator, top.period_start) == (LIAONING, "fiscal_revenue", "2015")
    assert top.evidence["growth"] == pytest.approx(2127.39 / 3192.78 - 1, abs=1e-6)
    assert top.statistic == min(f.statistic for f in res)        # the largest |z| of the whole file
    # ... and among the top five findings of all indicators (VAT moved everywhere in the 2016 reform)
    ranked = sorted(res.items, key=lambda f: f.p_value)
    assert top in ranked[:5]
    # tax and non-tax revenue of Liaoning fell in 2015 too, both among the findings
    inds = {f.indicator for f in res if f.region_code == LIAONING and f.period_start == "2015"}
    assert {"tax_revenue", "nontax_revenue"} <= inds


def test_four_years_of_revenue_are_too_short_for_a_level_shift(revenue_panel):
    res = _run("level_shift", revenue_panel)
    assert res.n_tests == 0
    assert any("fiscal_revenue" in n and "too short" in n for n in res.notes)
