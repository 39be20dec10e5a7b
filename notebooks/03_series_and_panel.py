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
# # 03 · Series and panel models: from raw figures to evidence
#
# Two cases, each walked from the figures as published to the findings and the evidence behind them:
#
# 1. **A planted case** from the sample panel: a prefecture whose non-tax revenue was inflated for
#    several years and then corrected (the synthetic copy of the Liaoning pattern; `truth.csv` says
#    where and how much).
# 2. **Liaoning** (辽宁省), the real case: in January 2017 the province admitted that its fiscal figures
#    of 2011–2014 had been inflated (虚增财政收入); fiscal revenue fell by a third in 2015 and reported
#    GDP by a fifth in 2016. The data come from `../shared/data` (research copies that are not
#    redistributed with detect); when that folder is absent the notebook says so and skips part 2.
#
# Nothing is written anywhere.

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import detect
from detect.config import load_config
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


def evidence(row) -> dict:
    """The evidence of a finding as a dict (the findings table holds it as JSON text)."""
    ev = row["evidence"]
    return ev if isinstance(ev, dict) else json.loads(ev or "{}")


def year_axis(*axes) -> None:
    """Whole years on the x axis."""
    for ax in axes:
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))


def years_of(d: dict) -> pd.Series:
    """An evidence series ``{"2015": value}`` as a float Series indexed by year."""
    s = pd.Series({int(str(k)[:4]): (np.nan if v is None else float(v)) for k, v in (d or {}).items()})
    return s.sort_index()


# The series and panel detectors walked through here.
DETECTORS = ["growth_peers", "level_shift", "arima_outlier", "composition", "proxy_divergence"]
COLUMNS = ["indicator", "period_start", "period_end", "detector", "kind", "p_value", "q_value", "severity"]

# %% [markdown]
# ## Part 1 · A planted case: revenue inflated, then corrected
#
# `truth.csv` lists what was planted. We take the first `revenue_inflation` region.

# %%
sample = detect.load(REPO / "data" / "sample" / "panel.csv").panel
truth = pd.read_csv(REPO / "data" / "sample" / "truth.csv", dtype={"region_code": str, "period_start": str,
                                                                   "period_end": str})
case = truth[truth["kind"] == "revenue_inflation"].iloc[1]
CODE, NAME = case["region_code"], case["region_name"]
print(f"{NAME} ({CODE}): {case['description']}")

# %% [markdown]
# ### The raw figures
#
# Fiscal revenue (一般公共预算收入) = tax revenue + non-tax revenue (the identity holds exactly in
# the sample). `panel.series(indicator)` gives a regions × years table; we put the region's three
# series next to the median of its peers (the other prefectures).

# %%
rev = pd.DataFrame({ind: sample.series(ind).loc[CODE] for ind in ("fiscal_revenue", "tax_revenue", "nontax_revenue")})
rev["nontax_share"] = rev["nontax_revenue"] / rev["fiscal_revenue"]
prefectures = sample.regions.loc[sample.regions["level"] == 1, "region_code"]
share_all = sample.series("nontax_revenue").loc[prefectures] / sample.series("fiscal_revenue").loc[prefectures]
rev["peer_median_share"] = share_all.median()
rev.loc[2008:2018].round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
ax = axes[0]
for ind, colour in (("fiscal_revenue", "#1f4e79"), ("tax_revenue", "#2e8b57"), ("nontax_revenue", "#c0392b")):
    ax.plot(rev.index, rev[ind], marker="o", ms=3, color=colour, label=ind)
ax.axvspan(int(case["period_start"]) - 0.5, int(case["period_end"]) + 0.5, color="#c0392b", alpha=0.08,
           label="planted window")
