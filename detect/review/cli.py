"""``detect review``: the follow-up register on the command line.

Every subcommand takes ``--db PATH`` (default ``$DETECT_DB``, else ``./detect-review.sqlite``).
Bad ids or values print one message and exit 2. ``detect review import`` exits 2 when any row is
rejected (the accepted rows are applied; the rejected ones are listed with their reasons).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from detect.exceptions import InputError

_LIST_COLUMNS = ["finding_id", "status", "severity", "region_code", "region_name", "indicator", "period",
                 "detector", "owner", "due_date", "overdue", "reproduced_note", "summary"]


def _common(suppress: bool) -> argparse.ArgumentParser:
    # Actions use SUPPRESS so that `detect review --db X list` keeps the X given before the action.
    kw = {"default": argparse.SUPPRESS} if suppress else {}
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", metavar="PATH", help="register file (default: $DETECT_DB, else ./detect-review.sqlite)",
                   **kw)
    p.add_argument("--debug", action="store_true", help="show tracebacks", **kw)
    return p


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="follow-up register: owners, deadlines, statuses, audit trail",
                       description="Keep every finding's owner, deadline and status, with an audit trail, across "
                                   "runs (问题清单、责任清单、整改清单、时限清单). See docs/review.md.",
                       parents=[_common(False)])
    common = _common(True)
    rs = p.add_subparsers(dest="review_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda a: (p.print_help(sys.stderr), 2)[1])

    q = rs.add_parser("list", parents=[common], help="list findings in the register")
    q.add_argument("--status", action="append", metavar="S", help="keep this status (repeatable)")
    q.add_argument("--region", metavar="R", help="region code, or part of a region name")
    q.add_argument("--overdue", action="store_true", help="only active findings past their deadline")
    q.add_argument("--format", choices=("table", "csv", "json"), default="table")
    q.add_argument("--today", metavar="YYYY-MM-DD", help="decide overdue as of this date (default: today, UTC)")
    q.set_defaults(func=_guarded(cmd_list))

    q = rs.add_parser("show", parents=[common], help="one finding, its assignment and history")
    q.add_argument("id", metavar="ID", help="finding id (or a unique prefix of at least 5 characters)")
    q.add_argument("--format", choices=("text", "json"), default="text")
    q.set_defaults(func=_guarded(cmd_show))

    q = rs.add_parser("assign", parents=[common], help="give a finding an owner and a deadline")
    q.add_argument("id", metavar="ID")
    q.add_argument("--to", required=True, metavar="OWNER", help="who is responsible")
    q.add_argument("--due", required=True, metavar="YYYY-MM-DD", help="deadline")
    q.add_argument("--by", metavar="NAME", help="who makes the assignment (default: your login name)")
    q.add_argument("--note", default="", metavar="TEXT")
    q.set_defaults(func=_guarded(cmd_assign))

    q = rs.add_parser("status", parents=[common], help="move a finding to another status")
    q.add_argument("id", metavar="ID")
    q.add_argument("status", metavar="STATUS")
    q.add_argument("--by", required=True, metavar="NAME", help="who makes the change")
    q.add_argument("--note", default="", metavar="TEXT",
                   help="kept in the audit trail; required to reopen; for dismissed / rectified it serves as "
                        "the reason / evidence when --reason / --evidence is not given")
    q.add_argument("--reason", default="", metavar="TEXT",
                   help="why it is dismissed (dismissed needs --reason or --note)")
    q.add_argument("--evidence", default="", metavar="TEXT",
                   help="what shows the rectification (rectified needs --evidence or --note)")
    q.add_argument("--due", metavar="YYYY-MM-DD", help="rectification deadline (for rectification_due)")
    q.add_argument("--from", dest="expect", metavar="STATUS",
                   help="refuse unless the finding is still in this status (optimistic check)")
    q.set_defaults(func=_guarded(cmd_status))

    q = rs.add_parser("note", parents=[common], help="add a note to a finding's audit trail")
    q.add_argument("id", metavar="ID")
    q.add_argument("text", metavar="TEXT")
    q.add_argument("--by", required=True, metavar="NAME")
    q.set_defaults(func=_guarded(cmd_note))

    q = rs.add_parser("export", parents=[common], help="write the worklist for reviewers (Excel)")
    q.add_argument("--xlsx", required=True, metavar="FILE")
    q.add_argument("--status", action="append", metavar="S")
    q.add_argument("--region", metavar="R")
    q.add_argument("--overdue", action="store_true")
    q.set_defaults(func=_guarded(cmd_export))

    q = rs.add_parser("import", parents=[common], help="apply a worklist edited in Excel")
    q.add_argument("file", metavar="FILE")
    q.add_argument("--by", default="", metavar="NAME", help="who made the edits, for rows with an empty 'by' cell")
    q.add_argument("--dry-run", action="store_true", help="check and report, change nothing")
    q.set_defaults(func=_guarded(cmd_import))

    q = rs.add_parser("record", parents=[common], help="record a run directory (what `detect run` does itself)")
    q.add_argument("run_dir", metavar="RUN_DIR")
    q.set_defaults(func=_guarded(cmd_record))

    q = rs.add_parser("verify", parents=[common],
                      help="check the register: SQLite integrity, foreign keys, audit hash chain")
    q.set_defaults(func=_guarded(cmd_verify))


def _guarded(fn):
    """``fn(args)`` with a damaged register file reported as one message (exit 2), not an internal error."""
    import functools
    import sqlite3

    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        from detect.review.store import default_db_path, is_damaged

        import pandas as pd

        try:
            return fn(args)
        except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:
            if not is_damaged(exc):
                raise
            raise InputError(f"the register {default_db_path(getattr(args, 'db', None))} is damaged ({exc}); "
                             "`detect review verify` lists the problems; restore it from a copy") from None

    return run


def _reg(args: argparse.Namespace, create: bool = False, today: str | None = None):
    from detect.review.store import Register

    return Register(args.db, create=create, today=today)


def _period(df):
    return [a if a == b else f"{a}-{b}" for a, b in zip(df["period_start"], df["period_end"])]


def cmd_list(args: argparse.Namespace) -> int:
    from detect.findings import neutralise_frame

    with _reg(args, today=args.today) as reg:
        t = reg.table(status=args.status, region=args.region, overdue=args.overdue)
    t["period"] = _period(t) if len(t) else []
    t = t[_LIST_COLUMNS]
    if args.format == "json":
        sys.stdout.write(json.dumps(t.to_dict("records"), ensure_ascii=False, indent=1) + "\n")
    elif args.format == "csv":
        buf = io.StringIO()
        neutralise_frame(t).to_csv(buf, index=False, lineterminator="\n")
        sys.stdout.write(buf.getvalue())
    else:
        if not len(t):
            sys.stdout.write("no findings match\n")
            return 0
        show = t.drop(columns=["summary"]).copy()
        show["overdue"] = show["overdue"].map({True: "OVERDUE", False: ""})
        sys.stdout.write(show.to_string(index=False) + "\n")
        sys.stdout.write(f"{len(t)} finding(s); {int(t['overdue'].sum())} overdue\n")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _reg(args) as reg:
        f = reg.get(args.id)
        h = reg.history(f["finding_id"])
    h = h.astype(object).where(h.notna(), None)
    if args.format == "json":
        out = dict(f, history=h.to_dict("records"))
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=1, default=str) + "\n")
        return 0
    period = f["period_start"] if f["period_start"] == f["period_end"] else f"{f['period_start']}-{f['period_end']}"
    lines = [
        f"{f['finding_id']}  {f['region_name']} ({f['region_code']})  {f['indicator']}  {period}  {f['detector']}",
        f"  severity {f['severity']}, p = {f['p_value']}, q = {f['q_value']}",
        f"  {f['summary']}",
        f"  {f['summary_zh']}" if f["summary_zh"] else "",
        f"status      {f['status']}" + ("   OVERDUE" if f["overdue"] else ""),
        f"owner       {f['owner'] or '-'}",
        f"due         {f['due_date'] or '-'}" + (f" ({f['due_source']})" if f["due_source"] else ""),
    ]
    if f["dismiss_reason"]:
        lines.append(f"reason      {f['dismiss_reason']}")
    if f["evidence_note"]:
        lines.append(f"evidence    {f['evidence_note']}")
    lines.append(f"runs        first seen {f['first_seen_run']}, last seen {f['last_seen_run']}"
                 + (f"; {f['reproduced_note']}" if f["reproduced_note"] else ""))
    lines.append("history")
    for r in h.to_dict("records"):
        move = r["new_status"] if r["old_status"] == r["new_status"] else f"{r['old_status'] or '-'} -> {r['new_status']}"
        lines.append(f"  {r['at'][:19]}Z  {r['by']:<14} {r['action']:<8} {move:<32} {r['note']}")
    sys.stdout.write("\n".join(x for x in lines if x) + "\n")
    return 0


def _echo(f: dict) -> None:
    due = f" due {f['due_date']}" if f["due_date"] else ""
    sys.stdout.write(f"{f['finding_id']}: {f['status']}, owner {f['owner'] or '-'}{due}"
                     + (" OVERDUE" if f["overdue"] else "") + "\n")


def cmd_assign(args: argparse.Namespace) -> int:
    with _reg(args) as reg:
        _echo(reg.assign(args.id, args.to, args.due, by=args.by or _login(), note=args.note))
    return 0


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        raise InputError("say who makes the assignment (--by NAME)") from None


def status_texts(status: str, note: str, reason: str, evidence: str) -> tuple[str, str, str]:
    """``(note, reason, evidence)`` for ``detect review status``: the note stands in for what is missing.

    Issue 8's syntax is ``detect review status ID STATUS --by NAME [--note TEXT]``: without
    ``--reason`` a dismissal takes the note as its reason, and without ``--evidence`` a rectification
    takes the note as its evidence. The note is then not repeated, so the audit trail reads exactly
    as with ``--reason`` / ``--evidence`` (the worklist import does the same).
    """
    note, reason, evidence = (x.strip() for x in (note or "", reason or "", evidence or ""))
    target = (status or "").strip()
    if target == "dismissed" and not reason:
        reason, note = note, ""
    elif target == "rectified" and not evidence:
        evidence, note = note, ""
    return note, reason, evidence


def cmd_status(args: argparse.Namespace) -> int:
    note, reason, evidence = status_texts(args.status, args.note, args.reason, args.evidence)
    with _reg(args) as reg:
        _echo(reg.set_status(args.id, args.status, by=args.by, note=note, reason=reason,
                             evidence=evidence, due=args.due, expected_status=args.expect))
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    with _reg(args) as reg:
        fid = reg.resolve_id(args.id)
        reg.add_note(fid, args.text, by=args.by)
    sys.stdout.write(f"{fid}: note added\n")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from detect.review.worklist import export_xlsx

    out = Path(args.xlsx)
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"the worklist must be an .xlsx file, got {out.name}")
    with _reg(args) as reg:
        n = export_xlsx(reg, out, status=args.status, region=args.region, overdue=args.overdue)
    sys.stderr.write(f"detect: {n} finding(s) -> {out}\n")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from detect.review.worklist import import_xlsx

    with _reg(args) as reg:
        rep = import_xlsx(reg, args.file, by=args.by, dry_run=args.dry_run)
    (sys.stdout if rep.ok else sys.stderr).write(rep.summary() + "\n")
    return 0 if rep.ok else 2


def cmd_record(args: argparse.Namespace) -> int:
    from detect.review.store import record_run

    with _reg(args, create=True) as reg:
        rec = record_run(reg, args.run_dir)
    sys.stderr.write(f"detect: {rec.summary()} -> {reg.path}\n")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    with _reg(args) as reg:
        problems = reg.verify()
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        return 2
    sys.stdout.write(f"{reg.path}: ok\n")
    return 0


def register_run(db: str | None, run_dir: str | Path, quiet: bool = False) -> bool:
    """Record a finished run in the register (called by ``detect run`` after writing its outputs).

    A failure of the register never loses the run: it is reported on stderr with the command to
    record the run later, and False is returned.
    """
    import sqlite3

    from detect.exceptions import DetectError
    from detect.review.store import default_db_path, record_run

    path = default_db_path(db)
    try:
        rec = record_run(path, run_dir)
    except Exception as exc:  # noqa: BLE001 - whatever fails here, the run's outputs and report must survive
        what = str(exc) if isinstance(exc, (DetectError, sqlite3.Error, OSError)) else \
            f"internal error {type(exc).__name__}: {exc} (please report it)"
        sys.stderr.write(f"detect: warning: the run was written to {run_dir} but not recorded in the register "
                         f"{path}: {what}. Record it later with `detect review record {run_dir} --db {path}`.\n")
        return False
    if not quiet:
        sys.stderr.write(f"detect: register {path}: {rec.summary()}\n")
    return True
