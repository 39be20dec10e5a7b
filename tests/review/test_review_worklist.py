"""Excel worklist: export features, and the export / edit (openpyxl) / import round trip."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from detect.exceptions import InputError
from detect.findings import finding_id
from detect.review.store import STATUSES
from detect.review.worklist import COLUMNS, export_xlsx, import_xlsx, stamp_workbook

from review_helpers import drive, finding

A, B, C, D, E, F = "110000", "120000", "130000", "140000", "150000", "160000"


def fid(region):
    return finding_id(region, "gdp", "2015", "2015", "growth_peers")


@pytest.fixture
def filled(reg, make_run):
    reg.record_run(make_run([finding(r) for r in (A, B, C, D, E, F)]))
    reg.assign(fid(A), "=cmd|' /C calc'!A0", "2026-03-31", by="Chief")   # hostile owner name, overdue
    drive(reg, fid(B), "under_review")
    drive(reg, fid(C), "rectification_due")
    drive(reg, fid(D), "under_review")
    return reg


def _open(path):
    wb = load_workbook(path)
    ws = wb["worklist"]
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    return wb, ws, col, rows


def test_export_features(filled, tmp_path):
    path = tmp_path / "w.xlsx"
    assert export_xlsx(filled, path) == 6
    wb, ws, col, rows = _open(path)
    assert [c for c, _, _ in COLUMNS] == list(col)
    assert {"owner", "due_date", "new_note", "status"} <= set(col)
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(col)).column_letter}7"
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and lists[0].formula1.strip('"').split(",") == list(STATUSES)
    assert str(lists[0].sqref).startswith(f"{ws.cell(2, col['status']).column_letter}2:")
    # overdue row highlighted (today 2026-06-01 > 2026-03-31), others not
    a, e = rows[fid(A)], rows[fid(E)]
    assert ws.cell(a, col["overdue"]).value == "OVERDUE"
    assert ws.cell(a, col["summary"]).fill.fgColor.rgb.endswith("F8CBAD")
    assert ws.cell(e, col["summary"]).fill.fgColor.rgb != ws.cell(a, col["summary"]).fill.fgColor.rgb
    assert len(ws.conditional_formatting) == 1  # live highlight as days pass in Excel
    # formula injection neutralised: stored as text with a leading apostrophe, not a formula
    cell = ws.cell(a, col["owner"])
    assert cell.data_type == "s" and cell.value == "'=cmd|' /C calc'!A0"
    assert isinstance(ws.cell(a, col["due_date"]).value, datetime)
    assert wb["_export"].sheet_state == "veryHidden"
    assert ws.cell(rows[fid(B)], col["row_version"]).value == filled.get(fid(B))["version"]


def test_round_trip(filled, tmp_path):
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)

    def put(region, **vals):
        for k, v in vals.items():
            ws.cell(rows[fid(region)], col[k], v)

    put(B, status="dismissed", dismiss_reason="bureau revised the yearbook (2016 edition p. 112)", by="Zhou")
    put(C, status="rectified", evidence_note="rectification report no. 17", new_note="checked on site", by="Zhou")
    put(E, owner="Sun", due_date=date(2026, 9, 30), new_note="please look at 2015 again", by="Chief")
    put(F, status="confirmed", by="Zhou")                           # refused: open -> confirmed
    put(D, new_note="asked the statistics bureau")                  # no 'by': the --by default applies
    ws.cell(ws.max_row + 1, col["finding_id"], "Fdoesnotexist1")    # refused: unknown id
    ws.cell(ws.max_row, col["status"], "open")
    ws.cell(ws.max_row, col["row_version"], 1)
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    # meanwhile someone changes A in the register; the file's row for A was not edited: no conflict
    reg.set_status(fid(A), "under_review", by="Li")
    before_f = reg.get(fid(F))

    dry = import_xlsx(reg, edited, by="Wang", dry_run=True)
    assert len(dry.applied) == 4 and reg.get(fid(B))["status"] == "under_review"   # nothing changed

    rep = import_xlsx(reg, edited, by="Wang")
    assert not rep.ok
    assert {r[1] for r in rep.applied} == {fid(B), fid(C), fid(E), fid(D)}
    assert rep.unchanged == 1   # A
    rej = {r[1]: r[2] for r in rep.rejected}
    assert "cannot go from open to confirmed" in rej[fid(F)]
    assert "unknown finding id" in rej["Fdoesnotexist1"]
    assert "REJECTED" in rep.summary()

    b, c, e, f = (reg.get(fid(x)) for x in (B, C, E, F))
    assert (b["status"], b["dismiss_reason"]) == ("dismissed", "bureau revised the yearbook (2016 edition p. 112)")
    assert (c["status"], c["evidence_note"]) == ("rectified", "rectification report no. 17")
    assert (e["status"], e["owner"], e["due_date"]) == ("assigned", "Sun", "2026-09-30")
    assert f == before_f  # the refused row changed nothing
    assert reg.get(fid(A))["status"] == "under_review"  # the register's own change was not overwritten
    # every accepted change is in the audit trail, with who and where it came from
    hc = reg.history(fid(C)).iloc[-1]
    assert (hc["by"], hc["old_status"], hc["new_status"]) == ("Zhou", "rectification_due", "rectified")
    assert hc["source"].startswith("import:E") and "checked on site" in hc["note"]
    hd = reg.history(fid(D)).iloc[-1]
    assert (hd["by"], hd["action"], hd["note"]) == ("Wang", "note", "asked the statistics bureau")
    he = reg.history(fid(E))
    assert list(he["action"].iloc[-2:]) == ["assign", "note"]
    assert reg.verify() == []

    # importing the same file again applies nothing twice
    n_audit = reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    again = import_xlsx(reg, edited, by="Wang")
    assert not again.applied and len(again.already) == 4 and len(again.rejected) == 2
    assert reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0] == n_audit


def test_conflict_with_a_change_made_after_the_export(filled, tmp_path):
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(B)], col["status"], "confirmed")
    ws.cell(rows[fid(B)], col["by"], "Zhou")
    wb.save(path)
    reg.set_status(fid(B), "dismissed", by="Li", reason="duplicate of another finding")   # after the export
    rep = import_xlsx(reg, path)
    assert len(rep.rejected) == 1
    msg = rep.rejected[0][2]
    assert "changed in the register since the export" in msg and "by Li" in msg and "status" in msg
    assert reg.get(fid(B))["status"] == "dismissed"


def test_chinese_status_label_and_text_dates(filled, tmp_path):
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(D)], col["status"], "问题属实")
    ws.cell(rows[fid(D)], col["by"], "周")
    ws.cell(rows[fid(E)], col["owner"], "孙")
    ws.cell(rows[fid(E)], col["due_date"], "2026-10-31")
    ws.cell(rows[fid(E)], col["by"], "周")
    wb.save(path)
    rep = import_xlsx(reg, path)
    assert rep.ok, rep.summary()
    assert reg.get(fid(D))["status"] == "confirmed"
    assert reg.get(fid(E))["due_date"] == "2026-10-31"


@pytest.mark.parametrize("edit, message", [
    ({"due_date": "31/10/2026", "owner": "Sun", "by": "x"}, "YYYY-MM-DD"),
    ({"status": "finished", "by": "x"}, "unknown status 'finished'"),
    ({"status": "  ", "by": "x"}, "status is empty"),
    ({"owner": "Sun"}, "who made this change"),
    ({"due_date": "2026-10-31", "by": "x"}, "a deadline needs an owner"),
])
def test_invalid_rows_are_rejected_with_a_reason(filled, tmp_path, edit, message):
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    for k, v in edit.items():
        ws.cell(rows[fid(E)], col[k], v)
    wb.save(path)
    before = reg.get(fid(E))
    rep = import_xlsx(reg, path)
    assert len(rep.rejected) == 1 and message in rep.rejected[0][2]
    assert reg.get(fid(E)) == before


def test_rows_without_the_hidden_sheet_use_row_version(filled, tmp_path):
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    del wb["_export"]
    ws.cell(rows[fid(D)], col["status"], "confirmed")
    ws.cell(rows[fid(D)], col["by"], "Zhou")
    ws.cell(rows[fid(B)], col["status"], "confirmed")
    ws.cell(rows[fid(B)], col["by"], "Zhou")
    wb.save(path)
    reg.add_note(fid(B), "note only: version unchanged", by="Li")
    reg.assign(fid(D), "Qian", None, by="Chief")   # D changed since export
    rep = import_xlsx(reg, path)
    assert [r[1] for r in rep.applied] == [fid(B)]
    assert [r[1] for r in rep.rejected] == [fid(D)] and "hidden sheet is missing" in rep.rejected[0][2]


def test_not_a_worklist(reg, tmp_path):
    with pytest.raises(InputError, match="not found"):
        import_xlsx(reg, tmp_path / "none.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(InputError, match="not an Excel worklist"):
        import_xlsx(reg, bad)
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Sheet1"
    wb.save(tmp_path / "other.xlsx")
    with pytest.raises(InputError, match="is empty"):
        import_xlsx(reg, tmp_path / "other.xlsx")
    wb.active.append(["region", "value"])
    wb.active.append(["110000", 3])
    wb.save(tmp_path / "other.xlsx")
    with pytest.raises(InputError, match="no finding_id column"):
        import_xlsx(reg, tmp_path / "other.xlsx")


def _report_style_workbook(reg, ids, lang_index):
    """A worklist laid out like the run report's (label headers, no reason/evidence/by columns)."""
    from openpyxl import Workbook

    from detect.report.i18n import LABELS

    wb = Workbook()
    ws = wb.active
    ws.title = LABELS["worklist"][lang_index]
    ws.append([LABELS[k][lang_index] for k in ("wl_id", "wl_status", "wl_owner", "wl_deadline", "wl_notes")])
    t = reg.table().set_index("finding_id")
    for f in ids:
        ws.append([f, t.loc[f, "status"], t.loc[f, "owner"] or None, t.loc[f, "due_date"] or None,
                   "not reproduced in run R1"])
    return wb


