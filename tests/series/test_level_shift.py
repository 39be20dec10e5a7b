"""level_shift: crafted breaks with known answers, the statistic against OLS, calibration on clean walks."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from detect.config import load_config
from detect.series.level_shift import LevelShift, break_design, break_tstats, max_stat_p, null_table, screen
from series_panels import panel_from_matrix, random_walk_levels

CFG = load_config()


def _panel_with(rng, modify, R=40, T=20):
    lv = random_walk_levels(rng, R, T)
    modify(lv)
    return panel_from_matrix({"gdp": lv})


def test_tstat_equals_ols_t_with_trend():
    rng = np.random.default_rng(1)
    g = rng.normal(0.07, 0.03, (1, 15))
    X, kinds, pos = break_design(15, 0.7)
    t, delta = break_tstats(g, X, trend=True)
    for j in (0, 5, len(kinds) - 1):
        Z = np.column_stack([np.ones(15), np.arange(15), X[j]])
        fit = sm.OLS(g[0], Z).fit()
        assert delta[0, j] == pytest.approx(fit.params[2], rel=1e-9)
        assert t[0, j] == pytest.approx(fit.tvalues[2], rel=1e-9)


def test_single_candidate_t_is_student_t_under_normal_errors():
    # textbook: the OLS t of a fixed regressor is exactly t(n - p) under i.i.d. normal errors
    rng = np.random.default_rng(2)
    n = 12
    X, kinds, pos = break_design(n, 0.7)
    t, _ = break_tstats(rng.standard_normal((4000, n)), X[[3]], trend=True)
    assert stats.kstest(t[:, 0], stats.t(n - 3).cdf).pvalue > 0.01


def test_planted_level_drop_is_found_at_the_right_year_and_is_ls():
    rng = np.random.default_rng(3)

    def drop(lv):
        lv[0, 12:] *= 0.7  # a 30 % permanent drop in 2015

    res = LevelShift().run(_panel_with(rng, drop), CFG)
    hit = [f for f in res if f.region_code == "900000"]
    assert len(hit) == 1
    f = hit[0]
    assert f.period_start == "2015" and f.kind == "level_shift"
    assert f.effect == pytest.approx(-0.30, abs=0.06)
    assert f.p_value < 1e-4
    ev = f.evidence
    assert ev["break_year"] == 2015 and set(ev["series"]) >= {"2003", "2022"}
    assert ev["counterfactual"]["2020"] > ev["series"]["2020"]


def test_one_year_spike_is_an_additive_outlier():
    rng = np.random.default_rng(4)

    def spike(lv):
        lv[1, 9] *= 1.35  # 2012 only

    res = LevelShift().run(_panel_with(rng, spike), CFG)
    hit = [f for f in res if f.region_code == "900001"]
    assert len(hit) == 1 and hit[0].kind == "additive_outlier" and hit[0].period_start == "2012"


def test_liaoning_style_correction_after_run_up_is_found():
    rng = np.random.default_rng(5)

    def runup(lv):
        lv[2, 8:13] *= np.exp(np.cumsum([0.05, 0.05, 0.05, 0.05, 0.05]))  # inflated 2011-2015
        lv[2, 13:] *= np.exp(0.25) * 0.75  # truth comes out in 2016: level drops below trend

    res = LevelShift().run(_panel_with(rng, runup), CFG)
    hit = [f for f in res if f.region_code == "900002"]
    assert hit and hit[0].period_start == "2016" and hit[0].effect < -0.2


def test_common_shock_does_not_flag_every_region():
    rng = np.random.default_rng(6)
    common = np.zeros(20)
    common[6] = -0.25  # every region falls 22 % in 2009
    lv = random_walk_levels(rng, 40, 20, common=common)
    res = LevelShift().run(panel_from_matrix({"gdp": lv}), CFG)
    assert sum(f.period_start == "2009" for f in res) <= 2


def test_short_series_get_a_note_not_a_test():
    rng = np.random.default_rng(7)
    res = LevelShift().run(panel_from_matrix({"gdp": random_walk_levels(rng, 12, 6)}), CFG)
    assert res.n_tests == 0 and len(res) == 0
    assert any("too short" in n for n in res.notes)


def test_tail_p_is_continuous_with_the_table_and_bounded_by_bonferroni():
    n, K = 19, len(break_design(19, 0.7)[1])
    table = null_table(n, 0.7, True, float("inf"), 4000, 1)
    s = np.linspace(3.0, 12.0, 200)
    p = max_stat_p(s, n, K, table, 40, True)
    assert np.all(np.diff(p) <= 1e-12)  # decreasing in the statistic
    assert np.all(p <= np.minimum(1.0, K * 2 * stats.t.sf(s, n - 3)) + 1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("T", [12, 20, 30])
def test_calibration_on_clean_random_walks(T):
    # 900 clean series: share of p < 0.05 should be 5 %; tolerance 2.0-7.5 % (binomial s.d. 0.7 pp,
    # and the heavy-tail df is snapped toward heavier tails, which errs conservative)
    rng = np.random.default_rng(100 + T)
    tab, _ = screen(panel_from_matrix({"gdp": random_walk_levels(rng, 900, T)}), CFG)
    share = float((tab["p_value"] < 0.05).mean())
    assert 0.02 <= share <= 0.075, share


def test_yardsticks_are_not_searched_for_breaks_unless_asked():
    rng = np.random.default_rng(31)
    lv = random_walk_levels(rng, 30, 20)
    pop = random_walk_levels(rng, 30, 20, drift=0.005, sd=0.003)
    pop[0, 17:] *= 0.9      # a census re-benchmarking: resident population revised down 10 % in 2020
    panel = panel_from_matrix({"gdp": lv, "population": pop})
    res = LevelShift().run(panel, CFG)
    assert not [f for f in res if f.indicator == "population"]
    assert any("population not screened" in n for n in res.notes)
    asked = LevelShift().run(panel, CFG.with_(thresholds={"series": {"yardsticks": []}}))
    hit = [f for f in asked if f.indicator == "population" and f.region_code == "900000"]
    assert hit and hit[0].period_start == "2020" and hit[0].p_value < 1e-3


def test_series_as_smooth_as_their_reported_digits_are_not_breaks():
    # ten regions whose GDP rises by exactly 1 亿元 a year, reported as integers; one jumps in 2015.
    # Their peer-adjusted growth is smooth to the last digit, so a difference of a rounding error
    # gave |t| ~ 1e146 ("GDP jumped 0.0 %", p = 0); the rounding of the reported digits bounds
    # the noise from below
    R, T = 10, 12
    lv = 100.0 + np.arange(R)[:, None] * 10 + np.arange(T)[None, :]
    lv[0, 5] *= 3.6
    panel = panel_from_matrix({"gdp": lv}, start=2010, raw_decimals={"gdp": 0})
    res = LevelShift().run(panel, CFG)
    assert [(f.region_code, f.period_start) for f in res if f.p_value < 0.01] == [("900000", "2015")]


def test_rounding_rss_by_hand():
    from detect.series.level_shift import rounding_rss

    x = np.array([[100.0, 200.0, 400.0]])
    h = np.array([[0.5, 0.5, 0.5]])
    r2 = (0.5 / x[0]) ** 2 / 3
    expected = 7 * np.mean([r2[0] + r2[1], r2[1] + r2[2]])
    assert rounding_rss(x, h, 7)[0] == pytest.approx(expected, rel=1e-12)
