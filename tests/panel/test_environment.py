"""pm25_neighbours on crafted panels; the leave-one-out median against brute force."""

from __future__ import annotations

import numpy as np

from detect.panel.environment import loo_median
from detect.registry import get_detector


def test_loo_median_matches_brute_force():
    rng = np.random.default_rng(0)
    v = rng.normal(size=300)
    g = rng.integers(0, 25, 300)
    med, others = loo_median(v, g)
    idx = np.arange(300)
    for i in range(300):
        rest = v[(g == g[i]) & (idx != i)]
        assert others[i] == len(rest)
        if len(rest):
            assert med[i] == np.median(rest)
        else:
            assert np.isnan(med[i])


def test_clean_panels_flag_at_about_the_nominal_rate(clean_panels, config):
    det = get_detector("pm25_neighbours")
    n = n05 = 0
    for panel in clean_panels:
        res = det.run(panel, config)
        n += res.n_tests
        n05 += sum(f.p_value <= 0.05 for f in res)
    assert n == 3 * 60 * 15
    assert 0.02 <= n05 / n <= 0.07


def test_pm25_drop_found_in_its_year(kit, config):
    df = kit.scale(kit.make_frame(seed=5, with_parents=False), "140500", "pm25", range(2015, 2020), 0.7)
    res = get_detector("pm25_neighbours").run(kit.to_panel(df), config)
    hit = [f for f in res if f.region_code == "140500" and f.period_start <= "2015" <= f.period_end]
    assert len(hit) == 1 and hit[0].p_value < 1e-4
    f = hit[0]
    assert f.p_value == min(g.p_value for g in res)
    assert f.kind == "pm25_drop" and "9 siblings under 140000" in f.summary
    # the sibling median log change is small against the planted -36 % (log 0.7)
    assert abs(f.evidence["sibling_median_change"]["2015"]) < 0.1
    assert "series" in f.evidence


def test_without_parents_not_applicable(kit, config):
    df = kit.make_frame(seed=5, with_parents=False)
    df["parent_code"] = ""
    res = get_detector("pm25_neighbours").run(kit.to_panel(df), config)
    assert res.n_tests == 0 and any("parent_code" in n for n in res.notes)
