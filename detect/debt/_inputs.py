"""Inputs shared by the debt checks: a full region x year grid of the debt-relevant indicators.

Private to :mod:`detect.debt`. The grid has one row per (region, year) for every year between the
panel's first and last annual period (gap years are rows of NaN), so a lag is a shift within
region and growth never spans a gap silently.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from detect.data.panel import Panel

#: Canonical indicators the debt checks read.
DEBT_INDICATORS: tuple[str, ...] = (
    "debt_balance", "debt_limit", "lgfv_debt", "interest_paid", "debt_service", "overdue_debt",
    "fiscal_revenue", "fiscal_expenditure", "transfer_revenue", "fund_revenue", "state_capital_revenue",
    "land_revenue", "gdp",
)
#: Debt figures: none exists before the first statutory year-end stock (``debt.first_debt_year``).
DEBT_INPUTS: tuple[str, ...] = ("debt_balance", "debt_limit", "lgfv_debt", "interest_paid", "debt_service",
                                "overdue_debt")
#: Optional, non-canonical sub-category indicators (法定债务 = 一般债务 + 专项债务), used for sub-limit checks.
SUB_INDICATORS: tuple[str, ...] = (
    "general_debt_balance", "general_debt_limit", "special_debt_balance", "special_debt_limit",
)
#: 综合财力 parts: required, then optional ("where given").
RESOURCES_REQUIRED: tuple[str, ...] = ("fiscal_revenue", "transfer_revenue", "fund_revenue")
RESOURCES_OPTIONAL: tuple[str, ...] = ("state_capital_revenue",)

LABEL_ZH: dict[str, str] = {
    "debt_balance": "政府债务余额", "debt_limit": "债务限额", "lgfv_debt": "城投及隐性债务",
    "interest_paid": "债务付息支出", "debt_service": "债务还本付息", "overdue_debt": "逾期债务",
    "fiscal_revenue": "一般公共预算收入", "fiscal_expenditure": "一般公共预算支出",
    "transfer_revenue": "上级转移支付", "fund_revenue": "政府性基金收入",
    "state_capital_revenue": "国有资本经营收入", "land_revenue": "土地出让收入", "gdp": "地区生产总值",
    "general_debt_balance": "一般债务余额", "general_debt_limit": "一般债务限额",
    "special_debt_balance": "专项债务余额", "special_debt_limit": "专项债务限额",
}


@dataclass
class DebtFrame:
    """The grid: ``data`` indexed by (region_code, year) with one float column per indicator in
    :data:`DEBT_INDICATORS` + :data:`SUB_INDICATORS` (all-NaN when absent from the panel);
    ``present`` the indicators the panel has at all; ``regions`` the panel's region table;
    ``codes``/``years`` the grid axes (region-major order)."""

    data: pd.DataFrame
    present: frozenset[str]
    regions: pd.DataFrame
    codes: np.ndarray
    years: np.ndarray

    @property
    def n_regions(self) -> int:
        return len(self.codes)

    @property
    def n_years(self) -> int:
        return len(self.years)

    def matrix(self, col: str | pd.Series) -> np.ndarray:
        """A column as a regions x years array."""
        v = self.data[col] if isinstance(col, str) else col
        return np.asarray(v, dtype=float).reshape(self.n_regions, self.n_years)

    def lag(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Previous year's value within region (NaN in the first year), flattened like ``data``."""
        m = np.asarray(values, dtype=float).reshape(self.n_regions, self.n_years)
        out = np.full_like(m, np.nan)
        out[:, 1:] = m[:, :-1]
        return out.ravel()

    def names(self) -> pd.Series:
        return self.regions.set_index("region_code")["region_name"].astype(str)


def debt_frame(panel: Panel) -> DebtFrame:
    """The debt grid of ``panel`` (annual rows, latest vintage), cached per panel object.

    The last grid is reused while the panel's data frame is the same object with the same length
    and value sum (detectors of one run share one pivot; an edited frame is rebuilt).
    """
    data = panel.data
    sig = (id(data), len(data), float(np.nansum(data["value"].to_numpy(dtype=float))) if len(data) else 0.0)
    ref = _LAST.get("ref")
    if _LAST.get("sig") == sig and ref is not None and ref() is data:
        return _LAST["frame"]
    frame = _build(panel)
    _LAST.update(sig=sig, ref=weakref.ref(data), frame=frame)
    return frame


