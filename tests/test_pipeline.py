"""RunResult's rich (HTML) view for notebooks: rows, findings by severity, top regions, text escaped."""

from __future__ import annotations

import pandas as pd
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
