"""What the report says about findings and which charts it draws (detect/report/content.py).

Defects found reading the sample and the prefecture debt atlas reports as a reviewer would: a
balance-against-limit chart titled as the utilisation ratio, crossing years of another ratio's
projection in a caption, captions naming a fan and scenarios that are not drawn, the generic
"statistical bureau" instruction winning over a finding's own, children's sum not drawn for a
parent-vs-children gap, raw indicator codes in Chinese, charts without units.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from detect.explain import what_to_check as explain_check
from detect.report import content

YEARS = [str(y) for y in range(2014, 2023)]


def _frame(*recs):
    base = dict(region_code="971200", region_name="福山市", period_start="2016", period_end="2022",
                severity="high", q_value=float("nan"), score=5.0, kind="", summary="", summary_zh="", evidence={})
    return pd.DataFrame([{**base, **r} for r in recs])


def _svg_text(svg: str) -> str:
    """The text drawn in an SVG chart (matplotlib writes text as <text> elements)."""
    return " ".join(re.findall(r">([^<>]+)</text>", svg))


# --- labels ------------------------------------------------------------------------------------

def test_debt_sub_indicators_have_chinese_labels():
    """法定债务 = 一般债务 + 专项债务: the atlas' sub-category indicators were printed as raw codes."""
    assert content.indicator_label("general_debt_balance", "zh") == "一般债务余额"
    assert content.indicator_label("special_debt_limit", "zh") == "专项债务限额"
    assert content.indicator_label("general_debt_limit", "en") == "general-debt limit"
    # the detectors' own sentences use the same labels (detect.data.aliases.label)
    from detect.data.aliases import label

    assert label("special_debt_balance", "zh") == "专项债务余额"


def test_english_summary_starts_with_a_capital():
    row = {"summary": "fiscal revenue of 北原省 was 9.0 % above the sum of its children's", "summary_zh": "x"}
    assert content.summary_text(row, "en").startswith("Fiscal revenue of 北原省")
    assert content.summary_text({"summary": "", "summary_zh": "中文"}, "en") == "中文"


# --- what to check -----------------------------------------------------------------------------

def test_generic_check_gives_way_to_the_findings_own_instruction():
    """The record-level ``check_zh`` falls back to a generic 'statistical bureau working papers'
    sentence for ratios and limits; the finding's own instruction is more specific and wins."""
    generic_zh, generic_en = explain_check("limit_utilisation", "debt", "zh"), explain_check("limit_utilisation", "debt", "en")
    row = {"family": "debt", "evidence": {}, "check": generic_en, "check_zh": generic_zh,
           "summary": "The debt balance is above its approved limit; check the limit approved by the congress.",
           "summary_zh": "政府债务余额超过批准限额；债务余额不得突破批准的限额，请核对人大批准的限额与年末余额。"}
    assert content.what_to_check(row, "zh") == "请核对人大批准的限额与年末余额。"
    assert content.what_to_check(row, "en") == "Check the limit approved by the congress."
    # no instruction of its own: the family's instruction (debt: the finance bureau), not the statistics bureau
    row2 = {**row, "summary": "Debt ratio 194 %.", "summary_zh": "全口径债务率194%。"}
    assert content.what_to_check(row2, "zh") == content.t("check_debt", "zh")
    # the sentence itself ends with the catch-all (growth_peers on a debt limit): the debt instruction
    row4 = {**row, "indicator": "debt_limit", "family": "series",
            "summary": f"debt limit fell 87.9 % in 2025; for 2025, {generic_en}.",
            "summary_zh": f"2025年地方政府债务限额下降87.9 %；针对2025年，{generic_zh}。"}
    assert content.what_to_check(row4, "zh") == content.t("check_debt", "zh")
    assert content.what_to_check(row4, "en") == content.t("check_debt", "en")
    # a specific record-level check is kept
    row3 = {**row, "check_zh": explain_check("debt_balance", "debt", "zh")}
    assert content.what_to_check(row3, "zh") == explain_check("debt_balance", "debt", "zh")


# --- charts ------------------------------------------------------------------------------------

def test_balance_against_limit_chart_is_titled_as_the_balance():
    """A limit breach (indicator limit_utilisation) charts the balance in 亿元 against the limit: the
    title and caption must name the balance and the limit, not the utilisation ratio."""
    bal = {y: 500.0 + 250 * k for k, y in enumerate(YEARS)}
    lim = {y: 700.0 + 90 * k for k, y in enumerate(YEARS)}
    fr = _frame(dict(finding_id="F1", indicator="limit_utilisation", detector="debt_identity", family="debt",
                     kind="limit_breach", evidence={"series": bal, "limit": lim,
                                                    "utilisation": {y: bal[y] / lim[y] for y in YEARS}}))
    (ch,) = content.region_charts(fr, "zh", "福山市", units={"debt_balance": "亿元"})
    text = _svg_text(ch.svg)
    assert "限额利用率" not in text and "限额利用率" not in ch.caption
    assert "地方政府债务余额" in text and "核定限额" in text
    assert "核定限额" in ch.caption and "预期值" not in ch.caption
    assert "亿元" in text                                       # the unit of the y axis