def test_run_report_worklist_needs_a_stamp_then_imports(filled, tmp_path):
    pytest.importorskip("detect.report.i18n")
    reg = filled
    ids = [fid(B), fid(E)]
    wb = _report_style_workbook(reg, ids, 1)
    ws = wb.active
    ws.cell(2, 2, "dismissed")                             # B: under_review -> dismissed, reason from the note
    ws.cell(2, 5, "not reproduced in run R1; 统计局已更正")
    ws.cell(3, 3, "孙")                                     # E: owner
    wb.save(tmp_path / "plain.xlsx")
    with pytest.raises(InputError, match="no export stamp"):
        import_xlsx(reg, tmp_path / "plain.xlsx", by="王")
    stamp = stamp_workbook(wb, reg, ids, shown_notes={f: "not reproduced in run R1" for f in ids})
    wb.save(tmp_path / "stamped.xlsx")
    rep = import_xlsx(reg, tmp_path / "stamped.xlsx", by="王")
    assert rep.ok, rep.summary()
    b = reg.get(fid(B))
    assert (b["status"], b["dismiss_reason"]) == ("dismissed", "统计局已更正")
    assert reg.history(fid(B))["source"].iat[-1] == f"import:{stamp}"
    e = reg.get(fid(E))
    assert (e["status"], e["owner"], e["due_date"]) == ("assigned", "孙", None)
    assert not (reg.history(fid(E))["action"] == "note").any()  # the pre-filled note is not a new note


