"""growth_peers: the same-year robust z by hand, a common shock, a planted jump, yardsticks,
calibration on clean panels."""

from __future__ import annotations

import numpy as np
import pytest

from detect._stats import MAD_TO_SD
from detect.config import load_config
from detect.series.growth import GrowthPeers
from series_panels import panel_from_matrix

CFG = load_config()


def _levels(g: np.ndarray) -> np.ndarray:
    """Levels around 100 from a (regions, years) matrix of log growth."""
    return 100.0 * np.exp(np.cumsum(g, axis=1))


def _clean_growth(rng, R=60, T=20, sd=0.02, gaps=None):
    common = rng.normal(0.0, 0.03, T)
    gap = np.zeros(R) if gaps is None else gaps
    return 0.08 + common[None, :] + gap[:, None] + rng.normal(0.0, sd, (R, T))


def test_same_year_z_is_the_textbook_robust_z():
    rng = np.random.default_rng(11)
    g = _clean_growth(rng, R=15, T=6)
    g[3, 4] += 0.30
    res = GrowthPeers().run(panel_from_matrix({"gdp": _levels(g)}), CFG)
    f = next(f for f in res if f.region_code == "900003" and f.period_start == "2007")
    # growth of 2007 = log(level_2007 / level_2006) = g[:, 4]; z by hand with numpy's median
    col = g[:, 4]
    med = np.median(col)
    mad = MAD_TO_SD * np.median(np.abs(col - med))
    assert f.statistic == pytest.approx((col[3] - med) / mad, rel=1e-9)
    assert f.evidence["peer_median_growth"] == pytest.approx(np.expm1(med), rel=1e-9)
    assert f.kind == "growth_jump"


def test_a_common_shock_changes_nothing():
    rng = np.random.default_rng(12)
    g = _clean_growth(rng, R=40, T=20)
    shocked = g.copy()
    shocked[:, 6] -= 0.15   # every region slows by 15 points in 2009 (levels start in 2003)
    before = GrowthPeers().run(panel_from_matrix({"gdp": _levels(g)}), CFG)
    after = GrowthPeers().run(panel_from_matrix({"gdp": _levels(shocked)}), CFG)
    # the same-year median absorbs a shift shared by all regions: the same tests, the same verdicts
    key = lambda res: sorted((f.region_code, f.period_start, round(f.statistic, 9), round(f.p_value, 12)) for f in res)  # noqa: E731
    assert before.n_tests == after.n_tests and key(before) == key(after)


def test_a_planted_jump_is_found_in_its_year():
    rng = np.random.default_rng(13)
    g = _clean_growth(rng)
    g[1, 12] += 0.25        # region 1 jumps by 25 points in 2015
    res = GrowthPeers().run(panel_from_matrix({"gdp": _levels(g)}), CFG)
    jump = [f for f in res if f.region_code == "900001" and f.period_start == "2015"]
    assert len(jump) == 1 and jump[0].p_value < 1e-4 and jump[0].kind == "growth_jump"
    assert jump[0].effect == pytest.approx(0.25, abs=0.05)


@pytest.mark.parametrize("seed", [21, 22])
def test_calibration_on_clean_panels_with_persistent_gaps(seed):
    rng = np.random.default_rng(seed)
    R, T = 150, 20
    g = _clean_growth(rng, R=R, T=T, gaps=rng.normal(0.0, 0.01, R))
    res = GrowthPeers().run(panel_from_matrix({"gdp": _levels(g)}), CFG)
    n = res.n_tests
    assert n == R * (T - 1)
    p = np.array([f.p_value for f in res])
    # every test with p <= 0.05 is returned; the shares must not exceed the nominal levels by more
    # than Monte Carlo noise (binomial s.d. at 2,850 tests: 0.4 % at 5 %, 0.19 % at 1 %)
    assert (p <= 0.05).sum() / n <= 0.05 + 0.012
    assert (p <= 0.01).sum() / n <= 0.01 + 0.006


def test_yardsticks_are_not_screened_unless_asked():
    rng = np.random.default_rng(15)
    g = _clean_growth(rng, R=30, T=12)
    g[2, 5] += 0.4
    mats = {"gdp": _levels(g), "electricity": _levels(g), "population": _levels(g / 10)}
    panel = panel_from_matrix(mats)
    res = GrowthPeers().run(panel, CFG)
    assert {f.indicator for f in res} == {"gdp"}
    assert res.n_tests == 30 * 11
    assert any("electricity, population not screened" in n for n in res.notes)
    everything = GrowthPeers().run(panel, CFG.with_(thresholds={"series": {"yardsticks": []}}))
    assert everything.n_tests == 3 * 30 * 11
    assert {"electricity", "population"} <= {f.indicator for f in everything}
