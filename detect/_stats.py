"""Small statistical helpers shared by detectors (pure functions, vectorised)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: 1 / Phi^-1(3/4): makes the median absolute deviation a consistent estimator of sigma for normal data.
MAD_TO_SD = 1.482602218505602


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
    """Fit a Student-t null to pooled robust z-scores (location fixed at 0): ``(df, scale)``.

    Efron's empirical-null idea (Efron 2004, JASA 99:96-104): calibrate p-values on the bulk of the
    statistics actually observed rather than on a theoretical N(0, 1), which over-flags when the
    tails are heavier than normal. Outliers in ``z`` make the fitted tails heavier, so the p-values
    err on the conservative side. With fewer than ``min_n`` values returns (inf, 1) (normal).
    """
    z = np.asarray(z, dtype=float)
    z = z[np.isfinite(z)]
    if len(z) < min_n:
        return float("inf"), 1.0
    df, _, scale = stats.t.fit(z, floc=0.0)
    df = float(np.clip(df, 2.0, 1e6))
    return df, float(scale)


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
