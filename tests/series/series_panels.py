"""Crafted panels for the per-series detector tests (seeded, built directly as Panels)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect.data.panel import PANEL_COLUMNS, Panel


def panel_from_matrix(values: dict[str, np.ndarray], start: int = 2003, parents: list[str] | None = None,
                      raw_decimals: dict[str, int] | None = None) -> Panel:
    """A Panel from ``{indicator: (regions, years) array}`` built directly (no file parsing).

    Region codes are ``"9" + 5 digits``; NaN values are kept as reported-missing figures.
    """
    frames = []
    raw_decimals = raw_decimals or {}
    for ind, m in values.items():
        R, T = m.shape
        codes = np.array([f"9{r:05d}" for r in range(R)])
        years = np.arange(start, start + T)
        v = m.ravel()
        dec = raw_decimals.get(ind, 4)
        frames.append(pd.DataFrame({
            "region_code": np.repeat(codes, T), "region_name": np.repeat(codes, T),
            "parent_code": np.repeat(np.asarray(parents, dtype=object), T) if parents is not None else "",
            "indicator": ind, "period": np.tile(years, R).astype(str), "year": np.tile(years, R).astype("int64"),
            "freq": "A", "value": v, "unit": "", "raw": [("" if not np.isfinite(x) else f"{x:.{dec}f}") for x in v],
            "vintage": "", "source": "test", "row": np.arange(len(v)), "single_point": False,
        }))
    d = pd.concat(frames, ignore_index=True)
    for c in ("region_code", "region_name", "parent_code", "indicator", "period", "freq", "unit", "raw", "vintage",
              "source"):
        d[c] = d[c].astype(object)
    return Panel(d[list(PANEL_COLUMNS)])


def random_walk_levels(rng: np.random.Generator, R: int, T: int, drift: float = 0.07, sd: float = 0.03,
                       common: np.ndarray | None = None) -> np.ndarray:
    """Log random walks with drift (and optional common year shocks), as levels around 100."""
    g = drift + rng.normal(0.0, sd, (R, T))
    if common is not None:
        g = g + common[None, :]
    return 100.0 * np.exp(np.cumsum(g, axis=1))


