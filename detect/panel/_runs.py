"""Shared statistics of the panel detectors: empirical-null scores, runs of same-sign years, run p-values.

Pure, vectorised functions (no I/O). A *run* is a maximal stretch of consecutive years in which a
region's standardised gap keeps one sign; the panel detectors report one finding per run, so an
inflation phase of several years is one piece of evidence, not several.

Two run tests are provided:

* :func:`run_sum_p` for statistics that are independent across years under the null (growth gaps,
  jumps): conditional on the pattern of signs, the magnitudes ``|u_j|`` of standard normal scores
  are i.i.d. half-normal, so the sum over a run of length ``k`` has the law of a sum of ``k``
  half-normals whatever the run lengths happen to be. Its upper tail is computed with the
  Lugannani–Rice saddlepoint formula (Lugannani & Rice 1980, Adv. Appl. Prob. 12:475-490; Daniels
  1987, Int. Stat. Rev. 55:37-48), exact for ``k = 1``. Every run is one hypothesis and the runs are
  conditionally independent, so Benjamini–Hochberg over all runs is valid.
* :func:`simes_runs` for statistics that are persistent across years (levels): the run's p-value is
  the Simes combination of its yearly p-values (Simes 1986, Biometrika 73:751-754), valid under
  the positive dependence of a level observed in consecutive years (Sarkar 1998, Ann. Stat. 26:494-504).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special, stats

from detect._stats import empirical_null_central
from detect.scoring import fdr

def fit_null(z: np.ndarray, seed: int, min_n: int = 30, quantiles: tuple[float, float] = (0.5, 0.9)
             ) -> tuple[float, float]:
    """Student-t empirical null fitted to the central part: :func:`detect._stats.empirical_null_central`
    (``seed`` is kept for the interface; quantiles need no subsampling)."""
    del seed
    return empirical_null_central(z, min_n=min_n, quantiles=quantiles)


def null_cdf(z: np.ndarray, df: float, scale: float) -> np.ndarray:
    """``P(Z <= z)`` under the fitted null t(df) * scale (normal when df is infinite)."""
    z = np.asarray(z, dtype=float) / scale
    return stats.norm.cdf(z) if np.isinf(df) else stats.t.cdf(z, df)


def normal_scores(z: np.ndarray, df: float, scale: float) -> np.ndarray:
    """Map statistics to standard normal scores through the empirical null:
    ``u = Phi^-1(F_null(z))`` (both tails computed from their own side for precision)."""
    z = np.asarray(z, dtype=float)
    zs = z / scale
    if np.isinf(df):
        return zs
    lo = stats.t.logcdf(-np.abs(zs), df)  # log of the smaller tail
    u = -special.ndtri_exp(lo) if hasattr(special, "ndtri_exp") else -stats.norm.ppf(np.exp(lo))
    return np.where(zs >= 0, u, -u)


def one_sided_p(u: np.ndarray, upper: bool = True) -> np.ndarray:
    """One-sided p-value of a normal score."""
    return stats.norm.sf(u) if upper else stats.norm.cdf(u)


def lag1_correlation(u: pd.DataFrame) -> float:
    """Pooled lag-1 correlation of scores over consecutive years (regions x years table)."""
    a = u.to_numpy(dtype=float)
    x, y = a[:, :-1].ravel(), a[:, 1:].ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 30:
        return 0.0
    x, y = np.clip(x[ok], -4, 4), np.clip(y[ok], -4, 4)
    r = np.corrcoef(x, y)[0, 1]
    return float(r) if np.isfinite(r) else 0.0


def find_runs(u: pd.DataFrame, c: float = 0.0) -> pd.DataFrame:
    """Maximal runs of consecutive years beyond ``c`` in one direction, for every region at once.

    Parameters
    ----------
    u : DataFrame
        Regions x integer years, NaN where there is no statistic (a missing year ends a run).
    c : float
        A year belongs to a positive run when ``u > c``, to a negative one when ``u < -c``; a year
        in between ends the run. ``c = 0`` gives runs of one sign.

    Returns
    -------
    DataFrame
        One row per run: ``region_code, sign (+1/-1), start, end, k, sum, sum_sq, years, row, c0, c1``
        where ``years`` is the list of the run's years and ``row``, ``c0..c1`` its position in ``u``.
    """
    cols = ["region_code", "sign", "start", "end", "k", "sum", "sum_sq", "years", "row", "c0", "c1"]
    if u.empty:
        return pd.DataFrame(columns=cols)
    a = u.to_numpy(dtype=float)
    years = np.asarray(u.columns, dtype=int)
    nr, ny = a.shape
    a0 = np.where(np.isfinite(a), a, 0.0)
    sign = np.where(a0 > c, 1.0, np.where(a0 < -c, -1.0, 0.0)) if c > 0 else np.sign(a0)
    flat_sign = sign.ravel()
    # a new run starts where the sign changes or at each region's first year (a gap has sign 0)
    prev = np.concatenate([np.zeros((nr, 1)), sign[:, :-1]], axis=1).ravel()
    new = (flat_sign != prev) | (np.tile(np.arange(ny), nr) == 0)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], nr * ny) - 1
    keep = flat_sign[starts] != 0
    starts, ends = starts[keep], ends[keep]
    if len(starts) == 0:
        return pd.DataFrame(columns=cols)
    vals = np.where(np.isfinite(a), a, 0.0).ravel()
    c1 = np.concatenate([[0.0], np.cumsum(vals)])
    c2 = np.concatenate([[0.0], np.cumsum(vals * vals)])
    col0, col1 = starts % ny, ends % ny
    out = pd.DataFrame({
        "region_code": np.asarray(u.index)[starts // ny],
        "sign": flat_sign[starts].astype(int),
        "start": years[col0], "end": years[col1], "k": ends - starts + 1,
        "sum": c1[ends + 1] - c1[starts], "sum_sq": c2[ends + 1] - c2[starts],
    })
    out["years"] = [years[i:j + 1].tolist() for i, j in zip(col0, col1)]
    out["row"], out["c0"], out["c1"] = starts // ny, col0, col1
    return out[cols]


def _k_tn(t: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulant generating function of ``|Z|`` given ``|Z| > c`` and its first two derivatives:
    ``K(t) = t^2 / 2 + log Phi(t - c) - log(1 - Phi(c))``."""
    a = t - c
    r = np.exp(stats.norm.logpdf(a) - special.log_ndtr(a))  # phi(a) / Phi(a)
    k0 = 0.5 * t * t + special.log_ndtr(a) - stats.norm.logsf(c)
    k1 = t + r
    k2 = 1.0 - r * (a + r)
    return k0, k1, np.maximum(k2, 1e-12)


