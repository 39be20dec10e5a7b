"""National-scale screening benchmark: every registered detector on a synthetic national panel.

Usage::

    python benchmarks/panel.py [--regions 2850] [--years 20] [--detectors a,b] [--scaling]
                               [--write docs/benchmarks.md]

``make_national_panel(n_regions)`` builds, cheaply with numpy, a clean panel shaped like a national
county-level screen: 31 provinces and ``n_regions - 31`` regions under them, 15 indicators, 20
years (log random walks with common year shocks, proxies that follow GDP, targets near growth).
The panel is built directly as a :class:`detect.data.panel.Panel` (the file loader's validation is
timed separately by the loader's own benchmark). ``--scaling`` also times 1/4 and 1/2 of the
regions to show how the cost grows. ``--write`` replaces the "Panel screening" section of the
Markdown file.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from detect.config import load_config  # noqa: E402
from detect.data.panel import PANEL_COLUMNS, Panel  # noqa: E402
from detect.registry import available, get_detector  # noqa: E402

INDICATORS = ("gdp", "gdp_real_growth", "gdp_secondary", "fiscal_revenue", "tax_revenue", "vat_revenue",
              "nontax_revenue", "fiscal_expenditure", "investment", "electricity", "night_lights",
              "rail_freight", "population", "debt_balance", "growth_target")


def make_national_panel(n_regions: int = 2850, n_years: int = 20, start: int = 2003, seed: int = 1) -> Panel:
    """A clean synthetic panel of ``n_regions`` regions x 15 indicators x ``n_years`` years.

    Parameters
    ----------
    n_regions : int
        Total regions: 31 provinces (level 0) and ``n_regions - 31`` regions under them (level 1).
    n_years, start : int
        Annual periods ``start .. start + n_years - 1``.
    seed : int
        Seed of the one generator used.
    """
    rng = np.random.default_rng(seed)
    n_prov = 31
    n_low = max(0, n_regions - n_prov)
    R, T = n_prov + n_low, n_years
    years = np.arange(start, start + T)
    prov_codes = np.array([f"{11 + i:02d}0000" for i in range(n_prov)])
    parent = rng.integers(0, n_prov, n_low)
    low_codes = np.array([f"{11 + p:02d}{i + 1:04d}"
                          for i, p in enumerate(parent)])
    codes = np.concatenate([prov_codes, low_codes])
    parents = np.concatenate([np.full(n_prov, ""), prov_codes[parent]])
    common = 0.08 - 0.002 * np.arange(T) + np.where(np.isin(years, (2009, 2020)), -0.04, 0.0)
    g_real = common + rng.normal(0, 0.01, (R, 1)) + rng.normal(0, 0.02, (R, T))
    base = np.exp(rng.normal(np.log(300), 1.0, R))[:, None]
    gdp = base * np.exp(np.cumsum(g_real + 0.03, axis=1))

    def follow(x, k, sd):
        return k * x * np.exp(np.cumsum(rng.normal(0, sd, x.shape), axis=1))

    vals = {
        "gdp": gdp,
        "gdp_real_growth": np.round(100 * g_real, 1),
        "gdp_secondary": follow(gdp, 0.45, 0.02),
        "fiscal_revenue": follow(gdp, 0.09, 0.03),
        "tax_revenue": follow(gdp, 0.07, 0.03),
        "vat_revenue": follow(gdp, 0.03, 0.03),
        "nontax_revenue": follow(gdp, 0.02, 0.05),
        "fiscal_expenditure": follow(gdp, 0.18, 0.03),
        "investment": follow(gdp, 0.6, 0.05),
        "electricity": follow(gdp, 0.1, 0.02),
        "night_lights": follow(gdp, 100.0, 0.03),
        "rail_freight": follow(gdp, 5.0, 0.06),
        "population": base * 0.5 * np.exp(np.cumsum(rng.normal(0.004, 0.003, (R, T)), axis=1)),
        "debt_balance": follow(gdp, 0.25, 0.05),
        "growth_target": np.round(2 * (100 * g_real + rng.normal(0, 1.0, (R, T)))) / 2,
    }
    n_ind = len(INDICATORS)
    value = np.concatenate([np.round(vals[i], 2).ravel() for i in INDICATORS])
    ind = np.repeat(np.array(INDICATORS, dtype=object), R * T)
    reg = np.tile(np.repeat(codes, T), n_ind)
    par = np.tile(np.repeat(parents, T), n_ind)
    yr = np.tile(np.tile(years, R), n_ind)
    unit = np.where(np.isin(ind, ["gdp_real_growth", "growth_target"]), "%", "")
    data = pd.DataFrame({
        "region_code": reg, "region_name": reg, "parent_code": par, "indicator": ind,
        "period": yr.astype(str), "year": yr.astype("int64"), "freq": "A", "value": value, "unit": unit,
        "raw": np.char.mod("%.2f", value), "vintage": "", "source": "synthetic", "row": np.arange(len(value)),
        "single_point": False,
    })
    for c in ("region_code", "region_name", "parent_code", "indicator", "period", "freq", "unit", "raw", "vintage",
              "source"):
        data[c] = data[c].astype(object)
    return Panel(data[list(PANEL_COLUMNS)])


def time_detectors(panel: Panel, names: list[str]) -> dict[str, tuple[float, float]]:
    """``(wall seconds, CPU seconds of this process)`` per detector (one run each).

    CPU time is the steadier figure on a shared machine: other jobs stretch the wall clock, not it.
    """
    cfg = load_config()
    out = {}
    for name in names:
        det = get_detector(name)
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            det.run(panel, cfg)
        out[name] = (time.perf_counter() - t0, time.process_time() - c0)
    return out


def _table(rows: list[tuple[int, dict[str, tuple[float, float]]]]) -> str:
    names = list(rows[0][1])
    head = "| detector | " + " | ".join(f"{n} regions: wall / CPU s" for n, _ in rows) + " |\n"
    head += "|---|" + "---:|" * len(rows) + "\n"
    body = "".join(f"| {d} | " + " | ".join(f"{r[d][0]:.2f} / {r[d][1]:.2f}" for _, r in rows) + " |\n"
                   for d in names)
    body += "| **total** | " + " | ".join(
        f"**{sum(v[0] for v in r.values()):.1f} / {sum(v[1] for v in r.values()):.1f}**" for _, r in rows) + " |\n"
    return head + body


def end_to_end(n_regions: int, n_years: int, workdir: Path, engine: str = "memory") -> dict[str, float]:
    """Time ``detect run`` as a user runs it: the national panel written to CSV, loaded, validated,
    screened by every detector, scored and written (report skipped: timed in benchmarks/report.py).

    ``engine="dask"`` runs ``detect run --engine dask`` (a local cluster of 2 worker processes,
    started and closed by the command) and reports the largest worker's peak memory too."""
    import subprocess

    csv = workdir / "national.csv"
    if not csv.exists():
        d = make_national_panel(n_regions, n_years).data
        pd.DataFrame({"region_code": d["region_code"], "region_name": d["region_name"],
                      "parent_code": d["parent_code"], "indicator": d["indicator"], "period": d["period"],
                      "value": d["raw"], "unit": d["unit"]}).to_csv(csv, index=False)
    rows = sum(1 for _ in open(csv, encoding="utf-8")) - 1
    code = ("import sys, time, resource; from detect.cli import main; t = time.perf_counter(); "
            "import detect.report; detect.report.render_result = lambda *a, **k: {}; "
            f"rc = main(['run', {str(csv)!r}, '--out', {str(workdir / engine)!r}, '--quiet', '--no-register', "
            f"'--engine', {engine!r}]); "
            "print(time.perf_counter() - t, time.process_time(), "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2, rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return {"rows": rows, "wall": float(out[0]), "cpu": float(out[1]), "peak_gib": float(out[2]),
            "worker_peak_gib": float(out[3]), "rc": int(out[4])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regions", type=int, default=2850)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--detectors", default="", help="comma-separated names (default: every registered detector)")
    ap.add_argument("--scaling", action="store_true", help="also time 1/4 and 1/2 of the regions")
    ap.add_argument("--write", metavar="MD", help="replace the 'Panel screening' section of this Markdown file")
    ap.add_argument("--end-to-end", action="store_true",
                    help="time `detect run` on the panel written as CSV (load, screen, score, write)")
    ap.add_argument("--engine", choices=("memory", "dask", "both"), default="memory",
                    help="--end-to-end: detect run's engine; both: each, and compare their output files")
    a = ap.parse_args(argv)
    if a.end_to_end:
        import tempfile

        engines = ["memory", "dask"] if a.engine == "both" else [a.engine]
        with tempfile.TemporaryDirectory() as tmp:
            for engine in engines:
                r = end_to_end(a.regions, a.years, Path(tmp), engine)
                extra = f", largest worker {r['worker_peak_gib']:.2f} GiB" if engine == "dask" else ""
                print(f"detect run --engine {engine}, {a.regions} regions x {len(INDICATORS)} indicators x "
                      f"{a.years} years ({r['rows']} rows from CSV): {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU "
                      f"(client), peak {r['peak_gib']:.2f} GiB{extra}, exit {r['rc']} "
                      f"(load average {os.getloadavg()[0]:.1f})", flush=True)
            if len(engines) == 2:
                same = [f for f in ("findings.csv", "regions.csv", "exclusions.csv", "evidence.jsonl",
                                    "manifest.json")
                        if (Path(tmp) / "memory" / f).read_bytes() == (Path(tmp) / "dask" / f).read_bytes()]
                print(f"identical files: {', '.join(same)} ({len(same)} of 5)")
                return 0 if len(same) == 5 else 1
        return 0
    names = [n for n in a.detectors.split(",") if n] or available()
    sizes = [a.regions // 4, a.regions // 2, a.regions] if a.scaling else [a.regions]
    rows = []
    load0 = os.getloadavg()
    for n in sizes:
        t0 = time.perf_counter()
        panel = make_national_panel(n, a.years)
        build = time.perf_counter() - t0
        secs = time_detectors(panel, names)
        rows.append((n, secs))
        print(f"{n} regions x {len(INDICATORS)} indicators x {a.years} years ({len(panel)} rows, built in "
              f"{build:.1f} s): total {sum(v[0] for v in secs.values()):.1f} s wall, "
              f"{sum(v[1] for v in secs.values()):.1f} s CPU", flush=True)
        for d, (w, c) in secs.items():
            print(f"  {d:24s} {w:7.2f} s wall {c:7.2f} s CPU", flush=True)
    text = (f"## Panel screening\n\nGenerated by `python benchmarks/panel.py{' --scaling' if a.scaling else ''} "
            f"--write {a.write or 'docs/benchmarks.md'}` on {os.cpu_count()} CPU(s): a clean synthetic national panel "
            f"(`make_national_panel`: 31 provinces + regions under them, {len(INDICATORS)} indicators, {a.years} "
            f"years), every detector run once; wall-clock and CPU seconds of the process (the machine is shared: "
            f"load average {load0[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end, so wall time varies between "
            f"runs while CPU time is steadier).\n\n" + _table(rows) + "\n")
    if a.write:
        p = Path(a.write)
        old = p.read_text(encoding="utf-8") if p.exists() else "# Benchmarks\n\n"
        pat = re.compile(r"## Panel screening\n.*?(?=\n##+ |\Z)", re.S)  # keeps ### subsections
        new = pat.sub(text.rstrip("\n") + "\n", old) if pat.search(old) else old.rstrip("\n") + "\n\n" + text
        p.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
