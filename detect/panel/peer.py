"""Multivariate peer outliers: region-years whose profile of ratios and growth gaps is unusual.

Features, whatever the panel allows (each standardised against all regions at the same level in
the same year, robust z, so common shocks and level differences in scale drop out):

* ``gdp_vs_electricity``, ``gdp_vs_night_lights``: ``dlog gdp - dlog proxy``
* ``revenue_vs_tax``: ``dlog fiscal_revenue - dlog tax_revenue``
* ``nontax_share``: ``nontax_revenue / fiscal_revenue``
* ``revenue_to_gdp``: ``fiscal_revenue / gdp``
* ``debt_growth``: ``dlog debt_balance``; ``gdp_growth``, ``revenue_growth``

A robust covariance (Minimum Covariance Determinant, FAST-MCD: Rousseeuw & Van Driessen 1999,
seeded) gives squared robust distances ``d2``. Their null is a scaled ``p F(p, nu)`` (the law of
``d2`` under a multivariate t; Hardin & Rocke 2005 use an F approximation for MCD distances) fitted to
the 50th and 90th percentiles of the observed ``d2`` — the bulk calibrates the tail, not a fixed
contamination share. The signal is supporting only (kind ``supporting``): an unusual profile
points where the other detectors' evidence should be read, it is not evidence of falsification.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from detect._stats import fmt_p, robust_z
from detect.config import Config, threshold
from detect.data.panel import Panel
from detect.findings import Finding, Findings
from detect.panel._runs import SeriesCache, aligned, log_growth, period_text, simes_runs, year_dict
from detect.registry import Detector, register

#: feature -> (English label, Chinese label)
FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "gdp_vs_electricity": ("GDP growth minus electricity growth", "GDP增速减用电量增速"),
    "gdp_vs_night_lights": ("GDP growth minus night-light growth", "GDP增速减夜间灯光增速"),
    "revenue_vs_tax": ("revenue growth minus tax growth", "财政收入增速减税收增速"),
    "nontax_share": ("non-tax share", "非税收入占比"),
    "revenue_to_gdp": ("revenue / GDP", "财政收入占GDP比重"),
    "debt_growth": ("debt growth", "债务余额增速"),
    "gdp_growth": ("GDP growth", "GDP增速"),
    "revenue_growth": ("revenue growth", "财政收入增速"),
}


def features(panel: Panel) -> dict[str, pd.DataFrame]:
    """Raw features, each a regions x years table (only those the panel allows)."""
    have = set(panel.indicators)
    cache = SeriesCache(panel)
    s = {k: cache(k) for k in ("gdp", "electricity", "night_lights", "fiscal_revenue", "tax_revenue",
                                       "nontax_revenue", "debt_balance") if k in have}
    g = {k: log_growth(v) for k, v in s.items()}
    out: dict[str, pd.DataFrame] = {}

    def diff(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
        return a - b.reindex_like(a)

    if "gdp" in g and "electricity" in g:
        out["gdp_vs_electricity"] = diff(g["gdp"], g["electricity"])
    if "gdp" in g and "night_lights" in g:
        out["gdp_vs_night_lights"] = diff(g["gdp"], g["night_lights"])
    if "fiscal_revenue" in g and "tax_revenue" in g:
        out["revenue_vs_tax"] = diff(g["fiscal_revenue"], g["tax_revenue"])
    if "fiscal_revenue" in s and "nontax_revenue" in s:
        fr = s["fiscal_revenue"]
        out["nontax_share"] = s["nontax_revenue"].reindex_like(fr) / fr.where(fr > 0)
    if "fiscal_revenue" in s and "gdp" in s:
        gd = s["gdp"]
        out["revenue_to_gdp"] = s["fiscal_revenue"].reindex_like(gd) / gd.where(gd > 0)
    if "debt_balance" in g:
        out["debt_growth"] = g["debt_balance"]
    if "gdp" in g:
        out["gdp_growth"] = g["gdp"]
    if "fiscal_revenue" in g:
        out["revenue_growth"] = g["fiscal_revenue"]
    return {k: v.replace([np.inf, -np.inf], np.nan) for k, v in out.items()}


def fit_distance_null(d2: np.ndarray, p: int, quantiles: tuple[float, float]) -> tuple[float, float]:
    """Scaled ``p F(p, nu)`` null of squared distances matched at two quantiles: ``(nu, scale)``.

    ``nu = inf`` (a scaled chi-square) when the observed spread is no wider than the chi-square's.
    """
    q_lo, q_hi = np.quantile(d2, quantiles)
    ratio = q_hi / q_lo
    chi_ratio = stats.chi2.ppf(quantiles[1], p) / stats.chi2.ppf(quantiles[0], p)
    if not np.isfinite(ratio) or ratio <= chi_ratio * (1 + 1e-6):
        return float("inf"), float(q_lo / stats.chi2.ppf(quantiles[0], p))

    def f(log_nu: float) -> float:
        nu = np.exp(log_nu)
        return stats.f.ppf(quantiles[1], p, nu) / stats.f.ppf(quantiles[0], p, nu) - ratio

    lo, hi = np.log(2.05), np.log(1e5)
    if f(lo) < 0:  # wider than F(p, 2.05): use the heaviest tail allowed
        nu = 2.05
    elif f(hi) > 0:
        return float("inf"), float(q_lo / stats.chi2.ppf(quantiles[0], p))
    else:
        nu = float(np.exp(optimize.brentq(f, lo, hi, xtol=1e-8)))
    scale = float(q_lo / (p * stats.f.ppf(quantiles[0], p, nu)))
    return nu, scale


def distance_sf(d2: np.ndarray, p: int, nu: float, scale: float) -> np.ndarray:
    """Upper-tail p-value of squared distances under the fitted null."""
    if np.isinf(nu):
        return stats.chi2.sf(d2 / scale, p)
    return stats.f.sf(d2 / (p * scale), p, nu)


@register
class PeerOutlier(Detector):
    """Region-years whose multivariate profile is far from the peers' (robust Mahalanobis)."""

    name = "peer_outlier"
    family = "panel"
    title = "Multivariate peer outliers (supporting)"
    title_zh = "多指标同级比较异常（辅助信号）"
    null_hypothesis = ("The region-year's vector of same-year robust z-scores (growth gaps, shares, ratios) is "
                       "drawn from the bulk's distribution; its squared robust distance follows the fitted "
                       "scaled F null.")
    null_hypothesis_zh = ("该地区当年的同年稳健z值向量（增速差距、占比、比率）与大多数地区—年份来自同一分布；"
                          "其稳健距离的平方服从拟合的缩放F零分布。")

    def run(self, panel: Panel, config: Config) -> Findings:
        from sklearn.covariance import MinCovDet

        out = Findings()
        if len(panel) == 0:
            return out
        report_p = float(threshold("scoring.report_p", config))
        min_rows = int(threshold("peer_outlier.min_rows", config))
        min_cov = float(threshold("peer_outlier.min_feature_coverage", config))
        max_fit = int(threshold("peer_outlier.fit_max_rows", config))
        quant = tuple(float(q) for q in threshold("peer_outlier.null_quantiles", config))
        raw = features(panel)
        if len(raw) < 2:
            out.notes.append(f"peer_outlier: needs at least 2 features, the panel allows {len(raw)}; not applicable")
            return out
        reg = panel.regions.set_index("region_code")
        long = pd.concat({k: v.stack() for k, v in raw.items()}, axis=1)
        long.index.names = ["region_code", "year"]
        long = long.dropna(how="all")
        if long.empty:
            return out
        cov = long.notna().mean()
        keep = [c for c in long.columns if cov[c] >= min_cov]
        dropped = [c for c in long.columns if c not in keep]
        if dropped:
            out.notes.append(f"peer_outlier: features dropped for coverage below {min_cov:.0%}: {', '.join(dropped)}")
        if len(keep) < 2:
            out.notes.append("peer_outlier: fewer than 2 features with enough coverage; not applicable")
            return out
        long = long[keep].dropna()
        years = pd.Series(long.index.get_level_values(1), index=long.index)
        lvl = pd.Series(long.index.get_level_values(0).map(reg["level"]).to_numpy(), index=long.index)
        zf = pd.DataFrame({c: robust_z(long[c], [years, lvl])[0] for c in keep}, index=long.index)
        zf = zf.replace([np.inf, -np.inf], np.nan).dropna()
        if len(zf) < min_rows:
            out.notes.append(f"peer_outlier: {len(zf)} complete region-years (< {min_rows}); not applicable")
            return out
        # provinces and prefectures are separate populations (a parent is the sum of its children)
        parts = []
        lvl_z = zf.index.get_level_values(0).map(reg["level"]).to_numpy()
        for level in np.unique(lvl_z):
            sub = zf[lvl_z == level]
            if len(sub) < min_rows:
                out.notes.append(f"peer_outlier: {len(sub)} complete region-years at hierarchy level {level} "
                                 f"(< {min_rows}); not tested")
                continue
            x = np.clip(sub.to_numpy(), -50, 50)
            rng = np.random.default_rng(config.seed)
            fit_rows = x if len(x) <= max_fit else x[np.sort(rng.choice(len(x), max_fit, replace=False))]
            try:
                mcd = MinCovDet(random_state=config.seed).fit(fit_rows)
            except ValueError as exc:  # singular covariance (collinear features)
                out.notes.append(f"peer_outlier: robust covariance could not be fitted at level {level} ({exc})")
                continue
            d2 = mcd.mahalanobis(x)
            nu, scale = fit_distance_null(d2, x.shape[1], quant)
            parts.append(pd.DataFrame({"p": distance_sf(d2, x.shape[1], nu, scale), "d2": d2, "nu": nu,
                                       "scale": scale}, index=sub.index))
        if not parts:
            return out
        res = pd.concat(parts)
        out.n_tests += len(res)
        ptab = res["p"].unstack("year")
        runs = simes_runs(ptab, (ptab <= report_p).fillna(False))
        runs = runs[runs["p"] <= report_p]
        if runs.empty:
            return out
        years = np.asarray(ptab.columns, dtype=int)
        d2a = aligned(res["d2"], ptab)
        nua, sca = aligned(res["nu"], ptab), aligned(res["scale"], ptab)
        za = {f: aligned(zf[f], ptab) for f in keep}
        rawa = {f: raw[f].reindex(index=ptab.index, columns=ptab.columns).to_numpy(dtype=float) for f in keep}
        names = reg["region_name"].astype(str).to_dict()
        for r in runs.itertuples(index=False):
            i, sl = r.row, slice(r.c0, r.c1 + 1)
            code = r.region_code
            peak = {f: za[f][i, sl][np.nanargmax(np.abs(za[f][i, sl]))] for f in keep}
            worst = sorted(keep, key=lambda f: -abs(peak[f]))[:3]
            parts_en = ", ".join(f"{FEATURE_LABELS[f][0]} z = {peak[f]:+.1f}" for f in worst)
            parts_zh = "，".join(f"{FEATURE_LABELS[f][1]} z={peak[f]:+.1f}" for f in worst)
            d2max = float(np.nanmax(d2a[i, sl]))
            per = period_text(int(r.start), int(r.end))
            pi = float(r.p)
            out.items.append(Finding(
                region_code=str(code), region_name=names.get(code, str(code)), indicator="*",
                period_start=str(int(r.start)), period_end=str(int(r.end)), detector=self.name,
                statistic=d2max, p_value=pi, family=self.family, kind="supporting", effect=float(np.sqrt(d2max)),
                summary=(f"In {per} the profile of {len(keep)} ratios and growth gaps was far from same-year peers "
                         f"({parts_en}; robust distance^2 = {d2max:.1f}, {fmt_p(pi)}); supporting signal only — "
                         f"read it with the region's other findings for {per}."),
                summary_zh=(f"{per}年{len(keep)}项比率与增速差的组合明显偏离同年同级地区（{parts_zh}；稳健距离平方="
                            f"{d2max:.1f}，{fmt_p(pi)}）；仅为辅助信号，请结合该地区{per}年的其他发现阅读。"),
                evidence={"features": keep,
                          "feature_z": {f: year_dict(years[sl], za[f][i, sl]) for f in keep},
                          "feature_values": {f: year_dict(years, rawa[f][i]) for f in keep},
                          "distance2": year_dict(years, d2a[i]),
                          "null_f_df": float(nua[i, r.c0]), "null_scale": float(sca[i, r.c0]),
                          "run_years": [int(y) for y in r.years],
                          "series": year_dict(years, d2a[i])},
            ))
        return out
