"""Stress tests of the debt ratio: scenario projections, first crossing years, fan charts.

Each region's ratio ``d`` (debt / 综合财力, or debt / GDP) is projected ``[debt_stress] horizon``
years with :func:`detect.debt.dynamics.project` from its own recent medians (baseline) and under the
IMF (2013) standardised shocks adapted to Chinese local finance:

================  ===================================================================================
scenario          change from the baseline paths
================  ===================================================================================
baseline          g, i, pb, sfa at the region's medians of the last ``history_years`` years
growth            g − 1 s.d. (of the region's own base growth) in the first 2 years
interest          i + 200 bp on the share of the stock refinanced so far: min(1, h · rollover_rate)
primary           pb − ½ s.d. every year
land_30, land_50  land revenue −30 % / −50 % from year 1, spending unchanged (the gap is borrowed):
                  with s = λ · land / base, the base falls by (1 − s) and pb' = (pb − s)/(1 − s),
                  sfa' = sfa/(1 − s) (综合财力 base); pb' = pb − λ · land / GDP (GDP base)
lgfv_10/30/50     10 / 30 / 50 % of LGFV debt recognised as government debt at the start: d0 + s · lgfv / base
transfers_10      transfers −10 % (as the land shock, with the transfer share)
combined          growth + interest + primary + land −30 % + transfers −10 % + LGFV 30 %
================  ===================================================================================

The first year each line is crossed is the deadline on the worklist: a region already above a line
gets its last observed year; ``None`` when the line is not reached within the horizon. A seeded
bootstrap of the region's own historical (g, i, flow) deviations, resampled jointly by year (so their
correlation is kept), gives the fan chart (5th–95th percentiles).
"""

from __future__ import annotations

import html
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.debt._inputs import DebtFrame, debt_frame, money, money_en, pct, series_dict
from detect.debt.dynamics import BASES, Assumptions, History, assumptions, history, project
from detect.findings import Finding, Findings
from detect.registry import Detector, register

def scenario_key(head: str, share: float) -> str:
    """The name of a sized scenario: ``scenario_key("land", 0.3)`` is ``land_30`` (per cent of the share)."""
    return f"{head}_{100 * float(share):.0f}"


def scenario_names(config: Config | None = None) -> dict[str, tuple[str, str]]:
    """Short names ``{scenario: (en, zh)}`` of the scenarios a run computes, in their order, with the
    shock sizes in force (``[debt_stress]`` thresholds): ``land_30`` is ``land revenue -30 %`` /
    ``土地出让收入下降30 %``; a user's ``land_shock = [0.2]`` gives ``land_20``, named to match."""
    k_g = float(threshold("debt_stress.growth_shock_sd", config))
    yrs = int(threshold("debt_stress.growth_shock_years", config))
    bp = 1e4 * float(threshold("debt_stress.interest_shock", config))
    k_pb = float(threshold("debt_stress.primary_shock_sd", config))
    out = {"baseline": ("baseline", "基准情形"),
           "growth": (f"growth -{k_g:g} s.d.", f"增速下降{k_g:g}个标准差（{yrs}年）"),
           "interest": (f"interest +{bp:.0f} bp", f"利率上升{bp:.0f}个基点"),
           "primary": (f"primary balance -{k_pb:g} s.d.", f"基本收支差额恶化{k_pb:g}个标准差")}
    for lam in threshold("debt_stress.land_shock", config):
        k = scenario_key("land", lam)
        p = k.partition("_")[2]
        out[k] = (f"land revenue -{p} %", f"土地出让收入下降{p} %")
    for sh in threshold("debt_stress.lgfv_recognition", config):
        k = scenario_key("lgfv", sh)
        p = k.partition("_")[2]
        out[k] = (f"{p} % of LGFV debt recognised", f"{p} %城投债务纳入政府债务")
    k = scenario_key("transfers", threshold("debt_stress.transfer_shock", config))
    p = k.partition("_")[2]
    out[k] = (f"transfers -{p} %", f"转移支付减少{p} %")
    out["combined"] = ("combined shock", "组合冲击")
    return out


def plausible(config: Config | None = None) -> tuple[str, ...]:
    """Scenarios whose crossing raises a stress finding: the baseline and the single standardised
    shocks (growth, interest, primary balance, the first land-revenue cut, the transfer cut)."""
    names = list(scenario_names(config))
    land = [n for n in names if n.startswith("land_")][:1]
    return ("baseline", "growth", "interest", "primary", *land, *(n for n in names if n.startswith("transfers_")))


