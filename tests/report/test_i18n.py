"""Labels in both languages (detect/report/i18n.py)."""

from __future__ import annotations

import re

import pytest

from detect.exceptions import UsageError
from detect.report.i18n import LABELS, NOTES_ZH, note_text, severity_label, status_label, t


def test_every_label_in_both_languages_with_same_fields():
    for key, (en, zh) in LABELS.items():
        assert en.strip() and zh.strip(), key
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh)), key


def test_chinese_labels_are_chinese():
    skip = {"sha256", "region_heading"}  # a hash name; "{name}（{code}）" is all fields
    for key, (_, zh) in LABELS.items():
        if key not in skip:
            assert re.search(r"[\u4e00-\u9fff]", zh), key


def test_lookup_and_fallbacks():
    assert t("worklist", "zh") == "问题清单"
    assert t("page_of", "en", page=2, total=9) == "Page 2 of 9"
    assert severity_label("high", "zh") == "高"
    assert status_label("under_review", "en") == "under_review"   # the register's own name (imports back)
    assert status_label("open", "zh") == "待核查"
    assert status_label("something_new", "zh") == "something_new"
    with pytest.raises(UsageError):
        t("worklist", "fr")


def test_status_labels_are_the_registers():
    """The worklist shows statuses as the follow-up register names them, so edits import back."""
    mig = pytest.importorskip("detect.review.migrations")
    for status, zh in mig.STATUS_LABELS_ZH.items():
        assert status_label(status, "zh") == zh
        assert status_label(status, "en") == status


def test_open_status_named_alike_everywhere():
    """Without a register the worklist lead said items were '待处理' while every status cell said
    '待核查': one term for the open status in both languages."""
    for lang in ("zh", "en"):
        assert status_label("open", lang) in t("register_none", lang)
    assert "待处理" not in t("register_none", "zh")


def test_summary_table_title_says_what_its_rows_are():
    """The table of counts has a row per family of evidence and a column per severity; its title said
    only 按严重程度统计."""
    for lang, fam in (("zh", "证据类别"), ("en", "family of evidence")):
        assert fam in t("counts_by_severity", lang)


@pytest.mark.parametrize("note, want", [
    ("152 gdp region-years not tested (fewer than 12 peers with growth that year, or zero peer spread)",
     "152 个地区生产总值地区—年份未检验（当年有增速的同级地区少于 12 个，或同级离散度为零）"),
    ("electricity, population not screened (yardsticks: proxies and denominators, [series] yardsticks)",
     "全社会用电量、常住人口为参照指标（代理指标与分母），不作筛查（[series] yardsticks）"),
    ("gdp_real_growth null refitted without the 1 region-year of 3 runs discovered at q <= 0.1 "
     "(t df 48.0 -> inf, scale 1.10 -> 1.09)",
     "地区生产总值增速的经验零分布在剔除 q ≤ 0.1 下已发现的 3 段游程（1 个地区—年份）后重新拟合"
     "（t 分布自由度 48.0 → ∞，尺度 1.10 → 1.09）"),
    ("no pm25 in the panel; not applicable", "数据中没有PM2.5浓度，不适用"),
    ("features dropped for coverage below 50%: revenue_vs_tax, debt_growth",
     "覆盖率低于 50% 的特征未使用：财政收入增速减税收增速、债务余额增速"),
    ("overdue_ratio (逾期债务率) not computable for 972 of 972 region-years; main reason: overdue_debt not in the panel",
     "逾期债务率在 972 个地区—年份中有 972 个无法计算；主要原因：数据中没有逾期债务"),
    ("31 tax_revenue series not tested (fewer than 8 growth rates or fewer than 8 peers)",
     "31 个税收收入序列未检验（增速少于 8 个或同级地区少于 8 个）"),
])
def test_frequent_notes_read_in_chinese(note, want):
    assert note_text(note, "zh") == want
    assert note_text(note, "en") == note


def test_other_notes_stay_as_written():
    odd = "3395 figures of gdp left out of the last-digit test: over 50 % end in 0"
    assert note_text(odd, "zh") == odd
    # every template fills only groups its pattern has
    for pattern, zh in NOTES_ZH:
        assert set(re.findall(r"{(\w+)}", zh)) <= set(pattern.groupindex), pattern.pattern
