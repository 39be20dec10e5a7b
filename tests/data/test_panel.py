"""Panel's rich (HTML) view for notebooks: the counts an analyst checks first, with text escaped."""

from __future__ import annotations

import pandas as pd
from _html_tables import tables

from detect.data.panel import Panel

HOSTILE = "<script>alert('x')</script>"


def _panel() -> Panel:
    rows = []
    # three regions x gdp 2010-2012 (9 rows) + tax_revenue for two regions 2010-2012 (6 rows)
    # + tax_revenue for the third region in 2011 only: a single-point series (1 row) -> 16 rows
    for code, name in (("110000", "Alpha"), ("120000", HOSTILE), ("130000", "Gamma")):
        for y in (2010, 2011, 2012):
            rows.append((code, name, "", "gdp", str(y), 100.0 + y - 2010, "亿元"))
            if code != "130000":
                rows.append((code, name, "", "tax_revenue", str(y), 10.0 + y - 2010, "亿元"))
    rows.append(("130000", "Gamma", "", "tax_revenue", "2011", 12.5, "亿元"))
    df = pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator", "period", "value",
                                     "unit"])
    return Panel.from_frame(df)


def test_panel_html_shows_the_counts():
    panel = _panel()
    assert len(panel) == 16
    summary, catalogue, regions = tables(panel._repr_html_())
    assert summary == [{"regions": "3", "indicators": "2", "years": "3 (2010–2012)", "rows": "16",
                        "single-point series": "1"}]
    assert [(r["indicator"], r["n_regions"], r["n_values"]) for r in catalogue] == [("gdp", "3", "9"),
                                                                                    ("tax_revenue", "3", "7")]
    assert [r["region_code"] for r in regions] == ["110000", "120000", "130000"]


def test_panel_html_escapes_region_names():
    html = _panel()._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    regions = tables(html)[2]
    assert regions[1]["region_name"] == HOSTILE      # shown as text, not run


def test_empty_panel_html():
    summary = tables(Panel.empty()._repr_html_())[0]
    assert summary == [{"regions": "0", "indicators": "0", "years": "0 (none)", "rows": "0",
                        "single-point series": "0"}]
