"""ARIMA intervention confirmation of the breaks the cheap screens point to.

Screens (computed here, not read from other detectors' output, so the run order does not matter):
the ``level_shift`` break search and the same-year peer growth z-scores of ``growth_peers``. A
series whose best screen p-value is at most ``arima.screen_p`` and that has at least
``arima.min_points`` consecutive years is a candidate; the ``arima.max_fits`` candidates with the
smallest screen p-values are fitted, the rest are recorded in a note.

Model (Box & Tiao 1975; Tsay 1988; Chen & Liu 1993). On the peer-adjusted log growth ``g_t``
(see ``level_shift``), a state-space AR(1) with intercept and one intervention regressor,

    g_t = c + delta x_t + u_t,   u_t = phi u_{t-1} + e_t,

fitted by exact maximum likelihood (statsmodels ``SARIMAX``, ``order=(1, 0, 0)``, ``trend="c"``);
``x`` is the LS / AO / TC regressor of ``level_shift`` at the screened break year and type. The
confirmation statistic is the t-statistic of ``delta`` (observed information, rescaled to
``n - 3`` degrees of freedom). The break year and type were chosen by a search over ``K`` positions
and types on the same data, so the statistic is referred to the null distribution of the *maximum*
``|t|`` over those ``K`` candidates -- the ``level_shift`` null table for that length and
heavy-tail df -- rather than to N(0, 1): on the clean sample panel the naive
``min(1, K * p_z)`` still flagged 25 series (the ML standard error of a one-year dummy is too small
in 20 points and real growth is heavy-tailed). A series not fitted counts as a test with ``p = 1``; that is a
valid (conservative) p-value, so ``n_tests`` is the number of eligible series.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from detect._stats import empirical_null_t, fmt_p, fmt_pct, robust_z, two_sided_t_p
from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.findings import Finding, Findings
from detect.registry import Detector, register
from detect.series._common import get_series, is_level_indicator, log_matrix, series_dict
from detect.series.level_shift import KIND, break_design, max_stat_p, null_table, screen


#: Largest number of z-scores the Student-t empirical null is fitted to (a seeded subsample beyond).
_NULL_FIT_MAX = 3000


def growth_peer_screen(panel: Panel, config: Config, indicators: list[str]) -> pd.DataFrame:
    """Smallest same-year peer growth p-value of each series and its year (the ``growth_peers`` test)."""
    min_peers = int(threshold("growth_peers.min_peers", config))
    regions = panel.regions.set_index("region_code")
    frames = []
    for ind in indicators:
        s = get_series(panel, ind)
        if s.empty or s.shape[1] < 2:
            continue
        g = np.diff(log_matrix(s), axis=1)
        gt = pd.DataFrame({"region_code": np.repeat(s.index.to_numpy(), g.shape[1]),
                           "year": np.tile(np.asarray(s.columns[1:], dtype=int), len(s)), "g": g.ravel()})
        gt = gt[np.isfinite(gt["g"].to_numpy())].reset_index(drop=True)
        if gt.empty:
            continue
        gt["peer_group"] = gt["region_code"].map(regions["level"].astype(str)).astype(str)
        z, _, _, n = robust_z(gt["g"], [gt["year"], gt["peer_group"]])
        ok = (n >= min_peers) & z.notna()
        if not ok.any():
            continue
        zz = z[ok].to_numpy()
        if len(zz) > _NULL_FIT_MAX:  # the t fit costs ~1 s per 20k values; the screen only ranks candidates
            zz = np.random.default_rng([int(config.seed), len(zz)]).choice(zz, _NULL_FIT_MAX, replace=False)
        df_, sc = empirical_null_t(zz)
        gt = gt[ok].assign(p=two_sided_t_p(z[ok].to_numpy(), df_, sc), indicator=ind)
        best = gt.sort_values(["p", "year"], kind="mergesort").drop_duplicates(["region_code"])
        frames.append(best[["region_code", "indicator", "year", "p"]])
    if not frames:
        return pd.DataFrame(columns=["region_code", "indicator", "gp_year", "gp_p"])
    return pd.concat(frames, ignore_index=True).rename(columns={"year": "gp_year", "p": "gp_p"})


def fit_intervention(g: np.ndarray, x: np.ndarray) -> dict:
    """Fit ``g = c + delta x + AR(1)`` by exact ML; ``delta``, its z-test p-value, ``phi``, fitted values."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    n = len(g)
    b = np.linalg.lstsq(np.column_stack([np.ones(n), x]), g, rcond=None)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = SARIMAX(g, exog=x[:, None], order=(1, 0, 0), trend="c", concentrate_scale=True)
        res = mod.fit(start_params=[b[0], b[1], 0.0], disp=False, method="bfgs", cov_type="oim", maxiter=200)
    names = list(res.model.param_names)
    i = names.index("x1")
    return {"delta": float(res.params[i]), "se": float(res.bse[i]), "p": float(res.pvalues[i]),
            "phi": float(res.params[names.index("ar.L1")]), "intercept": float(res.params[names.index("intercept")]),
            "fitted": np.asarray(res.fittedvalues, dtype=float), "converged": bool(res.mle_retvals.get("converged", True))}


