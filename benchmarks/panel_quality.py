"""Detection quality of the five panel detectors on synthetic panels with planted anomalies.

Usage::

    python benchmarks/panel_quality.py data/sample data/sample/half data/sample/clean [DIR ...]

Each DIR holds ``panel.csv`` and ``truth.csv`` (``python -m detect.data.synthetic --out DIR [--effect
0.5] [--clean] [--seed N]``). For each panel: every panel detector is run, q-values are
Benjamini-Hochberg per detector with ``m = n_tests`` (:func:`detect.scoring.fdr`), a planted anomaly
of a kind these detectors target counts as found as in :func:`detect.quality.match_truth` (q < 0.05 on
the region, a related indicator, periods overlapping the window widened by a year; rule-based flags
without q count when high or medium), and the share of the panel's region-indicator series with a
q < 0.05 finding is reported (the clean-panel false-alarm figure). Prints a Markdown table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from detect.config import load_config  # noqa: E402
from detect.data.load import load  # noqa: E402
from detect.findings import findings_frame  # noqa: E402
from detect.quality import match_truth  # noqa: E402
from detect.registry import get_detector  # noqa: E402
from detect.scoring import fdr  # noqa: E402

DETECTORS = ("proxy_divergence", "composition", "aggregation", "peer_outlier", "pm25_neighbours")
KINDS = ("revenue_inflation", "gdp_without_proxy", "aggregation_mismatch", "pm25_drop")


def screen(panel, config) -> tuple[pd.DataFrame, float]:
    """Findings of the panel detectors with per-detector BH q-values, and the seconds taken."""
    frames = []
    t0 = time.perf_counter()
    for name in DETECTORS:
        res = get_detector(name).run(panel, config)
        f = findings_frame(res.items)
        if len(f):
            f["q_value"] = fdr(f["p_value"].to_numpy(), m=max(res.n_tests, 1))
            hint = f["severity_hint"].fillna("info")
            f["severity"] = np.where(f["q_value"].notna(), np.where(f["q_value"] <= 0.05, "high", "low"), hint)
        frames.append(f)
    out = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
        else findings_frame([])
    return out, time.perf_counter() - t0


def evaluate(path: str | Path, config) -> dict:
    path = Path(path)
    panel = load(path / "panel.csv").panel
    truth = pd.read_csv(path / "truth.csv", dtype=str)
    found, secs = screen(panel, config)
    sig = found[(found["q_value"] <= 0.05) | (found["q_value"].isna() & found["severity"].isin(["high", "medium"]))]
    n_series = panel.data.groupby(["region_code", "indicator"]).ngroups
    row = {"panel": str(path), "seconds": secs,
           "series_q05": sig.groupby(["region_code", "indicator"]).ngroups if len(sig) else 0,
           "n_series": n_series}
    t = truth[truth["kind"].isin(KINDS)]
    if len(t):
        m = match_truth(found, t)
        for k, g in m.groupby("kind"):
            row[k] = f"{int(g['found'].sum())}/{len(g)}"
    return row


def main(argv: list[str]) -> int:
    config = load_config()
    rows = [evaluate(p, config) for p in argv or ["data/sample", "data/sample/half", "data/sample/clean"]]
    print("| panel | " + " | ".join(KINDS) + " | series with q < 0.05 (clean-panel false alarms) | s |")
    print("|---|" + "---:|" * (len(KINDS) + 2))
    for r in rows:
        share = r["series_q05"] / r["n_series"]
        print(f"| {r['panel']} | " + " | ".join(r.get(k, "–") for k in KINDS)
              + f" | {r['series_q05']} of {r['n_series']} ({share:.2%}) | {r['seconds']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
