"""Bunching of reported growth just at or above the growth target.

Let ``gap = reported growth - target`` (percentage points) for every region-year with a
``growth_target``. Reported growth is ``gdp_real_growth``; without it, nominal growth computed
from ``gdp`` (``100 (x_t / x_{t-1} - 1)``), with a note (targets are real, so the gap then
includes inflation).

Pooled test (Chetty et al. 2011; Kleven 2016). Histogram the gaps in bins of width ``h`` over
``[-R, R)``; fit a polynomial of degree ``q`` to the bin counts *outside* the bunching window
``[0, w)`` and predict the counterfactual counts ``c_hat`` inside it. The excess mass is
``B = sum_window (c_j - c_hat_j)``, relative ``b = B / sum_window c_hat_j``. Its standard error
comes from a cluster bootstrap over regions (whole regions resampled, the polynomial refitted),
and ``p = 1 - Phi(B / se)`` (one-sided: only excess mass is evidence).

Per region. ``k`` of the region's ``n`` gaps fall in the window; under the null each falls there
with the counterfactual probability ``p0 = sum_window c_hat_j / N`` (``N`` all gaps), and
``p = P(Binomial(n, p0) >= k)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from detect._stats import fmt_p, fmt_pct
from detect.config import Config, threshold
from detect.data.panel import Panel
from detect.findings import Finding, Findings
from detect.registry import Detector, register
from detect.series._common import get_series, series_dict

#: region_code of the pooled finding (evidence about all regions together).
POOLED_CODE = "*"


def gap_table(panel: Panel) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """``(gap, growth, target)`` regions x years tables and notes."""
    notes: list[str] = []
    target = get_series(panel, "growth_target") if "growth_target" in panel.indicators else pd.DataFrame()
    if target.empty:
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), notes
    if "gdp_real_growth" in panel.indicators:
        growth = get_series(panel, "gdp_real_growth")
    elif "gdp" in panel.indicators:
        lv = get_series(panel, "gdp")
        growth = (lv / lv.shift(1, axis=1) - 1.0) * 100.0
        notes.append("target_bunching: no gdp_real_growth; growth computed from nominal gdp, so the gap to the "
                     "(real) target includes inflation")
    else:
        notes.append("target_bunching: growth_target given but neither gdp_real_growth nor gdp; not tested")
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), notes
    idx = target.index.intersection(growth.index)
    cols = target.columns.intersection(growth.columns)
    gap = growth.loc[idx, cols] - target.loc[idx, cols]
    return gap.round(6), growth.loc[idx, cols], target.loc[idx, cols], notes


def bin_counts(gap: np.ndarray, h: float, R: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-row counts in bins ``[j h - h/4, (j+1) h - h/4)`` for ``j = -R/h .. R/h - 1``.

    The quarter-bin offset keeps values reported on a grid of ``h/2`` (0.1 pp) off the edges.
    Returns ``(counts (rows, J), bin lower grid points (J,))``.
    """
    j_lo, j_hi = int(round(-R / h)), int(round(R / h))
    J = j_hi - j_lo
    j = np.floor((gap + h / 4.0) / h + 1e-9)
    inside = np.isfinite(j) & (j >= j_lo) & (j < j_hi)
    counts = np.zeros((gap.shape[0], J))
    r, c = np.nonzero(inside)
    np.add.at(counts, (r, (j[r, c] - j_lo).astype(int)), 1.0)
    return counts, (np.arange(j_lo, j_hi) * h)


