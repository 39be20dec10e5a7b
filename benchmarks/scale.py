"""Benchmark of the scale engines: 10^8 amounts from Parquet, streamed and on a local Dask cluster.

What it does
------------
1. Writes ``--n`` amounts (default 10^8; seeded, log-uniform on [10, 10^6), two decimals, float64)
   to a Parquet file in a temporary directory, in row groups of ``--row-group`` (default 10^6),
   generating one row group at a time (generation is bounded in memory too).
2. Streaming: in a fresh subprocess, ``detect.scale.streaming.stream_counts(path, "amount",
   "first-two")`` and the statistics once (MAD, chi-square); reports wall time, values per second
   and the process's peak resident memory (``ru_maxrss``) against the 1.5 GB goal.
3. Local cluster: in a fresh subprocess, ``distributed.LocalCluster(n_workers=2,
   threads_per_worker=1, processes=True)`` (start-up timed apart), then
   ``detect.scale.dask_engine.dask_counts`` (one partition per row group, counts per partition on
   the workers, tree reduction, statistics once on the client); reports wall time, values per
   second and the peak resident memory of the client and of each worker. The counts must equal the
   streaming counts exactly.
4. Per-region aggregates (count and exact sum per region, ``aggregate_file``) streamed over a
   second file of ``--agg-n`` amounts (default 10^7) with 3,000 region codes, for their throughput.
5. Prints the "## Scale" section of docs/benchmarks.md; ``--write`` replaces that section (only it).

Usage::

    .venv/bin/python benchmarks/scale.py                 # 10^8 amounts (several minutes on 2 cores)
    .venv/bin/python benchmarks/scale.py --n 10000000    # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEED = 20240601
RSS_GOAL = 1.5e9

STREAM_SCRIPT = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from detect.scale.streaming import stream_counts
from detect.digits.result import BenfordResult
t = time.perf_counter(); c = time.process_time()
dc = stream_counts(sys.argv[1], "amount", "first-two")
r = BenfordResult(dc)
mad, chi2 = r.mad, r.chi2
secs = time.perf_counter() - t
print(json.dumps({"n": dc.n, "mad": mad, "chi2": chi2, "seconds": secs, "cpu_seconds": time.process_time() - c,
                  "counts": dc.counts.tolist(),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

DASK_SCRIPT = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from distributed import Client, LocalCluster
from detect.scale.dask_engine import dask_counts, read_frame
from detect.digits.result import BenfordResult

def worker_rss():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

if __name__ == "__main__":
    t0 = time.perf_counter()
    import dask
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:      # profiler off: CPython 3.11 deadlock, see detect.scale.dask_engine.cluster
        startup = time.perf_counter() - t0
        nparts = read_frame(sys.argv[1], ["amount"]).npartitions
        t = time.perf_counter()
        dc = dask_counts(sys.argv[1], "amount", "first-two", client=client)
        r = BenfordResult(dc)
        mad, chi2 = r.mad, r.chi2
        secs = time.perf_counter() - t
        workers = client.run(worker_rss)
    print(json.dumps({"n": dc.n, "mad": mad, "chi2": chi2, "seconds": secs, "startup_seconds": startup,
                      "partitions": nparts, "counts": dc.counts.tolist(),
                      "client_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "worker_peak_rss_bytes": sorted(workers.values())}))
"""

