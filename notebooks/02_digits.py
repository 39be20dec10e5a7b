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
# # 02 · Digit tests: Benford's law and digit preference
#
# Invented figures carry the fingerprints of the people who invent them: leading digits that do not
# follow Benford's law, favourite amounts repeated, last digits that end in 0 or 5 too often.
# `detect.digits` tests them exactly, on the digits *as reported*.
#
# We look at three kinds of data:
#
# 1. **corporate payments** (Nigrini's West Coast utility, 2010) — a classic *non*-conforming set with
#    known causes;
# 2. **census populations** (US towns, 2009) — counted figures that conform;
# 3. **the sample panel** — where the last-digit detector finds the regions with planted digit
#    preference.
#
# The first two come from `../shared/data/benford` (reference data from the R package
# `benford.analysis`, not redistributed with detect; set `DETECT_SHARED_DATA` to read them from
# elsewhere). When that folder is absent the notebook falls back to the public-domain sample shipped
# in `data/benford/` (see below). Nothing is written anywhere.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import detect
from detect.digits import benford, distortion_factor, duplicates, second_order, summation

pd.set_option("display.max_colwidth", 100)


def repo_root() -> Path:
    """The checkout of detect: walk up from here (or from the installed package) to pyproject.toml."""
    for start in (Path.cwd().resolve(), Path(detect.__file__).resolve().parent):
        for d in (start, *start.parents):
            if (d / "pyproject.toml").is_file() and (d / "data" / "sample" / "panel.csv").is_file():
                return d
    raise FileNotFoundError("cannot find the detect checkout (pyproject.toml with data/sample/panel.csv)")


REPO = repo_root()
SHARED = Path(os.environ.get("DETECT_SHARED_DATA", REPO.parent / "shared" / "data"))
BENFORD_DIR = SHARED / "benford"


def digit_chart(res, ax=None, title=""):
    """Observed proportions (bars; red where Z > 1.96) against the expected ones (line)."""
    t = res.table
    ax = ax or plt.subplots(figsize=(9, 2.8))[1]
    colours = np.where(t["z"] > 1.96, "#c0392b", "#1f4e79")
    ax.bar(t["digit"].astype(str), t["observed"], color=colours, width=0.8, label="observed")
    ax.plot(t["digit"].astype(str), t["expected"], color="black", lw=1.2, label="expected")
    step = max(1, len(t) // 18)
    ax.set_xticks(range(0, len(t), step), t["digit"].astype(str).iloc[::step])
    ax.set_ylabel("share")
    ax.set_title(title or res.label, loc="left", fontsize=10)
    ax.legend(frameon=False)
    return ax


# %% [markdown]
# ## The data

# %% [markdown]
# **When `../shared/data/benford` is absent** the census populations come from
# `data/benford/census2009_pop.csv`, which ships with detect: the same 19,509 US town populations of
# July 2009, figures of the US Census Bureau and so in the public domain (`data/benford/SOURCE.md`).
# The **corporate payments are then skipped** (sections 2 and the cents comparison in 3 say so and
# move on): they are a utility's private payment records, distributed only inside the GPL-3 R package,
# so detect does not redistribute them and has no public-domain equivalent.

# %%
PAYMENTS_FILE = BENFORD_DIR / "corporate.payment.csv.gz"
CENSUS_SHARED = BENFORD_DIR / "census.2009.csv"
CENSUS_PUBLIC = REPO / "data" / "benford" / "census2009_pop.csv"   # public domain, ships with detect

if PAYMENTS_FILE.is_file():
    corp = pd.read_csv(PAYMENTS_FILE, dtype={"Amount": str})
    payments = corp["Amount"]            # read as text: the digits exactly as reported (cents)
    payments_note = (f"corporate payments of a West Coast utility in 2010 ({len(payments):,} amounts, "
                     f"`{PAYMENTS_FILE}`; Nigrini 2012, *Benford's Law*, Wiley; via the R package "
                     "benford.analysis, GPL-3)")
else:
    payments = None
    payments_note = (f"no corporate payments: `{PAYMENTS_FILE}` is absent and they are not redistributable, "
                     "so the payment tests below are skipped")

CENSUS_FILE, SOURCE = (CENSUS_SHARED, "shared") if CENSUS_SHARED.is_file() else (CENSUS_PUBLIC, "fallback")
census = pd.read_csv(CENSUS_FILE)
populations = census["pop.2009"].round().astype("int64").astype(str).rename("pop.2009")
census_note = (f"the July 2009 population of {len(populations):,} US towns (US Census Bureau, public domain; "
               f"`{CENSUS_FILE.relative_to(REPO) if SOURCE == 'fallback' else CENSUS_FILE}`)")
display(Markdown(f"**Data** — {payments_note}; {census_note}."))


def skip_payments() -> None:
    """Say why a payments cell does nothing (the reference file is absent)."""
    print(f"skipped: no corporate payments ({PAYMENTS_FILE} is absent)")


# %% [markdown]
# ## 1. A first look: what Benford's law expects
#
# In data that span several orders of magnitude and arise from multiplication and growth, the first
# digit is 1 about 30.1 % of the time and 9 only 4.6 % (`log10(1 + 1/d)`). Two public-domain
# mathematical sequences obey it exactly in the limit: the Fibonacci numbers and the powers of 2.
# We compute them here, exactly, as integers.

# %%
fib = [1, 1]
while len(fib) < 1000:
    fib.append(fib[-1] + fib[-2])
powers_of_two = [2 ** k for k in range(1, 1001)]
fib_res = benford([str(f) for f in fib], test="first")
fib_res.label = "first 1000 Fibonacci numbers"
fib_res

# %% [markdown]
# The summary says what was tested, how many values, and every statistic with its reading:
#
# * **MAD** — mean absolute deviation between observed and expected proportions, with Nigrini's
#   conformity level (close / acceptable / marginally acceptable / nonconformity; cut-offs in
#   `detect/thresholds.toml [digits]`, Nigrini 2012 Table 7.1). MAD does not grow with `n`, so it is
#   the statistic to use on large data sets where the chi-square rejects everything.
# * **Expected MAD** and **excess MAD** — even perfect Benford data have a MAD above zero in a finite
#   sample; its expectation for this `n` is computed exactly, and the excess (MAD minus its
#   expectation) is comparable across sample sizes. A MAD close to its expectation is noise.
# * **Chi-square**, **Kolmogorov–Smirnov** and **Kuiper** — formal tests with p-values (KS and Kuiper by
#   seeded Monte Carlo for the discrete digit distribution).
# * **Z per digit** — `(|p_obs − p_exp| − 1/(2n)) / sqrt(p_exp (1 − p_exp) / n)`, signed: positive
#   where a digit is over-represented. **Suspect digit groups** are those with Z > 1.96, with the
#   records behind them.
#
# The Fibonacci numbers conform closely — more closely than a random sample of 1000 would (negative
# excess MAD): they are not random, they are Benford's law itself. So do the powers of two:

# %%
two_res = benford([str(v) for v in powers_of_two], test="first")
print(f"powers of 2: n = {two_res.n}, MAD = {two_res.mad:.5f} ({two_res.conformity}), "
      f"excess MAD {two_res.excess_mad:+.5f}, chi-square p = {two_res.p_value:.3f}")
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8))
digit_chart(fib_res, axes[0], "Fibonacci: first digit")
digit_chart(two_res, axes[1], "powers of 2: first digit")
plt.tight_layout()