ax.set_title(f"{CODE}: revenue (亿元)", loc="left")
ax.legend(frameon=False, fontsize=8)
ax = axes[1]
ax.plot(rev.index, 100 * rev["nontax_share"], marker="o", ms=3, color="#c0392b", label=f"{CODE}")
ax.plot(rev.index, 100 * rev["peer_median_share"], color="grey", ls="--", label="median prefecture")
ax.set_title("non-tax share of fiscal revenue (%)", loc="left")
ax.legend(frameon=False, fontsize=8)
year_axis(*axes)
plt.tight_layout()

# %% [markdown]
# The picture an auditor would draw by hand: tax revenue grows smoothly, non-tax revenue balloons for
# a few years and fiscal revenue with it, then everything falls back in one year. The detectors turn
# this into tested statements.
#
# ### Running the series and panel detectors
#
# We run five detectors on the whole sample (they compare every region with its peers), through the
# public pipeline `detect.screen(panel, config)`; `config.detectors` picks them. The q-values are
# controlled across the tests of these detectors only, so they differ a little from a full run.

# %%
config = load_config(detectors=DETECTORS)
found, regions, notes, n_tests = detect.screen(sample, config)
print("tests per detector:", n_tests)
mine = found[found["region_code"] == CODE]
mine[mine["q_value"] <= 0.5][COLUMNS]

# %% [markdown]
# Each finding explains itself in one sentence:

# %%
for s in mine.loc[mine["severity"].isin(["high", "medium"]), "summary"]:
    print("•", s)

# %% [markdown]
# ### The evidence behind the flags
#
# Every finding carries its numbers in `evidence` (a JSON object; the PDF report draws its charts from
# it). The break models (**level shift**, and its **ARIMA intervention** confirmation) hold the series
# and the break year; the level-shift search also holds the counterfactual path the series would have
# followed without the break, and the path of its peers' median growth:

# %%
breaks = mine[mine["detector"].isin(["level_shift", "arima_outlier"]) & (mine["indicator"] == "fiscal_revenue")]
fig, ax = plt.subplots(figsize=(8, 3))
if len(breaks):
    brk = breaks.sort_values("detector", key=lambda d: d.ne("level_shift")).iloc[0]   # level_shift first
    ev = evidence(brk)
    print(brk["detector"], {k: v for k, v in ev.items() if not isinstance(v, (dict, list))})
    ax.plot(years_of(ev["series"]), marker="o", ms=3, color="#1f4e79", label="reported fiscal revenue")
    if "counterfactual" in ev:
        ax.plot(years_of(ev["counterfactual"]), color="#1f4e79", ls="--", label="counterfactual (no break)")
    if "peer_path" in ev:
        ax.plot(years_of(ev["peer_path"]), color="grey", ls=":", label="peers' median growth path")
    ax.axvline(ev["break_year"], color="#c0392b", lw=1)
    ax.set_title(f"{brk['detector']}: break in {ev['break_year']} (p = {brk['p_value']:.2g}, "
                 f"q = {brk['q_value']:.2g})", loc="left")
else:
    print("no break model listed a finding on this region's fiscal revenue; the raw series:")
    ax.plot(rev.index, rev["fiscal_revenue"], marker="o", ms=3, color="#1f4e79", label="reported fiscal revenue")
ax.legend(frameon=False, fontsize=8)
year_axis(ax)

# %% [markdown]
# Revenue should grow with its tax base. The **proxy** detector fits a robust two-way fixed-effects
# regression of reported revenue growth on tax and VAT growth across all regions; a run of years with
# reported growth above what the proxies imply is an inflation phase, a year below it a correction.
# The raw version of that comparison — revenue growth against tax growth — with the detector's implied
# growth added when it reported a finding for this region:

