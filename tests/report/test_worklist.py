"""The Excel worklist (detect/report/worklist.py) and its rows (detect/report/content.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from detect.report import content, worklist

DATE = dt.date(2026, 1, 15)


def _findings():
    ev_debt = {"crossing_years": {"baseline": {"100%": 2025, "120%": 2027}, "growth": {"100%": 2024}}}
    return pd.DataFrame([
        dict(finding_id="F1", region_code="1", region_name="=SUM(A1:A9)", indicator="gdp", period_start="2015",
             period_end="2016", detector="level_shift", severity="high", q_value=0.001, score=3.0, family="series",
             summary="GDP fell 20 %; check the 2015 accounts.", summary_zh="地区生产总值下降20%；请核对2015年核算。",
             evidence={}),
        dict(finding_id="F2", region_code="2", region_name="乙市", indicator="debt_ratio", period_start="2025",
             period_end="2027", detector="debt_stress", severity="medium", q_value=float("nan"), score=2.0,
             family="debt", summary="Debt ratio crosses 100 %.", summary_zh="债务率越过100%。", evidence=ev_debt),
        dict(finding_id="F3", region_code="2", region_name="乙市", indicator="*", period_start="2010",
             period_end="2020", detector="digits", severity="low", q_value=0.08, score=1.1, family="digits",
             summary="+1 digits", summary_zh="数字", evidence={"what_to_check": "@cmd pull the ledgers"}),
    ])


def test_rows_what_to_check_and_deadlines():
    rows = {r["finding_id"]: r for r in content.worklist_rows(_findings(), "en", DATE)}
    assert rows["F1"]["what_to_check"] == "Check the 2015 accounts."
    assert rows["F3"]["what_to_check"] == "@cmd pull the ledgers"          # from the evidence
    # no instruction in the summary: the family's generic one
    assert rows["F2"]["what_to_check"] == content.t("check_debt", "en")
    # the stress test's baseline crossing (2025) pre-fills the deadline: 30 June 2025, overdue on 2026-01-15
    assert rows["F2"]["deadline"] == "2025-06-30" and rows["F2"]["overdue"]
    assert rows["F1"]["deadline"] == "" and not rows["F1"]["overdue"] and rows["F1"]["status"] == "open"
    zh = {r["finding_id"]: r for r in content.worklist_rows(_findings(), "zh", DATE)}
    assert zh["F1"]["what_to_check"] == "请核对2015年核算。"


def test_rows_from_register_statuses():
    st = {"F1": {"status": "assigned", "owner": "张三", "deadline": "2026-01-10", "notes": ""},
          "F2": {"status": "closed", "owner": "李四", "deadline": "2025-01-01", "notes": "done"}}
    rows = {r["finding_id"]: r for r in content.worklist_rows(_findings(), "zh", DATE, st)}
    assert rows["F1"]["owner"] == "张三" and rows["F1"]["overdue"]
    assert rows["F2"]["status"] == "closed" and not rows["F2"]["overdue"]  # closed items are never overdue
    assert rows["F2"]["deadline"] == "2025-01-01"                          # the reviewer's deadline wins


def test_register_status_table(tmp_path, run_dir):
    review = pytest.importorskip("detect.review")
    db = tmp_path / "reg.sqlite"
    review.record_run(str(db), run_dir)
    fids = list(pd.read_csv(run_dir / "findings.csv", dtype=str)["finding_id"])
    with review.Register(str(db)) as reg:
        reg.assign(fids[0], "王五", "2026-01-01", by="tester")
    st = content.register_statuses(str(db), fids[:3], DATE)
    assert st[fids[0]]["owner"] == "王五" and st[fids[0]]["status"] == "assigned"
    assert st[fids[0]]["deadline"] == "2026-01-01"
    assert st[fids[1]]["status"] == "open"


def test_workbook_features_and_injection(tmp_path):
    from openpyxl import load_workbook

    rows = content.worklist_rows(_findings(), "zh", DATE)
    path = worklist.write_worklist(rows, tmp_path / "w.xlsx", "zh", DATE)
    wb = load_workbook(path)
    ws = wb.active
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:O{len(rows) + 1}"
    dvs = {dv.type: dv for dv in ws.data_validations.dataValidation}
    assert "已销号" in dvs["list"].formula1 and "待核查" in dvs["list"].formula1
    header = [c.value for c in ws[1]]
    for col in ("责任人", "时限", "备注", "状态", "核查要点"):
        assert col in header
    cells = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert not any(v.startswith(("=", "+", "@")) for v in cells)
    assert "'=SUM(A1:A9)" in cells and "'@cmd pull the ledgers" in cells
    # the overdue deadline is filled red
    dl = header.index("时限") + 1
    overdue = [r for r in ws.iter_rows(min_row=2) if r[dl - 1].value == dt.datetime(2025, 6, 30)][0]  # a date cell
    assert overdue[dl - 1].fill.fgColor.rgb.endswith("F5B7B1")
    assert wb.properties.modified == dt.datetime(2026, 1, 15)
    # read back with Chinese headers, statuses mapped to the register's names
    back = worklist.read_worklist(path)
    assert [r["finding_id"] for r in back] == [r["finding_id"] for r in rows]
    assert back[0]["status"] == "open"


def test_workbook_bytes_deterministic(tmp_path):
    rows = content.worklist_rows(_findings(), "en", DATE)
    a = worklist.write_worklist(rows, tmp_path / "a.xlsx", "en", DATE).read_bytes()
    b = worklist.write_worklist(rows, tmp_path / "b.xlsx", "en", DATE).read_bytes()
    assert a == b


def test_report_worklist_round_trips_through_the_register(tmp_path, run_dir):
    """With a register, worklist.xlsx carries its export stamp: a reviewer's edit (owner, deadline,
    status) imports back with `detect review import`'s code path."""
    review = pytest.importorskip("detect.review")
    rw = pytest.importorskip("detect.review.worklist")
    from openpyxl import load_workbook

    from detect.report.rundata import load_run

    db = str(tmp_path / "reg.sqlite")
    review.record_run(db, run_dir)
    data = load_run(run_dir, date=DATE)
    st = content.register_statuses(db, list(data.findings["finding_id"]), DATE)
    rows = content.worklist_rows(data.findings, "zh", DATE, st)
    path = worklist.write_worklist(rows, tmp_path / "w.xlsx", "zh", DATE, db=db)
    again = worklist.write_worklist(rows, tmp_path / "w2.xlsx", "zh", DATE, db=db)
    assert path.read_bytes() == again.read_bytes()          # deterministic with the stamp too
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    fid = ws.cell(row=2, column=1).value
    ws.cell(row=2, column=header.index("责任人") + 1, value="赵六")
    ws.cell(row=2, column=header.index("时限") + 1, value="2026-03-31")
    wb.save(path)
    with review.Register(db, today=DATE.isoformat()) as reg:
        rep = rw.import_xlsx(reg, path, by="tester")
        assert rep.ok, rep.summary()
        after = reg.table(finding_ids=[fid]).iloc[0]
    assert after["owner"] == "赵六" and after["due_date"] == "2026-03-31" and after["status"] == "assigned"


