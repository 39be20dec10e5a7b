"""Recall per planted kind over several seeds of the synthetic generator (docs/quality.md, "Over seeds").

The committed sample plants 2 to 4 anomalies of each kind, so its recall per kind moves in steps
of a third or a quarter: one miss decides whether a kind is at 0.67 or 1.00. This benchmark
generates the panel with other seeds (``python -m detect.data.synthetic --seed N [--effect E]``:
other regions, windows and sizes drawn from the same design), runs the whole pipeline on each and
pools the planted anomalies: found / planted per kind with a Wilson 95 % interval, and per seed the
region AUC, precision@k and the share of clean regions with a high finding.

Usage::

    .venv/bin/python benchmarks/planted_seeds.py [--seeds 1 2 3 4 5 6 7 8] [--effect 1.0]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detect.data.synthetic import write_sample  # noqa: E402
from detect.pipeline import run, write_run  # noqa: E402
from detect.quality import match_truth, score_run  # noqa: E402
from detect.findings import read_findings  # noqa: E402


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927, JASA 22:209-212)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=list(range(1, 9)))
    ap.add_argument("--effect", type=float, default=1.0)
    a = ap.parse_args()
    rows = []
    print("seed, region AUC, precision@k, clean regions with a high finding, missed (kind region)")
    for seed in a.seeds:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            _, truth_path = write_sample(d / "data", seed=seed, effect=a.effect)
            out = write_run(run([d / "data" / "panel.csv"]), d / "run")
            truth = pd.read_csv(truth_path, dtype=str)
            s = score_run(out, truth)
            m = match_truth(read_findings(out), truth)
        m["seed"] = seed
        rows.append(m)
        missed = " ".join(f"{r.kind}:{r.region_code}" for r in m[~m["found"]].itertuples())
        print(f"{seed}, {s['region_auc']:.3f}, {s['precision_at_k']:.2f}, "
              f"{s['clean_regions_with_high_share']:.3f}, {missed or '-'}  ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    allm = pd.concat(rows, ignore_index=True)
    print(f"\nrecall per planted kind over seeds {a.seeds} at effect {a.effect}:")
    for kind, g in allm.groupby("kind"):
        k, n = int(g["found"].sum()), len(g)
        lo, hi = wilson(k, n)
        eff = pd.to_numeric(g["effect_size"], errors="coerce")
        miss, hit = eff[~g["found"]], eff[g["found"]]
        lim = (f"; missed effects {miss.min():g} to {miss.max():g}, found {hit.min():g} to {hit.max():g}"
               if k < n and k else "")
        print(f"  {kind:22s} {k:3d}/{n:<3d} = {k / n:.2f}  (95 % CI {lo:.2f}-{hi:.2f}){lim}")
    k, n = int(allm["found"].sum()), len(allm)
    print(f"  {'all':22s} {k:3d}/{n:<3d} = {k / n:.2f}")


if __name__ == "__main__":
    main()
