"""High findings on clean synthetic panels over several seeds (docs/quality.md, "Clean panels").

Each seed generates a clean panel (``python -m detect.data.synthetic --clean --seed N``: nothing
planted), runs the whole pipeline on it and prints, per seed, the number of high findings with their
detectors, and the number of findings at q <= 0.05 with theirs. With nothing planted every high
finding is a false alarm (or a true feature of the generated data worth a look).

Usage::

    .venv/bin/python benchmarks/clean_seeds.py [--seeds 1 2 3 4 5 6 7 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detect.data.synthetic import write_sample  # noqa: E402
from detect.pipeline import run  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=list(range(1, 9)))
    a = ap.parse_args()
    print("seed, high findings, their detectors, findings at q <= 0.05, their detectors")
    for seed in a.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            write_sample(d, clean=True, seed=seed)
            f = run([d / "panel.csv"]).findings
        hi = f[f["severity"] == "high"]
        q = pd.to_numeric(f["q_value"], errors="coerce")
        sig = f[q <= 0.05]
        print(seed, len(hi), sorted(set(hi["detector"])), len(sig), sorted(set(sig["detector"])), flush=True)


if __name__ == "__main__":
    main()
