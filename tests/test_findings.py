"""The findings contract: stable ids, safe CSV output."""

from __future__ import annotations

import pandas as pd

from detect.findings import Finding, finding_id, findings_frame, neutralise, write_findings


def test_finding_id_stable_and_sensitive():
    a = finding_id("210000", "fiscal_revenue", "2011", "2014", "composition")
    assert a == finding_id("210000", "fiscal_revenue", "2011", "2014", "composition")
    assert a.startswith("F") and len(a) == 13
    assert a != finding_id("210000", "fiscal_revenue", "2011", "2015", "composition")
    # field boundaries matter: ("21","0000") is not ("210","000")
    assert finding_id("21", "0000", "", "", "x") != finding_id("210", "000", "", "", "x")


def test_known_id_value():
    # sha256("210000\x1fgdp\x1f2016\x1f2016\x1flevel_shift")[:12], computed independently with hashlib
    import hashlib

    key = "\x1f".join(["210000", "gdp", "2016", "2016", "level_shift"]).encode()
    assert finding_id("210000", "gdp", "2016", "2016", "level_shift") == "F" + hashlib.sha256(key).hexdigest()[:12]


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+SUM(A1)") == "'+SUM(A1)"
    assert neutralise("@cmd") == "'@cmd"
    assert neutralise("-x") == "'-x"
    assert neutralise("-12.5") == "-12.5"
    assert neutralise("\tfoo") == "'\tfoo"
    assert neutralise("辽宁省") == "辽宁省"
    assert neutralise(3.5) == 3.5


def test_write_findings_neutralises_and_keeps_columns(tmp_path):
    f = Finding(region_code="1", region_name="=HYPERLINK(\"http://evil\")", indicator="gdp", period_start="2014",
                period_end="2014", detector="growth_peers", statistic=4.2, p_value=1e-5, summary="@x",
                summary_zh="中文", evidence={"a": [1, 2]})
    write_findings(findings_frame([f]), tmp_path)
    text = (tmp_path / "findings.csv").read_text()
    assert "'=HYPERLINK" in text and ",'@x," in text
    df = pd.read_csv(tmp_path / "findings.csv", dtype=str)
    assert df["finding_id"].iat[0] == f.finding_id
    assert (tmp_path / "evidence.jsonl").read_text().count("\n") == 1


def test_tiny_p_values_keep_ten_significant_digits(tmp_path):
    # 10 significant digits, not 10 decimal places: p = 1.97e-27 must not be written as 0.0
    import json

    f = Finding(region_code="1", region_name="a", indicator="gdp", period_start="2014", period_end="2014",
                detector="growth_peers", statistic=12.3456789012345, p_value=1.9712345678912e-27,
                summary="s", summary_zh="s", evidence={"p": 3.1e-15, "x": 0.034736569712345,
                                                       "amount": 12345678901.5})
    write_findings(findings_frame([f]), tmp_path)
    df = pd.read_csv(tmp_path / "findings.csv", dtype=str)
    assert df["p_value"].iat[0] == "1.971234568e-27"
    assert df["statistic"].iat[0] == "12.3456789012"
    ev = json.loads((tmp_path / "evidence.jsonl").read_text().splitlines()[0])
    assert ev["evidence"]["p"] == 3.1e-15 and ev["evidence"]["x"] == 0.03473656971
    assert ev["evidence"]["amount"] == 12345678901.5        # large values keep their digits
