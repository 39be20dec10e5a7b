"""Debt checks: detection quality on the sample panels and speed on a national-scale panel.

Usage::

    python benchmarks/debt.py quality     # recall of planted debt surges, clean regions above green
    python benchmarks/debt.py speed       # the four debt detectors on ~2,900 regions x 20 years

``quality`` reads data/sample/panel.csv + truth.csv and data/sample/clean/panel.csv (regenerate with
``python -m detect.data.synthetic --out DIR [--clean]``). ``speed`` tiles 29 seeded synthetic draws of
100 prefectures (every indicator of the sample, 2003-2022) into one panel of 2,900 regions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from detect.config import load_config  # noqa: E402
from detect.data import load  # noqa: E402
from detect.data.panel import Panel  # noqa: E402
from detect.debt import compute_ratios  # noqa: E402
from detect.findings import Findings  # noqa: E402
from detect.registry import get_detector  # noqa: E402

DEBT = ("debt_ratios", "debt_surge", "debt_identity", "debt_stress")


def _bh(p: np.ndarray, m: int) -> np.ndarray:
    if len(p) == 0:
        return p
    order = np.argsort(p)
    q = p[order] * m / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1)
    return out


def run_all(panel: Panel, cfg) -> dict[str, Findings]:
    return {n: get_detector(n).run(panel, cfg) for n in DEBT}


def quality(sample: Path) -> None:
    cfg = load_config()
    panel = load(sample / "panel.csv").panel
    truth = pd.read_csv(sample / "truth.csv", dtype=str)
    truth = truth[truth["kind"] == "debt_surge"]
    res = run_all(panel, cfg)
    m = sum(f.n_tests for f in res.values())
    items = [(n, f) for n, fs in res.items() for f in fs]
    p = np.array([f.p_value for _, f in items])
    tested = np.isfinite(p)
    q = np.full(len(p), np.nan)
    q[tested] = _bh(p[tested], m)

    def found(t, accept) -> bool:
        y0, y1 = int(t.period_start) - 1, int(t.period_end) + 1
        return any(f.region_code == t.region_code and int(f.period_start[:4]) <= y1 and int(f.period_end[:4]) >= y0
                   and accept(n, f, qq) for (n, f), qq in zip(items, q))

    print(f"sample {sample}: {len(truth)} planted debt surges; debt-family tests {m}")
    rules = {
        "debt_surge alone, q <= 0.05 (BH over the debt family)": lambda n, f, qq: n == "debt_surge" and qq <= 0.05,
        "debt_identity residual, q <= 0.05": lambda n, f, qq: n == "debt_identity" and qq <= 0.05,
        "limit breach (rule, high)": lambda n, f, qq: f.kind == "limit_breach",
        "any debt finding: q <= 0.05 or rule high/medium (detect.quality rule)":
            lambda n, f, qq: qq <= 0.05 or (np.isnan(qq) and f.severity_hint in ("high", "medium")),
    }
    for label, acc in rules.items():
        hits = [found(t, acc) for t in truth.itertuples()]
        print(f"  recall {label}: {np.mean(hits):.2f} ({sum(hits)}/{len(hits)})")
    clean_dir = sample / "clean" if (sample / "clean").is_dir() else REPO / "data" / "sample" / "clean"
    clean = load(clean_dir / "panel.csv").panel
    g = compute_ratios(clean, cfg).grades()
    pref = g[g["region_code"].isin(clean.regions.loc[clean.regions["level"] == 1, "region_code"])]
    print(f"clean panel: {len(pref)} prefectures graded (latest year); grade counts "
          f"{pref['grade'].value_counts().to_dict()}; share above green {np.mean(pref['grade'] != 'green'):.2f}")
    stat = compute_ratios(clean, cfg).table
    stat = stat[(stat["ratio"] == "debt_ratio") & stat["computable"]]
    last = stat.sort_values("year").groupby("region_code").tail(1)
    print(f"  statutory 债务率 (no LGFV) latest year: median {last['value'].median():.2f}, share >= 120 % "
          f"{np.mean(last['value'] >= 1.2):.2f}, share >= 100 % {np.mean(last['value'] >= 1.0):.2f}")
    res_c = run_all(clean, cfg)
    m_c = sum(f.n_tests for f in res_c.values())
    items_c = [(n, f) for n, fs in res_c.items() for f in fs]
    pc = np.array([f.p_value for _, f in items_c])
    qc = np.full(len(pc), np.nan)
    qc[np.isfinite(pc)] = _bh(pc[np.isfinite(pc)], m_c)
    n_reg = clean.regions["region_code"].nunique()
    sig = {f.region_code for (n, f), qq in zip(items_c, qc) if qq <= 0.05}
    print(f"  clean regions with a tested debt finding at q <= 0.05: {len(sig)}/{n_reg}")
    for n in DEBT:
        sev = pd.Series([f.severity_hint or "tested" for f in res_c[n]]).value_counts().to_dict()
        print(f"  clean {n}: {len(res_c[n])} findings {sev}")


def national_panel(copies: int = 29) -> Panel:
    """``copies`` seeded clean draws of the sample's 100 prefectures, recoded and stacked (built directly
    as a Panel: the loader's validation of 1.2 M text cells is not what is being timed)."""
    from detect.data.synthetic import generate

    frames = []
    for k in range(copies):
        df, _ = generate(seed=1000 + k, clean=True)
        df = df[df["parent_code"] != ""].copy()  # prefectures only: tiles must not share provinces
        df["region_code"] = f"{10 + k:02d}" + df["region_code"].str.slice(1)
        df["parent_code"] = ""
        frames.append(df)
    d = pd.concat(frames, ignore_index=True)
    value = pd.to_numeric(d["value"], errors="coerce")
    data = pd.DataFrame({
        "region_code": d["region_code"], "region_name": d["region_name"] + d["region_code"], "parent_code": "",
        "indicator": d["indicator"], "period": d["period"], "year": d["period"].astype(int), "freq": "A",
        "value": value.astype(float), "unit": d["unit"], "raw": d["value"], "vintage": "", "source": "benchmark",
        "row": np.arange(len(d), dtype="int64"), "single_point": False,
    })
    return Panel(data)


def speed(copies: int) -> None:
    t0 = time.perf_counter()
    panel = national_panel(copies)
    print(f"national panel: {panel} built in {time.perf_counter() - t0:.1f} s")
    cfg = load_config()
    total = cpu_total = 0.0
    for n in DEBT:
        t, c = time.perf_counter(), time.process_time()
        out = get_detector(n).run(panel, cfg)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        total += dt
        cpu_total += dc
        print(f"  {n:<14} {dt:6.2f} s wall {dc:6.2f} s cpu  {len(out):5d} findings  {out.n_tests:6d} tests")
    print(f"  total          {total:6.2f} s wall {cpu_total:6.2f} s cpu (the first detector builds the shared grid)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["quality", "speed"])
    ap.add_argument("--sample", default=str(REPO / "data" / "sample"))
    ap.add_argument("--copies", type=int, default=29, help="speed: 100-prefecture draws to tile")
    a = ap.parse_args(argv)
    if a.what == "quality":
        quality(Path(a.sample))
    else:
        speed(a.copies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