# %%
growth = np.log(rev[["fiscal_revenue", "tax_revenue"]]).diff().dropna()
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(growth.index, 100 * growth["fiscal_revenue"], marker="o", ms=3, color="#1f4e79", label="fiscal revenue growth")
ax.plot(growth.index, 100 * growth["tax_revenue"], color="#2e8b57", label="tax revenue growth")
px = mine[(mine["detector"] == "proxy_divergence") & (mine["indicator"] == "fiscal_revenue")]
if len(px):
    evp = evidence(px.iloc[0])
    ax.plot(100 * years_of(evp["implied_growth"]), color="#2e8b57", ls="--", label="growth implied by tax and VAT")
    ry = evp.get("run_years") or []
    if ry:
        ax.axvspan(min(ry) - 0.5, max(ry) + 0.5, color="#c0392b", alpha=0.08,
                   label=f"proxy run tested (q = {px.iloc[0]['q_value']:.2g})")
ax.axvspan(int(case["period_start"]) - 0.5, int(case["period_end"]) + 0.5, color="grey", alpha=0.08,
           label="planted window")
ax.set_ylabel("log growth, % per year")
ax.set_title("revenue against its tax base", loc="left")
ax.legend(frameon=False, fontsize=8)
year_axis(ax)
print("proxy_divergence findings for this region (p <= 0.05):", len(px))

# %% [markdown]
# ### Against the truth
#
# The planted window and the periods of the region's high and medium findings:

# %%
strong = mine[mine["severity"].isin(["high", "medium"])]
print(f"planted: {case['kind']} {case['period_start']}–{case['period_end']} (effect {case['effect_size']})")
print(strong[["indicator", "period_start", "period_end", "detector", "severity"]].to_string(index=False))
assert len(strong), "the planted region has no high or medium finding"
assert strong["period_end"].astype(int).between(int(case["period_start"]), int(case["period_end"])).any()

# %% [markdown]
# The correction year is what stands out most clearly: a one-year fall of a quarter or more that
# neither the tax base nor the peers share. The inflation years themselves show as reported growth
# above what tax and VAT imply — weaker evidence one year at a time, which is why the report groups a
# region's findings into one story.
#
# ## Part 2 · Liaoning, the real case
#
# Two research copies in `../shared/data` (read their `SOURCE.md`: neither has a licence, so they are
# read in place and never copied):
#
# * `cn-province-csmar-ntl/province__ADM1.csv` — 31 provinces, 1992–2022: GDP **as first published**
#   (not back-revised after the 2018 census), secondary-industry value added, fixed-asset investment,
#   population, and the VIIRS-like night-light sum (`vl1s`), a physical proxy of activity;
# * `cn-localdebt-fiscal/All_Province_2014_-_17.csv` — provincial general budget revenue, tax, non-tax
#   and VAT, 2014–2017, transcribed from the finance yearbooks.

# %%
NTL = SHARED / "cn-province-csmar-ntl"
FISCAL = SHARED / "cn-localdebt-fiscal"
HAVE_LIAONING = (NTL / "province__ADM1.csv").is_file() and (FISCAL / "All_Province_2014_-_17.csv").is_file()
if HAVE_LIAONING:
    for src in (NTL / "SOURCE.md", FISCAL / "SOURCE.md"):
        head = src.read_text(encoding="utf-8").splitlines()
        print(f"{src.parent.name}/SOURCE.md:", head[0].lstrip("# "))
        print("   ", next((line for line in head if line.lower().startswith("license")), "").strip())
else:
    display(Markdown(f"**The Liaoning data are absent** (`{NTL}` and `{FISCAL}` are not here; they are research "
                     "copies that are not redistributed with detect). Part 2 is skipped: the cells below do "
                     "nothing. Set `DETECT_SHARED_DATA` to their location to run it."))

# %% [markdown]
# ### Building a panel from the two files
#
# Both files are wide; we reshape them to the long input contract (`region_code, region_name,
# parent_code, indicator, period, value, unit`) and let `detect.Panel.from_frame` validate it.

