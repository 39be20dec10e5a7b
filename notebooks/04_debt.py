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
# # 04 · Debt: ratios, grades, the debt identity, stress tests and the fan chart
#
# Reckless borrowing (盲目举债) shows in the ratios of debt to what a government can pay it with, in
# debt that grows faster than the deficits it should finance, and in where the ratio is heading. This
# notebook walks through `detect.debt` on the sample panel:
#
# 1. **ratios** — 债务率, 全口径债务率, 负债率, interest, debt service, limit utilisation … with the reason
#    wherever one cannot be computed;
# 2. **risk grades** — green / yellow / orange / red on the full-caliber debt ratio;
# 3. **the debt identity** — debt should rise by the deficit it finances; the residual is the check;
# 4. **stress tests** — projections under standard shocks, the first year each line is crossed, and
#    the bootstrap **fan chart**;
# 5. the debt findings against the planted debt surges; and, when `../shared/data` has it, the
#    prefecture debt atlas (real 2018–2025 figures).
#
# Nothing is written anywhere.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import detect
from detect.config import load_config, threshold
from detect.debt import SCENARIOS, compute_ratios, stress_table
from detect.report.fonts import register_matplotlib

plt.rcParams["font.family"] = [register_matplotlib()]   # the report's font: CJK region names in charts
pd.set_option("display.max_colwidth", 110)
pd.set_option("display.width", 160)


def repo_root() -> Path:
    """The checkout of detect: walk up from here (or from the installed package) to pyproject.toml."""
    for start in (Path.cwd().resolve(), Path(detect.__file__).resolve().parent):
        for d in (start, *start.parents):
            if (d / "pyproject.toml").is_file() and (d / "data" / "sample" / "panel.csv").is_file():
                return d
    raise FileNotFoundError("cannot find the detect checkout (pyproject.toml with data/sample/panel.csv)")


REPO = repo_root()
SHARED = Path(os.environ.get("DETECT_SHARED_DATA", REPO.parent / "shared" / "data"))
config = load_config()
sample = detect.load(REPO / "data" / "sample" / "panel.csv").panel
truth = pd.read_csv(REPO / "data" / "sample" / "truth.csv", dtype={"region_code": str, "period_start": str,
                                                                   "period_end": str})
surges = truth[truth["kind"] == "debt_surge"]
CODE = surges["region_code"].iloc[0]
NAME = sample.region_name(CODE)
surges[["region_code", "region_name", "period_start", "period_end", "effect_size", "description"]]

# %% [markdown]
# ## 1. Ratios
#
# `compute_ratios(panel)` computes every ratio for every region-year at once. The summary lists each
# ratio with its formula, how many region-years it could be computed for, the median, how many are
# over the ratio's warning line — and, when it could not be computed, why. 综合财力 (comprehensive
# fiscal resources) = general budget revenue + transfers received + government-fund revenue.

# %%
ratios = compute_ratios(sample, config)
ratios

# %% [markdown]
# A ratio that cannot be computed is never zero: it is *not computable*, with the reason and the
# inputs that would make it computable. The sample has no overdue debt, and debt only from 2014: for the
# years before, the debt ratios *do not apply* (statutory local-government debt starts with the end-2014
# stock) — the reason says so and asks for nothing. The `resources_parts` column of `ratios.table` says
# which parts formed 综合财力 (state-capital revenue is added where given):

# %%
ratios.not_computable().head(8)

# %% [markdown]
# `ratios.wide()` is a (region, year) × ratio table; one region's recent years:

# %%
ratios.wide().loc[CODE].loc[2013:].round(3)

# %% [markdown]
# ## 2. Risk grades
#
# The grade follows the full-caliber debt ratio (statutory debt + LGFV debt over 综合财力): green below
# 120 %, yellow to 200 %, orange to 300 %, red above (`[debt_grades]` in `detect/thresholds.toml`, with
# their citations). Where LGFV debt is absent the statutory 债务率 is graded instead, as a lower bound.
# `grades()` gives each region's latest graded year:

# %%
grades = ratios.grades()
print(grades["grade"].value_counts().to_dict())
grades.sort_values("value", ascending=False).head(8)

# %%
full = ratios.wide()["full_caliber_ratio"].unstack("year")
fig, ax = plt.subplots(figsize=(9, 3.4))
for code, row in full.iterrows():
    planted = code in set(surges["region_code"])
    ax.plot(row.index, 100 * row.values, color="#c0392b" if planted else "#bbbbbb", lw=1.6 if planted else 0.6,
            zorder=3 if planted else 1)
    if planted:
        ax.annotate(sample.region_name(code), (row.index[-1], 100 * row.values[-1]), fontsize=8, color="#c0392b")
