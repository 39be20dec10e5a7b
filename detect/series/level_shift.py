"""Single-break search on log levels: level shift (LS), additive outlier (AO), temporary change (TC).

Model. Let ``y_t = ln x_t`` and let ``g_t = y_t - y_{t-1} - m_t`` be the region's log growth minus
the same-year median growth of its peers (``m_t``; removes common shocks such as 2009 and 2020,
as in ``growth_peers``). Under the null the peer-adjusted growth follows a local linear trend with
independent errors, ``g_t = a + b t + e_t`` (a log level with a smoothly changing growth rate).
Chen & Liu (1993) intervention effects on the level, differenced into growth space, are regressors
``x`` at a candidate break ``k``:

* LS (level shift, the level moves and stays): ``x = e_k`` (a pulse in growth);
* AO (additive outlier, one year off, then back): ``x = e_k - e_{k+1}``;
* TC (temporary change, decaying with ``alpha``): ``x_k = 1, x_{k+j} = (alpha - 1) alpha^(j-1)``.

For every ``k`` and type, OLS of ``g`` on ``[1, t, x]`` gives ``delta`` and its t-statistic
``lambda = delta / se(delta)``; the statistic of the series is ``max_k,type |lambda|`` and the type
with the largest ``|lambda|`` at the best ``k`` classifies the break (Chen & Liu 1993, section 2).

p-value. Every ``lambda`` is invariant to the location and scale of ``g``, so under the null the
distribution of the maximum depends only on the number of growth rates ``n`` (and on the error
distribution). It is tabulated once per ``n`` by a parametric bootstrap (``B`` simulated series,
seeded with ``config.seed``), with Student-t errors whose degrees of freedom are matched to the
median tail weight of the indicator's series (heavy-tailed figures do not over-flag; see
:func:`fit_error_df`). Far in the
tail, beyond the resolution of ``B`` draws, the p-value is the Bonferroni bound
``K * P(|t_{n-3}| > lambda)`` rescaled by its ratio to the table where the table is still precise.
The search is therefore vectorised over all series at once and costs no per-series resampling.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from detect._stats import fmt_p, fmt_pct
from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.findings import Finding, Findings
from detect.data.precision import half_units
from detect.registry import Detector, register
from detect.series._common import (extract_runs, get_series, is_level_indicator, log_matrix, longest_runs, peer_adjust,
                                   peer_groups, series_dict, suspects)

#: Squared numerical noise of one log-growth value (a 1e-10 relative change: far below any reported
#: precision, far above double rounding), the floor of the residual sum of squares per observation.
_RSS_FLOOR = 1e-20

TYPES = ("LS", "AO", "TC")
KIND = {"LS": "level_shift", "AO": "additive_outlier", "TC": "temporary_change"}
_NAME_EN = {"LS": "level shift", "AO": "one-off outlier", "TC": "temporary change"}
_NAME_ZH = {"LS": "水平移动", "AO": "一次性异常值", "TC": "暂时性变化"}
#: Degrees of freedom of the Student-t error grid (inf = normal) the null tables are built for.
_DF_GRID = (3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 30.0, np.inf)


def break_design(n: int, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intervention regressors in growth space for every break position and type.

    Parameters
    ----------
    n : int
        Number of growth rates.
    alpha : float
        TC decay rate (Chen & Liu 1993 use 0.7).

    Returns
    -------
    X : (K, n) array
        One row per candidate: LS at every position, AO and TC at every position but the last
        (at the last position they coincide with LS).
    kind : (K,) array of str
        ``LS``, ``AO`` or ``TC``.
    pos : (K,) array of int
        Break position ``k`` (the level moves between year ``k`` and ``k + 1`` of the level series).
    """
    rows, kinds, pos = [], [], []
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1.0
        rows.append(e), kinds.append("LS"), pos.append(k)
        if k < n - 1:
            ao = e.copy()
            ao[k + 1] = -1.0
            rows.append(ao), kinds.append("AO"), pos.append(k)
            tc = e.copy()
            j = np.arange(1, n - k)
            tc[k + 1:] = (alpha - 1.0) * alpha ** (j - 1)
            rows.append(tc), kinds.append("TC"), pos.append(k)
    return np.array(rows), np.array(kinds), np.array(pos)


