"""Composition of fiscal revenue: non-tax share and revenue growth against its base.

Three measures, each against all regions at the same level of the hierarchy in the same year
(robust z: ``(x - median) / (1.4826 MAD)``), calibrated by a Student-t empirical null (Efron 2004):

1. ``nontax_share``: the non-tax share of general budget revenue, ``s = nontax / fiscal_revenue``
   (or ``1 - tax / fiscal_revenue``). A level is persistent, so consecutive high years are merged
   into one finding with the Simes p-value of its years (valid under positive dependence).
2. ``nontax_revenue``: the jump of the share, ``ds_t = s_t - s_{t-1}`` against the peers' jumps.
3. ``fiscal_revenue``: revenue growth minus tax-base growth, ``dlog R - dlog B`` with ``B`` the
   first of ``[composition] tax_base`` present (GDP, else VAT).

Jumps and growth gaps are close to independent across years: a run of consecutive years with one
sign is one finding, with the Stouffer statistic and the exact conditional run p-value of
:mod:`detect.panel._runs`. The Liaoning 2011-2014 signature is a positive run in 2 and 3 (non-tax
revenue rising with no tax base behind it) followed by a negative one when it is unwound (2015).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect._stats import fmt_p, fmt_pct, robust_z
from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.findings import Finding, Findings
from detect.panel._runs import (SeriesCache, aligned, fit_null, log_growth, null_cdf, period_text, run_scores,
                                simes_runs, trim_note, year_dict)
from detect.registry import Detector, register

_CHECK_EN = "check the non-tax items — state-asset sales, fines, fees — and whether the tax base moved with them"
_CHECK_ZH = "请核对非税收入项目（国有资源资产有偿使用收入、罚没收入、行政事业性收费）及税基是否同步变化"


def _long(tab: pd.DataFrame, name: str) -> pd.Series:
    s = tab.stack().dropna().rename(name)
    s.index.names = ["region_code", "year"]
    return s


def _peer_z(x: pd.Series, level: pd.Series, min_peers: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Same-year, same-level robust z of a long series; NaN where fewer than ``min_peers`` peers."""
    years = pd.Series(x.index.get_level_values("year"), index=x.index)
    lv = pd.Series(x.index.get_level_values("region_code").map(level).to_numpy(), index=x.index)
    z, center, _, n = robust_z(x, [years, lv])
    z = z.where(n >= min_peers)
    return z, center, n