_LAST: dict = {}


def _build(panel: Panel) -> DebtFrame:
    cols = (*DEBT_INDICATORS, *SUB_INDICATORS)
    regions = panel.regions
    d = panel.data
    d = d[(d["freq"] == "A") & d["indicator"].isin(cols)] if len(d) else d
    if len(d) and not d["vintage"].eq("").all():
        d = d.sort_values(["region_code", "indicator", "period", "vintage"], kind="mergesort")
        d = d.drop_duplicates(["region_code", "indicator", "period"], keep="last")
    codes = np.asarray(sorted(regions["region_code"].astype(str)), dtype=object) if len(regions) else np.asarray([], dtype=object)
    if len(d) == 0:
        years = np.asarray([], dtype=int)
        idx = pd.MultiIndex.from_arrays([np.asarray([], dtype=object), years], names=["region_code", "year"])
        data = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols}, index=idx)
        return DebtFrame(data, frozenset(), regions, np.asarray([], dtype=object), years)
    years = np.arange(int(d["year"].min()), int(d["year"].max()) + 1)
    d = d.drop_duplicates(["region_code", "indicator", "year"], keep="last")
    wide = d.pivot(index=["region_code", "year"], columns="indicator", values="value")
    wide.columns.name = None
    idx = pd.MultiIndex.from_product([codes, years], names=["region_code", "year"])
    wide = wide.reindex(idx)
    present = frozenset(c for c in wide.columns if c in cols and wide[c].notna().any())
    data = pd.DataFrame({c: (wide[c].astype("float64") if c in wide.columns else np.nan) for c in cols}, index=idx)
    return DebtFrame(data, present, regions, codes, years)


def resources(frame: DebtFrame) -> tuple[pd.Series, pd.Series]:
    """综合财力 = fiscal_revenue + transfer_revenue + fund_revenue (+ state_capital_revenue where given).

    Returns
    -------
    value : Series
        NaN where a required part is missing.
    with_state_capital : Series of bool
        Whether state-capital revenue was included in that region-year.
    """
    d = frame.data
    req = d[list(RESOURCES_REQUIRED)]
    value = req.sum(axis=1, min_count=len(RESOURCES_REQUIRED)).where(req.notna().all(axis=1))
    sc = d["state_capital_revenue"]
    value = value + sc.fillna(0.0)
    return value, sc.notna() & value.notna()


def runs(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of consecutive True along axis 1 of a 2-D boolean array: ``[(row, start, end)]``
    (``end`` inclusive), row-major order."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return []
    pad = np.zeros((m.shape[0], 1), dtype=bool)
    diff = np.diff(np.concatenate([pad, m, pad], axis=1).astype(np.int8), axis=1)
    starts = np.argwhere(diff == 1)
    ends = np.argwhere(diff == -1)
    # both are sorted row-major, and every start has its end in the same row
    return [(int(r), int(s), int(e) - 1) for (r, s), (_, e) in zip(starts, ends)]


def series_dict(years: np.ndarray, values: np.ndarray, digits: int = 6) -> dict[str, float | None]:
    """``{year: value}`` for evidence, None for NaN."""
    return {str(int(y)): (None if not np.isfinite(v) else round(float(v), digits)) for y, v in zip(years, values)}


def pct(x: float, digits: int = 0) -> str:
    """A ratio as compact per cent text: 1.873 -> '187 %'."""
    return f"{100 * x:.{digits}f} %" if np.isfinite(x) else "n/a"


def money(x: float) -> str:
    """An amount in 亿元 as text with sensible precision."""
    if not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}" if abs(x) >= 1 else f"{x:,.2f}"


def money_en(x: float) -> str:
    """An amount in 亿元 for an English sentence: ``CNY 57.7 bn`` (1 亿元 = CNY 0.1 bn)."""
    if not np.isfinite(x):
        return "n/a"
    return f"CNY {money(x / 10)} bn"