for key, colour in (("green_below", "#d4ac0d"), ("orange_from", "#e67e22"), ("red_from", "#c0392b")):
    ax.axhline(100 * float(threshold(f"debt_grades.{key}", config)), color=colour, lw=0.8, ls="--")
ax.set_xlim(2013.5, 2023.5)
ax.set_ylabel("full-caliber debt ratio (%)")
ax.set_title("every region (grey) and the planted debt surges (red), with the grade lines", loc="left");

# %% [markdown]
# ## 3. The debt identity
#
# Debt rises by the deficit it finances: ΔD_t = deficit_t + stock-flow adjustment, with
# deficit_t = fiscal expenditure − fiscal revenue − transfers received. The scaled residual
# r_t = (ΔD_t − deficit_t) / expenditure_t has a region-specific level (special bonds finance the fund
# budget) and year effects, which the `debt_identity` detector removes robustly before testing
# (`docs/debt.md`). By hand, from the panel, for the first planted region against the median
# prefecture:

# %%
w = sample.wide(["debt_balance", "fiscal_expenditure", "fiscal_revenue", "transfer_revenue"])
w = w.sort_index()
dD = w["debt_balance"].groupby(level="region_code").diff()
deficit = w["fiscal_expenditure"] - w["fiscal_revenue"] - w["transfer_revenue"]
resid = ((dD - deficit) / w["fiscal_expenditure"]).rename("residual").dropna()
by_year = resid.unstack("region_code")
prefs = [c for c in by_year.columns if not c.endswith("0000")]
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(by_year.index, 100 * by_year[prefs].median(axis=1), color="grey", ls="--", label="median prefecture")
ax.fill_between(by_year.index, 100 * by_year[prefs].quantile(0.1, axis=1), 100 * by_year[prefs].quantile(0.9, axis=1),
                color="grey", alpha=0.15, label="10th–90th percentile")
ax.plot(by_year.index, 100 * by_year[CODE], marker="o", ms=3, color="#c0392b", label=f"{NAME} ({CODE})")
ax.set_ylabel("(ΔD − deficit) / expenditure, %")
ax.set_title("debt change not explained by the deficit", loc="left")
ax.legend(frameon=False, fontsize=8);

# %% [markdown]
# The detector turns that picture into findings. We run the four debt detectors through the public
# pipeline (`detect.screen`) and look at the identity findings of the planted regions:

# %%
debt_found, debt_regions, debt_notes, debt_tests = detect.screen(
    sample, load_config(detectors=["debt_ratios", "debt_surge", "debt_identity", "debt_stress"]))
print("tests per detector:", debt_tests)
ident = debt_found[(debt_found["detector"] == "debt_identity") & debt_found["region_code"].isin(surges["region_code"])]
ident[["region_name", "indicator", "period_start", "period_end", "kind", "p_value", "severity", "summary"]]

# %% [markdown]
# ## 4. Stress tests and the fan chart
#
# `stress_table(panel)` projects each region's debt ratio over the horizon with the debt-dynamics
# equation from its own recent growth, interest and borrowing (baseline), and under standard shocks
# adapted from the IMF (2013) framework: growth −1 s.d., interest +200 bp, a worse primary balance,
# land revenue −30 % / −50 %, 10–50 % of LGFV debt recognised, transfers −10 %, and all combined. For
# every scenario it records the first year each line (100 %, 120 %, 200 %, 300 %) is crossed — the
# deadline that goes on the worklist.

# %%
stress = stress_table(sample, config)
stress

# %% [markdown]
# `deadlines(scenario)` is a region × line table of the first crossing year (NaN: not within the
# horizon). The planted regions under the baseline and the combined shock:

# %%
dl = pd.concat({sc: stress.deadlines(sc) for sc in ("baseline", "land_30", "combined")}, axis=1)
dl.reindex(pd.MultiIndex.from_product([list(surges["region_code"]), ["resources"]], names=dl.index.names))

# %% [markdown]
# The scenario paths of one region, and its **fan chart**: a seeded bootstrap that resamples the
# region's own historical deviations of growth, interest and borrowing jointly by year, giving the
# 5th–95th percentile band of the projected ratio (`stress.fan`).

