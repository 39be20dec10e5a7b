"""The panel detector ``digits``: last-digit preference per region."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect.config import load_config
from detect.data.panel import Panel
from detect.digits.detector import last_digit_table
from detect.registry import get_detector

CONFIG = load_config()
INDS = ("gdp", "tax_revenue", "fiscal_expenditure", "investment", "land_revenue", "electricity", "population")


def _panel(n_regions=20, invent=(), as_float=False, extra=None, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_regions):
        code = f"91{r:04d}"
        for y in range(2005, 2021):
            for k, ind in enumerate(INDS):
                v = 10 ** rng.uniform(2, 4)
                if code in invent and rng.random() < 0.6:
                    v = np.floor(v) + rng.choice([0.0, 0.5, 0.0])      # .00 / .50: writer's round figures
                text = f"{v:.2f}"
                rows.append((code, f"R{r}", "", ind, str(y), float(text) if as_float else text, ""))
            if extra:
                rows.append((code, f"R{r}", "", extra[0], str(y), extra[1](rng), ""))
    df = pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator", "period", "value", "unit"])
    return Panel.from_frame(df)


def test_finds_the_inventing_region_only():
    p = _panel(invent={"910003"})
    res = get_detector("digits").run(p, CONFIG)
    assert res.n_tests == 20   # one per region; a year alone has 7 figures, too few for its own test
    codes = [f.region_code for f in res]
    assert "910003" in codes
    f = next(f for f in res if f.region_code == "910003")
    assert f.p_value < 1e-6 and f.indicator == "*" and (f.period_start, f.period_end) == ("2005", "2020")
    ev = f.evidence
    assert [d["digit"] for d in ev["digits"]] == list(range(10)) and sum(d["count"] for d in ev["digits"]) == ev["n"]
    assert ev["digits"][0]["band_low"] < ev["digits"][0]["expected_count"] < ev["digits"][0]["band_high"]
    assert "0 or 5" in f.summary and "0或5" in f.summary_zh


def test_float_values_keep_series_precision():
    """Values given as floats lose trailing zeros (12.30 -> 12.3); the series precision restores
    them, so clean regions do not show a deficit of zeros."""
    p = _panel(as_float=True, seed=3)
    t, _ = last_digit_table(p, CONFIG)
    share0 = (t["last"] == 0).mean()
    assert abs(share0 - 0.1) < 0.02
    res = get_detector("digits").run(p, CONFIG)
    assert all(f.p_value > 1e-4 for f in res)


def test_rates_and_targets_not_tested():
    p = _panel(n_regions=3, extra=("growth_target", lambda rng: "8.0"))
    t, _ = last_digit_table(p, CONFIG)
    assert "growth_target" not in set(t["indicator"])


def test_structural_zeros_left_out_with_note():
    # population published to the nearest 10 000 (万人 with one decimal always .0) in every region
    p = _panel(n_regions=5, extra=("rail_freight", lambda rng: f"{rng.integers(100, 999) * 10}.0"))
    t, notes = last_digit_table(p, CONFIG)
    assert "rail_freight" not in set(t["indicator"])
    assert any("rail_freight" in n for n in notes)


def test_clean_panel_false_alarm_rate():
    """60 clean regions: the number with p <= 0.05 is close to 5 % of tests, none tiny."""
    p = _panel(n_regions=60, seed=11)
    res = get_detector("digits").run(p, CONFIG)
    assert res.n_tests == 60
    assert len(res) <= 8
    assert all(f.p_value > 1e-3 for f in res)