@register
class Composition(Detector):
    """Non-tax share and revenue growth without a tax base, against same-year peers."""

    name = "composition"
    family = "panel"
    title = "Composition of fiscal revenue"
    title_zh = "财政收入结构（非税收入占比）"
    null_hypothesis = ("The region's non-tax share, its change and its revenue growth in excess of the tax base "
                       "are drawn from the same distribution as its peers' that year (robust z follows the "
                       "empirical null), independently across years for changes.")
    null_hypothesis_zh = ("该地区的非税收入占比、占比变动以及收入增速超出税基增速的部分，与同级地区当年的相应数值来自同一分布"
                          "（稳健z值服从经验零分布），其中占比变动在各年间相互独立。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        present = set(panel.indicators)
        if "fiscal_revenue" not in present:
            out.notes.append("composition: no fiscal_revenue in the panel; not applicable")
            return out
        series = SeriesCache(panel)
        min_peers = int(threshold("composition.min_peers", config))
        report_p = float(threshold("scoring.report_p", config))
        regions = panel.regions.set_index("region_code")
        level = regions["level"]
        names = regions["region_name"].astype(str).to_dict()
        fr = series("fiscal_revenue")
        share = None
        if "nontax_revenue" in present:
            share = series("nontax_revenue").reindex_like(fr) / fr.where(fr > 0)
        elif "tax_revenue" in present:
            share = 1.0 - series("tax_revenue").reindex_like(fr) / fr.where(fr > 0)
        if share is not None:
            share = share.where((share > -0.5) & (share < 1.5))
            self._share_level(share, level, names, config, min_peers, report_p, out)
            dshare = share.diff(axis=1)
            self._runs(dshare, share, "nontax_revenue", "nontax_share_jump", level, names, config, min_peers,
                       report_p, out, base_name=None)
        else:
            out.notes.append("composition: neither nontax_revenue nor tax_revenue present; the non-tax share "
                             "is not tested")
        base = next((b for b in threshold("composition.tax_base", config) if b in present), None)
        if base is None:
            out.notes.append("composition: no tax base (GDP or VAT) present; revenue growth against its base is "
                             "not tested")
            return out
        gr = log_growth(fr)
        gb = log_growth(series(base)).reindex_like(gr)
        self._runs(gr - gb, fr, "fiscal_revenue", "revenue_outgrows_base", level, names, config, min_peers,
                   report_p, out, base_name=base, gr=gr, gb=gb)
        return out

    # --- 1. level of the non-tax share ---------------------------------------------------------
    def _share_level(self, share, level, names, config, min_peers, report_p, out) -> None:
        x = _long(share, "s")
        if x.empty:
            return
        z, center, n = _peer_z(x, level, min_peers)
        ok = z.notna()
        if (~ok).any():
            out.notes.append(f"composition: {int((~ok).sum())} non-tax-share region-years not tested (fewer than "
                             f"{min_peers} peers that year, or zero peer spread)")
        if not ok.any():
            return
        df_, sc = fit_null(z[ok].to_numpy(), config.seed)
        p = pd.Series(np.nan, index=z.index)
        p[ok] = 1.0 - null_cdf(z[ok].to_numpy(), df_, sc)  # one-sided: a high non-tax share
        out.n_tests += int(ok.sum())
        ptab = pd.DataFrame(aligned(p, share), index=share.index, columns=share.columns)
        runs = simes_runs(ptab, (ptab <= report_p).fillna(False))
        runs = runs[runs["p"] <= report_p]
        if runs.empty:
            return
        sh, med, za, na = share.to_numpy(dtype=float), aligned(center, share), aligned(z, share), aligned(n, share)
        years = np.asarray(share.columns, dtype=int)
        for r in runs.itertuples(index=False):
            i, sl = r.row, slice(r.c0, r.c1 + 1)
            code = r.region_code
            per = period_text(int(r.start), int(r.end))
            s_run, m_run = sh[i, sl], med[i, sl]
            zmax = float(np.nanmax(za[i, sl]))
            npeer = int(na[i, r.c0])
            pi = float(r.p)
            out.items.append(Finding(
                region_code=str(code), region_name=names.get(code, str(code)), indicator="nontax_share",
                period_start=str(int(r.start)), period_end=str(int(r.end)), detector=self.name,
                statistic=zmax, p_value=pi, family=self.family, kind="nontax_share_high",
                effect=float(np.mean(s_run - m_run)),
                summary=(f"The non-tax share of fiscal revenue was {fmt_pct(float(np.mean(s_run)))} on average over "
                         f"{per} against a same-year peer median of {fmt_pct(float(np.mean(m_run)))} across "
                         f"{npeer} regions (max robust z = {zmax:.1f}, Simes {fmt_p(pi)}); {_CHECK_EN}."),
                summary_zh=(f"{per}年非税收入占一般公共预算收入的比重平均为{fmt_pct(float(np.mean(s_run)))}，同年"
                            f"{npeer}个同级地区中位数为{fmt_pct(float(np.mean(m_run)))}（最大稳健z={zmax:.1f}，"
                            f"Simes {fmt_p(pi)}）；{_CHECK_ZH}。"),
                evidence={"series": year_dict(years, sh[i]), "peer_median": year_dict(years, med[i]),
                          "run_years": [int(v) for v in r.years], "null_t_df": df_, "null_t_scale": sc,
                          "measure": "nontax_share"},
            ))

    # --- 2./3. runs of share jumps and of revenue growth minus base growth -----------------------
    def _runs(self, x_tab, level_tab, indicator, kind, level, names, config, min_peers, report_p, out,
              base_name, gr=None, gb=None) -> None:
        x = _long(x_tab, "x")
        if x.empty:
            return
        z, center, n = _peer_z(x, level, min_peers)
        ok = z.notna()
        if not ok.any():
            out.notes.append(f"composition: {kind} not tested (fewer than {min_peers} peers in every year)")
            return
        c_run = float(threshold("composition.run_threshold", config))
        trim_q = float(threshold("composition.null_trim_q", config))
        rs = run_scores(pd.DataFrame(aligned(z, x_tab), index=x_tab.index, columns=x_tab.columns), c_run, trim_q,
                        min_runs=int(threshold("composition.null_trim_min_runs", config)))
        df_, sc, rho, infl, runs, p = rs.df, rs.scale, rs.rho, rs.inflation, rs.runs, rs.p
        note = trim_note(self.name, kind, rs, trim_q)
        if note:
            out.notes.append(note)
        out.n_tests += len(runs)
        hit = p <= report_p
        if not hit.any():
            return
        runs = runs[hit]
        p = p[hit]
        years = np.asarray(x_tab.columns, dtype=int)
        xa, med, na = x_tab.to_numpy(dtype=float), aligned(center, x_tab), aligned(n, x_tab)
        lv = level_tab.reindex(index=x_tab.index, columns=x_tab.columns).to_numpy(dtype=float)
        if base_name is not None:
            gra, gba = gr.to_numpy(dtype=float), gb.to_numpy(dtype=float)
        for r, pi in zip(runs.itertuples(index=False), p):
            i, sl, k = r.row, slice(r.c0, r.c1 + 1), int(r.k)
            code = r.region_code
            up = r.sign > 0
            per = period_text(int(r.start), int(r.end))
            stat = float(r.sum / np.sqrt(k))
            pi = float(pi)
            xs, ms = xa[i, sl], med[i, sl]
            npeer = int(na[i, r.c0])
            ev = {"run_years": [int(v) for v in r.years], "null_t_df": df_, "null_t_scale": sc,
                  "null_trimmed_region_years": rs.trimmed_cells, "lag1_r": rho,
                  "variance_inflation": infl, "peer_median": year_dict(years, med[i]), "measure": kind,
                  "series": year_dict(years, lv[i])}
            if base_name is None:
                dpp = float(np.sum(xs) * 100)
                s0 = lv[i, r.c0 - 1] if r.c0 > 0 else np.nan
                s1 = lv[i, r.c1]
                summary = (f"The non-tax share of fiscal revenue {'rose' if up else 'fell'} by {abs(dpp):.1f} pp over "
                           f"{per} (from {fmt_pct(float(s0))} to {fmt_pct(float(s1))}), while same-year peers' shares "
                           f"changed by {float(np.sum(ms)) * 100:+.1f} pp (Stouffer z = {stat:.1f}, {fmt_p(pi)}); "
                           f"{_CHECK_EN}.")
                summary_zh = (f"{per}年非税收入占比{'上升' if up else '下降'}{abs(dpp):.1f}个百分点（由{fmt_pct(float(s0))}"
                              f"至{fmt_pct(float(s1))}），同年同级地区占比变化中位数合计{float(np.sum(ms)) * 100:+.1f}个百分点"
                              f"（Stouffer z={stat:.1f}，{fmt_p(pi)}）；{_CHECK_ZH}。")
                ev.update({"share_change": year_dict(years, xa[i]), "cumulative_change_pp": dpp})
                effect = float(np.sum(xs - ms))
            else:
                rg, bg = gra[i, sl], gba[i, sl]
                cum = float(np.expm1(np.sum(xs - ms)))
                a_year = " a year" if k > 1 else ""
                summary = (f"Fiscal revenue grew {fmt_pct(float(np.expm1(np.mean(rg))))}{a_year} over {per} while its "
                           f"base ({label(base_name)}) grew {fmt_pct(float(np.expm1(np.mean(bg))))}: "
                           f"{abs(float(np.mean(xs - ms))) * 100:.1f} pp{a_year} {'above' if up else 'below'} the "
                           f"same-year peer median gap across {npeer} regions (cumulative {fmt_pct(cum, 0)}, Stouffer "
                           f"z = {stat:.1f}, {fmt_p(pi)}); {_CHECK_EN}.")
                summary_zh = (f"{per}年一般公共预算收入{'年均' if k > 1 else ''}增长{fmt_pct(float(np.expm1(np.mean(rg))))}，其税基"
                              f"（{label(base_name, 'zh')}）{'年均' if k > 1 else ''}增长{fmt_pct(float(np.expm1(np.mean(bg))))}，"
                              f"二者之差每年比{npeer}个同级地区中位数{'高' if up else '低'}"
                              f"{abs(float(np.mean(xs - ms))) * 100:.1f}个百分点（累计{fmt_pct(cum, 0)}，Stouffer "
                              f"z={stat:.1f}，{fmt_p(pi)}）；{_CHECK_ZH}。")
                ev.update({"revenue_growth": year_dict(years, np.expm1(gra[i])),
                           "base_growth": year_dict(years, np.expm1(gba[i])), "base": base_name,
                           "gap_log": year_dict(years, xa[i]), "cumulative_gap": cum})
                effect = cum
            out.items.append(Finding(
                region_code=str(code), region_name=names.get(code, str(code)), indicator=indicator,
                period_start=str(int(r.start)), period_end=str(int(r.end)), detector=self.name, statistic=stat,
                p_value=pi, family=self.family,
                kind=kind if up else kind.replace("jump", "drop").replace("outgrows", "lags"), effect=effect,
                summary=summary, summary_zh=summary_zh, evidence=ev,
            ))
