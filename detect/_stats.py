"""Small statistical helpers shared by detectors (pure functions, vectorised)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

#: 1 / Phi^-1(3/4): makes the median absolute deviation a consistent estimator of sigma for normal data.
MAD_TO_SD = 1.482602218505602
#: Gaussian efficiency of the MAD as a scale estimator (Rousseeuw & Croux 1993, JASA 88:1273-1283). Our
#: approximation (not a result of that paper): a z scaled by the MAD of n values has tails like a
#: Student t on about 0.37 (n - 1) degrees of freedom, as a z scaled by a variance estimate on that
#: many effective degrees of freedom would.
MAD_EFFICIENCY = 0.3675


def robust_z(x: pd.Series, groups: list[pd.Series] | pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Robust z-scores within groups: ``(x - median) / (1.4826 * MAD)``.

    Returns
    -------
    z, center, scale, n : Series aligned with ``x`` (NaN where the group's scale is zero or x is NaN)
    """
    g = x.groupby(groups, sort=False)
    center = g.transform("median")
    dev = (x - center).abs()
    scale = dev.groupby(groups, sort=False).transform("median") * MAD_TO_SD
    n = g.transform("count")
    z = (x - center) / scale.where(scale > 0)
    return z, center, scale, n


def empirical_null_t(z: np.ndarray, min_n: int = 30) -> tuple[float, float]:
    """Fit a Student-t null to pooled robust z-scores by maximum likelihood (location 0): ``(df, scale)``.

    Outliers in ``z`` make the fitted tails heavier, so the p-values err on the conservative side —
    at the price of hiding a few very large values in small pools; :func:`empirical_null_central`
    fits the centre instead. With fewer than ``min_n`` values returns (inf, 1) (normal).
    """
    z = np.asarray(z, dtype=float)
    z = z[np.isfinite(z)]
    if len(z) < min_n:
        return float("inf"), 1.0
    df, _, scale = stats.t.fit(z, floc=0.0)
    df = float(np.clip(df, 2.0, 1e6))
    return df, float(scale)


def empirical_null_central(z: np.ndarray, min_n: int = 30, quantiles: tuple[float, float] = (0.5, 0.9),
                           max_df: float = float("inf")) -> tuple[float, float]:
    """Student-t empirical null ``(df, scale)`` of pooled statistics, fitted to their central part.

    Efron's empirical null (Efron 2004, JASA 99:96-104) is estimated from the centre of the
    distribution so that the anomalies being looked for do not shape it: the quantiles of ``|z|``
    at ``quantiles`` (median and 90th percentile) are matched to those of ``|t_df| * scale``. The
    ratio of the two fixes ``df`` (``inf``, i.e. normal, when it is no wider than the normal's; at
    least 2), the median fixes ``scale``. A maximum-likelihood fit instead lets a few planted
    20-sigma values pull ``df`` down to about 2 and hide themselves. With fewer than ``min_n``
    values returns (inf, 1) (the theoretical normal; t with ``max_df`` when capped). ``max_df`` caps the degrees of freedom when
    the tails are known to be at least that heavy; the scale is then matched to the median with the
    capped ``df``.
    """
    a = np.abs(np.asarray(z, dtype=float))
    a = a[np.isfinite(a)]
    if len(a) < min_n:   # too few to fit: the theoretical null, with the known heavier tail if any
        return (float(max(2.0, max_df)) if np.isfinite(max_df) else float("inf")), 1.0
    q_lo, q_hi = np.quantile(a, quantiles)
    if not q_lo > 0:
        return float("inf"), 1.0
    p_lo, p_hi = (1.0 + quantiles[0]) / 2.0, (1.0 + quantiles[1]) / 2.0
    if np.isfinite(max_df):
        df, _ = empirical_null_central(a, min_n, quantiles)
        df = float(max(2.0, min(df, max_df)))
        return df, float(q_lo / stats.t.ppf(p_lo, df))
    ratio = q_hi / q_lo
    normal_ratio = stats.norm.ppf(p_hi) / stats.norm.ppf(p_lo)
    if ratio <= normal_ratio:
        return float("inf"), float(q_lo / stats.norm.ppf(p_lo))

    def gap(log_df: float) -> float:
        df = np.exp(log_df)
        return stats.t.ppf(p_hi, df) / stats.t.ppf(p_lo, df) - ratio

    lo, hi = np.log(2.0), np.log(1e6)
    if gap(lo) <= 0:
        df = 2.0
    elif gap(hi) >= 0:
        return float("inf"), float(q_lo / stats.norm.ppf(p_lo))
    else:
        df = float(np.exp(optimize.brentq(gap, lo, hi, xtol=1e-10)))
    return df, float(q_lo / stats.t.ppf(p_lo, df))


def two_sided_t_p(z: np.ndarray, df: float, scale: float) -> np.ndarray:
    """Two-sided p-value of ``z`` under t(df) scaled by ``scale`` (normal when df is infinite)."""
    z = np.abs(np.asarray(z, dtype=float)) / scale
    if np.isinf(df):
        return 2.0 * stats.norm.sf(z)
    return 2.0 * stats.t.sf(z, df)


def fmt_p(p: float) -> str:
    """p-value for a sentence: 'p = 0.003', 'p < 0.0001'."""
    if not np.isfinite(p):
        return "p n/a"
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.4f}" if p < 0.01 else f"p = {p:.3f}"


def fmt_pct(x: float, digits: int = 1) -> str:
    """A ratio as per cent text: 0.183 -> '18.3 %'."""
    return f"{100 * x:.{digits}f} %" if np.isfinite(x) else "n/a"
