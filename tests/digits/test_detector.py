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


def test_region_year_test_with_monthly_figures():
    """Monthly figures give a year enough values for its own test: an invented year stands out."""
    rng = np.random.default_rng(21)
    rows = []
    for r in range(6):
        code = f"92{r:04d}"
        for y in (2018, 2019, 2020):
            for mth in range(1, 13):
                for ind in INDS:
                    v = 10 ** rng.uniform(2, 4)
                    if code == "920002" and y == 2019:
                        v = np.floor(v)                       # whole numbers: last digits 0
                    rows.append((code, f"R{r}", "", ind, f"{y}-{mth:02d}", f"{v:.2f}", ""))
    df = pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator", "period", "value", "unit"])
    res = get_detector("digits").run(Panel.from_frame(df), CONFIG)
    assert res.n_tests == 6 + 6 * 3
    keys = {(f.region_code, f.period_start, f.period_end) for f in res}
    assert ("920002", "2019", "2019") in keys
    assert ("920002", "2018", "2020") in keys
    assert not any(f.region_code == "920002" and f.period_start in ("2018", "2020") and f.period_end == f.period_start
                   and f.p_value < 1e-4 for f in res)


def test_pooled_indicator_names_keep_their_commas():
    """An indicator name with a comma is one name in the evidence (second review: the pooled names
    were joined with commas and split again)."""
    rng = np.random.default_rng(3)
    vals = 10 ** rng.uniform(2, 4, 100)
    rows = [("910000", "R", "", "产值,合计", str(1900 + i), f"{np.floor(v) if rng.random() < 0.35 else v:.2f}", "")
            for i, v in enumerate(vals)]        # a third rounded to whole yuan: 0s well above 10 %
    p = Panel.from_frame(pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator",
                                                     "period", "value", "unit"]))
    cfg = CONFIG.with_(options={"digits": {"indicators": ["产值,合计"]}})
    res = get_detector("digits").run(p, cfg)
    assert [f.evidence["indicators"] for f in res.items if f.evidence["scope"] == "region"] == [["产值,合计"]]


def test_figures_beyond_15_significant_digits_get_no_invented_last_digit():
    """The magnitude is read from the first 15 significant digits: a figure reported with 16
    ("1234567890123.456", last digit 6) must not be given the last digit 0 of the rounded value."""
    from detect.digits.detector import figure_digits

    rows = [("910000", "R", "", "gdp", str(2000 + i), v, "")
            for i, v in enumerate(["1234567890123.456", "1234567890123.451", "123.456", "4567.891"])]
    p = Panel.from_frame(pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator",
                                                     "period", "value", "unit"]))
    t, _ = figure_digits(p, CONFIG)
    assert sorted(t["last"].tolist()) == [1, 6]     # 123.456 / 4567.891; the 16-digit figures are not read