def halfnormal_sum_sf(s: np.ndarray, k: np.ndarray, c: float = 0.0) -> np.ndarray:
    """``P(X_1 + ... + X_k >= s)`` for i.i.d. ``X_i = |Z_i|`` given ``|Z_i| > c`` (``Z_i`` standard
    normal; ``c = 0`` is the half-normal).

    Exact for ``k = 1`` (``(1 - Phi(s)) / (1 - Phi(c))``); for ``k >= 2`` the Lugannani–Rice
    saddlepoint approximation with the cumulant generating function
    ``K(t) = t^2 / 2 + log Phi(t - c) - log(1 - Phi(c))``: solve ``K'(t) = s / k``, then
    ``w = sign(t) sqrt(2 k (t s / k - K(t)))``, ``v = t sqrt(k K''(t))`` and
    ``p = 1 - Phi(w) + phi(w) (1 / v - 1 / w)``; near the mean (``|w| < 0.02``) the normal
    approximation is used.
    """
    s = np.asarray(s, dtype=float)
    k = np.asarray(k, dtype=float)
    s, k = np.broadcast_arrays(s, k)
    out = np.ones(s.shape)
    pos = s > k * c
    one = pos & (k == 1)
    out[one] = np.exp(stats.norm.logsf(s[one]) - stats.norm.logsf(c))
    many = pos & (k >= 2)
    if many.any():
        sm, km = s[many], k[many]
        xbar = sm / km
        _, mean, var1 = _k_tn(np.zeros(1), c)
        mean, var1 = float(mean[0]), float(var1[0])
        # Newton on K'(t) = xbar; K' is increasing, start from the normal approximation
        t = (xbar - mean) / var1
        for _ in range(80):
            _, k1, k2 = _k_tn(t, c)
            step = (k1 - xbar) / k2
            t = t - np.clip(step, -5.0, 5.0)
            if np.all(np.abs(step) < 1e-12):
                break
        k0, _, k2 = _k_tn(t, c)
        w2 = np.maximum(2.0 * km * (t * xbar - k0), 0.0)
        w = np.sign(t) * np.sqrt(w2)
        v = t * np.sqrt(km * k2)
        near = np.abs(w) < 0.02
        with np.errstate(divide="ignore", invalid="ignore"):
            lr = stats.norm.sf(w) + stats.norm.pdf(w) * (1.0 / v - 1.0 / w)
        normal = stats.norm.sf((sm - km * mean) / np.sqrt(km * var1))
        p = np.where(near | ~np.isfinite(lr), normal, lr)
        out[many] = np.clip(p, 0.0, 1.0)
    return out