def _residual_maker(n: int, trend: bool) -> np.ndarray:
    t = np.arange(n, dtype=float)
    Z = np.column_stack([np.ones(n), t - t.mean()]) if trend else np.ones((n, 1))
    return np.eye(n) - Z @ np.linalg.pinv(Z)


def break_tstats(g: np.ndarray, X: np.ndarray, trend: bool = True,
                 rss_floor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """t-statistics and effects of every candidate intervention, for many series at once.

    Parameters
    ----------
    g : (m, n) array
        Growth rates (no NaN).
    X : (K, n) array
        Candidate regressors (:func:`break_design`).
    trend : bool
        Include a linear trend in growth besides the intercept.
    rss_floor : (m,) array, optional
        Least residual sum of squares each series can have: the rounding noise of its reported
        figures (:func:`rounding_rss`). A series as smooth as its reported digits allow carries no
        evidence beyond them.

    Returns
    -------
    t, delta : (m, K) arrays
        ``delta`` from OLS of ``g`` on ``[1, (t), x]``, ``t = delta / se(delta)`` with
        ``se^2 = RSS / (n - p - 1) / x'Mx`` (``M`` annihilates the intercept and trend).
    """
    n = g.shape[1]
    M = _residual_maker(n, trend)
    dof = n - (3 if trend else 2)
    gm = g @ M
    Xm = X @ M
    sxx = np.einsum("kn,kn->k", Xm, Xm)
    num = gm @ Xm.T
    ss = np.einsum("mn,mn->m", gm, gm)
    delta = num / sxx
    # floor the residual sum of squares at the numerical noise of log growth (figures carry at most
    # ~15 significant digits): a series identical to its peers' path has RSS ~ 0, and a rounding-level
    # delta over it gave |t| ~ 1e146 ("jumped 0.0 %", p = 0)
    floor = n * _RSS_FLOOR if rss_floor is None else np.maximum(n * _RSS_FLOOR, rss_floor)[:, None]
    rss = np.maximum(ss[:, None] - num * delta, floor)
    se = np.sqrt(rss / dof / sxx)
    return delta / se, delta


def rounding_rss(values: np.ndarray, half_unit: np.ndarray, dof: int) -> np.ndarray:
    """Expected residual sum of squares of a series' log growth from rounding alone.

    A figure reported to ``d`` decimals is within ``h = 0.5 * 10^-d`` of the truth (uniformly, so
    variance ``h^2 / 3``); in log terms ``(h / x)^2 / 3``, and a growth rate carries the rounding of
    two figures. The mean over the series times the residual degrees of freedom is what the
    residuals of a noiseless series would still sum to.

    Parameters
    ----------
    values, half_unit : (m, n + 1) arrays
        The levels and half a unit of their last reported digit (NaN where unknown: counted as 0).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(values != 0, (half_unit / values) ** 2 / 3.0, np.nan)
    vg = np.nan_to_num(r2[:, 1:]) + np.nan_to_num(r2[:, :-1])
    return dof * vg.mean(axis=1)


@lru_cache(maxsize=256)
def null_table(n: int, alpha: float, trend: bool, df: float, draws: int, seed: int) -> np.ndarray:
    """Sorted null draws of ``max |lambda|`` for series of ``n`` growth rates (parametric bootstrap).

    Errors are i.i.d. Student-t with ``df`` degrees of freedom (normal when infinite); the statistic
    is location- and scale-invariant, so the table serves every series of that length.
    """
    rng = np.random.default_rng([seed, n, int(1000 * alpha), int(trend), int(min(df, 1e6))])
    X, _, _ = break_design(n, alpha)
    e = rng.standard_normal((draws, n)) if np.isinf(df) else rng.standard_t(df, (draws, n))
    out = np.empty(draws)
    step = 4096
    for i in range(0, draws, step):
        t, _ = break_tstats(e[i:i + step], X, trend)
        out[i:i + step] = np.abs(t).max(axis=1)
    return np.sort(out)


def max_stat_p(stat: np.ndarray, n: int, n_candidates: int, table: np.ndarray, min_exceed: int,
               trend: bool) -> np.ndarray:
    """p-value of ``max |lambda|`` from the null table, with a Bonferroni-shaped tail beyond it.

    Where at least ``min_exceed`` null draws exceed the statistic, ``p = (1 + #exceed) / (B + 1)``.
    Beyond, ``p = r * K * 2 * t_sf(lambda, n - p - 1)`` where ``r <= 1`` is the ratio of the table
    p-value to the Bonferroni bound at the table's ``min_exceed``-th largest draw (the bound is
    exact for normal errors up to the overlap of the events; ``r`` carries the table's shape on).
    """
    B = len(table)
    dof = n - (3 if trend else 2)
    exceed = B - np.searchsorted(table, stat, side="left")
    p_table = (1.0 + exceed) / (B + 1.0)
    c_star = table[B - min_exceed] if B >= min_exceed else np.inf
    bonf = lambda s: np.minimum(1.0, n_candidates * 2.0 * stats.t.sf(s, dof))  # noqa: E731
    ratio = min(1.0, ((1.0 + min_exceed) / (B + 1.0)) / max(float(bonf(c_star)), 1e-300)) if np.isfinite(c_star) else 1.0
    tail = np.minimum(ratio * bonf(stat), (1.0 + min_exceed) / (B + 1.0))
    return np.where(exceed >= min_exceed, p_table, tail)


def tail_weight(G: np.ndarray, trend: bool) -> np.ndarray:
    """Per-series tail weight of the trend-model residuals: ``mean(r^2) / mean(|r|)^2``.

    Scale-free; ``pi / 2`` for normal errors in large samples, larger for heavier tails.
    """
    R = G @ _residual_maker(G.shape[1], trend)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (R ** 2).mean(axis=1) / np.abs(R).mean(axis=1) ** 2


@lru_cache(maxsize=64)
def _grid_weights(n: int, trend: bool, seed: int, draws: int = 2000) -> tuple[float, ...]:
    """Median :func:`tail_weight` of simulated series of ``n`` growth rates with t(df) errors, per df."""
    rng = np.random.default_rng([seed, n, int(trend), 7])
    out = []
    for df in _DF_GRID:
        e = rng.standard_normal((draws, n)) if np.isinf(df) else rng.standard_t(df, (draws, n))
        out.append(float(np.median(tail_weight(e, trend))))
    return tuple(out)


def fit_error_df(weights: np.ndarray, n: int, trend: bool, seed: int = 0) -> float:
    """Student-t degrees of freedom of the errors of an indicator's series, on a grid.

    The median over series of :func:`tail_weight` is matched to its median in simulated series of
    ``n`` growth rates with t(df) errors; the lightest-tailed df whose median reaches the observed
    one is returned (inf = normal). The median over series is used so that the minority of series
    with a real break (whose residuals are heavy-tailed because of it) does not make every series'
    null heavy-tailed. Fewer than 10 series: normal.
    """
    w = weights[np.isfinite(weights)]
    if len(w) < 10:
        return float("inf")
    obs = float(np.median(w))
    grid = _grid_weights(int(n), bool(trend), int(seed))
    for df, gw in zip(reversed(_DF_GRID), reversed(grid)):
        if gw >= obs:
            return float(df)
    return float(_DF_GRID[0])


def screen(panel: Panel, config: Config, indicators: list[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Run the break search on every level series of ``panel``.

    Returns
    -------
    table : DataFrame
        One row per series tested: ``region_code, indicator, n_growth, start_year, end_year,
        statistic, p_value, type, break_year, delta, df_null`` plus the peer-adjusted growth
        and peer median growth arrays (``g``, ``m``) and year labels (``years``) for evidence.
    notes : list of str
    """
    min_points = int(threshold("level_shift.min_points", config))
    min_peers = int(threshold("level_shift.min_peers", config))
    alpha = float(threshold("level_shift.tc_alpha", config))
    draws = int(threshold("level_shift.null_draws", config))
    min_exceed = int(threshold("level_shift.tail_min_exceed", config))
    trend = bool(threshold("level_shift.trend_in_growth", config))
    peers_mode = config.option("level_shift", "peers", "level")
    notes: list[str] = []
    tables = []
    if indicators is None:
        screened, notes = suspects(panel, config, "level_shift")
        indicators = [i for i in screened if is_level_indicator(i)]
    inds = indicators
    hu = half_units(panel, int(threshold("aggregation.default_decimals", config))) if inds else pd.DataFrame()
    for ind in inds:
        s = get_series(panel, ind)
        if s.empty or s.shape[1] < 2:
            continue
        h = (hu.loc[ind].reindex(index=s.index, columns=s.columns) if ind in hu.index.get_level_values(0)
             else pd.DataFrame(np.nan, index=s.index, columns=s.columns)).to_numpy(dtype=float)
        years = np.asarray(s.columns, dtype=int)
        logv = log_matrix(s)
        graw = np.diff(logv, axis=1)
        groups = peer_groups(panel, s.index, peers_mode)
        g, med, npeer = peer_adjust(graw, groups, min_peers)
        n_unadj = int((np.isfinite(graw) & (npeer < min_peers)).any(axis=1).sum())
        if n_unadj:
            notes.append(f"level_shift: {n_unadj} {ind} series not adjusted for common shocks in some years "
                         f"(fewer than {min_peers} peers with growth that year)")
        start, length = longest_runs(np.isfinite(g))
        ok = length >= (min_points - 1)
        n_short = int(((length > 0) | np.isfinite(logv).any(axis=1)).sum() - ok.sum())
        if n_short:
            notes.append(f"level_shift: {n_short} {ind} series too short for a break test "
                         f"(fewer than {min_points} consecutive years); not tested")
        if not ok.any():
            continue
        # pooled residual tails for the null
        rows_ok = np.flatnonzero(ok)
        for n in np.unique(length[ok]):
            rows = rows_ok[length[rows_ok] == n]
            G = extract_runs(g, rows, start[rows], int(n))
            X, kinds, pos = break_design(int(n), alpha)
            levels = extract_runs(s.to_numpy(dtype=float), rows, start[rows], int(n) + 1)
            halves = extract_runs(h, rows, start[rows], int(n) + 1)
            t, delta = break_tstats(G, X, trend, rounding_rss(levels, halves, int(n) - (3 if trend else 2)))
            best = np.argmax(np.abs(t), axis=1)
            tables.append(pd.DataFrame({
                "region_code": s.index.to_numpy()[rows], "indicator": ind, "row": rows, "n_growth": int(n),
                "run_start": start[rows], "statistic": np.abs(t[np.arange(len(rows)), best]),
                "signed_t": t[np.arange(len(rows)), best], "type": kinds[best], "pos": pos[best],
                "delta": delta[np.arange(len(rows)), best], "n_candidates": len(kinds),
                "_tail": tail_weight(G, trend),
            }).assign(_years=[years] * len(rows), _g=[g[r] for r in rows], _m=[med[r] for r in rows]))
    if not tables:
        return pd.DataFrame(), notes
    tab = pd.concat(tables, ignore_index=True)
    # null tables: Student-t df fitted per indicator to the pooled standardised residuals
    tab["df_null"] = np.inf
    tab["p_value"] = np.nan
    for ind, idx in tab.groupby("indicator", sort=True).groups.items():
        sub = tab.loc[idx]
        n_mode = int(sub["n_growth"].mode().iat[0])
        df_ = fit_error_df(sub["_tail"].to_numpy(dtype=float), n_mode, trend, seed=int(config.seed))
        tab.loc[idx, "df_null"] = df_
        for n, idn in sub.groupby("n_growth").groups.items():
            table = null_table(int(n), alpha, trend, df_, draws, int(config.seed))
            k = int(tab.loc[idn, "n_candidates"].iat[0])
            tab.loc[idn, "p_value"] = max_stat_p(tab.loc[idn, "statistic"].to_numpy(), int(n), k, table,
                                                 min_exceed, trend)
    # calendar: growth k of the run is the move from year run_start+k to run_start+k+1
    tab["start_year"] = [int(y[s]) for y, s in zip(tab["_years"], tab["run_start"])]
    tab["end_year"] = tab["start_year"] + tab["n_growth"]
    tab["break_year"] = tab["start_year"] + tab["pos"] + 1
    return tab.drop(columns="_tail"), notes


def break_paths(row: pd.Series, values: np.ndarray, alpha: float) -> dict[str, list]:
    """Evidence paths: fitted level without the break (counterfactual) and the peer path.

    The counterfactual removes the estimated intervention's effect on the level
    (``delta * cumsum(x)``) from the reported log level; the peer path moves the first reported
    value with the peers' median growth.
    """
    years = row["_years"]
    n_years = len(years)
    x_level = np.zeros(n_years)
    k = int(row["run_start"]) + int(row["pos"]) + 1  # first level year affected
    if row["type"] == "LS":
        x_level[k:] = 1.0
    elif row["type"] == "AO":
        x_level[k] = 1.0
    else:
        x_level[k:] = alpha ** np.arange(n_years - k)
    with np.errstate(invalid="ignore", divide="ignore"):
        counterfactual = values * np.exp(-row["delta"] * x_level)
        first = np.flatnonzero(np.isfinite(values))
        peer = np.full(n_years, np.nan)
        if len(first):
            f = first[0]
            peer[f:] = values[f] * np.exp(np.concatenate([[0.0], np.cumsum(np.nan_to_num(row["_m"][f:]))]))
    return {"counterfactual": counterfactual, "peer_path": peer}


@register
class LevelShift(Detector):
    """A level shift, one-off outlier or temporary change in one region's series, beyond its peers."""

    name = "level_shift"
    family = "series"
    title = "Level shifts and one-off outliers"
    title_zh = "水平移动与一次性异常值"
    null_hypothesis = ("The region's log growth, net of the peer median growth each year, follows a smooth "
                       "linear trend with independent errors: no year moves the level (LS), "
                       "sets it off for one year (AO) or temporarily (TC).")
    null_hypothesis_zh = ("该地区的对数增速减去各年同级地区增速中位数后，服从误差相互独立的平滑线性趋势："
                          "没有任何一年使水平永久移动（LS）、仅偏离一年（AO）或暂时偏离（TC）。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        report_p = float(threshold("scoring.report_p", config))
        alpha = float(threshold("level_shift.tc_alpha", config))
        tab, notes = screen(panel, config)
        out.notes.extend(notes)
        if tab.empty:
            return out
        out.n_tests += len(tab)
        names = panel.regions.set_index("region_code")["region_name"]
        for ind, sub in tab[tab["p_value"] <= report_p].groupby("indicator", sort=True):
            series = get_series(panel, ind)
            for _, r in sub.sort_values("region_code").iterrows():
                out.items.append(self._finding(r, series.loc[r["region_code"]], names, alpha))
        return out

    def _finding(self, r: pd.Series, row: pd.Series, names: pd.Series, alpha: float) -> Finding:
        code, ind, typ = r["region_code"], r["indicator"], r["type"]
        yr = int(r["break_year"])
        size = float(np.expm1(r["delta"]))
        p = float(r["p_value"])
        values = row.to_numpy(dtype=float)
        paths = break_paths(r, values, alpha)
        years = [str(y) for y in r["_years"]]
        lab, lab_zh = label(ind), label(ind, "zh")
        move = "jumped" if size > 0 else "dropped"
        move_zh = "跃升" if size > 0 else "下降"
        extra = ("; at the last year a one-off outlier cannot yet be told apart from a level shift"
                 if yr == int(r["end_year"]) else "")
        summary = (f"{lab} {move} {fmt_pct(abs(size))} in {yr} relative to its own trend and to the peer median "
                   f"growth, a {_NAME_EN[typ]} (|t| = {r['statistic']:.1f} over {int(r['n_growth']) + 1} years, "
                   f"{fmt_p(p)}){extra}; check what changed in the {yr} {lab} figures (a correction of earlier "
                   f"inflated figures, a boundary or method change).")
        summary_zh = (f"{yr}年{lab_zh}相对自身趋势和同级地区中位数增速{move_zh}{fmt_pct(abs(size))}，"
                      f"属于{_NAME_ZH[typ]}（|t|={r['statistic']:.1f}，{int(r['n_growth']) + 1}年，{fmt_p(p)}）；"
                      f"请核查{yr}年{lab_zh}数据的变化原因（是否更正此前虚增数据、区划或口径调整）。")
        return Finding(
            region_code=code, region_name=str(names.get(code, code)), indicator=ind,
            period_start=str(yr), period_end=str(yr), detector=self.name, statistic=float(r["statistic"]),
            p_value=p, family=self.family, kind=KIND[typ], effect=size, summary=summary, summary_zh=summary_zh,
            evidence={
                "series": series_dict(row), "break_year": yr, "type": typ, "size": size,
                "t": float(r["signed_t"]), "n_points": int(r["n_growth"]) + 1,
                "tested_years": [int(r["start_year"]), int(r["end_year"])],
                "null_t_df": float(r["df_null"]),
                "counterfactual": dict(zip(years, paths["counterfactual"])),
                "peer_path": dict(zip(years, paths["peer_path"])),
                "peer_median_growth": dict(zip(years[1:], np.expm1(r["_m"]))),
            },
        )
