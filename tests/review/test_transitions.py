"""Every allowed and every refused status change, in code and in the database."""

from __future__ import annotations

import itertools
import sqlite3

import pytest

from detect.review.migrations import ALLOWED_TRANSITIONS
from detect.review.store import STATUSES, TRANSITIONS, TransitionError

from review_helpers import drive, full_kwargs, path_to

# The workflow of issue 8, written out independently of the code's table.
EXPECTED_ALLOWED = {
    ("open", "assigned"), ("assigned", "under_review"), ("under_review", "confirmed"),
    ("under_review", "dismissed"), ("confirmed", "rectification_due"), ("rectification_due", "rectified"),
    ("rectified", "closed"),
    # reopen (with a note), docs/review.md
    ("dismissed", "under_review"), ("confirmed", "under_review"), ("rectified", "rectification_due"),
    ("closed", "under_review"),
}
PAIRS = [(a, b) for a, b in itertools.product(STATUSES, STATUSES) if a != b]


def test_table_is_the_documented_workflow():
    assert set(TRANSITIONS) == EXPECTED_ALLOWED
    assert len(PAIRS) == 56


def test_database_table_matches_code(reg):
    rows = reg.conn.execute("SELECT from_status, to_status, needs FROM allowed_transitions").fetchall()
    assert {tuple(r) for r in rows} == set(ALLOWED_TRANSITIONS)


@pytest.mark.parametrize("old, new", PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_in_code(one, old, new):
    reg, fid = one
    drive(reg, fid, old)
    assert reg.get(fid)["status"] == old
    before = (reg.get(fid)["version"], len(reg.history(fid)))
    if (old, new) in EXPECTED_ALLOWED:
        out = reg.set_status(fid, new, by="Zhao", **full_kwargs(new))
        assert out["status"] == new
        h = reg.history(fid).iloc[-1]
        assert (h["old_status"], h["new_status"], h["by"], h["action"]) == (old, new, "Zhao", "status")
        assert out["version"] == before[0] + 1
    else:
        with pytest.raises(TransitionError, match=f"cannot go from {old} to {new}"):
            reg.set_status(fid, new, by="Zhao", **full_kwargs(new))
        assert (reg.get(fid)["version"], len(reg.history(fid))) == before
        assert reg.get(fid)["status"] == old


@pytest.mark.parametrize("old, new", PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_in_database(one, old, new):
    """A raw UPDATE that bypasses detect's code is refused by the database unless allowed."""
    reg, fid = one
    drive(reg, fid, old)
    sql = ("UPDATE finding_status SET status = ?, owner = 'Li', due_date = '2026-12-31', due_source = 'reviewer', "
           "dismiss_reason = 'r', evidence_note = 'e', version = version + 1 WHERE finding_id = ?")
    reg.conn.execute("BEGIN")
    try:
        if (old, new) in EXPECTED_ALLOWED:
            reg.conn.execute(sql, (new, fid))
        else:
            with pytest.raises(sqlite3.IntegrityError, match="allowed_transitions"):
                reg.conn.execute(sql, (new, fid))
    finally:
        reg.conn.execute("ROLLBACK")


def test_new_row_must_start_open(one):
    reg, fid = one
    with pytest.raises(sqlite3.IntegrityError, match="enters the register as open"):
        reg.conn.execute("INSERT INTO finding_status (finding_id, status, owner, updated_at, updated_by) "
                         "VALUES (?, 'assigned', 'x', 'now', 'x')", (fid,))


@pytest.mark.parametrize("target, missing, message", [
    ("dismissed", "reason", "needs a reason"),
    ("rectified", "evidence", "needs an evidence note"),
    ("rectification_due", "due", "needs a rectification deadline"),
    ("assigned", "owner", "needs an owner"),
])
def test_requirements(one, target, missing, message):
    reg, fid = one
    steps = path_to(target)
    for s in steps[:-1]:
        kw = full_kwargs(s)
        if target == "rectification_due":
            kw.pop("due")  # no deadline anywhere on the way
        reg.set_status(fid, s, by="Wang", **kw)
    kw = full_kwargs(target)
    kw.pop(missing)
    if missing == "owner":
        kw.pop("owner", None)
    before = reg.get(fid)["version"]
    with pytest.raises(TransitionError, match=message):
        reg.set_status(fid, target, by="Wang", **kw)
    assert reg.get(fid)["version"] == before


@pytest.mark.parametrize("old, new", [(a, b) for (a, b), n in TRANSITIONS.items() if n == "note"])
def test_reopen_needs_a_note_in_code_and_database(one, old, new):
    reg, fid = one
    drive(reg, fid, old)
    kw = full_kwargs(new)
    kw["note"] = "  "
    with pytest.raises(TransitionError, match="needs a note"):
        reg.set_status(fid, new, by="Wang", **kw)
    # the database refuses an audit row recording a reopen without a note
    reg.conn.execute("BEGIN")
    try:
        reg.conn.execute("UPDATE finding_status SET status = ?, version = version + 1 WHERE finding_id = ?", (new, fid))
        with pytest.raises(sqlite3.IntegrityError, match="needs a note"):
            reg.conn.execute("INSERT INTO audit (finding_id, at, by, action, old_status, new_status, note, prev_hash, "
                             "row_hash) VALUES (?, 'now', 'x', 'status', ?, ?, '', 'p', 'h')", (fid, old, new))
    finally:
        reg.conn.execute("ROLLBACK")
    out = reg.set_status(fid, new, by="Wang", **full_kwargs(new))
    assert out["status"] == new
    assert reg.history(fid).iloc[-1]["note"].startswith("moving to")


def test_dismissed_needs_reason_in_database(one):
    reg, fid = one
    drive(reg, fid, "under_review")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        reg.conn.execute("UPDATE finding_status SET status = 'dismissed', version = version + 1 WHERE finding_id = ?",
                         (fid,))


def test_reopen_clears_the_old_reason_but_the_audit_keeps_it(one):
    reg, fid = one
    drive(reg, fid, "dismissed")
    assert reg.get(fid)["dismiss_reason"] == "figures revised by the bureau"
    reg.set_status(fid, "under_review", by="Wang", note="bureau withdrew the revision")
    assert reg.get(fid)["dismiss_reason"] is None
    assert "reason: figures revised by the bureau" in " ".join(reg.history(fid)["note"])


def test_unknown_status_and_same_status(one):
    reg, fid = one
    with pytest.raises(TransitionError, match="already open"):
        reg.set_status(fid, "open", by="Wang")
    with pytest.raises(Exception, match="unknown status 'done'"):
        reg.set_status(fid, "done", by="Wang")
    with pytest.raises(Exception, match="--by"):
        reg.set_status(fid, "assigned", by=" ", owner="x")


def test_assign_and_reassign(one):
    reg, fid = one
    out = reg.assign(fid, "Li", "2026-07-01", by="Chief")
    assert (out["status"], out["owner"], out["due_date"], out["due_source"]) == ("assigned", "Li", "2026-07-01",
                                                                                 "reviewer")
    reg.set_status(fid, "under_review", by="Li")
    out = reg.assign(fid, "Zhou", None, by="Chief")
    assert (out["status"], out["owner"], out["due_date"]) == ("under_review", "Zhou", "2026-07-01")
    reg.set_status(fid, "dismissed", by="Zhou", reason="typo in the yearbook, corrected")
    with pytest.raises(TransitionError, match="reopen it"):
        reg.assign(fid, "Li", None, by="Chief")
