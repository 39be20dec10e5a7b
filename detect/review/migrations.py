"""Versioned schema of the follow-up register.

``MIGRATIONS`` is an ordered list of SQL scripts; script ``i`` (0-based) takes the database from
schema version ``i`` to ``i + 1``. The version is kept twice: in ``PRAGMA user_version`` (what
:func:`migrate` trusts) and as one row per applied script in ``schema_version`` (when it was
applied, for people reading the file). A migration runs inside one ``BEGIN IMMEDIATE``
transaction together with the version bump, so a crash leaves the previous version intact.

Never edit a released script: append a new one.

The database enforces the workflow on its own, so that a write that bypasses detect's code (the
``sqlite3`` shell, another tool) cannot break it:

* ``allowed_transitions`` lists every permitted ``from_status -> to_status`` pair, with what the
  move requires (``needs``: ``owner``, ``due``, ``reason``, ``evidence``, ``note`` or ``''``);
  a trigger refuses any other status change of ``finding_status``;
* CHECK constraints keep each status's invariants (a dismissed finding has a reason, a rectified
  or closed one an evidence note, anything past ``open`` an owner, ``rectification_due`` a
  deadline; dates are real ``YYYY-MM-DD`` dates);
* the ``audit`` table is append-only (UPDATE and DELETE raise), and an audit row that records a
  status change must match the current status and an allowed transition (with its note when
  the transition needs one);
* findings, their status rows and runs are never deleted.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

#: The statuses, in workflow order, with their Chinese labels.
STATUS_LABELS_ZH: dict[str, str] = {
    "open": "待核查",
    "assigned": "已分派",
    "under_review": "核查中",
    "confirmed": "问题属实",
    "dismissed": "排除",
    "rectification_due": "限期整改",
    "rectified": "已整改",
    "closed": "已销号",
}

#: Every allowed transition: (from, to, needs). ``needs`` names what the move requires.
ALLOWED_TRANSITIONS: tuple[tuple[str, str, str], ...] = (
    ("open", "assigned", "owner"),
    ("assigned", "under_review", ""),
    ("under_review", "confirmed", ""),
    ("under_review", "dismissed", "reason"),
    ("confirmed", "rectification_due", "due"),
    ("rectification_due", "rectified", "evidence"),
    ("rectified", "closed", ""),
    # Reopening, always with a note saying why (what new fact arrived):
    ("dismissed", "under_review", "note"),         # a dismissal was wrong
    ("confirmed", "under_review", "note"),         # a confirmation rested on wrong facts
    ("rectified", "rectification_due", "note"),    # the evidence of rectification did not hold
    ("closed", "under_review", "note"),            # a closed problem came back
)

_V1 = r"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE statuses (
    status   TEXT PRIMARY KEY,
    ord      INTEGER NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    terminal INTEGER NOT NULL CHECK (terminal IN (0, 1))
);

CREATE TABLE allowed_transitions (
    from_status TEXT NOT NULL REFERENCES statuses(status),
    to_status   TEXT NOT NULL REFERENCES statuses(status),
    needs       TEXT NOT NULL DEFAULT '' CHECK (needs IN ('', 'owner', 'due', 'reason', 'evidence', 'note')),
    PRIMARY KEY (from_status, to_status),
    CHECK (from_status <> to_status)
);

CREATE TABLE runs (
    run_id        TEXT PRIMARY KEY,
    run_dir       TEXT NOT NULL,
    manifest_json TEXT NOT NULL,
    n_findings    INTEGER NOT NULL CHECK (n_findings >= 0),
    created_at    TEXT NOT NULL
);

CREATE TABLE run_recordings (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL REFERENCES runs(run_id),
    recorded_at TEXT NOT NULL,
    n_new       INTEGER NOT NULL,
    n_seen      INTEGER NOT NULL,
    n_gone      INTEGER NOT NULL
);

CREATE TABLE findings (
    finding_id        TEXT PRIMARY KEY CHECK (length(finding_id) > 0),
    region_code       TEXT NOT NULL,
    region_name       TEXT NOT NULL,
    indicator         TEXT NOT NULL,
    period_start      TEXT NOT NULL,
    period_end        TEXT NOT NULL,
    detector          TEXT NOT NULL,
    statistic         REAL,
    p_value           REAL,
    q_value           REAL,
    score             REAL,
    severity          TEXT NOT NULL,
    summary           TEXT NOT NULL,
    summary_zh        TEXT NOT NULL,
    family            TEXT NOT NULL DEFAULT '',
    kind              TEXT NOT NULL DEFAULT '',
    evidence_json     TEXT NOT NULL DEFAULT '{}',
    first_seen_run    TEXT NOT NULL REFERENCES runs(run_id),
    last_seen_run     TEXT NOT NULL REFERENCES runs(run_id),
    reproduced        INTEGER NOT NULL DEFAULT 1 CHECK (reproduced IN (0, 1)),
    not_reproduced_in TEXT REFERENCES runs(run_id),
    CHECK ((reproduced = 1) = (not_reproduced_in IS NULL))
);
CREATE INDEX findings_region ON findings(region_code);

CREATE TABLE finding_status (
    finding_id     TEXT PRIMARY KEY REFERENCES findings(finding_id),
    status         TEXT NOT NULL DEFAULT 'open' REFERENCES statuses(status),
    owner          TEXT,
    due_date       TEXT,
    due_source     TEXT CHECK (due_source IS NULL OR due_source IN ('reviewer', 'stress_test')),
    dismiss_reason TEXT,
    evidence_note  TEXT,
    version        INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL,
    CHECK (due_date IS NULL OR (due_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'
                                AND date(due_date) = due_date)),
    CHECK ((due_date IS NULL) = (due_source IS NULL)),
    CHECK (status = 'open' OR length(trim(coalesce(owner, ''))) > 0),
    CHECK (status <> 'dismissed' OR length(trim(coalesce(dismiss_reason, ''))) > 0),
    CHECK (status NOT IN ('rectified', 'closed') OR length(trim(coalesce(evidence_note, ''))) > 0),
    CHECK (status <> 'rectification_due' OR due_date IS NOT NULL)
);
CREATE INDEX finding_status_status ON finding_status(status);

CREATE TABLE audit (
    audit_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL REFERENCES findings(finding_id),
    at         TEXT NOT NULL,
    by         TEXT NOT NULL CHECK (length(trim(by)) > 0),
    action     TEXT NOT NULL CHECK (action IN ('created', 'status', 'assign', 'note', 'run', 'due')),
    old_status TEXT REFERENCES statuses(status),
    new_status TEXT NOT NULL REFERENCES statuses(status),
    note       TEXT NOT NULL DEFAULT '',
    run_id     TEXT REFERENCES runs(run_id),
    source     TEXT NOT NULL DEFAULT 'cli',
    prev_hash  TEXT NOT NULL,
    row_hash   TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_finding ON audit(finding_id, audit_id);

-- The audit trail is append-only.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: audit rows cannot be updated'); END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: audit rows cannot be deleted'); END;

-- Findings, their status and runs are never deleted ("not reproduced" instead).
CREATE TRIGGER findings_no_delete BEFORE DELETE ON findings
BEGIN SELECT RAISE(ABORT, 'findings are never deleted; a finding a run no longer produces is marked not reproduced'); END;

CREATE TRIGGER finding_status_no_delete BEFORE DELETE ON finding_status
BEGIN SELECT RAISE(ABORT, 'status rows are never deleted'); END;

CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'recorded runs are never deleted'); END;

CREATE TRIGGER run_recordings_no_change BEFORE UPDATE ON run_recordings
BEGIN SELECT RAISE(ABORT, 'run recordings are append-only'); END;

CREATE TRIGGER run_recordings_no_delete BEFORE DELETE ON run_recordings
BEGIN SELECT RAISE(ABORT, 'run recordings are append-only'); END;

-- Workflow: a new status row starts open; a status change must be an allowed transition.
CREATE TRIGGER finding_status_starts_open BEFORE INSERT ON finding_status
WHEN NEW.status <> 'open'
BEGIN SELECT RAISE(ABORT, 'a finding enters the register as open'); END;

CREATE TRIGGER finding_status_transition BEFORE UPDATE OF status ON finding_status
WHEN NEW.status <> OLD.status AND NOT EXISTS (
    SELECT 1 FROM allowed_transitions WHERE from_status = OLD.status AND to_status = NEW.status)
BEGIN SELECT RAISE(ABORT, 'refused status change: not in allowed_transitions'); END;

CREATE TRIGGER finding_status_version BEFORE UPDATE ON finding_status
WHEN NEW.version <> OLD.version + 1
BEGIN SELECT RAISE(ABORT, 'every change of a status row must increase its version by one'); END;

-- An audit row of a status change records an allowed transition to the current status.
CREATE TRIGGER audit_matches_status BEFORE INSERT ON audit
WHEN NEW.new_status IS NOT (SELECT status FROM finding_status WHERE finding_id = NEW.finding_id)
BEGIN SELECT RAISE(ABORT, 'audit row does not match the current status of the finding'); END;

CREATE TRIGGER audit_transition_allowed BEFORE INSERT ON audit
WHEN NEW.old_status IS NOT NEW.new_status AND NOT (NEW.old_status IS NULL AND NEW.new_status = 'open')
     AND NOT EXISTS (SELECT 1 FROM allowed_transitions
                     WHERE from_status = NEW.old_status AND to_status = NEW.new_status)
BEGIN SELECT RAISE(ABORT, 'audit row records a transition that is not allowed'); END;

CREATE TRIGGER audit_transition_note BEFORE INSERT ON audit
WHEN NEW.old_status IS NOT NEW.new_status AND length(trim(NEW.note)) = 0 AND EXISTS (
    SELECT 1 FROM allowed_transitions
    WHERE from_status = NEW.old_status AND to_status = NEW.new_status AND needs = 'note')
BEGIN SELECT RAISE(ABORT, 'reopening a finding needs a note saying why'); END;
"""


