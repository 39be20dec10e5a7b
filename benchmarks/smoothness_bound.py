"""How small can the p-value of a smoothed decade be? An oracle bound for the smoothness detector.

An oracle that knows the smoothed window and the exact null of honest growth (AR(1) errors with
``rho``, the sample generator's 0.5) compares the detrended variance of the window's ``n`` growth
rates with the peers' median. This script simulates that null and prints ``P(ratio <= r)`` for the
ratios of the sample's smoothed regions (docs/quality.md, "Why one smoothed region is missed"),
next to the chi-square on the nominal degrees of freedom.

Usage::

    .venv/bin/python benchmarks/smoothness_bound.py [--draws 400000] [--rho 0.5] [--n 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detect.series.smoothness import detrended_variance  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=400_000)
    ap.add_argument("--rho", type=float, default=0.5)
    ap.add_argument("--n", type=int, default=10, help="growth rates in the window")
    ap.add_argument("--ratios", type=float, nargs="*", default=[0.012, 0.013, 0.033])
    a = ap.parse_args()
    rng = np.random.default_rng(20261127)
    burn = 20
    ratios = []
    for start in range(0, a.draws, 100_000):
        m = min(100_000, a.draws - start)
        e = rng.standard_normal((m, a.n + burn))
        x = np.zeros_like(e)
        for t in range(1, a.n + burn):
            x[:, t] = a.rho * x[:, t - 1] + e[:, t]
        s2, _ = detrended_variance(x[:, burn:], a.n)
        ratios.append(s2)
    s2 = np.concatenate(ratios)
    r = s2 / np.median(s2)
    nu = a.n - 2
    print(f"AR(1) rho = {a.rho}, {a.n} growth rates, {a.draws} draws; ratio = detrended variance / null median")
    for q in a.ratios:
        sim = (np.sum(r <= q) + 1) / (len(r) + 1)
        chi = stats.chi2.cdf(q * stats.chi2.ppf(0.5, nu), nu)
        print(f"ratio {q:.3f}: oracle simulated p = {sim:.2e}; chi-square({nu}) p = {chi:.2e}")


if __name__ == "__main__":
    main()
