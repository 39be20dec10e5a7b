"""Seeded synthetic panel of fictional regions with planted anomalies of known kind and size.

The sample is the project's test bed: a long panel in the input contract
(``region_code, region_name, parent_code, indicator, period, value, unit``) for about eight
fictional provinces (codes ``9x0000``) and a hundred prefectures under them, 2003–2022, plus a
``truth`` table with one row per planted anomaly. Detection quality is scored against it
(:mod:`detect.quality`).

How the clean figures are made (all per prefecture, provinces are exact sums of their parts):

* true real growth (%) = national cycle + common shocks (2009 −3 pp, 2020 −5 pp, 2021 rebound)
  + province effect + region level and slope + AR(1) noise; nominal GDP = real index × deflator;
* proxies (electricity, night lights, rail freight) follow *true* real growth with a region
  elasticity in [0.8, 1.1] and their own noise (rail freight noisiest);
* tax = wandering share (6–9 %) of true GDP; VAT 35–45 % of tax; non-tax share of fiscal revenue a
  random walk on the logit, kept in [15 %, 35 %]; ``fiscal_revenue = tax_revenue + nontax_revenue``
  exactly (in reported cents);
* expenditure 1.3–2.5 × true revenue; transfers fill 60–80 % of the gap; the rest is borrowed:
  ``debt_t = debt_{t-1} + (expenditure − fiscal revenue − transfers) + ε`` (from 2014), with
  ``debt_limit`` 3–12 % above the true balance, interest 3.5–4.5 % of last year's debt,
  ``debt_service`` = interest + principal repaid, LGFV debt 0.5–2 × debt;
* PM2.5 (from 2013) declines slowly, with a province component shared by siblings.

Every random number comes from one ``numpy.random.Generator`` seeded with ``seed``, drawn in the
same order whatever ``effect`` or ``clean`` is, so ``clean=True`` (and ``effect=0``) gives exactly
the counterfactual panel of the planted one.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from detect.exceptions import InputError

DEFAULT_SEED = 20240601

#: Columns of the generated panel, in order (the project's long input contract).
SAMPLE_COLUMNS: tuple[str, ...] = ("region_code", "region_name", "parent_code", "indicator", "period", "value",
                                   "unit")
#: Columns of ``truth.csv``, in order.
TRUTH_COLUMNS: tuple[str, ...] = ("region_code", "region_name", "indicator", "period_start", "period_end", "kind",
                                  "effect_size", "description")
#: Planted anomaly kinds.
KINDS: tuple[str, ...] = ("revenue_inflation", "gdp_without_proxy", "smoothed_growth", "target_bunching",
                          "debt_surge", "digit_preference", "aggregation_mismatch", "pm25_drop")

#: indicator -> (unit, decimals reported, additive over children, first year reported or None)
INDICATOR_SPECS: dict[str, tuple[str, int, bool, int | None]] = {
    "gdp": ("亿元", 2, True, None),
    "gdp_secondary": ("亿元", 2, True, None),
    "gdp_real_growth": ("%", 1, False, None),
    "electricity": ("亿千瓦时", 2, True, None),
    "night_lights": ("DN", 0, True, None),
    "rail_freight": ("万吨", 1, True, None),
    "fiscal_revenue": ("亿元", 2, True, None),
    "tax_revenue": ("亿元", 2, True, None),
    "vat_revenue": ("亿元", 2, True, None),
    "nontax_revenue": ("亿元", 2, True, None),
    "fiscal_expenditure": ("亿元", 2, True, None),
    "fund_revenue": ("亿元", 2, True, None),
    "land_revenue": ("亿元", 2, True, None),
    "transfer_revenue": ("亿元", 2, True, None),
    "investment": ("亿元", 2, True, None),
    "population": ("万人", 2, True, None),
    "debt_balance": ("亿元", 2, True, 2014),
    "debt_limit": ("亿元", 2, True, 2015),
    "lgfv_debt": ("亿元", 2, True, 2014),
    "interest_paid": ("亿元", 2, True, 2014),
    "debt_service": ("亿元", 2, True, 2014),
    "growth_target": ("%", 1, False, None),
    "pm25": ("μg/m³", 1, False, 2013),
}
#: Two-decimal money indicators (the ones digit preference touches; non-tax is derived from them).
MONEY: tuple[str, ...] = tuple(k for k, (u, d, _, _) in INDICATOR_SPECS.items() if u == "亿元" and d == 2)

PROVINCE_NAMES = ("东山省", "西川省", "南岭省", "北原省", "中平省", "云泽省", "海阳省", "青岳省", "金沙省")
_CITY_FIRST = "青白金玉长安兴平宁昌临福永华明庆丰泰嘉瑞"
_CITY_SECOND = "原山川河阳州江林水泉城峰湖溪台陵"

# National paths (knots, linearly interpolated, flat outside).
_NAT_GROWTH = {2003: 11.0, 2005: 11.8, 2007: 12.5, 2008: 10.5, 2010: 10.5, 2011: 9.8, 2012: 8.2, 2014: 7.6,
               2016: 7.0, 2019: 6.2, 2022: 5.5}
_SHOCKS = {2009: -3.0, 2020: -5.0, 2021: 2.5}
_NAT_DEFLATOR = {2003: 2.6, 2004: 6.9, 2005: 3.9, 2006: 3.9, 2007: 7.7, 2008: 7.8, 2009: -0.2, 2010: 6.6,
                 2011: 8.1, 2012: 2.4, 2013: 2.2, 2014: 0.8, 2015: 0.1, 2016: 1.4, 2017: 4.2, 2018: 3.5,
                 2019: 1.3, 2020: 0.5, 2021: 4.6, 2022: 2.2}
_NAT_TARGET = {2003: 9.0, 2007: 10.0, 2011: 10.0, 2012: 9.0, 2014: 8.5, 2016: 7.5, 2019: 7.0, 2021: 6.5, 2022: 6.0}
_LAND_CYCLE = {2003: 0.0, 2007: 0.1, 2008: -0.1, 2010: 0.3, 2012: 0.1, 2013: 0.3, 2015: 0.0, 2017: 0.25, 2020: 0.35,
               2021: 0.3, 2022: 0.0}
#: Last-digit distribution of invented figures (0 and 5 heavily favoured).
_HUMAN_DIGITS = np.array([0.30, 0.04, 0.05, 0.04, 0.04, 0.27, 0.04, 0.05, 0.09, 0.08])
#: Plants of each kind. Five, so that "recall >= 0.8" can be read off one sample (4 of 5) instead of
#: demanding that every plant be found, as 3 or 4 plants do.
PLANTS_PER_KIND = 5
#: Distinct prefectures carrying a plant: 7 prefecture kinds x 5, two of them shared.
_PLANTED_PREFECTURES = 7 * PLANTS_PER_KIND - 2
#: Fewest prefectures to plant in: the 33 planted ones and at least 17 clean peers.
_MIN_PREFECTURES = 50
#: Years the plan needs when anomalies are planted.
_PLANT_YEARS = (2004, 2022)


def _path(years: np.ndarray, knots: dict[int, float]) -> np.ndarray:
    k = np.array(sorted(knots))
    return np.interp(years, k, [knots[int(y)] for y in k])


def _walk(rng: np.random.Generator, start: np.ndarray, sd: float, n: int) -> np.ndarray:
    """Random walks (rows) starting at ``start`` with normal steps of s.d. ``sd``."""
    steps = rng.normal(0.0, sd, (len(start), n))
    steps[:, 0] = 0.0
    return start[:, None] + np.cumsum(steps, axis=1)


def _bounded(rng: np.random.Generator, lo: float, hi: float, start: tuple[float, float], sd: float, n: int,
             T: int, group: np.ndarray | None = None) -> np.ndarray:
    """Ratios wandering inside (lo, hi): a random walk on the logit of their position in the range.

    Rows start uniformly in ``start``; ``sd`` is the step on the logit scale (a step moves the ratio by
    about ``sd * (hi - lo) / 4`` mid-range). No mass piles up on the bounds, unlike clipping. With
    ``group`` (the province of each row), siblings also share a walk of the same step size (a
    province's fiscal policy), so provinces differ from one another as real ones do.
    """
    x0 = rng.uniform(start[0], start[1], n)
    z = _walk(rng, _logit((x0 - lo) / (hi - lo)), sd, T)
    if group is not None:
        z = z + _walk(rng, np.zeros(group.max() + 1), sd, T)[group]
    return lo + (hi - lo) * _expit(z)


def _logit(p):
    return np.log(p / (1 - p))


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _check(seed, n_provinces, n_prefectures, start, end, effect, plant):
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if not 1 <= n_provinces <= len(PROVINCE_NAMES):
        raise InputError(f"n_provinces must be between 1 and {len(PROVINCE_NAMES)}, got {n_provinces}")
    if not n_provinces <= n_prefectures <= min(99 * n_provinces, len(_CITY_FIRST) * len(_CITY_SECOND)):
        raise InputError(f"n_prefectures must be between n_provinces ({n_provinces}) and "
                         f"{min(99 * n_provinces, len(_CITY_FIRST) * len(_CITY_SECOND))}, got {n_prefectures}")
    if not (isinstance(start, (int, np.integer)) and isinstance(end, (int, np.integer)) and 1990 <= start < end <= 2100):
        raise InputError(f"need integer years with 1990 <= start < end <= 2100, got start={start!r}, end={end!r}")
    if not (isinstance(effect, (int, float)) and math.isfinite(effect) and 0 <= effect <= 3):
        raise InputError(f"effect must be a number between 0 and 3, got {effect!r}")
    if plant:
        if start > _PLANT_YEARS[0] or end < _PLANT_YEARS[1]:
            raise InputError(f"planted anomalies need the years {_PLANT_YEARS[0]}–{_PLANT_YEARS[1]} (got {start}–{end}); "
                             "use clean=True or effect=0 for other ranges")
        if n_prefectures < _MIN_PREFECTURES or n_provinces < PLANTS_PER_KIND:
            raise InputError(f"planted anomalies need at least {_MIN_PREFECTURES} prefectures and "
                             f"{PLANTS_PER_KIND} provinces (got {n_prefectures} and {n_provinces}); use clean=True for smaller panels")


def generate(seed: int = DEFAULT_SEED, n_provinces: int = 8, n_prefectures: int = 100, start: int = 2003,
             end: int = 2022, effect: float = 1.0, clean: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate the synthetic panel and its planted truth.

    Parameters
    ----------
    seed : int
        Seed of the one ``numpy.random.Generator`` used.
    n_provinces, n_prefectures : int
        Number of fictional provinces (at most 9) and prefectures (split as evenly as possible).
    start, end : int
        First and last year (annual periods). Planting needs 2004–2022 inside the range.
    effect : float
        Scale of every planted effect (0 plants nothing; 0.5 halves effect sizes).
    clean : bool
        Plant nothing (same figures as ``effect=0``) and return an empty truth table.

    Returns
    -------
    panel : DataFrame
        Columns :data:`SAMPLE_COLUMNS`, all strings; ``value`` carries the reported precision.
    truth : DataFrame
        Columns :data:`TRUTH_COLUMNS`, one row per planted anomaly (empty when nothing is planted).

    Raises
    ------
    InputError
        On arguments out of range.
    """
    plant = (not clean) and effect > 0
    _check(seed, n_provinces, n_prefectures, start, end, effect, plant)
    rng = np.random.default_rng(seed)
    years = np.arange(start, end + 1)
    T, P, N = len(years), n_prefectures, n_provinces
    yi = {int(y): i for i, y in enumerate(years)}

    # --- regions -------------------------------------------------------------------------------
    prov_of = np.concatenate([np.full(len(a), i) for i, a in enumerate(np.array_split(np.arange(P), N))])
    pos_in = np.concatenate([np.arange(len(a)) for a in np.array_split(np.arange(P), N)])
    prov_codes = np.array([f"9{i + 1}0000" for i in range(N)])
    pref_codes = np.array([f"9{p + 1}{j + 1:02d}00" for p, j in zip(prov_of, pos_in)])
    combos = rng.choice(len(_CITY_FIRST) * len(_CITY_SECOND), size=P, replace=False)
    pref_names = np.array([_CITY_FIRST[c // len(_CITY_SECOND)] + _CITY_SECOND[c % len(_CITY_SECOND)] + "市"
                           for c in combos])
    prov_names = np.array(PROVINCE_NAMES[:N])

    # --- true real growth, prices, GDP ------------------------------------------------------------
    nat_g = _path(years, _NAT_GROWTH) + np.array([_SHOCKS.get(int(y), 0.0) for y in years])
    prov_eff = rng.normal(0, 0.7, N)
    reg_eff = rng.normal(0, 0.8, P)
    slope = rng.normal(0, 0.05, P)
    ar = np.zeros((P, T))
    eps = rng.normal(0, 0.8, (P, T))
    ar[:, 0] = eps[:, 0] / np.sqrt(1 - 0.5 ** 2)
    for t in range(1, T):  # AR(1) recursion over years, vectorised over regions
        ar[:, t] = 0.5 * ar[:, t - 1] + eps[:, t]
    g_true = nat_g + prov_eff[prov_of][:, None] + reg_eff[:, None] + slope[:, None] * (years - years.mean()) + ar
    infl = _path(years, _NAT_DEFLATOR) + rng.normal(0, 0.8, (P, T))
    gdp0 = np.exp(rng.normal(np.log(400), 0.8, P))
    real_idx = np.cumprod(1 + g_true / 100, axis=1) / (1 + g_true[:, :1] / 100)
    defl = np.cumprod(1 + infl / 100, axis=1) / (1 + infl[:, :1] / 100)
    gdp_true = gdp0[:, None] * real_idx * defl
    dlog_real = np.diff(np.log(real_idx), axis=1, prepend=0.0)

    # --- proxies -------------------------------------------------------------------------------
    def proxy(base, sd):
        elas = rng.uniform(0.8, 1.1, P)
        noise = rng.normal(0, sd, (P, T)) + rng.normal(0, 0.6 * sd, (N, T))[prov_of]  # own + province shocks
        noise[:, 0] = 0.0
        return base[:, None] * np.exp(np.cumsum(elas[:, None] * dlog_real + noise, axis=1))

    electricity = proxy(gdp0 * rng.uniform(0.08, 0.15, P), 0.02)
    night_lights = proxy(np.exp(rng.normal(np.log(40000), 0.6, P)), 0.03)
    rail_freight = proxy(np.exp(rng.normal(np.log(2000), 0.8, P)), 0.08)
    sec_share = _expit(_walk(rng, _logit(rng.uniform(0.38, 0.55, P)), 0.04, T) - 0.012 * (years - start))
    population = np.exp(rng.normal(np.log(400), 0.5, P))[:, None] * np.exp(np.cumsum(
        rng.normal(0.004, 0.004, P)[:, None] + rng.normal(0, 0.002, (P, T)), axis=1))
    inv_ratio = np.exp(_walk(rng, np.log(rng.uniform(0.4, 0.7, P)), 0.05, T)
                       + np.minimum(years - start, 13) * 0.03)

    # --- fiscal ----------------------------------------------------------------------------------
    tax_share = _bounded(rng, 0.055, 0.095, (0.06, 0.09), 0.12, P, T, prov_of)
    tax = tax_share * gdp_true * np.exp(rng.normal(0, 0.02, (P, T)))
    vat = tax * _bounded(rng, 0.33, 0.47, (0.35, 0.45), 0.25, P, T)
    nt_share = _bounded(rng, 0.15, 0.35, (0.18, 0.30), 0.4, P, T, prov_of)
    nontax = tax * nt_share / (1 - nt_share)
    fiscal_true = tax + nontax
    exp_ratio = _bounded(rng, 1.3, 2.5, (1.4, 2.3), 0.24, P, T, prov_of)
    expenditure = fiscal_true * exp_ratio
    gap = expenditure - fiscal_true
    transfers = gap * _bounded(rng, 0.82, 0.92, (0.84, 0.90), 0.3, P, T)  # uncovered ~1/8 of the gap
    fund = fiscal_true * np.exp(rng.normal(np.log(0.6), 0.3, P)[:, None] + _path(years, _LAND_CYCLE)
                                + rng.normal(0, 0.15, (P, T)))
    land = fund * _bounded(rng, 0.7, 0.9, (0.72, 0.88), 0.4, P, T)

    # --- debt (from 2014) ----------------------------------------------------------------------------
    debt_years = years >= 2014
    debt_true = np.full((P, T), np.nan)
    uncovered = (gap - transfers) * np.exp(rng.normal(0, 0.03, (P, T)))
    growth0 = rng.uniform(0.12, 0.16, P)  # first-year debt = deficit / growth rate: peers borrow ~10-14 %/yr
    if debt_years.any():
        t0 = int(np.argmax(debt_years))
        debt_true[:, t0] = uncovered[:, t0] / growth0
        debt_true[:, t0:] = debt_true[:, t0:t0 + 1] + np.cumsum(
            np.where(np.arange(T - t0) == 0, 0.0, uncovered[:, t0:]), axis=1)
    limit_ratio = _bounded(rng, 1.03, 1.12, (1.05, 1.10), 0.45, P, T)
    rate = rng.uniform(0.035, 0.045, P)[:, None] + rng.normal(0, 0.001, (P, T))
    principal_rate = rng.uniform(0.06, 0.12, P)[:, None] * np.ones((1, T))
    lgfv_ratio = _bounded(rng, 0.15, 0.5, (0.2, 0.4), 0.15, P, T)  # clean regions stay below the 120 % full-caliber line

    # --- growth targets, pm2.5 -------------------------------------------------------------------
    g_prev = np.concatenate([g_true[:, :1], g_true[:, :-1]], axis=1)
    t_raw = 0.6 * _path(years, _NAT_TARGET) + 0.4 * g_prev + 0.5 * reg_eff[:, None] + rng.normal(0, 0.3, (P, T))
    integer_target = rng.random((P, T)) < 0.5
    target = np.where(integer_target, np.round(t_raw), np.round(t_raw * 2) / 2)
    pm_prov = rng.uniform(35, 75, N)[:, None] * np.exp(_walk(rng, np.zeros(N), 0.04, T))
    pm25 = (pm_prov[prov_of] * np.exp(rng.normal(0, 0.12, P))[:, None]
            * np.exp(-rng.uniform(0.03, 0.07, P)[:, None] * np.maximum(years - 2013, 0))
            * np.exp(rng.normal(0, 0.03, (P, T))))

    # --- the plan of planted anomalies (drawn always, applied only when planting) -----------------
    plan = _draw_plan(rng, P, N, T)

    # --- reported = truth, then the plants ------------------------------------------------------------
    g_rep = g_true.copy()
    level = np.ones((P, T))           # reported / true GDP level
    nontax_rep = nontax.copy()
    debt_mult = np.ones((P, T))
    pm_rep = pm25.copy()
    truth_rows: list[tuple] = []
    measured: dict[tuple[str, int], float] = {}  # (kind, region) -> effect size measured
    if plant:
        _plant_growth(plan, effect, years, yi, g_true, target, g_rep, level, measured)
        ri_years = {}
        for r, (L, peak) in plan["revenue_inflation"].items():
            # the truth comes out in the weakest year for true revenue among 2014-2016
            cand = [yi[y] for y in (2014, 2015, 2016)]
            growth = fiscal_true[r, cand] / fiscal_true[r, [i - 1 for i in cand]]
            c = cand[int(np.argmin(growth))]
            s = c - L
            f = effect * np.linspace(0.20, peak, L)
            nontax_rep[r, s:c] = nontax[r, s:c] + f * fiscal_true[r, s:c]
            ri_years[r] = (s, c, float(f.mean()))
        for r, (s, L, e) in plan["debt_surge"].items():
            ts, te = yi[s], yi[s + L - 1]
            steps = np.zeros(T)
            steps[ts:te + 1] = np.log1p(effect * e)
            debt_mult[r] = np.exp(np.cumsum(steps))
        for r, (y0, drop) in plan["pm25_drop"].items():
            pm_rep[r, yi[y0]:] *= 1 - effect * drop

    # --- rounding to reported precision (integers in units of the last digit) -------------------------
    def units(x, dec):
        return np.where(np.isnan(x), np.nan, np.round(x * 10 ** dec))

    gdp_rep = gdp_true * level
    debt_rep = debt_true * debt_mult
    debt_prev = np.concatenate([np.full((len(debt_rep), 1), np.nan), debt_rep[:, :-1]], axis=1)
    debt_prev = np.where(np.isnan(debt_prev), debt_rep / 1.1, debt_prev)  # first year: 10 % growth assumed
    interest = rate * debt_prev
    debt_service = interest + principal_rate * debt_prev
    lim = debt_true * limit_ratio
    masks = {k: years >= (spec[3] or -10 ** 9) for k, spec in INDICATOR_SPECS.items()}
    raw = {
        "gdp": gdp_rep, "gdp_secondary": gdp_rep * sec_share, "gdp_real_growth": g_rep,
        "electricity": electricity, "night_lights": night_lights, "rail_freight": rail_freight,
        "tax_revenue": tax, "vat_revenue": vat, "nontax_revenue": nontax_rep,
        "fiscal_expenditure": expenditure, "fund_revenue": fund, "land_revenue": land,
        "transfer_revenue": transfers, "investment": gdp_true * inv_ratio, "population": population,
        "debt_balance": debt_rep, "debt_limit": lim, "lgfv_debt": debt_rep * lgfv_ratio,
        "interest_paid": interest, "growth_target": target, "pm25": pm_rep,
    }
    rep = {k: units(np.where(masks[k], v, np.nan), INDICATOR_SPECS[k][1]) for k, v in raw.items()}
    # debt_service = interest + principal, in reported cents
    rep["debt_service"] = rep["interest_paid"] + units(np.where(masks["debt_service"], debt_service - interest, np.nan), 2)
    rep["fiscal_revenue"] = rep["tax_revenue"] + rep["nontax_revenue"]

    # digit preference: last digit of money figures invented; non-tax re-derived so the identity holds
    u = rng.random((len(MONEY), P, T))
    digit = rng.choice(10, size=(len(MONEY), P, T), p=_HUMAN_DIGITS)
    if plant:
        share = min(1.0, 0.6 * effect)
        for r in plan["digit_preference"]:
            for k, ind in enumerate(MONEY):
                if ind == "nontax_revenue":
                    continue
                v = rep[ind][r]
                hit = (u[k, r] < share) & ~np.isnan(v)
                rep[ind][r] = np.where(hit, v - np.mod(v, 10) + digit[k, r], v)
            rep["nontax_revenue"][r] = rep["fiscal_revenue"][r] - rep["tax_revenue"][r]

    # --- provinces --------------------------------------------------------------------------------
    onehot = (prov_of[None, :] == np.arange(N)[:, None]).astype(float)      # (N, P)
    prov = {}
    for ind, (unit, dec, additive, _) in INDICATOR_SPECS.items():
        x = rep[ind]
        if additive:
            prov[ind] = np.where(np.isnan(x).all(axis=0)[None, :], np.nan, onehot @ np.nan_to_num(x))
        else:
            w = rep["population"] if ind == "pm25" else rep["gdp"]
            w = np.where(np.isnan(x), 0.0, w)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = (onehot @ (np.nan_to_num(x) * w)) / (onehot @ w)
            prov[ind] = np.round(mean)
    agg_rows = []
    if plant:
        for p, (ind, s, L, excess) in plan["aggregation_mismatch"].items():
            sl = slice(yi[s], yi[s + L - 1] + 1)
            extra = np.round(prov[ind][p, sl] * effect * excess)
            prov[ind][p, sl] += extra
            if ind == "fiscal_revenue":  # the extra shows up as non-tax revenue, so the identity holds
                prov["nontax_revenue"][p, sl] += extra
            agg_rows.append((p, ind, s, s + L - 1, float(effect * np.mean(excess))))

    # --- truth table -------------------------------------------------------------------------------
    if plant:
        name = pref_names
        for r, (s, c, fmean) in ri_years.items():
            drop = 1 - rep["fiscal_revenue"][r, c] / rep["fiscal_revenue"][r, c - 1]
            truth_rows.append((pref_codes[r], name[r], "fiscal_revenue", years[s], years[c], "revenue_inflation",
                               round(fmean, 3),
                               f"Non-tax revenue inflated fiscal revenue by {fmean:+.0%} on average in "
                               f"{years[s]}-{years[c - 1]} with tax untouched; corrected in {years[c]} "
                               f"(reported fiscal revenue {-drop:+.1%})."))
        for r, (s, L, d, corr) in plan["gdp_without_proxy"].items():
            e = effect * d
            msg = (f"Reported real growth {e:+.1f} pp a year above the truth in {s}-{s + L - 1} while electricity, "
                   "night lights and rail freight follow the truth")
            if corr:
                cut = 1 - rep["gdp"][r, yi[s + L]] / rep["gdp"][r, yi[s + L - 1]]
                msg += f"; GDP level corrected to the truth in {s + L} (reported GDP {-cut:+.1%})."
            else:
                msg += "; the inflated level is kept."
            truth_rows.append((pref_codes[r], name[r], "gdp", s, s + L - 1 + int(corr), "gdp_without_proxy",
                               round(e / 100, 4), msg))
        for r, (s, L) in plan["smoothed_growth"].items():
            truth_rows.append((pref_codes[r], name[r], "gdp_real_growth", s, s + L - 1, "smoothed_growth",
                               round(measured["smoothed_growth", r], 3),
                               f"Reported real growth replaced by a smooth path in {s}-{s + L - 1}: "
                               f"{measured['smoothed_growth', r]:.0%} of its year-to-year variability removed."))
        for r, (s, L, _, _) in plan["target_bunching"].items():
            truth_rows.append((pref_codes[r], name[r], "gdp_real_growth", s, s + L - 1, "target_bunching",
                               round(measured["target_bunching", r], 3),
                               "Reported real growth set to the target plus 0.0-0.3 pp in "
                               f"{measured['target_bunching', r]:.0%} "
                               f"of the years {s}-{s + L - 1}."))
        for r, (s, L, e) in plan["debt_surge"].items():
            truth_rows.append((pref_codes[r], name[r], "debt_balance", s, s + L - 1, "debt_surge",
                               round(effect * e, 3),
                               f"Debt balance and LGFV debt grow {effect * e:+.0%} a year faster than the deficit "
                               f"explains in {s}-{s + L - 1}, above the debt limit."))
        for r in plan["digit_preference"]:
            truth_rows.append((pref_codes[r], name[r], "*", years[0], years[-1], "digit_preference",
                               round(min(1.0, 0.6 * effect), 3),
                               f"Last digit of {min(1.0, 0.6 * effect):.0%} of the two-decimal money figures "
                               "replaced by human-preferred digits (0 and 5 favoured)."))
        for p, ind, s, e, ex in agg_rows:
            truth_rows.append((prov_codes[p], prov_names[p], ind, s, e, "aggregation_mismatch", round(ex, 3),
                               f"Province {ind} reported {ex:+.1%} above the sum of its prefectures in {s}-{e}."))
        for r, (y0, drop) in plan["pm25_drop"].items():
            truth_rows.append((pref_codes[r], name[r], "pm25", y0, years[-1], "pm25_drop", round(-effect * drop, 3),
                               f"PM2.5 drops by {effect * drop:.0%} in {y0} and stays low while its siblings do not."))
    truth = pd.DataFrame(truth_rows, columns=list(TRUTH_COLUMNS), dtype=object)
    for c in ("period_start", "period_end"):
        truth[c] = truth[c].map(lambda y: str(int(y)))
    truth["effect_size"] = truth["effect_size"].map(lambda v: f"{float(v):g}")
    truth = truth.sort_values(["kind", "region_code"], kind="stable").reset_index(drop=True).astype(str)

    return _long(rep, prov, years, pref_codes, pref_names, prov_codes[prov_of], prov_codes, prov_names), truth


def _draw_plan(rng: np.random.Generator, P: int, N: int, T: int) -> dict:
    """Regions, windows and sizes of every planted kind (at effect 1); years are absolute.

    Every kind is planted :data:`PLANTS_PER_KIND` times. Prefectures are drawn without replacement,
    except that one revenue-inflation region also carries a debt surge and one digit-preference region
    a PM2.5 drop (anomalies do come together); aggregation mismatches go to distinct provinces.
    """
    n = PLANTS_PER_KIND
    # disjoint blocks of n prefectures, one per prefecture kind (the two shared regions come on top)
    # (the plan is drawn for clean panels too, to keep the random stream; small ones repeat regions)
    perm = np.resize(rng.permutation(P), max(P, _PLANTED_PREFECTURES))
    block = dict(zip(("revenue_inflation", "gdp_without_proxy", "smoothed_growth", "target_bunching"),
                     (perm[i * n:(i + 1) * n] for i in range(4))))
    block["debt_surge"] = list(perm[4 * n:5 * n - 1]) + [perm[0]]
    block["digit_preference"] = perm[5 * n - 1:6 * n - 1]
    block["pm25_drop"] = list(perm[6 * n - 1:7 * n - 2]) + [perm[5 * n - 1]]
    plan: dict = {}
    plan["revenue_inflation"] = {int(r): (int(rng.integers(3, 5)), float(rng.uniform(0.40, 0.44)))
                                 for r in block["revenue_inflation"]}
    gwp = {}
    starts = _starts(rng, 2005, 2015, n)
    for i, r in enumerate(block["gdp_without_proxy"]):
        corr = i == 0
        L = 5 if corr else int(rng.integers(3, 6))
        s = int(rng.integers(2010, 2016)) if corr else starts[i]
        gwp[int(r)] = (s, L, float(rng.uniform(4.5, 5.0) if corr else rng.uniform(3.0, 5.0)), corr)
    plan["gdp_without_proxy"] = gwp
    plan["smoothed_growth"] = {}
    starts = _starts(rng, 2004, 2010, n)
    for i, r in enumerate(block["smoothed_growth"]):
        L = int(rng.integers(10, 14))
        plan["smoothed_growth"][int(r)] = (starts[i], L)
    plan["target_bunching"] = {}
    starts = _starts(rng, 2004, 2008, n)
    for i, r in enumerate(block["target_bunching"]):
        L = int(rng.integers(11, 15))
        plan["target_bunching"][int(r)] = (starts[i], L, rng.random(T), rng.integers(0, 4, T))
    plan["debt_surge"] = {}
    starts = _starts(rng, 2015, 2019, n)
    for i, r in enumerate(block["debt_surge"]):
        L = int(rng.integers(3, 5)) if starts[i] <= 2019 else 3
        plan["debt_surge"][int(r)] = (min(starts[i], 2023 - L), L, float(rng.uniform(0.20, 0.27)))
    plan["digit_preference"] = [int(r) for r in block["digit_preference"]]
    starts = _starts(rng, 2015, 2020, n)
    plan["pm25_drop"] = {int(r): (starts[i], float(rng.uniform(0.25, 0.35))) for i, r in enumerate(block["pm25_drop"])}
    pp = rng.permutation(N)
    plan["aggregation_mismatch"] = {}
    starts = _starts(rng, 2006, 2020, n)
    for i, p in enumerate(pp[:n]):
        ind = ("gdp", "fiscal_revenue")[i % 2]
        L = int(rng.integers(2, 4))
        plan["aggregation_mismatch"][int(p)] = (ind, starts[i], L, rng.uniform(0.05, 0.10, L))
    return plan


def _starts(rng: np.random.Generator, lo: int, hi: int, n: int) -> list[int]:
    """``n`` distinct start years in ``lo..hi`` (varied windows), sorted in draw order."""
    return [int(y) for y in rng.choice(np.arange(lo, hi + 1), size=n, replace=False)]


def _plant_growth(plan, effect, years, yi, g_true, target, g_rep, level, measured):
    """GDP kinds: change reported growth, then the reported GDP level follows (in place)."""
    T = len(years)
    for r, (s, L, d, corr) in plan["gdp_without_proxy"].items():
        g_rep[r, yi[s]:yi[s] + L] += effect * d
    for r, (s, L) in plan["smoothed_growth"].items():
        sl = slice(yi[s], yi[s] + L)
        g = g_true[r, sl]
        x = np.arange(L)
        # a straight line through the window's trend, with a whisper of noise
        b, a = np.polyfit(x, g, 1)
        smooth = a + b * x + 0.2 * np.sin(1.7 * x)
        g_rep[r, sl] = g + effect * (smooth - g)
        sd = lambda v: np.std(np.diff(np.round(v * 10) / 10))  # noqa: E731
        measured["smoothed_growth", r] = 1 - sd(g_rep[r, sl]) / sd(g)
    for r, (s, L, u, off) in plan["target_bunching"].items():
        hit = np.zeros(T, bool)
        n_hit = int(round(0.85 * min(effect, 1.0) * L))
        hit[yi[s] + np.argsort(u[yi[s]:yi[s] + L])[:n_hit]] = True   # a random n_hit of the window's years
        g_rep[r, hit] = target[r, hit] + off[hit] / 10
        measured["target_bunching", r] = float(hit.sum() / L)
    # reported level: cumulative ratio of reported to true growth, reset where a correction happened
    ratio = (1 + np.round(g_rep * 10) / 1000) / (1 + np.round(g_true * 10) / 1000)
    ratio[:, 0] = 1.0
    changed = np.abs(g_rep - g_true) > 1e-12
    ratio = np.where(changed, ratio, 1.0)
    level[:] = np.cumprod(ratio, axis=1)
    for r, (s, L, d, corr) in plan["gdp_without_proxy"].items():
        if corr:
            level[r, yi[s + L]:] = 1.0


def _fmt(x: np.ndarray, dec: int) -> np.ndarray:
    return np.char.mod(f"%.{dec}f", x / 10 ** dec)


def _long(rep, prov, years, pref_codes, pref_names, pref_parents, prov_codes, prov_names) -> pd.DataFrame:
    """Long panel, sorted by region code, indicator (catalogue order) and period."""
    frames = []
    codes = np.concatenate([prov_codes, pref_codes])
    names = np.concatenate([prov_names, pref_names])
    parents = np.concatenate([np.full(len(prov_codes), ""), pref_parents])
    periods = years.astype(str)
    for k, (ind, (unit, dec, _, _)) in enumerate(INDICATOR_SPECS.items()):
        x = np.vstack([prov[ind], rep[ind]])
        ri, ti = np.nonzero(~np.isnan(x))
        frames.append(pd.DataFrame({
            "region_code": codes[ri], "region_name": names[ri], "parent_code": parents[ri],
            "indicator": ind, "period": periods[ti], "value": _fmt(x[ri, ti], dec), "unit": unit, "_k": k,
        }))
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(["region_code", "_k", "period"], kind="stable").drop(columns="_k").reset_index(drop=True)
    return df[list(SAMPLE_COLUMNS)].astype(str)


def write_sample(out_dir: str | Path, **kwargs) -> tuple[Path, Path]:
    """Generate and write ``panel.csv`` and ``truth.csv`` (UTF-8, ``\\n`` line ends, deterministic bytes).

    Parameters
    ----------
    out_dir : path
        Directory to write into (created when absent).
    **kwargs
        Passed to :func:`generate`.

    Returns
    -------
    (Path, Path)
        Paths of the panel and truth files.
    """
    panel, truth = generate(**kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "panel.csv", out / "truth.csv"
    for df, path in zip((panel, truth), paths):
        path.write_bytes(df.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m detect.data.synthetic --out data/sample [--seed N] ...``."""
    ap = argparse.ArgumentParser(prog="python -m detect.data.synthetic", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output directory (panel.csv, truth.csv)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--effect", type=float, default=1.0, help="scale of planted effects (0 = none)")
    ap.add_argument("--clean", action="store_true", help="plant nothing; empty truth.csv")
    ap.add_argument("--regions", type=int, default=100, help="number of prefecture-level regions")
    ap.add_argument("--provinces", type=int, default=8)
    ap.add_argument("--start", type=int, default=2003)
    ap.add_argument("--end", type=int, default=2022)
    a = ap.parse_args(argv)
    try:
        p, t = write_sample(a.out, seed=a.seed, effect=a.effect, clean=a.clean, n_prefectures=a.regions,
                            n_provinces=a.provinces, start=a.start, end=a.end)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {p} and {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