def excess_mass(counts: np.ndarray, centers: np.ndarray, in_window: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Excess mass ``B`` and counterfactual window mass for one or many histograms (rows).

    Polynomial in the bin centre (scaled to [-1, 1]) fitted by least squares to the bins outside
    the window, all rows at once.
    """
    x = centers / max(np.abs(centers).max(), 1e-12)
    V = np.vander(x, degree + 1)
    coef, *_ = np.linalg.lstsq(V[~in_window], counts[:, ~in_window].T, rcond=None)
    fitted = (V @ coef).T
    cf = np.clip(fitted[:, in_window], 0.0, None).sum(axis=1)
    return counts[:, in_window].sum(axis=1) - cf, cf


@register
class TargetBunching(Detector):
    """Reported growth that lands just on or above the growth target more often than a smooth density allows."""

    name = "target_bunching"
    family = "series"
    title = "Bunching of growth at the target"
    title_zh = "增速在目标值处聚集"
    null_hypothesis = ("The gap between reported growth and the target has a smooth density through zero (no excess "
                       "mass just at or above the target); each region meets it narrowly with the counterfactual "
                       "probability.")
    null_hypothesis_zh = ("报告增速与目标值之差的密度在零点两侧是平滑的（恰好达到或略高于目标处没有多余的集中）；"
                          "每个地区以反事实概率勉强达到目标。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        gap, growth, target, notes = gap_table(panel)
        out.notes.extend(notes)
        if gap.empty:
            return out
        h = float(threshold("target_bunching.bin_width", config))
        R = float(threshold("target_bunching.range", config))
        w = float(threshold("target_bunching.window", config))
        degree = int(threshold("target_bunching.poly_degree", config))
        draws = int(threshold("target_bunching.bootstrap_draws", config))
        min_obs = int(threshold("target_bunching.min_pooled_obs", config))
        min_years = int(threshold("target_bunching.min_region_years", config))
        report_p = float(threshold("scoring.report_p", config))
        G = gap.to_numpy(dtype=float)
        n_all = int(np.isfinite(G).sum())
        if n_all < min_obs:
            out.notes.append(f"target_bunching: only {n_all} region-years with growth and target (fewer than "
                             f"{min_obs}); no bunching test")
            return out
        counts, lows = bin_counts(G, h, R)
        in_window = (lows >= -1e-9) & (lows < w - 1e-9)
        total = counts.sum(axis=0, keepdims=True)
        B, cf = excess_mass(total, lows + h / 4.0, in_window, degree)
        B, cf = float(B[0]), float(cf[0])
        rng = np.random.default_rng([int(config.seed), 4])
        wts = rng.multinomial(counts.shape[0], np.full(counts.shape[0], 1.0 / counts.shape[0]), size=draws)
        Bb, _ = excess_mass(wts @ counts, lows + h / 4.0, in_window, degree)
        se = float(np.std(Bb, ddof=1))
        z = B / se if se > 0 else float("nan")
        p_pool = float(stats.norm.sf(z)) if np.isfinite(z) else float("nan")
        p0 = float(np.clip(cf / max(n_all, 1), 1e-6, 1.0))
        out.n_tests += 1 if np.isfinite(p_pool) else 0
        hist = {"bin_low": lows.tolist(), "count": total[0].tolist(),
                "counterfactual": self._counterfactual(total, lows, h, in_window, degree)}
        if np.isfinite(p_pool) and p_pool <= report_p:
            out.items.append(self._pooled(B, cf, se, z, p_pool, n_all, w, gap, hist))
        # per region
        in_win = (G >= -h / 4.0) & (G < w - h / 4.0)  # the same grid points as the window's bins
        n_i = np.isfinite(G).sum(axis=1)
        k_i = in_win.sum(axis=1)
        ok = n_i >= min_years
        n_short = int(((n_i > 0) & ~ok).sum())
        if n_short:
            out.notes.append(f"target_bunching: {n_short} regions with fewer than {min_years} years of growth and "
                             f"target; not tested one by one")
        p_i = stats.binom.sf(k_i - 1, n_i, p0)
        out.n_tests += int(ok.sum())
        names = panel.regions.set_index("region_code")["region_name"]
        for i in np.flatnonzero(ok & (p_i <= report_p)):
            code = gap.index[i]
            out.items.append(self._region(code, str(names.get(code, code)), int(k_i[i]), int(n_i[i]), p0,
                                          float(p_i[i]), w, gap.iloc[i], growth.iloc[i], target.iloc[i]))
        return out

    @staticmethod
    def _counterfactual(total, lows, h, in_window, degree) -> list[float]:
        x = (lows + h / 4.0) / max(np.abs(lows + h / 4.0).max(), 1e-12)
        V = np.vander(x, degree + 1)
        coef, *_ = np.linalg.lstsq(V[~in_window], total[0, ~in_window], rcond=None)
        return np.clip(V @ coef, 0, None).tolist()

    def _pooled(self, B, cf, se, z, p, n_all, w, gap, hist) -> Finding:
        years = [int(c) for c in gap.columns]
        y0, y1 = str(min(years)), str(max(years))
        b = B / cf if cf > 0 else float("nan")
        en = (f"Across {gap.shape[0]} regions, {int(round(B + cf))} of {n_all} reported growth rates meet the target with less "
              f"than {w:g} pp to spare against {cf:.0f} expected from the smooth density (excess mass "
              f"{fmt_pct(b)}, z = {z:.1f}, {fmt_p(p)}); check the regions that meet the target narrowly year after year.")
        zh = (f"{gap.shape[0]}个地区共{n_all}个增速中，有{int(round(B + cf))}个恰好达到目标（超出不足{w:g}个百分点），平滑分布下"
              f"预期约{cf:.0f}个（超额聚集{fmt_pct(b)}，z={z:.1f}，{fmt_p(p)}）；请核查逐年勉强完成目标的地区。")
        return Finding(
            region_code=POOLED_CODE, region_name="all regions", indicator="gdp_real_growth", period_start=y0,
            period_end=y1, detector=self.name, statistic=float(z), p_value=float(p), family=self.family,
            kind="bunching_pooled", effect=float(b), summary=en, summary_zh=zh,
            evidence={"histogram": hist, "excess_mass": B, "counterfactual_mass": cf, "relative_excess": b,
                      "bootstrap_se": se, "window_pp": [0.0, w], "n_gaps": n_all},
        )

    def _region(self, code, name, k, n, p0, p, w, gap, growth, target) -> Finding:
        years = [int(y) for y, v in gap.items() if np.isfinite(v)]
        y0, y1 = str(min(years)), str(max(years))
        en = (f"Reported growth met the target with less than {w:g} pp to spare in {k} of {n} years ({y0}-{y1}) against "
              f"{fmt_pct(p0)} of years expected from the smooth counterfactual ({fmt_p(p)}); check how those years' "
              f"growth figures were compiled.")
        zh = (f"{y0}-{y1}年中有{k}年（共{n}年）增速恰好达到目标（超出不足{w:g}个百分点），平滑反事实分布下预期比例为{fmt_pct(p0)}"
              f"（{fmt_p(p)}）；请核查这些年份增速的核算过程。")
        return Finding(
            region_code=code, region_name=name, indicator="gdp_real_growth", period_start=y0, period_end=y1,
            detector=self.name, statistic=float(k), p_value=float(p), family=self.family, kind="target_just_met",
            effect=float(k / n - p0), summary=en, summary_zh=zh,
            evidence={"series": series_dict(growth), "target": series_dict(target), "gap": series_dict(gap),
                      "k_just_met": k, "n_years": n, "expected_share": p0, "window_pp": [0.0, w]},
        )