#: The shipped scenarios, their names and the plausible ones (with the shipped thresholds).
_SHIPPED_NAMES = scenario_names()
SCENARIOS: tuple[str, ...] = tuple(_SHIPPED_NAMES)
PLAUSIBLE: tuple[str, ...] = plausible()
SCENARIO_EN: dict[str, str] = {k: v[0] for k, v in _SHIPPED_NAMES.items()}
SCENARIO_ZH: dict[str, str] = {k: v[1] for k, v in _SHIPPED_NAMES.items()}
#: The base of a projected ratio in a sentence: ``{base: (en, zh)}`` (keys of :data:`detect.debt.dynamics.BASES`).
BASE_NAMES: dict[str, tuple[str, str]] = {"resources": ("comprehensive resources", "综合财力"),
                                          "gdp": ("GDP", "地区生产总值")}


def lines(base: str, config: Config | None = None) -> dict[str, float]:
    """The lines a ratio on ``base`` is compared with: ``{label: fraction}``, lowest first.

    综合财力 base: the 债务率 warning line (100 %) and the grade cut-offs 120 / 200 / 300 %;
    GDP base: the 60 % reference.
    """
    if base == "gdp":
        v = float(threshold("debt.debt_to_gdp_reference", config))
        return {f"{100 * v:.0f}%": v}
    vals = [float(threshold("debt.debt_ratio_warning", config))] + [
        float(threshold(f"debt_grades.{k}", config)) for k in ("green_below", "orange_from", "red_from")]
    return {f"{100 * v:.0f}%": v for v in sorted(set(vals))}


def scenario_text(sc: str, a: Assumptions, r: int, config: Config | None = None) -> tuple[str, str]:
    """What scenario ``sc`` shocks, and by how much for region row ``r``: ``(en, zh)`` clauses such as
    ``"if land-sale revenue falls 30 % (9.0 % of comprehensive resources) from 2022, spending unchanged"``.

    Sizes are the region's own: the growth s.d., the primary-balance s.d. and the land, transfer and LGFV
    shares of the base in the last observed year (IMF 2013 MAC DSA: a stress test states its shock).
    """
    y1 = int(a.year0[r]) + 1
    base_en, base_zh = BASE_NAMES[a.base]
    k = int(threshold("debt_stress.growth_shock_years", config))
    window = int(threshold("debt_stress.history_years", config))

    def pp(x: float) -> str:
        return f"{100 * x:.1f}" if np.isfinite(x) else "n/a"

    if sc == "baseline":
        span = f"{int(a.year0[r]) - window + 1}-{int(a.year0[r])}"
        dflt = a.i_default is not None and bool(a.i_default[r])
        dflt_en = f" assumed: no {label('interest_paid')} reported" if dflt else ""
        dflt_zh = "，未报告付息支出，按默认利率" if dflt else ""
        return (f"on the baseline (base growth {pp(a.g[r])} % and a borrowing flow of {pp(a.flow[r])} % of {base_en} "
                f"a year, the medians of {span}; interest {pp(a.i[r])} %{dflt_en})",
                f"基准情形下（{base_zh}增速{pp(a.g[r])} %、每年举债流量相当于{base_zh}的{pp(a.flow[r])} %，"
                f"均为{span.replace('-', '–')}年中位数；利率{pp(a.i[r])} %{dflt_zh}）")
    if sc == "growth":
        n_sd = float(threshold("debt_stress.growth_shock_sd", config))
        return (f"if base growth falls by {n_sd:g} s.d. ({pp(n_sd * a.sd_g[r])} percentage points) in {y1}-{y1 + k - 1}",
                f"若{y1}–{y1 + k - 1}年{base_zh}增速下降{n_sd:g}个标准差（{pp(n_sd * a.sd_g[r])}个百分点）")
    if sc == "interest":
        bp = 1e4 * float(threshold("debt_stress.interest_shock", config))
        roll = float(threshold("debt_stress.rollover_rate", config))
        return (f"if interest rates rise {bp:.0f} bp on the debt refinanced ({100 * roll:.0f} % of the stock a year)",
                f"若利率上升{bp:.0f}个基点（作用于每年再融资的{100 * roll:.0f} %存量债务）")
    if sc == "primary":
        n_sd = float(threshold("debt_stress.primary_shock_sd", config))
        return (f"if the primary balance worsens by {n_sd:g} s.d. ({pp(n_sd * a.sd_pb[r])} % of {base_en}) every year "
                f"from {y1}",
                f"若自{y1}年起基本收支差额每年恶化{n_sd:g}个标准差（相当于{base_zh}的{pp(n_sd * a.sd_pb[r])} %）")
    head, _, size = sc.partition("_")
    lam = float(size) / 100 if size else float("nan")
    if head == "land":
        return (f"if land-sale revenue falls {size} % ({pp(lam * a.land_share[r])} % of {base_en}) from {y1}, "
                "spending unchanged (the gap is borrowed)",
                f"若自{y1}年起土地出让收入下降{size} %（相当于{base_zh}的{pp(lam * a.land_share[r])} %），支出不变、缺口靠举债弥补")
    if head == "transfers":
        return (f"if transfers from above fall {size} % ({pp(lam * a.transfer_share[r])} % of {base_en}) from {y1}, "
                "spending unchanged (the gap is borrowed)",
                f"若自{y1}年起转移支付减少{size} %（相当于{base_zh}的{pp(lam * a.transfer_share[r])} %），支出不变、缺口靠举债弥补")
    if head == "lgfv":
        return (f"if {size} % of LGFV debt ({pp(lam * a.lgfv_share[r])} % of {base_en}) is recognised as government "
                f"debt in {y1}",
                f"若{y1}年{size} %城投债务（相当于{base_zh}的{pp(lam * a.lgfv_share[r])} %）纳入政府债务")
    if sc == "combined":
        c_land = 100 * float(threshold("debt_stress.combined_land", config))
        c_lgfv = 100 * float(threshold("debt_stress.combined_lgfv", config))
        tr = 100 * float(threshold("debt_stress.transfer_shock", config))
        return (f"if the growth, interest and primary-balance shocks, land revenue -{c_land:.0f} %, transfers -{tr:.0f} % "
                f"and {c_lgfv:.0f} % of LGFV debt recognised all hit from {y1} (those without inputs omitted)",
                f"若自{y1}年起增速、利率、基本收支冲击与土地出让收入下降{c_land:.0f} %、转移支付减少{tr:.0f} %、"
                f"{c_lgfv:.0f} %城投债务纳入同时发生（缺少数据的冲击略去）")
    return scenario_names(config).get(sc, (sc, sc))


