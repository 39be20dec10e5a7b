"""Shared pieces of the per-series detectors (pure, vectorised over all regions at once).

* :func:`log_growth_matrix` - regions x years log growth of a level indicator.
* :func:`peer_adjust` - subtract the same-year peer median growth (common shocks such as 2009 and
  2020 then do not look like breaks in every region).
* :func:`longest_runs` / :func:`extract_runs` - the longest stretch of consecutive finite values
  of each row, so that series with gaps can still be stacked into equal-length blocks.
* :func:`series_dict` - ``{year: value}`` for a finding's evidence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect.config import Config, threshold
from detect.data.panel import Panel
from detect.data.units import INDICATOR_DIMENSION

#: Indicators whose log growth is not meaningful (rates, targets, concentrations).
NON_LEVEL = frozenset({"growth_target", "gdp_real_growth", "pm25", "tax_per_mu", "input_output_ratio"})


def suspects(panel: Panel, config: Config, detector: str) -> tuple[list[str], list[str]]:
    """The panel's indicators a per-series detector screens, and a note naming the yardsticks left out.

    Yardsticks (``[series] yardsticks``: physical proxies and denominators) are what reported
    figures are checked against, not suspects; a user can empty the list to screen everything.
    """
    yard = {str(i) for i in threshold("series.yardsticks", config)}
    inds = list(panel.indicators)
    left = [i for i in inds if i in yard]
    notes = ([f"{detector}: {', '.join(left)} not screened (yardsticks: proxies and denominators, "
              f"[series] yardsticks)"] if left else [])
    return [i for i in inds if i not in yard], notes


def is_level_indicator(ind: str) -> bool:
    """True for indicators measured as positive levels (money, energy, mass, people, unknown)."""
    return ind not in NON_LEVEL and INDICATOR_DIMENSION.get(ind) not in ("percent", "concentration")


def log_matrix(series: pd.DataFrame) -> np.ndarray:
    """``log`` of a regions x years table; non-positive or missing values give NaN."""
    v = series.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)


def peer_groups(panel: Panel, codes: pd.Index, mode: str) -> np.ndarray:
    """Peer-group label of each region: its hierarchy level (``"level"``) or parent (``"parent"``)."""
    reg = panel.regions.set_index("region_code")
    if mode == "parent":
        key = reg["parent_code"].astype(str) + "|" + reg["level"].astype(str)
    elif mode == "level":
        key = reg["level"].astype(str)
    else:
        from detect.exceptions import UsageError

        raise UsageError(f"peers must be 'level' or 'parent', got {mode!r}")
    return key.reindex(codes).fillna("?").astype(str).to_numpy()


def peer_adjust(g: np.ndarray, groups: np.ndarray, min_peers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Subtract the same-year peer median from each growth rate.

    Parameters
    ----------
    g : (n_regions, n_periods) array
        Growth rates (NaN where missing).
    groups : (n_regions,) array of str
        Peer-group label of each region.
    min_peers : int
        Below this many regions with growth in a year, that year's median is not used (the growth
        is left unadjusted for that group and year).

    Returns
    -------
    adjusted, median, n_peers : arrays shaped like ``g``
    """
    med = np.zeros_like(g)
    n = np.zeros(g.shape, dtype=int)
    for grp in np.unique(groups):
        rows = groups == grp
        block = g[rows]
        cnt = np.isfinite(block).sum(axis=0)
        with np.errstate(all="ignore"):
            m = np.nanmedian(np.where(np.isfinite(block), block, np.nan), axis=0) if block.size else cnt * 0.0
        m = np.where((cnt >= min_peers) & np.isfinite(m), m, 0.0)
        med[rows] = m
        n[rows] = cnt
    return g - med, med, n


def longest_runs(finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of the longest run of True in each row (first one on ties)."""
    n_rows, n_cols = finite.shape
    start = np.zeros(n_rows, dtype=int)
    length = np.zeros(n_rows, dtype=int)
    cur_len = np.zeros(n_rows, dtype=int)
    cur_start = np.zeros(n_rows, dtype=int)
    for j in range(n_cols):
        ok = finite[:, j]
        cur_start = np.where(ok & (cur_len == 0), j, cur_start)
        cur_len = np.where(ok, cur_len + 1, 0)
        better = cur_len > length
        length = np.where(better, cur_len, length)
        start = np.where(better, cur_start, start)
    return start, length


def extract_runs(x: np.ndarray, rows: np.ndarray, start: np.ndarray, length: int) -> np.ndarray:
    """``x[rows[i], start[i]:start[i]+length]`` stacked into a (len(rows), length) array."""
    cols = start[:, None] + np.arange(length)[None, :]
    return x[rows[:, None], cols]


def series_dict(row: pd.Series) -> dict[str, float | None]:
    """``{year: value}`` with None for missing values (JSON-able evidence)."""
    return {str(k): (None if not np.isfinite(v) else float(v)) for k, v in row.items()}


_SERIES_CACHE: dict[int, tuple[pd.DataFrame, dict[str, pd.DataFrame]]] = {}


def annual_series(panel: Panel) -> dict[str, pd.DataFrame]:
    """Every indicator's regions x years table at once (as :meth:`Panel.series` gives one).

    One pass over the data instead of one filter per indicator (``Panel.series`` compares the
    whole text column each time, about 0.1 s per call on a national panel). The result is cached
    for the panel's data frame object (the per-series detectors of one run share it; the two most
    recent frames are kept). Treat the tables as read-only, and do not modify ``panel.data`` in
    place between detector runs (build a new Panel instead, as every caller does).
    """
    d = panel.data
    hit = _SERIES_CACHE.get(id(d))
    if hit is not None and hit[0] is d:
        return hit[1]
    out: dict[str, pd.DataFrame] = {}
    lat = panel.latest()
    lat = lat[(lat["freq"].astype(str) == "A").to_numpy()]
    if len(lat):
        ind_codes, ind_names = pd.factorize(lat["indicator"].astype(str), sort=True)
        reg_codes, reg_names = pd.factorize(lat["region_code"].astype(str), sort=True)
        years = lat["year"].to_numpy(dtype=np.int64)
        vals = lat["value"].to_numpy(dtype=float)
        for k, name in enumerate(ind_names):
            m = ind_codes == k
            rr, yy, vv = reg_codes[m], years[m], vals[m]
            present = np.unique(rr)
            pos = np.searchsorted(present, rr)
            y0, y1 = int(yy.min()), int(yy.max())
            mat = np.full((len(present), y1 - y0 + 1), np.nan)
            mat[pos, yy - y0] = vv
            df = pd.DataFrame(mat, index=pd.Index(np.asarray(reg_names)[present], name="region_code"),
                              columns=list(range(y0, y1 + 1)))
            out[str(name)] = df
    if len(_SERIES_CACHE) >= 2:  # keeps at most two panels alive
        _SERIES_CACHE.clear()
    _SERIES_CACHE[id(d)] = (d, out)
    return out


def get_series(panel: Panel, indicator: str) -> pd.DataFrame:
    """:meth:`Panel.series` of one indicator from :func:`annual_series` (empty frame when absent)."""
    return annual_series(panel).get(indicator, pd.DataFrame(dtype="float64"))
