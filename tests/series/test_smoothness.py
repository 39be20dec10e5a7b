"""smoothness: too-smooth growth found, heaping found, clean panels at the nominal rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detect.config import load_config
from detect.series.smoothness import (Smoothness, detrended_variance, effective_df, heaping, low_variance_p,
                                      window_scan)
from series_panels import panel_from_matrix, random_walk_levels

CFG = load_config()


def _rates(rng, R, T, smooth=(), sd=1.0):
    g = 7.0 + rng.normal(0, 0.5, (R, 1)) + rng.normal(0, sd, (R, T))
    for r in smooth:
        g[r] = 7.0 + np.linspace(0.5, -0.5, T) + rng.normal(0, 0.1 * sd, T)
    return np.round(g, 1)


def test_effective_df_recovers_chi_square_and_never_exceeds_nu():
    rng = np.random.default_rng(3)
    for nu in (4.0, 8.0, 16.0):
        lv = np.log(rng.chisquare(nu, 20000))
        iqr = np.subtract(*np.percentile(lv, [75, 25]))
        assert effective_df(iqr, 100.0) == pytest.approx(nu, rel=0.08)
        assert effective_df(iqr, nu / 2) == nu / 2        # capped at the nominal degrees of freedom
    assert effective_df(float("nan"), 8.0) == 8.0


def _ar_panels(rng, rho, n_panels=150, R=100, n=10):
    e = rng.standard_normal((n_panels * R, n + 20))
    x = np.zeros_like(e)
    for t in range(1, n + 20):
        x[:, t] = rho * x[:, t - 1] + e[:, t]
    return x[:, 20:].reshape(n_panels, R, n)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_low_variance_p_is_valid_with_serial_correlation(rho):
    # honest growth with AR(1) errors (rho = 0.5 is the sample generator's): the share of p below
    # 1 % and 5 % must not exceed the nominal level (binomial slack of 3 s.e. on 15,000 p-values)
    ps = []
    for x in _ar_panels(np.random.default_rng(5 + int(rho * 10)), rho):
        s2, nu = detrended_variance(x, 10)
        ps.append(low_variance_p(s2, nu, np.zeros(len(x)).astype(str), 8)["p"])
    p = np.concatenate(ps)
    for a in (0.01, 0.05):
        assert (p < a).mean() <= a + 3 * np.sqrt(a * (1 - a) / len(p))
    assert (p < 0.05).mean() >= 0.025        # and not uselessly conservative


def test_smoothed_growth_is_found():
    rng = np.random.default_rng(11)
    p = panel_from_matrix({"gdp_real_growth": _rates(rng, 60, 20, smooth=(0, 1))}, raw_decimals={"gdp_real_growth": 1})
    res = Smoothness().run(p, CFG)
    found = {f.region_code for f in res if f.p_value < 0.001}
    assert {"900000", "900001"} <= found
    f = next(f for f in res if f.region_code == "900000")
    assert f.kind == "smooth_vs_peers" and f.evidence["series"]["2003"] is not None


def test_partial_smoothing_found_by_the_window_scan():
    rng = np.random.default_rng(12)
    g = _rates(rng, 80, 20)
    g[3, 5:15] = np.round(7.0 + np.linspace(0.3, -0.3, 10), 1)  # a smoothed decade
    r = window_scan(g / 100, np.zeros(80).astype(str), 8, 10, 4000, 40, 1)
    assert r["p"][3] < 0.001 and 3 <= r["start"][3] <= 7


def test_smooth_against_proxy_is_found():
    rng = np.random.default_rng(13)
    R, T = 50, 18
    elec = random_walk_levels(rng, R, T, sd=0.04)
    gdp = elec * np.exp(rng.normal(0, 0.01, (R, T)))
    gdp[0] = 100 * np.exp(0.07 * np.arange(1, T + 1))  # reported GDP perfectly smooth, electricity not
    res = Smoothness().run(panel_from_matrix({"gdp": gdp, "electricity": elec}), CFG)
    f = [f for f in res if f.region_code == "900000"]
    assert f and f[0].p_value < 0.01
    assert f[0].evidence["sub_test_p"]["proxies"] is not None


def test_heaping_counts_and_binomial_p():
    import pandas as pd
    raw = pd.DataFrame([["7.0", "8.5", "9.0", "7.5", "6.3", "8.0"], ["7.1", "8.2", "9.0", "7.7", "6.3", "8.4"]])
    k, n, p = heaping(raw)
    assert list(k) == [5, 1] and list(n) == [6, 6]
    assert p[0] == pytest.approx(stats.binom.sf(4, 6, 0.2))


def test_heaped_rates_are_found():
    rng = np.random.default_rng(14)
    g = _rates(rng, 40, 16)
    g[5] = np.round(g[5] * 2) / 2  # every rate of region 5 ends in .0 or .5
    res = Smoothness().run(panel_from_matrix({"gdp_real_growth": g}, raw_decimals={"gdp_real_growth": 1}), CFG)
    f = [f for f in res if f.region_code == "900005"]
    assert f and f[0].kind == "growth_heaping"


def test_short_series_note():
    rng = np.random.default_rng(15)
    res = Smoothness().run(panel_from_matrix({"gdp_real_growth": _rates(rng, 20, 5)}), CFG)
    assert res.n_tests == 0 and any("not tested" in n for n in res.notes)


@pytest.mark.slow
def test_calibration_on_clean_panels():
    # 10 clean panels x 100 regions (rates and levels with a proxy): share of p < 0.05 within 1.5-7.5 %
    n = k = 0
    for s in range(10):
        rng = np.random.default_rng(200 + s)
        rates = _rates(rng, 100, 20)
        elec = random_walk_levels(rng, 100, 20, sd=0.03)
        gdp = elec * np.exp(rng.normal(0, 0.02, (100, 20)))
        res = Smoothness().run(panel_from_matrix({"gdp_real_growth": rates, "gdp": gdp, "electricity": elec},
                                                 raw_decimals={"gdp_real_growth": 1}), CFG)
        n += res.n_tests
        k += len(res)
    assert n == 2000
    assert 0.015 <= k / n <= 0.075, k / n