def test_worklist_cells_typed_for_filtering_and_checked(tmp_path):
    """Reviewer's view of worklist.xlsx: a status typed outside the register's list is refused with
    a message (the drop-down accepted anything, and the import failed later); deadlines are real dates
    (Excel's date filter and sort work; the column's date check applies); q-values stay numbers but
    show like the PDF (no '0' or '2.1E-05')."""
    from openpyxl import load_workbook

    rows = content.worklist_rows(_findings(), "zh", DATE)
    ws = load_workbook(worklist.write_worklist(rows, tmp_path / "w.xlsx", "zh", DATE)).active
    header = [c.value for c in ws[1]]
    status = {dv.type: dv for dv in ws.data_validations.dataValidation}["list"]
    assert status.showErrorMessage and "待核查" in status.error and "已销号" in status.error
    dates = {dv.type: dv for dv in ws.data_validations.dataValidation}["date"]
    assert dates.showErrorMessage and "YYYY-MM-DD" in dates.error
    dl = header.index("时限")
    cell = next(r[dl] for r in ws.iter_rows(min_row=2) if r[dl].value is not None)
    assert cell.is_date and cell.value == dt.datetime(2025, 6, 30) and cell.number_format == "yyyy-mm-dd"
    q = header.index("q值")
    qs = [r[q] for r in ws.iter_rows(min_row=2) if r[q].value is not None]
    assert {c.value for c in qs} == {0.001, 0.08}
    assert all(c.number_format == '[<0.0001]"<0.0001";0.0000' for c in qs)
    # read back: the deadline as YYYY-MM-DD text, like the register's
    assert "2025-06-30" in {r.get("deadline") for r in worklist.read_worklist(tmp_path / "w.xlsx")}
