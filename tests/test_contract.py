"""One contract test for every registered detector (schema, determinism, degenerate panels)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from detect.config import load_config
from detect.data.panel import Panel
from detect.findings import FAMILIES, Finding, Findings, findings_frame
from detect.registry import available, get_detector

DETECTORS = available()
CONFIG = load_config()


def _check(res: Findings, det) -> None:
    assert isinstance(res, Findings)
    assert isinstance(res.n_tests, int) and res.n_tests >= 0
    n_p = 0
    for f in res:
        assert isinstance(f, Finding)
        assert f.detector == det.name
        assert f.family == det.family in FAMILIES
        assert f.region_code and isinstance(f.region_code, str)
        assert f.period_start <= f.period_end
        assert f.summary.strip() and f.summary_zh.strip()
        if math.isfinite(f.p_value):
            assert 0.0 <= f.p_value <= 1.0
            n_p += 1
        else:
            assert f.severity_hint in ("high", "medium", "low", "info"), "rule-based flags need a severity_hint"
    assert n_p <= res.n_tests, "returned more p-values than tests counted"
    ids = [f.finding_id for f in res]
    assert len(ids) == len(set(ids)), "the same evidence emitted twice"


@pytest.mark.parametrize("name", DETECTORS)
def test_detector_on_toy_panel(name, toy_panel):
    det = get_detector(name)
    assert det.title and det.title_zh and det.null_hypothesis
    res = det.run(toy_panel, CONFIG)
    _check(res, det)


@pytest.mark.parametrize("name", DETECTORS)
def test_detector_is_deterministic(name, toy_panel):
    det = get_detector(name)
    a = findings_frame(det.run(toy_panel, CONFIG).items)
    b = findings_frame(get_detector(name).run(toy_panel, CONFIG).items)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("name", DETECTORS)
def test_detector_on_empty_panel(name):
    det = get_detector(name)
    res = det.run(Panel.empty(), CONFIG)
    _check(res, det)
    assert len(res) == 0


@pytest.mark.parametrize("name", DETECTORS)
def test_detector_on_single_region(name, toy_panel):
    det = get_detector(name)
    one = toy_panel.subset(regions=[toy_panel.regions["region_code"].iat[0]])
    _check(det.run(one, CONFIG), det)


@pytest.mark.parametrize("name", DETECTORS)
def test_detector_on_all_missing_series(name, toy_panel):
    det = get_detector(name)
    d = toy_panel.data.copy()
    first = d["region_code"].iat[0]
    d.loc[(d["region_code"] == first) & (d["indicator"] == "gdp"), "value"] = np.nan
    res = det.run(Panel(d), CONFIG)
    _check(res, det)
    assert not any(f.region_code == first and f.indicator == "gdp" for f in res)


@pytest.mark.parametrize("name", DETECTORS)
def test_methods_text_in_both_languages(name):
    """The report's methods appendix states every test's null hypothesis in English and Chinese."""
    import re

    det = get_detector(name)
    assert det.title.strip() and det.title_zh.strip()
    assert det.null_hypothesis.strip()
    zh = det.null_hypothesis_zh.strip()
    assert len(re.findall(r"[\u4e00-\u9fff]", zh)) >= 10, f"{name}: null_hypothesis_zh is not Chinese text"
    assert zh != det.null_hypothesis.strip()