def test_series_chart_has_the_unit_and_the_childrens_sum():
    """An aggregation gap (parent above the sum of its children) draws the children's sum beside
    the parent's series, and the y axis says 亿元."""
    par = {y: 1000.0 + 100 * k for k, y in enumerate(YEARS)}
    kids = {y: v * (0.91 if y in ("2015", "2016") else 1.0) for y, v in par.items()}
    fr = _frame(dict(finding_id="F1", indicator="fiscal_revenue", detector="aggregation", family="panel",
                     period_start="2015", period_end="2016", kind="parent_above_children",
                     evidence={"series": par, "children_sum": kids, "n_children": 13}))
    for lang, unit, kid, cap in (("zh", "亿元", "下级地区合计", "13 个下级地区合计"),
                                 ("en", "100 million yuan", "sum of children", "Fiscal revenue of 北原省 (solid line) "
                                  "against the sum of its 13 lower-level regions")):
        (ch,) = content.region_charts(fr, lang, "北原省", units={"fiscal_revenue": "亿元"})
        text = _svg_text(ch.svg)
        assert unit in text and kid in text, (lang, text)
        assert cap in ch.caption
        if lang == "en":  # a title starts with a capital
            assert "Fiscal revenue: reported series" in text


def _ratio_frame(hist_last: float, proj_start: float):
    hist = {y: 0.6 + (hist_last - 0.6) * k / (len(YEARS) - 1) for k, y in enumerate(YEARS)}
    proj = {"start_year": 2022, "start_value": proj_start,
            "paths": {"baseline": {str(2023 + k): proj_start + 0.3 * (k + 1) for k in range(5)}}}
    return _frame(dict(finding_id="F1", indicator="full_caliber_ratio", detector="debt_ratios", family="debt",
                       kind="grade_yellow", severity="low",
                       evidence={"series": hist, "cutoffs": {"green_below": 1.2, "orange_from": 2.0, "red_from": 3.0},
                                 "projection": proj,
                                 "crossing_years": {"baseline": {"100%": 2022, "300%": 2026}}}))


def test_debt_caption_names_only_what_is_drawn():
    """The full-caliber ratio (2.9 in 2022) carries a projection of another ratio (1.4 in 2022): the
    projection is not drawn, so neither are its crossing years; the caption does not promise a fan
    or scenarios that are not there."""
    (ch,) = content.region_charts(_ratio_frame(2.9, 1.4), "zh", "宁山市")
    assert "2026" not in ch.caption and "首次越线" not in ch.caption
    assert "扇形" not in ch.caption and "压力情景" not in ch.caption
    assert "2026" not in _svg_text(ch.svg)
    (en,) = content.region_charts(_ratio_frame(2.9, 1.4), "en", "x")
    assert "fan" not in en.caption and "scenario" not in en.caption
    # the same ratio: the projection, its scenario and its crossing years are drawn and named
    (ok,) = content.region_charts(_ratio_frame(2.9, 2.9), "zh", "宁山市")
    assert "首次越线" in ok.caption and "2026" in ok.caption and "压力情景" in ok.caption


def test_debt_ratio_axis_in_percent():
    """Grade lines are labelled 120% / 200% / 300%: the axis is in percent too (not 1.2, 2.0, 3.0)."""
    (ch,) = content.region_charts(_ratio_frame(2.9, 2.9), "en", "x")
    ticks = _svg_text(ch.svg).split()
    assert any(re.fullmatch(r"\d{2,3}%", t) for t in ticks if t not in ("120%", "200%", "300%", "100%"))
    assert "2.5" not in ticks and "1.5" not in ticks


def test_series_caption_names_only_what_is_drawn():
    """The series caption explained breaks and grey expected values on every chart, also on charts
    that have neither (a reviewer looks for lines that are not there)."""
    s = {y: 100.0 + 10 * k for k, y in enumerate(YEARS)}
    plain = _frame(dict(finding_id="F1", indicator="debt_service", detector="growth_peers", family="series",
                        period_start="2017", period_end="2019", evidence={"series": s}))
    (ch,) = content.region_charts(plain, "zh", "福山市")
    assert "红点为被标记的时期" in ch.caption and "断点" not in ch.caption and "预期值" not in ch.caption
    shifted = _frame(dict(finding_id="F2", indicator="gdp", detector="level_shift", family="series",
                          period_start="2016", period_end="2016", kind="level_shift",
                          evidence={"series": s, "break_year": 2016, "counterfactual": {y: v * 1.02 for y, v in s.items()}}))
    (ch2,) = content.region_charts(shifted, "en", "x")
    assert "dashed line: break" in ch2.caption and "grey dashes: expected" in ch2.caption


def test_unit_reads_horizontally_in_the_title():
    """A Chinese unit as a rotated y-axis label reads sideways: it goes into the chart title."""
    from detect.report import charts

    svg = charts.time_series({y: 1.0 + k for k, y in enumerate(YEARS)}, lang="zh", title="一般公共预算收入：报告值",
                             unit="亿元")
    assert "一般公共预算收入：报告值（亿元）" in _svg_text(svg)
    assert "rotate(-90" not in svg


