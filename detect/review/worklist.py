"""Excel worklist: export the register for reviewers, import their edits back.

Export (:func:`export_xlsx`) writes one sheet ``worklist`` with a frozen header, filters, a
status drop-down, owner / deadline / notes columns and overdue rows highlighted, every text
cell neutralised against formula injection; and a very hidden sheet ``_export`` with the export
stamp and, per finding, the editable values and the row version as exported.

Import (:func:`import_xlsx`) compares each row with what was exported and applies only what the
reviewer changed, through the same code (:meth:`Register.assign`, :meth:`Register.set_status`,
:meth:`Register.add_note`) and audit trail as the command line. A row is refused, with its
reason, when its id is unknown, a value is invalid, the status change is not an allowed
transition, or the finding changed in the register since the export (its row version moved) —
nothing is silently overwritten and nothing accepted is lost. Accepted rows are applied in one
transaction (each row inside a savepoint, so a refused row leaves no partial change); importing
the same file twice applies it once.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from detect.exceptions import InputError
from detect.findings import neutralise
from detect.review.migrations import STATUS_LABELS_ZH
from detect.review.store import (ACTIVE_STATUSES, STATUSES, Register, TransitionError, _clean_text, parse_date,
                                 utc_now)

FORMAT = "detect-review-worklist/1"
SHEET = "worklist"
META_SHEET = "_export"

#: Worklist columns: (name, editable, width).
COLUMNS: tuple[tuple[str, bool, int], ...] = (
    ("finding_id", False, 16),
    ("status", True, 18),
    ("owner", True, 14),
    ("due_date", True, 12),
    ("overdue", False, 9),
    ("new_note", True, 30),
    ("by", True, 12),
    ("dismiss_reason", True, 24),
    ("evidence_note", True, 24),
    ("severity", False, 9),
    ("region_code", False, 11),
    ("region_name", False, 14),
    ("indicator", False, 16),
    ("period", False, 11),
    ("detector", False, 16),
    ("reproduced_note", False, 22),
    ("last_note", False, 30),
    ("summary", False, 60),
    ("summary_zh", False, 60),
    ("row_version", False, 8),
)
EDITABLE = tuple(c for c, e, _ in COLUMNS if e)
_TRACKED = ("status", "owner", "due_date", "dismiss_reason", "evidence_note")
_ZH_TO_STATUS = {v: k for k, v in STATUS_LABELS_ZH.items()}


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, str):
        # Control characters (pasted from PDFs) cannot be stored in a worksheet; the register keeps the text
        # as written, the sheet shows a space for each.
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return neutralise(ILLEGAL_CHARACTERS_RE.sub(" ", v))
    return v


def _unneutralise(text: str) -> str:
    # neutralise() prefixes "'" to text that would be a formula; undo it when reading back.
    return text[1:] if text.startswith("'") and len(text) > 1 and text[1] in "=+-@\t\r" else text


def stamp_workbook(wb: Any, reg: Register, finding_ids: Any = None, *, table: pd.DataFrame | None = None,
                   shown_notes: dict[str, str] | None = None, shown_due: dict[str, Any] | None = None,
                   exported_at: str | None = None) -> str:
    """Add the very hidden export sheet to an openpyxl workbook, so that it can be imported.

    The sheet holds the export stamp and, for each finding, its editable values and row version
    as they are now: :func:`import_xlsx` uses them to tell reviewers' edits from changes made in
    the register since. Any worklist can be made importable this way (the run report's
    ``worklist.xlsx`` too): its first sheet needs a ``finding_id`` column and any of ``status``,
    ``owner``, ``due_date`` (or ``deadline``), ``new_note`` (or ``notes``), ``by``,
    ``dismiss_reason``, ``evidence_note`` — header labels of the report's worklist in English or
    Chinese are recognised.
    The deadline each row shows is recorded too: where the sheet displays one the register does not
    hold (the run report's suggestion from a debt stress test), leaving it as shown is not an edit.

    Parameters
    ----------
    wb : openpyxl.Workbook
    reg : Register
    finding_ids : iterable of str, optional
        The findings on the worklist (default: all of ``table``, else all in the register).
    table : DataFrame, optional
        ``reg.table(...)`` already computed.
    shown_notes : dict, optional
        ``{finding_id: text}`` already shown in a ``notes`` column (e.g. ``status_table``'s note);
        on import, only text added to it becomes a new note.
    shown_due : dict, optional
        ``{finding_id: deadline}`` shown in the deadline column (date or ``YYYY-MM-DD``); on import, a
        deadline left as shown is not an edit. Default: read from the sheet (not possible in a
        write-only workbook: then the register's deadlines are taken as shown).
    exported_at : str, optional

    Returns
    -------
    str
        The stamp (``E`` + 12 hex digits), recorded as the source of imported changes.
    """
    t = table if table is not None else reg.table(finding_ids=finding_ids)
    if table is not None and finding_ids is not None:
        t = t[t["finding_id"].isin(set(finding_ids))]
    exported_at = exported_at or utc_now()
    stamp = "E" + hashlib.sha256(f"{reg.path.resolve()}\x1f{exported_at}".encode()).hexdigest()[:12]
    if META_SHEET in wb.sheetnames:
        del wb[META_SHEET]
    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "veryHidden"
    meta.append(["format", FORMAT])
    meta.append(["stamp", stamp])
    meta.append(["exported_at", exported_at])
    meta.append(["register", _cell(str(reg.path.resolve()))])
    meta.append(["register_created", _register_created(reg)])
    meta.append(["today", reg.today])
    meta.append([])
    # The deadline the worklist sheet shows (the run report's may suggest one from a stress test that the
    # register does not hold): the import compares reviewers' cells with it, so leaving it is no edit.
    if shown_due is not None:
        shown_cols, shown_vals = ["due_date"], {f: {"due_date": _shown_text("due_date", d)} for f, d in shown_due.items()}
    else:
        shown_cols, shown_vals = _shown_values(wb)
    meta.append(["finding_id", *_TRACKED, "version", "shown_note", *[f"shown_{c}" for c in shown_cols]])
    shown = shown_notes or {}
    for r in t.to_dict("records"):
        sv = shown_vals.get(r["finding_id"], {})
        meta.append([r["finding_id"], *[_cell(r[c] or None) for c in _TRACKED], int(r["version"]),
                     _cell(shown.get(r["finding_id"]) or None),
                     *[_cell(sv.get(c, r[c] or "") or None) for c in shown_cols]])
    return stamp


def _register_created(reg: Register) -> str:
    """When the register was created and its first run recorded (kept by its copies, to the microsecond):
    tells one register from another."""
    row = reg.conn.execute("SELECT (SELECT value FROM meta WHERE key = 'created_at'), "
                           "(SELECT recorded_at FROM run_recordings ORDER BY seq LIMIT 1)").fetchone()
    return " / ".join(str(x) for x in row if x)


def _data_sheet(wb: Any) -> Any:
    """The sheet reviewers edit: ``worklist``, else the first visible one."""
    visible = [n for n in wb.sheetnames if wb[n].sheet_state == "visible" and n != META_SHEET]
    return wb[SHEET if SHEET in wb.sheetnames else (visible[0] if visible else wb.sheetnames[0])]


def _header_keys(row: Any) -> list[str]:
    aliases = _header_aliases()
    return [aliases.get(_clean_text(h), aliases.get(_clean_text(h).lower(), "")) for h in row]


def _shown_text(col: str, v: Any) -> str:
    """A cell as the import reads it (status names, ``YYYY-MM-DD`` dates), to compare with reviewers' cells."""
    if col == "status":
        return _status(v)
    if col == "due_date":
        try:
            return parse_date(v, "due_date") or ""
        except InputError:
            return _text(v)
    return _text(v)


def _shown_values(wb: Any) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Shown columns (the deadline) the data sheet has, and ``{finding_id: {column: shown text}}``."""
    ws = _data_sheet(wb)
    if not hasattr(ws, "iter_rows"):   # a write-only workbook cannot be read back
        return [], {}
    rows = ws.iter_rows(values_only=True)
    header = _header_keys(next(rows, None) or ())
    if "finding_id" not in header:
        return [], {}
    cols = [c for c in ("due_date",) if c in header]
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        rec = {h: v for h, v in zip(header, row) if h}
        fid = _text(rec.get("finding_id"))
        if fid:
            out[fid] = {c: _shown_text(c, rec.get(c)) for c in cols}
    return cols, out


def export_xlsx(reg: Register, path: str | os.PathLike, *, status: Any = None, region: str | None = None,
                overdue: bool = False, finding_ids: Any = None) -> int:
    """Write the worklist of the register (filtered like :meth:`Register.table`); returns its row count."""
    from openpyxl import Workbook
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    t = reg.table(status=status, region=region, overdue=overdue, finding_ids=finding_ids)
    exported_at = utc_now()
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    names = [c for c, _, _ in COLUMNS]
    ws.append(names)
    head_font = Font(bold=True)
    edit_fill = PatternFill("solid", fgColor="FFF2CC")
    ro_fill = PatternFill("solid", fgColor="D9D9D9")
    for j, (name, editable, width) in enumerate(COLUMNS, start=1):
        c = ws.cell(row=1, column=j)
        c.font = head_font
        c.fill = edit_fill if editable else ro_fill
        ws.column_dimensions[get_column_letter(j)].width = width
    overdue_fill = PatternFill("solid", fgColor="F8CBAD")
    col = {n: j for j, n in enumerate(names, start=1)}
    for i, r in enumerate(t.to_dict("records"), start=2):
        period = r["period_start"] if r["period_start"] == r["period_end"] else f"{r['period_start']}-{r['period_end']}"
        values = {
            "finding_id": r["finding_id"], "status": r["status"], "owner": r["owner"] or None,
            "due_date": date.fromisoformat(r["due_date"]) if r["due_date"] else None,
            "overdue": "OVERDUE" if r["overdue"] else "", "new_note": None, "by": None,
            "dismiss_reason": r["dismiss_reason"] or None, "evidence_note": r["evidence_note"] or None,
            "severity": r["severity"], "region_code": r["region_code"], "region_name": r["region_name"],
            "indicator": r["indicator"], "period": period, "detector": r["detector"],
            "reproduced_note": r["reproduced_note"], "last_note": r["last_note"], "summary": r["summary"],
            "summary_zh": r["summary_zh"], "row_version": int(r["version"]),
        }
        for name, v in values.items():
            c = ws.cell(row=i, column=col[name], value=_cell(v))
            if name == "due_date" and v is not None:
                c.number_format = "yyyy-mm-dd"
            if name in ("summary", "summary_zh", "last_note"):
                c.alignment = Alignment(wrap_text=False)
        if r["overdue"]:
            for j in range(1, len(names) + 1):
                ws.cell(row=i, column=j).fill = overdue_fill
    last = max(ws.max_row, 2)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}{last}"
    dv = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=False,
                        showErrorMessage=True, errorTitle="status",
                        error="Pick a status from the list (see docs/review.md for the allowed moves).")
    dv.add(f"{get_column_letter(col['status'])}2:{get_column_letter(col['status'])}{last + 500}")
    ws.add_data_validation(dv)
    dd = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,
                        showErrorMessage=True, errorTitle="due_date", error="A date (YYYY-MM-DD) after 2000-01-01.")
    dd.add(f"{get_column_letter(col['due_date'])}2:{get_column_letter(col['due_date'])}{last + 500}")
    ws.add_data_validation(dd)
    # Live highlight when Excel's today passes the deadline of an active finding.
    dl, sl = get_column_letter(col["due_date"]), get_column_letter(col["status"])
    active = ",".join(f'${sl}2="{s}"' for s in ACTIVE_STATUSES)
    ws.conditional_formatting.add(
        f"A2:{get_column_letter(len(names))}{last}",
        FormulaRule(formula=[f'AND(${dl}2<>"",${dl}2<TODAY(),OR({active}))'], fill=overdue_fill))

    stamp_workbook(wb, reg, table=t, exported_at=exported_at)
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
    except OSError as exc:
        raise InputError(f"cannot write the worklist {path}: {exc.strerror or exc}") from None
    return len(t)


@dataclass
class ImportReport:
    """What :func:`import_xlsx` did, row by row."""

    applied: list[tuple[int, str, str]] = field(default_factory=list)    # (row, id, what)
    unchanged: int = 0
    already: list[tuple[int, str]] = field(default_factory=list)        # applied by an earlier import
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (row, id, reason)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        lines = [f"row {r} {fid}: {what}" for r, fid, what in self.applied]
        lines += [f"row {r} {fid}: already applied by an earlier import of this file" for r, fid in self.already]
        lines += [f"row {r} {fid or '(no id)'}: REJECTED: {why}" for r, fid, why in self.rejected]
        verb = "would apply" if self.dry_run else "applied"
        lines.append(f"{verb} {len(self.applied)} row(s), {self.unchanged} unchanged, {len(self.already)} already "
                     f"applied, {len(self.rejected)} rejected")
        return "\n".join(lines)


def _read_sheet(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, dict[str, Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, data_only=False)
    except FileNotFoundError:
        raise InputError(f"worklist {path} not found") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError(f"{path} is not an Excel worklist (.xlsx): {exc}") from None
    ws = _data_sheet(wb)
    name = ws.title
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        raise InputError(f"sheet {name!r} of {path} is empty")
    header = _header_keys(rows[0])
    if "finding_id" not in header:
        raise InputError(f"{path} is not a worklist: sheet {name!r} has no finding_id column; export one with "
                         "`detect review export --xlsx FILE`")
    if META_SHEET not in wb.sheetnames and "row_version" not in header:
        raise InputError(f"{path} has no export stamp (hidden sheet {META_SHEET!r}) and no row_version column, so "
                         "reviewers' edits cannot be told from changes made in the register since it was made; "
                         "export a worklist with `detect review export --xlsx FILE` and edit that one")
    data = []
    for i, row in enumerate(rows[1:], start=2):
        rec = {h: v for h, v in zip(header, row) if h}
        if not _clean_text(rec.get("finding_id")) and all(_clean_text(v) == "" for v in rec.values()):
            continue
        if all(v is None or _clean_text(v) == "" for v in rec.values()):
            continue
        rec["_row"] = i
        data.append(rec)
    meta: dict[str, Any] = {}
    orig: dict[str, dict[str, Any]] = {}
    if META_SHEET in wb.sheetnames:
        mrows = list(wb[META_SHEET].iter_rows(values_only=True))
        k = 0
        while k < len(mrows) and mrows[k] and mrows[k][0] not in (None, "finding_id"):
            meta[str(mrows[k][0])] = mrows[k][1]
            k += 1
        while k < len(mrows) and (not mrows[k] or mrows[k][0] != "finding_id"):
            k += 1
        if k < len(mrows):
            head = list(mrows[k])
            for r in mrows[k + 1:]:
                if r and r[0]:
                    orig[str(r[0])] = dict(zip(head, r))
    if meta and meta.get("format") != FORMAT:
        raise InputError(f"{path} is a worklist of another format ({meta.get('format')!r}, expected {FORMAT!r})")
    return data, meta, orig


def _header_aliases() -> dict[str, str]:
    """Header text -> column key: our names, and the run report's worklist labels (en / zh)."""
    out = {c: c for c, _, _ in COLUMNS}
    out.update({"deadline": "due_date", "notes": "new_note", "note": "new_note"})
    try:
        from detect.report.i18n import LABELS
        from detect.report.worklist import COLUMNS as REPORT_COLUMNS
    except ImportError:  # the report package is optional here
        return out
    for key, lab, _ in REPORT_COLUMNS:
        target = {"deadline": "due_date", "notes": "new_note"}.get(key, key)
        for label in LABELS.get(lab, ()):
            out.setdefault(str(label), target)
            out.setdefault(str(label).lower(), target)
    return out


def _text(v: Any) -> str:
    return _unneutralise(_clean_text(v))


def _status(v: Any) -> str:
    s = _text(v)
    s = _ZH_TO_STATUS.get(s, s)
    alt = s.lower().replace(" ", "_").replace("-", "_")
    return alt if alt in STATUSES else s


def import_xlsx(reg: Register, path: str | os.PathLike, *, by: str = "", dry_run: bool = False) -> ImportReport:
    """Apply reviewers' edits from a worklist exported by :func:`export_xlsx`.

    Parameters
    ----------
    reg : Register
    path : path of the edited .xlsx
    by : str
        Who made the changes, for rows whose ``by`` cell is empty.
    dry_run : bool
        Check every row and report, but change nothing.

    Returns
    -------
    ImportReport
        Applied, unchanged, already-applied and rejected rows (with reasons).
    """
    p = Path(path)
    data, meta, orig = _read_sheet(p)
    stamp = _clean_text(meta.get("stamp")) or "E-unstamped"
    made_in = _clean_text(meta.get("register_created"))
    if made_in and not _register_created(reg).startswith(made_in):  # (exported before any run: a prefix)
        raise InputError(f"{p} was exported from another register ({_clean_text(meta.get('register'))}), not from "
                         f"{reg.path} or a copy of it; import it into the register it came from (--db)")
    source = f"import:{stamp}"
    rep = ImportReport(dry_run=dry_run)
    seen: set[str] = set()

    class _DryRun(Exception):
        pass

    try:
        with reg.transaction():
            for rec in data:
                row = rec["_row"]
                ident = _text(rec.get("finding_id"))
                try:
                    fid = reg.resolve_id(ident) if ident else ""
                    if not fid:
                        raise InputError("no finding_id")
                    if fid in seen:
                        raise InputError("this finding appears on more than one row")
                    seen.add(fid)
                    outcome = _import_row(reg, fid, rec, orig.get(fid), by, source)
                except (InputError, sqlite3.IntegrityError) as exc:
                    rep.rejected.append((row, ident, str(exc)))
                    continue
                if outcome == "unchanged":
                    rep.unchanged += 1
                elif outcome == "already":
                    rep.already.append((row, fid))
                else:
                    rep.applied.append((row, fid, outcome))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return rep


def _import_row(reg: Register, fid: str, rec: dict[str, Any], orig: dict[str, Any] | None, default_by: str,
                source: str) -> str:
    cur = reg.get(fid)
    if orig is None:  # no hidden sheet (rows pasted into another workbook): trust the row's version
        try:
            v = int(rec.get("row_version"))
        except (TypeError, ValueError):
            raise InputError("row_version is missing or not a number: cannot tell what was edited") from None
        if v != int(cur["version"]):
            raise InputError(f"the register changed since this row was exported (version {v} -> {cur['version']}) "
                             "and the export's hidden sheet is missing; export again and redo the edit")
        orig = {c: cur[c] for c in _TRACKED} | {"version": v}
    base = {c: (_text(orig.get(c)) if c != "due_date" else (parse_date(orig.get(c), "due_date") or ""))
            for c in _TRACKED}
    # A cell is edited when it differs from what the sheet showed: the register's value (a deadline: the one
    # the sheet displayed, recorded by stamp_workbook); a column the sheet does not have is not an edit.
    shown_vals = {c: _text(orig[f"shown_{c}"]) for c in _TRACKED if f"shown_{c}" in orig}
    want = {c: base[c] for c in _TRACKED}
    if "status" in rec:
        want["status"] = _status(rec.get("status"))
    if "owner" in rec:
        want["owner"] = _text(rec.get("owner"))
    if "due_date" in rec:
        if "due_date" in shown_vals and _shown_text("due_date", rec.get("due_date")) == shown_vals["due_date"]:
            want["due_date"] = base["due_date"]   # left as shown
        else:
            want["due_date"] = parse_date(rec.get("due_date"), "due_date") or ""
    for c in ("dismiss_reason", "evidence_note"):
        if c in rec:
            want[c] = _text(rec.get(c))
    if not want["status"]:
        raise InputError(f"status is empty; pick one of: {', '.join(STATUSES)}")
    if want["status"] not in STATUSES:
        raise InputError(f"unknown status {want['status']!r}; statuses: {', '.join(STATUSES)}")
    note = _text(rec.get("new_note"))
    shown = _text(orig.get("shown_note"))
    if shown and note.startswith(shown):  # a notes column pre-filled at export: only added text is new
        note = note[len(shown):].strip(" ;,；，。\n\t")
    moving = want["status"] != base["status"]
    # Moving to dismissed / rectified with the reason / evidence cell empty (or no such column, as in the run
    # report's worklist): the note gives them, as `detect review status ID dismissed --note TEXT` does.
    if moving and note:
        if want["status"] == "dismissed" and not want["dismiss_reason"]:
            want["dismiss_reason"], note = note, ""
        elif want["status"] == "rectified" and not want["evidence_note"]:
            want["evidence_note"], note = note, ""
    edited = {c for c in want if want[c] != base[c]}
    # A reason / evidence that does not go with this row's move to dismissed / rectified cannot change the
    # status row: it is kept as a note (emptying it is only what a reopening does anyway).
    texts = [note]
    for c, target, label in (("dismiss_reason", "dismissed", "dismiss reason"),
                             ("evidence_note", "rectified", "evidence note")):
        if c not in edited or (moving and want["status"] == target):
            continue
        edited.discard(c)
        if want[c]:
            texts.append(f"{label} edited: {want[c]}")
        elif not moving:
            raise InputError(f"{c} cannot be emptied (the register keeps it); restore it, or reopen the finding")
    # Notes already in the audit trail from an earlier import of this file are not added again.
    pending = [t for t in texts if t and not _note_recorded(reg, fid, t, source)]
    note_done = len(pending) < len([t for t in texts if t])
    note = pending[0] if pending and pending[0] == texts[0] else ""
    extra = [t for t in pending if t != note]
    if not edited and not pending:
        return "already" if note_done else "unchanged"
    now = {c: ("" if cur[c] is None else str(cur[c])) for c in want}
    if int(cur["version"]) != int(orig["version"]):
        if all(want[c] == now[c] for c in edited) and not pending:
            return "already"
        changed = ", ".join(sorted(c for c in _TRACKED if now[c] != base[c])) or "its history"
        raise InputError(f"changed in the register since the export (version {orig['version']} -> {cur['version']}, "
                         f"last by {cur['updated_by']} at {cur['updated_at']}; changed: {changed}); "
                         "export again and redo the edit")
    who = _text(rec.get("by")) or _clean_text(default_by)
    if not who:
        raise InputError("who made this change? fill the 'by' column (or pass --by NAME)")
    version = int(orig["version"])
    done = []
    with reg.transaction():
        reg.conn.execute("SAVEPOINT import_row")
        try:
            if {"owner", "due_date"} & edited:
                if not want["owner"]:
                    raise InputError("a deadline needs an owner: fill the owner column" if not base["owner"]
                                     else "owner cannot be emptied; assign it to someone else instead")
                if "due_date" in edited and not want["due_date"]:
                    raise InputError("the deadline cannot be emptied (the register keeps it); set another date")
                # The deadline only when the reviewer edited it: one pre-filled from a stress test stays so.
                due = (want["due_date"] or None) if "due_date" in edited else None
                reg.assign(fid, want["owner"], due, by=who, expected_version=version, source=source)
                done.append(f"owner {want['owner']}" + (f", due {due}" if due else ""))
                version = None  # checked once, at the start of the row
            status_now = reg.get(fid)["status"]
            if "status" in edited and want["status"] != status_now:
                try:
                    reg.set_status(fid, want["status"], by=who, note=note,
                                   reason=want["dismiss_reason"] if want["status"] == "dismissed" else "",
                                   evidence=want["evidence_note"] if want["status"] == "rectified" else "",
                                   expected_version=version, source=source)
                except TransitionError as exc:
                    if status_now == base["status"]:
                        raise
                    raise TransitionError(f"the owner given in this row moves it {base['status']} -> {status_now} "
                                          f"first, then: {exc}") from None
                done.append(f"{status_now} -> {want['status']}")
                note = ""
            for text in [note, *extra]:
                if text:
                    reg.add_note(fid, text, by=who, source=source)
                    done.append("note")
        except BaseException:
            reg.conn.execute("ROLLBACK TO import_row")
            reg.conn.execute("RELEASE import_row")
            raise
        reg.conn.execute("RELEASE import_row")
    return "; ".join(done) or "unchanged"


def _note_recorded(reg: Register, fid: str, note: str, source: str) -> bool:
    row = reg.conn.execute("SELECT 1 FROM audit WHERE finding_id = ? AND source = ? AND instr(note, ?) > 0 LIMIT 1",
                           (fid, source, note)).fetchone()
    return row is not None


__all__ = ["COLUMNS", "EDITABLE", "FORMAT", "ImportReport", "export_xlsx", "import_xlsx", "stamp_workbook"]
