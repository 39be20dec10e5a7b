"""The follow-up register: an SQLite file that keeps every finding, its owner, deadline, status
and an append-only audit trail across runs.

One :class:`Register` wraps one connection (standard library :mod:`sqlite3`, WAL journal, a busy
timeout, foreign keys on). Every write is one ``BEGIN IMMEDIATE`` transaction that re-reads the
current state inside the transaction before checking and applying a change, and is retried when
another process holds the write lock (``SQLITE_BUSY``): two reviewers writing at once are
serialised and no update is lost; a process killed mid-write leaves the previous committed state
(SQLite's atomic commit). All SQL is parameterised.

The workflow (see ``docs/review.md``)::

    open -> assigned -> under_review -> confirmed -> rectification_due -> rectified -> closed
                                     \\-> dismissed (reason required)
    reopen, each with a note: dismissed -> under_review, confirmed -> under_review,
                              rectified -> rectification_due, closed -> under_review

is enforced here (with messages naming the allowed moves) and again by the database
(``allowed_transitions`` and triggers, see :mod:`detect.review.migrations`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sqlite3
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import pandas as pd

from detect.config import Config, threshold
from detect.exceptions import InputError
from detect.findings import FINDING_COLUMNS, read_findings
from detect.review.migrations import (ALLOWED_TRANSITIONS, SCHEMA_VERSION, STATUS_LABELS_ZH, current_version,
                                      migrate)

#: Default register file (relative to the working directory) when neither ``--db`` nor
#: ``DETECT_DB`` is given.
DEFAULT_DB = "detect-review.sqlite"
ENV_DB = "DETECT_DB"

STATUSES: tuple[str, ...] = tuple(STATUS_LABELS_ZH)
#: Statuses that still need work: a deadline before today makes them overdue.
ACTIVE_STATUSES: tuple[str, ...] = ("open", "assigned", "under_review", "confirmed", "rectification_due")
#: Statuses where nothing more is expected (reopen moves out of them, with a note).
TERMINAL_STATUSES: tuple[str, ...] = ("dismissed", "closed")
#: ``{(from, to): needs}``; see :data:`detect.review.migrations.ALLOWED_TRANSITIONS`.
TRANSITIONS: dict[tuple[str, str], str] = {(a, b): n for a, b, n in ALLOWED_TRANSITIONS}

RUN_ACTOR = "detect run"
_GENESIS = "0" * 64
_BUSY_TIMEOUT_MS = 5000      # how long SQLite itself waits for a lock before reporting BUSY
_MAX_ATTEMPTS = 50           # then detect retries the whole transaction, with a growing pause,
_MAX_WAIT_FACTOR = 6         # for at most this many busy timeouts in all (30 s by default), then gives up
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
#: Other unambiguous year-first spellings a reviewer types: 2026/12/31, 2026.12.31, 2026-1-5, 2026年12月31日.
_YMD_RE = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*[日号]?"
                     r"(?:[ T]0{1,2}:00(?::00)?)?$", re.ASCII)
#: C0 control characters other than tab, line feed and carriage return (Excel cannot store them).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class ConflictError(InputError):
    """A change refused because the register changed since the caller looked (optimistic check)."""


class TransitionError(InputError):
    """A status change that the workflow does not allow, or that lacks what it requires."""


class RegisterBusyError(InputError):
    """The register stayed locked by other writers for longer than the retries allow."""


# --- small helpers --------------------------------------------------------------------------------

def default_db_path(db: str | os.PathLike | None = None) -> Path:
    """The register file: ``db`` if given, else ``$DETECT_DB``, else ``./detect-review.sqlite``."""
    if db:
        return Path(db).expanduser()
    env = os.environ.get(ENV_DB, "").strip()
    return Path(env).expanduser() if env else Path(DEFAULT_DB)


def utc_now() -> str:
    """Now in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (sortable text)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_date(value: Any, what: str = "date") -> str | None:
    """A ``YYYY-MM-DD`` text from a date, datetime or text; None for empty; InputError otherwise.

    Text may also be year-first with ``/``, ``.`` or 年月日(号) and one-digit months or days
    (``2026/1/5``, ``2026年1月5日``), in full-width digits, with a midnight time; day-first or
    month-first forms are refused as ambiguous.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip()     # full-width digits and ／．from an IME
    if not text:
        return None
    m = _YMD_RE.match(text) if not _DATE_RE.match(text) else None
    if m:
        text = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    if not _DATE_RE.match(text):
        raise InputError(f"{what} must be a date written YYYY-MM-DD (or 2026/12/31, 2026年12月31日), got {value!r}")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a real calendar date") from None
    return text


def _clean_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _is_busy(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg)


def _is_readonly(exc: BaseException) -> bool:
    """An SQLite error that means the file (or its folder, or the disk) cannot be written."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    name = str(getattr(exc, "sqlite_errorname", ""))
    msg = str(exc).lower()
    return (name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or "readonly" in msg
            or "read-only" in msg or "unable to open database file" in msg)