def reported_after_start(h: History, a: Assumptions, r: int) -> dict | None:
    """Debt reported after the projection's start year (the base is missing there), set against the base
    grown at the baseline rate: ``{"debt", "projected_base", "ratio_on_projected_base": {year: value},
    "base_growth"}``; None when no debt is reported after the start."""
    if a.reason[r] or not np.isfinite(a.d0[r]) or not np.isfinite(a.g[r]):
        return None
    after = (h.years > a.year0[r]) & np.isfinite(h.D[r])
    if not after.any():
        return None
    j0 = int(np.flatnonzero(h.years == a.year0[r])[0])
    yrs = h.years[after]
    b = h.B[r, j0] * (1.0 + a.g[r]) ** (yrs - a.year0[r])
    return {"debt": series_dict(yrs, h.D[r, after]), "projected_base": series_dict(yrs, b),
            "ratio_on_projected_base": series_dict(yrs, h.D[r, after] / b), "base_growth": _f(a.g[r])}


def fan_method(a: Assumptions, h: History, r: int, config: Config | None = None, seed: int = 0) -> dict:
    """How the fan chart of region row ``r`` was drawn (for the evidence): what was resampled, from which
    years, how many draws and the generator's seed."""
    ok = _fan_years(h, a, r)
    return {"draws": int(threshold("debt_stress.n_sims", config)),
            "seed": _seed_entropy(seed, a.codes[r]),
            "resampled": ("the region's own yearly deviations of base growth, effective interest rate and borrowing "
                          "flow from their medians, drawn jointly by year (one historical year per projected year) and "
                          "added to the baseline"),
            "resampled_zh": (f"按年联合重抽该地区自身{BASE_NAMES[a.base][1]}增速、"
                             "实际利率与举债流量相对中位数的偏离，叠加于基准情形"),
            "years": [int(y) for y in h.years[ok]],
            "percentiles": [float(p) for p in threshold("debt_stress.fan_percentiles", config)]}


LINE_ZH = {"100%": "100 %警戒线", "120%": "120 %黄色线", "200%": "200 %橙色线", "300%": "300 %红色线", "60%": "60 %负债率参考线"}