def _seed_v1() -> str:
    rows = []
    terminal = {"dismissed", "closed"}
    for i, (s, zh) in enumerate(STATUS_LABELS_ZH.items()):
        rows.append(f"INSERT INTO statuses VALUES ('{s}', {i}, '{zh}', {int(s in terminal)});")
    for a, b, needs in ALLOWED_TRANSITIONS:
        rows.append(f"INSERT INTO allowed_transitions VALUES ('{a}', '{b}', '{needs}');")
    return "\n".join(rows)


#: Ordered SQL scripts; ``MIGRATIONS[i]`` upgrades schema version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (
    _V1 + "\n" + _seed_v1()
    + "\nCREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);\n",
)

SCHEMA_VERSION = len(MIGRATIONS)


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (trigger bodies kept whole).

    ``sqlite3.Connection.executescript`` would commit any open transaction first; executing the
    statements one by one keeps a migration and its version bump in one transaction.
    """
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buf.strip()[:80]!r}")
    return out


def current_version(conn: sqlite3.Connection) -> int:
    """The schema version of an open database (``PRAGMA user_version``)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; returns the number of scripts applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Each script runs in its own
    ``BEGIN IMMEDIATE`` transaction, re-reading the version inside it, so two processes opening a
    new register at once apply each script exactly once.

    Raises
    ------
    RuntimeError
        The database has a newer schema than this version of detect knows.
    ValueError
        The file is an SQLite database of another application (tables, but no schema version).
    """
    applied = 0
    while True:
        if current_version(conn) >= SCHEMA_VERSION:
            break
        conn.execute("BEGIN IMMEDIATE")
        try:
            v = current_version(conn)
            if v > SCHEMA_VERSION:
                raise RuntimeError(f"schema version {v} is newer than this detect ({SCHEMA_VERSION})")
            if v == SCHEMA_VERSION:
                conn.execute("COMMIT")
                break
            if v == 0 and conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]:
                raise ValueError("it is an SQLite database of another application (it has tables but no detect "
                                 "schema version); give another file")
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            for stmt in split_statements(MIGRATIONS[v]):
                conn.execute(stmt)
            if v == 0:
                from detect import __version__

                conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?), ('created_by', ?)",
                             (now, f"detect {__version__}"))
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (v + 1, now))
            conn.execute(f"PRAGMA user_version = {int(v) + 1}")
            conn.execute("COMMIT")
            applied += 1
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    v = current_version(conn)
    if v > SCHEMA_VERSION:
        raise RuntimeError(f"schema version {v} is newer than this detect ({SCHEMA_VERSION})")
    return applied


__all__ = ["ALLOWED_TRANSITIONS", "MIGRATIONS", "SCHEMA_VERSION", "STATUS_LABELS_ZH", "current_version",
           "migrate", "split_statements"]