# %% [markdown]
# ## 2. Corporate payments: first-two digits
#
# Nigrini's first-two-digit test (digits 10–99) on amounts of at least 10 is the workhorse of audit
# analytics. Negative amounts (credits) and zeros are left out and counted, with a note. (Without
# `../shared/data/benford` the payment cells of this section print that they are skipped.)

# %%
if payments is not None:
    pay = benford(payments, test="first-two", min_value=10)
    display(pay)
    digit_chart(pay, title=f"payments, first-two digits (MAD {pay.mad:.4f}: {pay.conformity})")
else:
    skip_payments()

# %% [markdown]
# Reading it: compare the MAD with Nigrini's cut-offs *and* with what chance alone gives for this `n`
# (the excess MAD); then look at the digit groups with the largest Z. The suspects point to *where*
# to look, not *what* happened: here the largest spikes come from a few amounts paid over and over
# (a 50.00 fee, a 1,153.35 invoice, …). The number duplication test lists them, with the records
# (row labels) behind each.

# %%
if payments is not None:
    print(f"MAD {pay.mad:.5f}: {pay.conformity}; chance alone gives {pay.expected_mad:.5f} for n = {pay.n:,} "
          f"(excess {pay.excess_mad:+.5f}); {len(pay.suspects)} digit groups with Z > 1.96")
    display(pay.suspects[["digit", "count", "expected_count", "z"]].head(8))
    display(duplicates(payments, top=8, min_value=10))
else:
    skip_payments()

# %% [markdown]
# Two companion tests: the **summation test** (every first-two-digit group should hold the same total
# amount under Benford's law; a few very large amounts show as excess sums) and the **second-order
# test** (the digits of the differences between sorted amounts, which conform for almost any
# continuous data — a deviation there points to rounding or invented values).

# %%
if payments is not None:
    summ = summation(payments, digits=2, min_value=10)
    display(summ.sort_values("abs_excess", ascending=False).head(5))
    display(second_order(payments, test="first-two"))
else:
    skip_payments()

# %% [markdown]
# The **distortion factor** says whether the amounts as a whole are shifted up or down against
# Benford's law (e.g. amounts kept just below an approval limit):

