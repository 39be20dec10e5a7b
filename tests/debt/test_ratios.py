"""Debt ratios and grades on crafted regions, checked against hand computation."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from detect.config import load_config
from detect.data.panel import Panel
from detect.debt.ratios import RATIOS, DebtRatiosDetector, compute_ratios, grade

from .conftest import growth_panel, long_frame

CFG = load_config()


def _val(res, code, ratio, year=2020):
    t = res.table
    row = t[(t.region_code == code) & (t.ratio == ratio) & (t.year == year)]
    assert len(row) == 1
    return row.iloc[0]


def test_hand_computed_ratios(crafted_panel):
    res = compute_ratios(crafted_panel, CFG)
    expect = {  # region A, by hand (see conftest)
        "debt_ratio": 150 / 200, "full_caliber_ratio": 360 / 200, "debt_to_gdp": 150 / 500,
        "debt_to_revenue": 150 / 100, "interest_ratio": 30 / 250, "debt_service_ratio": 50 / 200,
        "overdue_ratio": 15 / 150, "limit_utilisation": 150 / 140, "self_sufficiency": 100 / 250,
        "land_dependence": 30 / 200,
    }
    for ratio, v in expect.items():
        row = _val(res, "990100", ratio)
        assert row["computable"], ratio
        assert row["value"] == pytest.approx(v, rel=1e-12), ratio
    # lines: interest 12 % > 10 %, debt service 25 % > 20 %, overdue 10 % >= 10 %, limit 107 % > 100 %
    for ratio, over in {"interest_ratio": True, "debt_service_ratio": True, "overdue_ratio": True,
                        "limit_utilisation": True, "debt_to_gdp": False, "debt_ratio": False,
                        "self_sufficiency": False, "land_dependence": False}.items():
        assert bool(_val(res, "990100", ratio)["over_line"]) is over, ratio
    assert _val(res, "990100", "full_caliber_ratio")["grade"] == "yellow"


def test_state_capital_included_where_given(crafted_panel):
    res = compute_ratios(crafted_panel, CFG)
    row = _val(res, "990200", "debt_ratio")
    assert row["denominator"] == pytest.approx(200.0)
    assert row["value"] == pytest.approx(3.5)
    assert row["grade"] == "red"


@pytest.mark.parametrize("code,expected", [("990300", "yellow"), ("990400", "orange"), ("990500", "orange")])
def test_grade_boundaries(crafted_panel, code, expected):
    res = compute_ratios(crafted_panel, CFG)
    assert _val(res, code, "debt_ratio")["grade"] == expected


def test_grade_function_cutoffs():
    v = np.array([0.0, 1.1999, 1.2, 1.9999, 2.0, 2.9999, 3.0, 10.0, np.nan])
    assert list(grade(v, CFG)) == ["green", "green", "yellow", "yellow", "orange", "orange", "red", "red", ""]


def test_grade_cutoffs_follow_config():
    cfg = CFG.with_(thresholds={"debt_grades": {"green_below": 1.0}})
    assert grade(np.array([1.05]), cfg)[0] == "yellow"


def test_not_computable_reason_never_zero(crafted_panel):
    res = compute_ratios(crafted_panel, CFG)
    row = _val(res, "990600", "debt_ratio")
    assert not row["computable"] and math.isnan(row["value"])
    assert row["reason"] == "fund_revenue missing for this year"
    assert row["needs"] == "fund_revenue"
    row = _val(res, "990600", "self_sufficiency")
    assert not row["computable"] and math.isnan(row["value"])
    assert "zero or negative" in row["reason"]
    # the year before is computable: 90 / 200
    assert _val(res, "990600", "debt_ratio", 2019)["value"] == pytest.approx(0.45)
    # full caliber needs lgfv_debt: region C has none
    row = _val(res, "990300", "full_caliber_ratio")
    assert not row["computable"] and "lgfv_debt missing for this year" in row["reason"]


def test_indicator_absent_from_panel():
    recs = {("990100", 2020): {"debt_balance": 100.0, "fiscal_revenue": 50.0, "gdp": 400.0}}
    res = compute_ratios(Panel.from_frame(long_frame(recs)), CFG)
    row = _val(res, "990100", "debt_ratio")
    assert row["reason"] == "transfer_revenue not in the panel; fund_revenue not in the panel"
    assert row["needs"] == "transfer_revenue,fund_revenue"
    assert _val(res, "990100", "debt_to_gdp")["value"] == pytest.approx(0.25)
    nc = res.not_computable()
    assert {"ratio", "reason", "needs", "n"} <= set(nc.columns)
    assert (nc["n"] > 0).all()


def test_result_object_prints(crafted_panel):
    res = compute_ratios(crafted_panel, CFG)
    text = repr(res)
    assert "DebtRatios: 6 regions" in text and "债务率" in text and "not computable" not in text.splitlines()[0]
    assert "<table" in res._repr_html_()
    g = res.grades()
    assert g.set_index("region_code").loc["990100", "basis"] == "full_caliber_ratio"
    assert g.set_index("region_code").loc["990200", "basis"] == "debt_ratio"
    w = res.wide()
    assert list(w.columns) == list(RATIOS)


def test_empty_panel():
    res = compute_ratios(Panel.empty(), CFG)
    assert len(res.table) == 0 and "0 regions" in repr(res)


def test_detector_severities_and_summaries(crafted_panel):
    out = DebtRatiosDetector().run(crafted_panel, CFG)
    by = {(f.region_code, f.indicator, f.kind): f for f in out}
    a = by[("990100", "full_caliber_ratio", "grade_yellow")]
    assert a.severity_hint == "low" and math.isnan(a.p_value)
    assert "180 %" in a.summary_zh and "黄色" in a.summary_zh and "综合财力200亿元" in a.summary_zh and "2020–2020" not in a.summary_zh
    b = by[("990200", "debt_ratio", "grade_red")]
    assert b.severity_hint == "high" and "下限" in b.summary_zh  # statutory only: a lower bound
    assert by[("990100", "interest_ratio", "interest_ratio_line")].severity_hint == "high"
    assert by[("990400", "debt_ratio", "grade_orange")].severity_hint == "medium"
    assert ("990100", "debt_ratio", "grade_yellow") not in by  # graded on full caliber where given


def test_runs_of_years_are_one_finding():
    p = growth_panel(n=10, years=range(2010, 2016))
    d = p.data.copy()
    # push region 990100's debt to 250 % of 综合财力 in 2012-2014 -> one orange finding 2012-2014
    m = (d.region_code == "990100") & (d.indicator == "debt_balance") & d.year.between(2012, 2014)
    res_m = d[(d.region_code == "990100") & d.indicator.isin(["fiscal_revenue", "transfer_revenue", "fund_revenue"])
              & d.year.between(2012, 2014)].groupby("year")["value"].sum()
    d.loc[m, "value"] = d.loc[m, "year"].map(res_m * 2.5).to_numpy()
    out = DebtRatiosDetector().run(Panel(d), CFG)
    mine = [f for f in out if f.region_code == "990100" and f.kind.startswith("grade_")]
    assert len(mine) == 1
    assert (mine[0].period_start, mine[0].period_end, mine[0].kind) == ("2012", "2014", "grade_orange")
    assert mine[0].evidence["series"]["2013"] == pytest.approx(2.5, rel=1e-3)


def test_noise_alone_rarely_grades_green_regions_above_green():
    """Regions whose true full-caliber ratio is 50-115 % (all green), each input reported with 3 %
    multiplicative noise: at most 5 % of them may be graded above green in their latest year."""
    rng = np.random.default_rng(11)
    recs = {}
    n = 400
    for r in range(n):
        true_ratio = rng.uniform(0.5, 1.15)
        fr, tr, fund = 100.0, 60.0, 40.0
        debt = true_ratio * 200 * 0.6
        lgfv = true_ratio * 200 * 0.4
        noise = lambda v: round(v * float(np.exp(rng.normal(0, 0.03))), 2)  # noqa: E731
        recs[(f"9{r:04d}0", 2020)] = dict(fiscal_revenue=noise(fr), transfer_revenue=noise(tr), fund_revenue=noise(fund),
                                          debt_balance=noise(debt), lgfv_debt=noise(lgfv))
    res = compute_ratios(Panel.from_frame(long_frame(recs)), CFG)
    share = float((res.grades()["grade"] != "green").mean())
    assert share <= 0.05


def _pre_2014_panel() -> Panel:
    """Fiscal figures from 2011, statutory debt from 2014 (the first year-end stock, 国发〔2014〕43号)."""
    recs = {}
    for y in range(2011, 2017):
        v = dict(fiscal_revenue=100.0, transfer_revenue=60.0, fund_revenue=40.0, gdp=500.0, fiscal_expenditure=250.0)
        if y >= 2014:
            v.update(debt_balance=150.0 + y - 2014)
        if y >= 2015:
            v.update(debt_limit=160.0)
        recs[("990100", y)] = v
    return Panel.from_frame(long_frame(recs))


def test_years_before_2014_do_not_apply():
    """Local-government debt is recorded from the end-2014 stock on (国发〔2014〕43号; 财预〔2015〕225号
    set the first limits): a debt ratio of 2011-2013 does not apply, it is not a missing figure to supply."""
    res = compute_ratios(_pre_2014_panel(), CFG)
    for year in (2011, 2013):
        for ratio in ("debt_ratio", "debt_to_gdp", "limit_utilisation", "interest_ratio"):
            row = _val(res, "990100", ratio, year)
            assert not row["computable"] and math.isnan(row["value"]), (ratio, year)
            assert row["reason"].startswith("does not apply"), (ratio, year, row["reason"])
            assert "2014" in row["reason"] and row["needs"] == "", (ratio, year)
        # ratios that need no debt figure are computed as usual: 100 / 250
        assert _val(res, "990100", "self_sufficiency", year)["value"] == pytest.approx(0.4)
    assert _val(res, "990100", "debt_ratio", 2014)["value"] == pytest.approx(150 / 200)
    assert _val(res, "990100", "interest_ratio", 2014)["reason"] == "interest_paid not in the panel"
    # debt limits were first set for 2015 (财预〔2015〕225号): the 2014 utilisation does not apply either
    row = _val(res, "990100", "limit_utilisation", 2014)
    assert row["reason"].startswith("does not apply") and "2015" in row["reason"] and row["needs"] == ""
    assert _val(res, "990100", "limit_utilisation", 2015)["value"] == pytest.approx(151 / 160)
    # the detector's note does not ask for debt figures of years before they exist
    out = DebtRatiosDetector().run(_pre_2014_panel(), CFG)
    note = [n for n in out.notes if n.startswith("debt_ratios: debt_ratio ")]
    assert not note or "debt_balance missing" not in note[0]
    assert any("before 2014" in n and "does not apply" in n for n in out.notes)


def test_negative_debt_is_not_graded():
    """A debt balance cannot be negative: the ratio is not computable (never a negative 'green' ratio)."""
    base = dict(fiscal_revenue=100.0, transfer_revenue=60.0, fund_revenue=40.0, gdp=500.0, fiscal_expenditure=250.0)
    recs = {("990100", 2020): {**base, "debt_balance": 50.0, "interest_paid": 1.0},
            ("990200", 2020): {**base, "debt_balance": 0.0}}
    d = Panel.from_frame(long_frame(recs)).data.copy()
    # the file loader excludes impossible negatives; a Panel built from a frame in a notebook does not
    neg = (d.region_code == "990100") & d.indicator.isin(["debt_balance", "interest_paid"])
    d.loc[neg, "value"] = -d.loc[neg, "value"]
    panel = Panel(d)
    res = compute_ratios(panel, CFG)
    for ratio in ("debt_ratio", "debt_to_gdp", "debt_to_revenue", "interest_ratio"):
        row = _val(res, "990100", ratio)
        assert not row["computable"] and math.isnan(row["value"]) and row["grade"] == "", ratio
        assert "negative" in row["reason"], ratio
    # a region without debt has a ratio of zero: computable, green
    row = _val(res, "990200", "debt_ratio")
    assert row["computable"] and row["value"] == 0.0 and row["grade"] == "green"
    out = DebtRatiosDetector().run(panel, CFG)
    assert all(math.isfinite(f.statistic) for f in out)
    assert not [f for f in out if f.region_code == "990100"]


def test_zero_denominator_says_does_not_apply(crafted_panel):
    res = compute_ratios(crafted_panel, CFG)
    row = _val(res, "990600", "self_sufficiency")
    assert row["reason"].startswith("does not apply") and "zero or negative" in row["reason"]
    assert row["needs"] == ""


def test_resources_parts_are_reported(crafted_panel):
    """综合财力 = 一般公共预算收入 + 上级补助 + 政府性基金收入 (+ 国有资本经营收入 where given): the table and the
    findings say which parts went in, and that state-capital revenue was missing where it was."""
    res = compute_ratios(crafted_panel, CFG)
    assert _val(res, "990200", "debt_ratio")["resources_parts"] == \
        "fiscal_revenue + transfer_revenue + fund_revenue + state_capital_revenue"
    assert _val(res, "990400", "debt_ratio")["resources_parts"] == \
        "fiscal_revenue + transfer_revenue + fund_revenue (state_capital_revenue not given)"
    assert _val(res, "990400", "debt_to_gdp")["resources_parts"] == ""
    out = DebtRatiosDetector().run(crafted_panel, CFG)
    by = {(f.region_code, f.kind): f for f in out}
    red = by[("990200", "grade_red")]  # 700 / (100 + 50 + 40 + 10)
    parts = red.evidence["resources_parts"]
    assert {k: parts[k]["2020"] for k in parts} == {"fiscal_revenue": 100.0, "transfer_revenue": 50.0,
                                                     "fund_revenue": 40.0, "state_capital_revenue": 10.0}
    assert red.evidence["resources_missing"] == {}
    orange = by[("990400", "grade_orange")]  # 400 / (100 + 60 + 40), no state-capital revenue
    assert orange.evidence["resources_missing"] == {"2020": ["state_capital_revenue"]}
    assert "without state-capital revenue" in orange.summary and "不含国有资本经营收入" in orange.summary_zh
    assert "without state-capital revenue" not in red.summary


def test_transfer_income_total_is_not_taken_as_transfers_received():
    """综合财力 counts 上级补助收入 (transfers received). A final-accounts column 转移性收入 is the whole
    transfer-income block — 上级补助收入 plus 上年结余收入, 调入资金 and 债务转贷收入 (bond proceeds passed
    down by the province) — so reading it as transfers would count borrowing and carry-overs as resources
    and understate 债务率. It must stay an unknown indicator."""
    from detect.data.aliases import canonical_indicator

    assert canonical_indicator("转移性收入") != ("transfer_revenue", True)
    for name in ("上级补助收入", "transfer_revenue", "revenue_central_transfer"):
        assert canonical_indicator(name) == ("transfer_revenue", True), name


def test_ratio_of_mixed_units_is_not_graded():
    """1 亿元 = 10,000 万元. A debt balance written in 万元 without a unit, next to revenue in 亿元, gives a
    ratio 10,000 times too large (here 1,500,000 / 200 = 7,500 = 750,000 %): not computable with the reason
    (units), never a red grade. Real ratios stay far below 500: the most indebted counties' full-caliber
    债务率 is of the order of 1,000-2,000 % (10-20), the atlas's largest debt / revenue 87.6."""
    base = dict(fiscal_revenue=100.0, transfer_revenue=60.0, fund_revenue=40.0, gdp=500.0)
    recs = {("990100", 2020): {**base, "debt_balance": 1_500_000.0},   # 150 亿元 written in 万元
            ("990200", 2020): {**base, "debt_balance": 20_000.0}}      # 10,000 %: beyond any published ratio, yet possible
    panel = Panel.from_frame(long_frame(recs))
    res = compute_ratios(panel, CFG)
    for ratio in ("debt_ratio", "debt_to_gdp", "debt_to_revenue"):
        row = _val(res, "990100", ratio)
        assert not row["computable"] and math.isnan(row["value"]) and row["grade"] == "", ratio
        assert "万元" in row["reason"] and "亿元" in row["reason"], ratio
    assert _val(res, "990200", "debt_ratio")["value"] == pytest.approx(100.0)
    out = DebtRatiosDetector().run(panel, CFG)
    assert not [f for f in out if f.region_code == "990100"]
    assert [f.kind for f in out if f.region_code == "990200" and f.indicator == "debt_ratio"] == ["grade_red"]
    assert any("万元" in n for n in out.notes)