# %%
if HAVE_LIAONING:
    adm = pd.read_csv(NTL / "province__ADM1.csv", encoding="utf-8-sig")
    adm["region_code"] = adm["regionid"].astype(str)
    columns = {"Gdp0101": ("gdp", "亿元"), "Gdp0103": ("gdp_secondary", "亿元"), "Ifa0101": ("investment", "亿元"),
               "Pop01": ("population", "万人"), "vl1s": ("night_lights", "DN")}
    parts = []
    for col, (ind, unit) in columns.items():
        x = adm[["region_code", "regionName", "year", col]].dropna()
        parts.append(pd.DataFrame({"region_code": x["region_code"], "region_name": x["regionName"], "parent_code": "",
                                   "indicator": ind, "period": x["year"].astype(str), "value": x[col], "unit": unit}))
    fiscal = pd.read_csv(FISCAL / "All_Province_2014_-_17.csv")
    codes = dict(zip(adm["regionName"], adm["region_code"]))
    fiscal["region_code"] = fiscal["province"].str.strip().map(codes)
    assert fiscal["region_code"].notna().all(), "a province name of the fiscal table is not in the GDP table"
    for col, ind in {"revenue_all": "fiscal_revenue", "revenue_alltax": "tax_revenue",
                     "revenue_allnontax": "nontax_revenue", "revenue_vat": "vat_revenue"}.items():
        x = fiscal[["region_code", "province", "year", col]].dropna()
        parts.append(pd.DataFrame({"region_code": x["region_code"], "region_name": x["province"].str.strip(),
                                   "parent_code": "", "indicator": ind, "period": x["year"].astype(str),
                                   "value": x[col], "unit": "亿元"}))
    provinces = detect.Panel.from_frame(pd.concat(parts, ignore_index=True), source="shared data (Liaoning case)")
    LN = "210000"
    display(provinces)
    display(provinces.catalogue)

# %% [markdown]
# ### The raw figures
#
# Liaoning's GDP and investment against the night lights, as an index (2010 = 100), with the median
# province for comparison; and its fiscal revenue split into tax and non-tax, 2014–2017.

# %%
if HAVE_LIAONING:
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.3))
    ax = axes[0]
    for ind, colour in (("gdp", "#1f4e79"), ("investment", "#8e44ad"), ("night_lights", "#2e8b57")):
        s = provinces.series(ind)
        idx = 100 * s.div(s[2010], axis=0)
        ax.plot(idx.columns, idx.loc[LN], marker="o", ms=2.5, color=colour, label=f"Liaoning {ind}")
        ax.plot(idx.columns, idx.median(), color=colour, ls=":", lw=1, label=f"median province {ind}")
    ax.set_xlim(2005, 2022)
    ax.set_ylim(0, 300)
    ax.set_title("index, 2010 = 100", loc="left")
    ax.legend(frameon=False, fontsize=7, ncols=2)
    ax = axes[1]
    fr = pd.DataFrame({ind: provinces.series(ind).loc[LN] for ind in ("tax_revenue", "nontax_revenue")}).dropna()
    ax.bar(fr.index, fr["tax_revenue"], color="#2e8b57", label="tax")
    ax.bar(fr.index, fr["nontax_revenue"], bottom=fr["tax_revenue"], color="#c0392b", label="non-tax")
    ax.set_title("Liaoning general budget revenue (亿元)", loc="left")
    ax.legend(frameon=False, fontsize=8)
    year_axis(*axes)
    plt.tight_layout()
    display(fr.assign(total=fr.sum(axis=1), growth=fr.sum(axis=1).pct_change().round(3)))

# %% [markdown]
# Reported GDP fell 22 % in 2016 while the night lights did not move; fixed-asset investment fell by
# almost two thirds; fiscal revenue lost a third in 2015, most of it non-tax revenue. The same
# detectors as in part 1, on the 31 provinces:

# %%
if HAVE_LIAONING:
    ln_found, ln_regions, ln_notes, ln_tests = detect.screen(provinces, load_config(detectors=DETECTORS))
    print("tests per detector:", ln_tests)
    liaoning = ln_found[ln_found["region_code"] == LN]
    display(liaoning[liaoning["p_value"] <= 0.05][COLUMNS])