# %%
distortion_factor(payments, min_value=10) if payments is not None else skip_payments()

# %% [markdown]
# ## 3. Census populations: counted figures conform
#
# Town populations are counts from records, not chosen amounts. Their first digits conform and their
# last two digits are uniform — what honest figures look like. The last-digit tests use only values
# whose last digit is at least the third significant digit (Hill 1995); shorter numbers are left out
# and counted.

# %%
pop_first = benford(populations, test="first")
pop_first

# %%
pop_last = benford(populations, test="last-two")
fig, axes = plt.subplots(1, 2, figsize=(11, 2.8))
digit_chart(pop_first, axes[0], f"populations, first digit (MAD {pop_first.mad:.4f}: {pop_first.conformity})")
digit_chart(pop_last, axes[1], f"populations, last two digits (chi-square p = {pop_last.p_value:.2f})")
plt.tight_layout()

# %% [markdown]
# Compare with the payments' last two digits (the cents): a chosen amount ends in `.00` far too often.

# %%
print(f"populations: last-two chi-square p = {pop_last.p_value:.3f}, excess MAD {pop_last.excess_mad:+.5f}")
if payments is not None:
    pay_last = benford(payments, test="last-two")
    print(f"payments:    last-two chi-square p = {pay_last.p_value:.3g}, excess MAD {pay_last.excess_mad:+.5f}; "
          f"top suspects: {', '.join(f'{int(d):02d}' for d in pay_last.suspects['digit'].head(3))}")
else:
    skip_payments()

# %% [markdown]
# ## 4. The sample panel: last-digit preference per region
#
# Regional statistics are too few per region for a leading-digit test, but a region reports a few
# hundred level figures over twenty years (GDP, revenue, electricity, …) and their **last** reported
# digit should be uniform. People who write numbers down favour 0 and 5. The `digits` detector pools
# each region's level figures, reads each at its series' reported precision, and tests the last
# digits against uniform (chi-square, and a focused test of the 0/5 share; see `docs/digits.md`).
#
# We run only that detector on the sample through the public pipeline (`detect.screen`).

# %%
from detect.config import load_config

sample = detect.load(REPO / "data" / "sample" / "panel.csv").panel
config = load_config(detectors=["digits"])
found, regions, notes, n_tests = detect.screen(sample, config)
print(f"{n_tests['digits']} regions tested; notes: {notes}")
found[["region_code", "region_name", "p_value", "q_value", "severity", "summary"]]

# %% [markdown]
# Which regions were planted? `truth.csv` has them (kind `digit_preference`).

# %%
truth = pd.read_csv(REPO / "data" / "sample" / "truth.csv", dtype={"region_code": str})
planted = truth.loc[truth["kind"] == "digit_preference", ["region_code", "region_name", "effect_size"]]
flagged = set(found.loc[found["severity"].isin(["high", "medium"]), "region_code"])
planted = planted.assign(flagged_high_or_medium=planted["region_code"].isin(flagged))
assert planted["flagged_high_or_medium"].all(), "a planted digit_preference region was not flagged"
planted

# %% [markdown]
# Every planted region is flagged with high or medium severity. The same test by hand for one planted
# region and one clean one: their two-decimal money figures (亿元), as reported in the file, through
# `benford(..., test="last")`.

# %%
money = sample.data[(sample.data["unit"] == "亿元") & sample.data["value"].notna()]
code_planted = planted["region_code"].iloc[0]
code_clean = next(c for c in sorted(money["region_code"].unique())
                  if c not in set(truth["region_code"]) and len(c) == 6 and not c.endswith("0000"))
last_planted = benford(money.loc[money["region_code"] == code_planted, "raw"], test="last")
last_planted.label = f"{sample.region_name(code_planted)} ({code_planted}), planted"
last_clean = benford(money.loc[money["region_code"] == code_clean, "raw"], test="last")
last_clean.label = f"{sample.region_name(code_clean)} ({code_clean}), clean"
last_planted

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8), sharey=True)
digit_chart(last_planted, axes[0], f"planted {code_planted}: last digit, p = {last_planted.p_value:.1e}")
digit_chart(last_clean, axes[1], f"clean {code_clean}: last digit, p = {last_clean.p_value:.2f}")
plt.tight_layout()

# %% [markdown]
# ## Summary
#
# * Leading-digit tests need many values spanning orders of magnitude: payments, invoices, ledgers.
#   Read MAD with its conformity level **and** the excess MAD; use the suspects and the duplication
#   test to find the records behind a spike.
# * Counted figures (populations) conform; chosen amounts (fees, round numbers) do not — a deviation
#   is a reason to look, not proof of fraud.
# * For regional statistics the last reported digit is the usable fingerprint: the `digits` detector
#   finds every region of the sample whose figures were partly written by hand.
# * On the command line: `detect benford FILE --column Amount --test first-two --min-value 10`.
