"""Aggregation consistency: a parent's total against the sum of its children.

Where ``parent_code`` gives a hierarchy, for every additive indicator (``detect.data.aliases.ADDITIVE``)
and year with all the parent's children reporting, the relative gap

    gap = (parent - sum(children)) / sum(children)

is compared with the rounding tolerance implied by the reported precision: a value published with
``d`` decimals is within ``0.5 * 10^-d`` of the truth, so ``|parent - sum| <= sum_i h_i + h_parent``
(``h`` = half a unit of the last reported digit, converted to the base unit) whatever the number of
children. A gap beyond it is a rule-based flag, severity by size (``[aggregation]``; Holz 2014 and
the NBS 2019 unified accounting reform: provincial sums exceeded national GDP by 5-10 %).

Where at least ``min_parents`` parent-years of the indicator exist, the gap is also compared with the
indicator's typical gap: ``z = (gap - median) / max(1.4826 MAD, median tolerance)``, p-value from a
Student-t empirical null (two-sided). Consecutive years with a gap of one sign are one finding, with
the Simes p-value of its years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect._stats import MAD_TO_SD, fmt_p, fmt_pct
from detect.config import Config, threshold
from detect.data.aliases import ADDITIVE, label
from detect.data.panel import Panel
from detect.data.precision import half_units
from detect.findings import Finding, Findings
from detect._stats import two_sided_t_p as two_sided
from detect.panel._runs import SeriesCache, fit_null, period_text, series_dict, simes_runs
from detect.registry import Detector, register


@register
class Aggregation(Detector):
    """Parent totals that differ from the sum of their children beyond rounding."""

    name = "aggregation"
    family = "panel"
    title = "Aggregation consistency"
    title_zh = "上下级汇总一致性"
    null_hypothesis = ("The parent's figure equals the sum of its children's up to rounding of the reported digits; "
                       "where many parents exist, its gap is drawn from the indicator's typical gap (empirical null).")
    null_hypothesis_zh = ("上级地区的数据在报告位数的舍入误差范围内等于其下级地区数据之和；上级地区较多时，"
                          "其差额与该指标的典型差额来自同一分布（经验零分布）。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        reg = panel.regions
        codes = set(reg["region_code"])
        kids = reg[reg["parent_code"].isin(codes) & (reg["parent_code"] != reg["region_code"])]
        if kids.empty:
            out.notes.append("aggregation: no region has its parent in the panel (no parent_code hierarchy); "
                             "not applicable")
            return out
        n_children = kids.groupby("parent_code").size()
        parent_of = kids.set_index("region_code")["parent_code"]
        names = reg.set_index("region_code")["region_name"]
        high = float(threshold("aggregation.high_gap", config))
        medium = float(threshold("aggregation.medium_gap", config))
        min_parents = int(threshold("aggregation.min_parents", config))
        default_dec = int(threshold("aggregation.default_decimals", config))
        todo = [ind for ind in panel.indicators if ind in ADDITIVE]
        if not todo:
            return out
        series = SeriesCache(panel)
        h_all = half_units(panel, default_dec)
        for ind in todo:
            s = series(ind)
            if s.empty:
                continue
            h = h_all.xs(ind, level="indicator").reindex(index=s.index, columns=s.columns)
            ch = s.loc[s.index.intersection(parent_of.index)]
            if ch.empty:
                continue
            grp = parent_of.reindex(ch.index)
            csum = ch.groupby(grp).sum(min_count=1)
            ccnt = ch.notna().groupby(grp).sum()
            chalf = h.loc[ch.index].groupby(grp).sum(min_count=1)
            parents = csum.index.intersection(s.index)
            if len(parents) == 0:
                continue
            par = s.loc[parents]
            need = n_children.reindex(parents).to_numpy()[:, None]
            complete = ccnt.loc[parents].to_numpy() == need
            has_par = par.notna().to_numpy()
            incomplete = has_par & ~complete & (ccnt.loc[parents].to_numpy() > 0)
            if incomplete.any():
                out.notes.append(f"aggregation: {int(incomplete.sum())} {ind} parent-years skipped: not all children "
                                 f"report that year")
            ok = has_par & complete & (csum.loc[parents].to_numpy() > 0)
            if not ok.any():
                continue
            csv = csum.loc[parents].to_numpy()
            pv = par.to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                gap = np.where(ok, (pv - csv) / csv, np.nan)
                tol_abs = chalf.loc[parents].to_numpy() + h.loc[parents].to_numpy()
                tol_abs = np.where(np.isfinite(tol_abs), tol_abs, 0.0) + 1e-9 * np.abs(csv)
                rel_tol = np.where(ok, tol_abs / csv, np.nan)
            beyond = ok & (np.abs(pv - csv) > tol_abs)
            gap_t = pd.DataFrame(gap, index=parents, columns=s.columns)
            # the gap against the indicator's typical gap, where enough parent-years exist
            n_ok = int(ok.sum())
            z = np.full(gap.shape, np.nan)
            p = np.full(gap.shape, np.nan)
            df_, sc = float("nan"), float("nan")
            if n_ok >= min_parents:
                g = gap[ok]
                med = float(np.median(g))
                scale = max(float(np.median(np.abs(g - med))) * MAD_TO_SD, float(np.nanmedian(rel_tol[ok])))
                z[ok] = (g - med) / scale
                df_, sc = fit_null(z[ok], config.seed)
                p[ok] = two_sided(z[ok], df_, sc)
                out.n_tests += n_ok
            else:
                out.notes.append(f"aggregation: only {n_ok} {ind} parent-years with complete children (< {min_parents}); "
                                 f"gaps are rule-based flags without a p-value")
            sign = np.where(beyond, np.sign(gap), np.nan)
            sign_t = pd.DataFrame(sign, index=parents, columns=s.columns)
            ptab = pd.DataFrame(np.where(np.isfinite(p), p, 1.0), index=parents, columns=s.columns)
            for sgn in (1.0, -1.0):
                runs = simes_runs(ptab, sign_t.eq(sgn))
                for _, r in runs.iterrows():
                    self._emit(out, r, sgn, ind, s, csum, ccnt, gap_t, rel_tol, z, p, parents, names, high, medium,
                               df_, sc)
        return out

    def _emit(self, out, r, sgn, ind, s, csum, ccnt, gap_t, rel_tol, z, p, parents, names, high, medium, df_,
              sc) -> None:
        code, yrs = r["region_code"], [int(y) for y in r["years"]]
        i = parents.get_loc(code)
        cols = [s.columns.get_loc(y) for y in yrs]
        gaps = gap_t.loc[code, yrs].to_numpy(dtype=float)
        gmax = float(gaps[np.argmax(np.abs(gaps))])
        tested = bool(np.isfinite(p[i, cols]).all())
        pi = float(r["p"]) if tested else float("nan")
        zmax = float(np.nanmax(np.abs(z[i, cols]))) * sgn if tested else gmax
        sev = "high" if abs(gmax) >= high else "medium" if abs(gmax) >= medium else "low"
        per = period_text(int(r["start"]), int(r["end"]))
        nkids = int(ccnt.loc[code, yrs[0]])
        tol = float(np.nanmax(rel_tol[i, cols]))
        word = "above" if sgn > 0 else "below"
        how = (f"gap z = {zmax:.1f} against the typical {label(ind)} gap, {fmt_p(pi)}" if tested
               else "too few parents for a typical gap")
        out.items.append(Finding(
            region_code=str(code), region_name=str(names.get(code, code)), indicator=ind,
            period_start=str(int(r["start"])), period_end=str(int(r["end"])), detector=self.name,
            statistic=zmax, p_value=pi, family=self.family,
            kind="parent_above_children" if sgn > 0 else "parent_below_children", effect=gmax, severity_hint=sev,
            summary=(f"{label(ind)} of {names.get(code, code)} was {fmt_pct(abs(gmax))} {word} the sum of its "
                     f"{nkids} children's in {per} (rounding of the reported digits allows {100 * tol:.2g} %; {how}); "
                     f"check which figure was compiled separately or revised — the parent's or the children's."),
            summary_zh=(f"{per}年{names.get(code, code)}的{label(ind, 'zh')}比其{nkids}个下级地区合计"
                        f"{'高' if sgn > 0 else '低'}{fmt_pct(abs(gmax))}（按公布位数的舍入误差最多{100 * tol:.2g} %；"
                        f"{'与该指标典型差距相比 z=' + format(zmax, '.1f') + '，' + fmt_p(pi) if tested else '上级地区过少，无法估计典型差距'}）；"
                        f"请核对上级与下级数据哪一方单独核算或经过修订。"),
            evidence={"series": series_dict(s.loc[code]), "children_sum": series_dict(csum.loc[code]),
                      "gap": series_dict(gap_t.loc[code]), "n_children": nkids, "rounding_tolerance": tol,
                      "run_years": yrs, "null_t_df": df_, "null_t_scale": sc},
        ))