def is_damaged(exc: BaseException) -> bool:
    """An SQLite error that means the file is damaged (a corrupt page, not a database, an I/O error);
    also one that pandas' ``read_sql_query`` re-raised (its cause)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return exc.__cause__ is not None and is_damaged(exc.__cause__)
    name = str(getattr(exc, "sqlite_errorname", ""))
    msg = str(exc).lower()
    return (name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_IOERR")) or "malformed" in msg
            or "not a database" in msg or "disk i/o error" in msg)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _audit_hash(prev: str, row: Sequence[Any]) -> str:
    text = "\x1f".join([prev, *("" if v is None else str(v) for v in row)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def allowed_next(status: str) -> list[str]:
    """The statuses a finding in ``status`` may move to."""
    return [b for (a, b) in TRANSITIONS if a == status]


def stress_due_date(evidence: Any, config: Config | None = None) -> tuple[str, str] | None:
    """Deadline pre-filled from a debt stress test, with the reason, or None.

    ``evidence["crossing_years"]`` is ``{scenario: {line: year}}`` (the year a projected debt
    ratio first crosses a warning line). The deadline is ``review.stress_due_month`` /
    ``review.stress_due_day`` (30 June, see thresholds.toml) of the earliest crossing year of the
    baseline scenario (a scenario whose name contains ``baseline``); when no scenario is called
    baseline, of the earliest year over all scenarios. Only projected crossings count: where the
    evidence gives the projection's start (``evidence["projection"]["start_year"]``, the last
    observed year), a line crossed in or before that year is a fact of the data, not a forecast,
    and gives no deadline (the finding itself says so; a reviewer sets the deadline). Years that
    are missing or not whole numbers are ignored. A projected crossing year that is already past
    when the run is recorded (old data) gives a past deadline: the finding is overdue from the
    start, as it should be.
    """
    if not isinstance(evidence, dict):
        return None
    cy = evidence.get("crossing_years")
    if not isinstance(cy, dict) or not cy:
        return None
    base = {s: v for s, v in cy.items() if "baseline" in str(s).lower() and isinstance(v, dict)}
    pool = base or {s: v for s, v in cy.items() if isinstance(v, dict)}
    proj = evidence.get("projection")
    start = _num(proj.get("start_year")) if isinstance(proj, dict) else None
    best: tuple[int, str, str] | None = None
    for scen, lines in pool.items():
        for line, year in lines.items():
            y = _num(year)
            if y is None or y != int(y) or not 1900 <= y <= 2200:
                continue
            if start is not None and y <= start:
                continue  # already crossed in the data: not a projection
            cand = (int(y), str(scen), str(line))
            if best is None or cand < best:
                best = cand
    if best is None:
        return None
    month = int(threshold("review.stress_due_month", config))
    day = int(threshold("review.stress_due_day", config))
    due = date(best[0], month, day).isoformat()
    return due, f"deadline pre-filled from the debt stress test: scenario {best[1]} crosses {best[2]} in {best[0]}"


# --- the register ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunRecord:
    """What :func:`record_run` did."""

    run_id: str
    n_findings: int
    n_new: int
    n_seen: int
    n_gone: int
    n_back: int
    n_due_prefilled: int
    already_recorded: bool = False

    def summary(self) -> str:
        if self.already_recorded:
            return f"run {self.run_id} was already the latest run recorded; nothing changed"
        return (f"run {self.run_id}: {self.n_findings} findings ({self.n_new} new, {self.n_seen - self.n_new} seen "
                f"before, {self.n_back} reproduced again), {self.n_gone} not reproduced, "
                f"{self.n_due_prefilled} deadlines pre-filled from stress tests")


class Register:
    """An open follow-up register.

    Parameters
    ----------
    path : str or Path, optional
        The SQLite file (created with the current schema when absent). Default:
        :func:`default_db_path`.
    today : date or str, optional
        The date used to decide what is overdue (default: today's UTC date); for tests and for
        looking at the register as of a date.
    busy_timeout_ms : int
        How long SQLite waits for another writer before reporting BUSY (then detect retries, for at
        most six such timeouts in all: 30 s by default, then :class:`RegisterBusyError`).
    create : bool
        With False, a missing file raises InputError instead of being created.

    Examples
    --------
    >>> with Register(tmp / "r.sqlite") as reg:          # doctest: +SKIP
    ...     reg.record_run("reports/run")
    ...     reg.assign("F0123456789ab", owner="Li", due="2026-06-30", by="Wang")
    """

    def __init__(self, path: str | os.PathLike | None = None, *, today: date | str | None = None,
                 busy_timeout_ms: int = _BUSY_TIMEOUT_MS, create: bool = True) -> None:
        self.path = default_db_path(path)
        if not create and (not self.path.exists() or (self.path.is_file() and self.path.stat().st_size == 0)):
            empty = " (the file is empty)" if self.path.exists() else ""
            raise InputError(f"no follow-up register at {self.path}{empty} (record a run first, or pass --db)")
        if self.path.exists() and self.path.is_dir():
            raise InputError(f"register path {self.path} is a directory; give a file name")
        if not self.path.parent.exists():
            raise InputError(f"folder {self.path.parent} of the register does not exist")
        self._today = parse_date(today, "today") if today is not None else None
        self._depth = 0
        self._max_wait_s = _MAX_WAIT_FACTOR * busy_timeout_ms / 1000
        #: True when the file could only be opened for reading (no write permission, read-only disk).
        self.readonly = False
        existed = self.path.exists()
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=busy_timeout_ms / 1000, isolation_level=None,
                                        check_same_thread=True)
        except sqlite3.Error as exc:
            if not existed and not os.access(self.path.parent, os.W_OK):
                raise InputError(f"cannot create the register {self.path}: the folder {self.path.parent} is not "
                                 "writable") from None
            raise InputError(f"cannot open the register {self.path}: {exc}") from None
        try:
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if (current_version(self.conn) == 0 and self.conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]):
                # checked before anything is written (journal mode included); migrate() checks again
                raise ValueError("it is an SQLite database of another application (it has tables but no detect "
                                 "schema version); give another file")
            self._retry_plain(lambda: self.conn.execute("PRAGMA journal_mode = WAL").fetchone())
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = FULL")
            self._retry_plain(lambda: migrate(self.conn))
        except InputError:
            self.conn.close()
            raise
        except RuntimeError as exc:
            self.conn.close()
            raise InputError(f"register {self.path}: {exc}; upgrade detect to use it") from None
        except ValueError as exc:
            self.conn.close()
            raise InputError(f"{self.path} is not a detect register: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            if self.path.exists() and self.path.stat().st_size and _is_readonly(exc):
                self._open_readonly(busy_timeout_ms)
                return
            if not existed and _is_readonly(exc):
                why = (f"the folder {self.path.parent} is not writable" if not os.access(self.path.parent, os.W_OK)
                       else str(exc))
                raise InputError(f"cannot create the register {self.path}: {why}") from None
            raise InputError(f"{self.path} is not a usable detect register: {exc}") from None

    def _open_readonly(self, busy_timeout_ms: int) -> None:
        """Open a register that cannot be written (file, folder or disk read-only) for reading only.

        ``mode=ro`` first (it needs the ``-shm`` file beside a WAL database, or a folder where it can
        create it); on a read-only folder without one, ``immutable=1`` — only when no ``-wal`` file
        holds changes not yet in the main file, which would then be invisible.
        """
        uri = self.path.resolve().as_uri()
        wal = self.path.with_name(self.path.name + "-wal")
        last: Exception | None = None
        for query in ("mode=ro", "immutable=1"):
            if query == "immutable=1" and wal.exists() and wal.stat().st_size:
                raise InputError(f"the register {self.path} is read-only and its journal {wal.name} holds changes "
                                 "not yet written into it; open it once with write access") from None
            try:
                conn = sqlite3.connect(f"{uri}?{query}", uri=True, timeout=busy_timeout_ms / 1000,
                                       isolation_level=None, check_same_thread=True)
            except sqlite3.Error as exc:
                last = exc
                continue
            try:
                conn.row_factory = sqlite3.Row
                v = current_version(conn)
                n_tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                conn.close()
                last = exc
                if _is_readonly(exc):
                    continue
                raise InputError(f"{self.path} is not a usable detect register: {exc}") from None
            if v != SCHEMA_VERSION:
                conn.close()
                if v > SCHEMA_VERSION:
                    raise InputError(f"register {self.path}: schema version {v} is newer than this detect "
                                     f"({SCHEMA_VERSION}); upgrade detect to use it")
                if v == 0 and n_tables:
                    raise InputError(f"{self.path} is not a detect register: it is an SQLite database of another "
                                     "application (it has tables but no detect schema version); give another file")
                raise InputError(f"the register {self.path} (schema version {v}) needs upgrading to version "
                                 f"{SCHEMA_VERSION} but is read-only; open it once with write access")
            self.conn = conn
            self.readonly = True
            return
        raise InputError(f"cannot read the register {self.path}: {last}") from None

    def _readonly_error(self) -> InputError:
        return InputError(f"the register {self.path} is read-only (no write permission on the file or its folder, "
                          "or a read-only disk): it can be listed, shown, exported and verified, not changed; ask "
                          "for write access or work on a copy")

    # -- context and transactions --
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Register":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def today(self) -> str:
        return self._today or datetime.now(timezone.utc).date().isoformat()

    def _retry_plain(self, fn: Callable[[], Any]) -> Any:
        start = time.monotonic()
        for attempt in range(_MAX_ATTEMPTS):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                self._wait_or_give_up(attempt, start)
        raise self._busy_error(start)

    def _wait_or_give_up(self, attempt: int, start: float) -> None:
        """Pause before retrying a locked write, or raise RegisterBusyError when waited long enough."""
        if attempt == _MAX_ATTEMPTS - 1 or time.monotonic() - start >= self._max_wait_s:
            raise self._busy_error(start)
        time.sleep(self._pause(attempt))

    def _busy_error(self, start: float) -> RegisterBusyError:
        return RegisterBusyError(f"the register {self.path} is locked by another writer (another detect command, or "
                                 f"an open sqlite3 session) and stayed locked for {time.monotonic() - start:.0f} s; "
                                 "try again later")

    @staticmethod
    def _pause(attempt: int) -> float:
        # Growing pause, de-synchronised between processes without randomness.
        return min(0.5, 0.005 * (attempt + 1)) + (os.getpid() % 13) / 2000

    @contextmanager
    def transaction(self) -> Iterator["Register"]:
        """One ``BEGIN IMMEDIATE`` transaction around several operations (nested calls join it).

        All or nothing: an exception (or a killed process) inside the block leaves the register
        as it was before. No retry of the block itself: a lock held by another writer is waited
        for when the block starts.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield self
        except BaseException as exc:
            self._depth = 0
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if _is_readonly(exc):
                raise self._readonly_error() from None
            raise
        self._depth = 0
        self._retry_plain(lambda: self.conn.execute("COMMIT"))

    def _begin(self, start: float | None = None) -> None:
        start = time.monotonic() if start is None else start
        for attempt in range(_MAX_ATTEMPTS):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if _is_readonly(exc):
                    raise self._readonly_error() from None
                if not _is_busy(exc):
                    raise
                self._wait_or_give_up(attempt, start)
        raise self._busy_error(start)

    def _write(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in its own write transaction, retried as a whole on SQLITE_BUSY."""
        if self._depth:
            return fn()
        start = time.monotonic()
        for attempt in range(_MAX_ATTEMPTS):
            self._begin(start)
            self._depth = 1
            try:
                out = fn()
                self.conn.execute("COMMIT")
                return out
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if _is_readonly(exc):
                    raise self._readonly_error() from None
                if not _is_busy(exc):
                    raise
                self._wait_or_give_up(attempt, start)
            except sqlite3.IntegrityError as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise TransitionError(f"the register refused the change: {exc}") from None
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0
        raise self._busy_error(start)

    # -- reading --
    def resolve_id(self, ident: str) -> str:
        """The finding id for ``ident`` (the full id, or a unique prefix of at least 5 characters)."""
        ident = _clean_text(ident)
        if not ident:
            raise InputError("no finding id given")
        row = self.conn.execute("SELECT finding_id FROM findings WHERE finding_id = ?", (ident,)).fetchone()
        if row:
            return row[0]
        if len(ident) >= 5:
            like = ident.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self.conn.execute("SELECT finding_id FROM findings WHERE finding_id LIKE ? ESCAPE '\\' "
                                     "ORDER BY finding_id LIMIT 6", (like,)).fetchall()
            if len(rows) == 1:
                return rows[0][0]
            if len(rows) > 1:
                raise InputError(f"finding id {ident!r} is ambiguous: matches {', '.join(r[0] for r in rows)}")
        raise InputError(f"unknown finding id {ident!r} (see `detect review list`)")

    def _state(self, fid: str) -> sqlite3.Row:
        row = self.conn.execute("SELECT * FROM finding_status WHERE finding_id = ?", (fid,)).fetchone()
        if row is None:
            raise InputError(f"unknown finding id {fid!r} (see `detect review list`)")
        return row

    def get(self, ident: str) -> dict[str, Any]:
        """One finding with its status row, the not-reproduced note and whether it is overdue."""
        fid = self.resolve_id(ident)
        row = self.conn.execute(
            "SELECT f.*, s.status, s.owner, s.due_date, s.due_source, s.dismiss_reason, s.evidence_note, "
            "s.version, s.updated_at, s.updated_by FROM findings f JOIN finding_status s USING (finding_id) "
            "WHERE finding_id = ?", (fid,)).fetchone()
        out = dict(row)
        out["evidence"] = json.loads(out.pop("evidence_json") or "{}")
        out["overdue"] = self._overdue(out["status"], out["due_date"])
        out["reproduced_note"] = "" if out["reproduced"] else f"not reproduced in run {out['not_reproduced_in']}"
        return out

    def history(self, ident: str) -> pd.DataFrame:
        """The audit trail of one finding, oldest first (``old_status`` / ``run_id`` None where empty)."""
        fid = self.resolve_id(ident)
        h = pd.read_sql_query(
            "SELECT audit_id, at, by, action, old_status, new_status, note, run_id, source FROM audit "
            "WHERE finding_id = ? ORDER BY audit_id", self.conn, params=(fid,))
        for c in ("old_status", "run_id"):
            h[c] = h[c].astype(object).where(h[c].notna(), None)
        return h

    def _overdue(self, status: str, due: str | None, today: str | None = None) -> bool:
        return bool(due) and status in ACTIVE_STATUSES and due < (today or self.today)

    def table(self, *, status: str | Sequence[str] | None = None, region: str | None = None,
              overdue: bool = False, finding_ids: Iterable[str] | None = None,
              today: date | str | None = None) -> pd.DataFrame:
        """The register as a table (one row per finding), filtered.

        Parameters
        ----------
        status : str or list of str, optional
            Keep these statuses.
        region : str, optional
            Keep findings whose region code equals it, or whose region name contains it.
        overdue : bool
            Keep only findings past their deadline and still active.
        finding_ids : iterable of str, optional
            Keep these ids.
        today : date or str, optional
            The date that decides what is overdue (default: the register's ``today``).
        """
        day = parse_date(today, "today") if today is not None else self.today
        where, params = [], []
        if status:
            sts = [status] if isinstance(status, str) else list(status)
            bad = [s for s in sts if s not in STATUSES]
            if bad:
                raise InputError(f"unknown status {bad[0]!r}; statuses: {', '.join(STATUSES)}")
            where.append(f"s.status IN ({','.join('?' * len(sts))})")
            params += sts
        if region:
            where.append("(f.region_code = ? OR instr(f.region_name, ?) > 0)")
            params += [region, region]
        sql = ("SELECT f.finding_id, s.status, f.severity, f.region_code, f.region_name, f.indicator, "
               "f.period_start, f.period_end, f.detector, s.owner, s.due_date, s.due_source, "
               "s.dismiss_reason, s.evidence_note, s.version, f.reproduced, f.not_reproduced_in, "
               "f.first_seen_run, f.last_seen_run, f.score, f.summary, f.summary_zh, "
               "(SELECT note FROM audit a WHERE a.finding_id = f.finding_id AND a.action = 'note' "
               " ORDER BY a.audit_id DESC LIMIT 1) AS last_note "
               "FROM findings f JOIN finding_status s USING (finding_id)")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.due_date IS NULL, s.due_date, f.score IS NULL, f.score DESC, f.finding_id"
        df = pd.read_sql_query(sql, self.conn, params=params)
        if finding_ids is not None:
            keep = set(finding_ids)
            df = df[df["finding_id"].isin(keep)]
        for c in ("owner", "due_date", "due_source", "dismiss_reason", "evidence_note", "not_reproduced_in",
                  "last_note"):
            df[c] = df[c].astype(object).where(df[c].notna(), "")
        df["overdue"] = [self._overdue(s, d, day) for s, d in zip(df["status"], df["due_date"])]
        df["reproduced_note"] = [("" if r else f"not reproduced in run {x}")
                                 for r, x in zip(df["reproduced"], df["not_reproduced_in"])]
        if overdue:
            df = df[df["overdue"]]
        return df.reset_index(drop=True)

    def runs(self) -> pd.DataFrame:
        """Recorded runs, in the order they were recorded."""
        return pd.read_sql_query(
            "SELECT r.seq, r.run_id, r.recorded_at, r.n_new, r.n_seen, r.n_gone, u.run_dir, u.n_findings "
            "FROM run_recordings r JOIN runs u USING (run_id) ORDER BY r.seq", self.conn)

    # -- writing: the audit trail --
    def _audit(self, fid: str, by: str, action: str, old: str | None, new: str, note: str = "",
               run_id: str | None = None, source: str = "cli") -> None:
        at = utc_now()
        prev = self.conn.execute("SELECT row_hash FROM audit ORDER BY audit_id DESC LIMIT 1").fetchone()
        prev_hash = prev[0] if prev else _GENESIS
        row = (fid, at, by, action, old, new, note, run_id, source)
        self.conn.execute(
            "INSERT INTO audit (finding_id, at, by, action, old_status, new_status, note, run_id, source, "
            "prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, prev_hash, _audit_hash(prev_hash, row)))

    def _update_state(self, fid: str, old: sqlite3.Row, by: str, **changes: Any) -> None:
        cols = sorted(changes)
        sets = ", ".join(f"{c} = ?" for c in cols)
        cur = self.conn.execute(
            f"UPDATE finding_status SET {sets}, version = version + 1, updated_at = ?, updated_by = ? "
            "WHERE finding_id = ? AND version = ?",
            (*[changes[c] for c in cols], utc_now(), by, fid, old["version"]))
        if cur.rowcount != 1:  # cannot happen inside BEGIN IMMEDIATE; kept as a guard
            raise ConflictError(f"finding {fid} changed while it was being updated; try again")

    @staticmethod
    def _who(by: str) -> str:
        by = _clean_text(by)
        if not by:
            raise InputError("say who makes the change (--by NAME)")
        return by

    def _check_expected(self, fid: str, st: sqlite3.Row, expected_status: str | None,
                        expected_version: int | None) -> None:
        if expected_status is not None and st["status"] != expected_status:
            raise ConflictError(f"finding {fid} is now {st['status']} (changed by {st['updated_by']} at "
                                f"{st['updated_at']}), not {expected_status}; look again before changing it")
        if expected_version is not None and int(st["version"]) != int(expected_version):
            raise ConflictError(f"finding {fid} changed since you looked (version {expected_version} -> "
                                f"{st['version']}, last by {st['updated_by']} at {st['updated_at']})")

    # -- writing: reviewers' operations --
    def assign(self, ident: str, owner: str, due: Any = None, *, by: str, note: str = "",
               expected_status: str | None = None, expected_version: int | None = None,
               source: str = "cli") -> dict[str, Any]:
        """Give a finding an owner (and a deadline): ``open -> assigned``, or a reassignment.

        A finding that is already assigned or further along keeps its status and gets the new
        owner / deadline (recorded in the audit trail). Dismissed and closed findings must be
        reopened first.
        """
        fid = self.resolve_id(ident)
        by = self._who(by)
        owner = _clean_text(owner)
        if not owner:
            raise InputError("an assignment needs an owner (--to OWNER)")
        due_s = parse_date(due, "due date")
        note = _clean_text(note)

        def op() -> dict[str, Any]:
            st = self._state(fid)
            self._check_expected(fid, st, expected_status, expected_version)
            old = st["status"]
            if old in TERMINAL_STATUSES or old == "rectified":
                raise TransitionError(f"finding {fid} is {old}: reopen it before assigning it "
                                      f"(allowed next: {', '.join(allowed_next(old))})")
            new = "assigned" if old == "open" else old
            changes: dict[str, Any] = {"owner": owner}
            if due_s is not None:
                changes.update(due_date=due_s, due_source="reviewer")
            if new != old:
                changes["status"] = new
            if all(st[k] == v for k, v in changes.items()):
                return self.get(fid)
            self._update_state(fid, st, by, **changes)
            text = "; ".join(x for x in (f"owner: {owner}", f"due: {due_s}" if due_s else "", note) if x)
            self._audit(fid, by, "assign", old, new, text, source=source)
            return self.get(fid)

        return self._write(op)

    def set_status(self, ident: str, status: str, *, by: str, note: str = "", reason: str = "",
                   evidence: str = "", due: Any = None, owner: str = "",
                   expected_status: str | None = None, expected_version: int | None = None,
                   source: str = "cli") -> dict[str, Any]:
        """Move a finding to ``status`` if the workflow allows it from its current status.

        Parameters
        ----------
        status : str
            The new status.
        by : str
            Who makes the change.
        note : str
            Free text kept in the audit trail; required to reopen.
        reason : str
            Why it is dismissed (required for ``dismissed``).
        evidence : str
            What shows the rectification (document, date; required for ``rectified``).
        due : date or str, optional
            Deadline (required for ``rectification_due`` when none is set).
        owner : str
            Owner (required for ``assigned`` when none is set).
        expected_status, expected_version : optional
            Optimistic check: refuse with :class:`ConflictError` if the finding is no longer in this
            status / at this version.
        """
        fid = self.resolve_id(ident)
        by = self._who(by)
        status = _clean_text(status)
        if status not in STATUSES:
            raise InputError(f"unknown status {status!r}; statuses: {', '.join(STATUSES)}")
        note, reason, evidence, owner = (_clean_text(x) for x in (note, reason, evidence, owner))
        due_s = parse_date(due, "due date")

        def op() -> dict[str, Any]:
            st = self._state(fid)
            self._check_expected(fid, st, expected_status, expected_version)
            old = st["status"]
            if old == status:
                raise TransitionError(f"finding {fid} is already {status}")
            needs = TRANSITIONS.get((old, status))
            if needs is None:
                nxt = allowed_next(old)
                raise TransitionError(f"finding {fid} cannot go from {old} to {status}; from {old} it may go to: "
                                      f"{', '.join(nxt) if nxt else '(nothing)'}")
            changes: dict[str, Any] = {"status": status}
            if owner:
                changes["owner"] = owner
            if due_s:
                changes.update(due_date=due_s, due_source="reviewer")
            if needs == "owner" and not (owner or _clean_text(st["owner"])):
                raise TransitionError(f"{old} -> {status} needs an owner (use `detect review assign {fid} --to OWNER`)")
            if needs == "due" and not (due_s or st["due_date"]):
                raise TransitionError(f"{old} -> {status} needs a rectification deadline (--due YYYY-MM-DD)")
            adopted = ""
            if needs == "due" and not due_s and st["due_source"] != "reviewer":
                # The formal rectification deadline is the reviewer's decision: a pre-filled one is adopted and
                # no longer moves with later runs' projections.
                changes.update(due_date=st["due_date"], due_source="reviewer")
                adopted = f"due: {st['due_date']} (the pre-filled deadline, adopted)"
            if needs == "reason":
                if not reason:
                    raise TransitionError(f"dismissing {fid} needs a reason (--reason TEXT or --note TEXT)")
                changes["dismiss_reason"] = reason
            if needs == "evidence":
                if not evidence:
                    raise TransitionError(f"{old} -> {status} needs an evidence note saying what shows the "
                                          f"rectification (--evidence TEXT or --note TEXT)")
                changes["evidence_note"] = evidence
            if needs == "note" and not note:
                raise TransitionError(f"reopening {fid} ({old} -> {status}) needs a note saying why (--note TEXT)")
            if old == "dismissed":
                changes["dismiss_reason"] = None
            if old in ("rectified", "closed") and status in ("rectification_due", "under_review"):
                changes["evidence_note"] = None  # the evidence did not hold; the audit trail keeps it
            self._update_state(fid, st, by, **changes)
            text = "; ".join(x for x in (note, f"reason: {reason}" if reason else "",
                                         f"evidence: {evidence}" if evidence else "",
                                         f"owner: {owner}" if owner else "",
                                         f"due: {due_s}" if due_s else adopted) if x)
            self._audit(fid, by, "status", old, status, text, source=source)
            return self.get(fid)

        return self._write(op)

    def add_note(self, ident: str, text: str, *, by: str, source: str = "cli") -> None:
        """Append a note to a finding's audit trail (its status is unchanged)."""
        fid = self.resolve_id(ident)
        by = self._who(by)
        text = _clean_text(text)
        if not text:
            raise InputError("the note is empty")

        def op() -> None:
            st = self._state(fid)
            self._audit(fid, by, "note", st["status"], st["status"], text, source=source)

        self._write(op)

    # -- writing: runs --
    def record_run(self, run_dir: str | os.PathLike, *, config: Config | None = None) -> RunRecord:
        """Record a run directory and upsert its findings (see :func:`record_run`)."""
        run = Path(run_dir)
        for name in ("findings.csv", "manifest.json"):
            if not (run / name).is_file():
                raise InputError(f"{run} is not a run directory: {name} is missing")
        raw = b"\0".join((run / n).read_bytes() if (run / n).exists() else b""
                         for n in ("manifest.json", "findings.csv", "evidence.jsonl", "regions.csv"))
        run_id = "R" + hashlib.sha256(raw).hexdigest()[:12]
        try:
            manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{run / 'manifest.json'} is not valid JSON: {exc}") from None
        if not isinstance(manifest, dict):
            raise InputError(f"{run / 'manifest.json'} is not a run manifest (a JSON object), got a "
                             f"{type(manifest).__name__}")
        try:
            df = read_findings(run)
        except KeyError as exc:
            raise InputError(f"{run / 'findings.csv'} lacks column {exc}") from None
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputError(f"cannot read the findings of {run}: {exc}") from None
        missing = [c for c in FINDING_COLUMNS if c not in df.columns]
        if missing:
            raise InputError(f"{run / 'findings.csv'} lacks column(s) {', '.join(missing)}")
        if df["finding_id"].duplicated().any():
            raise InputError(f"{run / 'findings.csv'} lists finding {df.loc[df['finding_id'].duplicated(), 'finding_id'].iat[0]} twice")
        if (df["finding_id"].astype(str).str.strip() == "").any():
            raise InputError(f"{run / 'findings.csv'} has a row without finding_id")
        dets = manifest.get("n_tests") if isinstance(manifest.get("n_tests"), dict) else None
        regions_csv = run / "regions.csv"
        regions = None
        if regions_csv.is_file():
            try:
                regions = set(pd.read_csv(regions_csv, dtype=str, keep_default_na=False)["region_code"])
            except (KeyError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise InputError(f"cannot read the region list {regions_csv}: {exc}") from None
        records = [self._finding_row(rec) for rec in df.to_dict("records")]
        evidences = {r["finding_id"]: rec.get("evidence") for r, rec in zip(records, df.to_dict("records"))}
        manifest_json = json.dumps(manifest, ensure_ascii=False, sort_keys=True)

        def op() -> RunRecord:
            last = self.conn.execute("SELECT run_id FROM run_recordings ORDER BY seq DESC LIMIT 1").fetchone()
            if last and last[0] == run_id:
                return RunRecord(run_id, len(records), 0, 0, 0, 0, 0, already_recorded=True)
            now = utc_now()
            self.conn.execute("INSERT OR IGNORE INTO runs (run_id, run_dir, manifest_json, n_findings, created_at) "
                              "VALUES (?, ?, ?, ?, ?)", (run_id, str(run.resolve()), manifest_json, len(records), now))
            existing = {r[0]: (r[1], r[2]) for r in self.conn.execute(
                "SELECT finding_id, reproduced, not_reproduced_in FROM findings")}
            n_new = n_back = n_due = 0
            cols = [c for c in records[0] if c != "finding_id"] if records else []
            for rec in records:
                fid = rec["finding_id"]
                if fid not in existing:
                    self.conn.execute(
                        f"INSERT INTO findings (finding_id, {', '.join(cols)}, first_seen_run, last_seen_run, "
                        f"reproduced) VALUES (?, {', '.join('?' * len(cols))}, ?, ?, 1)",
                        (fid, *[rec[c] for c in cols], run_id, run_id))
                    self.conn.execute("INSERT INTO finding_status (finding_id, status, updated_at, updated_by) "
                                      "VALUES (?, 'open', ?, ?)", (fid, now, RUN_ACTOR))
                    self._audit(fid, RUN_ACTOR, "created", None, "open", f"first seen in run {run_id}",
                                run_id=run_id, source="run")
                    n_new += 1
                else:
                    self.conn.execute(
                        f"UPDATE findings SET {', '.join(f'{c} = ?' for c in cols)}, last_seen_run = ?, "
                        "reproduced = 1, not_reproduced_in = NULL WHERE finding_id = ?",
                        (*[rec[c] for c in cols], run_id, fid))
                    if not existing[fid][0]:
                        st = self._state(fid)
                        self._audit(fid, RUN_ACTOR, "run", st["status"], st["status"],
                                    f"reproduced again in run {run_id} (was not reproduced in run {existing[fid][1]})",
                                    run_id=run_id, source="run")
                        n_back += 1
                pre = stress_due_date(evidences.get(fid), config)
                if pre is not None:
                    st = self._state(fid)
                    if (st["due_source"] in (None, "stress_test") and st["due_date"] != pre[0]
                            and st["status"] in ACTIVE_STATUSES):
                        self._update_state(fid, st, RUN_ACTOR, due_date=pre[0], due_source="stress_test")
                        self._audit(fid, RUN_ACTOR, "due", st["status"], st["status"], f"due: {pre[0]}; {pre[1]}",
                                    run_id=run_id, source="run")
                        n_due += 1
            seen = {r["finding_id"] for r in records}
            gone = []
            for row in self.conn.execute("SELECT finding_id, detector, region_code FROM findings WHERE reproduced = 1"
                                         ).fetchall():
                if row[0] in seen:
                    continue
                if dets is not None and row[1] not in dets:
                    continue  # this run did not run that detector: it says nothing about the finding
                if regions is not None and row[2] not in regions:
                    continue  # nor about a region outside its panel
                gone.append(row[0])
            for fid in gone:
                self.conn.execute("UPDATE findings SET reproduced = 0, not_reproduced_in = ? WHERE finding_id = ?",
                                  (run_id, fid))
                st = self._state(fid)
                self._audit(fid, RUN_ACTOR, "run", st["status"], st["status"], f"not reproduced in run {run_id}",
                            run_id=run_id, source="run")
            self.conn.execute("INSERT INTO run_recordings (run_id, recorded_at, n_new, n_seen, n_gone) "
                              "VALUES (?, ?, ?, ?, ?)", (run_id, now, n_new, len(records), len(gone)))
            return RunRecord(run_id, len(records), n_new, len(records), len(gone), n_back, n_due)

        return self._write(op)

    @staticmethod
    def _finding_row(rec: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"finding_id": _clean_text(rec["finding_id"])}
        for c in FINDING_COLUMNS[1:]:
            v = rec.get(c)
            if c in ("statistic", "p_value", "q_value", "score"):
                out[c] = _num(v)
            else:
                out[c] = _clean_text(v)
        out["family"] = _clean_text(rec.get("family"))
        out["kind"] = _clean_text(rec.get("kind"))
        ev = rec.get("evidence")
        out["evidence_json"] = json.dumps(ev if isinstance(ev, dict) else {}, ensure_ascii=False, sort_keys=True)
        return out

    # -- checking --
    def verify(self) -> list[str]:
        """Problems found in the register (empty when sound).

        Checks SQLite's ``integrity_check`` and ``foreign_key_check``, the audit hash chain (each
        row's hash covers the previous row's hash and its own fields, so an edit or deletion made
        by bypassing the triggers shows), that no audit rows were removed from the end (the
        AUTOINCREMENT counter), that each finding's current status is the one its last audit row
        records, and that each status row changed exactly as often as the audit trail says (its
        version), so an owner, deadline or reason changed with another tool shows.
        """
        try:
            return self._verify()
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc):
                raise
            return [f"the file is damaged: {exc} (restore it from a copy)"]

    def _verify(self) -> list[str]:
        problems: list[str] = []
        try:
            ic = [r[0] for r in self.conn.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc):
                raise
            ic = [f"the file is damaged: {exc}"]
        if ic != ["ok"]:
            problems += [f"integrity_check: {x}" for x in ic]
        for r in self.conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append(f"foreign key: table {r[0]} row {r[1]} refers to a missing {r[2]} row")
        prev = _GENESIS
        for r in self.conn.execute("SELECT audit_id, finding_id, at, by, action, old_status, new_status, note, "
                                   "run_id, source, prev_hash, row_hash FROM audit ORDER BY audit_id"):
            row = tuple(r)[1:10]
            if r["prev_hash"] != prev or r["row_hash"] != _audit_hash(prev, row):
                problems.append(f"audit row {r['audit_id']} does not match the hash chain (edited, or a row "
                                f"before it was removed)")
            prev = r["row_hash"]
        for r in self.conn.execute(
                "SELECT s.finding_id, s.status, (SELECT new_status FROM audit a WHERE a.finding_id = s.finding_id "
                "ORDER BY audit_id DESC LIMIT 1) AS last FROM finding_status s"):
            if r["status"] != r["last"]:
                problems.append(f"finding {r['finding_id']} is {r['status']} but its audit trail ends at {r['last']}")
        # Each change of a status row bumps its version by one (trigger) and detect writes one audit row
        # (assign, status or due) per change: more versions than such rows is a change made outside detect.
        for r in self.conn.execute(
                "SELECT s.finding_id, s.version, (SELECT count(*) FROM audit a WHERE a.finding_id = s.finding_id "
                "AND a.action IN ('assign', 'status', 'due')) AS n FROM finding_status s ORDER BY s.finding_id"):
            if r["version"] != r["n"] + 1:
                problems.append(f"finding {r['finding_id']}: its status row (owner, deadline, status, reason or "
                                f"evidence) is at version {r['version']} but the audit trail records {r['n']} "
                                "change(s) of it: changed outside detect")
        # The hash chain cannot show its newest rows removed; the AUTOINCREMENT counter can.
        seq = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        last = self.conn.execute("SELECT coalesce(max(audit_id), 0) FROM audit").fetchone()[0]
        if seq is not None and int(seq[0]) > int(last):
            problems.append(f"the audit trail ends at row {last} but {seq[0]} rows were written: audit rows "
                            f"{int(last) + 1}-{seq[0]} were removed")
        return problems


# --- module-level API -----------------------------------------------------------------------------

def _open(db: "Register | str | os.PathLike | None") -> tuple[Register, bool]:
    if isinstance(db, Register):
        return db, False
    return Register(db), True


def record_run(db: "Register | str | os.PathLike | None", run_dir: str | os.PathLike,
               config: Config | None = None) -> RunRecord:
    """Record a run directory in the register and upsert its findings.

    A new ``finding_id`` enters as ``open``; a finding seen before keeps its status, owner,
    deadline and history (its numbers and sentences are refreshed); a finding the register holds
    that this run could have produced (its detector ran and its region is in the run's
    regions.csv) but did not is marked "not reproduced in run X" — never deleted; one that comes
    back is marked reproduced again. Where a finding's evidence has debt stress-test
    ``crossing_years`` and no reviewer has set a deadline, the deadline is pre-filled (see
    :func:`stress_due_date`). Recording the run that was recorded last again changes nothing.

    The run id is ``R`` + 12 hex digits of SHA-256 over manifest.json, findings.csv,
    evidence.jsonl and regions.csv (which decides what the run covers): the same run directory
    always gets the same id (``detect run`` writes the same bytes for the same inputs and
    parameters; the manifest has no timestamp — the time of recording is kept beside it).

    Parameters
    ----------
    db : Register, path or None
        An open register, or the file (None: ``$DETECT_DB`` or ``./detect-review.sqlite``).
    run_dir : path
        A directory written by ``detect run`` (findings.csv, manifest.json; evidence.jsonl and
        regions.csv when present).
    """
    reg, own = _open(db)
    try:
        return reg.record_run(run_dir, config=config)
    finally:
        if own:
            reg.close()


def status_table(db: "Register | str | os.PathLike | None", finding_ids: Iterable[str],
                 today: date | str | None = None) -> pd.DataFrame:
    """Follow-up status of some findings, for the report's worklist.

    Returns one row per requested id, in the order given, with columns ``finding_id``,
    ``status``, ``owner``, ``due_date`` (``YYYY-MM-DD`` or ``""``), ``overdue`` (bool) and
    ``note`` (the "not reproduced in run X" note and the latest reviewer note). Ids the register
    does not hold yet (a run not yet recorded) are ``open`` with the note "not yet in the
    register". A register file that does not exist is not created: every id is then ``open``.
    """
    ids = [str(i) for i in finding_ids]
    cols = ["finding_id", "status", "owner", "due_date", "overdue", "note"]
    path = db.path if isinstance(db, Register) else default_db_path(db)
    if not isinstance(db, Register) and not path.exists():
        return pd.DataFrame({"finding_id": ids, "status": "open", "owner": "", "due_date": "", "overdue": False,
                             "note": "not yet in the register"}, columns=cols)
    reg, own = _open(db if isinstance(db, Register) else path)
    try:
        t = reg.table(finding_ids=ids, today=today)
    finally:
        if own:
            reg.close()
    t["note"] = ["; ".join(x for x in pair if x) for pair in zip(t["reproduced_note"], t["last_note"])]
    out = pd.DataFrame({"finding_id": pd.Series(ids, dtype=object)}).merge(
        t[cols].astype({"finding_id": object}), on="finding_id", how="left")
    known = out["status"].notna()
    for c, v in (("status", "open"), ("owner", ""), ("due_date", ""), ("note", "not yet in the register")):
        out[c] = out[c].astype(object).where(known, v)
    out["overdue"] = out["overdue"].astype(object).where(known, False).astype(bool)
    for c in ("status", "owner", "due_date", "note"):   # for worksheets and PDFs: no control characters
        out[c] = [_CONTROL_RE.sub(" ", v) if isinstance(v, str) else v for v in out[c]]
    return out[cols]


__all__ = ["ACTIVE_STATUSES", "ConflictError", "DEFAULT_DB", "ENV_DB", "Register", "RegisterBusyError", "RunRecord",
           "SCHEMA_VERSION", "STATUSES", "TERMINAL_STATUSES", "TRANSITIONS", "TransitionError", "allowed_next",
           "default_db_path", "parse_date", "record_run", "status_table", "stress_due_date"]
