"""Runs in the register: carry-over of decisions across re-runs, not-reproduced findings, run ids,
deadlines pre-filled from debt stress tests, status_table for the report."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from detect.config import load_config
from detect.exceptions import InputError
from detect.findings import finding_id
from detect.review import Register, record_run, status_table, stress_due_date
from detect.review.migrations import SCHEMA_VERSION

from review_helpers import TODAY, drive, finding

A, B, C, D = "110000", "120000", "130000", "140000"


def fid(region, detector="growth_peers"):
    return finding_id(region, "gdp", "2015", "2015", detector)


def test_carry_over_across_reruns(reg, make_run):
    r1 = reg.record_run(make_run([finding(A), finding(B), finding(C)]))
    assert (r1.n_new, r1.n_gone) == (3, 0)
    assert set(reg.table()["status"]) == {"open"}
    reg.assign(fid(A), "Li", "2026-09-30", by="Chief")
    drive(reg, fid(B), "confirmed")
    hist_b = len(reg.history(fid(B)))

    # run 2: C unchanged, B gone, D new; A and C still produced
    run2 = make_run([finding(A), finding(C), finding(D)], regions=[A, B, C, D])
    r2 = reg.record_run(run2)
    assert (r2.n_new, r2.n_gone, r2.n_findings) == (1, 1, 3)
    t = reg.table().set_index("finding_id")
    assert len(t) == 4  # nothing deleted
    assert (t.loc[fid(A), "status"], t.loc[fid(A), "owner"], t.loc[fid(A), "due_date"]) == ("assigned", "Li",
                                                                                          "2026-09-30")
    assert t.loc[fid(B), "status"] == "confirmed"
    assert t.loc[fid(B), "reproduced_note"] == f"not reproduced in run {r2.run_id}"
    assert t.loc[fid(B), "last_seen_run"] == r1.run_id
    assert t.loc[fid(D), "status"] == "open" and t.loc[fid(D), "first_seen_run"] == r2.run_id
    assert t.loc[fid(C), "reproduced_note"] == "" and t.loc[fid(C), "last_seen_run"] == r2.run_id
    hb = reg.history(fid(B))
    assert len(hb) == hist_b + 1 and hb["note"].iat[-1] == f"not reproduced in run {r2.run_id}"

    # run 3: B comes back; its decision is still there
    r3 = reg.record_run(make_run([finding(A), finding(B), finding(C), finding(D)]))
    assert r3.n_back == 1
    b = reg.get(fid(B))
    assert (b["status"], b["reproduced"], b["reproduced_note"]) == ("confirmed", 1, "")
    assert reg.history(fid(B))["note"].iat[-1].startswith(f"reproduced again in run {r3.run_id}")
    assert reg.verify() == []


def test_same_run_twice_changes_nothing(reg, make_run):
    run = make_run([finding(A), finding(B)])
    first = reg.record_run(run)
    n_audit = reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    again = reg.record_run(run)
    assert again.already_recorded and again.run_id == first.run_id
    assert reg.conn.execute("SELECT count(*) FROM audit").fetchone()[0] == n_audit
    assert len(reg.runs()) == 1


def test_run_id_is_deterministic_for_the_same_run_directory(reg, make_run, tmp_path):
    run = make_run([finding(A)], regions=[A, B])
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    other = make_run([finding(A), finding(B)])
    ids = [reg.record_run(x).run_id for x in (run, other, copy)]
    assert ids[0] == ids[2] != ids[1]
    assert ids[0].startswith("R") and len(ids[0]) == 13
    # recording an older run again is a new recording: B is then not reproduced
    assert len(reg.runs()) == 3
    assert reg.get(fid(B))["reproduced_note"] == f"not reproduced in run {ids[0]}"
    stored = json.loads(reg.conn.execute("SELECT manifest_json FROM runs WHERE run_id = ?", (ids[0],)).fetchone()[0])
    assert stored["inputs"] == ["panel.csv"]


def test_a_run_says_nothing_about_detectors_it_did_not_run_or_regions_it_did_not_cover(reg, make_run):
    reg.record_run(make_run([finding(A), finding(B, detector="benford")], detectors=("growth_peers", "benford")))
    # second run: only growth_peers, and only region C in its panel
    reg.record_run(make_run([finding(C)], detectors=("growth_peers",), regions=[C]))
    t = reg.table().set_index("finding_id")
    assert t.loc[fid(B, "benford"), "reproduced_note"] == ""   # detector not run
    assert t.loc[fid(A), "reproduced_note"] == ""               # region not in the panel
    reg.record_run(make_run([finding(C)], detectors=("growth_peers",), regions=[A, C]))
    assert reg.get(fid(A))["reproduced_note"].startswith("not reproduced in run")


def test_a_run_without_findings_marks_its_scope_not_reproduced(reg, make_run):
    reg.record_run(make_run([finding(A), finding(B)]))
    r = reg.record_run(make_run([], regions=[A]))
    assert (r.n_findings, r.n_gone) == (0, 1)
    assert reg.get(fid(A))["reproduced_note"] == f"not reproduced in run {r.run_id}"
    assert reg.get(fid(B))["reproduced_note"] == ""


def test_findings_are_refreshed_but_keep_their_status(reg, make_run):
    reg.record_run(make_run([finding(A)]))
    drive(reg, fid(A), "under_review")
    f2 = finding(A, severity="low")
    f2.summary = "new sentence"
    reg.record_run(make_run([f2]))
    g = reg.get(fid(A))
    assert (g["status"], g["severity"], g["summary"]) == ("under_review", "low", "new sentence")


# --- deadlines from debt stress tests ------------------------------------------------------------

@pytest.mark.parametrize("crossing, expected", [
    ({"baseline": {"debt_ratio_warning": 2028, "debt_ratio_limit": 2030}, "adverse": {"debt_ratio_warning": 2026}},
     "2028-06-30"),                                   # the baseline scenario decides, not the adverse one
    ({"adverse": {"w": 2029}, "severe": {"w": 2027, "x": None}}, "2027-06-30"),   # no baseline: earliest
    ({"Baseline (IMF)": {"w": 2031.0, "x": "n/a"}}, "2031-06-30"),
    ({"baseline": {"w": None}}, None),
    # as the debt detectors write it: lines crossed by the last observed year are not projections
    ({"baseline": {"100%": 2022, "120%": 2022, "300%": 2026}, "combined": {"300%": 2023},
      "projection": None}, "2026-06-30"),
    ({"baseline": {"100%": 2022, "120%": 2022}, "combined": {"300%": 2023}, "projection": None}, None),
    ({}, None),
    ("2027", None),
])
def test_stress_due_date(crossing, expected):
    ev = {"crossing_years": crossing}
    if isinstance(crossing, dict) and "projection" in crossing:
        ev = {"crossing_years": {k: v for k, v in crossing.items() if k != "projection"},
              "projection": {"start_year": 2022, "base": "comprehensive_resources"}}
    got = stress_due_date(ev)
    assert (got[0] if got else None) == expected


def test_stress_due_date_reads_thresholds():
    cfg = load_config().with_(thresholds={"review": {"stress_due_month": 12, "stress_due_day": 31}})
    assert stress_due_date({"crossing_years": {"baseline": {"w": 2027}}}, cfg)[0] == "2027-12-31"


def test_deadline_prefilled_unless_a_reviewer_set_one(reg, make_run):
    ev = {"crossing_years": {"baseline": {"debt_ratio_warning": 2027}}}
    reg.record_run(make_run([finding(A, detector="debt_stress", evidence=ev),
                             finding(B, detector="debt_stress", evidence=ev)], detectors=("debt_stress",)))
    a, b = reg.get(fid(A, "debt_stress")), reg.get(fid(B, "debt_stress"))
    assert (a["due_date"], a["due_source"]) == ("2027-06-30", "stress_test")
    assert "crosses debt_ratio_warning in 2027" in reg.history(a["finding_id"])["note"].iat[-1]
    reg.assign(b["finding_id"], "Li", "2026-12-31", by="Chief")
    # next run: the projection moved to 2025 (already past: overdue)
    ev2 = {"crossing_years": {"baseline": {"debt_ratio_warning": 2025}}}
    r = reg.record_run(make_run([finding(A, detector="debt_stress", evidence=ev2),
                                 finding(B, detector="debt_stress", evidence=ev2)], detectors=("debt_stress",)))
    assert r.n_due_prefilled == 1
    a, b = reg.get(fid(A, "debt_stress")), reg.get(fid(B, "debt_stress"))
    assert (a["due_date"], a["overdue"]) == ("2025-06-30", True)
    assert (b["due_date"], b["due_source"]) == ("2026-12-31", "reviewer")


# --- status_table for the report -----------------------------------------------------------------

def test_status_table(reg, make_run, tmp_path):
    reg.record_run(make_run([finding(A), finding(B)]))
    reg.assign(fid(A), "Li", "2026-01-15", by="Chief")
    reg.add_note(fid(A), "asked the bureau", by="Li")
    ids = [fid(B), "Fnotinregister", fid(A)]
    t = status_table(reg.path, ids, today=TODAY)
    assert list(t.columns) == ["finding_id", "status", "owner", "due_date", "overdue", "note"]
    assert list(t["finding_id"]) == ids
    assert t["overdue"].dtype == bool
    assert t.iloc[2].to_dict() == {"finding_id": fid(A), "status": "assigned", "owner": "Li",
                                   "due_date": "2026-01-15", "overdue": True, "note": "asked the bureau"}
    assert t.iloc[1]["note"] == "not yet in the register" and t.iloc[1]["status"] == "open"
    assert not t.iloc[0]["overdue"] and t.iloc[0]["due_date"] == ""
    # on a date before the deadline it is not overdue; an open Register object works too
    assert not status_table(reg, [fid(A)], today="2026-01-15")["overdue"].iat[0]


def test_status_table_does_not_create_a_register(tmp_path):
    path = tmp_path / "none.sqlite"
    t = status_table(path, ["F1", "F2"])
    assert not path.exists() and list(t["status"]) == ["open", "open"]


# --- opening and bad input -----------------------------------------------------------------------

def test_new_register_settings(tmp_path):
    with Register(tmp_path / "r.sqlite") as reg:
        c = reg.conn
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert c.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [r[0] for r in c.execute("SELECT version FROM schema_version")] == list(range(1, SCHEMA_VERSION + 1))


def test_env_and_default_path(tmp_path, monkeypatch):
    from detect.review.store import default_db_path

    monkeypatch.setenv("DETECT_DB", str(tmp_path / "env.sqlite"))
    assert default_db_path() == tmp_path / "env.sqlite"
    assert default_db_path(tmp_path / "x.sqlite") == tmp_path / "x.sqlite"
    monkeypatch.delenv("DETECT_DB")
    assert str(default_db_path()) == "detect-review.sqlite"


def test_bad_inputs(reg, tmp_path, make_run):
    with pytest.raises(InputError, match="not a run directory"):
        reg.record_run(tmp_path)
    run = make_run([finding(A), finding(B)])
    text = (run / "findings.csv").read_text().splitlines()
    (run / "findings.csv").write_text("\n".join([*text, text[1]]) + "\n")
    with pytest.raises(InputError, match="twice"):
        reg.record_run(run)
    (run / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        reg.record_run(run)
    with pytest.raises(InputError, match="unknown finding id"):
        reg.get("Fdoesnotexist")
    with pytest.raises(InputError, match="not a real calendar date"):
        reg.record_run(make_run([finding(A)])) and reg.assign(fid(A), "x", "2026-02-30", by="y")
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        reg.assign(fid(A), "x", "30/06/2026", by="y")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="not a usable detect register"):
        Register(bad)
    with pytest.raises(InputError, match="no follow-up register"):
        Register(tmp_path / "absent.sqlite", create=False)


def test_another_applications_database_is_left_alone(tmp_path):
    import sqlite3

    p = tmp_path / "other.sqlite"
    c = sqlite3.connect(p)
    c.execute("CREATE TABLE customers (name TEXT)")
    c.commit()
    c.close()
    with pytest.raises(InputError, match="another application"):
        Register(p)
    c = sqlite3.connect(p)
    assert [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["customers"]
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"   # not even switched to WAL
    c.close()


def test_meta_records_creation(reg):
    meta = dict(reg.conn.execute("SELECT key, value FROM meta").fetchall())
    assert meta["created_by"].startswith("detect ") and meta["created_at"].endswith("Z")


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "r.sqlite"
    Register(p).close()
    import sqlite3

    c = sqlite3.connect(p)
    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    c.close()
    with pytest.raises(InputError, match="upgrade detect"):
        Register(p)


def test_id_prefix(reg, make_run):
    reg.record_run(make_run([finding(A)]))
    full = fid(A)
    assert reg.resolve_id(full[:6]) == full
    with pytest.raises(InputError, match="unknown finding id"):
        reg.resolve_id(full[:3])  # too short to be a prefix


def test_record_run_module_function(tmp_path, make_run):
    rec = record_run(tmp_path / "m.sqlite", make_run([finding(A)]))
    assert rec.n_new == 1 and "1 new" in rec.summary()
    assert isinstance(Register(tmp_path / "m.sqlite").table(), pd.DataFrame)


def test_older_register_is_upgraded_keeping_its_history(one, monkeypatch, unwritable):
    """A register written by an older detect (here: the current schema, read by a detect whose schema has one
    more script) is migrated in place: decisions and audit trail kept, the chain still verifies, the
    new version recorded; read-only, it is refused with a message saying to open it once with write access."""
    import detect.review.migrations as migrations
    import detect.review.store as store

    reg, fid_ = one
    drive(reg, fid_, "dismissed")
    before = (reg.get(fid_), reg.history(fid_))
    path = reg.path
    reg.close()
    v2 = migrations.MIGRATIONS + ("ALTER TABLE findings ADD COLUMN tag TEXT NOT NULL DEFAULT '';\n",)
    monkeypatch.setattr(migrations, "MIGRATIONS", v2)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", len(v2))
    monkeypatch.setattr(store, "SCHEMA_VERSION", len(v2))
    ro_copy = path.with_name("old.sqlite")
    shutil.copyfile(path, ro_copy)
    with Register(path, today=TODAY) as up:
        assert up.conn.execute("PRAGMA user_version").fetchone()[0] == len(v2)
        assert [r[0] for r in up.conn.execute("SELECT version FROM schema_version")] == list(range(1, len(v2) + 1))
        after = up.get(fid_)
        assert {k: v for k, v in after.items() if k != "tag"} == before[0] and after["tag"] == ""
        pd.testing.assert_frame_equal(up.history(fid_), before[1])
        assert up.verify() == []
    unwritable(ro_copy)
    with pytest.raises(InputError, match="needs upgrading to version 2 but is read-only"):
        Register(ro_copy)


def test_reading_an_empty_file_does_not_turn_it_into_a_register(tmp_path):
    """`detect review list --db notes.txt` on an empty file: SQLite would take it for a new database and
    detect wrote its schema into it (a read command changing a user's file); without create it is refused like
    a missing register. Recording a run may still start a register in an empty file."""
    p = tmp_path / "notes.txt"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="no follow-up register"):
        Register(p, create=False)
    assert p.stat().st_size == 0
    Register(p).close()
    assert p.stat().st_size > 0


def test_run_directory_with_a_manifest_that_is_not_an_object(reg, make_run):
    """manifest.json holding a JSON list (hand-edited, another tool) was an internal error (AttributeError)."""
    run = make_run([finding(A)])
    (run / "manifest.json").write_text("[1, 2]\n")
    with pytest.raises(InputError, match="manifest.json.*JSON object"):
        reg.record_run(run)
    run = make_run([finding(A)])
    (run / "findings.csv").write_text("finding_id,region_code\nF1,110000\n")
    with pytest.raises(InputError, match="lacks column"):
        reg.record_run(run)


def test_rectification_deadline_adopted_from_a_stress_test_is_the_reviewers(reg, make_run):
    """Moving a finding to rectification_due on its pre-filled deadline makes that date the formal
    rectification deadline (限期整改): a later run whose projection moves must not shift it (it did, as the
    date stayed 'stress_test')."""
    ev = {"crossing_years": {"baseline": {"debt_ratio_warning": 2027}}}
    run = lambda e: make_run([finding(A, detector="debt_stress", evidence=e)], detectors=("debt_stress",))  # noqa: E731
    reg.record_run(run(ev))
    f = fid(A, "debt_stress")
    reg.assign(f, "Li", None, by="Chief")
    reg.set_status(f, "under_review", by="Li")
    reg.set_status(f, "confirmed", by="Li")
    reg.set_status(f, "rectification_due", by="Chief")            # no --due: the pre-filled date is adopted
    got = reg.get(f)
    assert (got["due_date"], got["due_source"]) == ("2027-06-30", "reviewer")
    assert "due: 2027-06-30" in reg.history(f)["note"].iat[-1]
    reg.record_run(run({"crossing_years": {"baseline": {"debt_ratio_warning": 2029}}}))
    assert reg.get(f)["due_date"] == "2027-06-30"
    assert reg.verify() == []


def test_new_register_in_a_folder_that_cannot_be_written(tmp_path, unwritable):
    folder = tmp_path / "ro"
    folder.mkdir()
    unwritable(folder)
    with pytest.raises(InputError, match="cannot create the register .* not writable"):
        Register(folder / "new.sqlite")
    assert not (folder / "new.sqlite").exists()


def test_home_in_the_register_path_is_expanded(tmp_path, monkeypatch):
    """DETECT_DB=~/audit/x.sqlite set where no shell expands it (a .env file, a service unit, quotes): the
    register was looked for in a folder literally called '~'."""
    from detect.review.store import default_db_path

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DETECT_DB", "~/env.sqlite")
    assert default_db_path() == tmp_path / "env.sqlite"
    assert default_db_path("~/x.sqlite") == tmp_path / "x.sqlite"


def test_status_table_text_has_no_control_characters(reg, make_run):
    """The run report writes status_table's owner and note into its worklist; a control character pasted into a
    note (form feed from a PDF) made `detect report` / `detect run` fail (IllegalCharacterError)."""
    import re

    reg.record_run(make_run([finding(A)]))
    reg.assign(fid(A), "Li\x07", "2026-09-30", by="Chief")
    reg.add_note(fid(A), "pasted:\x0c page 2\x02", by="Li")
    t = status_table(reg, [fid(A)])
    for c in ("owner", "note"):
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", t[c].iat[0]), t[c].iat[0]
    assert t["note"].iat[0].startswith("pasted:") and t["owner"].iat[0].startswith("Li")
    assert reg.get(fid(A))["owner"] == "Li\x07"          # the register keeps what was written


@pytest.mark.parametrize("text, want", [
    ("2026-12-31", "2026-12-31"), ("2026/12/31", "2026-12-31"), ("2026.1.5", "2026-01-05"),
    ("2026-1-5", "2026-01-05"), ("2026年12月31日", "2026-12-31"), ("2026年1月5日", "2026-01-05"),
    (" 2026 / 3 / 9 ", "2026-03-09"), ("2026-12-31 00:00:00", "2026-12-31"), ("2026/12/31 00:00", "2026-12-31"),
    ("２０２６年１２月３１日", "2026-12-31"), ("2026年12月31号", "2026-12-31"), ("２０２６／１／５", "2026-01-05"),
])
def test_deadlines_typed_year_first_are_read(text, want):
    from detect.review.store import parse_date

    assert parse_date(text, "deadline") == want


@pytest.mark.parametrize("text", ["31/12/2026", "12/31/2026", "2026-02-30", "2026年13月1日", "next week", "2026-12",
                                  "2026-1-5 12:00", "٢٠٢٦-١٢-٣١"])
def test_ambiguous_or_impossible_deadlines_are_refused(text):
    from detect.review.store import parse_date

    with pytest.raises(InputError, match="deadline"):
        parse_date(text, "deadline")
