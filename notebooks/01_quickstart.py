# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Quick start: screen the sample panel
#
# This notebook does in Python what `make demo` does on the command line:
#
# 1. load the synthetic sample panel (`data/sample/panel.csv`, eight invented provinces and 100
#    invented prefectures, 2003–2022, with anomalies planted at known places — see
#    `data/sample/README.md`) and run every detector on it (`detect.run`);
# 2. look at the panel it read;
# 3. read the findings and
# 4. the ranking of regions;
# 5. write the run directory and render the PDF risk report and the Excel worklist;
# 6. check that we reproduced the demo's findings exactly.
#
# Everything is written to a temporary folder: the notebook leaves the repository untouched.
# It runs top to bottom in under a minute.

# %%
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

import detect

pd.set_option("display.max_colwidth", 120)
pd.set_option("display.width", 160)


def repo_root() -> Path:
    """The checkout of detect: walk up from here (or from the installed package) to pyproject.toml."""
    for start in (Path.cwd().resolve(), Path(detect.__file__).resolve().parent):
        for d in (start, *start.parents):
            if (d / "pyproject.toml").is_file() and (d / "data" / "sample" / "panel.csv").is_file():
                return d
    raise FileNotFoundError("cannot find the detect checkout (pyproject.toml with data/sample/panel.csv) "
                            "above the working directory or the installed package")


REPO = repo_root()
SAMPLE = REPO / "data" / "sample" / "panel.csv"
WORK = Path(tempfile.mkdtemp(prefix="detect-quickstart-"))   # everything we write goes here
print("detect", detect.__version__, "| sample:", SAMPLE.relative_to(REPO), "| output:", WORK)

# %% [markdown]
# At the end we check that this notebook reproduces the demo (`make demo`, which writes
# `reports/sample/`). If the demo has not been run — or was run before the code or the sample last
# changed, so it may be stale — we run the same command line ourselves: started now, in the
# background, into the temporary folder, so that it is done by the time we need it.

