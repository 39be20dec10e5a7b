"""Reported precision: decimals of the raw text and half a unit of the last digit (detect/data/precision.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detect.data import Panel
from detect.data.precision import half_units, reported_decimals


def test_decimals_of_raw_text():
    got = reported_decimals(pd.Series(["12.34", "7", "1,234.5", "", "abc", "3."]))
    assert got.tolist()[:3] == [2.0, 0.0, 1.0] and np.isnan(got.iat[3]) and np.isnan(got.iat[4]) and got.iat[5] == 0.0


def test_half_units_in_the_base_unit():
    """12.34 亿元 is within 0.005 亿元; a figure in 万元 converted to 亿元 carries its own, smaller half unit."""
    df = pd.DataFrame({"region_code": ["110000", "110000", "120000"], "region_name": ["A", "A", "B"],
                       "parent_code": ["", "", ""], "indicator": ["gdp", "gdp", "gdp"],
                       "period": ["2020", "2021", "2020"], "value": ["12.34", "15", "123456"],
                       "unit": ["亿元", "亿元", "万元"]})
    h = half_units(Panel.from_frame(df), default_decimals=2)
    assert h.loc[("gdp", "110000"), 2020] == pytest.approx(0.005)
    assert h.loc[("gdp", "110000"), 2021] == pytest.approx(0.5)
    assert h.loc[("gdp", "120000"), 2020] == pytest.approx(0.5e-4)      # half a 万元 in 亿元