def run_sum_p(runs: pd.DataFrame, inflation: float = 1.0, c: float = 0.0) -> np.ndarray:
    """p-value of each run: ``P(H_k >= |sum| / sqrt(inflation))`` with ``H_k`` a sum of ``k``
    i.i.d. ``|Z|`` given ``|Z| > c`` (see :func:`halfnormal_sum_sf`; ``c`` is the threshold the runs
    were formed with in :func:`find_runs`).

    ``inflation`` >= 1 is a variance inflation for positively autocorrelated scores,
    ``(1 + rho) / (1 - rho)`` for a pooled lag-1 correlation ``rho > 0`` (the long-run variance
    of an AR(1)); it makes the test conservative when years are not independent.
    """
    if len(runs) == 0:
        return np.array([], dtype=float)
    s = np.abs(runs["sum"].to_numpy(dtype=float)) / np.sqrt(max(inflation, 1.0))
    return halfnormal_sum_sf(s, runs["k"].to_numpy(dtype=float), c)


def ar_inflation(rho: float, cap: float = 0.9) -> float:
    """Variance inflation ``(1 + rho) / (1 - rho)`` for ``rho > 0`` (1 otherwise), rho capped."""
    r = min(max(rho, 0.0), cap)
    return (1.0 + r) / (1.0 - r)


@dataclass(frozen=True)
class RunScores:
    """Normal scores of a regions x years table through its empirical null, and their tested runs."""

    u: pd.DataFrame            #: normal scores, same shape as the table
    df: float                  #: fitted null t degrees of freedom
    scale: float               #: fitted null scale
    rho: float                 #: pooled lag-1 correlation of the scores
    inflation: float           #: variance inflation used by the run test
    runs: pd.DataFrame         #: runs from :func:`find_runs` (only positive ones when ``positive``)
    p: np.ndarray              #: run p-values from :func:`run_sum_p`
    trimmed_cells: int = 0     #: region-years left out of the refitted null
    trimmed_runs: int = 0      #: discovered runs they belong to
    first_fit: tuple[float, float] | None = None   #: (df, scale) before the refit, if any


def run_scores(z: pd.DataFrame, c: float, trim_q: float = 0.0, positive: bool = False,
               min_runs: int = 3) -> RunScores:
    """Empirical-null scores of ``z`` (regions x years), runs beyond ``c`` and their p-values.

    The Student-t null is fitted to the centre of all finite values (:func:`fit_null`). With
    ``trim_q > 0`` it is refitted once without the region-years of the runs that BH discovers at
    ``q <= trim_q`` among this table's runs, when there are at least ``min_runs`` of them: the
    empirical null describes the null cases (Efron 2010, *Large-Scale Inference*, ch. 6), and many
    anomalous regions at once otherwise widen its tail and hide one another. One or two discoveries
    are as likely the null's own tail (trimming them would make the refitted tail too light), so a
    table with fewer than ``min_runs`` discoveries keeps its first fit.

    Parameters
    ----------
    z : DataFrame
        Standardised statistics, regions x consecutive years (NaN where not tested).
    c : float
        Run threshold of :func:`find_runs`.
    trim_q : float
        BH level of the first pass's discoveries left out of the refit (0: no refit).
    positive : bool
        Test only runs of positive scores.
    min_runs : int
        Fewest discoveries that trigger the refit (the shipped ``null_trim_min_runs``).

    Returns
    -------
    RunScores
        Scores, null parameters, runs and their p-values; ``first_fit`` is set when refitted.
    """
    a = z.to_numpy(dtype=float)

    def once(values: np.ndarray) -> RunScores:
        df_, sc = fit_null(values, 0)
        u = pd.DataFrame(normal_scores(a, df_, sc), index=z.index, columns=z.columns)
        rho = lag1_correlation(u)
        infl = ar_inflation(rho)
        runs = find_runs(u, c)
        if positive:
            runs = runs[runs["sign"] > 0].reset_index(drop=True)
        return RunScores(u, df_, sc, rho, infl, runs, run_sum_p(runs, infl, c))

    keep = np.isfinite(a)
    first = once(a[keep])
    if not (trim_q > 0 and len(first.runs)):
        return first
    found = fdr(first.p) <= trim_q
    if found.sum() < min_runs:
        return first
    for r in first.runs[found].itertuples(index=False):
        keep[r.row, r.c0:r.c1 + 1] = False
    second = once(a[keep])
    return replace(second, trimmed_cells=int(np.isfinite(a).sum() - keep.sum()), trimmed_runs=int(found.sum()),
                   first_fit=(first.df, first.scale))


