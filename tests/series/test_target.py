"""target_bunching: the excess-mass estimator on a known histogram, planted bunching, clean calibration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detect.config import load_config
from detect.series.target import TargetBunching, bin_counts, excess_mass
from series_panels import panel_from_matrix

CFG = load_config()


def _growth_and_target(rng, R, T, bunch=()):
    target = np.round((7 + rng.normal(0, 1, (R, T)) * 2) * 2) / 2
    growth = np.round(target + rng.normal(0.3, 1.5, (R, T)), 1)
    for r in bunch:
        hit = rng.random(T) < 0.8
        growth[r, hit] = target[r, hit] + rng.integers(0, 4, hit.sum()) / 10
    return growth, target


def test_excess_mass_of_a_polynomial_histogram_plus_known_bunching():
    # counts exactly quadratic in the bin centre, plus 30 extra in the window: B = 30 exactly
    lows = np.arange(-20, 20) * 0.2
    centers = lows + 0.05
    base = 200 - 10 * centers ** 2
    inw = (lows >= 0) & (lows < 0.4)
    counts = base + np.where(inw, 15.0, 0.0)
    B, cf = excess_mass(counts[None, :], centers, inw, 7)
    assert B[0] == pytest.approx(30.0, abs=1e-6)
    assert cf[0] == pytest.approx(base[inw].sum(), rel=1e-9)


def test_bins_hold_two_reporting_steps():
    gap = np.array([[-0.1, 0.0, 0.1, 0.2, 0.3, 0.4]])
    c, lows = bin_counts(gap, 0.2, 4.0)
    j0 = int(np.flatnonzero(np.isclose(lows, 0.0))[0])
    assert c[0, j0 - 1] == 1 and c[0, j0] == 2 and c[0, j0 + 1] == 2 and c[0, j0 + 2] == 1


def test_planted_bunching_is_found_pooled_and_per_region():
    rng = np.random.default_rng(21)
    growth, target = _growth_and_target(rng, 100, 15, bunch=(0, 1, 2, 3, 4, 5))
    res = TargetBunching().run(panel_from_matrix({"gdp_real_growth": growth, "growth_target": target}), CFG)
    pooled = [f for f in res if f.region_code == "*"]
    assert pooled and pooled[0].p_value < 0.01 and pooled[0].effect > 0.3
    regions = {f.region_code for f in res if f.region_code != "*" and f.p_value < 1e-4}
    assert {f"90000{i}" for i in range(6)} <= regions
    assert res.n_tests == 101


def test_growth_from_gdp_when_no_rate_is_given():
    rng = np.random.default_rng(22)
    growth, target = _growth_and_target(rng, 60, 12)
    gdp = 100 * np.cumprod(1 + growth / 100, axis=1)
    res = TargetBunching().run(panel_from_matrix({"gdp": gdp, "growth_target": target}), CFG)
    assert any("nominal gdp" in n for n in res.notes) and res.n_tests > 0


def test_no_target_no_test():
    rng = np.random.default_rng(23)
    growth, _ = _growth_and_target(rng, 30, 10)
    res = TargetBunching().run(panel_from_matrix({"gdp_real_growth": growth}), CFG)
    assert res.n_tests == 0 and len(res) == 0


@pytest.mark.slow
def test_pooled_calibration_on_clean_gaps():
    # 300 clean histograms (100 regions x 15 years): share of pooled p < 0.05 within 2-9 %
    ps = []
    for s in range(300):
        rng = np.random.default_rng(1000 + s)
        growth, target = _growth_and_target(rng, 100, 15)
        gap = np.round(growth - target, 6)
        counts, lows = bin_counts(gap, 0.2, 4.0)
        inw = (lows >= -1e-9) & (lows < 0.4 - 1e-9)
        B, _ = excess_mass(counts.sum(0, keepdims=True), lows + 0.05, inw, 7)
        w = rng.multinomial(100, np.full(100, 0.01), size=200)
        Bb, _ = excess_mass(w @ counts, lows + 0.05, inw, 7)
        ps.append(stats.norm.sf(B[0] / Bb.std(ddof=1)))
    share = float(np.mean(np.array(ps) < 0.05))
    assert 0.02 <= share <= 0.09, share
