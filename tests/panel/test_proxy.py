"""proxy_divergence on crafted panels with known answers."""

from __future__ import annotations

import numpy as np

from detect.registry import get_detector


def _plant_gdp_gap(df, code, years, per_year):
    """Raise reported GDP growth by ``per_year`` (log) in ``years``, keeping the level afterwards."""
    df = df.copy()
    m = (df["region_code"] == code) & (df["indicator"] == "gdp")
    yr = df.loc[m, "period"].astype(int).to_numpy()
    steps = np.array([sum(1 for y in years if y <= v) for v in yr])
    df.loc[m, "value"] = (df.loc[m, "value"].to_numpy() * np.exp(per_year * steps)).round(2)
    return df


def test_clean_panels_flag_at_about_the_nominal_rate(clean_panels, config):
    det = get_detector("proxy_divergence")
    n_tests = n05 = 0
    for panel in clean_panels:
        res = det.run(panel, config)
        p = np.array([f.p_value for f in res])
        n_tests += res.n_tests
        n05 += int((p <= 0.05).sum())
    # 3 panels x 3 reported indicators x about 90 positive runs; binomial s.e. of the rate ~0.7 pp
    assert n_tests > 600
    assert 0.025 <= n05 / n_tests <= 0.08


def test_planted_three_year_gap_is_one_finding_over_those_years(kit, config):
    df = _plant_gdp_gap(kit.make_frame(seed=2, with_parents=False), "120300", [2010, 2011, 2012], 0.06)
    res = get_detector("proxy_divergence").run(kit.to_panel(df), config)
    gdp = [f for f in res if f.region_code == "120300" and f.indicator == "gdp"]
    hits = [f for f in gdp if int(f.period_start) <= 2012 and int(f.period_end) >= 2010]
    assert len(hits) == 1, [(f.period_start, f.period_end) for f in gdp]
    f = hits[0]
    # the run covers the planted years (a neighbouring noise year of the same sign may join it)
    assert int(f.period_start) in (2009, 2010) and int(f.period_end) in (2012, 2013)
    assert f.p_value < 1e-3 and f.kind == "growth_above_proxies"
    assert f.p_value == min(g.p_value for g in res if g.indicator == "gdp")
    # about 3 x 6 % = 18 % cumulative gap, less what the region effect absorbs
    assert 0.10 < f.effect < 0.25
    ev = f.evidence
    assert set(ev["proxies"]) == {"electricity", "rail_freight"}
    for key in ("reported_growth", "implied_growth", "gap_log", "proxy_growth", "series"):
        assert key in ev
    assert "faster than electricity consumption and rail freight imply" in f.summary
    assert "VAT" in f.summary and "增值税" in f.summary_zh


def test_correction_only_with_both_sides(kit, config):
    df = kit.make_frame(seed=3, with_parents=False)
    m = (df["region_code"] == "130500") & (df["indicator"] == "gdp") & (df["period"].astype(int) >= 2015)
    df.loc[m, "value"] = (df.loc[m, "value"] * 0.8).round(2)  # a 20 % downward correction in 2015
    det = get_detector("proxy_divergence")
    one = det.run(kit.to_panel(df), config)
    assert not any(f.region_code == "130500" and f.period_start <= "2015" <= f.period_end and f.indicator == "gdp"
                   for f in one)
    both = det.run(kit.to_panel(df), config.with_(options={"proxy_divergence": {"sides": "both"}}))
    hit = [f for f in both if f.region_code == "130500" and f.indicator == "gdp"
           and f.period_start <= "2015" <= f.period_end]
    assert len(hit) == 1 and hit[0].kind == "growth_below_proxies" and hit[0].p_value < 1e-3


def test_not_applicable_is_said(kit, config):
    df = kit.make_frame(seed=1, with_parents=False)
    df = df[df["indicator"].isin(["gdp", "pm25"])]
    res = get_detector("proxy_divergence").run(kit.to_panel(df), config)
    assert len(res) == 0 and res.n_tests == 0
    assert any("none of its proxies" in n for n in res.notes)


def test_too_few_regions(kit, config):
    df = kit.make_frame(n_parents=1, n_children=5, seed=1, with_parents=False)
    res = get_detector("proxy_divergence").run(kit.to_panel(df), config)
    assert res.n_tests == 0 and any("needs 8 regions" in n for n in res.notes)


def test_configured_pair_is_used(clean_panels, config):
    panel = clean_panels[0].subset(indicators=["debt_balance", "gdp"])
    base = get_detector("proxy_divergence").run(panel, config)
    assert base.n_tests == 0
    cfg = config.with_(options={"proxy_divergence": {"pairs": [["debt_balance", "gdp"]]}})
    res = get_detector("proxy_divergence").run(panel, cfg)
    assert res.n_tests > 100


def test_null_refitted_without_discovered_runs_finds_more_of_many_plants(kit, config):
    """With a fifth of the regions inflated, their years widen the empirical null's tail and hide
    each other; refitting the null without the runs already discovered (null_trim_q) gives the
    planted runs smaller p-values, and says so in a note."""
    df = kit.make_frame(seed=4, with_parents=False)
    codes = sorted(df["region_code"].unique())[::5]            # 12 of 60 regions
    for i, code in enumerate(codes):
        y0 = 2007 + i % 8
        df = _plant_gdp_gap(df, code, [y0, y0 + 1, y0 + 2], 0.05)      # about 3 sigma a year
    panel = kit.to_panel(df)
    det = get_detector("proxy_divergence")
    on = det.run(panel, config)
    off = det.run(panel, config.with_(thresholds={"proxy_divergence": {"null_trim_q": 0}}))

    def planted_p(res):
        return kit.best_p(res, codes, "gdp")

    p_on, p_off = planted_p(on), planted_p(off)
    assert any("gdp null refitted without the" in n for n in on.notes)
    assert not any("refitted" in n for n in off.notes)
    # the detector passes null_trim_min_runs on: with 1000 required, nothing is refitted
    never = det.run(panel, config.with_(thresholds={"proxy_divergence": {"null_trim_min_runs": 1000}}))
    assert not any("refitted" in n for n in never.notes)
    assert np.array_equal(planted_p(never), planted_p(off))
    assert np.median(np.log10(p_off) - np.log10(p_on)) > 0.3, (p_on, p_off)
    assert (p_on < 1e-3).sum() > (p_off < 1e-3).sum()
    df_on = {f.evidence["null_t_df"] for f in on if f.indicator == "gdp"}
    df_off = {f.evidence["null_t_df"] for f in off if f.indicator == "gdp"}
    assert min(df_on) >= max(df_off)