def test_english_status_labels(filled, tmp_path):
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(D)], col["status"], "Confirmed")
    ws.cell(rows[fid(D)], col["by"], "Zhou")
    wb.save(path)
    assert import_xlsx(reg, path).ok
    assert reg.get(fid(D))["status"] == "confirmed"


def test_edited_reason_without_a_status_change_is_one_note_once(filled, tmp_path):
    """A reason / evidence edited on a row whose status does not change is kept as a note (docs/review.md),
    exactly once: importing the same file again must not append it again."""
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(E)], col["dismiss_reason"], "年鉴已修订")
    ws.cell(rows[fid(D)], col["evidence_note"], "整改报告 17号")
    ws.cell(rows[fid(D)], col["new_note"], "asked again")
    for r in (E, D):
        ws.cell(rows[fid(r)], col["by"], "周")
    wb.save(path)
    first = import_xlsx(reg, path)
    assert first.ok and {r[1] for r in first.applied} == {fid(D), fid(E)}
    notes = lambda r: list(reg.history(fid(r)).query("action == 'note'")["note"])  # noqa: E731
    assert notes(E) == ["dismiss reason edited: 年鉴已修订"]
    assert sorted(notes(D)) == sorted(["asked again", "evidence note edited: 整改报告 17号"])
    n_audit = reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    again = import_xlsx(reg, path)
    assert again.ok and not again.applied and {f for _, f in again.already} == {fid(D), fid(E)}
    assert reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0] == n_audit


