"""Reckless borrowing (盲目举债): debt growing far faster than revenue, GDP and peers.

For each region-year two *excess debt growths* are formed,

    x_rev = ln(D_t / D_{t-1}) - ln(Rev_t / Rev_{t-1}),    x_gdp = ln(D_t / D_{t-1}) - ln(GDP_t / GDP_{t-1})

with ``D`` = debt_balance and ``Rev`` = fiscal_revenue (一般公共预算收入), and each is compared with its
same-year distribution over peers (regions at the same level):

    z_k = (x_k - median_peers(x_k)) / (1.4826 · MAD_peers(x_k)),     z = mean(z_rev, z_gdp)

(the mean of those available). Debt must outgrow both revenue and output, relative to what peers did
that year (a year in which every region borrows — 2015 swaps, 2020 special bonds — flags nobody).
General budget revenue, not 综合财力, is the revenue base here: 综合财力 contains land-sale revenue,
whose swings (−23 % nationally in 2022; a peer MAD of about 20 % a year in the sample panel) would drown
the debt signal; 综合财力 growth is reported in the evidence.

p-values are one-sided (borrowing *faster*) from a Student-t empirical null fitted to the centre of
all z pooled (Efron 2004, central matching: the surges being looked for do not shape it; a maximum-
likelihood fit let four planted surges pull the tails to t_2 and hid them), with at most
0.37 (n − 1) degrees of freedom for ``n`` peers (the MAD in the z's denominator is itself estimated).
Consecutive significant years are one episode: one finding, with the Stouffer combination of the
years' normal scores corrected for their correlation (Strube 1985, Psychol. Bull. 97:334-341),

    Z = Σ_t Φ⁻¹(1 - p_t) / sqrt(k + 2 Σ_{l<k} (k - l) ρ_l),

where ``ρ_l`` is the lag-``l`` correlation of the yearly z within regions, pooled over all regions (z
clipped at ±3 so that surges do not set it; negative values taken as 0). A region's excess debt
growth persists from year to year (ρ_1 ≈ 0.48 in the sample panel): the plain Stouffer sum, which
assumes independent years, gave a clean prefecture with five years at z ≈ 2.7 a p-value of 4e-8.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from detect._stats import MAD_EFFICIENCY, empirical_null_central, fmt_p, robust_z
from detect.config import Config, threshold
from detect.data.panel import Panel
from detect.debt._inputs import DebtFrame, debt_frame, money, money_en, pct, resources, runs, series_dict
from detect.findings import Finding, Findings
from detect.registry import Detector, register



def _logdiff(m: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        lv = np.where(m > 0, np.log(np.where(m > 0, m, 1.0)), np.nan)
    out = np.full_like(lv, np.nan)
    out[:, 1:] = np.diff(lv, axis=1)
    return out


def excess_growth(frame: DebtFrame) -> dict[str, np.ndarray]:
    """Regions x years matrices of log growth: ``g_debt``, ``g_rev`` (general budget revenue),
    ``g_gdp``, ``g_res`` (综合财力, evidence only) and the excesses ``x_rev = g_debt - g_rev``,
    ``x_gdp = g_debt - g_gdp``."""
    g_debt = _logdiff(frame.matrix("debt_balance"))
    g_rev = _logdiff(frame.matrix("fiscal_revenue"))
    g_gdp = _logdiff(frame.matrix("gdp"))
    g_res = _logdiff(frame.matrix(resources(frame)[0]))
    return {"g_debt": g_debt, "g_rev": g_rev, "g_gdp": g_gdp, "g_res": g_res,
            "x_rev": g_debt - g_rev, "x_gdp": g_debt - g_gdp}


def lag_correlations(Z: np.ndarray, clip: float, min_pairs: int) -> np.ndarray:
    """``ρ_l`` for lags ``l = 1 .. T-1``: correlation of ``Z[:, t]`` with ``Z[:, t + l]`` over all
    regions and years (values clipped at ``±clip``; NaN pairs skipped; < 0, undefined or fewer than
    ``min_pairs`` pairs → 0)."""
    Zc = np.clip(Z, -clip, clip)
    T = Z.shape[1]
    rho = np.zeros(max(T, 1))
    for lag in range(1, T):
        a, b = Zc[:, :-lag].ravel(), Zc[:, lag:].ravel()
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() >= min_pairs and a[ok].std() > 0 and b[ok].std() > 0:
            rho[lag] = max(0.0, float(np.corrcoef(a[ok], b[ok])[0, 1]))
    return rho


def correlated_stouffer(p: np.ndarray, rho: np.ndarray) -> float:
    """Stouffer's Z of consecutive years' one-sided ``p`` with lag correlations ``rho`` (Strube 1985)."""
    k = len(p)
    var = k + 2.0 * sum((k - lag) * rho[lag] for lag in range(1, min(k, len(rho))))
    return float(stats.norm.isf(np.clip(p, 1e-300, 1.0)).sum() / np.sqrt(var))


@register
class DebtSurge(Detector):
    """Debt growth far above revenue and GDP growth, against the same-year peer distribution."""

    name = "debt_surge"
    family = "debt"
    title = "Reckless borrowing: debt growing faster than revenue and peers"
    title_zh = "盲目举债：债务增速远超收入增速与同级地区"
    null_hypothesis = ("The region's debt growth in excess of its revenue and GDP growth in a year is drawn from "
                       "the same distribution as its peers' that year (averaged robust z follows the empirical null).")
    null_hypothesis_zh = "该地区某年债务增速超出其收入增速和GDP增速的部分，与同级地区当年的相应部分来自同一分布（平均稳健z值服从经验零分布）。"

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
        regions = frame.regions.set_index("region_code")
        level = regions["level"].reindex(frame.codes).to_numpy()
        yr = pd.Series(np.tile(frame.years, R))
        grp = pd.Series(np.repeat(level, T).astype(str))
        min_peers = int(threshold("debt.surge_min_peers", config))
        zs_, ns_ = [], []
        for key in ("x_rev", "x_gdp"):
            zk, _, _, nk = robust_z(pd.Series(eg[key].ravel()), [yr, grp])
            zs_.append(np.where(nk.to_numpy() >= min_peers, zk.to_numpy(), np.nan))
            ns_.append(nk.to_numpy())
        zstack = np.vstack(zs_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            zz = np.nanmean(zstack, axis=0)
        ok = pd.Series(np.isfinite(zz))
        has_growth = np.isfinite(eg["g_debt"].ravel())
        n_short = int((has_growth & ~ok.to_numpy()).sum())
        if n_short:
            out.notes.append(f"debt_surge: {n_short} region-years with debt growth not tested (no revenue or GDP growth, "
                             f"fewer than {min_peers} peers that year, or no peer spread)")
        if not ok.any():
            return out
        # one null per peer group (level): a robust z whose scale is 1.4826 MAD of n peers has tails like
        # a Student t on about 0.37 (n - 1) d.f. (MAD_EFFICIENCY), which the centre alone cannot show:
        # 8 provinces get about 2.6 d.f., 100 prefectures about 36
        n_peer = np.fmax(ns_[0], ns_[1])
        okv = ok.to_numpy()
        lv = grp.to_numpy()
        p = np.full(len(zz), np.nan)
        nulls = {}
        for g in np.unique(lv[okv]):
            rows = okv & (lv == g)
            cap = MAD_EFFICIENCY * (float(np.median(n_peer[rows])) - 1.0)
            df_g, sc_g = empirical_null_central(zz[rows], max_df=cap)
            p[rows] = stats.t.sf(zz[rows] / sc_g, df_g)
            nulls[g] = (df_g, sc_g)
        out.n_tests += int(ok.sum())
        Zrev, Zgdp = zstack[0].reshape(R, T), zstack[1].reshape(R, T)
        report_p = float(threshold("scoring.report_p", config))
        P = p.reshape(R, T)
        Z = zz.reshape(R, T)
        hit = np.isfinite(P) & (P <= report_p) & (Z > 0)
        names = frame.names()
        years = frame.years
        D = frame.matrix("debt_balance")
        peer_g = _peer_median(eg["g_debt"], level, years)
        rho = lag_correlations(Z, float(threshold("debt.surge_rho_clip", config)),
                               int(threshold("debt.surge_rho_min_pairs", config)))
        if len(rho) > 1 and rho[1] == 0.0 and np.isfinite(Z).sum() > 0:
            out.notes.append("debt_surge: no lag-1 correlation of the yearly z could be estimated (too few "
                             "region-year pairs or none positive); runs of years are combined as independent")
        for r, s, e in runs(hit):
            code = str(frame.codes[r])
            k = e - s + 1
            stouffer = correlated_stouffer(P[r, s:e + 1], rho)
            p_run = float(stats.norm.sf(stouffer))
            gd, gr = np.expm1(eg["g_debt"][r, s:e + 1]), np.expm1(eg["g_rev"][r, s:e + 1])
            gdp_g = eg["g_gdp"][r, s:e + 1]
            y0, y1 = str(int(years[s])), str(int(years[e]))
            cum_d = float(D[r, e] / D[r, s - 1] - 1) if s > 0 and D[r, s - 1] > 0 else float(np.prod(1 + gd) - 1)
            cum_r = float(np.expm1(np.nansum(eg["g_rev"][r, s:e + 1]))) if np.isfinite(gr).any() else float("nan")
            cum_gdp = float(np.expm1(np.nansum(gdp_g))) if np.isfinite(gdp_g).any() else float("nan")
            med = float(np.expm1(np.nanmedian(peer_g[r, s:e + 1])))
            zmax = float(np.nanmax(Z[r, s:e + 1]))
            period_en = f"in {y1}" if k == 1 else f"over {y0}-{y1}"
            period_zh = f"{y1}年" if k == 1 else f"{y0}–{y1}年"
            out.items.append(Finding(
                region_code=code, region_name=str(names.get(code, code)), indicator="debt_balance",
                period_start=y0, period_end=y1, detector=self.name, statistic=stouffer, p_value=p_run,
                family=self.family, kind="debt_surge", effect=float(np.nansum(eg["x_rev"][r, s:e + 1])),
                summary=(f"Debt rose {pct(cum_d)} {period_en} (to {money_en(D[r, e])}) while general budget revenue "
                         f"rose {pct(cum_r)} and GDP {pct(cum_gdp)}; peers' debt grew a median {pct(med, 1)} a year "
                         f"(max robust z of the excess = {zmax:.1f}, {fmt_p(p_run)}); check the borrowing approvals, "
                         f"the projects financed and any LGFV borrowing behind it."),
                summary_zh=(f"{period_zh}债务余额增长{pct(cum_d)}（至{money(D[r, e])}亿元），同期一般公共预算收入增长"
                            f"{pct(cum_r)}、地区生产总值增长{pct(cum_gdp)}，同级地区债务年增速中位数{pct(med, 1)}"
                            f"（超额增速最大稳健z={zmax:.1f}，{fmt_p(p_run)}）；请核查举债审批、资金投向项目及城投融资。"),
                evidence={"series": series_dict(years, D[r]),
                          "debt_growth": series_dict(years[s:e + 1], gd), "revenue_growth": series_dict(years[s:e + 1], gr),
                          "gdp_growth": series_dict(years[s:e + 1], np.expm1(gdp_g)),
                          "resources_growth": series_dict(years[s:e + 1], np.expm1(eg["g_res"][r, s:e + 1])),
                          "z": series_dict(years[s:e + 1], Z[r, s:e + 1]),
                          "z_vs_revenue": series_dict(years[s:e + 1], Zrev[r, s:e + 1]),
                          "z_vs_gdp": series_dict(years[s:e + 1], Zgdp[r, s:e + 1]),
                          "p": series_dict(years[s:e + 1], P[r, s:e + 1], 10),
                          "peer_median_debt_growth": med,
                          "peer_n": series_dict(years[s:e + 1], n_peer.reshape(R, T)[r, s:e + 1]),
                          "null_t_df": nulls[lv[r * T]][0], "null_t_scale": nulls[lv[r * T]][1],
                          "stouffer_z": stouffer,
                          "lag_correlations": [round(float(v), 4) for v in rho[1:k]]},
            ))
        return out


def _peer_median(m: np.ndarray, level: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Same-year median of ``m`` over regions at the same level, broadcast to the regions."""
    out = np.full_like(m, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for lv in np.unique(level):
            rows = level == lv
            out[rows] = np.nanmedian(m[rows], axis=0)[None, :]
    return out