def scenario_paths(a: Assumptions, config: Config | None = None) -> dict[str, tuple[np.ndarray, ...]]:
    """``{scenario: (d0, g, i, pb, sfa)}`` with g, i, pb, sfa of shape (regions, horizon).

    A scenario that needs a missing input (land_revenue, lgfv_debt, transfer_revenue, a shock s.d.)
    has NaN paths for that region; ``combined`` omits the missing components.
    """
    H = int(threshold("debt_stress.horizon", config))
    R = len(a.d0)
    ones = np.ones((R, H))
    g0, i0, pb0, sfa0 = a.g[:, None] * ones, a.i[:, None] * ones, a.pb[:, None] * ones, a.sfa[:, None] * ones
    k = int(threshold("debt_stress.growth_shock_years", config))
    g_sh = float(threshold("debt_stress.growth_shock_sd", config)) * a.sd_g
    roll = float(threshold("debt_stress.rollover_rate", config))
    i_sh = float(threshold("debt_stress.interest_shock", config)) * np.minimum(1.0, roll * np.arange(1, H + 1))
    pb_sh = float(threshold("debt_stress.primary_shock_sd", config)) * a.sd_pb

    def growth(g):
        g = g.copy()
        g[:, :k] -= g_sh[:, None]
        return g

    def revenue_cut(g, i, pb, sfa, s):
        """A permanent cut of ``s`` (share of the base) in revenue, spending unchanged: (g, i, pb, sfa)."""
        s = s[:, None]
        if a.base == "resources":
            g = g.copy()
            g[:, 0] = (1.0 + g[:, 0]) * (1.0 - s[:, 0]) - 1.0
            return g, i, (pb - s) / (1.0 - s), sfa / (1.0 - s)
        return g, i, pb - s, sfa

    out: dict[str, tuple[np.ndarray, ...]] = {"baseline": (a.d0, g0, i0, pb0, sfa0)}
    out["growth"] = (a.d0, growth(g0), i0, pb0, sfa0)
    out["interest"] = (a.d0, g0, i0 + i_sh[None, :], pb0, sfa0)
    out["primary"] = (a.d0, g0, i0, pb0 - pb_sh[:, None], sfa0)
    for lam in threshold("debt_stress.land_shock", config):
        lam = float(lam)
        out[scenario_key("land", lam)] = (a.d0, *revenue_cut(g0, i0, pb0, sfa0, lam * a.land_share))
    for s in threshold("debt_stress.lgfv_recognition", config):
        s = float(s)
        out[scenario_key("lgfv", s)] = (a.d0 + s * a.lgfv_share, g0, i0, pb0, sfa0)
    tr = float(threshold("debt_stress.transfer_shock", config))
    out[scenario_key("transfers", tr)] = (a.d0, *revenue_cut(g0, i0, pb0, sfa0, tr * a.transfer_share))
    # combined: every shock at once, omitting those whose input is missing
    c_land = float(threshold("debt_stress.combined_land", config))
    c_lgfv = float(threshold("debt_stress.combined_lgfv", config))
    cut = (np.nan_to_num(c_land * a.land_share, nan=0.0) + np.nan_to_num(tr * a.transfer_share, nan=0.0))
    g_comb = growth(g0)
    g_comb = np.where(np.isfinite(g_comb), g_comb, g0)  # no growth s.d.: growth shock omitted
    g_c, i_c, pb_c, sfa_c = revenue_cut(g_comb, i0 + i_sh[None, :], pb0 - np.nan_to_num(pb_sh, nan=0.0)[:, None],
                                        sfa0, cut)
    out["combined"] = (a.d0 + np.nan_to_num(c_lgfv * a.lgfv_share, nan=0.0), g_c, i_c, pb_c, sfa_c)
    return out


def missing_inputs(a: Assumptions, scenario: str) -> np.ndarray:
    """Per region, why ``scenario`` cannot be projected ("" when it can)."""
    why = a.reason.copy()
    need = {"growth": (a.sd_g, "the s.d. of base growth (>= 3 years of growth)"),
            "primary": (a.sd_pb, "the s.d. of the primary balance or borrowing flow (>= 3 years)"),
            "land": (a.land_share, "land_revenue in the last observed year"),
            "lgfv": (a.lgfv_share, "lgfv_debt in the last observed year"),
            "transfers": (a.transfer_share, "transfer_revenue in the last observed year")}
    key = scenario.split("_")[0]
    if key in need:
        v, text = need[key]
        why = np.where((why == "") & ~np.isfinite(v), "needs " + text, why)
    return why


def first_crossings(d0: np.ndarray, path: np.ndarray, year0: np.ndarray, lines_: dict[str, float]) -> dict[str, np.ndarray]:
    """``{line: year}`` per region: year0 when already at/above the line, the first projected year at
    or above it, or -1 when not reached within the horizon (or not computable)."""
    out = {}
    for name, v in lines_.items():
        above = path >= v
        first = np.where(above.any(axis=1), np.argmax(above, axis=1) + 1, -1)
        yr = np.where(first > 0, year0 + first, -1)
        yr = np.where(d0 >= v, year0, yr)
        out[name] = np.where(np.isfinite(d0) & np.isfinite(path).all(axis=1), yr, -1).astype(int)
    return out


def _fan_years(h: History, a: Assumptions, r: int) -> np.ndarray:
    """The years region row ``r``'s fan resamples: growth, interest and flow all known, up to the start year."""
    return np.isfinite(h.g[r]) & np.isfinite(h.i[r]) & np.isfinite(h.flow[r]) & (h.years <= a.year0[r])


def _seed_entropy(seed: int, code: str) -> list[int]:
    """The entropy of a region's generator: ``[seed, crc32(region_code)]`` (also written in the evidence)."""
    return [int(seed) & 0xFFFFFFFF, zlib.crc32(str(code).encode("utf-8"))]


