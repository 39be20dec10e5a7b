"""Explanations carry the key numbers, and the ranking is deterministic (issue 6)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from detect.config import load_config
from detect.pipeline import run

SAMPLE = "data/sample/panel.csv"


@pytest.fixture(scope="module")
def sample_run(repo):
    return run([repo / SAMPLE], load_config())


def _pct(x: float) -> str:
    return f"{100 * abs(x):.1f} %"


def test_every_summary_has_numbers_in_both_languages(sample_run):
    f = sample_run.findings
    assert len(f) > 20
    num = re.compile(r"\d")
    assert f["summary"].map(lambda s: bool(num.search(s))).all()
    assert f["summary_zh"].map(lambda s: bool(num.search(s))).all()
    assert f["summary_zh"].str.contains(r"[\u4e00-\u9fff]").all()
    assert (f["check"].str.len() > 20).all() and (f["check_zh"].str.len() > 5).all()


def test_growth_summaries_state_the_growth_and_the_peer_median(sample_run):
    f = sample_run.findings
    g = f[f["detector"] == "growth_peers"]
    assert len(g) > 0
    for _, row in g.iterrows():
        ev = json.loads(row["evidence"])
        assert _pct(ev["growth"]) in row["summary"], row["summary"]
        assert _pct(ev["peer_median_growth"]) in row["summary"], row["summary"]
        assert row["period_start"] in row["summary_zh"]


def test_debt_and_digit_summaries_state_their_evidence(sample_run):
    f = sample_run.findings
    d = f[f["detector"] == "digits"]
    assert len(d) > 0 and d["summary"].str.contains("%").all()
    s = f[f["detector"] == "debt_surge"]
    assert len(s) > 0 and s["summary"].str.contains("%").all()


def test_ranking_is_deterministic(repo, sample_run):
    again = run([repo / SAMPLE], load_config())
    pd.testing.assert_frame_equal(sample_run.regions, again.regions)
    assert sample_run.findings["finding_id"].tolist() == again.findings["finding_id"].tolist()
    r = sample_run.regions
    assert r["rank"].tolist() == list(range(1, len(r) + 1))
    assert r["risk_score"].is_monotonic_decreasing


def test_no_generic_what_to_check_sentences(sample_run):
    # issue 6: "what to check next (for revenue: the non-tax items ...; for GDP: electricity and VAT by
    # sector). No generic sentences."
    f = sample_run.findings
    from detect.explain import what_to_check

    generic_en, generic_zh = what_to_check("no-such-indicator"), what_to_check("no-such-indicator", lang="zh")
    assert not f["summary"].str.contains("against source records").any()
    assert not f["summary"].str.contains(generic_en, regex=False).any()
    assert not f["summary_zh"].str.contains(generic_zh, regex=False).any()
    assert not f["summary_zh"].str.contains("的原始记录。").any()
    rev = f[(f["detector"] == "growth_peers") & (f["indicator"] == "fiscal_revenue")]
    gdp = f[(f["detector"] == "growth_peers") & (f["indicator"] == "gdp")]
    assert len(rev) and rev["summary"].str.contains("non-tax items").all()
    assert rev["summary_zh"].str.contains("非税收入").all()
    assert len(gdp) and gdp["summary"].str.contains("electricity").all()
