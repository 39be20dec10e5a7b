"""Crafted panels with known answers for the panel detectors (seeded, small, fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detect.data.panel import Panel


def make_frame(n_parents: int = 6, n_children: int = 10, years: range = range(2004, 2020), seed: int = 1,
               with_parents: bool = True) -> pd.DataFrame:
    """A clean long frame: prefectures under provinces, the provinces' additive figures the exact
    sum of their children's (rounded to 2 decimals like a yearbook).

    Children: gdp, gdp_secondary, electricity, rail_freight, fiscal_revenue, tax_revenue,
    nontax_revenue, vat_revenue, debt_balance, pm25. Growth follows region and year effects plus
    i.i.d. noise; GDP growth = 0.1 + year effect + 0.8 (electricity growth - its mean) + noise.
    """
    rng = np.random.default_rng(seed)
    yrs = np.array(list(years))
    ny = len(yrs)
    n = n_parents * n_children
    year_fx = rng.normal(0, 0.02, ny)
    reg_fx = rng.normal(0, 0.01, n)
    g_el = 0.07 + reg_fx[:, None] * 0.5 + year_fx[None, :] + rng.normal(0, 0.03, (n, ny))
    g_gdp = 0.09 + reg_fx[:, None] + year_fx[None, :] + 0.8 * (g_el - g_el.mean()) + rng.normal(0, 0.015, (n, ny))
    g_fr = 0.5 * g_gdp + 0.5 * (g_gdp + rng.normal(0, 0.02, (n, ny)))
    g_sec = g_gdp + rng.normal(0, 0.015, (n, ny))
    g_rail = 0.03 + 0.6 * (g_el - g_el.mean()) + rng.normal(0, 0.04, (n, ny))
    g_pm = -0.02 + year_fx[None, :] + rng.normal(0, 0.04, (n, ny))
    share = np.clip(rng.normal(0.25, 0.04, n)[:, None] + rng.normal(0, 0.012, (n, ny)), 0.05, 0.6)
    lvl = lambda g, base: base[:, None] * np.exp(np.cumsum(g, axis=1))  # noqa: E731
    base = rng.lognormal(6.5, 0.6, n)
    gdp = lvl(g_gdp, base)
    data = {
        "gdp": gdp,
        "gdp_secondary": lvl(g_sec, 0.45 * base),
        "electricity": lvl(g_el, base / 12.0),
        "rail_freight": lvl(g_rail, base * 2.0),
        "pm25": lvl(g_pm, rng.uniform(30, 80, n)),
        "debt_balance": lvl(0.1 + rng.normal(0, 0.05, (n, ny)), 0.2 * base),
    }
    fr = lvl(g_fr, 0.09 * base)
    data["fiscal_revenue"] = fr
    data["nontax_revenue"] = fr * share
    data["tax_revenue"] = fr - data["nontax_revenue"]
    data["vat_revenue"] = data["tax_revenue"] * np.clip(0.4 + rng.normal(0, 0.01, (n, ny)), 0.2, 0.6)
    rows = []
    for i in range(n):
        p = i // n_children
        code = f"{11 + p:02d}{(i % n_children) + 1:02d}00"
        parent = f"{11 + p:02d}0000"
        for ind, arr in data.items():
            for j, y in enumerate(yrs):
                rows.append((code, f"City{i}", parent, ind, str(y), round(float(arr[i, j]), 2)))
    df = pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator", "period", "value"])
    if with_parents:
        add = df[~df["indicator"].isin(["pm25"])]
        par = add.groupby(["parent_code", "indicator", "period"], as_index=False)["value"].sum()
        par = par.rename(columns={"parent_code": "region_code"})
        par["value"] = par["value"].round(2)
        par["region_name"] = "Prov" + par["region_code"].str[:2]
        par["parent_code"] = ""
        df = pd.concat([df, par[df.columns]], ignore_index=True)
    return df


def to_panel(df: pd.DataFrame) -> Panel:
    return Panel.from_frame(df)


def scale(df: pd.DataFrame, code: str, indicator: str, years, factor) -> pd.DataFrame:
    """Multiply one region's indicator in some years (a planted anomaly)."""
    df = df.copy()
    m = (df["region_code"] == code) & (df["indicator"] == indicator) & df["period"].isin([str(y) for y in years])
    df.loc[m, "value"] = (df.loc[m, "value"] * factor).round(2)
    return df


@pytest.fixture(scope="module")
def clean_frame() -> pd.DataFrame:
    return make_frame()


def best_p(findings, codes, indicator: str) -> np.ndarray:
    """Each region of ``codes``: the smallest p-value of its findings on ``indicator`` (1 when none)."""
    best: dict[str, float] = {}
    for f in findings:
        if f.region_code in codes and f.indicator == indicator:
            best[f.region_code] = min(best.get(f.region_code, 1.0), f.p_value)
    return np.array([best.get(c, 1.0) for c in codes])


class _Kit:
    """The helpers of this module, handed to tests as the ``kit`` fixture (no test-module imports)."""

    make_frame = staticmethod(make_frame)
    to_panel = staticmethod(to_panel)
    scale = staticmethod(scale)
    best_p = staticmethod(best_p)


@pytest.fixture(scope="session")
def kit() -> _Kit:
    return _Kit()


@pytest.fixture(scope="session")
def config():
    from detect.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def clean_panels() -> list[Panel]:
    """Three clean prefecture panels (60 regions x 16 years, seeds 0-2), built once per session."""
    return [to_panel(make_frame(seed=s, with_parents=False)) for s in range(3)]
