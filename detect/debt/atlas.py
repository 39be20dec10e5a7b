"""Adapter for the China prefecture debt atlas (``chenfei2008c/china-local-debt-atlas``).

Reads ``city_macro_fiscal.csv`` from a local copy of the atlas (it is not redistributable: nothing is
copied into this repository) and maps it into the long panel contract via :meth:`Panel.from_frame`.
Only rows whose ``source_grade`` is in ``grades`` (default A1/A2: official fiscal, budget and
final-account documents) are kept.

Column mapping (units: ``_100m`` = 亿元, ``_pct`` = %, ``_10k`` = 万人):

=================================  ==========================
atlas column                       panel indicator
=================================  ==========================
gdp_current_100m                   gdp
gdp_real_growth_pct                gdp_real_growth
resident_population_10k            population
general_public_revenue_100m        fiscal_revenue
general_public_expenditure_100m    fiscal_expenditure
gov_fund_revenue_100m              fund_revenue
statutory_debt_balance_100m        debt_balance (法定债务 = 一般 + 专项)
statutory_debt_limit_100m          debt_limit
general_debt_balance_100m, ...     general_debt_balance, general_debt_limit, special_debt_balance, special_debt_limit
=================================  ==========================

The atlas has no transfers received (上级补助收入), so 综合财力 and with it 债务率 are not computable;
负债率, debt / general budget revenue, 限额利用率 and 财政自给率 are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from detect.data.panel import Panel
from detect.debt.ratios import DebtRatios
from detect.exceptions import InputError

#: atlas column -> (indicator, unit)
COLUMNS: dict[str, tuple[str, str]] = {
    "gdp_current_100m": ("gdp", "亿元"),
    "gdp_real_growth_pct": ("gdp_real_growth", "%"),
    "resident_population_10k": ("population", "万人"),
    "general_public_revenue_100m": ("fiscal_revenue", "亿元"),
    "general_public_expenditure_100m": ("fiscal_expenditure", "亿元"),
    "gov_fund_revenue_100m": ("fund_revenue", "亿元"),
    "statutory_debt_balance_100m": ("debt_balance", "亿元"),
    "statutory_debt_limit_100m": ("debt_limit", "亿元"),
    "general_debt_balance_100m": ("general_debt_balance", "亿元"),
    "general_debt_limit_100m": ("general_debt_limit", "亿元"),
    "special_debt_balance_100m": ("special_debt_balance", "亿元"),
    "special_debt_limit_100m": ("special_debt_limit", "亿元"),
}
#: Upstream derived columns (formula_registry.csv) and our ratio that computes the same thing.
UPSTREAM_RATIOS: dict[str, str] = {
    "statutory_debt_to_gdp_pct": "debt_to_gdp",                 # F-DEBT-GDP
    "statutory_debt_to_revenue_pct": "debt_to_revenue",         # F-DEBT-REV
    "debt_limit_utilization_pct": "limit_utilisation",          # F-DEBT-LIMIT-UTIL
    "fiscal_self_sufficiency_pct": "self_sufficiency",          # F-FISCAL-SELF
}


def read_atlas(folder: str | Path, grades: tuple[str, ...] = ("A1", "A2")) -> pd.DataFrame:
    """The atlas macro-fiscal table, rows with ``source_grade`` in ``grades`` (all rows when empty).

    Raises
    ------
    InputError
        When ``city_macro_fiscal.csv`` is not in ``folder``.
    """
    path = Path(folder) / "city_macro_fiscal.csv"
    if not path.is_file():
        raise InputError(f"atlas file not found: {path} (expected the china-local-debt-atlas "
                         "national_prefecture_panel folder)")
    df = pd.read_csv(path, dtype={"admin_code_6": str, "province_code": str, "city_id": str}, encoding="utf-8-sig")
    if grades:
        df = df[df["source_grade"].isin(list(grades))]
    return df.reset_index(drop=True)


def atlas_long(df: pd.DataFrame) -> pd.DataFrame:
    """The atlas table as a long frame (``region_code, region_name, parent_code, indicator, period,
    value, unit``) ready for :meth:`Panel.from_frame`. Missing values stay missing (no rows)."""
    code = df["admin_code_6"].astype(str).str.zfill(6)
    parent = df["province_code"].astype(str).str.zfill(2) + "0000"
    parent = parent.where(parent != code, "")  # municipalities are their own province
    parts = []
    for col, (ind, unit) in COLUMNS.items():
        if col not in df.columns:
            continue
        v = pd.to_numeric(df[col], errors="coerce")
        keep = v.notna()
        parts.append(pd.DataFrame({
            "region_code": code[keep], "region_name": df.loc[keep, "city_name_cn"].astype(str),
            "parent_code": parent[keep], "indicator": ind, "period": df.loc[keep, "metric_year"].astype(int).astype(str),
            # the text as published (two decimals), so digit tests see what was reported
            "value": df.loc[keep, col].map(lambda x: f"{float(x):.2f}"), "unit": unit,
        }))
    if not parts:
        return pd.DataFrame(columns=["region_code", "region_name", "parent_code", "indicator", "period", "value", "unit"])
    return pd.concat(parts, ignore_index=True)


def load_atlas(folder: str | Path, grades: tuple[str, ...] = ("A1", "A2")) -> Panel:
    """The atlas (official-source rows by default) as a :class:`Panel`."""
    return Panel.from_frame(atlas_long(read_atlas(folder, grades)), source=str(Path(folder) / "city_macro_fiscal.csv"))


def grade_table(ratios: DebtRatios) -> pd.DataFrame:
    """One row per prefecture-year with the ratios computable from the atlas and their lines.

    Columns: ``region_code, region_name, year, debt_to_gdp, over_60pct, debt_to_revenue,
    limit_utilisation, limit_breach, self_sufficiency, debt_ratio, debt_ratio_grade, debt_ratio_reason``
    (the last three say why 债务率 is not computable when it is not).
    """
    t = ratios.table
    if len(t) == 0:
        return pd.DataFrame()
    val = ratios.wide("value")
    over = ratios.wide("over_line")
    reason = ratios.ratio("debt_ratio").set_index(["region_code", "year"])
    out = pd.DataFrame({
        "debt_to_gdp": val["debt_to_gdp"], "over_60pct": over["debt_to_gdp"].astype(bool),
        "debt_to_revenue": val["debt_to_revenue"],
        "limit_utilisation": val["limit_utilisation"], "limit_breach": over["limit_utilisation"].astype(bool),
        "self_sufficiency": val["self_sufficiency"],
        "debt_ratio": val["debt_ratio"], "debt_ratio_grade": reason["grade"].reindex(val.index),
        "debt_ratio_reason": reason["reason"].reindex(val.index),
    }).reset_index()
    names = t.drop_duplicates("region_code").set_index("region_code")["region_name"]
    out.insert(1, "region_name", out["region_code"].map(names))
    anything = out[["debt_to_gdp", "debt_to_revenue", "limit_utilisation", "self_sufficiency"]].notna().any(axis=1)
    return out[anything].reset_index(drop=True)


def compare_upstream(df: pd.DataFrame, ratios: DebtRatios) -> pd.DataFrame:
    """Our ratios against the atlas's own derived columns (``formula_registry.csv``), per row.

    Returns ``region_code, year, upstream_column, ratio, upstream_pct, ours_pct, diff_pct``.
    """
    val = ratios.wide("value")
    rows = []
    code = df["admin_code_6"].astype(str).str.zfill(6)
    key = pd.MultiIndex.from_arrays([code, df["metric_year"].astype(int)])
    for col, ratio in UPSTREAM_RATIOS.items():
        up = pd.to_numeric(df[col], errors="coerce").to_numpy()
        ours = 100 * val[ratio].reindex(key).to_numpy()
        rows.append(pd.DataFrame({"region_code": code.to_numpy(), "year": df["metric_year"].astype(int).to_numpy(),
                                  "upstream_column": col, "ratio": ratio, "upstream_pct": up, "ours_pct": ours,
                                  "diff_pct": ours - up}))
    out = pd.concat(rows, ignore_index=True)
    return out[np.isfinite(out["upstream_pct"]) | np.isfinite(out["ours_pct"])].reset_index(drop=True)
