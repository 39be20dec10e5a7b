"""Reckless borrowing (盲目举债): debt growing far faster than revenue, GDP and peers.

For each region-year the *excess debt growth*

    x_t = ln(D_t / D_{t-1}) - ln(R_t / R_{t-1})

with ``D`` = debt_balance and ``R`` = 综合财力 (fiscal_revenue + transfer_revenue + fund_revenue
[+ state_capital_revenue]) where computable in both years, else fiscal_revenue, else GDP (the basis is
recorded), is compared with the same-year distribution over peers (regions at the same level):

    z = (x - median_peers(x)) / (1.4826 · MAD_peers(x))

p-values are one-sided (borrowing *faster* than revenue) from a Student-t empirical null fitted to all
the z-scores pooled (Efron 2004). Consecutive significant years are one episode: one finding, with the
Stouffer combination of the years' p-values, ``Z = Σ Φ⁻¹(1 - p_t) / √k``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from detect._stats import empirical_null_t, fmt_p, robust_z
from detect.config import Config, threshold
from detect.data.panel import Panel
from detect.debt._inputs import DebtFrame, debt_frame, money, pct, resources, runs, series_dict
from detect.findings import Finding, Findings
from detect.registry import Detector, register

_BASIS_ZH = {"resources": "综合财力", "fiscal_revenue": "一般公共预算收入", "gdp": "地区生产总值"}
_BASIS_EN = {"resources": "comprehensive resources", "fiscal_revenue": "general budget revenue", "gdp": "GDP"}


def _logdiff(m: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        lv = np.where(m > 0, np.log(np.where(m > 0, m, 1.0)), np.nan)
    out = np.full_like(lv, np.nan)
    out[:, 1:] = np.diff(lv, axis=1)
    return out


def excess_growth(frame: DebtFrame) -> dict[str, np.ndarray]:
    """Regions x years matrices: ``g_debt``, ``g_rev`` (on the basis used), ``g_gdp``, ``basis``
    (index into ``("resources", "fiscal_revenue", "gdp")``, -1 none) and ``x`` = g_debt - g_rev."""
    g_debt = _logdiff(frame.matrix("debt_balance"))
    g_res = _logdiff(frame.matrix(resources(frame)[0]))
    g_fr = _logdiff(frame.matrix("fiscal_revenue"))
    g_gdp = _logdiff(frame.matrix("gdp"))
    basis = np.where(np.isfinite(g_res), 0, np.where(np.isfinite(g_fr), 1, np.where(np.isfinite(g_gdp), 2, -1)))
    g_rev = np.choose(np.maximum(basis, 0), [g_res, g_fr, g_gdp])
    g_rev = np.where(basis >= 0, g_rev, np.nan)
    return {"g_debt": g_debt, "g_rev": g_rev, "g_gdp": g_gdp, "basis": basis, "x": g_debt - g_rev}


@register
class DebtSurge(Detector):
    """Debt growth far above revenue growth, against the same-year peer distribution."""

    name = "debt_surge"
    family = "debt"
    title = "Reckless borrowing: debt growing faster than revenue and peers"
    title_zh = "盲目举债：债务增速远超收入增速与同级地区"
    null_hypothesis = ("The region's debt growth minus revenue growth in a year is drawn from the same "
                       "distribution as its peers' that year (robust z follows the empirical null).")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        frame = debt_frame(panel)
        if "debt_balance" not in frame.present:
            out.notes.append("debt_surge: no debt_balance in the panel")
            return out
        eg = excess_growth(frame)
        R, T = frame.n_regions, frame.n_years
        x = eg["x"]
        regions = frame.regions.set_index("region_code")
        level = regions["level"].reindex(frame.codes).to_numpy()
        flat = pd.Series(x.ravel())
        yr = pd.Series(np.tile(frame.years, R))
        grp = pd.Series(np.repeat(level, T).astype(str))
        z, center, scale, n = robust_z(flat, [yr, grp])
        min_peers = int(threshold("debt.surge_min_peers", config))
        ok = (n >= min_peers) & z.notna()
        n_short = int((flat.notna() & ~ok).sum())
        if n_short:
            out.notes.append(f"debt_surge: {n_short} region-years with debt growth not tested (fewer than {min_peers} "
                             "peers that year, or no peer spread)")
        if not ok.any():
            return out
        df_, sc = empirical_null_t(z[ok].to_numpy())
        zz = z.to_numpy()
        p = np.full(len(flat), np.nan)
        zs = zz[ok.to_numpy()] / sc
        p[ok.to_numpy()] = stats.norm.sf(zs) if np.isinf(df_) else stats.t.sf(zs, df_)
        out.n_tests += int(ok.sum())
        report_p = float(threshold("scoring.report_p", config))
        P = p.reshape(R, T)
        Z = zz.reshape(R, T)
        hit = np.isfinite(P) & (P <= report_p) & (Z > 0)
        C = center.to_numpy().reshape(R, T)
        names = frame.names()
        years = frame.years
        D = frame.matrix("debt_balance")
        basis_names = ("resources", "fiscal_revenue", "gdp")
        for r, s, e in runs(hit):
            code = str(frame.codes[r])
            ps = np.clip(P[r, s:e + 1], 1e-300, 1.0)
            k = e - s + 1
            stouffer = float(stats.norm.isf(ps).sum() / np.sqrt(k))
            p_run = float(stats.norm.sf(stouffer))
            gd, gr = np.expm1(eg["g_debt"][r, s:e + 1]), np.expm1(eg["g_rev"][r, s:e + 1])
            b = basis_names[int(eg["basis"][r, e])] if eg["basis"][r, e] >= 0 else "resources"
            y0, y1 = str(int(years[s])), str(int(years[e]))
            cum_d = float(D[r, e] / D[r, s - 1] - 1) if s > 0 and D[r, s - 1] > 0 else float(np.prod(1 + gd) - 1)
            cum_r = float(np.prod(1 + gr) - 1)
            med = float(np.expm1(np.nanmedian(C[r, s:e + 1])))
            zmax = float(np.nanmax(Z[r, s:e + 1]))
            period_en = f"in {y1}" if k == 1 else f"over {y0}-{y1}"
            period_zh = f"{y1}年" if k == 1 else f"{y0}–{y1}年"
            gdp_g = eg["g_gdp"][r, s:e + 1]
            cum_gdp = float(np.expm1(np.nansum(gdp_g))) if np.isfinite(gdp_g).any() else float("nan")
            out.items.append(Finding(
                region_code=code, region_name=str(names.get(code, code)), indicator="debt_balance",
                period_start=y0, period_end=y1, detector=self.name, statistic=stouffer, p_value=p_run,
                family=self.family, kind="debt_surge", effect=float(np.nansum(eg["x"][r, s:e + 1])),
                summary=(f"Debt rose {pct(cum_d)} {period_en} (to {money(D[r, e])} 亿元) while {_BASIS_EN[b]} rose "
                         f"{pct(cum_r)} and GDP {pct(cum_gdp)}; the excess over revenue growth is far above the "
                         f"peer median of {pct(med, 1)} a year (max robust z = {zmax:.1f}, {fmt_p(p_run)}); "
                         f"check the borrowing approvals, the projects financed and any LGFV borrowing behind it."),
                summary_zh=(f"{period_zh}债务余额增长{pct(cum_d)}（至{money(D[r, e])}亿元），同期{_BASIS_ZH[b]}增长"
                            f"{pct(cum_r)}、地区生产总值增长{pct(cum_gdp)}；债务增速超出收入增速的幅度远高于同级地区"
                            f"中位数（{pct(med, 1)}/年，最大稳健z={zmax:.1f}，{fmt_p(p_run)}）；请核查举债审批、"
                            f"资金投向项目及城投融资。"),
                evidence={"series": series_dict(years, D[r]),
                          "debt_growth": series_dict(years[s:e + 1], gd), "revenue_growth": series_dict(years[s:e + 1], gr),
                          "revenue_basis": b, "gdp_growth": series_dict(years[s:e + 1], np.expm1(gdp_g)),
                          "z": series_dict(years[s:e + 1], Z[r, s:e + 1]), "p": series_dict(years[s:e + 1], P[r, s:e + 1], 10),
                          "peer_median_excess_log": series_dict(years[s:e + 1], C[r, s:e + 1]),
                          "peer_n": series_dict(years[s:e + 1], n.to_numpy().reshape(R, T)[r, s:e + 1]),
                          "null_t_df": df_, "null_t_scale": sc, "stouffer_z": stouffer},
            ))
        return out