def test_edited_reason_of_a_dismissed_finding_is_not_dropped(filled, tmp_path):
    """Editing the reason of a finding that is already dismissed must leave a trace (it was reported
    'unchanged' and lost)."""
    reg = filled
    reg.set_status(fid(B), "dismissed", by="Li", reason="old reason")
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(B)], col["dismiss_reason"], "better reason: 2016 yearbook p. 112")
    ws.cell(rows[fid(B)], col["by"], "Zhou")
    wb.save(path)
    rep = import_xlsx(reg, path)
    assert rep.ok and [r[1] for r in rep.applied] == [fid(B)], rep.summary()
    last = reg.history(fid(B)).iloc[-1]
    assert (last["by"], last["action"]) == ("Zhou", "note")
    assert "better reason: 2016 yearbook p. 112" in last["note"]


def test_dismissal_reason_written_in_the_note_column(filled, tmp_path):
    """Like `detect review status ID dismissed --note TEXT`: with the reason / evidence cell left empty, the
    new_note is the reason / evidence (it was refused with a message asking for --note)."""
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(B)], col["status"], "排除")
    ws.cell(rows[fid(B)], col["new_note"], "统计局已更正")
    ws.cell(rows[fid(C)], col["status"], "rectified")
    ws.cell(rows[fid(C)], col["new_note"], "整改报告 辽财〔2026〕17号")
    wb.save(path)
    rep = import_xlsx(reg, path, by="王")
    assert rep.ok, rep.summary()
    b, c = reg.get(fid(B)), reg.get(fid(C))
    assert (b["status"], b["dismiss_reason"]) == ("dismissed", "统计局已更正")
    assert (c["status"], c["evidence_note"]) == ("rectified", "整改报告 辽财〔2026〕17号")
    assert reg.history(fid(B))["note"].iat[-1] == "reason: 统计局已更正"   # as the command line records it
    assert len(import_xlsx(reg, path, by="王").already) == 2


def test_emptied_reason_is_refused_unless_the_row_reopens(filled, tmp_path):
    reg = filled
    reg.set_status(fid(B), "dismissed", by="Li", reason="duplicate")
    reg.set_status(fid(D), "dismissed", by="Li", reason="duplicate")
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(B)], col["dismiss_reason"]).value = None              # B stays dismissed: refused
    ws.cell(rows[fid(D)], col["dismiss_reason"]).value = None              # D is reopened: the register clears it
    ws.cell(rows[fid(D)], col["status"], "under_review")
    ws.cell(rows[fid(D)], col["new_note"], "not a duplicate after all")
    wb.save(path)
    rep = import_xlsx(reg, path, by="Zhou")
    assert [r[1] for r in rep.rejected] == [fid(B)] and "cannot be emptied" in rep.rejected[0][2]
    assert reg.get(fid(B))["dismiss_reason"] == "duplicate"
    d = reg.get(fid(D))
    assert (d["status"], d["dismiss_reason"]) == ("under_review", None)
    assert reg.history(fid(D))["note"].iat[-1] == "not a duplicate after all"


