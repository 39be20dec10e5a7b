"""Excess smoothness of reported growth: too little volatility against peers and proxies, and heaping.

Three sub-tests per region and indicator, combined by Bonferroni (``p = min(1, k * min p_j)``
over the ``k`` sub-tests that apply), so that one finding and one hypothesis stand per series:

1. **Peers.** Growth ``g_t`` (log growth of a level, or the reported rate / 100 for
   ``gdp_real_growth``), detrended by its own linear trend over each window of ``window_years``
   rates; ``s^2`` is the residual variance on ``nu = n - 2`` degrees of freedom. Its ratio to the
   peers' median variance in the same window is referred to a chi-square on *effective* degrees of
   freedom ``v <= nu``, those whose ``log chi2`` has the interquartile range of the peers' ``log s^2``
   (:func:`effective_df`, :func:`low_variance_p`): serial correlation and legitimately different
   volatilities widen the peers' spread and fatten the lower tail. The statistic is the smallest
   window's ``z = Phi^-1(p)``, referred to a simulated null of that minimum (:func:`window_scan`).
   One-sided: only too little volatility is evidence.
2. **Proxies.** Where electricity, night lights or rail freight are present, over the whole series:
   the log variance ratio ``ln(s^2(g) / s^2(g_proxy)) / sqrt(4 / nu)`` averaged over the proxies,
   re-centred on the peers' median and divided by ``max(1, robust s.d.)`` (:func:`low_tail_peer_z`).
3. **Heaping** (``gdp_real_growth`` reported with one decimal): the count of rates whose last
   digit is 0 or 5 against Binomial(n, 0.2) (upper tail); the last digit of a rate reported to
   0.1 pp is uniform for honest figures (a rounding argument, Nigrini 2012 ch. 8).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from detect._stats import MAD_TO_SD, fmt_p
from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.findings import Finding, Findings
from detect.registry import Detector, register
from detect.series._common import get_series, log_matrix, peer_adjust, peer_groups, series_dict

_RATE = "gdp_real_growth"


def growth_matrix(panel: Panel, ind: str) -> pd.DataFrame:
    """Regions x years growth: reported rate / 100 for rates, log growth for levels."""
    s = get_series(panel, ind)
    if s.empty:
        return s
    if ind == _RATE:
        return s / 100.0
    if s.shape[1] < 2:
        return pd.DataFrame(dtype="float64")
    g = np.diff(log_matrix(s), axis=1)
    return pd.DataFrame(g, index=s.index, columns=s.columns[1:])


def detrended_variance(g: np.ndarray, min_obs: int) -> tuple[np.ndarray, np.ndarray]:
    """Residual variance of each row around its own least-squares line (NaNs skipped).

    Returns
    -------
    s2, nu : arrays of length ``n_rows`` (``s2`` NaN where fewer than ``min_obs`` values).
    """
    ok = np.isfinite(g)
    n = ok.sum(axis=1)
    t = np.broadcast_to(np.arange(g.shape[1], dtype=float), g.shape)
    w = ok.astype(float)
    gz = np.where(ok, g, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tm = (w * t).sum(1) / n
        gm = gz.sum(1) / n
        tc = np.where(ok, t - tm[:, None], 0.0)
        gc = np.where(ok, gz - gm[:, None], 0.0)
        b = (tc * gc).sum(1) / (tc * tc).sum(1)
        r = gc - b[:, None] * tc
        nu = n - 2
        s2 = (r * r).sum(1) / nu
    s2 = np.where(n >= min_obs, s2, np.nan)
    return s2, nu.astype(float)


_NU_GRID = np.geomspace(0.5, 400.0, 800)


def _log_chi2_iqr(nu: np.ndarray) -> np.ndarray:
    """Interquartile range of ``log(chi2_nu)`` (decreasing in ``nu``)."""
    q = stats.chi2.ppf(np.array([[0.25], [0.75]]), nu)
    return np.log(q[1]) - np.log(q[0])


_IQR_GRID = _log_chi2_iqr(_NU_GRID)


def effective_df(log_iqr: float, nu: float) -> float:
    """Degrees of freedom whose ``log(chi2)`` has the interquartile range ``log_iqr``, at most ``nu``.

    The peers' spread of log variances calibrates the chi-square: serial correlation (or
    legitimately different volatilities) widen it, which lowers the effective degrees of freedom
    and fattens the lower tail; a narrower spread than ``chi2_nu`` never raises them above ``nu``
    (Satterthwaite 1946, Biometrics Bull. 2:110-114, matched on quantiles instead of moments so
    that a few smoothed regions do not move it).
    """
    if not np.isfinite(log_iqr) or log_iqr <= 0:
        return float(nu)
    matched = float(np.interp(log_iqr, _IQR_GRID[::-1], _NU_GRID[::-1]))
    return float(min(nu, matched))


def low_variance_p(s2: np.ndarray, nu: np.ndarray, groups: np.ndarray,
                   min_peers: int) -> dict[str, np.ndarray]:
    """Lower-tail p of each variance against the peers' median, on effective degrees of freedom.

    Within each peer group (at least ``min_peers`` finite variances): ``r = s^2 / median(s^2)``;
    under the null ``s^2 ~ sigma^2 chi2_v / v`` with ``v`` from :func:`effective_df` (scaled down
    for rows with fewer degrees of freedom than the group's median), so
    ``p = F_chi2(r * m_v * v; v)`` with ``m_v = median(chi2_v) / v``. Serial correlation of honest
    growth makes this conservative (AR(1) with rho = 0.5, ten rates: a nominal p of 4e-5 has a
    simulated probability of about 2e-5; ``test_smoothness.py`` checks the 1 % and 5 % levels).

    Returns
    -------
    dict with ``ratio`` (to the peer median), ``p``, ``z = Phi^-1(p)``, ``n`` (peers), ``nu_eff``.
    """
    n_rows = len(s2)
    ratio, p, nu_eff = (np.full(n_rows, np.nan) for _ in range(3))
    npeer = np.zeros(n_rows, dtype=int)
    for grp in np.unique(groups):
        idx = np.flatnonzero((groups == grp) & np.isfinite(s2))
        if len(idx) < min_peers:
            continue
        v = np.maximum(s2[idx], 0.0)
        med = np.median(v)
        if not med > 0:
            continue
        with np.errstate(divide="ignore"):
            lv = np.log(v)
        pos = np.isfinite(lv)
        iqr = float(np.subtract(*np.percentile(lv[pos], [75, 25]))) if pos.sum() >= min_peers else np.nan
        nu_med = float(np.median(nu[idx]))
        v_eff = effective_df(iqr, nu_med) * nu[idx] / nu_med
        r = v / med
        m_v = stats.chi2.ppf(0.5, v_eff) / v_eff
        ratio[idx] = r
        p[idx] = stats.chi2.cdf(r * m_v * v_eff, v_eff)
        nu_eff[idx] = v_eff
        npeer[idx] = len(idx)
    with np.errstate(divide="ignore"):
        z = stats.norm.ppf(np.clip(p, 1e-300, 1.0))
    return {"ratio": ratio, "p": p, "z": z, "n": npeer, "nu_eff": nu_eff}


def low_tail_peer_z(w: np.ndarray, groups: np.ndarray, min_peers: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-centre ``w`` on the peer median and scale by ``max(1, robust s.d.)``: ``(z, n_peers)``."""
    z = np.full(w.shape, np.nan)
    npeer = np.zeros(w.shape, dtype=int)
    for grp in np.unique(groups):
        idx = np.flatnonzero((groups == grp) & np.isfinite(w))
        if len(idx) < min_peers:
            continue
        med = np.median(w[idx])
        sd = max(1.0, MAD_TO_SD * np.median(np.abs(w[idx] - med)))
        z[idx] = (w[idx] - med) / sd
        npeer[idx] = len(idx)
    return z, npeer


def peer_volatility(g: np.ndarray, groups: np.ndarray, min_peers: int, min_obs: int) -> dict[str, np.ndarray]:
    """Sub-test 1 on the whole series: ratio to the peer median variance, z and p."""
    _, med, _ = peer_adjust(g, groups, min_peers)
    s2, nu = detrended_variance(g, min_obs)
    out = low_variance_p(s2, nu, groups, min_peers)
    out.update({"s2": s2, "nu": nu, "median_growth": med})
    return out


def window_scan(g: np.ndarray, groups: np.ndarray, min_peers: int, length: int, null_draws: int = 4000,
                min_exceed: int = 40, seed: int = 0) -> dict[str, np.ndarray]:
    """Sub-test 1 on every window of ``length`` growth rates: the smallest peer z and its window.

    For each window, the detrended variance of each region is compared with the peers' median in
    the same window (:func:`low_variance_p`, chi-square on effective degrees of freedom); the
    region's statistic is its smallest window ``z = Phi^-1(p)``. Its p-value comes from a simulated
    null of that minimum (:func:`scan_null`, ``null_draws`` draws, seeded) for series with every
    window; series with gaps get the Bonferroni bound ``min(1, W * p_min)`` over their ``W``
    windows (conservative: the windows overlap). Smoothing over part of a series (a decade of 20
    years) shows here while the whole-series variance still carries the unsmoothed years.
    """
    n_rows, T = g.shape
    L = min(length, T)
    zs, ratios = [], []
    for s in range(0, T - L + 1):
        s2, nu = detrended_variance(g[:, s:s + L], L)
        w = low_variance_p(s2, nu, groups, min_peers)
        zs.append(w["z"])
        ratios.append(w["ratio"])
    Z = np.column_stack(zs) if zs else np.full((n_rows, 1), np.nan)
    Rt = np.column_stack(ratios) if ratios else np.full((n_rows, 1), np.nan)
    W = np.isfinite(Z).sum(axis=1)
    with np.errstate(invalid="ignore"):
        best = np.argmin(np.where(np.isfinite(Z), Z, np.inf), axis=1)
    zmin = np.where(W > 0, Z[np.arange(n_rows), best], np.nan)
    bonf = np.where(W > 0, np.minimum(1.0, W * stats.norm.cdf(zmin)), np.nan)
    p = bonf.copy()
    if null_draws and T - L + 1 > 1:
        table = scan_null(T, L, min_peers, null_draws, seed)
        full = W == T - L + 1
        p[full] = min_stat_p(zmin[full], table, bonf[full], min_exceed, T - L + 1)
    return {"z": zmin, "p": p, "start": best, "ratio": Rt[np.arange(n_rows), best], "n_windows": W}


@lru_cache(maxsize=64)
def scan_null(T: int, L: int, min_peers: int, draws: int, seed: int) -> np.ndarray:
    """Sorted null draws of the smallest window z (:func:`window_scan`) for ``T`` growth rates.

    Simulated panels of 200 regions with i.i.d. normal growth of equal variance (the re-centring
    and scaling on the peers make the statistic nearly free of the level and spread of volatility).
    """
    rng = np.random.default_rng([seed, T, L, 11])
    n_reg = 200
    out = []
    for _ in range(max(1, draws // n_reg)):
        g = rng.standard_normal((n_reg, T))
        r = window_scan(g, np.zeros(n_reg, dtype=int).astype(str), min_peers, L, null_draws=0)
        out.append(r["z"])
    return np.sort(np.concatenate(out))


def min_stat_p(z: np.ndarray, table: np.ndarray, bonf: np.ndarray, min_exceed: int, W: int) -> np.ndarray:
    """Lower-tail p of ``z`` from the null ``table``; beyond its resolution, the Bonferroni bound
    ``W * Phi(z)`` rescaled by its ratio to the table at the ``min_exceed``-th smallest draw."""
    B = len(table)
    below = np.searchsorted(table, z, side="right")
    p_table = (1.0 + below) / (B + 1.0)
    c = table[min(min_exceed, B) - 1]
    ratio = min(1.0, ((1.0 + min_exceed) / (B + 1.0)) / max(W * stats.norm.cdf(c), 1e-300))
    tail = np.minimum(ratio * bonf, (1.0 + min_exceed) / (B + 1.0))
    return np.where(below >= min_exceed, p_table, tail)


def heaping(raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count of rates reported with exactly one decimal whose last digit is 0 or 5.

    Returns ``(k, n, p)`` per row; ``p`` is the Binomial(n, 0.2) upper tail ``P(X >= k)``.
    """
    txt = raw.fillna("").astype(str).apply(lambda c: c.str.strip())
    one_dec = txt.apply(lambda c: c.str.fullmatch(r"-?\d+\.\d"))
    last = txt.apply(lambda c: c.str[-1:])
    heap = one_dec & last.isin(["0", "5"])
    n = one_dec.sum(axis=1).to_numpy()
    k = heap.sum(axis=1).to_numpy()
    p = stats.binom.sf(k - 1, n, 0.2)
    return k, n, p


@register
class Smoothness(Detector):
    """Reported growth that is too smooth for its peers and proxies, or heaped at round values."""

    name = "smoothness"
    family = "series"
    title = "Excess smoothness of growth"
    title_zh = "增速过度平滑"
    null_hypothesis = ("The volatility of the region's detrended growth (net of the peer median) is drawn from the "
                       "same distribution as its peers' (and its ratio to the proxies' volatility likewise), and the "
                       "last digit of rates reported to 0.1 is uniform.")
    null_hypothesis_zh = "该地区去趋势增速（减去同级地区中位数后）的波动率与同级地区的波动率来自同一分布（其与代理指标波动率之比亦然），且报告到0.1的比率末位数字均匀分布。"

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        min_obs = int(threshold("smoothness.min_growth_obs", config))
        min_peers = int(threshold("smoothness.min_peers", config))
        min_heap = int(threshold("smoothness.min_heaping_obs", config))
        window = int(threshold("smoothness.window_years", config))
        null_draws = int(threshold("smoothness.null_draws", config))
        min_exceed = int(threshold("level_shift.tail_min_exceed", config))
        report_p = float(threshold("scoring.report_p", config))
        inds = [i for i in threshold("smoothness.indicators", config) if i in panel.indicators]
        proxies = [i for i in threshold("smoothness.proxies", config) if i in panel.indicators]
        peers_mode = config.option(self.name, "peers", "level")
        names = panel.regions.set_index("region_code")["region_name"]
        proxy_g = {p: growth_matrix(panel, p) for p in proxies}
        for ind in inds:
            gdf = growth_matrix(panel, ind)
            if gdf.empty:
                continue
            codes = gdf.index
            groups = peer_groups(panel, codes, peers_mode)
            g = gdf.to_numpy(dtype=float)
            peer = peer_volatility(g, groups, min_peers, min_obs)
            scan = window_scan(g, groups, min_peers, window, null_draws, min_exceed, int(config.seed))
            peer["scan"] = scan
            pvals = {"peers": np.where(np.isfinite(peer["s2"]), scan["p"], np.nan)}
            details = {"peers": peer}
            stds, lrs, used = [], [], []
            for px, pg in proxy_g.items():
                if ind in proxies or pg.empty:
                    continue
                pgr = pg.reindex(index=codes, columns=gdf.columns).to_numpy(dtype=float)
                both = np.isfinite(g) & np.isfinite(pgr)
                gs, _ = detrended_variance(np.where(both, g, np.nan), min_obs)
                ps, nu = detrended_variance(np.where(both, pgr, np.nan), min_obs)
                with np.errstate(invalid="ignore", divide="ignore"):
                    lr = np.log(gs / ps)
                lr = np.where(np.isfinite(lr), lr, np.nan)
                # log variance ratio: s.d. about sqrt(4 / nu) under equal volatility (two chi-squares)
                stds.append(lr / np.sqrt(4.0 / np.maximum(nu, 1)))
                lrs.append(lr)
                used.append(px)
            if stds:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    mean_std = np.nanmean(np.column_stack(stds), axis=1)
                    mean_lr = np.nanmean(np.column_stack(lrs), axis=1)
                z, npeer = low_tail_peer_z(mean_std, groups, min_peers)
                pvals["proxies"] = stats.norm.cdf(z)
                details["proxies"] = {"z": z, "n": npeer, "sd_ratio": np.exp(mean_lr / 2), "names": used}
            if ind == _RATE:
                raw = self._raw_table(panel, ind).reindex(codes)
                k, n, p = heaping(raw)
                pvals["heaping"] = np.where(n >= min_heap, p, np.nan)
                details["heaping"] = {"k": k, "n": n}
            P = np.column_stack(list(pvals.values()))
            n_sub = np.isfinite(P).sum(axis=1)
            tested = n_sub > 0
            n_short = int((np.isfinite(g).sum(axis=1) > 0).sum() - tested.sum())
            if n_short:
                out.notes.append(f"smoothness: {n_short} {ind} series not tested (fewer than {min_obs} growth "
                                 f"rates or fewer than {min_peers} peers)")
            with np.errstate(invalid="ignore"):
                pmin = np.nanmin(np.where(np.isfinite(P), P, np.inf), axis=1)
            p_comb = np.where(tested, np.minimum(1.0, n_sub * np.where(tested, pmin, 1.0)), np.nan)
            out.n_tests += int(tested.sum())
            series = get_series(panel, ind)
            keys = list(pvals)
            for i in np.flatnonzero(tested & (p_comb <= report_p)):
                which = keys[int(np.nanargmin(np.where(np.isfinite(P[i]), P[i], np.inf)))]
                out.items.append(self._finding(ind, codes[i], str(names.get(codes[i], codes[i])), i, which,
                                               float(p_comb[i]), int(n_sub[i]), pvals, details, gdf,
                                               series.loc[codes[i]]))
        return out

    @staticmethod
    def _raw_table(panel: Panel, ind: str) -> pd.DataFrame:
        d = panel.latest()
        d = d[(d["indicator"] == ind) & (d["freq"] == "A")]
        return d.pivot(index="region_code", columns="year", values="raw")

    def _finding(self, ind, code, name, i, which, p, n_sub, pvals, details, gdf, row) -> Finding:
        years = [int(y) for y in gdf.columns[np.isfinite(gdf.iloc[i].to_numpy(dtype=float))]]
        y0, y1 = (str(min(years)), str(max(years))) if years else (str(row.index.min()), str(row.index.max()))
        lab, lab_zh = label(ind), label(ind, "zh")
        what, what_zh = (lab, lab_zh) if ind == _RATE else (f"{lab} growth", f"{lab_zh}增速")
        peer = details["peers"]
        sd_ratio = float(np.sqrt(peer["ratio"][i])) if np.isfinite(peer["ratio"][i]) else float("nan")
        sub_p = {k: (None if not np.isfinite(v[i]) else float(v[i])) for k, v in pvals.items()}
        if which == "heaping":
            k, n = int(details["heaping"]["k"][i]), int(details["heaping"]["n"][i])
            stat, effect, kind = float(k), k / max(n, 1) - 0.2, "growth_heaping"
            en = (f"{k} of {n} reported {lab} rates end in .0 or .5 (20 % expected for honest figures; "
                  f"{fmt_p(p)} after combining {n_sub} sub-tests); check whether the rates were set rather than "
                  f"computed from the levels.")
            zh = (f"{n}个{lab_zh}数据中有{k}个尾数为.0或.5（正常约20%；综合{n_sub}项检验{fmt_p(p)}）；"
                  f"请核查增速是否为设定值而非由总量计算。")
        elif which == "peers":
            scan = peer["scan"]
            ws = int(scan["start"][i])
            L = len(gdf.columns) - int(scan["n_windows"][i]) + 1 if scan["n_windows"][i] > 0 else len(gdf.columns)
            y0, y1 = str(gdf.columns[ws]), str(gdf.columns[min(ws + L - 1, len(gdf.columns) - 1)])
            w_ratio = float(np.sqrt(scan["ratio"][i])) if np.isfinite(scan["ratio"][i]) else float("nan")
            stat, effect, kind = float(scan["z"][i]), w_ratio - 1.0, "smooth_vs_peers"
            en = (f"{what} in {y0}-{y1} varied only {w_ratio:.2f} times as much as the peer median over the same years "
                  f"(s.d. around its own trend; smallest window z = {stat:.1f}, {fmt_p(p)} against the null of "
                  f"the smallest window, combined over {n_sub} sub-tests); check whether reported growth was smoothed, against electricity and tax data.")
            zh = (f"{y0}-{y1}年{what_zh}波动（围绕自身趋势的标准差）仅为同期同级地区中位数的{w_ratio:.2f}倍"
                  f"（最小窗口z={stat:.1f}，对照最小窗口零分布并综合{n_sub}项检验{fmt_p(p)}）；请对照用电量和税收核查增速是否被平滑。")
        else:
            d = details["proxies"]
            ratio = float(d["sd_ratio"][i])
            pxs = ", ".join(label(x) for x in d["names"])
            pxs_zh = "、".join(label(x, "zh") for x in d["names"])
            stat, effect, kind = float(d["z"][i]), ratio - 1.0, "smooth_vs_proxy"
            en = (f"{what} in {y0}-{y1} varied {ratio:.2f} times as much as the growth of {pxs} (geometric mean), "
                  f"unusually low against other regions (z = {stat:.1f}, {fmt_p(p)} after combining {n_sub} "
                  f"sub-tests); check the years where the proxies moved and {lab} did not.")
            zh = (f"{y0}-{y1}年{what_zh}波动仅为{pxs_zh}增速波动的{ratio:.2f}倍（几何平均），明显低于其他地区"
                  f"（z={stat:.1f}，综合{n_sub}项检验{fmt_p(p)}）；请核查代理指标变化而{lab_zh}不变的年份。")
        growth = {str(y): (None if not np.isfinite(v) else float(v)) for y, v in gdf.iloc[i].items()}
        peer_med = {str(y): float(m) for y, m in zip(gdf.columns, peer["median_growth"][i])}
        return Finding(
            region_code=code, region_name=name, indicator=ind, period_start=y0, period_end=y1,
            detector=self.name, statistic=stat, p_value=p, family=self.family, kind=kind, effect=effect,
            summary=en, summary_zh=zh,
            evidence={"series": series_dict(row), "growth": growth, "peer_median_growth": peer_med,
                      "sub_test_p": sub_p, "n_sub_tests": n_sub, "sd_ratio_to_peers": sd_ratio,
                      "peer_z": None if not np.isfinite(peer["z"][i]) else float(peer["z"][i])},
        )