def _region_seed(seed: int, code: str) -> np.random.Generator:
    return np.random.default_rng(_seed_entropy(seed, code))


def fan_chart(h: History, a: Assumptions, rows: np.ndarray, config: Config | None = None,
              seed: int = 0) -> dict[int, dict[str, list[float]] | str]:
    """Seeded bootstrap fan chart for the regions at ``rows``.

    For each region the historical deviations of (g, i, flow) from the region's own medians are
    resampled jointly by year (each simulated year draws one historical year), added to the baseline
    and projected; the result is ``{percentile: [ratio per projected year]}``. A region with fewer
    than ``history_years`` complete years gets the reason instead. The generator of each region is
    seeded from ``(seed, crc32(region_code))``: a region's fan does not depend on which others are drawn.
    """
    H = int(threshold("debt_stress.horizon", config))
    S = int(threshold("debt_stress.n_sims", config))
    pcts = [float(p) for p in threshold("debt_stress.fan_percentiles", config)]
    need = int(threshold("debt_stress.history_years", config))
    out: dict[int, dict[str, list[float]] | str] = {}
    for r in rows:
        ok = _fan_years(h, a, r)
        if ok.sum() < need or a.reason[r]:
            out[int(r)] = (f"fan chart needs {need} complete years of (growth, interest, flow); "
                           f"{int(ok.sum())} available")
            continue
        dev = np.stack([h.g[r, ok] - np.median(h.g[r, ok]), h.i[r, ok] - np.median(h.i[r, ok]),
                        h.flow[r, ok] - np.median(h.flow[r, ok])])
        idx = _region_seed(seed, h.codes[r]).integers(0, dev.shape[1], size=(S, H))
        g = a.g[r] + dev[0][idx]
        i = a.i[r] + dev[1][idx]
        f = a.flow[r] + dev[2][idx]
        paths = project(np.full(S, a.d0[r]), g, i, -f)
        q = np.percentile(paths, pcts, axis=0)
        out[int(r)] = {f"p{p:g}": [round(float(v), 6) for v in q[k]] for k, p in enumerate(pcts)}
    return out


@dataclass
class StressResult:
    """Stress-test output (tidy tables; prints well in a notebook).

    Attributes
    ----------
    paths : DataFrame
        ``region_code, base, scenario, year, value`` (ratio as a fraction; year0 rows are observed).
    crossings : DataFrame
        ``region_code, base, scenario, line, year, already`` (year NaN = not reached in the horizon).
    fan : DataFrame
        ``region_code, base, percentile, year, value`` for regions near or above a line.
    not_computable : DataFrame
        ``region_code, base, scenario, reason``.
    """

    paths: pd.DataFrame
    crossings: pd.DataFrame
    fan: pd.DataFrame
    not_computable: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def table(self) -> pd.DataFrame:
        """The crossing years as a tidy table (the worklist deadlines)."""
        return self.crossings

    def deadlines(self, scenario: str = "baseline") -> pd.DataFrame:
        """Regions x lines: the first crossing year under ``scenario`` (NaN = not within the horizon)."""
        c = self.crossings[self.crossings["scenario"] == scenario]
        if len(c) == 0:
            return pd.DataFrame()
        w = c.pivot_table(index=["region_code", "base"], columns="line", values="year", aggfunc="first",
                          dropna=False)
        w.columns.name = None
        return w

    def summary(self) -> str:
        c = self.crossings
        n = c["region_code"].nunique() if len(c) else 0
        lines_ = [f"StressResult: {n} regions projected, {len(self.not_computable)} region-scenarios not computable"]
        if len(c):
            new = c[~c["already"] & c["year"].notna()]
            for (base, sc), g in new.groupby(["base", "scenario"], sort=False):
                by = g.groupby("line")["region_code"].nunique()
                lines_.append(f"  {base:<9} {sc:<13} newly crossing: " + ", ".join(f"{k} {v}" for k, v in by.items()))
        return "\n".join(lines_ + self.notes)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        d = self.deadlines()
        return (f"<div><pre>{html.escape(self.summary())}</pre>"
                f"{d.head(30).to_html(escape=True) if len(d) else ''}</div>")


def _run(frame: DebtFrame, base: str, config: Config | None):
    h = history(frame, base, config)
    a = assumptions(h, config)
    return h, a, scenario_paths(a, config)