# %%
paths = stress.paths[(stress.paths["region_code"] == CODE) & (stress.paths["base"] == "resources")]
fan = stress.fan[(stress.fan["region_code"] == CODE) & (stress.fan["base"] == "resources")]
hist = ratios.wide()["debt_ratio"].loc[CODE].dropna()
fig, ax = plt.subplots(figsize=(9, 3.6))
ax.plot(hist.index, 100 * hist.values, marker="o", ms=3, color="#1f4e79", lw=1.8, label="债务率 reported")
if len(fan):
    band = fan.pivot(index="year", columns="percentile", values="value")
    band = band[sorted(band.columns, key=lambda c: float(c.lstrip("p")))]   # p5, p25, p50, p75, p95
    pcts = list(band.columns)
    for k in range(len(pcts) // 2):            # outer band lightest, inner bands darker
        lo, hi = pcts[k], pcts[-1 - k]
        ax.fill_between(band.index, 100 * band[lo], 100 * band[hi], color="#1f4e79", alpha=0.12,
                        label=f"fan chart {lo}–{hi}")
    if len(pcts) % 2:
        ax.plot(band.index, 100 * band[pcts[len(pcts) // 2]], color="#1f4e79", ls="--", lw=1,
                label=f"bootstrap {pcts[len(pcts) // 2]}")
shown = ("baseline", "growth", "interest", "land_30", "lgfv_30", "combined")
for sc, colour in zip(shown, plt.cm.tab10.colors):
    p = paths[paths["scenario"] == sc]
    if len(p):
        ax.plot(p["year"], 100 * p["value"], color=colour, lw=1, ls=":", label=sc)
for v, colour in ((100, "grey"), (120, "#d4ac0d"), (200, "#e67e22"), (300, "#c0392b")):
    ax.axhline(v, color=colour, lw=0.7)
ax.set_ylabel("debt / 综合财力 (%)")
ax.set_title(f"{NAME} ({CODE}): history, stress scenarios and fan chart", loc="left")
ax.legend(frameon=False, fontsize=7, ncols=3, loc="upper left");

# %% [markdown]
# Which regions cross a line only under stress? Count regions newly crossing 100 % by scenario:

# %%
c = stress.crossings
new = c[(c["base"] == "resources") & (c["line"] == "100%") & ~c["already"].astype(bool) & c["year"].notna()]
counts = new.groupby("scenario")["region_code"].nunique().reindex(list(SCENARIOS), fill_value=0)
counts.rename("regions newly above 100 %")

# %% [markdown]
# ## 5. The debt findings against the truth
#
# The planted debt surges (debt and LGFV debt growing 20–27 pp a year faster than the deficit explains,
# above the debt limit) and the strongest debt finding of each:

# %%
best = (debt_found[debt_found["region_code"].isin(surges["region_code"])]
        .sort_values(["region_code", "score"], ascending=[True, False]).groupby("region_code").head(3))
best[["region_name", "detector", "kind", "period_start", "period_end", "severity", "summary"]]

# %%
flagged = set(debt_found.loc[debt_found["severity"].isin(["high", "medium"]), "region_code"])
missed = sorted(set(surges["region_code"]) - flagged)
assert not missed, f"planted debt surges without a high or medium debt finding: {missed}"
print(f"all {len(surges)} planted debt surges have a high or medium debt finding")

# %% [markdown]
# ## 6. Real figures: the prefecture debt atlas (optional)
#
# `detect.debt.atlas.load_atlas` maps the China prefecture debt atlas (official-source rows, 2018–2025;
# a research copy in `../shared/data`, read in place) into a panel. It has no transfers received, so
# 债务率 is not computable — and says so — while 负债率, debt / revenue, limit utilisation and
# fiscal self-sufficiency are.

# %%
ATLAS = SHARED / "china-prefecture-debt-atlas"
if (ATLAS / "city_macro_fiscal.csv").is_file():
    from detect.debt.atlas import load_atlas

    atlas = load_atlas(ATLAS)
    atlas_ratios = compute_ratios(atlas, config)
    display(atlas_ratios)
else:
    atlas_ratios = None
    display(Markdown(f"**The atlas is absent** (`{ATLAS}`): it is a research copy, not redistributed with detect. "
                     "Set `DETECT_SHARED_DATA` to its location to run this section."))

# %%
if atlas_ratios is not None:
    dg = atlas_ratios.wide()["debt_to_gdp"].dropna()
    latest = dg.groupby(level="region_code").tail(1)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.hist(100 * latest.values, bins=40, color="#1f4e79")
    ax.axvline(100 * float(threshold("debt.debt_to_gdp_reference", config)), color="#c0392b", lw=1,
               label="60 % reference")
    ax.set_xlabel("负债率 (debt / GDP), latest year, %")
    ax.set_ylabel("prefectures")
    ax.legend(frameon=False)
    ax.set_title(f"{len(latest)} prefectures in the atlas", loc="left")

# %% [markdown]
# ## Summary
#
# * `compute_ratios` — every ratio, with the reason when one cannot be computed; `grades()` — the
#   latest risk grade of each region.
# * The debt identity catches borrowing the deficit does not explain — the signature of off-budget or
#   unrecorded debt.
# * `stress_table` — scenario paths, first crossing years (`deadlines()`) and the bootstrap fan chart;
#   the crossing years become deadlines in the follow-up register (notebook 05).