def test_digit_chart_names_the_test_in_the_report_language():
    """The Chinese report titled the digits chart 'last digit, uniform：实际与预期数字频率'."""
    digits = [{"digit": d, "count": 30 + (20 if d in (0, 5) else 0), "observed": 0.1, "expected": 0.1}
              for d in range(10)]
    fr = _frame(dict(finding_id="F1", indicator="*", detector="digits", family="digits", period_start="2003",
                     period_end="2022", kind="last_digit_preference",
                     evidence={"digits": digits, "n": 400, "test": "last digit, uniform"}))
    (zh,) = content.region_charts(fr, "zh", "福河市")
    assert "末位数字：实际与预期数字频率" in _svg_text(zh.svg) and "last digit" not in _svg_text(zh.svg)
    assert "均匀分布" in zh.caption
    (en,) = content.region_charts(fr, "en", "x")
    assert "Last digit: observed and expected digit frequencies" in _svg_text(en.svg)
    assert content.digit_test_label("first-two", "zh") == "前两位数字"
    assert content.digit_test_label("something else", "zh") == "something else"


@pytest.mark.slow
def test_growth_rate_sentence_does_not_double_the_word(repo):
    """The sample report read '地区生产总值增速增速每年比全社会用电量…高4.2个百分点': a growth-rate
    indicator's label already says 增速 (detect/panel/proxy.py, proxy_divergence)."""
    sample = repo / "data" / "sample" / "panel.csv"
    if not sample.is_file():
        pytest.skip(f"{sample} is absent")
    from detect.config import load_config
    from detect.data.load import load
    from detect.registry import get_detector

    res = load(sample)
    panel = res.panel if hasattr(res, "panel") else res[0]
    items = [f for f in get_detector("proxy_divergence").run(panel, load_config()).items
             if f.indicator == "gdp_real_growth"]
    assert items
    for f in items:
        assert "增速增速" not in f.summary_zh and f.summary_zh.count("地区生产总值增速") == 1, f.summary_zh


def test_every_debt_ratio_has_a_label():
    """debt_to_revenue (债务/一般公共预算收入) was printed as its code; every ratio of detect.debt.ratios
    has a label in both languages, the Chinese one as the debt checks name it."""
    from detect.debt.ratios import RATIOS

    for name, spec in RATIOS.items():
        assert content.indicator_label(name, "zh") == spec.label_zh, name
        assert content.indicator_label(name, "en") != name, name


def test_stress_deadline_is_the_registers():
    from detect.review import stress_due_date

    # the baseline crosses nothing; only a shock scenario does: the register sets no deadline,
    # so the report must not show one (it showed 30 June of the shock's year)
    ev = {"crossing_years": {"baseline": {}, "land_30": {"debt_ratio_120": 2027}},
          "projection": {"start_year": 2023}}
    assert stress_due_date(ev) is None and content.stress_deadline(ev) is None
    # the baseline crosses in 2028 (a shock earlier): both take the baseline's year
    ev["crossing_years"]["baseline"] = {"debt_ratio_120": 2028}
    assert content.stress_deadline(ev) == ("2028-06-30", 2028) == (stress_due_date(ev)[0], 2028)
    # a crossing in or before the last observed year is a fact of the data, not a forecast
    ev["projection"]["start_year"] = 2028
    assert content.stress_deadline(ev) is None


def test_scenarios_are_named_in_words_in_both_languages():
    """A shock scenario's legend entry and crossing caption read 'land revenue -30 %', as the finding's own
    sentence does, not the code name 'land_30' (the Chinese report already used the names)."""
    cy = {"land_30": {"120%": 2027}, "transfers_10": {"100%": 2029}}
    en = content._flat_crossing(cy, "en")
    assert en == {"land revenue -30 % 120%": 2027, "transfers -10 % 100%": 2029}
    assert content._flat_crossing(cy, "zh") == {"土地出让收入下降30 % 120%": 2027, "转移支付减少10 % 100%": 2029}
    proj = {"paths": {"baseline": {"2025": 0.9}, "land_30": {"2025": 1.3}}}
    picked = content._pick_scenarios(proj["paths"], proj, "en")
    assert set(picked) == {"baseline", "land revenue -30 %"}
    assert content.scenario_name("not_a_scenario", "en") == "not_a_scenario"


def test_crossings_already_in_the_data_are_not_marked_as_projected():
    # a line crossed in or before the projection's start (the last observed year) is a fact, not a
    # forecast: captions said "first crossing: baseline 100% 2022" for a ratio at 230 % in 2022
    cy = {"baseline": {"100%": 2022, "120%": 2022, "300%": 2026}}
    assert content._flat_crossing(cy, "en", after=2022) == {"baseline 300%": 2026}
    assert content._flat_crossing(cy, "en") == {"baseline 100%": 2022, "baseline 120%": 2022, "baseline 300%": 2026}
