"""The precision figures were reported with: decimals of the raw text and half a unit of the last digit.

A value published with ``d`` decimals is within ``0.5 * 10^-d`` of the truth; the aggregation check
(parent against the sum of its children) and the level-shift search (a series cannot be smoother
than its reported digits allow) both read that tolerance from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect.data.panel import Panel


def reported_decimals(raw: pd.Series) -> pd.Series:
    """Number of decimals of reported numbers (NaN when the raw text is unknown or not a plain number)."""
    t = raw.fillna("").astype(str).str.strip().str.replace(",", "", regex=False)
    num = pd.to_numeric(t, errors="coerce")
    plain = num.notna() & ~t.str.contains(r"[eE]", regex=True)
    pos = t.str.find(".")
    dec = np.where(pos.to_numpy() >= 0, t.str.len().to_numpy() - pos.to_numpy() - 1, 0).astype(float)
    return pd.Series(np.where(plain.to_numpy(), dec, np.nan), index=raw.index)


def half_units(panel: Panel, default_decimals: int) -> pd.DataFrame:
    """``(indicator, region_code)`` x years: half a unit of the last reported digit, in the base unit."""
    d = panel.latest()
    d = d[d["freq"] == "A"]
    if d.empty:
        return pd.DataFrame(dtype=float)
    dec = reported_decimals(d["raw"])
    rawnum = pd.to_numeric(d["raw"].astype(str).str.replace(",", "", regex=False), errors="coerce")
    factor = (d["value"] / rawnum).where((rawnum != 0) & dec.notna(), 1.0).abs()
    h = 0.5 * 10.0 ** (-dec.fillna(default_decimals)) * factor
    out = pd.DataFrame({"indicator": d["indicator"], "region_code": d["region_code"], "year": d["year"],
                        "h": h.to_numpy()})
    return out.groupby(["indicator", "region_code", "year"])["h"].max().unstack("year")


__all__ = ["half_units", "reported_decimals"]
