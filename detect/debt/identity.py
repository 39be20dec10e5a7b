"""Identity checks that need no threshold debate: limit breaches and the debt-deficit residual.

1. **Limit breach** (rule-based): ``debt_balance > debt_limit · (1 + limit_tolerance)``; the same for
   the general / special sub-limits when ``general_debt_balance``, ``general_debt_limit``,
   ``special_debt_balance``, ``special_debt_limit`` are given. 地方政府债务余额不得突破批准的限额
   (国发〔2014〕43号, 财预〔2015〕225号).

2. **Debt-deficit residual** (stock-flow adjustment). Debt rises by the deficit it finances:

       ΔD_t = deficit_t + SFA_t,   deficit_t = fiscal_expenditure_t − fiscal_revenue_t − transfer_revenue_t

   (general budget after transfers; interest is inside expenditure, so this is the overall balance).
   The scaled residual ``r_t = (ΔD_t − deficit_t) / fiscal_expenditure_t`` has a region-specific
   level — special bonds finance the government-fund budget, which has no canonical expenditure
   indicator, and regions differ in how much of the general deficit is closed by 调入资金 and carry-
   overs — and year effects (special-bond quotas, 2020). Both are removed robustly:

       e_it = r_it − median_t'(r_it')  − median_{j: same year, level}(r_jt − median_t'(r_jt'))

   and ``z = e / max(s_peer, s_own)`` with ``s_peer`` = 1.4826·MAD of ``e`` over the same-year peers
   and ``s_own`` = 1.4826·MAD of the region's own ``e`` over its years: a residual is flagged only when
   it is large relative to both. p-values are two-sided from a Student-t empirical null (Efron 2004):
   debt up more than the deficit (hidden or unrecorded borrowing, or an inflated deficit) and debt up
   less (deficits financed off the books, or debt under-reported) are both evidence of misreporting.
   Consecutive same-sign years are one finding (Stouffer combination).

3. **Persistent residual** (region level). A gap that lasts several years moves the region's own median
   and is missed by (2); so each region's mean peer-centred residual ``a_i = mean_t(r_it − median_j r_jt)``
   is compared with its peers' (robust z, Student-t empirical null, two-sided). The reported period is
   the contiguous run of years with the largest summed gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from detect._stats import MAD_TO_SD, empirical_null_t, fmt_p
from detect.config import Config, threshold
from detect.data.panel import Panel
from detect.debt._inputs import LABEL_ZH, DebtFrame, debt_frame, money, money_en, pct, runs, series_dict
from detect.findings import Finding, Findings
from detect.registry import Detector, register

_LIMITS: tuple[tuple[str, str, str, str], ...] = (
    ("debt_balance", "debt_limit", "limit_breach", "high"),
    ("general_debt_balance", "general_debt_limit", "sublimit_breach", "medium"),
    ("special_debt_balance", "special_debt_limit", "sublimit_breach", "medium"),
)


def limit_breaches(frame: DebtFrame, config: Config | None = None) -> pd.DataFrame:
    """Region-years whose balance is above its approved limit.

    Returns ``region_code, year, balance_indicator, balance, limit, excess`` (excess = balance / limit - 1).
    """
    tol = float(threshold("debt.limit_tolerance", config))
    line = float(threshold("debt.limit_breach", config))
    rows = []
    for bal, lim, _, _ in _LIMITS:
        if bal not in frame.present or lim not in frame.present:
            continue
        b, L = frame.data[bal], frame.data[lim]
        over = (b > L * line * (1 + tol)) & (L > 0)
        sub = frame.data.loc[over, [bal, lim]]
        for (code, year), v in sub.iterrows():
            rows.append((str(code), int(year), bal, float(v[bal]), float(v[lim]), float(v[bal] / v[lim] - 1)))
    return pd.DataFrame(rows, columns=["region_code", "year", "balance_indicator", "balance", "limit", "excess"])


def identity_residuals(frame: DebtFrame, config: Config | None = None) -> dict[str, np.ndarray]:
    """Regions x years matrices of the debt-deficit identity: ``dD``, ``deficit``, ``r`` (scaled residual),
    ``e`` (after removing region and year-peer medians), ``s_peer``, ``s_own``, ``z``, ``n_own``, ``n_peer``;
    and per region ``c`` (residual minus the year's peer median), ``a`` (its mean over the region's years),
    ``z_region`` (robust z of ``a`` among peers), ``n_region`` (peers with an ``a``)."""
    m = frame.matrix
    D, E = m("debt_balance"), m("fiscal_expenditure")
    dD = np.full_like(D, np.nan)
    dD[:, 1:] = np.diff(D, axis=1)
    deficit = E - m("fiscal_revenue") - m("transfer_revenue")
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (dD - deficit) / np.where(E > 0, E, np.nan)
    R, T = r.shape
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        own_med = np.nanmedian(r, axis=1) if T else np.full(R, np.nan)
        e1 = r - own_med[:, None]
        level = frame.regions.set_index("region_code")["level"].reindex(frame.codes).to_numpy()
        e = np.full_like(e1, np.nan)
        s_peer = np.full_like(e1, np.nan)
        n_peer = np.zeros_like(e1, dtype=int)
        for lv in np.unique(level):
            rows = level == lv
            blk = e1[rows]
            yc = np.nanmedian(blk, axis=0)
            eb = blk - yc[None, :]
            e[rows] = eb
            s_peer[rows] = MAD_TO_SD * np.nanmedian(np.abs(eb), axis=0)[None, :]
            n_peer[rows] = np.isfinite(eb).sum(axis=0)[None, :]
        s_own = MAD_TO_SD * np.nanmedian(np.abs(e - np.nanmedian(e, axis=1)[:, None]), axis=1)
    n_own = np.isfinite(r).sum(axis=1)
    # region level: the mean residual after removing the year's peer median (persistent excess)
    c = np.full_like(r, np.nan)
    a = np.full(R, np.nan)
    z_region = np.full(R, np.nan)
    n_region = np.zeros(R, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for lv in np.unique(level):
            rows = level == lv
            blk = r[rows]
            c[rows] = blk - np.nanmedian(blk, axis=0)[None, :]
            a[rows] = _mean_without_extreme(c[rows])
            med = np.nanmedian(a[rows])
            sa = MAD_TO_SD * np.nanmedian(np.abs(a[rows] - med))
            z_region[rows] = (a[rows] - med) / sa if sa > 0 else np.nan
            n_region[rows] = int(np.isfinite(a[rows]).sum())
    scale = np.fmax(s_peer, s_own[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = e / np.where(scale > 0, scale, np.nan)
    return {"dD": dD, "deficit": deficit, "r": r, "e": e, "s_peer": s_peer, "s_own": s_own, "z": z,
            "n_own": n_own, "n_peer": n_peer, "c": c, "a": a, "z_region": z_region, "n_region": n_region}


@register
class DebtIdentity(Detector):
    """Balances above their approved limits, and debt changes that the deficit does not explain."""

    name = "debt_identity"
    family = "debt"
    title = "Debt identities: limit breaches and the debt-deficit residual"
    title_zh = "债务勾稽：突破限额与债务—赤字残差"
    null_hypothesis = ("Limits: rule-based (a balance may not exceed its approved limit). Residual: the region's "
                       "debt change minus its deficit, net of its own usual level and the year's peer level, is "
                       "drawn from the same distribution as its peers' (z follows the empirical null).")
    null_hypothesis_zh = ("限额：基于规则（债务余额不得超过批准的限额）。残差：该地区债务变动减去赤字，"
                          "扣除其自身常态水平和当年同级地区水平后，与同级地区的残差来自同一分布（z值服从经验零分布）。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        frame = debt_frame(panel)
        if "debt_balance" not in frame.present:
            out.notes.append("debt_identity: no debt_balance in the panel")
            return out
        self._breaches(frame, config, out)
        self._residuals(frame, config, out)
        return out

    def _breaches(self, frame: DebtFrame, config: Config, out: Findings) -> None:
        if "debt_limit" not in frame.present:
            out.notes.append("debt_identity: no debt_limit in the panel; limit breaches not checked")
        br = limit_breaches(frame, config)
        if len(br) == 0:
            return
        names = frame.names()
        years = frame.years
        pos = {c: i for i, c in enumerate(frame.codes)}
        for bal, lim, kind, sev in _LIMITS:
            b = br[br["balance_indicator"] == bal]
            if len(b) == 0:
                continue
            mask = np.zeros((frame.n_regions, frame.n_years), dtype=bool)
            mask[b["region_code"].map(pos).to_numpy(), (b["year"] - years[0]).to_numpy()] = True
            Bm, Lm = frame.matrix(bal), frame.matrix(lim)
            for r, s, e in runs(mask):
                code = str(frame.codes[r])
                ex = Bm[r, s:e + 1] / Lm[r, s:e + 1] - 1
                j = s + int(np.nanargmax(ex))
                y0, y1 = str(int(years[s])), str(int(years[e]))
                period_en = f"in {y1}" if s == e else f"in {y0}-{y1}"
                period_zh = f"{y1}年" if s == e else f"{y0}–{y1}年"
                lab, lab_zh = bal.replace("_", " "), LABEL_ZH.get(bal, bal)
                out.items.append(Finding(
                    # the statutory breach is about 限额利用率; naming it so keeps its id apart from the
                    # debt_balance residual findings over the same years
                    region_code=code, region_name=str(names.get(code, code)),
                    indicator="limit_utilisation" if bal == "debt_balance" else bal,
                    period_start=y0, period_end=y1, detector=self.name, statistic=float(Bm[r, j] / Lm[r, j]),
                    p_value=float("nan"), family=self.family, kind=kind, effect=float(ex.max()), severity_hint=sev,
                    summary=(f"The {lab} is above its approved limit {period_en}: {money_en(Bm[r, j])} against a "
                             f"limit of {money_en(Lm[r, j])} in {int(years[j])} ({pct(ex.max(), 1)} over); a balance "
                             f"may not exceed its limit (国发〔2014〕43号, 财预〔2015〕225号) — check the limit "
                             f"approved by the provincial people's congress and the year-end balance."),
                    summary_zh=(f"{period_zh}{lab_zh}超过批准限额：{int(years[j])}年余额{money(Bm[r, j])}亿元，限额"
                                f"{money(Lm[r, j])}亿元，超出{pct(ex.max(), 1)}；债务余额不得突破批准的限额"
                                f"（国发〔2014〕43号、财预〔2015〕225号），请核对人大批准的限额与年末余额。"),
                    evidence={"series": series_dict(years, Bm[r]), "limit": series_dict(years, Lm[r]),
                              "utilisation": series_dict(years, Bm[r] / Lm[r])},
                ))

    def _residuals(self, frame: DebtFrame, config: Config, out: Findings) -> None:
        need = ("fiscal_expenditure", "fiscal_revenue", "transfer_revenue")
        missing = [k for k in need if k not in frame.present]
        if missing:
            out.notes.append(f"debt_identity: debt-deficit residual not computable (needs {', '.join(missing)} "
                             "besides debt_balance)")
            return
        res = identity_residuals(frame, config)
        min_years = int(threshold("debt.identity_min_years", config))
        min_peers = int(threshold("debt.surge_min_peers", config))
        z = res["z"]
        ok = np.isfinite(z) & (res["n_own"][:, None] >= min_years) & (res["n_peer"] >= min_peers)
        n_fin = int(np.isfinite(res["r"]).sum())
        if n_fin > ok.sum():
            out.notes.append(f"debt_identity: {n_fin - int(ok.sum())} of {n_fin} residuals not tested (region with fewer "
                             f"than {min_years} years, or fewer than {min_peers} peers that year)")
        names = frame.names()
        years = frame.years
        covered = self._persistent(frame, res, config, out, min_years, min_peers)
        if not ok.any():
            return
        df_, sc = empirical_null_t(z[ok])
        p = np.full(z.shape, np.nan)
        zs = np.abs(z[ok]) / sc
        p[ok] = 2 * (stats.norm.sf(zs) if np.isinf(df_) else stats.t.sf(zs, df_))
        out.n_tests += int(ok.sum())
        report_p = float(threshold("scoring.report_p", config))
        D = frame.matrix("debt_balance")
        E = frame.matrix("fiscal_expenditure")
        for sign in (1, -1):
            hit = ok & (p <= report_p) & (np.sign(z) == sign)
            for r, s, e in runs(hit):
                code = str(frame.codes[r])
                if (r, s, e) in covered:
                    continue  # the persistent finding over the same years carries this evidence
                k = e - s + 1
                ps = np.clip(p[r, s:e + 1], 1e-300, 1.0)
                stouffer = float(sign * stats.norm.isf(ps / 2).sum() / np.sqrt(k))
                p_run = float(min(1.0, 2 * stats.norm.sf(abs(stouffer))))
                dD = res["dD"][r, s:e + 1]
                dfc = res["deficit"][r, s:e + 1]
                resid = float(np.nansum(dD - dfc))
                typical = float(np.nanmedian(res["r"][r]) * np.nansum(E[r, s:e + 1]))
                unexplained = resid - typical
                y0, y1 = str(int(years[s])), str(int(years[e]))
                period_en = f"in {y1}" if k == 1 else f"over {y0}-{y1}"
                period_zh = f"{y1}年" if k == 1 else f"{y0}–{y1}年"
                up = sign > 0
                out.items.append(Finding(
                    region_code=code, region_name=str(names.get(code, code)), indicator="debt_balance",
                    period_start=y0, period_end=y1, detector=self.name, statistic=stouffer, p_value=p_run,
                    family=self.family, kind="debt_above_deficit" if up else "debt_below_deficit",
                    effect=float(np.nansum(res["e"][r, s:e + 1])),
                    summary=(f"Debt changed by {money_en(float(np.nansum(dD)))} {period_en} against a deficit of "
                             f"{money_en(float(np.nansum(dfc)))}; beyond the region's usual gap "
                             f"({money_en(typical)}) {money_en(abs(unexplained))} is unexplained "
                             f"({'debt rose more than the deficit: borrowing outside the budget or unrecorded' if up else 'debt rose less than the deficit: deficit financed off the books or debt under-reported'}; "
                             f"{fmt_p(p_run)}); reconcile the debt table with the final accounts."),
                    summary_zh=(f"{period_zh}债务余额变动{money(float(np.nansum(dD)))}亿元，同期赤字{money(float(np.nansum(dfc)))}"
                                f"亿元；扣除该地区惯常差额（{money(typical)}亿元）后仍有{money(abs(unexplained))}亿元无法解释"
                                f"（{'债务增幅大于赤字，疑有预算外或未入账举债' if up else '债务增幅小于赤字，疑赤字由账外融资或债务少报'}，"
                                f"{fmt_p(p_run)}）；请将债务报表与决算逐项勾稽。"),
                    evidence={"series": series_dict(years, D[r]), "debt_change": series_dict(years, res["dD"][r]),
                              "deficit": series_dict(years, res["deficit"][r]),
                              "residual_share_of_expenditure": series_dict(years, res["r"][r]),
                              "z": series_dict(years[s:e + 1], z[r, s:e + 1]), "p": series_dict(years[s:e + 1], p[r, s:e + 1], 10),
                              "scale_peer": series_dict(years[s:e + 1], res["s_peer"][r, s:e + 1]),
                              "scale_own": float(res["s_own"][r]), "unexplained": unexplained,
                              "identity": "ΔD = fiscal_expenditure − fiscal_revenue − transfer_revenue + SFA",
                              "null_t_df": df_, "null_t_scale": sc},
                ))

    def _persistent(self, frame: DebtFrame, res: dict, config: Config, out: Findings, min_years: int,
                    min_peers: int) -> set[tuple[int, int, int]]:
        """Region-level test: the mean peer-centred residual far from the peers' (a debt that keeps
        growing faster, or slower, than the deficits, year after year). Returns the (row, start, end)
        of the periods reported."""
        zr = res["z_region"]
        ok = np.isfinite(zr) & (res["n_own"] >= min_years) & (res["n_region"] >= min_peers)
        if not ok.any():
            return set()
        df_, sc = empirical_null_t(zr[ok])
        p = np.full(zr.shape, np.nan)
        zs = np.abs(zr[ok]) / sc
        p[ok] = 2 * (stats.norm.sf(zs) if np.isinf(df_) else stats.t.sf(zs, df_))
        out.n_tests += int(ok.sum())
        report_p = float(threshold("scoring.report_p", config))
        names = frame.names()
        years = frame.years
        D = frame.matrix("debt_balance")
        E = frame.matrix("fiscal_expenditure")
        covered: set[tuple[int, int, int]] = set()
        for r in np.flatnonzero(ok & (p <= report_p)):
            code = str(frame.codes[r])
            sign = 1.0 if zr[r] > 0 else -1.0
            s, e = _max_segment(sign * res["c"][r])
            covered.add((int(r), s, e))
            seg = res["c"][r, s:e + 1] * E[r, s:e + 1]
            excess = float(np.nansum(seg))
            dD = float(np.nansum(res["dD"][r, s:e + 1]))
            dfc = float(np.nansum(res["deficit"][r, s:e + 1]))
            y0, y1 = str(int(years[s])), str(int(years[e]))
            up = sign > 0
            out.items.append(Finding(
                region_code=code, region_name=str(names.get(code, code)), indicator="debt_balance",
                period_start=y0, period_end=y1, detector=self.name, statistic=float(zr[r]), p_value=float(p[r]),
                family=self.family, kind="persistent_debt_above_deficit" if up else "persistent_debt_below_deficit",
                effect=float(res["a"][r]),
                summary=(f"Year after year debt changed {'more' if up else 'less'} than the deficit: over {y0}-{y1} debt "
                         f"changed by {money_en(dD)} against deficits of {money_en(dfc)}, {money_en(abs(excess))} "
                         f"{'more' if up else 'less'} than the peers' typical gap (mean gap {pct(res['a'][r], 1)} of "
                         f"expenditure a year against peers, robust z = {zr[r]:.1f}, {fmt_p(float(p[r]))}); reconcile "
                         f"the debt table with the final accounts year by year."),
                summary_zh=(f"{y0}–{y1}年债务余额变动{money(dD)}亿元，同期赤字{money(dfc)}亿元，比同级地区惯常差额"
                            f"{'多' if up else '少'}{money(abs(excess))}亿元（年均相当于支出的{pct(res['a'][r], 1)}，稳健z="
                            f"{zr[r]:.1f}，{fmt_p(float(p[r]))}）；债务与赤字长期不匹配，请逐年勾稽债务报表与决算。"),
                evidence={"series": series_dict(years, D[r]), "debt_change": series_dict(years, res["dD"][r]),
                          "deficit": series_dict(years, res["deficit"][r]),
                          "residual_share_of_expenditure": series_dict(years, res["r"][r]),
                          "peer_centred_residual": series_dict(years, res["c"][r]),
                          "mean_peer_centred_residual": float(res["a"][r]), "peer_n": int(res["n_region"][r]),
                          "identity": "ΔD = fiscal_expenditure − fiscal_revenue − transfer_revenue + SFA",
                          "null_t_df": df_, "null_t_scale": sc},
            ))
        return covered


def _mean_without_extreme(c: np.ndarray) -> np.ndarray:
    """Row means leaving out each row's single most extreme value (|c| largest): one bad year is the
    per-year test's business, a persistent gap survives the trim."""
    absn = np.where(np.isfinite(c), np.abs(c), -np.inf)
    j = np.argmax(absn, axis=1)
    trimmed = c.copy()
    has = np.isfinite(c).sum(axis=1) >= 2
    trimmed[np.flatnonzero(has), j[has]] = np.nan
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(trimmed, axis=1)


def _max_segment(x: np.ndarray) -> tuple[int, int]:
    """Start and end (inclusive) of the contiguous run of finite values with the largest sum (Kadane)."""
    best, best_s, best_e = -np.inf, 0, 0
    cur, cur_s = 0.0, None
    for j, v in enumerate(x):
        if not np.isfinite(v):
            cur, cur_s = 0.0, None
            continue
        if cur_s is None or cur <= 0:
            cur, cur_s = v, j
        else:
            cur += v
        if cur > best:
            best, best_s, best_e = cur, cur_s, j
    return best_s, best_e
