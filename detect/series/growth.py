"""Year-on-year growth against peers in the same year (robust scale).

For each region, indicator and year the log growth ``g = ln(x_t / x_{t-1})`` is compared with the
growth of all regions at the same level of the hierarchy in the same year (or, with
``[options.growth_peers] peers = "parent"``, with its siblings under the same parent):

    z = (g - median_peers(g)) / (1.4826 * MAD_peers(g))

Centering on the same-year median removes common shocks (2009, 2020): a year in which every region
slows does not flag every region. p-values come from a Student-t empirical null fitted to all the
indicator's z-scores pooled (Efron 2004), two-sided: an implausible jump and an implausible drop are
both evidence (an inflated year, or the correction when the truth comes out). Yardsticks
(``[series] yardsticks``: electricity, night lights, rail freight, population) are not screened.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect._stats import empirical_null_central, fmt_p, fmt_pct, robust_z, two_sided_t_p
from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.data.units import INDICATOR_DIMENSION
from detect.explain import what_to_check
from detect.findings import Finding, Findings
from detect.registry import Detector, register
from detect.series._common import get_series, series_dict, suspects

#: Largest number of z-scores the Student-t empirical null is fitted to: a seeded subsample beyond
#: (the maximum-likelihood t fit costs about 1 s per 20 000 values; a national panel has 50 000+ per
#: indicator, and 20 000 pin the null's df and scale down to a few per cent).
_NULL_FIT_MAX = 20000

#: Indicators whose growth is not meaningful (rates, targets) are skipped.
_SKIP_DIMENSIONS = {"percent"}
_SKIP = {"growth_target", "gdp_real_growth", "pm25"}


def growth_table(panel: Panel, indicator: str) -> pd.DataFrame:
    """Long table of log growth: ``region_code, year, value, prev, g`` (annual data, consecutive
    years only; non-positive levels give NaN growth)."""
    s = get_series(panel, indicator)
    if s.empty or s.shape[1] < 2:
        return pd.DataFrame(columns=["region_code", "year", "value", "prev", "g"])
    vals = s.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        logv = np.where(vals > 0, np.log(np.where(vals > 0, vals, 1.0)), np.nan)
    g = np.diff(logv, axis=1)
    years = np.asarray(s.columns[1:], dtype=int)
    out = pd.DataFrame({
        "region_code": np.repeat(s.index.to_numpy(), len(years)),
        "year": np.tile(years, len(s)),
        "value": vals[:, 1:].ravel(),
        "prev": vals[:, :-1].ravel(),
        "g": g.ravel(),
    })
    return out[np.isfinite(out["g"])].reset_index(drop=True)


@register
class GrowthPeers(Detector):
    """Year-on-year growth far from the same-year peer median."""

    name = "growth_peers"
    family = "series"
    title = "Growth against peers"
    title_zh = "增速与同级地区比较"
    null_hypothesis = ("The region's growth in a year is drawn from the same distribution as its peers' "
                       "growth that year (robust z follows the empirical null).")
    null_hypothesis_zh = "该地区某年的增速与同级地区当年的增速来自同一分布（稳健z值服从经验零分布）。"

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        min_peers = int(threshold("growth_peers.min_peers", config))
        scale_floor = float(threshold("growth_peers.scale_floor", config))
        report_p = float(threshold("scoring.report_p", config))
        peers_mode = config.option(self.name, "peers", "level")
        regions = panel.regions.set_index("region_code")
        inds, notes = suspects(panel, config, self.name)
        out.notes.extend(notes)
        for ind in inds:
            if ind in _SKIP or INDICATOR_DIMENSION.get(ind) in _SKIP_DIMENSIONS:
                continue
            gt = growth_table(panel, ind)
            if gt.empty:
                continue
            key = regions["parent_code"] if peers_mode == "parent" else regions["level"].astype(str)
            gt["peer_group"] = gt["region_code"].map(key).astype(str)
            z, center, scale, n = robust_z(gt["g"], [gt["year"], gt["peer_group"]])
            # a year in which a few peers happen to agree has a tiny MAD that would turn ordinary
            # moves into huge z-scores: the scale is floored at a share of the group's typical scale
            typical = scale.groupby(gt["peer_group"]).transform("median")
            floored = np.maximum(scale, scale_floor * typical)
            z = (gt["g"] - center) / floored.where(floored > 0)
            scale = floored
            ok = (n >= min_peers) & z.notna()
            n_short = int((~ok).sum())
            if n_short:
                out.notes.append(f"growth_peers: {n_short} {ind} region-years not tested "
                                 f"(fewer than {min_peers} peers with growth that year, or zero peer spread)")
            if not ok.any():
                continue
            # one empirical null per peer group kind: z-scores among 8 provinces (a noisy MAD) and among
            # 300 prefectures have different tails, and pooling them would flag the small group
            p = pd.Series(np.nan, index=gt.index)
            null_of: dict[str, tuple[float, float]] = {}
            for grp in sorted(gt.loc[ok, "peer_group"].unique()):
                sel = ok & (gt["peer_group"] == grp)
                zz = z[sel].to_numpy()
                if len(zz) > _NULL_FIT_MAX:
                    zz = np.random.default_rng([int(config.seed), len(zz)]).choice(zz, _NULL_FIT_MAX, replace=False)
                null_of[grp] = empirical_null_central(zz)
                p[sel] = two_sided_t_p(z[sel].to_numpy(), *null_of[grp])
            out.n_tests += int(ok.sum())
            hit = ok & (p <= report_p)
            series = get_series(panel, ind)
            idx = np.flatnonzero(hit.to_numpy())
            codes = gt["region_code"].to_numpy()[idx]
            years = gt["year"].to_numpy()[idx]
            gs, vals, prevs = (gt[c].to_numpy()[idx] for c in ("g", "value", "prev"))
            cen, scl, nn = center.to_numpy()[idx], scale.to_numpy()[idx], n.to_numpy()[idx]
            zs, ps = z.to_numpy()[idx], p.to_numpy()[idx]
            grps = gt["peer_group"].to_numpy()[idx]
            name_of = regions["region_name"].astype(str).to_dict()
            series_of = {c: series_dict(series.loc[c]) for c in np.unique(codes)}
            for j in range(len(idx)):
                code, g_, c_ = codes[j], float(gs[j]), float(cen[j])
                growth, med = np.expm1(g_), np.expm1(c_)
                zi, pi, ni = float(zs[j]), float(ps[j]), int(nn[j])
                name = name_of.get(code, str(code))
                yr = str(int(years[j]))
                direction = "rose" if g_ > 0 else "fell"
                out.items.append(Finding(
                    region_code=code, region_name=name, indicator=ind, period_start=yr, period_end=yr,
                    detector=self.name, statistic=zi, p_value=pi, family=self.family,
                    kind="growth_jump" if zi > 0 else "growth_drop",
                    effect=g_ - c_,
                    summary=(f"{label(ind)} {direction} {fmt_pct(abs(growth))} in {yr} against a peer median "
                             f"of {fmt_pct(med)} across {ni} regions (robust z = {zi:.1f}, "
                             f"{fmt_p(pi)}); for {yr}, {what_to_check(ind)}."),
                    summary_zh=(f"{yr}年{label(ind, 'zh')}{'增长' if g_ > 0 else '下降'}{fmt_pct(abs(growth))}，"
                                f"同年{ni}个同级地区中位数为{fmt_pct(med)}（稳健z={zi:.1f}，"
                                f"{fmt_p(pi)}）；针对{yr}年，{what_to_check(ind, lang='zh')}。"),
                    evidence={"growth": float(growth), "peer_median_growth": float(med),
                              "peer_scale_log": float(scl[j]), "peer_n": ni,
                              "null_t_df": null_of[grps[j]][0], "null_t_scale": null_of[grps[j]][1],
                              "value": float(vals[j]), "previous": float(prevs[j]),
                              "series": series_of[code]},
                ))
        return out
