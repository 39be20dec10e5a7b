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
# # 05 · Follow-up: from findings to the report and the register
#
# A flag is worth nothing until someone checks it. detect keeps the closed loop of
# **问题清单、责任清单、整改清单、时限清单** (problems, responsibilities, rectifications, deadlines) in one
# SQLite file, the *follow-up register* (`docs/review.md`). This notebook goes the whole way:
#
# 1. run detect on the sample and write the run directory;
# 2. record the run in a register — every finding enters as `open`, deadlines pre-filled from the
#    debt stress tests;
# 3. assign findings, move them through the workflow (and see a move that is refused);
# 4. render the report and the worklist with the register's statuses, and export the register's
#    own worklist;
# 5. read a finding's audit trail and verify the register's hash chain.
#
# Everything goes to a temporary folder (the register too): nothing is written to the repository.

# %%
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

import detect
from detect.review import STATUSES, TransitionError, Register, allowed_next

pd.set_option("display.max_colwidth", 90)
pd.set_option("display.width", 160)


def repo_root() -> Path:
    """The checkout of detect: walk up from here (or from the installed package) to pyproject.toml."""
    for start in (Path.cwd().resolve(), Path(detect.__file__).resolve().parent):
        for d in (start, *start.parents):
            if (d / "pyproject.toml").is_file() and (d / "data" / "sample" / "panel.csv").is_file():
                return d
    raise FileNotFoundError("cannot find the detect checkout (pyproject.toml with data/sample/panel.csv)")


REPO = repo_root()
WORK = Path(tempfile.mkdtemp(prefix="detect-followup-"))
DB = WORK / "detect-review.sqlite"
TODAY = "2025-01-15"          # the register's "today": fixed, so what is overdue does not depend on the clock
print("output and register in", WORK)

# %% [markdown]
# ## 1. Run and write the run directory
#
# The same as `detect run data/sample/panel.csv --out RUN --db REGISTER`, in Python.

# %%
result = detect.run(REPO / "data" / "sample" / "panel.csv")
run_dir = detect.write_run(result, WORK / "run")
print(f"{len(result.findings)} findings -> {run_dir}")
result.findings["severity"].value_counts()

# %% [markdown]
# ## 2. Record the run in the register
#
# `Register(path)` opens (or creates) the register. `record_run` reads the run directory: a new
# `finding_id` enters as `open`; a finding seen in an earlier run keeps its status, owner and history;
# one that an earlier run had but this run could have produced and did not is marked "not reproduced"
# — never deleted. Debt findings whose stress test says when a line will be crossed get that year as
# a pre-filled deadline.

# %%
reg = Register(DB, today=TODAY)
rec = reg.record_run(run_dir)
print(rec.summary())

# %% [markdown]
# Recording the same run again changes nothing (the run id is a hash of its files):

# %%
print(reg.record_run(run_dir).summary())

# %% [markdown]
# The register as a table — the 问题清单. The high-severity findings, in the register's order
# (deadline first, then score):

# %%
table = reg.table()
high = table[table["severity"] == "high"]
high[["finding_id", "status", "region_name", "indicator", "period_start", "period_end", "detector", "due_date",
      "due_source"]].head(12)

# %% [markdown]
# ## 3. Work the findings
#
# The workflow, enforced by the code and again by the database:
#
# ```
# open -> assigned -> under_review -> confirmed -> rectification_due -> rectified -> closed
#                                  \-> dismissed (reason required)
# ```
#
# Reopening is allowed, always with a note. We give three findings three different fates:
#
# * **A** — the strongest fiscal-revenue finding: checked, confirmed, rectified with evidence, closed;
# * **B** — a low-severity finding (a last-digit one when there is one): checked and dismissed, with the reason;
# * **C** — the strongest debt-surge finding: assigned with a deadline that has already passed.

# %%
def strongest(*masks):
    """The highest-scored finding id where the first mask that matches anything holds."""
    for mask in masks:
        if mask.any():
            return table[mask].sort_values("score", ascending=False)["finding_id"].iat[0]
    raise LookupError("no finding matches")


revenue = (table["indicator"] == "fiscal_revenue") & table["severity"].isin(["high", "medium"])
a = strongest(revenue & table["detector"].isin(["arima_outlier", "composition", "level_shift", "growth_peers"]),
              revenue)
b = strongest((table["detector"] == "digits") & table["severity"].isin(["low", "info"]),
              table["severity"].isin(["low", "info"]))
c = strongest(table["detector"] == "debt_surge", table["detector"].str.startswith("debt"))
ids = [a, b, c]
print("allowed from open:", allowed_next("open"), "| statuses:", STATUSES)

