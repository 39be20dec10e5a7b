"""Per-series detectors on the sample panels: recall per planted kind and clean false-positive share.

Usage::

    python benchmarks/series_quality.py [--data data/sample]

Runs the per-series detectors (level_shift, arima_outlier, smoothness, target_bunching, revisions,
growth_peers) on ``panel.csv`` (full effect), ``half/`` and ``clean/``; BH q-values over all their
tests together (``detect.scoring.fdr`` with ``m`` = the summed ``n_tests``). A planted anomaly counts
as found when a finding with ``q < 0.05`` names its region and a matching indicator and its period
overlaps the planted window (for corrections: the correction year).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from detect.config import load_config  # noqa: E402
from detect.data.load import load  # noqa: E402
from detect.findings import findings_frame  # noqa: E402
from detect.registry import get_detector  # noqa: E402
from detect.scoring import fdr  # noqa: E402

DETECTORS = ("level_shift", "arima_outlier", "smoothness", "target_bunching", "revisions")
#: planted kind -> (indicators that count, detectors that count, which years count)
KINDS = {
    "revenue_inflation": ({"fiscal_revenue", "nontax_revenue"}, {"level_shift", "arima_outlier"}, "end"),
    "gdp_without_proxy": ({"gdp", "gdp_secondary"}, {"level_shift", "arima_outlier"}, "end"),
    "smoothed_growth": ({"gdp_real_growth", "gdp", "gdp_secondary"}, {"smoothness"}, "window"),
    "target_bunching": ({"gdp_real_growth"}, {"target_bunching"}, "window"),
}


def screen(path: Path, config) -> tuple[pd.DataFrame, int, dict]:
    panel = load([path]).panel
    frames, m, secs = [], 0, {}
    for name in DETECTORS:
        t0 = time.perf_counter()
        res = get_detector(name).run(panel, config)
        secs[name] = round(time.perf_counter() - t0, 2)
        m += res.n_tests
        frames.append(findings_frame(res.items))
    df = pd.concat(frames, ignore_index=True)
    df["q"] = fdr(df["p_value"].to_numpy(), m=m)
    return df, m, secs


def recall(df: pd.DataFrame, truth: pd.DataFrame, only_corrected: bool = True) -> dict:
    out = {}
    hits = df[df["q"] < 0.05]
    for kind, (inds, dets, when) in KINDS.items():
        rows = truth[truth["kind"] == kind]
        if kind == "gdp_without_proxy" and only_corrected:
            rows = rows[rows["description"].str.contains("corrected")]
        found = 0
        for _, t in rows.iterrows():
            lo, hi = int(t["period_start"]), int(t["period_end"])
            if when == "end":
                lo = hi
            h = hits[(hits["region_code"] == t["region_code"]) & hits["indicator"].isin(inds)
                     & hits["detector"].isin(dets)]
            ok = [(int(a) <= hi and int(b) >= lo) for a, b in zip(h["period_start"], h["period_end"])]
            found += any(ok)
        out[kind] = (found, len(rows))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(REPO / "data" / "sample"))
    a = ap.parse_args(argv)
    cfg = load_config()
    base = Path(a.data)
    for label, sub in (("full", base), ("half", base / "half")):
        df, m, secs = screen(sub / "panel.csv", cfg)
        truth = pd.read_csv(sub / "truth.csv", dtype=str)
        r = recall(df, truth)
        print(f"{label}: m = {m} tests, {int((df['q'] < 0.05).sum())} findings with q < 0.05; seconds {secs}")
        for k, (f, n) in r.items():
            print(f"  recall {k:20s} {f}/{n}")
    df, m, secs = screen(base / "clean" / "panel.csv", cfg)
    n_series = 0
    panel = load([base / "clean" / "panel.csv"]).panel
    n_series = panel.data.groupby(["region_code", "indicator"]).ngroups
    flagged = df[df["q"] < 0.05].groupby(["region_code", "indicator"]).ngroups
    by_det = df[df["q"] < 0.05]["detector"].value_counts().to_dict()
    print(f"clean: m = {m} tests; region-indicator series with q < 0.05: {flagged}/{n_series} "
          f"= {flagged / n_series:.2%}; by detector {by_det}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
