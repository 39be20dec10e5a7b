"""peer_outlier: the distance null and a planted multivariate outlier."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detect.panel.peer import distance_sf, fit_distance_null
from detect.registry import get_detector


def test_null_is_chi_square_for_chi_square_distances():
    d2 = stats.chi2.rvs(5, size=20000, random_state=np.random.default_rng(1)) * 1.7
    nu, scale = fit_distance_null(d2, 5, (0.5, 0.9))
    assert nu > 50 and scale == pytest.approx(1.7, rel=0.05)
    p = distance_sf(d2, 5, nu, scale)
    assert abs((p <= 0.01).mean() - 0.01) < 0.003


def test_null_follows_heavier_multivariate_t():
    rng = np.random.default_rng(2)
    p_dim, nu_true = 4, 6.0
    x = rng.standard_normal((30000, p_dim)) / np.sqrt(rng.chisquare(nu_true, (30000, 1)) / nu_true)
    d2 = (x ** 2).sum(axis=1)  # d2 / p ~ F(p, nu)
    nu, scale = fit_distance_null(d2, p_dim, (0.5, 0.9))
    assert 4 < nu < 10
    p = distance_sf(d2, p_dim, nu, scale)
    for a in (0.01, 0.001):
        assert (p <= a).mean() < 2.0 * a  # a chi-square null would give about 6x too many here
    assert (stats.chi2.sf(d2, p_dim) <= 0.001).mean() > 4 * 0.001


@pytest.mark.slow
def test_clean_panels_flag_at_about_the_nominal_rate(clean_panels, config):
    det = get_detector("peer_outlier")
    n = n05 = 0
    for panel in clean_panels[:2]:
        res = det.run(panel, config)
        n += res.n_tests
        n05 += sum(f.p_value <= 0.05 for f in res)
        assert all(f.kind == "supporting" and f.indicator == "*" for f in res)
    assert n > 1500 and n05 / n <= 0.07


def test_planted_profile_is_found(kit, config):
    df = kit.make_frame(seed=3, with_parents=False)
    code = "150400"
    for ind, fac in (("nontax_revenue", 1.8), ("fiscal_revenue", 1.25), ("gdp", 1.06)):
        df = kit.scale(df, code, ind, [2013], fac)
    res = get_detector("peer_outlier").run(kit.to_panel(df), config)
    hit = [f for f in res if f.region_code == code and f.period_start <= "2013" <= f.period_end]
    assert len(hit) == 1 and hit[0].p_value < 1e-4
    assert "revenue" in hit[0].summary and "supporting signal only" in hit[0].summary