@register
class ArimaOutlier(Detector):
    """Confirms screened breaks with an AR(1) intervention model fitted by exact maximum likelihood."""

    name = "arima_outlier"
    family = "series"
    title = "ARIMA intervention confirmation"
    title_zh = "ARIMA干预模型确认"
    null_hypothesis = ("The region's peer-adjusted log growth is a stationary AR(1) around a constant, with no "
                       "intervention (level shift, one-off outlier or temporary change) at any year.")
    null_hypothesis_zh = "该地区经同级地区调整的对数增速是围绕常数的平稳AR(1)过程，任何一年都没有干预（水平移动、一次性异常值或暂时变化）。"

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        min_points = int(threshold("arima.min_points", config))
        screen_p = float(threshold("arima.screen_p", config))
        max_fits = int(threshold("arima.max_fits", config))
        alpha = float(threshold("level_shift.tc_alpha", config))
        trend = bool(threshold("level_shift.trend_in_growth", config))
        draws = int(threshold("level_shift.null_draws", config))
        min_exceed = int(threshold("level_shift.tail_min_exceed", config))
        report_p = float(threshold("scoring.report_p", config))
        ls, _ = screen(panel, config)
        if ls.empty:
            out.notes.append("arima_outlier: no series long enough for the break screen")
            return out
        eligible = ls[ls["n_growth"] + 1 >= min_points].copy()
        n_short = len(ls) - len(eligible)
        if n_short:
            out.notes.append(f"arima_outlier: {n_short} series shorter than {min_points} consecutive years; not fitted")
        if eligible.empty:
            return out
        out.n_tests += len(eligible)
        inds = sorted(eligible["indicator"].unique())
        gp = growth_peer_screen(panel, config, [i for i in inds if is_level_indicator(i)])
        eligible = eligible.merge(gp, on=["region_code", "indicator"], how="left")
        # growth_peers' min p over years is Bonferroni-corrected for the years searched, like the break search
        gp_adj = np.minimum(1.0, eligible["gp_p"].fillna(1.0) * eligible["n_growth"])
        eligible["screen_p"] = np.minimum(eligible["p_value"], gp_adj)
        use_gp = gp_adj < eligible["p_value"]
        cand = eligible[eligible["screen_p"] <= screen_p].sort_values(
            ["screen_p", "region_code", "indicator"], kind="mergesort")
        if len(cand) > max_fits:
            out.notes.append(f"arima_outlier: {len(cand) - max_fits} screened candidates beyond the cap of "
                             f"{max_fits} fits not fitted (counted as tests with p = 1)")
            cand = cand.iloc[:max_fits]
        names = panel.regions.set_index("region_code")["region_name"]
        series_cache: dict[str, pd.DataFrame] = {}
        n_fail = 0
        for idx, r in cand.iterrows():
            n = int(r["n_growth"])
            g = np.asarray(r["_g"], dtype=float)[int(r["run_start"]):int(r["run_start"]) + n]
            X, kinds, pos = break_design(n, alpha)
            if use_gp.loc[idx] and np.isfinite(r["gp_year"]):
                k = int(r["gp_year"]) - int(r["start_year"]) - 1
                typ = "LS"
            else:
                k, typ = int(r["pos"]), str(r["type"])
            if not (0 <= k < n):
                continue
            row = np.flatnonzero((pos == k) & (kinds == typ))
            if len(row) == 0:
                typ, row = "LS", np.flatnonzero((pos == k) & (kinds == "LS"))
            try:
                fit = fit_intervention(g, X[row[0]])
            except (np.linalg.LinAlgError, ValueError):
                n_fail += 1
                continue
            if not np.isfinite(fit["p"]):
                n_fail += 1
                continue
            # the dummy's t-statistic (ML s.e. scaled to n - 3 degrees of freedom) against the null of the
            # maximum |t| over the K searched positions and types, with the screen's heavy-tail df
            t_stat = abs(fit["delta"] / fit["se"]) * np.sqrt((n - 3) / n)
            table = null_table(n, alpha, trend, float(r["df_null"]), draws, int(config.seed))
            p = float(max_stat_p(np.array([t_stat]), n, len(kinds), table, min_exceed, trend)[0])
            fit["t"] = float(np.sign(fit["delta"]) * t_stat)
            if p > report_p:
                continue
            ind = r["indicator"]
            if ind not in series_cache:
                series_cache[ind] = get_series(panel, ind)
            out.items.append(self._finding(r, k, typ, fit, p, len(kinds), g,
                                           series_cache[ind].loc[r["region_code"]], names))
        if n_fail:
            out.notes.append(f"arima_outlier: {n_fail} fits failed (singular or non-finite); counted as p = 1")
        out.notes.append(f"arima_outlier: {len(cand)} fits of {len(eligible)} eligible series")
        return out

    def _finding(self, r, k, typ, fit, p, K, g, row, names) -> Finding:
        code, ind = r["region_code"], r["indicator"]
        yr = int(r["start_year"]) + k + 1
        size = float(np.expm1(fit["delta"]))
        lab, lab_zh = label(ind), label(ind, "zh")
        yrs = [str(int(r["start_year"]) + j + 1) for j in range(len(g))]
        en = (f"An AR(1) intervention model confirms a {KIND[typ].replace('_', ' ')} in {lab} in {yr} of "
              f"{fmt_pct(size)} beyond its peers' growth (t = {fit['t']:.1f}, {fmt_p(p)} against the "
              f"null of the largest of {K} candidate years and types); check the {yr} {lab} figures and what they corrected.")
        zh = (f"AR(1)干预模型确认{yr}年{lab_zh}出现{ {'LS': '水平移动', 'AO': '一次性异常值', 'TC': '暂时性变化'}[typ]}，"
              f"幅度{fmt_pct(size)}（相对同级地区增速；t={fit['t']:.1f}，对照{K}个候选年份与类型中最大值的"
              f"零分布{fmt_p(p)}）；请核查{yr}年{lab_zh}数据及其更正的内容。")
        return Finding(
            region_code=code, region_name=str(names.get(code, code)), indicator=ind, period_start=str(yr),
            period_end=str(yr), detector=self.name, statistic=float(fit["t"]), p_value=p,
            family=self.family, kind=KIND[typ], effect=size, summary=en, summary_zh=zh,
            evidence={"series": series_dict(row), "break_year": yr, "type": typ, "delta_log": fit["delta"],
                      "se": fit["se"], "ar1": fit["phi"], "p_unadjusted": fit["p"], "n_candidates": K,
                      "screen_p": float(r["screen_p"]), "adjusted_growth": dict(zip(yrs, g.tolist())),
                      "fitted_growth": dict(zip(yrs, fit["fitted"].tolist()))},
        )
