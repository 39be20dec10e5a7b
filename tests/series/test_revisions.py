"""revisions: a large downward revision between vintages is found; no vintages, no tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detect.config import load_config
from detect.data.panel import Panel
from detect.series.revisions import Revisions, revision_z

CFG = load_config()


def _panel(cut_region=3, cut=0.7):
    rng = np.random.default_rng(31)
    rows = []
    for r in range(20):
        for y in range(2010, 2018):
            v = 100.0 + r + 3 * (y - 2010)
            for vin in ("2018-01", "2019-01", "2020-01"):
                vv = v if vin == "2018-01" else v * np.exp(rng.normal(0, 0.01))
                if r == cut_region and y == 2016 and vin >= "2019-01":
                    vv = v * cut
                rows.append((f"12{r:04d}", f"R{r}", "", "gdp", str(y), round(vv, 2), "", vin))
    df = pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator", "period", "value",
                                     "unit", "vintage"])
    return Panel.from_frame(df)


def test_revision_z_textbook():
    r = np.array([-0.3, -0.01, 0.0, 0.01, 0.02, -0.02, 0.0])
    z = revision_z(r)
    med = np.median(r)
    s = 1.482602218505602 * np.median(np.abs(r - med))
    assert np.allclose(z, (r - med) / s)


def test_large_downward_revision_is_found_once():
    res = Revisions().run(_panel(), CFG)
    hit = [f for f in res if f.region_code == "120003" and f.period_start == "2016"]
    assert len(hit) == 1
    f = hit[0]
    assert f.kind == "downward_revision" and abs(f.effect + 0.3) < 0.02 and f.p_value < 1e-3
    assert f.evidence["vintages"]["2018-01"] > f.evidence["vintages"]["2019-01"]
    assert res.n_tests == 20 * 8 * 2


def test_no_vintages_no_tests(toy_panel):
    res = Revisions().run(toy_panel, CFG)
    assert res.n_tests == 0 and len(res) == 0
