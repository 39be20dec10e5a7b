"""The Panel: the one data type every detector reads.

A tidy table of reported figures, one row per (region, indicator, period[, vintage]), with values
in each indicator's base unit, plus an indicator catalogue and a region table with the hierarchy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable

import numpy as np
import pandas as pd

from detect.data.aliases import INDICATORS, label

#: Columns of ``Panel.data``.
PANEL_COLUMNS: tuple[str, ...] = (
    "region_code", "region_name", "parent_code", "indicator", "period", "year", "freq", "value",
    "unit", "raw", "vintage", "source", "row", "single_point",
)


@dataclass
class Panel:
    """Reported regional figures in tidy form.

    Parameters
    ----------
    data : DataFrame
        Columns :data:`PANEL_COLUMNS`. ``value`` is in the indicator's base unit (NaN where the input
        said the figure is missing); ``raw`` is the number as reported (cleaned text, before unit
        conversion), for exact digit tests; ``freq`` is ``A``, ``Q`` or ``M``; ``source`` / ``row``
        point back to the input; ``single_point`` marks series with one value only.

    Notes
    -----
    Build one with :func:`detect.data.load` (files) or :meth:`Panel.from_frame` (a DataFrame);
    both validate and record every excluded row.
    """

    data: pd.DataFrame
    meta: dict = field(default_factory=dict)

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_frame(cls, df: pd.DataFrame, source: str = "<frame>") -> "Panel":
        """Validate a long or wide DataFrame into a Panel (exclusions in ``panel.meta``).

        Raises
        ------
        InputError
            When required columns are missing.
        """
        from detect.data.load import frame_to_panel

        return frame_to_panel(df, source=source).panel

    @classmethod
    def empty(cls) -> "Panel":
        """A panel with no rows (every detector must accept it)."""
        return cls(pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in PANEL_COLUMNS}))

    # --- views -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return (f"Panel({self.data['region_code'].nunique()} regions, {len(self.indicators)} indicators, "
                f"{len(self.data)} rows)")

    def _repr_html_(self) -> str:
        """Jupyter view: counts of regions, indicators, years, rows and single-point series, the
        indicators and the first regions (text escaped)."""
        d = self.data
        years = f"{d['year'].min()}–{d['year'].max()}" if len(d) else "none"
        single = len(d.loc[d["single_point"], ["region_code", "indicator"]].drop_duplicates()) if len(d) else 0
        summary = pd.DataFrame({"regions": [d["region_code"].nunique()], "indicators": [len(self.indicators)],
                                "years": [f"{d['year'].nunique()} ({years})"], "rows": [len(d)],
                                "single-point series": [single]})
        cat = self.catalogue[["indicator", "label_en", "unit", "n_regions", "n_values", "n_missing"]]
        reg = self.regions[["region_code", "region_name", "parent_code", "level"]].head(5)
        return ("<div><strong>Panel</strong>" + summary.to_html(index=False, escape=True, border=0)
                + cat.to_html(index=False, escape=True, border=0)
                + f"<p>First {len(reg)} of {len(self.regions)} regions</p>"
                + reg.to_html(index=False, escape=True, border=0) + "</div>")

    @cached_property
    def indicators(self) -> list[str]:
        """Indicators present, sorted."""
        return sorted(self.data["indicator"].unique().tolist())

    @cached_property
    def regions(self) -> pd.DataFrame:
        """One row per region: ``region_code, region_name, parent_code, level`` (0 = top of the
        hierarchy; a region whose parent is in the panel has its parent's level + 1)."""
        d = self.data
        if len(d) == 0:
            return pd.DataFrame({"region_code": pd.Series(dtype=object), "region_name": pd.Series(dtype=object),
                                 "parent_code": pd.Series(dtype=object), "level": pd.Series(dtype="int64")})
        reg = (d.groupby("region_code", sort=True)
               .agg(region_name=("region_name", "first"), parent_code=("parent_code", "first"))
               .reset_index())
        parent = dict(zip(reg["region_code"], reg["parent_code"]))
        levels = {}
        for code in reg["region_code"]:
            lvl, cur, seen = 0, code, {code}
            while parent.get(cur) and parent[cur] in parent and parent[cur] not in seen:
                cur = parent[cur]
                seen.add(cur)
                lvl += 1
            levels[code] = lvl
        reg["level"] = reg["region_code"].map(levels).astype("int64")
        return reg

    @cached_property
    def catalogue(self) -> pd.DataFrame:
        """One row per indicator: known canonical or not, unit, labels, counts and period range."""
        d = self.data
        rows = []
        for ind, g in d.groupby("indicator", sort=True):
            vals = g["value"]
            rows.append({
                "indicator": ind,
                "known": ind in INDICATORS,
                "label_en": label(ind, "en"),
                "label_zh": label(ind, "zh"),
                "unit": g["unit"].mode().iat[0] if g["unit"].notna().any() else "",
                "n_regions": g["region_code"].nunique(),
                "n_values": int(vals.notna().sum()),
                "n_missing": int(vals.isna().sum()),
                "n_single_point_series": int(g.loc[g["single_point"], "region_code"].nunique()),
                "first_period": g["period"].min(),
                "last_period": g["period"].max(),
            })
        return pd.DataFrame(rows, columns=["indicator", "known", "label_en", "label_zh", "unit", "n_regions",
                                           "n_values", "n_missing", "n_single_point_series", "first_period",
                                           "last_period"])

    def region_name(self, code: str) -> str:
        """Name of a region (its code when the panel has no name)."""
        m = self.regions.set_index("region_code")["region_name"]
        return str(m.get(code, code))

    def latest(self) -> pd.DataFrame:
        """Data with only the latest vintage of each figure (all rows when there are no vintages)."""
        d = self.data
        if d["vintage"].eq("").all():
            return d
        d = d.sort_values(["region_code", "indicator", "period", "vintage"], kind="mergesort")
        return d.drop_duplicates(["region_code", "indicator", "period"], keep="last")

    def series(self, indicator: str, freq: str = "A") -> pd.DataFrame:
        """Regions x periods table of one indicator (latest vintage), float, NaN where missing.

        For annual data the columns are integer years, all years between the first and the last
        present (gaps are NaN columns), sorted; the index is ``region_code`` sorted.
        """
        d = self.latest()
        d = d[(d["indicator"] == indicator) & (d["freq"] == freq)]
        if len(d) == 0:
            return pd.DataFrame(dtype="float64")
        key = "year" if freq == "A" else "period"
        wide = d.pivot(index="region_code", columns=key, values="value").sort_index()
        if freq == "A":
            years = range(int(wide.columns.min()), int(wide.columns.max()) + 1)
            wide = wide.reindex(columns=list(years))
        wide.columns.name = None
        return wide.astype("float64")

    def wide(self, indicators: Iterable[str] | None = None, freq: str = "A") -> pd.DataFrame:
        """(region_code, year) x indicators table (latest vintage), for cross-indicator checks."""
        d = self.latest()
        d = d[d["freq"] == freq]
        if indicators is not None:
            d = d[d["indicator"].isin(list(indicators))]
        key = "year" if freq == "A" else "period"
        if len(d) == 0:
            return pd.DataFrame(dtype="float64")
        out = d.pivot_table(index=["region_code", key], columns="indicator", values="value",
                            aggfunc="first", dropna=False).sort_index()
        out.columns.name = None
        return out.astype("float64")

    def subset(self, regions: Iterable[str] | None = None, indicators: Iterable[str] | None = None) -> "Panel":
        """A panel with only some regions and / or indicators."""
        d = self.data
        if regions is not None:
            d = d[d["region_code"].isin(list(regions))]
        if indicators is not None:
            d = d[d["indicator"].isin(list(indicators))]
        return Panel(d.reset_index(drop=True), dict(self.meta))

    def children(self, code: str) -> list[str]:
        """Codes of the regions whose parent is ``code``."""
        r = self.regions
        return r.loc[r["parent_code"] == code, "region_code"].tolist()

    def has_chinese_names(self) -> bool:
        """True when most region names contain CJK characters (the report then defaults to Chinese)."""
        names = self.regions["region_name"].astype(str)
        if len(names) == 0:
            return False
        return bool(names.str.contains(r"[\u4e00-\u9fff]", regex=True).mean() >= 0.5)


def _dtype(col: str) -> str:
    return {"year": "int64", "value": "float64", "row": "int64", "single_point": "bool"}.get(col, "object")


def empty_like_columns() -> dict[str, np.dtype]:
    """dtypes of the panel columns."""
    return {c: np.dtype(_dtype(c)) for c in PANEL_COLUMNS}
