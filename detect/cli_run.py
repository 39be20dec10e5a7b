"""``detect run`` and ``detect report`` subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from detect.config import SEVERITIES

_COMMON_HELP = "Add --debug to see a traceback on errors."


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="screen a panel and write the run directory",
                       description="Load PATH... (CSV, Excel, Parquet), run every detector, and write "
                                   "findings.csv, regions.csv, exclusions.csv, manifest.json (and the report).",
                       epilog=_COMMON_HELP)
    p.add_argument("paths", nargs="+", metavar="PATH", help="input files")
    p.add_argument("--config", metavar="FILE", help="detect.toml with parameters and threshold overrides")
    p.add_argument("--out", metavar="DIR", default="reports/run", help="run directory (default: reports/run)")
    p.add_argument("--lang", choices=("zh", "en"), help="report language (default: Chinese when region names are Chinese)")
    p.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 when a finding is at or above this severity")
    p.add_argument("--detectors", metavar="NAMES", help="comma-separated detector names (default: all)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--db", metavar="PATH", help="follow-up register to record the run in (default: $DETECT_DB, "
                                                  "else ./detect-review.sqlite)")
    p.add_argument("--no-register", action="store_true", help="do not record the run in the follow-up register")
    p.add_argument("--no-report", action="store_true",
                   help="write the CSV/JSON outputs only, not report.pdf and worklist.xlsx (re-render later with "
                        "`detect report DIR`)")
    p.add_argument("--engine", choices=("memory", "dask"), default="memory",
                   help="dask: parse the input files partition-wise on a Dask cluster, then validate and screen "
                        "the panel in memory (docs/scaling.md); default: memory")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="--engine dask: scheduler address (default: a local cluster of 2 workers)")
    p.set_defaults(func=cmd_run)


def _progress(quiet: bool):
    if quiet:
        return None
    from tqdm import tqdm

    def wrap(items):
        return tqdm(items, desc="detectors", unit="det", file=sys.stderr, leave=False, disable=None)

    return wrap


def check_out_dir(out: str | Path) -> Path:
    """The run directory ``out`` if it is, or can be created as, a writable directory; else a
    UsageError naming it. Checked before the run, so a bad ``--out`` costs nothing (it was an
    internal error after the whole run); nothing is created here."""
    from detect.exceptions import UsageError

    if not str(out).strip():   # an unset shell variable: Path("") is the current directory
        raise UsageError("--out is empty; give the run directory")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    probe = out
    while not probe.exists():   # the nearest existing ancestor must be a writable directory
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError(f"--out {out}: {probe} is a file, not a directory")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: {probe} is not writable")
    return out


#: Files of a run directory that a run may leave unwritten (--no-report): a previous run's copies
#: would sit beside the new tables and describe other data (`detect report DIR` charted the old panel).
RUN_ARTEFACTS: tuple[str, ...] = ("report.pdf", "worklist.xlsx", "panel.parquet")


def _remove_stale(out: Path) -> None:
    """Remove a previous run's artefacts from ``out`` — only when ``out`` is a run directory
    (it has a detect manifest), never files of the same name in a directory of the user's."""
    manifest = out / "manifest.json"
    try:
        is_run = manifest.is_file() and '"rows_in"' in manifest.read_text(encoding="utf-8", errors="replace")
    except OSError:
        is_run = False
    if is_run:
        for name in RUN_ARTEFACTS:
            (out / name).unlink(missing_ok=True)


def check_options(config) -> None:
    """``[options.<detector>]`` must name a registered detector (a typo was silently ignored)."""
    from detect.exceptions import ConfigError
    from detect.registry import available

    known = set(available())
    for det in sorted(config.options):
        if det not in known:
            raise ConfigError(f"unknown detector {det!r} in [options.{det}]; known: {', '.join(sorted(known))}")


def cmd_run(args: argparse.Namespace) -> int:
    from detect.config import SEVERITIES as order, load_config
    from detect.exceptions import InputError
    from detect.pipeline import resolve_lang, run, write_run

    dets = [d.strip() for d in args.detectors.split(",") if d.strip()] if args.detectors else None
    config = load_config(args.config, lang=args.lang, fail_on=args.fail_on, detectors=dets)
    check_options(config)
    check_out_dir(args.out)
    loader = None
    if getattr(args, "engine", "memory") == "dask" or getattr(args, "scheduler", None):
        from detect.scale.dask_engine import run_loader
        loader = run_loader(args.engine, args.scheduler, config)
    result = run(args.paths, config, progress=_progress(args.quiet), loader=loader)
    lang = resolve_lang(config.lang, result.panel)
    try:
        _remove_stale(Path(args.out))
        out = write_run(result, args.out, lang=lang)
        if getattr(args, "no_report", False):   # `detect report DIR` later charts from this run's panel
            from detect.report.rundata import save_panel
            save_panel(result.panel, out)
    except OSError as exc:   # disk full, permissions changed during the run: the user's environment, not a bug
        raise InputError(f"cannot write the run directory {args.out}: {exc.strerror or exc}") from None
    m = result.manifest
    if not args.quiet:
        c = m["severity_counts"]
        sys.stderr.write(
            f"detect: {m['rows_in']} rows in, {m['rows_used']} used, {m['rows_excluded']} excluded; "
            f"{m['n_findings']} findings ({c['high']} high, {c['medium']} medium, {c['low']} low) "
            f"in {m['n_regions']} regions -> {out}\n")
    if not args.no_register:  # after the outputs are written: a register failure only warns
        from detect.review.cli import register_run
        register_run(args.db, out, quiet=args.quiet)
    if not getattr(args, "no_report", False):
        from detect.report import render_result  # report.pdf and worklist.xlsx, with the register's statuses
        render_result(result, out, lang=lang, db=None if args.no_register else (args.db or ""))
    if config.fail_on and len(result.findings):
        limit = order.index(config.fail_on)
        if any(order.index(s) <= limit for s in result.findings["severity"]):
            return 1
    return 0
