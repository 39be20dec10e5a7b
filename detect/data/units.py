"""Unit normalisation: every indicator is brought to one base unit.

Money is carried in 亿元 (10^8 yuan), electricity in 亿千瓦时, freight in 万吨, population in 万人,
rates in per cent. A value whose unit cannot be converted to its indicator's base is excluded with
the reason, never guessed.
"""

from __future__ import annotations

import unicodedata

#: dimension -> (base unit, {unit spelling (normalised): factor to base})
DIMENSIONS: dict[str, tuple[str, dict[str, float]]] = {
    "money": ("亿元", {
        "元": 1e-8, "yuan": 1e-8, "rmb": 1e-8, "cny": 1e-8,
        "千元": 1e-5, "thousandyuan": 1e-5,
        "万元": 1e-4, "10kyuan": 1e-4, "tenthousandyuan": 1e-4, "10000yuan": 1e-4,
        "百万元": 1e-2, "millionyuan": 1e-2, "mnyuan": 1e-2,
        "千万元": 1e-1,
        "亿元": 1.0, "100myuan": 1.0, "100millionyuan": 1.0, "hundredmillionyuan": 1.0,
        "十亿元": 10.0, "billionyuan": 10.0, "bnyuan": 10.0,
        "万亿元": 1e4, "trillionyuan": 1e4,
    }),
    "energy": ("亿千瓦时", {
        "千瓦时": 1e-8, "kwh": 1e-8, "度": 1e-8,
        "万千瓦时": 1e-4, "10kkwh": 1e-4,
        "亿千瓦时": 1.0, "100mkwh": 1.0,
        "gwh": 1e-2, "twh": 10.0,
    }),
    "mass": ("万吨", {"吨": 1e-4, "t": 1e-4, "tonne": 1e-4, "tons": 1e-4, "万吨": 1.0, "10kt": 1.0,
                     "10kton": 1.0, "亿吨": 1e4}),
    "people": ("万人", {"人": 1e-4, "persons": 1e-4, "person": 1e-4, "万人": 1.0, "10kpersons": 1.0,
                       "10kpeople": 1.0, "10000persons": 1.0, "10000people": 1.0, "亿人": 1e4}),
    "percent": ("%", {"%": 1.0, "percent": 1.0, "pct": 1.0, "百分比": 1.0}),
    "concentration": ("μg/m³", {"μg/m³": 1.0, "μg/m3": 1.0, "ug/m3": 1.0, "微克/立方米": 1.0, "mg/m3": 1e3}),
}

#: Indicator -> dimension (indicators not listed keep the unit they were given).
INDICATOR_DIMENSION: dict[str, str] = {
    **{k: "money" for k in (
        "gdp", "gdp_secondary", "manufacturing_va", "industrial_output", "industrial_va", "fiscal_revenue",
        "tax_revenue", "vat_revenue", "nontax_revenue", "fiscal_expenditure", "fund_revenue", "land_revenue",
        "transfer_revenue", "state_capital_revenue", "investment", "debt_balance", "debt_limit",
        "lgfv_debt", "interest_paid", "debt_service", "overdue_debt")},
    "electricity": "energy",
    "rail_freight": "mass",
    "population": "people",
    "gdp_real_growth": "percent",
    "growth_target": "percent",
    "pm25": "concentration",
}


#: Base units in English (reports and summaries written in English).
UNIT_EN: dict[str, str] = {"亿元": "100 million yuan", "亿千瓦时": "100 million kWh", "万吨": "10,000 t",
                           "万人": "10,000 persons", "万元": "10,000 yuan", "元": "yuan"}


def unit_label(unit: object, lang: str = "en") -> str:
    """A unit as a reader of ``lang`` expects it (``亿元`` -> ``100 million yuan`` in English)."""
    u = "" if unit is None else str(unit)
    return UNIT_EN.get(u, u) if lang == "en" else u


def norm_unit(unit: object) -> str:
    """Normalised spelling of a unit (NFKC, lower case, no spaces)."""
    if unit is None:
        return ""
    s = unicodedata.normalize("NFKC", str(unit)).strip().lower().replace(" ", "")
    return s.replace("µ", "μ")


def base_unit(indicator: str) -> str | None:
    """The base unit of a canonical indicator, or None when it has no fixed dimension."""
    dim = INDICATOR_DIMENSION.get(indicator)
    return DIMENSIONS[dim][0] if dim else None


def factor(indicator: str, unit: str) -> float | None:
    """Factor that converts ``unit`` to the indicator's base unit.

    Returns 1.0 when the unit is empty (taken as already in the base unit) or the indicator has no
    fixed dimension, and None when the unit cannot be converted.
    """
    dim = INDICATOR_DIMENSION.get(indicator)
    u = norm_unit(unit)
    if dim is None or u == "":
        return 1.0
    base, table = DIMENSIONS[dim]
    if u == norm_unit(base):
        return 1.0
    return table.get(u)
