"""The prefecture debt atlas (official-source rows): adapter, grade table, agreement with the
upstream formula_registry.csv ratios, and the two upstream limit<balance exceptions.

The atlas is not redistributable; these tests read it from ../shared/data and skip when it is absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detect.config import load_config
from detect.debt import compute_ratios
from detect.debt.atlas import UPSTREAM_RATIOS, atlas_long, compare_upstream, grade_table, read_atlas
from detect.debt.identity import DebtIdentity
from detect.data.panel import Panel

CFG = load_config()
#: Upstream derived columns are rounded to 0.01 percentage points; our ratios are exact, so they may
#: differ by half a unit of the last published digit (plus float error).
TOLERANCE_PP = 0.005 + 1e-6


@pytest.fixture(scope="module")
def atlas(shared_data):
    folder = shared_data / "china-prefecture-debt-atlas"
    if not (folder / "city_macro_fiscal.csv").is_file():
        pytest.skip(f"reference file {folder / 'city_macro_fiscal.csv'} is absent")
    df = read_atlas(folder)
    panel = Panel.from_frame(atlas_long(df))
    return folder, df, panel, compute_ratios(panel, CFG)


def test_adapter_keeps_every_official_value(atlas):
    _, df, panel, _ = atlas
    assert set(df["source_grade"]) <= {"A1", "A2"} and len(df) == 1665
    assert panel.meta["rows_excluded"] == 0
    n_values = int(df[["statutory_debt_balance_100m", "gdp_current_100m", "general_public_revenue_100m"]].notna().sum().sum())
    d = panel.data
    assert int(d["indicator"].isin(["debt_balance", "gdp", "fiscal_revenue"]).sum()) == n_values


@pytest.mark.parametrize("upstream,ratio", sorted(UPSTREAM_RATIOS.items()))
def test_ratios_agree_with_upstream_formula_registry(atlas, upstream, ratio):
    _, df, _, res = atlas
    cmp = compare_upstream(df, res)
    c = cmp[cmp["upstream_column"] == upstream]
    both = c["upstream_pct"].notna() & c["ours_pct"].notna()
    # computable exactly where upstream computed it
    assert (c["upstream_pct"].notna() == c["ours_pct"].notna()).all()
    assert both.sum() > 1000
    assert np.abs(c.loc[both, "diff_pct"]).max() <= TOLERANCE_PP


def test_breach_check_finds_the_two_upstream_exceptions(atlas):
    _, _, panel, _ = atlas
    out = DebtIdentity().run(panel, CFG)
    breaches = sorted((f.region_code, f.period_start, f.period_end) for f in out if f.kind == "limit_breach")
    assert breaches == [("150800", "2018", "2018"), ("650400", "2024", "2024")]
    assert all(f.severity_hint == "high" for f in out if f.kind == "limit_breach")


def test_grade_table_and_why_debt_ratio_is_not_computable(atlas):
    _, _, _, res = atlas
    g = grade_table(res)
    assert {"debt_to_gdp", "debt_to_revenue", "limit_utilisation", "self_sufficiency", "debt_ratio_reason"} <= set(g.columns)
    assert g["region_code"].nunique() > 250
    assert g["debt_ratio"].isna().all()
    # no transfers in the atlas: 债务率 (debt / 综合财力) is not computable, and says so
    assert g["debt_ratio_reason"].str.contains("transfer_revenue not in the panel").all()
    assert g["limit_breach"].sum() == 2
    row = g[(g.region_code == "650400") & (g.year == 2024)].iloc[0]
    assert row["limit_utilisation"] == pytest.approx(298.92 / 288.08)
