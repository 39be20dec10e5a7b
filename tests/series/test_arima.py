"""arima_outlier: confirms a planted level shift, agrees with an independent ARIMA fit, stays quiet on clean data."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.arima.model import ARIMA

from detect.config import load_config
from detect.series.arima import ArimaOutlier, fit_intervention
from series_panels import panel_from_matrix, random_walk_levels

CFG = load_config()


def test_fit_matches_statsmodels_arima():
    # same model (AR(1) + intercept + one regressor, exact Gaussian ML) through another estimator
    rng = np.random.default_rng(41)
    g = 0.07 + rng.normal(0, 0.03, 19)
    x = np.zeros(19)
    x[10] = 1.0
    g = g - 0.3 * x
    ours = fit_intervention(g, x)
    ref = ARIMA(g, exog=x[:, None], order=(1, 0, 0), trend="c").fit()
    assert ours["delta"] == pytest.approx(ref.params[1], abs=2e-3)
    assert ours["phi"] == pytest.approx(ref.params[2], abs=2e-2)


def test_planted_shift_confirmed_and_skips_recorded():
    rng = np.random.default_rng(42)
    lv = random_walk_levels(rng, 40, 20)
    lv[0, 12:] *= 0.7
    res = ArimaOutlier().run(panel_from_matrix({"gdp": lv}), CFG)
    hit = [f for f in res if f.region_code == "900000"]
    assert hit and hit[0].period_start == "2015" and hit[0].kind == "level_shift" and hit[0].p_value < 1e-3
    assert res.n_tests == 40
    assert any("fits of 40 eligible" in n for n in res.notes)
    assert "fitted_growth" in hit[0].evidence


def test_short_series_not_fitted():
    rng = np.random.default_rng(43)
    res = ArimaOutlier().run(panel_from_matrix({"gdp": random_walk_levels(rng, 30, 10)}), CFG)
    assert res.n_tests == 0 and any("shorter than" in n for n in res.notes)


@pytest.mark.slow
def test_clean_panel_rarely_confirms():
    n = k = 0
    for s in range(3):
        rng = np.random.default_rng(500 + s)
        res = ArimaOutlier().run(panel_from_matrix({"gdp": random_walk_levels(rng, 150, 20)}), CFG)
        n += res.n_tests
        k += len(res)
    assert k / n <= 0.06, k / n