def test_statutory_lines_are_crossed_only_when_exceeded():
    """国办函〔2016〕88号: a 市县 whose 一般债务付息支出 *exceeds* (超过) 10 % of 一般公共预算支出 starts a
    restructuring plan; Maastricht Protocol No 12: debt is not to *exceed* 60 % of GDP. Exactly on the line
    is not over it (25 / 250 = 10 %, 300 / 500 = 60 %); a hair above is."""
    base = dict(fiscal_revenue=100.0, transfer_revenue=60.0, fund_revenue=40.0, fiscal_expenditure=250.0, gdp=500.0)
    recs = {("990100", 2020): {**base, "interest_paid": 25.0, "debt_balance": 300.0},
            ("990200", 2020): {**base, "interest_paid": 25.01, "debt_balance": 300.01}}
    panel = Panel.from_frame(long_frame(recs))
    res = compute_ratios(panel, CFG)
    assert _val(res, "990100", "interest_ratio")["value"] == 0.1
    assert not _val(res, "990100", "interest_ratio")["over_line"]
    assert not _val(res, "990100", "debt_to_gdp")["over_line"]
    assert _val(res, "990200", "interest_ratio")["over_line"] and _val(res, "990200", "debt_to_gdp")["over_line"]
    kinds = {(f.region_code, f.kind) for f in DebtRatiosDetector().run(panel, CFG)}
    assert ("990100", "interest_ratio_line") not in kinds and ("990100", "debt_to_gdp_line") not in kinds
    assert ("990200", "interest_ratio_line") in kinds and ("990200", "debt_to_gdp_line") in kinds


