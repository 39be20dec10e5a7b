"""The audit trail: append-only (triggers), one row per change, hash chain that shows tampering."""

from __future__ import annotations

import sqlite3

import pytest

from review_helpers import drive, finding


@pytest.fixture
def trail(reg, make_run):
    reg.record_run(make_run([finding("110000"), finding("120000")]))
    fid = reg.table()["finding_id"].iat[0]
    drive(reg, fid, "closed")
    reg.add_note(fid, "archived with file 2026-88", by="Wang")
    return reg, fid


@pytest.mark.parametrize("sql", [
    "UPDATE audit SET note = 'rewritten' WHERE audit_id = 1",
    "UPDATE audit SET by = 'someone else'",
    "UPDATE audit SET new_status = 'open' WHERE audit_id = (SELECT max(audit_id) FROM audit)",
])
def test_audit_rows_cannot_be_updated(trail, sql):
    reg, _ = trail
    n = reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        reg.conn.execute(sql)
    assert reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0] == n
    assert reg.verify() == []


@pytest.mark.parametrize("sql", ["DELETE FROM audit WHERE audit_id = 1", "DELETE FROM audit"])
def test_audit_rows_cannot_be_deleted(trail, sql):
    reg, _ = trail
    n = reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        reg.conn.execute(sql)
    assert reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0] == n


@pytest.mark.parametrize("sql, message", [
    ("DELETE FROM findings", "never deleted"),
    ("DELETE FROM finding_status", "never deleted"),
    ("DELETE FROM runs", "never deleted"),
    ("DELETE FROM run_recordings", "append-only"),
])
def test_findings_status_and_runs_cannot_be_deleted(trail, sql, message):
    reg, _ = trail
    with pytest.raises(sqlite3.IntegrityError, match=message):
        reg.conn.execute(sql)


def test_every_change_appends_exactly_one_row_with_who_what_when(trail):
    reg, fid = trail
    h = reg.history(fid)
    # created, then 6 moves to closed, then the note
    assert list(h["action"]) == ["created"] + ["status"] * 6 + ["note"]
    assert list(h["new_status"]) == ["open", "assigned", "under_review", "confirmed", "rectification_due",
                                     "rectified", "closed", "closed"]
    assert list(h["old_status"].iloc[1:7]) == ["open", "assigned", "under_review", "confirmed",
                                               "rectification_due", "rectified"]
    assert h["old_status"].iloc[0] is None
    assert h["by"].iloc[0] == "detect run" and set(h["by"].iloc[1:]) == {"Wang"}
    assert list(h["at"]) == sorted(h["at"]) and all(a.endswith("Z") for a in h["at"])
    assert h["note"].iloc[-1] == "archived with file 2026-88"
    assert "evidence: rectification notice 2026-17" in h["note"].iloc[5]


def test_audit_row_must_match_the_current_status(trail):
    reg, fid = trail
    with pytest.raises(sqlite3.IntegrityError, match="does not match the current status"):
        reg.conn.execute("INSERT INTO audit (finding_id, at, by, action, old_status, new_status, note, prev_hash, "
                         "row_hash) VALUES (?, 'now', 'x', 'note', 'open', 'open', 'x', 'p', 'h')", (fid,))


def test_hash_chain_shows_tampering_that_bypasses_the_triggers(trail):
    reg, fid = trail
    assert reg.verify() == []
    # A determined user can drop the trigger (SQLite files are not tamper-proof) ...
    reg.conn.execute("DROP TRIGGER audit_no_update")
    reg.conn.execute("UPDATE audit SET note = 'nothing to see' WHERE audit_id = 3")
    problems = reg.verify()
    # ... but the edited row no longer matches its hash.
    assert any("audit row 3" in p for p in problems)


def test_status_changed_without_audit_row_is_reported(trail):
    reg, _ = trail
    other = reg.table(status="open")["finding_id"].iat[0]
    reg.conn.execute("UPDATE finding_status SET status = 'assigned', owner = 'x', version = version + 1 "
                     "WHERE finding_id = ?", (other,))
    assert any(f"finding {other} is assigned but its audit trail ends at open" in p for p in reg.verify())


@pytest.mark.parametrize("sql", [
    "UPDATE finding_status SET owner = 'Mallory', version = version + 1 WHERE finding_id = ?",
    "UPDATE finding_status SET due_date = '2030-01-01', due_source = 'reviewer', version = version + 1 "
    "WHERE finding_id = ?",
    "UPDATE finding_status SET evidence_note = 'a better story', version = version + 1 WHERE finding_id = ?",
])
def test_status_row_changed_outside_detect_is_reported(trail, sql):
    """The owner (responsibility list), deadline or evidence changed with another tool, status untouched: the
    triggers allow it, and verify said ok. Every change of a status row bumps its version (trigger) and detect
    writes one audit row per change, so the version counts the changes the trail must show."""
    reg, fid = trail
    assert reg.verify() == []
    reg.conn.execute(sql, (fid,))
    assert any(f"finding {fid}" in p and "outside detect" in p for p in reg.verify()), reg.verify()


def test_removed_tail_of_the_audit_trail_is_reported(trail):
    """Deleting the newest audit rows (triggers dropped) leaves a valid hash chain; the AUTOINCREMENT
    counter still knows how many rows were written."""
    reg, fid = trail
    reg.conn.execute("DROP TRIGGER audit_no_delete")
    n = reg.conn.execute("SELECT max(audit_id) FROM audit").fetchone()[0]
    reg.conn.execute("DELETE FROM audit WHERE audit_id = ?", (n,))     # the closing note
    problems = reg.verify()
    assert any("removed" in p and str(n) in p for p in problems), problems
