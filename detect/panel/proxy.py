"""Reported growth against the growth of physical and tax proxies it cannot easily fake.

For each reported indicator ``y`` with proxies ``x_1..x_m`` (GDP against electricity, night lights
and rail freight; secondary value added against electricity; fiscal revenue against tax revenue
and VAT — see ``[proxy_divergence] pairs``), a Huber-robust two-way fixed-effects regression

    dlog y_it = a_i + c_t + sum_m b_m dlog x_m,it + e_it

is fitted on all regions at once (region effects absorb a region's normal gap between the two
growth rates — a shift to services —, year effects absorb common shocks and price changes).
Studentised residuals ``t_it`` that are positively autocorrelated across years (pooled lag-1
correlation ``r``) are prewhitened, ``w_it = (t_it - r t_i,t-1) / sqrt(1 - r^2)``; they are then
calibrated by a Student-t empirical null fitted to the centre of all of them (Efron 2004) and mapped
to normal scores ``u_it = Phi^-1(F_null(w_it))``.

A run of consecutive years with ``u > c`` (``[proxy_divergence] run_threshold``) is one finding over
that period, with the Stouffer statistic ``S = sum u / sqrt(k)``; its p-value is ``P(H_k >= sum u)``
with ``H_k`` a sum of ``k`` i.i.d. ``|Z|`` given ``|Z| > c``, exact conditional on the pattern of years
beyond ``c`` (:mod:`detect.panel._runs`). A positive run is the inflation phase (reported growth above
what the proxies imply); with ``[options.proxy_divergence] sides = "both"`` negative runs (the
correction) are tested too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect._stats import fmt_p, fmt_pct
from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.explain import what_to_check
from detect.findings import Finding, Findings
from detect.panel._fe import robust_fe
from detect.panel._runs import (lag1_correlation, log_growth, period_text, run_scores, trim_note, year_dict,
                                SeriesCache)
from detect.registry import Detector, register

#: What to check next, per reported indicator (English, Chinese).
NEXT_CHECK: dict[str, tuple[str, str]] = {
    "gdp": ("check electricity use and VAT by sector against the GDP accounts",
            "请分行业核对用电量和增值税与地区生产总值核算"),
    "gdp_secondary": ("check industrial electricity use and industrial VAT against secondary-industry value added",
                      "请核对工业用电量、工业增值税与第二产业增加值"),
    "gdp_real_growth": ("check electricity use and VAT by sector, and the deflator, against the GDP accounts",
                        "请分行业核对用电量、增值税及平减指数与地区生产总值核算"),
    "fiscal_revenue": ("check the non-tax items — state-asset sales, fines, fees — against the tax base",
                       "请核对非税收入项目（国有资源资产有偿使用收入、罚没收入、行政事业性收费）与税基"),
}


#: Indicators reported as growth rates in per cent: their "growth" is ``log(1 + rate / 100)``.
RATE_GROWTH = frozenset({"gdp_real_growth"})


def reported_growth(s: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Regions x years log growth of a reported indicator's table ``s`` (levels differenced, rates
    transformed)."""
    if indicator in RATE_GROWTH:
        return np.log1p(s.where(s > -100.0) / 100.0)
    return log_growth(s)


def _pairs(config: Config) -> dict[str, list[str]]:
    """Reported indicator -> proxies, from the thresholds file and ``[options.proxy_divergence] pairs``."""
    pairs = [list(p) for p in threshold("proxy_divergence.pairs", config)]
    pairs += [list(p) for p in config.option("proxy_divergence", "pairs", []) or []]
    out: dict[str, list[str]] = {}
    for p in pairs:
        if len(p) != 2:
            continue
        rep, prx = str(p[0]), str(p[1])
        if prx not in out.setdefault(rep, []):
            out[rep].append(prx)
    return out


