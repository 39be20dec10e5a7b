"""The Excel worklist (问题清单): one row per finding for reviewers to act on.

Filters on every column, a frozen header, a status drop-down (data validation with the follow-up
register's statuses), columns for owner, deadline and notes, overdue deadlines in red. Every text
cell goes through :func:`detect.findings.neutralise` (no formula injection from a region name or a
summary). Content is deterministic: workbook properties carry the report date, and the zip entries
a fixed timestamp, so the same run and date give the same bytes.

The first row holds the column labels in the report language; :data:`COLUMNS` gives the stable keys
(``finding_id``, ``status``, ``owner``, ``deadline``, ``notes`` …) and :func:`read_worklist` maps
either language's labels back to them, for importing a worklist edited by reviewers.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any, Sequence

from detect.exceptions import InputError
from detect.findings import neutralise
from detect.report.i18n import LABELS, severity_label, status_label, t

#: Worklist columns: (key, label key, width in characters).
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("finding_id", "wl_id", 15),
    ("severity", "wl_severity", 8),
    ("region_code", "wl_region_code", 10),
    ("region_name", "wl_region", 14),
    ("indicator", "wl_indicator", 16),
    ("period", "wl_period", 11),
    ("detector", "wl_detector", 16),
    ("q_value", "wl_q", 9),
    ("summary", "wl_evidence", 70),
    ("what_to_check", "wl_check", 45),
    ("status", "wl_status", 14),
    ("owner", "wl_owner", 12),
    ("deadline", "wl_deadline", 12),
    ("deadline_source", "wl_deadline_source", 18),
    ("notes", "wl_notes", 30),
)
#: Statuses of the follow-up register, in the order of the loop (the drop-down's values).
STATUSES: tuple[str, ...] = ("open", "assigned", "under_review", "confirmed", "dismissed", "rectification_due",
                             "rectified", "closed")

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: q-values stay numbers (sortable, filterable) and read like the PDF: 0.0123, and <0.0001 below that.
Q_FORMAT = '[<0.0001]"<0.0001";0.0000'
DATE_FORMAT = "yyyy-mm-dd"


def _as_date(v: Any) -> Any:
    """A ``YYYY-MM-DD`` deadline as a date cell (Excel filters and sorts it as a date); other text as is."""
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        try:
            d = _dt.date.fromisoformat(v)
        except ValueError:
            return v
        return _dt.datetime(d.year, d.month, d.day)
    return v or None


def build_workbook(rows: Sequence[dict[str, Any]], lang: str, date: _dt.date):
    """An openpyxl Workbook (write-only, streamed) of the worklist rows (see
    :func:`detect.report.content.worklist_rows`)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("worklist", lang))
    keys = [c[0] for c in COLUMNS]
    for j, (_, _, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    status_col = keys.index("status") + 1
    deadline_col = keys.index("deadline") + 1
    last = max(len(rows) + 1, 2)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    letter = get_column_letter(status_col)
    allowed = [status_label(s, lang) for s in STATUSES]
    # showErrorMessage: without it Excel accepts any text typed in, and the register import fails later
    dv = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True, showDropDown=False,
                        showErrorMessage=True)
    dv.error = t("wl_status_error", lang, statuses=("、" if lang == "zh" else ", ").join(allowed))
    dv.errorTitle = t("wl_status", lang)
    dv.add(f"{letter}2:{letter}{max(last, 1000)}")
    ws.data_validations.append(dv)
    dl = get_column_letter(deadline_col)
    dvd = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True, showErrorMessage=True)
    dvd.error = t("wl_deadline_error", lang)
    dvd.errorTitle = t("wl_deadline", lang)
    dvd.add(f"{dl}2:{dl}{max(last, 1000)}")
    ws.data_validations.append(dvd)

    head_fill = PatternFill("solid", fgColor="1F4E79")
    head_font = Font(bold=True, color="FFFFFF")
    head_align = Alignment(vertical="center", wrap_text=True)
    header = []
    for key, lab, _ in COLUMNS:
        c = WriteOnlyCell(ws, value=t(lab, lang))
        c.fill, c.font, c.alignment = head_fill, head_font, head_align
        header.append(c)
    ws.append(header)
    sev_fill = {"high": "FADBD8", "medium": "FDEBD0", "low": "FCF3CF", "info": "EAEDED"}
    fills = {k: PatternFill("solid", fgColor=v) for k, v in sev_fill.items()}
    overdue_fill = PatternFill("solid", fgColor="F5B7B1")
    overdue_font = Font(bold=True, color="78281F")
    wrap = Alignment(vertical="top", wrap_text=True)
    wrap_keys = {"summary", "what_to_check", "notes"}
    for r in rows:
        out = []
        for key in keys:
            v = r.get(key, "")
            if key == "severity":
                v = severity_label(str(v), lang)
            elif key == "status":
                v = status_label(str(v), lang)
            elif key == "q_value":
                v = None if v is None else float(v)
            elif key == "deadline":
                v = _as_date(v)
            if isinstance(v, str):
                v = neutralise(v)
            styled = (key in wrap_keys or (key == "severity" and r.get("severity") in fills)
                      or (key in ("deadline", "status") and r.get("overdue"))
                      or (key == "q_value" and v is not None) or isinstance(v, _dt.datetime))
            if not styled:
                out.append(v)
                continue
            c = WriteOnlyCell(ws, value=v)
            if key in wrap_keys:  # long text wraps; styling every cell would triple the time
                c.alignment = wrap
            if key == "severity":
                c.fill = fills[r["severity"]]
            if key in ("deadline", "status") and r.get("overdue"):
                c.fill, c.font = overdue_fill, overdue_font
            if key == "q_value":
                c.number_format = Q_FORMAT
            if isinstance(v, _dt.datetime):
                c.number_format = DATE_FORMAT
            out.append(c)
        ws.append(out)
    stamp = _dt.datetime(date.year, date.month, date.day)
    wb.properties.creator = "detect"
    wb.properties.lastModifiedBy = "detect"
    wb.properties.title = t("worklist", lang)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    return wb


