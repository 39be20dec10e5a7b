"""``detect review`` on the command line, and ``detect run`` recording itself in the register."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from detect.cli import main
from detect.findings import finding_id
from detect.review import Register

from review_helpers import finding

A, B = "110000", "120000"
FA = finding_id(A, "gdp", "2015", "2015", "growth_peers")
FB = finding_id(B, "gdp", "2015", "2015", "growth_peers")


@pytest.fixture
def db(tmp_path, make_run):
    path = tmp_path / "cli.sqlite"
    assert main(["review", "record", str(make_run([finding(A), finding(B)])), "--db", str(path)]) == 0
    return str(path)


def test_list_formats(db, capsys):
    capsys.readouterr()
    assert main(["review", "list", "--db", db, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["finding_id"] for r in rows} == {FA, FB} and {r["status"] for r in rows} == {"open"}
    assert main(["review", "list", "--db", db, "--format", "csv", "--region", A]) == 0
    df = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert list(df["finding_id"]) == [FA]
    assert main(["review", "--db", db, "list"]) == 0   # --db before the action works too
    out = capsys.readouterr().out
    assert FA in out and "2 finding(s); 0 overdue" in out


def test_assign_status_note_show_and_overdue(db, capsys):
    assert main(["review", "assign", FA, "--to", "Li", "--due", "2026-01-31", "--by", "Chief", "--db", db]) == 0
    assert main(["review", "status", FA[:7], "under_review", "--by", "Li", "--db", db]) == 0
    assert main(["review", "note", FA, "called the bureau", "--by", "Li", "--db", db]) == 0
    assert main(["review", "status", FA, "dismissed", "--by", "Li", "--reason", "revised data", "--db", db]) == 0
    assert main(["review", "status", FA, "under_review", "--by", "Li", "--note", "revision withdrawn",
                 "--db", db]) == 0
    capsys.readouterr()
    assert main(["review", "show", FA, "--db", db]) == 0
    out = capsys.readouterr().out
    for text in ("status      under_review", "owner       Li", "due         2026-01-31 (reviewer)",
                 "open -> assigned", "called the bureau", "dismissed -> under_review", "revision withdrawn"):
        assert text in out
    assert main(["review", "list", "--db", db, "--overdue", "--today", "2026-02-01", "--format", "json"]) == 0
    assert [r["finding_id"] for r in json.loads(capsys.readouterr().out)] == [FA]
    assert main(["review", "list", "--db", db, "--overdue", "--today", "2026-01-31", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["review", "show", FA, "--db", db, "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["history"]) == 6


@pytest.mark.parametrize("argv, message", [
    (["review", "show", "Fnope123"], "unknown finding id 'Fnope123'"),
    (["review", "status", FA, "closed", "--by", "x"], "cannot go from open to closed; from open it may go to: assigned"),
    (["review", "status", FA, "finished", "--by", "x"], "unknown status 'finished'"),
    (["review", "assign", FA, "--to", "Li", "--due", "2026-13-01"], "not a real calendar date"),
    (["review", "assign", FA, "--to", "Li", "--due", "tomorrow"], "YYYY-MM-DD"),
    (["review", "note", FA, "  ", "--by", "x"], "the note is empty"),
    (["review", "export", "--xlsx", "out.csv"], "must be an .xlsx file"),
    (["review", "import", "missing.xlsx"], "not found"),
])
def test_bad_ids_and_values_exit_2_with_one_line(db, capsys, argv, message):
    capsys.readouterr()
    assert main([*argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_missing_register_is_not_created(tmp_path, capsys):
    path = tmp_path / "none.sqlite"
    assert main(["review", "list", "--db", str(path)]) == 2
    assert "no follow-up register" in capsys.readouterr().err and not path.exists()


def test_env_db(db, monkeypatch, capsys):
    monkeypatch.setenv("DETECT_DB", db)
    capsys.readouterr()
    assert main(["review", "list", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_export_import_exit_codes(db, tmp_path, capsys):
    x = tmp_path / "w.xlsx"
    assert main(["review", "export", "--xlsx", str(x), "--db", db]) == 0
    wb = load_workbook(x)
    ws = wb["worklist"]
    col = {c.value: c.column for c in ws[1]}
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows[FA], col["owner"], "Li")
    ws.cell(rows[FA], col["due_date"], "2026-12-31")
    ws.cell(rows[FB], col["status"], "closed")          # refused
    wb.save(x)
    capsys.readouterr()
    assert main(["review", "import", str(x), "--by", "Chief", "--db", db]) == 2
    err = capsys.readouterr().err
    assert f"{FB}: REJECTED: finding {FB} cannot go from open to closed" in err
    assert "applied 1 row(s)" in err
    assert Register(db).get(FA)["owner"] == "Li"
    ws.cell(rows[FB], col["status"], "open")
    wb.save(x)
    assert main(["review", "import", str(x), "--by", "Chief", "--db", db]) == 0
    assert "1 already applied, 0 rejected" in capsys.readouterr().out


def test_verify(db, capsys):
    assert main(["review", "verify", "--db", db]) == 0
    assert "ok" in capsys.readouterr().out


# --- detect run records itself --------------------------------------------------------------------

def _panel_csv(tmp_path, bump_region=0):
    rng = np.random.default_rng(3)
    rows = []
    for r in range(30):   # enough peers for a same-year robust scale to be sharp
        lvl = 100.0 * (r + 1)
        for y in range(2006, 2021):
            lvl *= np.exp(0.07 + rng.normal(0, 0.02))
            v = lvl * (1.6 if r == bump_region and y in (2012, 2013) else 1.0)
            rows.append((f"9{r:05d}", f"地区{r}", "", "gdp", str(y), f"{v:.2f}", "亿元"))
    p = tmp_path / f"panel{bump_region}.csv"
    pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator", "period", "value",
                                "unit"]).to_csv(p, index=False)
    return p


@pytest.fixture
def no_pdf(monkeypatch):
    """The report is not under test here: skip rendering it (it takes seconds)."""
    import detect.report

    monkeypatch.setattr(detect.report, "render_result", lambda *a, **k: {}, raising=False)


def test_run_records_itself(tmp_path, monkeypatch, no_pdf):
    db = tmp_path / "run.sqlite"
    out = tmp_path / "out"
    monkeypatch.setenv("DETECT_DB", str(db))
    assert main(["run", str(_panel_csv(tmp_path)), "--out", str(out), "--quiet", "--detectors", "growth_peers"]) == 0
    f = pd.read_csv(out / "findings.csv", dtype=str)
    assert len(f) > 0
    with Register(db) as reg:
        t = reg.table()
        assert set(t["finding_id"]) == set(f["finding_id"]) and set(t["status"]) == {"open"}
        assert reg.runs()["run_dir"].iat[0] == str(out.resolve())


def test_run_no_register(tmp_path, monkeypatch, no_pdf):
    db = tmp_path / "never.sqlite"
    monkeypatch.setenv("DETECT_DB", str(db))
    assert main(["run", str(_panel_csv(tmp_path)), "--out", str(tmp_path / "o"), "--quiet",
                 "--detectors", "growth_peers", "--no-register"]) == 0
    assert not db.exists()


def test_register_failure_does_not_lose_the_run(tmp_path, capsys, no_pdf):
    bad = tmp_path / "no-such-folder" / "r.sqlite"
    out = tmp_path / "o"
    assert main(["run", str(_panel_csv(tmp_path)), "--out", str(out), "--quiet", "--detectors", "growth_peers",
                 "--db", str(bad)]) == 0
    assert (out / "findings.csv").exists() and (out / "manifest.json").exists()
    err = capsys.readouterr().err
    assert "not recorded in the register" in err and "detect review record" in err and "Traceback" not in err


def test_register_bug_does_not_lose_the_run(tmp_path, capsys, monkeypatch, no_pdf):
    import detect.review.store as store

    def boom(*a, **k):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(store, "record_run", boom)
    out = tmp_path / "o"
    assert main(["run", str(_panel_csv(tmp_path)), "--out", str(out), "--quiet", "--detectors", "growth_peers",
                 "--db", str(tmp_path / "r.sqlite")]) == 0
    assert (out / "findings.csv").exists()
    assert "internal error ZeroDivisionError: simulated bug" in capsys.readouterr().err


# --- issue 8 syntax: `detect review status ID STATUS --by NAME [--note TEXT]` ---------------------

def _to_under_review(db, fid):
    assert main(["review", "assign", fid, "--to", "Li", "--due", "2026-01-31", "--by", "Chief", "--db", db]) == 0
    assert main(["review", "status", fid, "under_review", "--by", "Li", "--db", db]) == 0


def _last_status_change(db, fid):
    h = Register(db).history(fid)
    return h[h["action"] == "status"].iloc[-1]


@pytest.mark.parametrize("target, flag, column", [("dismissed", "--reason", "dismiss_reason"),
                                                  ("rectified", "--evidence", "evidence_note")])
def test_note_serves_as_reason_or_evidence(db, capsys, target, flag, column):
    """--note alone gives the reason / evidence, recorded exactly as --reason / --evidence would be."""
    for fid in (FA, FB):
        _to_under_review(db, fid)
        if target == "rectified":
            assert main(["review", "status", fid, "confirmed", "--by", "Li", "--db", db]) == 0
            assert main(["review", "status", fid, "rectification_due", "--by", "Li", "--db", db]) == 0
    assert main(["review", "status", FA, target, "--by", "Li", "--note", "duplicate of 2014", "--db", db]) == 0
    assert main(["review", "status", FB, target, "--by", "Li", flag, "duplicate of 2014", "--db", db]) == 0
    a, b = Register(db).get(FA), Register(db).get(FB)
    assert a["status"] == b["status"] == target
    assert a[column] == b[column] == "duplicate of 2014"
    ha, hb = _last_status_change(db, FA), _last_status_change(db, FB)
    prefix = "reason" if target == "dismissed" else "evidence"
    assert ha["note"] == hb["note"] == f"{prefix}: duplicate of 2014"
    assert (ha["old_status"], ha["new_status"]) == (hb["old_status"], hb["new_status"])
    assert ha["by"] == hb["by"] == "Li"


def test_explicit_reason_wins_and_the_note_is_kept(db):
    _to_under_review(db, FA)
    assert main(["review", "status", FA, "dismissed", "--by", "Li", "--reason", "revised data",
                 "--note", "called the bureau", "--db", db]) == 0
    assert Register(db).get(FA)["dismiss_reason"] == "revised data"
    assert _last_status_change(db, FA)["note"] == "called the bureau; reason: revised data"


@pytest.mark.parametrize("target, message", [
    ("dismissed", "needs a reason (--reason TEXT or --note TEXT)"),
    ("rectified", "needs an evidence note saying what shows the rectification (--evidence TEXT or --note TEXT)"),
])
@pytest.mark.parametrize("note", [None, "   "])
def test_neither_note_nor_reason_is_refused(db, capsys, target, message, note):
    _to_under_review(db, FA)
    before = "under_review"
    if target == "rectified":
        assert main(["review", "status", FA, "confirmed", "--by", "Li", "--db", db]) == 0
        assert main(["review", "status", FA, "rectification_due", "--by", "Li", "--db", db]) == 0
        before = "rectification_due"
    n_history = len(Register(db).history(FA))
    capsys.readouterr()
    argv = ["review", "status", FA, target, "--by", "Li", "--db", db] + (["--note", note] if note else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert Register(db).get(FA)["status"] == before
    assert len(Register(db).history(FA)) == n_history


def test_note_is_only_a_note_for_other_statuses(db):
    _to_under_review(db, FA)
    assert main(["review", "status", FA, "confirmed", "--by", "Li", "--note", "VAT confirms", "--db", db]) == 0
    f = Register(db).get(FA)
    assert f["dismiss_reason"] in (None, "") and f["evidence_note"] in (None, "")
    assert _last_status_change(db, FA)["note"] == "VAT confirms"


def _read_only_copy(db, tmp_path, folder_too):
    import shutil

    Register(db).close()              # checkpoint: no -wal / -shm left beside the file
    ro = tmp_path / "ro"
    ro.mkdir()
    shutil.copyfile(db, ro / "r.sqlite")
    return ro, str(ro / "r.sqlite")


@pytest.mark.parametrize("folder_too", [False, True], ids=["file", "file-and-folder"])
def test_read_only_register_can_be_read_not_changed(db, tmp_path, capsys, unwritable, folder_too):
    """A register on a read-only file (or folder, or disk) is listed, shown, exported and verified; a change
    is refused with one message, exit 2. (Reading failed with 'not a usable detect register: unable to open
    database file' when the folder was read-only; a change was an 'internal error', exit 3.)"""
    ro, path = _read_only_copy(db, tmp_path, folder_too)
    unwritable(ro / "r.sqlite")
    if folder_too:
        unwritable(ro)
    capsys.readouterr()
    assert main(["review", "list", "--db", path, "--format", "json"]) == 0
    assert {r["finding_id"] for r in json.loads(capsys.readouterr().out)} == {FA, FB}
    assert main(["review", "show", FA, "--db", path]) == 0
    assert main(["review", "verify", "--db", path]) == 0
    assert main(["review", "export", "--xlsx", str(tmp_path / "w.xlsx"), "--db", path]) == 0
    wb = load_workbook(tmp_path / "w.xlsx")
    wb["worklist"]["C2"] = "Li"                       # owner of the first row: an edit to apply
    wb.save(tmp_path / "w.xlsx")
    capsys.readouterr()
    for argv in (["note", FA, "x", "--by", "Li"], ["assign", FA, "--to", "Li", "--due", "2026-09-30", "--by", "W"],
                 ["import", str(tmp_path / "w.xlsx"), "--by", "W"]):
        assert main(["review", *argv, "--db", path]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "read-only" in err and "internal error" not in err, err


@pytest.mark.slow
def test_list_piped_into_head_is_not_an_error(tmp_path, make_run):
    """`detect review list | head`: the reader closing the pipe early is the user's choice, not a bug (it
    printed 'internal error: BrokenPipeError ... please report it' and exited 3)."""
    import subprocess
    import sys

    db = tmp_path / "many.sqlite"
    with Register(db) as reg:
        reg.record_run(make_run([finding(f"{110000 + i}") for i in range(400)]))
    code = "import sys; from detect.cli import main; sys.exit(main())"
    p = subprocess.Popen([sys.executable, "-c", code, "review", "list", "--db", str(db)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()            # like `head -1`
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    p.stderr.close()
    assert "internal error" not in err and "Traceback" not in err and "Exception ignored" not in err, err
    assert p.returncode != 3


def test_export_to_a_place_that_cannot_be_written_is_one_message(db, tmp_path, capsys):
    """(It was an internal error, exit 3, for a read-only disk or a folder path that is a file.)"""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    capsys.readouterr()
    assert main(["review", "export", "--xlsx", str(blocker / "w.xlsx"), "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the worklist" in err and "internal error" not in err, err


def test_damaged_register_is_reported_not_an_internal_error(one, capsys):
    """A page of the file overwritten (disk fault, a bad copy): verify lists the damage and every command
    exits 2 with one message (verify and list crashed: 'internal error: DatabaseError: database disk image
    is malformed', exit 3)."""
    reg, fid_ = one
    with reg.transaction():
        for i in range(400):
            reg.add_note(fid_, f"note {i} " + "备注" * 40, by="Li")
    path = str(reg.path)
    reg.close()
    size = reg.path.stat().st_size
    with open(path, "r+b") as fh:                 # damage pages in the second half (the audit rows)
        for off in range(size // 2, size - 4096, 3 * 4096):
            fh.seek(off)
            fh.write(b"\xff" * 4096)
    capsys.readouterr()
    assert main(["review", "verify", "--db", path]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and ("malformed" in err or "integrity" in err), err
    for argv in (["list"], ["show", fid_], ["note", fid_, "x", "--by", "Li"]):
        code = main(["review", *argv, "--db", path])
        err = capsys.readouterr().err
        assert code in (0, 2) and "internal error" not in err, (argv, err)
        if code == 2:
            assert err.count("\n") == 1 and "damaged" in err, err