def stress_table(panel: Panel | DebtFrame, config: Config | None = None, bases: tuple[str, ...] = BASES,
                 fan: bool = True, regions: list[str] | None = None) -> StressResult:
    """Project every region's debt ratio under every scenario; the crossing years as tidy tables.

    Parameters
    ----------
    panel : Panel
        Needs debt_balance and the base (综合财力 parts, or gdp) for consecutive years.
    config : Config, optional
        Thresholds ``[debt_stress]``; ``config.seed`` seeds the fan chart.
    bases : tuple of {"resources", "gdp"}
    fan : bool
        Simulate fan charts for regions near or above a line (bounded by ``fan_top_n``).
    regions : list of str, optional
        Only these region codes.
    """
    frame = panel if isinstance(panel, DebtFrame) else debt_frame(panel)
    seed = config.seed if config is not None else 0
    P, C, F, N = [], [], [], []
    for base in bases:
        if frame.n_regions == 0:
            break
        h, a, paths = _run(frame, base, config)
        keep = np.ones(len(a.codes), bool) if regions is None else np.isin(a.codes, list(regions))
        ln = lines(base, config)
        H = int(threshold("debt_stress.horizon", config))
        for sc, (d0, g, i, pb, sfa) in paths.items():
            why = missing_inputs(a, sc)
            ok = keep & (why == "") & np.isfinite(d0)
            p = project(d0, g, i, pb, sfa)
            ok &= np.isfinite(p).all(axis=1)
            for r in np.flatnonzero(keep & ~ok):
                N.append((a.codes[r], base, sc, why[r] or "inputs missing for the projection"))
            rows = np.flatnonzero(ok)
            if len(rows) == 0:
                continue
            yrs = a.year0[rows, None] + np.arange(0, H + 1)[None, :]
            vals = np.concatenate([d0[rows, None], p[rows]], axis=1)
            P.append(pd.DataFrame({"region_code": np.repeat(a.codes[rows], H + 1), "base": base, "scenario": sc,
                                   "year": yrs.ravel(), "value": vals.ravel()}))
            cr = first_crossings(d0[rows], p[rows], a.year0[rows], ln)
            for name, yr in cr.items():
                C.append(pd.DataFrame({"region_code": a.codes[rows], "base": base, "scenario": sc, "line": name,
                                       "year": np.where(yr > 0, yr, np.nan), "already": d0[rows] >= ln[name]}))
        if fan:
            sel = fan_rows(a, config)
            fc = fan_chart(h, a, sel[keep[sel]], config, seed)
            for r, val in fc.items():
                if isinstance(val, str):
                    N.append((a.codes[r], base, "fan", val))
                    continue
                for pname, vs in val.items():
                    F.append(pd.DataFrame({"region_code": a.codes[r], "base": base, "percentile": pname,
                                           "year": a.year0[r] + np.arange(1, len(vs) + 1), "value": vs}))
    cat = (lambda xs, cols: pd.concat(xs, ignore_index=True) if xs else pd.DataFrame(columns=cols))
    return StressResult(
        cat(P, ["region_code", "base", "scenario", "year", "value"]),
        cat(C, ["region_code", "base", "scenario", "line", "year", "already"]),
        cat(F, ["region_code", "base", "percentile", "year", "value"]),
        pd.DataFrame(N, columns=["region_code", "base", "scenario", "reason"]),
    )


def fan_rows(a: Assumptions, config: Config | None = None) -> np.ndarray:
    """Rows that get a fan chart: ratio at least ``fan_near_line`` x the lowest line, plus the top-N by
    ratio, capped at ``fan_top_n`` (highest ratios first) — the cost bound."""
    lowest = min(lines(a.base, config).values())
    near = float(threshold("debt_stress.fan_near_line", config))
    top = int(threshold("debt_stress.fan_top_n", config))
    ok = np.isfinite(a.d0) & (a.reason == "")
    order = np.argsort(-np.where(ok, a.d0, -np.inf), kind="stable")
    order = order[ok[order]]
    near_rows = order[a.d0[order] >= near * lowest]
    chosen = near_rows[:top] if len(near_rows) >= top else order[:top]
    return np.sort(chosen)


def crossing_years_for(frame: DebtFrame, rows: list[int], config: Config | None = None,
                       base: str = "resources") -> dict[str, dict]:
    """Evidence blocks for the regions at ``rows``: ``{code: {"crossing_years": {scenario: {line: year}},
    "projection": {...}}}`` (deterministic scenarios only; no fan)."""
    if not rows or frame.n_regions == 0:
        return {}
    h, a, paths = _run(frame, base, config)
    return _evidence(a, paths, np.asarray(rows, dtype=int), lines(base, config), config)


