"""Liaoning on real data (cn-localdebt-fiscal): what composition and proxy_divergence can and cannot show.

Facts used (published, independent of this code): Liaoning's general budget revenue was 3,192.78 亿元
in 2014 and 2,127.39 亿元 in 2015 (-33.4 %), tax revenue 2,330.57 -> 1,650.45 (-29.2 %), non-tax
862.21 -> 476.94 (-44.7 %) (provincial final accounts as transcribed in All_Province_2014_-_17.csv);
its GRP in the NBS early-2018 vintage is 28,626.58 (2014), 28,669.02 (2015) and 22,246.90 (2016): flat
in 2015, then the -22.4 % correction of 2016. The provincial government admitted in January 2017 that
2011-2014 fiscal figures had been inflated (by at least 20 %).

What the data allow: the provincial file covers 2014-2017 only (3 growth years), so the inflation
phase 2011-2014 is not in it, and proxy_divergence (region effects need >= 4 growth years) does not
apply; composition sees the 2015 collapse of revenue with the tax base (GDP) flat, and 2016-2017
revenue outgrowing a GDP that was itself cut. The city file (2003-2013) covers the inflation phase
but not the correction, has no tax/non-tax split, and its revenue and electricity series do not set
Liaoning's cities apart from the national 2010-2013 revenue boom (see docs/panel.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detect.data.aliases import province_code
from detect.data.panel import Panel
from detect.registry import get_detector

pytestmark = pytest.mark.shared_data


def _shared(shared_data, rel):
    p = shared_data / rel
    if not p.exists():
        pytest.skip(f"reference file {p} is absent")
    return p


@pytest.fixture(scope="module")
def provinces(shared_data) -> Panel:
    """31 provinces, 2013-2017: fiscal revenue, tax, non-tax, VAT (2014-2017) and GRP (NBS)."""
    a = pd.read_csv(_shared(shared_data, "cn-localdebt-fiscal/All_Province_2014_-_17.csv"))
    a.columns = [c.strip() for c in a.columns]
    a["region_code"] = a["province"].map(province_code)
    g = pd.read_csv(_shared(shared_data, "cn-localdebt-fiscal/GDP_by_province_1999-2017.csv"), skiprows=3,
                    encoding="latin-1")
    g["region_code"] = g["Region"].map(lambda s: province_code(str(s).replace(" ", "")))
    g = g.dropna(subset=["region_code"])
    gl = g.melt(id_vars=["Region", "region_code"], var_name="period", value_name="value").dropna()
    gl = gl[gl["period"].astype(str).str.fullmatch(r"\d{4}") & gl["period"].astype(str).between("2013", "2017")]
    gl["indicator"] = "gdp"
    rows = [gl[["region_code", "period", "indicator", "value"]]]
    for col, ind in (("revenue_all", "fiscal_revenue"), ("revenue_alltax", "tax_revenue"),
                     ("revenue_allnontax", "nontax_revenue"), ("revenue_vat", "vat_revenue")):
        x = a[["region_code", "year", col]].rename(columns={"year": "period", col: "value"})
        x["indicator"] = ind
        rows.append(x)
    long = pd.concat(rows, ignore_index=True).dropna()
    long["region_name"] = long["region_code"]
    long["unit"] = "亿元"
    long["period"] = long["period"].astype(str)
    return Panel.from_frame(long)


@pytest.fixture(scope="module")
def cities(shared_data) -> Panel:
    """~280 prefecture cities 2003-2013: fiscal revenue, GDP, VAT, electricity (10k yuan / 10k kWh)."""
    d = pd.read_csv(_shared(shared_data, "cn-localdebt-fiscal/cityincome2003_13.csv"))
    d["parent_code"] = d["province"].str.strip().map(province_code)
    d = d.dropna(subset=["parent_code"])
    rows = []
    for col, ind, unit in (("pub_income", "fiscal_revenue", "万元"), ("gdp", "gdp", "万元"),
                           ("vat", "vat_revenue", "万元"), ("electric_use", "electricity", "万千瓦时")):
        x = d[["code", "city", "parent_code", "year", col]].rename(
            columns={"code": "region_code", "city": "region_name", "year": "period", col: "value"})
        x["indicator"], x["unit"] = ind, unit
        rows.append(x)
    long = pd.concat(rows, ignore_index=True).dropna(subset=["value"])
    long["region_code"] = "c" + long["region_code"].astype(str)
    long["period"] = long["period"].astype(str)
    return Panel.from_frame(long)


def test_reference_figures(provinces):
    w = provinces.wide().loc["210000"]
    assert w.loc[2015, "fiscal_revenue"] / w.loc[2014, "fiscal_revenue"] - 1 == pytest.approx(-0.334, abs=0.001)
    assert w.loc[2015, "tax_revenue"] / w.loc[2014, "tax_revenue"] - 1 == pytest.approx(-0.292, abs=0.001)
    assert w.loc[2015, "gdp"] / w.loc[2014, "gdp"] - 1 == pytest.approx(0.0015, abs=0.001)
    assert w.loc[2016, "gdp"] / w.loc[2015, "gdp"] - 1 == pytest.approx(-0.224, abs=0.001)


def test_composition_puts_liaoning_2015_first(provinces, config):
    res = get_detector("composition").run(provinces, config)
    ranked = sorted(res, key=lambda f: f.p_value)
    top = ranked[0]
    # the 2015 collapse of revenue with the tax base (GDP) flat is the strongest composition signal of
    # all 31 provinces x 2014-2017
    assert (top.region_code, top.indicator, top.kind, top.period_start, top.period_end) == (
        "210000", "fiscal_revenue", "revenue_lags_base", "2015", "2015")
    assert top.p_value < 1e-3
    assert top.evidence["revenue_growth"]["2015"] == pytest.approx(-0.334, abs=0.001)
    assert top.evidence["base_growth"]["2015"] == pytest.approx(0.0015, abs=0.001)
    # 2016-2017: revenue grows while GDP is cut by 22 % -- the GDP correction seen from the revenue side
    later = [f for f in res if f.region_code == "210000" and f.kind == "revenue_outgrows_base"]
    assert len(later) == 1 and later[0].period_start == "2016" and later[0].p_value < 0.01
    assert later[0].evidence["base_growth"]["2016"] == pytest.approx(-0.224, abs=0.001)


def test_liaoning_nontax_share_fell_in_2015_but_was_not_extreme(provinces, config):
    fr, nt = provinces.series("fiscal_revenue"), provinces.series("nontax_revenue")
    share = nt / fr
    assert share.loc["210000", 2014] == pytest.approx(0.270, abs=0.001)
    assert share.loc["210000", 2015] == pytest.approx(0.224, abs=0.001)
    # the 2014 share (27 %) is close to the provincial median (26.5 %), inside the middle half: the
    # inflated revenue of 2011-2014 was not visible as an unusual non-tax share by 2014
    q1, q3 = share[2014].quantile([0.25, 0.75])
    assert q1 < share.loc["210000", 2014] < q3
    res = get_detector("composition").run(provinces, config)
    assert not any(f.region_code == "210000" and f.indicator == "nontax_share" for f in res)


def test_proxy_divergence_does_not_apply_to_four_provincial_years(provinces, config):
    res = get_detector("proxy_divergence").run(provinces, config)
    assert res.n_tests == 0
    assert any("fewer than 4 years" in n for n in res.notes)


def test_liaoning_cities_are_screened_by_proxy_divergence(cities, config):
    """The city file lets the detector run on Liaoning's 14 cities; it reports what it finds."""
    res = get_detector("proxy_divergence").run(cities, config)
    assert res.n_tests > 500
    regions = cities.regions
    liao = set(regions.loc[regions["parent_code"] == "210000", "region_code"])
    assert len(liao) == 14
    # GDP of Liaoning's cities grew 11 % and 9 % in 2012 and 2013 while their electricity use was flat
    # (+0.6 %, +0.2 %): the raw facts behind a GDP-without-electricity question
    gdp = cities.series("gdp").loc[sorted(liao)].sum()
    el = cities.series("electricity").loc[sorted(liao)].sum()
    assert gdp[2012] / gdp[2011] - 1 > 0.10 and gdp[2013] / gdp[2012] - 1 > 0.08
    assert abs(el[2012] / el[2011] - 1) < 0.01 and abs(el[2013] / el[2012] - 1) < 0.01
    for f in res:
        assert np.isfinite(f.p_value) and f.p_value <= 0.05