# %%
DEMO = REPO / "reports" / "sample" / "findings.csv"
inputs = [SAMPLE, *Path(detect.__file__).parent.rglob("*.py"), *Path(detect.__file__).parent.rglob("*.toml")]
demo_current = DEMO.is_file() and DEMO.stat().st_mtime >= max(p.stat().st_mtime for p in inputs)
cli_run = None
if not demo_current:
    exe = Path(sys.executable).with_name("detect")
    cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "detect.cli"]
    cli_run = subprocess.Popen([*cmd, "run", str(SAMPLE), "--out", str(WORK / "cli-run"), "--quiet", "--no-register",
                                "--no-report"],
                               cwd=WORK, env={**os.environ, "DETECT_DB": str(WORK / "register.sqlite")},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
print("demo output:", DEMO if demo_current else
      f"{'older than the code or the sample' if DEMO.is_file() else 'absent'}; running `detect run` in the background")

# %% [markdown]
# ## 1. Run every detector
#
# `detect.run(path)` loads the file (CSV, Excel or Parquet; long or wide; Chinese or English headers),
# runs the digit, series, panel and debt detectors, then controls the false-discovery rate across all
# tests and scores each finding. Nothing is written yet. (The same as `detect run
# data/sample/panel.csv`.) In Jupyter the result shows itself as a summary: rows read, used and
# excluded, findings by severity, and the five regions at the top of the risk ranking.

# %%
result = detect.run(SAMPLE)
m = result.manifest
print(f"{m['n_findings']} findings from {sum(m['n_tests'].values())} tests")
result

# %% [markdown]
# ## 2. The panel it read
#
# Nothing is dropped silently: every input row is either used or listed in `result.exclusions` with
# its reason (`rows_in = rows_used + rows_excluded`, recorded in the manifest). The panel shows itself
# as its counts (regions, indicators, years, rows, series with a single value), its indicators and
# its first regions.

# %%
panel = result.panel
print(f"{m['rows_in']} rows in = {m['rows_used']} used + {m['rows_excluded']} excluded")
panel

# %% [markdown]
# `panel.catalogue` lists the indicators with their units and coverage, `panel.regions` the regions
# (provinces at level 0, prefectures at level 1).

# %%
panel.catalogue

# %%
panel.regions.head()

# %% [markdown]
# ## 3. Read the findings
#
# One row per finding, sorted by score. The contract columns are `finding_id, region_code,
# region_name, indicator, period_start, period_end, detector, statistic, p_value, q_value, score,
# severity, summary, summary_zh`; `evidence` holds the numbers behind the flag (the report draws its
# charts from it). `q_value` is the false-discovery-rate-adjusted p-value (see `docs/scoring.md`);
# rule-based flags (debt warning lines, limits) have no p-value and a severity set by rule.

# %%
findings = result.findings
top = findings[findings["severity"].isin(["high", "medium"])]
top[["region_name", "indicator", "period_start", "period_end", "detector", "q_value", "severity", "summary"]].head(15)

# %% [markdown]
# Each finding's `summary` is one plain sentence with the numbers, what was compared with what, how
# unusual it is, and what to check next; `summary_zh` says the same in Chinese, and `check` /
# `check_zh` say what to look at in the source records.

# %%
first = findings.iloc[0]
print(first["summary"])
print(first["summary_zh"])
print("next check:", first["check"])

# %% [markdown]
# Findings by detector and severity:

# %%
pd.crosstab(findings["detector"], findings["severity"]).reindex(columns=["high", "medium", "low", "info"],
                                                                fill_value=0)

# %% [markdown]
# ## 4. The ranking of regions
#
# `regions` ranks every region by a risk score that combines its findings (see `docs/scoring.md`),
# with the count of findings per severity and the id of its top finding.

# %%
result.regions.head(12)

# %% [markdown]
# The sample is synthetic, so we know the truth: `data/sample/truth.csv` lists every planted anomaly.
# How many of the planted regions are among the top of the ranking?

# %%
truth = pd.read_csv(REPO / "data" / "sample" / "truth.csv", dtype={"region_code": str})
planted = set(truth["region_code"])
ranking = result.regions.assign(planted=result.regions["region_code"].isin(planted))
top_n = 25
print(f"{ranking.head(top_n)['planted'].sum()} of the top {top_n} regions carry a planted anomaly "
      f"({len(planted)} regions are planted, out of {len(ranking)}).")
ranking.head(top_n)[["rank", "region_code", "region_name", "risk_score", "n_high", "n_medium", "planted"]]

# %% [markdown]
# ## 5. Write the run directory and render the report
#
# `detect.write_run` writes `findings.csv`, `evidence.jsonl`, `regions.csv`, `exclusions.csv` and
# `manifest.json` (same inputs, same bytes). `detect.report.render_result` then saves the panel for
# the charts and renders `report.pdf` (typst, with an embedded CJK font) and `worklist.xlsx`.

# %%
from detect.report import render_result

run_dir = detect.write_run(result, WORK / "run")
outputs = render_result(result, run_dir)
sorted(p.name for p in run_dir.iterdir())

# %% [markdown]
# A page of the report (rendered to an image with `pypdfium2` when it is installed — it is in the
# test extra; otherwise we print where the PDF is).

# %%
from IPython.display import Image, display

pdf_path = outputs["pdf"]
try:
    import pypdfium2 as pdfium
except ImportError:
    pdfium = None
if pdfium is None:
    print(f"report: {pdf_path} (install pypdfium2 to see a page here)")
else:
    doc = pdfium.PdfDocument(str(pdf_path))
    print(f"report: {pdf_path} ({len(doc)} pages)")
    png = WORK / "report-page-1.png"
    doc[0].render(scale=1.2).to_pil().save(png)
    doc.close()
    display(Image(filename=str(png), width=700))

# %% [markdown]
# ## 6. Did we reproduce the demo?
#
# `make demo` runs `detect run data/sample/panel.csv --out reports/sample`. When that folder exists
# (and is newer than the code and the sample) we compare our `findings.csv` with it byte for byte;
# otherwise we ran the command line ourselves into a temporary folder and compare with that. Same
# inputs and parameters give the same bytes.

# %%
if cli_run is None:
    reference, how = DEMO, "reports/sample/findings.csv from `make demo`"
else:
    _, err = cli_run.communicate()
    assert cli_run.returncode == 0, err
    reference, how = WORK / "cli-run" / "findings.csv", "a fresh `detect run` on the command line"

ours = (run_dir / "findings.csv").read_bytes()
assert ours == reference.read_bytes(), (f"the notebook's findings differ from {how} ({reference}); "
                                        "if that is reports/sample, it may be stale: run `make demo` again")
n = len(pd.read_csv(reference, dtype=str))
print(f"reproduced: the notebook's {n} findings equal {how}, byte for byte")

# %% [markdown]
# ## Where next
#
# * `02_digits` — Benford and last-digit tests, and how to read MAD, Z, excess MAD and suspects;
# * `03_series_and_panel` — a planted case and the Liaoning case, from raw figures to evidence;
# * `04_debt` — debt ratios, risk grades, the debt identity, stress tests and the fan chart;
# * `05_followup` — from findings to the report and the follow-up register.
