"""Large downward revisions of a figure between vintages.

Where the panel carries several vintages of the same figure (``vintage`` column, sorted as text:
use ISO dates or release years), every pair of consecutive vintages of a (region, indicator,
period) gives a log revision ``r = ln(x_new / x_old)``. Against all revisions of that indicator,

    z = (r - median(r)) / s,   s = 1.4826 * MAD(r)

(when more than half of the revisions are exactly equal, so that the MAD is 0, ``s`` falls back to
``sqrt(pi/2) * mean |r - median|``). The p-value is the lower tail of a Student-t empirical null
fitted to the indicator's z-scores (Efron 2004), one-sided: a large *downward* revision (a figure
cut when the truth came out, such as Tianjin Binhai's 2017 GDP) is the evidence; upward revisions
after an economic census are routine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from detect._stats import MAD_TO_SD, empirical_null_t, fmt_p, fmt_pct
from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.findings import Finding, Findings
from detect.registry import Detector, register


def revision_table(panel: Panel) -> pd.DataFrame:
    """Consecutive-vintage revisions: ``region_code, indicator, period, vintage_old, vintage_new,
    old, new, r`` (log revision; only positive figures)."""
    d = panel.data
    d = d[(d["vintage"].astype(str) != "") & d["value"].notna()]
    if len(d) == 0:
        return pd.DataFrame(columns=["region_code", "indicator", "period", "vintage_old", "vintage_new",
                                     "old", "new", "r"])
    d = d.sort_values(["region_code", "indicator", "period", "vintage"], kind="mergesort")
    key = ["region_code", "indicator", "period"]
    prev = d.groupby(key, sort=False)[["value", "vintage"]].shift(1)
    out = pd.DataFrame({
        "region_code": d["region_code"], "indicator": d["indicator"], "period": d["period"],
        "vintage_old": prev["vintage"], "vintage_new": d["vintage"], "old": prev["value"], "new": d["value"],
    })
    out = out[out["old"].notna()]
    ok = (out["old"] > 0) & (out["new"] > 0)
    out = out[ok].copy()
    out["r"] = np.log(out["new"].to_numpy(dtype=float) / out["old"].to_numpy(dtype=float))
    return out.reset_index(drop=True)


def revision_z(r: np.ndarray) -> np.ndarray:
    """Robust z of each revision against all of them (MAD, or mean absolute deviation when MAD is 0)."""
    med = np.median(r)
    dev = np.abs(r - med)
    s = MAD_TO_SD * np.median(dev)
    if s <= 0:
        s = np.sqrt(np.pi / 2) * dev.mean()
    return (r - med) / s if s > 0 else np.full(r.shape, np.nan)


@register
class Revisions(Detector):
    """A figure cut sharply between two vintages, against all revisions of that indicator."""

    name = "revisions"
    family = "series"
    title = "Large downward revisions"
    title_zh = "数据大幅下修"
    null_hypothesis = ("A revision of the figure between consecutive vintages is drawn from the same distribution as "
                       "all revisions of that indicator (robust z follows the empirical null).")
    null_hypothesis_zh = "相邻两个版本之间的数据修订与该指标的全部修订来自同一分布（稳健z值服从经验零分布）。"

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0 or (panel.data["vintage"].astype(str) == "").all():
            return out
        min_rev = int(threshold("revisions.min_revisions", config))
        report_p = float(threshold("scoring.report_p", config))
        tab = revision_table(panel)
        names = panel.regions.set_index("region_code")["region_name"]
        for ind, sub in tab.groupby("indicator", sort=True):
            if len(sub) < min_rev:
                out.notes.append(f"revisions: only {len(sub)} {ind} revisions (fewer than {min_rev}); not tested")
                continue
            z = revision_z(sub["r"].to_numpy())
            if not np.isfinite(z).any():
                out.notes.append(f"revisions: every {ind} revision is the same; not tested")
                continue
            df_, sc = empirical_null_t(z)
            p = stats.norm.cdf(z / sc) if np.isinf(df_) else stats.t.cdf(z / sc, df_)
            out.n_tests += int(np.isfinite(z).sum())
            hit = pd.DataFrame({"j": np.arange(len(sub)), "p": p, "code": sub["region_code"].to_numpy(),
                                "period": sub["period"].to_numpy()})
            hit = hit[np.isfinite(hit["p"]) & (hit["p"] <= report_p)]
            # one finding per figure: the most extreme of its revisions (several vintages)
            hit = hit.sort_values(["p", "j"], kind="mergesort").drop_duplicates(["code", "period"])
            for j in sorted(hit["j"]):
                r = sub.iloc[j]
                out.items.append(self._finding(r, float(z[j]), float(p[j]), sub, panel, names))
        return out

    def _finding(self, r, z, p, sub, panel, names) -> Finding:
        code, ind, per = r["region_code"], r["indicator"], str(r["period"])
        cut = float(np.expm1(r["r"]))
        lab, lab_zh = label(ind), label(ind, "zh")
        d = panel.data
        hist = d[(d["region_code"] == code) & (d["indicator"] == ind) & (d["period"] == per)]
        vint = {str(v): float(x) for v, x in zip(hist["vintage"], hist["value"]) if np.isfinite(x)}
        typical = float(np.expm1(np.median(sub["r"])))
        en = (f"{lab} for {per} was revised from {r['old']:.6g} (vintage {r['vintage_old']}) to {r['new']:.6g} "
              f"(vintage {r['vintage_new']}), {fmt_pct(cut)}, against a median revision of {fmt_pct(typical)} over "
              f"{len(sub)} {lab} revisions (z = {z:.1f}, {fmt_p(p)}); check whether the earlier figure was inflated "
              f"and which other figures rested on it.")
        zh = (f"{per}年{lab_zh}由{r['old']:.6g}（{r['vintage_old']}版）修订为{r['new']:.6g}（{r['vintage_new']}版），"
              f"变动{fmt_pct(cut)}，而{len(sub)}次修订的中位数为{fmt_pct(typical)}（z={z:.1f}，{fmt_p(p)}）；"
              f"请核查原数据是否虚增及其影响的其他数据。")
        series = panel.series(ind)
        return Finding(
            region_code=code, region_name=str(names.get(code, code)), indicator=ind, period_start=per,
            period_end=per, detector=self.name, statistic=z, p_value=p, family=self.family,
            kind="downward_revision" if cut < 0 else "upward_revision", effect=cut, summary=en, summary_zh=zh,
            evidence={"series": ({str(k): (None if not np.isfinite(v) else float(v))
                                  for k, v in series.loc[code].items()} if code in series.index else {}),
                      "vintages": vint, "revision": cut, "median_revision": typical, "n_revisions": int(len(sub)),
                      "vintage_old": str(r["vintage_old"]), "vintage_new": str(r["vintage_new"])},
        )