def _evidence(a: Assumptions, paths: dict, rows: np.ndarray, ln: dict[str, float], config) -> dict[str, dict]:
    out: dict[str, dict] = {}
    proj = {sc: project(*v) for sc, v in paths.items()}
    cross, why_all = {}, {}
    for sc, (d0, *_rest) in paths.items():
        cross[sc] = first_crossings(d0, proj[sc], a.year0, ln)
        why_all[sc] = missing_inputs(a, sc)
    for r in rows:
        code = str(a.codes[r])
        if a.reason[r] or not np.isfinite(a.d0[r]):
            out[code] = {"projection": {"not_computable": str(a.reason[r] or "no ratio")}}
            continue
        cy, pp, nc = {}, {}, {}
        for sc in paths:
            why = why_all[sc][r]
            p = proj[sc][r]
            if why or not np.isfinite(p).all():
                nc[sc] = why or "inputs missing"
                continue
            cy[sc] = {k: (int(v[r]) if v[r] > 0 else None) for k, v in cross[sc].items()}
            pp[sc] = series_dict(a.year0[r] + np.arange(1, len(p) + 1), p)
        out[code] = {
            "crossing_years": cy,
            "projection": {"base": a.base, "start_year": int(a.year0[r]), "start_value": float(a.d0[r]),
                           "paths": pp, "not_computable": nc,
                           "assumptions": {"g": _f(a.g[r]), "i": _f(a.i[r]), "pb": _f(a.pb[r]), "sfa": _f(a.sfa[r]),
                                           "sd_g": _f(a.sd_g[r]), "sd_pb": _f(a.sd_pb[r]),
                                           "land_share": _f(a.land_share[r]), "transfer_share": _f(a.transfer_share[r]),
                                           "lgfv_share": _f(a.lgfv_share[r])}},
        }
    return out


def _f(x: float) -> float | None:
    return round(float(x), 6) if np.isfinite(x) else None