def test_owner_only_edit_keeps_a_pre_filled_deadline_pre_filled(reg, make_run, tmp_path):
    """Giving an owner in the worklist is not a decision about the deadline: a deadline pre-filled from a debt
    stress test stays 'stress_test' (it was silently turned into the reviewer's, which later runs never
    update, and the audit row said 'due: ...' as if the reviewer had set it)."""
    ev = {"crossing_years": {"baseline": {"debt_ratio_warning": 2027}}, "series": {"2024": 1.0}}
    reg.record_run(make_run([finding(A, detector="debt_stress", evidence=ev)], detectors=("debt_stress",)))
    f = finding_id(A, "gdp", "2015", "2015", "debt_stress")
    assert (reg.get(f)["due_date"], reg.get(f)["due_source"]) == ("2027-06-30", "stress_test")
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[f], col["owner"], "孙")
    ws.cell(rows[f], col["by"], "周")
    wb.save(path)
    assert import_xlsx(reg, path).ok
    got = reg.get(f)
    assert (got["status"], got["owner"], got["due_date"], got["due_source"]) == ("assigned", "孙", "2027-06-30",
                                                                                   "stress_test")
    assert reg.history(f)["note"].iat[-1] == "owner: 孙"
    # a later run whose projection moves still updates it
    ev2 = {"crossing_years": {"baseline": {"debt_ratio_warning": 2028}}, "series": {"2024": 1.0}}
    reg.record_run(make_run([finding(A, detector="debt_stress", evidence=ev2)], detectors=("debt_stress",)))
    assert reg.get(f)["due_date"] == "2028-06-30"


def test_emptied_deadline_is_refused_not_reported_as_applied(filled, tmp_path):
    """A deadline cannot be removed from the register; the row was reported applied ('owner ...') and
    nothing changed."""
    reg = filled
    reg.assign(fid(E), "Sun", "2026-09-30", by="Chief")
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(E)], col["due_date"]).value = None
    ws.cell(rows[fid(E)], col["by"], "Zhou")
    wb.save(path)
    before = reg.get(fid(E))
    rep = import_xlsx(reg, path)
    assert not rep.applied and [r[1] for r in rep.rejected] == [fid(E)]
    assert "deadline cannot be emptied" in rep.rejected[0][2]
    assert reg.get(fid(E)) == before


def test_values_the_sheet_showed_are_not_edits(filled, tmp_path):
    """The run report's worklist may show a value the register does not hold (a deadline suggested from a stress
    test the register does not pre-fill); a reviewer who leaves it alone has not edited it. The whole untouched
    worklist was refused (exit 2: 'who made this change?' / 'a deadline needs an owner')."""
    pytest.importorskip("detect.report.i18n")
    reg = filled
    ids = [fid(B), fid(E), fid(F)]
    wb = _report_style_workbook(reg, ids, 1)
    ws = wb.active
    for r in (2, 3, 4):
        ws.cell(r, 4, datetime(2024, 6, 30))                # shown deadline, not in the register
    stamp_workbook(wb, reg, ids, shown_notes={f: "not reproduced in run R1" for f in ids})
    wb.save(tmp_path / "shown.xlsx")
    rep = import_xlsx(reg, tmp_path / "shown.xlsx")
    assert rep.ok and rep.unchanged == 3 and not rep.applied, rep.summary()
    ws.cell(3, 3, "孙")                                      # E: an owner; the shown deadline left alone
    ws.cell(4, 4, datetime(2026, 12, 31))                   # F: the deadline changed: an edit (needs an owner)
    ws.cell(4, 3, "钱")
    wb.save(tmp_path / "shown.xlsx")
    rep = import_xlsx(reg, tmp_path / "shown.xlsx", by="王")
    assert rep.ok and rep.unchanged == 1, rep.summary()
    e, f = reg.get(fid(E)), reg.get(fid(F))
    assert (e["owner"], e["due_date"]) == ("孙", None)
    assert (f["owner"], f["due_date"], f["due_source"]) == ("钱", "2026-12-31", "reviewer")


