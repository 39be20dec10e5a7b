"""The prefecture debt atlas (official-source rows): adapter, grade table, agreement with the
upstream formula_registry.csv ratios, and the two upstream limit<balance exceptions.

The atlas is not redistributable; these tests read it from ../shared/data and skip when it is absent.
"""

from __future__ import annotations

import json
import numpy as np
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


def test_detect_run_on_the_atlas_reports_the_published_figures(atlas, tmp_path):
    """End to end through the file loader and the pipeline (what `detect run` reports), against ratios
    recomputed by hand from the published numerators and denominators (atlas A1/A2 rows, 亿元):

    * 营口 (210800) 2025: 法定债务 1,434.40 / GDP 1,570.20 = 91.35 % (upstream statutory_debt_to_gdp_pct 91.35);
    * 乌兰察布 (150900) 2023: 933.58 / 1,085 = 86.04 % (upstream 86.04), above 60 % every year 2018-2023
      (2018: 552.51 / 764.52 = 72.27 %);
    * 营口 2018: 807.00 / 1,346.72 = 59.92 % — below the line, so its run starts in 2019;
    * 巴彦淖尔 (150800) 2018: balance 305.52 above its limit 290.57 (105.1 %).
    """
    from detect.debt.atlas import atlas_long as _long
    from detect.pipeline import run

    folder, df, _, _ = atlas
    path = tmp_path / "atlas_long.csv"
    _long(df).to_csv(path, index=False)
    cfg = CFG.with_(detectors=("debt_ratios", "debt_identity", "debt_surge"))
    res = run([path], cfg)
    f = res.findings
    f = f.assign(region_code=f["region_code"].astype(str), period_start=f["period_start"].astype(str),
                 period_end=f["period_end"].astype(str))
    gdp = f[(f["detector"] == "debt_ratios") & (f["indicator"] == "debt_to_gdp")].set_index(
        ["region_code", "period_start", "period_end"])
    assert gdp.loc[("210800", "2025", "2025"), "statistic"] == pytest.approx(1434.40 / 1570.20, abs=1e-6)
    assert gdp.loc[("210800", "2019", "2023"), "statistic"] == pytest.approx(1202.09 / 1479.0, abs=1e-6)
    assert gdp.loc[("150900", "2018", "2023"), "statistic"] == pytest.approx(933.58 / 1085.0, abs=1e-6)
    ev = res.findings.set_index("finding_id").loc[gdp.loc[("150900", "2018", "2023"), "finding_id"], "evidence"]
    ev = json.loads(ev) if isinstance(ev, str) else ev
    assert ev["series"]["2018"] == pytest.approx(552.51 / 764.52, abs=1e-6)
    assert "86.0 %" in gdp.loc[("150900", "2018", "2023"), "summary"]
    br = f[f["kind"] == "limit_breach"] if "kind" in f.columns else f[f["indicator"] == "limit_utilisation"]
    row = br[(br["region_code"] == "150800") & (br["period_start"] == "2018")].iloc[0]
    assert row["statistic"] == pytest.approx(305.52 / 290.57, abs=1e-6)
    # 深圳 (440300): 法定债务 145.92 (2018) -> 2,082.88 亿元 (2022), +1,327 %, while general budget revenue rose
    # 3,538.41 -> 4,012.44 (+13 %) and GDP 24,221.98 -> 32,388 (+34 %): the atlas's steepest rise
    sz = f[(f["detector"] == "debt_surge") & (f["region_code"] == "440300")]
    assert len(sz) == 1 and (sz["period_start"].iat[0], sz["period_end"].iat[0]) == ("2019", "2022")
    text = sz["summary"].iat[0]
    assert "Debt rose 1327 %" in text and "revenue rose 13 %" in text and "GDP 34 %" in text
    # no debt finding carries an infinite or missing statistic
    debt = f[f["detector"].isin(["debt_ratios", "debt_identity"])]
    assert np.isfinite(debt["statistic"].to_numpy(dtype=float)).all()