@register
class DebtStress(Detector):
    """Regions whose debt ratio crosses a line within the horizon (baseline or a standard shock)."""

    name = "debt_stress"
    family = "debt"
    title = "Debt dynamics and stress tests"
    title_zh = "债务动态与压力测试"
    null_hypothesis = ("Rule-based projection (no test): on its own recent growth, interest and borrowing, and "
                       "under standard single shocks, the region's debt ratio stays below the next line for "
                       "the projection horizon.")
    null_hypothesis_zh = ("基于规则的预测（不做检验）：按该地区自身近期的增长、利息和举债情况，并在标准的单项冲击下，"
                          "其债务率在预测期内始终低于上一级警戒线。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        frame = debt_frame(panel)
        if "debt_balance" not in frame.present:
            out.notes.append("debt_stress: no debt_balance in the panel; no projection")
            return out
        names = frame.names()
        for base in BASES:
            h, a, paths = _run(frame, base, config)
            n_bad = int((a.reason != "").sum())
            if n_bad == len(a.codes):
                need = ("fiscal_revenue, transfer_revenue and fund_revenue (综合财力)" if base == "resources" else "gdp")
                out.notes.append(f"debt_stress: no region projectable on the {base} base (needs debt_balance and {need} "
                                 "for at least 3 consecutive years)")
                continue
            if n_bad:
                out.notes.append(f"debt_stress: {n_bad} regions not projectable on the {base} base "
                                 f"(e.g. {a.codes[np.flatnonzero(a.reason != '')[0]]}: {a.reason[a.reason != ''][0]})")
            later = np.isfinite(h.D) & (h.years[None, :] > a.year0[:, None]) & (a.reason == "")[:, None]
            n_later = int(later.any(axis=1).sum())
            if n_later:
                out.notes.append(f"debt_stress: {n_later} regions projected on the {base} base from a year before their "
                                 "last reported debt (the base is missing after it); their findings set the debt "
                                 "reported since against the projected base")
            ln = lines(base, config)
            hits = self._hits(a, paths, ln, plausible(config))
            if not hits:
                continue
            rows = np.asarray(sorted(hits), dtype=int)
            ev = _evidence(a, paths, rows, ln, config)
            fan_sel = set(fan_rows(a, config).tolist()) | set(rows.tolist())
            fc = fan_chart(h, a, np.asarray(sorted(fan_sel & set(rows.tolist())), dtype=int), config, config.seed)
            for r in rows:
                code = str(a.codes[r])
                out.items.append(self._finding(code, str(names.get(code, code)), base, r, a, hits[r], ev[code],
                                               fc.get(int(r)), h, config))
        return out

    @staticmethod
    def _hits(a: Assumptions, paths: dict, ln: dict[str, float],
              scenarios: tuple[str, ...]) -> dict[int, list[tuple[str, str, int]]]:
        """Per row: the lines newly crossed within the horizon, as (scenario, line, year): any line on the
        baseline, the grade lines (not the lowest, 100 % warning line) under a plausible single shock."""
        hits: dict[int, list] = {}
        for sc in scenarios:
            if sc not in paths:
                continue
            d0 = paths[sc][0]
            p = project(*paths[sc])
            why = missing_inputs(a, sc)
            cr = first_crossings(d0, p, a.year0, ln)
            for name, yr in cr.items():
                if sc != "baseline" and ln[name] <= min(ln.values()) and len(ln) > 1:
                    continue  # under a shock only the grade lines count, not the 100 % warning line
                new = (yr > a.year0) & (why == "") & (d0 < ln[name])
                for r in np.flatnonzero(new):
                    hits.setdefault(int(r), []).append((sc, name, int(yr[r])))
        return hits

    def _finding(self, code, name, base, r, a, hit, ev, fan, h, config) -> Finding:
        ln = lines(base, config)
        order = list(ln)  # lowest first
        base_hits = [x for x in hit if x[0] == "baseline"]
        pool = base_hits or hit
        # most severe line reached; earliest year for it
        top_line = max(pool, key=lambda x: (order.index(x[1]), -x[2]))[1]
        names = scenario_names(config)
        order_sc = list(names)
        sc, line, year = min((x for x in pool if x[1] == top_line), key=lambda x: (x[2], order_sc.index(x[0])))
        if base == "gdp":
            sev = "low" if base_hits else "info"
        else:
            rank = order.index(line)  # 0: 100 %, 1: 120 %, 2: 200 %, 3: 300 %
            sev = (["low", "low", "medium", "high"][rank] if base_hits else ["info", "info", "low", "low"][rank])
        y0 = int(a.year0[r])
        ind = "debt_ratio" if base == "resources" else "debt_to_gdp"
        label_en = "debt ratio (debt / comprehensive resources)" if base == "resources" else "debt-to-GDP ratio"
        label_zh = "债务率" if base == "resources" else "负债率"
        end_val = ev.get("projection", {}).get("paths", {}).get(sc, {}).get(str(year))
        sc_en, sc_zh = scenario_text(sc, a, r, config)
        others = sorted({s for s, l_, _ in hit if l_ == line and s != sc})
        more_en = f" (also under: {', '.join(names.get(s, (s, s))[0] for s in others)})" if others else ""
        described = {s: dict(zip(("en", "zh"), scenario_text(s, a, r, config)))
                     for s in (*ev.get("crossing_years", {}), *ev.get("projection", {}).get("not_computable", {}))}
        later_en, later_zh = "", ""
        later = reported_after_start(h, a, r)
        if later:
            ev.setdefault("projection", {})["reported_debt_after_start"] = later
            y_last = max(later["debt"], key=int)
            base_en, base_zh = BASE_NAMES[base]
            ratio_last = later["ratio_on_projected_base"][y_last]
            later_en = (f" The projection starts in {y0}, the last year with both debt and {base_en}; debt is reported up "
                        f"to {y_last} ({money_en(later['debt'][y_last])}), {pct(ratio_last, 1)} of {base_en} grown at "
                        f"{pct(a.g[r], 1)} a year.")
            later_zh = (f"预测起点为{y0}年（债务与{base_zh}均有数据的最后一年）；{y_last}年已报告债务"
                        f"{money(later['debt'][y_last])}亿元，按{base_zh}年增{pct(a.g[r], 1)}推算约为其{pct(ratio_last, 1)}。")
        evidence = {"series": series_dict(h.years, h.d[r]), "base": base, "lines": ln, **ev, "scenario_text": described,
                    "scenario_names": {k: {"en": v[0], "zh": v[1]} for k, v in names.items()}}
        if isinstance(fan, dict):
            evidence["fan"] = fan
            evidence["fan_method"] = fan_method(a, h, r, config, config.seed)
        elif isinstance(fan, str):
            evidence["fan_not_computable"] = fan
        return Finding(
            region_code=code, region_name=name, indicator=ind, period_start=str(y0 + 1), period_end=str(year),
            detector=self.name, statistic=float(end_val) if end_val is not None else float("nan"),
            p_value=float("nan"), family=self.family, kind=f"crosses_{line.rstrip('%')}_{sc}",
            effect=float(year - y0), severity_hint=sev,
            summary=(f"The {label_en} was {pct(a.d0[r])} in {y0}; {sc_en} it crosses the {line} line in {year}"
                     f"{more_en}" + ("" if sc == "baseline" else
                                     f" (baseline: base growth {pct(a.g[r], 1)}, interest {pct(a.i[r], 1)})")
                     + f"; check the borrowing plan and the repayment sources before {year}.{later_en}"),
            summary_zh=(f"{label_zh}{y0}年为{pct(a.d0[r])}；{sc_zh}，{year}年越过{LINE_ZH.get(line, line)}"
                        + ("" if sc == "baseline" else f"（基准假设{'财力' if base == 'resources' else '地区生产总值'}增速{pct(a.g[r], 1)}、利率{pct(a.i[r], 1)}）")
                        + f"；请在{year}年前核实举债计划与偿债来源。{later_zh}"),
            evidence=evidence,
        )
