"""composition on crafted panels with known answers."""

from __future__ import annotations

from detect.registry import get_detector


def _plant_nontax(df, code, years, ramp):
    """Add non-tax revenue (and the same to fiscal revenue) of ``ramp * k`` of revenue in the k-th year."""
    df = df.copy()
    w = df[(df["region_code"] == code) & (df["indicator"] == "fiscal_revenue")].set_index("period")["value"]
    for k, y in enumerate(years, start=1):
        add = float(w[str(y)]) * ramp * k
        for ind in ("fiscal_revenue", "nontax_revenue"):
            m = (df["region_code"] == code) & (df["indicator"] == ind) & (df["period"] == str(y))
            df.loc[m, "value"] = (df.loc[m, "value"] + add).round(2)
    return df


def test_clean_panels_flag_at_about_the_nominal_rate(clean_panels, config):
    det = get_detector("composition")
    n_tests = n05 = 0
    for panel in clean_panels:
        res = det.run(panel, config)
        n_tests += res.n_tests
        n05 += sum(f.p_value <= 0.05 for f in res)
    assert n_tests > 4000
    # share-level runs combine several region-years into one finding, so the rate per test is a bit lower
    assert 0.02 <= n05 / n_tests <= 0.07


def test_nontax_surge_is_found_as_runs(kit, config):
    df = _plant_nontax(kit.make_frame(seed=4, with_parents=False), "130400", [2011, 2012, 2013, 2014], 0.07)
    res = get_detector("composition").run(kit.to_panel(df), config)
    mine = {(f.indicator, f.kind): f for f in res if f.region_code == "130400"}
    jump = mine[("nontax_revenue", "nontax_share_jump")]
    assert (jump.period_start, jump.period_end) == ("2011", "2014")
    assert jump.p_value < 0.01
    # the planted run is the most significant share jump of the 60 regions
    assert jump.p_value == min(f.p_value for f in res if f.kind == "nontax_share_jump")
    rev = mine[("fiscal_revenue", "revenue_outgrows_base")]
    assert (rev.period_start, rev.period_end) == ("2011", "2014") and rev.p_value < 1e-4
    # the unwinding in 2015 (the planted addition disappears) is the opposite run
    drop = mine[("fiscal_revenue", "revenue_lags_base")]
    assert drop.period_start == "2015" and drop.p_value < 1e-3
    # cumulative share change: 7 %, 14 %, 21 %, 28 % of revenue added -> share up by roughly 16-20 pp
    assert 12 < jump.evidence["cumulative_change_pp"] < 24
    assert "state-asset sales, fines, fees" in jump.summary and "罚没收入" in jump.summary_zh
    for key in ("series", "peer_median", "share_change"):
        assert key in jump.evidence
    for key in ("revenue_growth", "base_growth", "gap_log"):
        assert key in rev.evidence


def test_share_from_tax_when_nontax_absent(kit, config):
    df = _plant_nontax(kit.make_frame(seed=4, with_parents=False), "130400", [2011, 2012, 2013, 2014], 0.07)
    df = df[df["indicator"] != "nontax_revenue"]
    res = get_detector("composition").run(kit.to_panel(df), config)
    assert any(f.region_code == "130400" and f.indicator == "nontax_revenue" and f.period_start == "2011"
               for f in res)


def test_not_applicable_without_revenue(kit, config):
    df = kit.make_frame(seed=1, with_parents=False)
    res = get_detector("composition").run(kit.to_panel(df[df["indicator"] == "gdp"]), config)
    assert len(res) == 0 and any("no fiscal_revenue" in n for n in res.notes)


def test_null_refitted_without_discovered_runs_when_a_fifth_of_regions_inflate(kit, config):
    """Twelve of sixty regions inflate non-tax revenue for three years: the revenue-against-base null
    is refitted without their discovered runs (a note says so), and the planted runs gain."""
    import numpy as np

    df = kit.make_frame(seed=5, with_parents=False)
    codes = sorted(df["region_code"].unique())[::5]
    for i, code in enumerate(codes):
        y0 = 2007 + i % 8
        df = _plant_nontax(df, code, [y0, y0 + 1, y0 + 2], 0.04)
    panel = kit.to_panel(df)
    det = get_detector("composition")
    on = det.run(panel, config)
    off = det.run(panel, config.with_(thresholds={"composition": {"null_trim_q": 0}}))

    def best(res):
        return kit.best_p(res, codes, "fiscal_revenue")

    assert any(n.startswith("composition: revenue_outgrows_base null refitted without the") for n in on.notes)
    assert not any("refitted" in n for n in off.notes)
    never = det.run(panel, config.with_(thresholds={"composition": {"null_trim_min_runs": 1000}}))
    assert not any("refitted" in n for n in never.notes) and np.array_equal(best(never), best(off))
    assert np.median(np.log10(best(off)) - np.log10(best(on))) > 0.5
    assert (best(on) < 1e-3).sum() > (best(off) < 1e-3).sum()
    trimmed = [f.evidence["null_trimmed_region_years"] for f in on if f.indicator == "fiscal_revenue"]
    assert trimmed and min(trimmed) > 0
