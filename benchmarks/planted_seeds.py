"""Recall per planted kind over several seeds of the synthetic generator (docs/quality.md, "Planted panels over eight seeds").

The committed sample plants five anomalies of each kind, so its recall per kind moves in steps of
a fifth: one miss decides between 0.8 and 1.0. This benchmark
generates the panel with other seeds (``python -m detect.data.synthetic --seed N [--effect E]``:
other regions, windows and sizes drawn from the same design), runs the whole pipeline on each and
pools the planted anomalies: found / planted per kind with a Wilson 95 % interval, and per seed the
region AUC, precision@k and the share of clean regions with a high finding.

Usage::

    .venv/bin/python benchmarks/planted_seeds.py [--seeds 1 2 3 4 5 6 7 8] [--effect 1.0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from statsmodels.stats.proportion import proportion_confint

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detect.data.synthetic import write_sample  # noqa: E402
from detect.pipeline import run, write_run  # noqa: E402
from detect.quality import match_truth, score_run  # noqa: E402
from detect.findings import read_findings  # noqa: E402


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
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")   # Wilson 1927, JASA 22:209-212
        eff = pd.to_numeric(g["effect_size"], errors="coerce")
        miss, hit = eff[~g["found"]], eff[g["found"]]
        lim = (f"; missed effects {miss.min():g} to {miss.max():g}, found {hit.min():g} to {hit.max():g}"
               if k < n and k else "")
        print(f"  {kind:22s} {k:3d}/{n:<3d} = {k / n:.2f}  (95 % CI {lo:.2f}-{hi:.2f}){lim}")
    k, n = int(allm["found"].sum()), len(allm)
    print(f"  {'all':22s} {k:3d}/{n:<3d} = {k / n:.2f}")


if __name__ == "__main__":
    main()
