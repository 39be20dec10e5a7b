"""aggregation: parents against the sum of their children, on crafted panels."""

from __future__ import annotations

import pytest

from detect.registry import get_detector


@pytest.fixture(scope="module")
def frame(kit):
    return kit.make_frame(seed=6)


def test_exact_sums_give_no_flag(frame, kit, config):
    res = get_detector("aggregation").run(kit.to_panel(frame), config)
    assert len(res) == 0
    assert res.n_tests == 6 * 16 * 9  # 6 parents x 16 years x 9 additive indicators


def test_parent_8_percent_above_children_found_with_the_right_years(frame, kit, config):
    df = kit.scale(frame, "130000", "gdp", [2012, 2013, 2014], 1.08)
    res = get_detector("aggregation").run(kit.to_panel(df), config)
    assert len(res) == 1
    f = res.items[0]
    assert (f.region_code, f.indicator, f.period_start, f.period_end) == ("130000", "gdp", "2012", "2014")
    assert f.effect == pytest.approx(0.08, abs=1e-4)
    assert f.severity_hint == "high" and f.kind == "parent_above_children"
    assert f.p_value < 1e-6
    assert f.evidence["n_children"] == 10
    assert "8.0 % above the sum of its 10 children" in f.summary
    for key in ("series", "children_sum", "gap"):
        assert key in f.evidence


def test_within_rounding_is_not_flagged_and_just_beyond_is(frame, kit, config):
    # ten children at 2 decimals and the parent at 2 decimals: |parent - sum| <= 11 x 0.005 = 0.055
    df = frame.copy()
    m = (df["region_code"] == "140000") & (df["indicator"] == "tax_revenue") & (df["period"] == "2010")
    df.loc[m, "value"] += 0.05
    assert len(get_detector("aggregation").run(kit.to_panel(df), config)) == 0
    df.loc[m, "value"] += 0.02  # now 0.07 away
    res = get_detector("aggregation").run(kit.to_panel(df), config)
    assert [(f.region_code, f.indicator, f.period_start) for f in res] == [("140000", "tax_revenue", "2010")]
    assert res.items[0].severity_hint == "low"


def test_incomplete_children_are_skipped_with_a_note(frame, kit, config):
    df = kit.scale(frame, "130000", "gdp", [2012], 1.08)
    df = df[~((df["region_code"] == "130300") & (df["indicator"] == "gdp") & (df["period"] == "2012"))]
    res = get_detector("aggregation").run(kit.to_panel(df), config)
    assert not any(f.region_code == "130000" and f.indicator == "gdp" for f in res)
    assert any("not all children report that year" in n for n in res.notes)


def test_no_hierarchy_not_applicable(kit, config):
    res = get_detector("aggregation").run(kit.to_panel(kit.make_frame(seed=1, with_parents=False)), config)
    assert res.n_tests == 0 and any("not applicable" in n for n in res.notes)