def _stable_zip(data: bytes, stamp: _dt.datetime) -> bytes:
    """Rewrite an xlsx (zip) with fixed entry timestamps and the core-properties modified date pinned
    (openpyxl sets it to the current time on save)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode("utf-8")
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{iso}\g<2>", text)
                text = re.sub(r"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)", rf"\g<1>{iso}\g<2>", text)
                body = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body, compresslevel=6)
    return out.getvalue()


def write_worklist(rows: Sequence[dict[str, Any]], path: str | Path, lang: str, date: _dt.date,
                   db: str | None = None) -> Path:
    """Write ``worklist.xlsx``; same rows, language, date (and register state) give the same bytes.

    With ``db`` (the follow-up register), the workbook gets the register's export stamp
    (:func:`detect.review.worklist.stamp_workbook`, dated with the report date), so reviewers'
    edits can be imported with ``detect review import worklist.xlsx``.
    """
    wb = build_workbook(rows, lang, date)
    if db:
        _stamp(wb, db, rows, date)
    buf = io.BytesIO()
    wb.save(buf)
    stamp = _dt.datetime(date.year, date.month, date.day)
    path = Path(path)
    path.write_bytes(_stable_zip(buf.getvalue(), stamp))
    return path


def _stamp(wb, db: str, rows: Sequence[dict[str, Any]], date: _dt.date) -> None:
    """Make the worklist importable into the register (no-op without the review package)."""
    try:
        from detect.review import Register
        from detect.review.worklist import stamp_workbook
    except ImportError:
        return
    with Register(db, today=date.isoformat(), create=False) as reg:
        stamp_workbook(wb, reg, [r["finding_id"] for r in rows],
                       shown_notes={r["finding_id"]: r.get("notes") or "" for r in rows},
                       shown_due={r["finding_id"]: r.get("deadline") or "" for r in rows},
                       exported_at=f"{date.isoformat()}T00:00:00.000000Z")


def read_worklist(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a worklist (possibly edited by reviewers) keyed by :data:`COLUMNS` keys.

    Header labels in either language are recognised; statuses shown in Chinese or English are
    mapped back to the register's names (``已分派`` -> ``assigned``).

    Raises
    ------
    InputError
        When the file cannot be opened or has no ``finding_id`` column.
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise InputError(f"cannot read worklist {path}: {exc}") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None) or ()
    by_label = {}
    for key, lab, _ in COLUMNS:
        en, zh = LABELS[lab]
        by_label[en] = by_label[zh] = by_label[key] = key
    keys = [by_label.get(str(h).strip()) if h is not None else None for h in header]
    if "finding_id" not in keys:
        raise InputError(f"{path} has no finding id column (expected a header {LABELS['wl_id'][0]!r} or "
                         f"{LABELS['wl_id'][1]!r})")
    status_back = {}
    for s in STATUSES:
        en, zh = LABELS[f"st_{s}"]
        status_back[en] = status_back[zh] = status_back[s] = s
    out = []
    for row in it:
        rec = {k: v for k, v in zip(keys, row) if k}
        if not rec.get("finding_id"):
            continue
        if isinstance(rec.get("status"), str):
            rec["status"] = status_back.get(rec["status"].strip(), rec["status"].strip())
        if isinstance(rec.get("deadline"), _dt.datetime):
            rec["deadline"] = rec["deadline"].date().isoformat()
        out.append(rec)
    wb.close()
    return out
