"""Configuration: defaults, overrides, clear errors; every threshold cites its source."""

from __future__ import annotations

import pytest

from detect.config import load_config, threshold, thresholds_meta
from detect.exceptions import ConfigError


def test_every_threshold_has_a_citation():
    for area, items in thresholds_meta().items():
        for name, spec in items.items():
            assert "value" in spec, f"{area}.{name} has no value"
            assert len(spec.get("citation", "")) > 10, f"{area}.{name} has no citation"


def test_override_and_unknown(tmp_path):
    p = tmp_path / "detect.toml"
    p.write_text('lang = "en"\nseed = 5\n[thresholds.scoring]\nq_high = 0.001\n')
    c = load_config(p)
    assert c.lang == "en" and c.seed == 5 and threshold("scoring.q_high", c) == 0.001
    assert threshold("scoring.q_high") == 0.01
    p.write_text("[thresholds.scoring]\nq_hgh = 0.001\n")
    with pytest.raises(ConfigError, match="unknown threshold scoring.q_hgh"):
        load_config(p)
    p.write_text("lang = 'fr'\n")
    with pytest.raises(ConfigError, match="lang must be one of"):
        load_config(p)
    p.write_text("not toml [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


def test_config_is_frozen():
    c = load_config()
    with pytest.raises(Exception):
        c.seed = 3
    with pytest.raises(TypeError):
        c.thresholds["scoring"]["q_high"] = 1


def test_with_changes():
    c = load_config().with_(thresholds={"scoring": {"q_high": 0.005}}, seed=9)
    assert threshold("scoring.q_high", c) == 0.005 and c.seed == 9


@pytest.mark.parametrize("text, words", [
    ("[thresholds.scoring]\nreport_p = 5\n", "scoring.report_p must be between 1e-12 and 1, got 5"),
    ("[thresholds.scoring]\nq_high = 0\n", "scoring.q_high must be between"),
    ("[thresholds.scoring]\nmin_effect = -0.1\n", "scoring.min_effect must be between 0 and 1"),
    ("[thresholds.scoring]\nq_high = 0.2\n", "q_high <= q_medium <= q_low"),
])
def test_a_threshold_outside_its_range_is_a_config_error(tmp_path, text, words):
    # report_p = 5 was accepted and every test became a finding candidate
    p = tmp_path / "detect.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        load_config(p)


def test_ranges_hold_for_the_shipped_values():
    for area, items in thresholds_meta().items():
        for name, spec in items.items():
            if "range" in spec:
                lo, hi = spec["range"]
                assert lo <= spec["value"] <= hi, f"{area}.{name}"