AGG_SCRIPT = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from detect.scale.streaming import aggregate_file
t = time.perf_counter()
agg = aggregate_file(sys.argv[1], "amount", "region")
secs = time.perf_counter() - t
df = agg.to_frame()
print(json.dumps({"n": agg.n, "groups": len(df), "seconds": secs, "inexact": int(df["n_inexact"].sum()),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def amounts(n: int, seed: int) -> np.ndarray:
    """Seeded log-uniform amounts on [10, 10^6) rounded to cents (as benchmarks/digits.py)."""
    return np.round(10 ** np.random.default_rng(seed).uniform(1, 6, n), 2)


def write_parquet(path: Path, n: int, row_group: int, regions: int = 0) -> float:
    """Write ``n`` amounts one row group at a time; returns the seconds taken."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = time.perf_counter()
    fields = [("amount", pa.float64())] + ([("region", pa.string())] if regions else [])
    codes = np.array([f"{110000 + 100 * i}" for i in range(regions)], dtype=object) if regions else None
    with pq.ParquetWriter(path, pa.schema(fields)) as w:
        for i, start in enumerate(range(0, n, row_group)):
            m = min(row_group, n - start)
            cols = {"amount": amounts(m, SEED + i)}
            if regions:
                cols["region"] = codes[np.random.default_rng(SEED - 1 - i).integers(0, regions, m)]
            w.write_table(pa.table(cols), row_group_size=row_group)
    return time.perf_counter() - t


def run_file_script(script: str, work: Path, name: str, path: Path) -> dict:
    """Run a script from a file (the Dask one needs a real ``__main__`` module for worker processes)."""
    f = work / f"{name}.py"
    f.write_text(script)
    out = subprocess.run([sys.executable, str(f), str(path), str(REPO)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def section(fig: dict) -> str:
    s, d, a = fig["stream"], fig["dask"], fig.get("agg")
    n = s["n_values"]
    gib = 2 ** 30
    lines = [
        "## Scale",
        "",
        f"Measured {fig['date']} on {fig['machine']} (load average at start {fig['load']}; the machine is shared "
        "with other jobs, so wall-clock figures vary between runs). Command: `.venv/bin/python benchmarks/scale.py"
        + (f" --n {n}" if n != 10 ** 8 else "") + "`.",
        "",
        f"{n:,} amounts (log-uniform on [10, 10^6), two decimals, seed {SEED}) in one Parquet file of "
        f"{fig['file_bytes'] / 1e9:.2f} GB, {fig['row_groups']} row groups of {fig['row_group']:,}, written one row "
        f"group at a time in {fig['write_seconds']:.0f} s. First-two-digit test: counts, then MAD and chi-square once.",
        "",
        "| engine | wall s | values / s | peak resident memory | MAD |",
        "|---|---:|---:|---:|---:|",
        f"| stream (`stream_counts`, one process) | {s['seconds']:.1f} | {n / s['seconds'] / 1e6:.1f} M | "
        f"{s['peak_rss_bytes'] / gib:.2f} GiB | {s['mad']:.10f} |",
        f"| dask, local cluster 2 workers × 1 thread ({d['partitions']} partitions) | {d['seconds']:.1f} | "
        f"{n / d['seconds'] / 1e6:.1f} M | client {d['client_peak_rss_bytes'] / gib:.2f} GiB, workers "
        + " / ".join(f"{w / gib:.2f}" for w in d["worker_peak_rss_bytes"]) + f" GiB | {d['mad']:.10f} |",
        "",
        f"Peak memory of the streaming run: **{s['peak_rss_bytes'] / gib:.2f} GiB** (goal < 1.5 GB: "
        f"{'met' if s['peak_rss_bytes'] < RSS_GOAL else 'NOT met'}). Cluster start-up (2 worker processes) "
        f"{d['startup_seconds']:.1f} s, not included above. Counts of the two engines identical: "
        f"{'yes' if fig['same_counts'] else 'NO'} (n = {s['n']:,}; chi-square {s['chi2']:.4f}).",
    ]
    if a:
        lines += ["", f"Per-region aggregates (count and exact sum per region, `aggregate_file`, streamed): "
                  f"{a['n']:,} amounts over {a['groups']:,} regions in {a['seconds']:.1f} s = "
                  f"{a['n'] / a['seconds'] / 1e6:.2f} M values/s, peak {a['peak_rss_bytes'] / gib:.2f} GiB, "
                  f"{a['inexact']} amounts not held exactly."]
    lines += ["", "Extrapolation to 10^9 and 10^10 amounts: docs/scaling.md."]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path) -> None:
    old = path.read_text(encoding="utf-8")
    pat = re.compile(r"^## Scale\n.*?(?=^## |\Z)", re.S | re.M)
    new = pat.sub(lambda _: text + "\n", old, count=1) if pat.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10 ** 8, help="amounts (default 10^8)")
    ap.add_argument("--row-group", type=int, default=10 ** 6, help="rows per Parquet row group (default 10^6)")
    ap.add_argument("--agg-n", type=int, default=10 ** 7, help="amounts for the aggregates (default 10^7; 0: skip)")
    ap.add_argument("--write", action="store_true", help="replace the '## Scale' section of docs/benchmarks.md")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="detect-bench-scale-"))
    try:
        path = work / "amounts.parquet"
        fig = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
               "load": ", ".join(f"{v:.1f}" for v in os.getloadavg()), "row_group": args.row_group,
               "row_groups": -(-args.n // args.row_group)}
        fig["write_seconds"] = write_parquet(path, args.n, args.row_group)
        fig["file_bytes"] = path.stat().st_size
        print(json.dumps({k: v for k, v in fig.items()}), flush=True)
        fig["stream"] = run_file_script(STREAM_SCRIPT, work, "stream", path)
        fig["stream"]["n_values"] = args.n
        print(json.dumps({k: v for k, v in fig["stream"].items() if k != "counts"}), flush=True)
        fig["dask"] = run_file_script(DASK_SCRIPT, work, "dask_bench", path)
        print(json.dumps({k: v for k, v in fig["dask"].items() if k != "counts"}), flush=True)
        fig["same_counts"] = fig["stream"]["counts"] == fig["dask"]["counts"]
        path.unlink()
        if args.agg_n:
            apath = work / "ledger.parquet"
            write_parquet(apath, args.agg_n, args.row_group, regions=3000)
            fig["agg"] = run_file_script(AGG_SCRIPT, work, "agg", apath)
            print(json.dumps(fig["agg"]), flush=True)
        text = section(fig)
        print(text)
        if args.write:
            write_section(text, REPO / "docs" / "benchmarks.md")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ok = fig["same_counts"] and fig["stream"]["peak_rss_bytes"] < RSS_GOAL
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