def trim_note(detector: str, what: str, s: RunScores, trim_q: float) -> str | None:
    """The note a detector adds when :func:`run_scores` refitted its null (None when it did not)."""
    if s.first_fit is None:
        return None
    n, k = s.trimmed_cells, s.trimmed_runs
    return (f"{detector}: {what} null refitted without the {n} region-year{'s' * (n != 1)} of {k} "
            f"run{'s' * (k != 1)} discovered at q <= {trim_q:g} (t df {s.first_fit[0]:.1f} -> {s.df:.1f}, "
            f"scale {s.first_fit[1]:.2f} -> {s.scale:.2f})")


def simes_runs(p: pd.DataFrame, flag: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive flagged years and their Simes p-value.

    Parameters
    ----------
    p : DataFrame
        Regions x years one-sided p-values (NaN = not tested).
    flag : DataFrame
        Same shape, bool: years that qualify (e.g. ``p <= report_p``).

    Returns
    -------
    DataFrame
        ``region_code, sign, start, end, k, p, years`` per run; ``p = min_j k p_(j) / j``.
    """
    u = pd.DataFrame(np.where(flag.to_numpy(dtype=bool), 1.0, np.nan), index=p.index, columns=p.columns)
    runs = find_runs(u)
    if runs.empty:
        return runs.assign(p=pd.Series(dtype=float))
    pa = p.to_numpy(dtype=float)
    pv = []
    for i, a, b in zip(runs["row"], runs["c0"], runs["c1"]):
        ps = np.sort(pa[i, a:b + 1])
        k = len(ps)
        pv.append(float(np.min(k * ps / np.arange(1, k + 1))))
    runs["p"] = np.clip(pv, 0.0, 1.0)
    return runs


def series_dict(row: pd.Series) -> dict[str, float | None]:
    """``{year: value}`` of one row of a regions x years table, None for missing (JSON-able)."""
    return {str(int(k)): (float(v) if np.isfinite(v) else None) for k, v in row.items()}


def period_text(start: int, end: int) -> str:
    """``2012–2015`` or ``2013``."""
    return f"{start}" if start == end else f"{start}–{end}"


def log_growth(s: pd.DataFrame) -> pd.DataFrame:
    """Log growth of a regions x years level table (non-positive levels give NaN)."""
    v = s.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lv = np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)
    g = np.full(v.shape, np.nan)
    g[:, 1:] = lv[:, 1:] - lv[:, :-1]
    return pd.DataFrame(g, index=s.index, columns=s.columns)


class SeriesCache:
    """``panel.series(indicator)`` for every indicator from one reshaping of the panel.

    Same result as :meth:`detect.data.panel.Panel.series` (latest vintage, annual, regions that
    have rows for the indicator, every year between its first and last), but the long table is
    pivoted once instead of filtered once per indicator, which matters on national panels.
    """

    def __init__(self, panel) -> None:
        self.panel = panel
        self._tables: dict[str, pd.DataFrame] = {}
        self._full: pd.DataFrame | None = None
        self._years: pd.DataFrame | None = None

    def _build(self) -> None:
        d = self.panel.latest()
        d = d[d["freq"] == "A"]
        self._full = d.set_index(["indicator", "region_code", "year"])["value"].unstack("year").sort_index()
        self._years = d.groupby("indicator")["year"].agg(["min", "max"])

    def __call__(self, indicator: str) -> pd.DataFrame:
        if indicator not in self._tables:
            if self._full is None:
                self._build()
            if indicator not in self._years.index:
                self._tables[indicator] = pd.DataFrame(dtype="float64")
            else:
                lo, hi = (int(v) for v in self._years.loc[indicator])
                t = self._full.xs(indicator, level="indicator").reindex(columns=list(range(lo, hi + 1)))
                t = t.astype("float64")
                t.index.name = "region_code"
                t.columns.name = None
                self._tables[indicator] = t
        return self._tables[indicator]


def year_dict(years, values) -> dict[str, float | None]:
    """``{year: value}`` from parallel arrays, None for missing (JSON-able)."""
    return {str(int(y)): (float(v) if np.isfinite(v) else None) for y, v in zip(years, values)}


def aligned(long: pd.Series, like: pd.DataFrame) -> np.ndarray:
    """A long ``(region_code, year)`` series as an array aligned with a regions x years table."""
    return long.unstack("year").reindex(index=like.index, columns=like.columns).to_numpy(dtype=float)