# A: assigned, checked, confirmed, ordered rectified by a deadline, rectified with evidence, closed.
reg.assign(a, owner="李审计", due="2025-03-31", by="王处长", note="priority: revenue fell by a quarter in one year")
reg.set_status(a, "under_review", by="李审计")
reg.add_note(a, "tax bureau ledgers and treasury receipts requested for the three years before the fall", by="李审计")
reg.set_status(a, "confirmed", by="李审计", note="non-tax revenue booked without cash receipts (虚收空转)")
reg.set_status(a, "rectification_due", by="王处长", due="2025-06-30")
reg.set_status(a, "rectified", by="李审计", evidence="finance bureau correction notice, 2025-05-20")
reg.set_status(a, "closed", by="王处长")

# B: assigned and checked, then dismissed with a reason.
reg.assign(b, owner="陈审计", due="2025-02-28", by="王处长")
reg.set_status(b, "under_review", by="陈审计")
reg.set_status(b, "dismissed", by="陈审计",
               reason="figures traced to the source records and found as recorded: an explained change")

# C: assigned with a deadline that has passed: overdue.
reg.assign(c, owner="赵审计", due="2024-12-31", by="王处长")
reg.table(finding_ids=ids)[["finding_id", "status", "owner", "due_date", "overdue", "region_name", "detector",
                            "dismiss_reason", "evidence_note"]]

# %% [markdown]
# Steps cannot be skipped, and every refusal says what is allowed instead:

# %%
try:
    reg.set_status(c, "confirmed", by="赵审计")
except TransitionError as exc:
    print("refused:", exc)
try:
    reg.set_status(b, "under_review", by="陈审计")        # reopening needs a note saying why
except TransitionError as exc:
    print("refused:", exc)

# %% [markdown]
# The 时限清单: what is overdue as of the register's today?

# %%
reg.table(overdue=True)[["finding_id", "status", "owner", "due_date", "due_source", "region_name", "detector"]]

# %% [markdown]
# ## 4. The report and the worklists
#
# `render_result(result, run_dir, db=register)` saves the panel for the charts and renders
# `report.pdf` and `worklist.xlsx` with each finding's status, owner and deadline from the register
# (without a register every item is `open`). `render_run(run_dir, db=...)` re-renders a run directory
# later, e.g. after the register has moved on (`detect report RUN_DIR`).

# %%
from detect.report import render_result

out = render_result(result, run_dir, db=DB, date=TODAY)
worklist = pd.read_excel(out["xlsx"], sheet_name=0)
print(out["pdf"].name, out["xlsx"].name, "| worklist columns:", list(worklist.columns)[:10], "…")
worklist.head(8)

# %% [markdown]
# The register also exports its own worklist (`detect review export`), filtered like `table()`: an
# Excel file reviewers edit (status, owner, deadline, notes) and hand back with `detect review import`,
# which applies each change through the same workflow checks. Here: the active high and medium findings.

# %%
from detect.review.worklist import export_xlsx

xlsx = WORK / "register-worklist.xlsx"
serious = table.loc[table["severity"].isin(["high", "medium"]), "finding_id"]
n = export_xlsx(reg, xlsx, status=["open", "assigned", "under_review", "confirmed", "rectification_due"],
                finding_ids=serious)
exported = pd.read_excel(xlsx, sheet_name=0)
print(f"{n} rows exported to {xlsx.name}")
exported[["finding_id", "status", "owner", "due_date", "overdue", "severity", "region_name", "detector"]].head(8)

# %% [markdown]
# A page of the report (when `pypdfium2` is installed — it is in the test extra):

# %%
try:
    import pypdfium2 as pdfium
except ImportError:
    pdfium = None
if pdfium is None:
    print(f"report: {out['pdf']}")
else:
    doc = pdfium.PdfDocument(str(out["pdf"]))
    page = len(doc) - 1 if len(doc) < 3 else 2
    png = WORK / "report-page.png"
    doc[page].render(scale=1.2).to_pil().save(png)
    print(f"page {page + 1} of {len(doc)}")
    doc.close()
    display(Image(filename=str(png), width=700))

# %% [markdown]
# ## 5. The audit trail
#
# Every change is one append-only audit row: who, when, from which status to which, and the note.
# Rows are chained by a hash of the previous row, so an edit made behind detect's back shows.

# %%
reg.history(a)[["at", "by", "action", "old_status", "new_status", "note", "source"]]

# %%
problems = reg.verify()
assert problems == [], problems
print("register verified: integrity check, foreign keys, audit hash chain and statuses all sound")
reg.runs()

# %%
reg.close()

# %% [markdown]
# ## Summary
#
# * `detect run` (or `detect.run` + `write_run`) → `Register.record_run` puts every finding on the
#   problem list, carries statuses across runs and never deletes a finding.
# * `assign`, `set_status` and `add_note` move findings through the workflow; steps cannot be skipped,
#   dismissals need a reason, rectification needs evidence, reopening needs a note.
# * `render_result` / `render_run(..., db=...)` and `export_xlsx` put the register's statuses into the
#   report and the worklist; `history` and `verify` keep the record honest.
# * On the command line: `detect review list|show|assign|status|note|export|import`.
