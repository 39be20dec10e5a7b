"""Follow-up register: speed of recording runs, listing, status_table, Excel export / import, and
concurrent writers.

Usage::

    python benchmarks/review.py [--n 5000] [--procs 4] [--ops 50]

Builds two run directories of ``n`` synthetic findings (the second: 100 gone, 100 new) through the
findings contract, records them in a fresh register in a temporary folder, and times each step;
then ``procs`` processes each add ``ops`` notes to one finding at once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

from detect.findings import Finding, findings_frame, write_findings, write_table  # noqa: E402
from detect.review import Register, status_table  # noqa: E402
from detect.review.worklist import export_xlsx, import_xlsx  # noqa: E402


def _run_dir(path: Path, codes: list[str], all_codes: list[str]) -> Path:
    path.mkdir(parents=True)
    items = [Finding(c, f"R{c}", "gdp", "2015", "2015", "growth_peers", 2.5, 0.001, "s", "s",
                     evidence={"series": {"2014": 1.0, "2015": 2.0}}) for c in codes]
    write_findings(findings_frame(items), path)
    write_table(pd.DataFrame({"region_code": all_codes, "region_name": all_codes}), path / "regions.csv")
    (path / "manifest.json").write_text(json.dumps({"n_tests": {"growth_peers": len(codes)}}))
    return path


def _notes(db: str, fid: str, who: str, n: int) -> float:
    t = time.perf_counter()
    with Register(db) as reg:
        for i in range(n):
            reg.add_note(fid, f"{who} {i}", by=who)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--ops", type=int, default=50)
    a = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="detect-review-bench-"))
    codes = [f"{100000 + i}" for i in range(a.n + 100)]
    r1 = _run_dir(d / "r1", codes[:a.n], codes)
    r2 = _run_dir(d / "r2", codes[100:], codes)
    reg = Register(d / "bench.sqlite")

    def step(label: str, fn):
        t = time.perf_counter()
        out = fn()
        print(f"{label:<52} {time.perf_counter() - t:7.2f} s")
        return out

    step(f"record_run, {a.n} new findings", lambda: reg.record_run(r1))
    step(f"record_run, {a.n} findings (100 new, 100 gone)", lambda: reg.record_run(r2))
    t = step(f"table() of {a.n + 100} findings", reg.table)
    ids = list(t["finding_id"])
    step("200 assignments, one transaction each", lambda: [reg.assign(f, "Li", "2026-09-30", by="W")
                                                           for f in ids[:200]])
    step(f"status_table for {len(ids)} ids", lambda: status_table(reg.path, ids))
    step(f"export_xlsx, {len(ids)} rows", lambda: export_xlsx(reg, d / "w.xlsx"))
    step(f"import_xlsx, {len(ids)} rows unchanged", lambda: import_xlsx(reg, d / "w.xlsx", by="x"))
    step("verify (integrity, foreign keys, audit hash chain)", reg.verify)
    reg.close()
    print(f"{'register size':<52} {os.path.getsize(d / 'bench.sqlite') / 1e6:7.2f} MB")
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(a.procs) as pool:
        pool.starmap(_notes, [(str(d / "bench.sqlite"), ids[0], f"p{k}", a.ops) for k in range(a.procs)])
    wall = time.perf_counter() - t0
    with Register(d / "bench.sqlite") as reg:
        n = int((reg.history(ids[0])["action"] == "note").sum())
    print(f"{a.procs} processes x {a.ops} notes on one finding: {n} stored of {a.procs * a.ops}, "
          f"{wall:.2f} s wall, {wall / (a.procs * a.ops) * 1000:.1f} ms per note")


if __name__ == "__main__":
    main()