# %% [markdown]
# Reading the table:
#
# * the 2015 revenue collapse is flagged by the **composition** detector — revenue fell far below
#   what its base (GDP) did, against the same-year gap of the other provinces;
# * the 2016 falls of GDP, secondary-industry value added and investment are tested by **growth
#   against peers**, by the **level-shift** search and by its **ARIMA intervention** confirmation.
#   Which of them are listed depends on the false-discovery control across every test of the run:
#   one province's break among 31 provinces × 30 years of growth rates, in a panel where several
#   provinces had large swings, is weaker evidence one test at a time than the picture suggests.
#   Tests that do not pass are counted (they enter the false-discovery control) but not listed.
#
# The fiscal series is only four years long here, too short for the break and proxy models; the notes
# say what did not apply:

# %%
if HAVE_LIAONING:
    for n in ln_notes:
        print("•", n)

# %% [markdown]
# The 2016 break, drawn from the panel and, where a break model listed it, from the finding's evidence
# (its counterfactual path without the break):

# %%
if HAVE_LIAONING:
    in_2016 = liaoning[liaoning["indicator"].isin(["gdp", "gdp_secondary", "investment"])
                       & (liaoning["period_start"].astype(int) <= 2016) & (liaoning["period_end"].astype(int) >= 2016)]
    print(f"{len(in_2016)} listed findings on GDP, secondary industry or investment covering 2016")
    for text in in_2016["summary"]:
        print("•", text)
    gdp = provinces.series("gdp").loc[LN].dropna()
    nl = provinces.series("night_lights").loc[LN].dropna()
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(gdp.index, gdp.values, marker="o", ms=3, color="#1f4e79", label="reported GDP, first published (亿元)")
    ax.plot(nl.index, nl / nl[2010] * gdp[2010], color="#2e8b57", lw=1, label="night lights, scaled to GDP in 2010")
    shifts = in_2016[(in_2016["indicator"] == "gdp") & (in_2016["detector"] == "level_shift")]
    if len(shifts):
        ax.plot(years_of(evidence(shifts.iloc[0])["counterfactual"]), color="#1f4e79", ls="--",
                label="counterfactual (no break)")
    ax.axvline(2016, color="#c0392b", lw=1)
    ax.set_xlim(2000, 2022)
    ax.set_title("Liaoning: reported GDP against night lights", loc="left")
    ax.legend(frameon=False, fontsize=8)
    year_axis(ax)
    assert (liaoning["indicator"].eq("fiscal_revenue") & liaoning["period_start"].eq("2015")
            & (liaoning["p_value"] <= 0.05)).any(), "the 2015 revenue collapse is not flagged"

# %% [markdown]
# Where does Liaoning stand among the 31 provinces? The ranking combines each province's findings.
# The provinces ranked near it deserve the same walk from raw figures to evidence (Inner Mongolia, for
# one, admitted in January 2018 that its 2016 fiscal revenue had been inflated). A flag is a lead, not
# a verdict: a boundary change or a census revision breaks a series too.

# %%
if HAVE_LIAONING:
    display(ln_regions.head(10)[["rank", "region_code", "region_name", "risk_score", "n_high", "n_medium", "n_low"]])
    print("Liaoning:", int(ln_regions.loc[ln_regions["region_code"] == LN, "rank"].iat[0]), "of", len(ln_regions))

# %% [markdown]
# ## Summary
#
# * Start from the raw figures: a chart of the series against its peers and its proxies shows what
#   the models will test.
# * Each detector answers one question (an unusual year against peers, a lasting break, growth the
#   proxies do not support, a revenue mix out of line) with a p-value and an explanation; a region
#   flagged by several independent models is a stronger lead.
# * A correction is easier to see than the inflation it corrects — which is why the report groups a
#   region's findings into one story and asks what was corrected.
# * Every number behind a flag is in `evidence`: the charts here are drawn from it, as in the report.
