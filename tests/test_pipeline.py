"""The pipeline: RunResult's rich (HTML) view for notebooks, and a whole screen of real provincial data (Liaoning)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from _html_tables import tables

import detect
from detect.data.panel import Panel
from detect.pipeline import RunResult

HOSTILE = "<script>alert('x')</script>"


def _result() -> RunResult:
    findings = pd.DataFrame({"severity": ["high", "high", "medium", "low", "low", "low", "info"]})
    regions = pd.DataFrame({
        "region_code": [f"1{i}0000" for i in range(7)],
        "region_name": [HOSTILE, "B", "C", "D", "E", "F", "G"],
        "rank": range(1, 8),
        "risk_score": [0.987654, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05],
        "n_high": [2, 0, 0, 0, 0, 0, 0], "n_medium": [0, 1, 0, 0, 0, 0, 0], "n_low": [0, 0, 3, 0, 0, 0, 0],
        "top_finding": ["f"] * 7,
    })
    manifest = {"rows_in": 1234, "rows_used": 1200, "rows_excluded": 34}
    return RunResult(Panel.empty(), findings, regions, pd.DataFrame(), manifest)


def test_run_result_html_counts():
    rows, by_severity, top = tables(_result()._repr_html_())
    assert rows == [{"rows in": "1234", "used": "1200", "excluded": "34"}]
    assert by_severity == [{"": "findings", "high": "2", "medium": "1", "low": "3", "info": "1", "total": "7"}]
    assert len(top) == 5
    assert [r["rank"] for r in top] == ["1", "2", "3", "4", "5"]
    assert top[0]["risk_score"] == "0.99" and top[0]["n_high"] == "2"


def test_run_result_html_escapes_region_names():
    html = _result()._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert tables(html)[2][0]["region_name"] == HOSTILE


def test_run_result_html_of_a_real_run_matches_its_manifest(toy_panel, tmp_path):
    """On a real (small) run the view shows the manifest's row counts and the ranking's first five."""
    path = tmp_path / "toy.csv"
    toy_panel.data[["region_code", "region_name", "parent_code", "indicator", "period", "value", "unit"]] \
        .to_csv(path, index=False)
    result = detect.run(path)
    rows, by_severity, top = tables(result._repr_html_())
    m = result.manifest
    assert rows == [{"rows in": str(m["rows_in"]), "used": str(m["rows_used"]), "excluded": str(m["rows_excluded"])}]
    assert int(by_severity[0]["total"]) == m["n_findings"] == len(result.findings)
    assert {k: int(by_severity[0][k]) for k in ("high", "medium", "low", "info")} == m["severity_counts"]
    assert [r["region_code"] for r in top] == result.regions["region_code"].head(5).tolist()


# --- real data, end to end -------------------------------------------------------------------------------
#
# The real-data check as a user meets it: one `detect` screen of a provincial panel built from
# the two shared research files (read in place, never copied; skipped with the reason when absent),
# all detectors, run-wide false-discovery control. Published facts behind it: Liaoning's first-published
# GDP fell 22.4 % in 2016 (28,669.02 -> 22,246.90 亿元) and its general budget revenue 33.4 % in 2015
# (3,192.78 -> 2,127.39 亿元), both corrections of figures the province admitted were inflated.

LIAONING = "210000"


def _province_panel(shared_data) -> Panel:
    from _shared_data import shared_file

    adm = pd.read_csv(shared_file(shared_data, "cn-province-csmar-ntl/province__ADM1.csv"), encoding="utf-8-sig")
    fiscal = pd.read_csv(shared_file(shared_data, "cn-localdebt-fiscal/All_Province_2014_-_17.csv"))
    adm["region_code"] = adm["regionid"].astype(str)
    parts = []
    for col, (ind, unit) in {"Gdp0101": ("gdp", "亿元"), "Gdp0103": ("gdp_secondary", "亿元"),
                             "Ifa0101": ("investment", "亿元"), "Pop01": ("population", "万人"),
                             "vl1s": ("night_lights", "DN")}.items():
        x = adm[["region_code", "regionName", "year", col]].dropna()
        parts.append(pd.DataFrame({"region_code": x["region_code"], "region_name": x["regionName"],
                                   "indicator": ind, "period": x["year"].astype(str), "value": x[col],
                                   "unit": unit}))
    codes = dict(zip(adm["regionName"], adm["region_code"]))
    fiscal["region_code"] = fiscal["province"].str.strip().map(codes)
    for col, ind in {"revenue_all": "fiscal_revenue", "revenue_alltax": "tax_revenue",
                     "revenue_allnontax": "nontax_revenue", "revenue_vat": "vat_revenue"}.items():
        x = fiscal[["region_code", "province", "year", col]].dropna()
        parts.append(pd.DataFrame({"region_code": x["region_code"], "region_name": x["province"].str.strip(),
                                   "indicator": ind, "period": x["year"].astype(str), "value": x[col],
                                   "unit": "亿元"}))
    return Panel.from_frame(pd.concat(parts, ignore_index=True), source="shared data (provinces)")


@pytest.mark.shared_data
def test_liaoning_corrections_are_top_findings_of_a_whole_provincial_screen(shared_data):
    panel = _province_panel(shared_data)
    assert panel.regions["region_code"].nunique() == 31
    findings, regions, notes, tests = detect.screen(panel)
    ln = findings[findings["region_code"] == LIAONING]
    fiscal = ln[(ln["indicator"] == "fiscal_revenue") & (ln["period_start"] == "2015")]
    assert len(fiscal) and fiscal["q_value"].min() <= 0.01          # a high finding
    # the GDP correction of 2016: a finding on Liaoning's 2016 at q <= 0.05 that GDP growth drives.
    # On this heavy-tailed panel growth_peers alone gives it p ~ 1e-3 (z = -14.6 against a fitted
    # t(2.6) null), short of q <= 0.1 among ~4,300 tests; the multivariate peer screen, which reads
    # GDP growth with its gap to night-light growth, carries it (docs/series.md, "Real data").
    y2016 = ln[(ln["period_start"] <= "2016") & (ln["period_end"] >= "2016") & (ln["q_value"] <= 0.05)]

    def driven_by_gdp(row) -> bool:
        if row["indicator"] == "gdp":
            return True
        ev = row["evidence"]
        fz = (json.loads(ev) if isinstance(ev, str) else ev or {}).get("feature_z", {})
        top = max(fz, key=lambda k: max(abs(v) for v in fz[k].values()), default=None)
        return top == "gdp_growth" and fz[top].get("2016", 0.0) < -10
    assert any(driven_by_gdp(r) for _, r in y2016.iterrows())
    # Liaoning is among the five riskiest of the 31 provinces ...
    top5 = regions.sort_values("rank").head(5)
    assert LIAONING in set(top5["region_code"])
    # ... and no region is there for a census re-benchmarking of its population or a night-light sensor
    # change: those are yardsticks, not suspects
    assert not set(findings["indicator"]) & {"population", "night_lights"}
    assert any("population" in n and "not screened" in n for n in notes)
