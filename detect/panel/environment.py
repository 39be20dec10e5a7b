"""PM2.5 that drops abruptly while the neighbours under the same parent do not.

Air quality is shared across neighbouring regions (weather and regional transport dominate year-to-
year changes), so a reported drop that the siblings do not share is suspect — monitoring stations
moved or tampered with, as in the cases the Ministry of Ecology and Environment prosecuted in 2016-
2018 (Ghanem & Zhang 2014, JEEM 68:203-225, on discontinuities in reported Chinese air quality).

For region ``i`` with parent ``P`` and year ``t``:

    d_it   = log(pm25_it / pm25_i,t-1)
    gap_it = d_it - median_{j in siblings(i), j != i} d_jt        (leave-one-out median)
    z_it   = (gap_it - median(gap)) / (1.4826 MAD(gap))           (pooled over all region-years)

with at least ``[pm25_neighbours] min_siblings`` other siblings reporting that year. p-values are
one-sided (a drop) from a Student-t empirical null fitted to all z (Efron 2004); consecutive flagged
years are one finding with the Simes p-value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect._stats import MAD_TO_SD, fmt_p, fmt_pct
from detect.config import Config, threshold
from detect.data.panel import Panel
from detect.findings import Finding, Findings
from detect.panel._runs import aligned, fit_null, log_growth, null_cdf, period_text, simes_runs, year_dict
from detect.registry import Detector, register


def loo_median(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out median of ``values`` within ``groups`` and the number of other members.

    Vectorised: values are sorted within groups; removing the element of rank ``r`` from a group of
    ``n`` shifts the remaining order statistics at or above ``r`` by one.
    """
    values = np.asarray(values, dtype=float)
    n_all = len(values)
    if n_all == 0:
        return np.array([]), np.array([], dtype=int)
    gcode = pd.factorize(groups)[0]
    order = np.lexsort((values, gcode))
    sg = gcode[order]
    sv = values[order]
    counts = np.bincount(sg)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n = counts[sg]
    start = starts[sg]
    rank = np.arange(n_all) - start
    m = n - 1

    def pick(idx: np.ndarray) -> np.ndarray:
        j = np.where(idx >= rank, idx + 1, idx)
        return sv[np.clip(start + j, 0, n_all - 1)]

    lo = pick(np.maximum((m - 1) // 2, 0))
    hi = pick(np.maximum(m // 2, 0))
    med = np.where(m % 2 == 1, lo, 0.5 * (lo + hi))
    med = np.where(m >= 1, med, np.nan)
    out = np.empty(n_all)
    out[order] = med
    others = np.empty(n_all, dtype=int)
    others[order] = m
    return out, others


@register
class PM25Neighbours(Detector):
    """An abrupt PM2.5 drop not shared by the siblings under the same parent."""

    name = "pm25_neighbours"
    family = "panel"
    title = "PM2.5 against neighbouring regions"
    title_zh = "PM2.5浓度与相邻地区比较"
    null_hypothesis = ("The region's change in log PM2.5, net of its siblings' median change that year, is drawn "
                       "from the same distribution as every region's (empirical null).")
    null_hypothesis_zh = ("该地区PM2.5浓度对数的变动，减去当年同一上级辖区内其他地区变动的中位数后，"
                          "与所有地区的相应变动来自同一分布（经验零分布）。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        if "pm25" not in panel.indicators:
            out.notes.append("pm25_neighbours: no pm25 in the panel; not applicable")
            return out
        min_sib = int(threshold("pm25_neighbours.min_siblings", config))
        report_p = float(threshold("scoring.report_p", config))
        reg = panel.regions.set_index("region_code")
        level = panel.series("pm25")
        d = log_growth(level).stack().dropna().rename("d").to_frame()
        d.index.names = ["region_code", "year"]
        codes = d.index.get_level_values(0)
        d["parent"] = reg["parent_code"].reindex(codes).fillna("").astype(str).to_numpy()
        d = d[d["parent"] != ""]
        if d.empty:
            out.notes.append("pm25_neighbours: no region has a parent_code; siblings cannot be formed")
            return out
        years = d.index.get_level_values(1).to_numpy()
        grp = d["parent"].to_numpy().astype(object) + "|" + years.astype(str)
        med, others = loo_median(d["d"].to_numpy(), grp)
        d["sib_med"] = med
        d["n_sib"] = others
        few = d["n_sib"] < min_sib
        if few.any():
            out.notes.append(f"pm25_neighbours: {int(few.sum())} region-years with fewer than {min_sib} siblings "
                             f"reporting PM2.5 that year not tested")
        d = d[~few]
        if len(d) < 2:
            return out
        gap = d["d"] - d["sib_med"]
        center = float(np.median(gap))
        scale = float(np.median(np.abs(gap - center))) * MAD_TO_SD
        if not scale > 0:
            out.notes.append("pm25_neighbours: no spread in PM2.5 changes against siblings; not tested")
            return out
        z = ((gap - center) / scale).to_numpy()
        df_, sc = fit_null(z, config.seed)
        p = null_cdf(z, df_, sc)  # one-sided: a drop
        out.n_tests += len(z)
        d["z"], d["p"], d["gap"] = z, p, gap.to_numpy()
        ptab = pd.DataFrame(aligned(d["p"], level), index=level.index, columns=level.columns)
        runs = simes_runs(ptab, (ptab <= report_p).fillna(False))
        runs = runs[runs["p"] <= report_p]
        if runs.empty:
            return out
        years = np.asarray(level.columns, dtype=int)
        lv = level.to_numpy(dtype=float)
        own_g = log_growth(level).to_numpy(dtype=float)
        sib, nsib_a, za = aligned(d["sib_med"], level), aligned(d["n_sib"], level), aligned(d["z"], level)
        names = reg["region_name"].astype(str).to_dict()
        parents = reg["parent_code"].astype(str).to_dict()
        for r in runs.itertuples(index=False):
            i, sl = r.row, slice(r.c0, r.c1 + 1)
            code = r.region_code
            y0, y1 = int(r.start), int(r.end)
            v0 = lv[i, r.c0 - 1] if r.c0 > 0 else np.nan
            v1 = lv[i, r.c1]
            own = float(v1 / v0 - 1.0) if v0 > 0 else float("nan")
            sibc = float(np.expm1(np.nansum(sib[i, sl])))
            zmin = float(np.nanmin(za[i, sl]))
            nsib = int(nsib_a[i, r.c0])
            parent = parents.get(code, "")
            per = period_text(y0, y1)
            pi = float(r.p)
            out.items.append(Finding(
                region_code=str(code), region_name=names.get(code, str(code)), indicator="pm25",
                period_start=str(y0), period_end=str(y1), detector=self.name, statistic=zmin, p_value=pi,
                family=self.family, kind="pm25_drop", effect=own - sibc,
                summary=(f"PM2.5 changed by {fmt_pct(own)} in {per} (from {v0:.1f} to {v1:.1f}) while its {nsib} "
                         f"siblings under {parent} changed by a median of {fmt_pct(sibc)} (robust z = {zmin:.1f}, "
                         f"{fmt_p(pi)}); check monitoring-station relocations, outages and station-level data."),
                summary_zh=(f"{per}年PM2.5浓度变化{fmt_pct(own)}（由{v0:.1f}至{v1:.1f}），同一上级{parent}下的{nsib}个"
                            f"相邻地区中位数变化{fmt_pct(sibc)}（稳健z={zmin:.1f}，{fmt_p(pi)}）；"
                            f"请核查监测站点迁移、停运及站点原始数据。"),
                evidence={"series": year_dict(years, lv[i]),
                          "sibling_median_change": year_dict(years, np.expm1(sib[i])),
                          "own_change": year_dict(years, np.expm1(own_g[i])),
                          "n_siblings": nsib, "parent_code": parent, "run_years": [int(y) for y in r.years],
                          "null_t_df": df_, "null_t_scale": sc},
            ))
        return out