def _join(items: list[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@register
class ProxyDivergence(Detector):
    """Runs of reported growth above (or below) what proxy growth implies."""

    name = "proxy_divergence"
    family = "panel"
    title = "Reported growth against proxies"
    title_zh = "报告增速与代理指标增速背离"
    null_hypothesis = ("Given region and year effects, the gap between reported growth and the growth the "
                       "proxies imply is independent across years and follows the empirical null; a run of "
                       "same-sign gaps is no longer than chance makes it.")
    null_hypothesis_zh = ("控制地区效应和年份效应后，报告增速与代理指标所隐含增速之间的差距在各年间相互独立并服从经验零分布；"
                          "同号差距连续出现的年数不超过随机情况下的长度。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        report_p = float(threshold("scoring.report_p", config))
        min_regions = int(threshold("proxy_divergence.min_regions", config))
        min_years = int(threshold("proxy_divergence.min_years", config))
        min_cov = float(threshold("proxy_divergence.min_proxy_coverage", config))
        huber_c = float(threshold("proxy_divergence.huber_c", config))
        present = set(panel.indicators)
        regions = panel.regions.set_index("region_code")
        series = SeriesCache(panel)
        for rep, proxies in _pairs(config).items():
            if rep not in present:
                continue
            avail = [p for p in proxies if p in present]
            if not avail:
                out.notes.append(f"proxy_divergence: {rep} has none of its proxies ({', '.join(proxies)}) in the panel")
                continue
            self._one(series, config, rep, avail, regions, out, report_p, min_regions, min_years, min_cov, huber_c)
        return out

    def _one(self, series, config, rep, proxies, regions, out, report_p, min_regions, min_years, min_cov,
             huber_c) -> None:
        gy = reported_growth(series(rep), rep)
        long = gy.stack().dropna().rename("y").to_frame()
        long.index.names = ["region_code", "year"]
        if long.empty:
            return
        used = []
        for p in proxies:
            gp = log_growth(series(p)).stack().dropna().rename(p)
            gp.index.names = ["region_code", "year"]
            cov = long.index.isin(gp.index).mean()
            if cov < min_cov:
                out.notes.append(f"proxy_divergence: {p} covers {fmt_pct(cov)} of {rep} growth observations "
                                 f"(< {fmt_pct(min_cov, 0)}); not used as a proxy of {rep}")
                continue
            long = long.join(gp, how="left")
            used.append(p)
        if not used:
            return
        n_missing = int(long.isna().any(axis=1).sum())
        long = long.dropna()
        # regions with too few years say nothing beyond their own fixed effect
        cnt = long.groupby(level="region_code")["y"].transform("size")
        short = long[cnt < min_years].index.get_level_values(0).nunique()
        long = long[cnt >= min_years]
        if short:
            out.notes.append(f"proxy_divergence: {short} regions with fewer than {min_years} years of {rep} and "
                             f"proxy growth not tested")
        if n_missing:
            out.notes.append(f"proxy_divergence: {n_missing} {rep} region-years lack a proxy value "
                             f"and are not tested")
        # regions at different levels of the hierarchy (provinces, prefectures) are separate panels:
        # a parent is the sum of its children, so pooling them would count the same economy twice
        lvl = long.index.get_level_values(0).map(regions["level"]).to_numpy()
        for level in np.unique(lvl):
            sub = long[lvl == level]
            n_reg = sub.index.get_level_values(0).nunique()
            if n_reg < min_regions:
                out.notes.append(f"proxy_divergence: {rep} against {', '.join(used)} at hierarchy level {level} "
                                 f"needs {min_regions} regions with data, found {n_reg}; not tested")
                continue
            self._fit_level(series, config, rep, used, sub, regions, out, report_p, huber_c)

    def _fit_level(self, series, config, rep, used, long, regions, out, report_p, huber_c) -> None:
        codes = long.index.get_level_values(0).to_numpy()
        years = long.index.get_level_values(1).to_numpy(dtype=int)
        gi = pd.factorize(codes)[0]
        gt = pd.factorize(years)[0]
        y = long["y"].to_numpy()
        x = long[used].to_numpy()
        fit = robust_fe(y, x, gi, gt, huber_c=huber_c)
        res = pd.DataFrame({"region_code": codes, "year": years, "t": fit.student, "e": fit.resid, "y": y})
        ttab = res.pivot(index="region_code", columns="year", values="t").sort_index()
        ttab = ttab.reindex(columns=range(int(ttab.columns.min()), int(ttab.columns.max()) + 1))
        # positively autocorrelated gaps (slow-moving true growth the noisy proxies do not catch) are
        # prewhitened, w_t = (t_t - r t_{t-1}) / sqrt(1 - r^2): a sustained gap keeps a positive
        # signal in every year of its run while the noise becomes independent across years
        r_pre = min(max(lag1_correlation(ttab), 0.0), 0.9)
        ta = ttab.to_numpy(dtype=float)
        if r_pre > 0:
            prev = np.concatenate([np.full((len(ta), 1), np.nan), ta[:, :-1]], axis=1)
            wa = np.where(np.isfinite(prev), (ta - r_pre * prev) / np.sqrt(1.0 - r_pre ** 2), ta)
        else:
            wa = ta
        c_run = float(threshold("proxy_divergence.run_threshold", config))
        trim_q = float(threshold("proxy_divergence.null_trim_q", config))
        positive = config.option(self.name, "sides", "positive") == "positive"
        rs = run_scores(pd.DataFrame(wa, index=ttab.index, columns=ttab.columns), c_run, trim_q, positive,
                        int(threshold("proxy_divergence.null_trim_min_runs", config)))
        utab, df_, sc, rho, infl, runs, p = rs.u, rs.df, rs.scale, rs.rho, rs.inflation, rs.runs, rs.p
        note = trim_note(self.name, rep, rs, trim_q)
        if note:
            out.notes.append(note)
        out.n_tests += len(runs)
        if r_pre > 0.1:
            out.notes.append(f"proxy_divergence: {rep} gaps are autocorrelated (lag-1 r = {r_pre:.2f}); they "
                             f"were prewhitened before the run test")
        if rho > 0.1:
            out.notes.append(f"proxy_divergence: {rep} prewhitened gaps still autocorrelated (lag-1 r = "
                             f"{rho:.2f}); run p-values use a variance inflation of {infl:.2f}")
        hit = p <= report_p
        if not hit.any():
            return
        runs, p = runs[hit], p[hit]
        etab = res.pivot(index="region_code", columns="year", values="e").reindex(
            index=utab.index, columns=utab.columns)
        ytab = res.pivot(index="region_code", columns="year", values="y").reindex(
            index=utab.index, columns=utab.columns)
        ea, ya = etab.to_numpy(dtype=float), ytab.to_numpy(dtype=float)
        yrs_all = np.asarray(utab.columns, dtype=int)
        prox = {}
        for pname in used:
            g = log_growth(series(pname)).reindex(index=utab.index, columns=utab.columns)
            prox[pname] = np.expm1(g.to_numpy(dtype=float))
        level_tab = series(rep)
        lev = level_tab.reindex(index=utab.index).to_numpy(dtype=float)
        lev_years = np.asarray(level_tab.columns, dtype=int)
        names = regions["region_name"].astype(str).to_dict()
        labels_en = [label(q) for q in used]
        labels_zh = [label(q, "zh") for q in used]
        nxt_en, nxt_zh = NEXT_CHECK.get(rep, (what_to_check(rep), what_to_check(rep, lang="zh")))
        beta = [float(b) for b in fit.beta]
        for r, pi in zip(runs.itertuples(index=False), p):
            i, sl, k = r.row, slice(r.c0, r.c1 + 1), int(r.k)
            code = r.region_code
            gaps = ea[i, sl]
            implied = ya[i, sl] - gaps
            mean_gap = float(np.mean(gaps))
            cum_gap = float(np.expm1(np.sum(gaps)))
            stat = float(r.sum / np.sqrt(k))
            per = period_text(int(r.start), int(r.end))
            pi = float(pi)
            up = r.sign > 0
            direction = "faster" if up else "slower"
            verb = f"was {abs(mean_gap) * 100:.1f} pp a year {'above' if up else 'below'} what" if rep in RATE_GROWTH \
                else f"grew {abs(mean_gap) * 100:.1f} pp a year {direction} than"
            summary = (f"{label(rep)} {verb} "
                       f"{_join(labels_en, 'en')} imply over {per} (cumulative gap {fmt_pct(cum_gap, 0)}, "
                       f"Stouffer z = {stat:.1f}, {fmt_p(pi)}); {nxt_en}.")
            summary_zh = (f"{per}年{label(rep, 'zh')}{'' if rep in RATE_GROWTH else '增速'}每年比"  # 增速 once
                          f"{_join(labels_zh, 'zh')}所反映的"
                          f"{'高' if up else '低'}{abs(mean_gap) * 100:.1f}个百分点（累计差距{fmt_pct(cum_gap, 0)}，"
                          f"Stouffer z={stat:.1f}，{fmt_p(pi)}）；{nxt_zh}。")
            out.items.append(Finding(
                region_code=str(code), region_name=names.get(code, str(code)), indicator=rep,
                period_start=str(int(r.start)), period_end=str(int(r.end)), detector=self.name, statistic=stat,
                p_value=pi, family=self.family, kind="growth_above_proxies" if up else "growth_below_proxies",
                effect=cum_gap, summary=summary, summary_zh=summary_zh,
                evidence={
                    "proxies": used, "beta": beta,
                    "run_years": [int(v) for v in r.years], "mean_gap_log": mean_gap, "cumulative_gap": cum_gap,
                    "reported_growth": year_dict(yrs_all, np.expm1(ya[i])),
                    "implied_growth": year_dict(yrs_all, np.expm1(ya[i] - ea[i])),
                    "gap_log": year_dict(yrs_all, ea[i]),
                    "proxy_growth": {pn: year_dict(yrs_all, a[i]) for pn, a in prox.items()},
                    "run_implied_growth": [float(v) for v in np.expm1(implied)],
                    "null_t_df": df_, "null_t_scale": sc, "null_trimmed_region_years": rs.trimmed_cells, "lag1_r": r_pre,
                    "variance_inflation": infl,
                    "series": year_dict(lev_years, lev[i]),
                },
            ))
