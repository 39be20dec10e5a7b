"""``detect report DIR``: re-render report.pdf and worklist.xlsx from a run directory."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="re-render report.pdf and worklist.xlsx of a run directory",
                       description="Read a run directory written by `detect run` and write report.pdf and "
                                   "worklist.xlsx into it. Same run and date, same bytes.",
                       epilog="Add --debug to see a traceback on errors.")
    p.add_argument("run_dir", metavar="DIR", help="run directory (findings.csv, manifest.json …)")
    p.add_argument("--lang", choices=("zh", "en"), help="report language (default: Chinese when region names are Chinese)")
    p.add_argument("--db", metavar="PATH", default=os.environ.get("DETECT_DB"),
                   help="follow-up register for statuses, owners and deadlines (default: $DETECT_DB)")
    p.add_argument("--date", metavar="YYYY-MM-DD",
                   help="report date, for overdue items and the cover (default: $SOURCE_DATE_EPOCH, else today)")
    p.add_argument("--top", type=int, metavar="N", help="regions with a section of their own (default: the run's top_regions)")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from detect.exceptions import UsageError
    from detect.report import render_run

    if args.top is not None and args.top < 1:
        raise UsageError(f"--top must be a positive integer, got {args.top}")
    paths = render_run(args.run_dir, lang=args.lang, db=args.db, date=args.date, top_n=args.top)
    if not args.quiet:
        sys.stderr.write(f"detect: wrote {paths['pdf']} and {paths['xlsx']}\n")
    return 0
