"""Several reviewers' processes writing at once lose no update; a process killed in the middle of a
write leaves a consistent register with all or nothing of its batch."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from detect.review import ConflictError, Register, TransitionError

from review_helpers import drive, finding

N_PROC, N_OPS = 4, 50
REPO = Path(__file__).resolve().parents[2]


def _notes_worker(db: str, fid: str, who: str, n: int) -> int:
    with Register(db) as reg:
        for i in range(n):
            reg.add_note(fid, f"{who} note {i}", by=who)
    return n


def _race_worker(db: str, fids: list[str], who: str) -> int:
    """Try to move every finding assigned -> under_review; count the moves this process won."""
    won = 0
    with Register(db) as reg:
        for f in fids:
            try:
                reg.set_status(f, "under_review", by=who, expected_status="assigned")
                won += 1
            except (TransitionError, ConflictError):
                pass
    return won


@pytest.fixture
def shared(tmp_path, make_run):
    db = tmp_path / "shared.sqlite"
    with Register(db) as reg:
        reg.record_run(make_run([finding(f"{110000 + 100 * i}") for i in range(N_OPS)]))
        fids = list(reg.table()["finding_id"])
    return str(db), fids


def test_concurrent_notes_none_lost(shared):
    db, fids = shared
    ctx = mp.get_context("fork")
    with ctx.Pool(N_PROC) as pool:
        done = pool.starmap(_notes_worker, [(db, fids[0], f"rev{k}", N_OPS) for k in range(N_PROC)])
    assert sum(done) == N_PROC * N_OPS
    with Register(db) as reg:
        notes = reg.history(fids[0]).query("action == 'note'")
        assert len(notes) == N_PROC * N_OPS
        for k in range(N_PROC):  # each process's notes all there, in its own order
            mine = [n for n in notes["note"] if n.startswith(f"rev{k} ")]
            assert mine == [f"rev{k} note {i}" for i in range(N_OPS)]
        assert reg.verify() == []  # the hash chain was extended one writer at a time


def test_concurrent_transitions_each_applied_once(shared):
    db, fids = shared
    with Register(db) as reg:
        for f in fids:
            reg.assign(f, "Li", "2026-12-31", by="Chief")
    ctx = mp.get_context("fork")
    with ctx.Pool(N_PROC) as pool:
        won = pool.starmap(_race_worker, [(db, fids, f"rev{k}") for k in range(N_PROC)])
    assert sum(won) == len(fids)  # every finding moved exactly once, by one process
    with Register(db) as reg:
        moves = reg.conn.execute("SELECT finding_id, count(*) FROM audit WHERE old_status = 'assigned' AND "
                                 "new_status = 'under_review' GROUP BY finding_id").fetchall()
        assert len(moves) == len(fids) and {m[1] for m in moves} == {1}
        assert set(reg.table()["status"]) == {"under_review"}
        assert reg.verify() == []


def test_optimistic_check(reg, make_run):
    reg.record_run(make_run([finding("110000")]))
    fid = reg.table()["finding_id"].iat[0]
    drive(reg, fid, "under_review")
    v = reg.get(fid)["version"]
    reg.set_status(fid, "confirmed", by="A", expected_status="under_review", expected_version=v)
    with pytest.raises(ConflictError, match="is now confirmed"):
        reg.set_status(fid, "dismissed", by="B", reason="x", expected_status="under_review")
    with pytest.raises(ConflictError, match="changed since you looked"):
        reg.assign(fid, "Zhou", None, by="B", expected_version=v)


# --- a kill during a write -----------------------------------------------------------------------

_CHILD = textwrap.dedent("""
    import sys, time
    from detect.review import Register
    db, fid, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    reg = Register(db)
    if mode == "notes":
        with reg.transaction():
            for i in range(400):
                reg.add_note(fid, f"batch note {i}", by="killed")
                if i == 200:
                    print("half", flush=True)
                    time.sleep(60)
    else:  # a big run being recorded
        from detect.review import store
        calls = [0]
        orig = store.Register._audit
        def slow(self, *a, **k):
            orig(self, *a, **k)
            calls[0] += 1
            if calls[0] == 700:
                print("half", flush=True)
                time.sleep(60)
        store.Register._audit = slow
        reg.record_run(sys.argv[4])
    print("done", flush=True)
""")


def _kill_midway(db: str, fid: str, mode: str, *extra: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen([sys.executable, "-c", _CHILD, db, fid, mode, *extra], stdout=subprocess.PIPE, text=True,
                         env=env, cwd=REPO)
    try:
        line = p.stdout.readline().strip()
        assert line == "half", f"child did not reach the middle of its write: {line!r}"
        os.kill(p.pid, signal.SIGKILL)
    finally:
        p.wait(timeout=30)
        p.stdout.close()
    assert p.returncode == -signal.SIGKILL


def test_kill_in_the_middle_of_a_batch_leaves_nothing(shared):
    db, fids = shared
    _kill_midway(db, fids[0], "notes")
    with Register(db) as reg:
        assert reg.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert reg.verify() == []
        assert not (reg.history(fids[0])["by"] == "killed").any()  # nothing of the batch landed
        reg.add_note(fids[0], "after the crash", by="Wang")   # and the register is writable
        assert reg.history(fids[0])["note"].iat[-1] == "after the crash"


def test_kill_while_recording_a_run(shared, make_run):
    db, fids = shared
    big = make_run([finding(f"{200000 + i}") for i in range(1000)])
    with Register(db) as reg:
        n_before = reg.conn.execute("SELECT count(*) FROM findings").fetchone()[0]
    _kill_midway(db, fids[0], "run", str(big))
    with Register(db) as reg:
        assert reg.verify() == []
        assert reg.conn.execute("SELECT count(*) FROM findings").fetchone()[0] == n_before
        assert len(reg.runs()) == 1
        rec = reg.record_run(big)  # the same run recorded again afterwards: all of it lands
        assert rec.n_new == 1000 and rec.n_gone == 0
        assert reg.conn.execute("SELECT count(*) FROM findings").fetchone()[0] == n_before + 1000


def test_a_lock_held_elsewhere_gives_a_clear_error_soon(one):
    """A writer that never lets go (an open sqlite3 session, a hung process): the next write gives up with
    one clear message after a bounded wait. It waited busy_timeout x 50 retries (over 4 minutes by default)."""
    import sqlite3
    import time

    from detect.review import RegisterBusyError

    reg, fid = one
    holder = sqlite3.connect(reg.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Register(reg.path, busy_timeout_ms=100) as other:
            t0 = time.monotonic()
            with pytest.raises(RegisterBusyError, match="locked by another writer"):
                other.add_note(fid, "waits for the lock", by="Li")
            with pytest.raises(RegisterBusyError, match="locked by another writer"):
                with other.transaction():
                    pass
            assert time.monotonic() - t0 < 4
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    reg.add_note(fid, "the lock is free again", by="Li")
    assert reg.verify() == []