def test_interest_line_is_statutory_for_cities_and_counties_only():
    """国办函〔2016〕88号 §7.1 makes 付息支出 > 10 % of 一般公共预算支出 trigger 财政重整 for 市县 governments; a
    province-level region (GB/T 2260 code ending 0000) over the same line is not under that rule: medium, and
    the sentence says the line is the 市县 rule."""
    base = dict(fiscal_revenue=100.0, transfer_revenue=60.0, fund_revenue=40.0, fiscal_expenditure=250.0,
                debt_balance=150.0, interest_paid=30.0)  # 30 / 250 = 12 %
    recs = {("990000", 2020): dict(base), ("990100", 2020): dict(base)}
    out = DebtRatiosDetector().run(Panel.from_frame(long_frame(recs, parent="")), CFG)
    by = {f.region_code: f for f in out if f.kind == "interest_ratio_line"}
    assert by["990100"].severity_hint == "high"
    assert by["990000"].severity_hint == "medium"
    assert "市县" in by["990000"].summary_zh and "cities and counties" in by["990000"].summary


def test_sentences_name_the_formula_in_the_readers_language():
    from detect.debt.ratios import formula_text

    assert formula_text("debt_service / 综合财力", "zh") == "债务还本付息 / 综合财力"
    assert formula_text("debt_balance / gdp") == "government debt balance / GDP"
    assert formula_text("land_revenue / 综合财力") == "land-sale revenue / comprehensive financial resources"
    base = dict(fiscal_revenue=100.0, transfer_revenue=60.0, fund_revenue=40.0, fiscal_expenditure=250.0,
                debt_balance=150.0, interest_paid=30.0)
    out = DebtRatiosDetector().run(Panel.from_frame(long_frame({("990100", 2020): base}, parent="")), CFG)
    f = next(f for f in out if f.kind == "interest_ratio_line")
    # no indicator code in either sentence (a Chinese reader saw 'interest_paid / fiscal_expenditure')
    assert "债务付息支出 / 一般公共预算支出" in f.summary_zh and "interest paid / fiscal expenditure" in f.summary
    assert not re.search(r"[a-z]+_[a-z]+", f.summary_zh + f.summary)