def test_write_only_workbook_stamped_with_the_deadlines_it_shows(filled, tmp_path):
    """The run report writes its worklist with a write-only openpyxl workbook (nothing to read back): the
    deadlines it shows come as ``shown_due``."""
    from openpyxl import Workbook

    reg = filled
    ids = [fid(E), fid(F)]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("worklist")
    ws.append(["finding_id", "status", "owner", "deadline"])
    for f in ids:
        ws.append([f, "open", None, datetime(2024, 6, 30)])
    stamp_workbook(wb, reg, ids, shown_due={f: "2024-06-30" for f in ids})
    wb.save(tmp_path / "wo.xlsx")
    rep = import_xlsx(reg, tmp_path / "wo.xlsx")
    assert rep.ok and rep.unchanged == 2, rep.summary()
    wb2 = Workbook(write_only=True)                     # without shown_due it still stamps (register's values)
    wb2.create_sheet("worklist").append(["finding_id", "status"])
    stamp_workbook(wb2, reg, ids)
    wb2.save(tmp_path / "wo2.xlsx")
    assert import_xlsx(reg, tmp_path / "wo2.xlsx").ok


def test_worklist_of_another_register_is_refused(filled, tmp_path, make_run):
    """A worklist exported from register A and imported into register B (another DETECT_DB) applied its edits
    to B wherever the row versions happened to match (every untouched finding is at version 1). A copy of A
    (same register, moved or restored) is still accepted."""
    import shutil

    from detect.review.store import Register

    path = tmp_path / "w.xlsx"
    export_xlsx(filled, path)
    wb, ws, col, rows = _open(path)
    ws.cell(rows[fid(E)], col["owner"], "孙")
    ws.cell(rows[fid(E)], col["by"], "周")
    wb.save(path)
    with Register(tmp_path / "other.sqlite", today="2026-06-01") as other:
        other.record_run(make_run([finding(r) for r in (A, B, C, D, E, F)]))
        with pytest.raises(InputError, match="exported from another register"):
            import_xlsx(other, path)
        assert other.get(fid(E))["status"] == "open"
    filled.close()
    shutil.copyfile(filled.path, tmp_path / "copy.sqlite")
    with Register(tmp_path / "copy.sqlite", today="2026-06-01") as copy:
        assert import_xlsx(copy, path).ok and copy.get(fid(E))["owner"] == "孙"


def test_refused_move_after_the_rows_assignment_names_both_steps(filled, tmp_path):
    """Owner given and status 'dismissed' on an open finding: the assignment moves it to assigned, then the
    dismissal is refused. The message said only 'cannot go from assigned to dismissed' while the reviewer's
    sheet and the register both say open."""
    reg = filled
    path = tmp_path / "w.xlsx"
    export_xlsx(reg, path)
    wb, ws, col, rows = _open(path)
    for k, v in {"owner": "孙", "status": "dismissed", "dismiss_reason": "dup", "by": "周"}.items():
        ws.cell(rows[fid(E)], col[k], v)
    wb.save(path)
    rep = import_xlsx(reg, path)
    msg = rep.rejected[0][2]
    assert "open -> assigned" in msg and "cannot go from assigned to dismissed" in msg, msg
    assert reg.get(fid(E))["status"] == "open"


def test_control_characters_pasted_into_notes_do_not_block_the_export(filled, tmp_path):
    """Text pasted from a PDF carries control characters (form feed, STX) that Excel cannot hold; the audit
    trail keeps them forever, and every export of the register failed ('internal error:
    IllegalCharacterError')."""
    reg = filled
    reg.add_note(fid(E), "pasted from PDF:\x0c page 2 \x02 end", by="Li")
    reg.set_status(fid(B), "dismissed", by="Li", reason="yearbook\x0b2016 p. 112")
    path = tmp_path / "w.xlsx"
    assert export_xlsx(reg, path) == 6
    wb, ws, col, rows = _open(path)
    assert ws.cell(rows[fid(E)], col["last_note"]).value.startswith("pasted from PDF:")
    assert "2016 p. 112" in ws.cell(rows[fid(B)], col["dismiss_reason"]).value
    rep = import_xlsx(reg, path)
    assert rep.ok and rep.unchanged == 6 and not rep.applied, rep.summary()
