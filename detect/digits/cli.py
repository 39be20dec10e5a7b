"""``detect benford``: digit tests of one column of a CSV, Excel or Parquet file.

Single result: ``--format table`` prints the summary and digit table, ``json`` the keys
``n, mad, conformity, chi2, chi2_df, p_value, ks, applicable, reason, digits``, ``csv`` the digit
table. With ``--group-by COL``: one result per group, ranked by excess MAD (largest first), with
Benjamini-Hochberg q-values of the chi-square p-values across the groups where the test applies.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pandas as pd

from detect.digits.stats import BENFORD_TESTS, TESTS

_FORMATS = ("table", "json", "csv")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "benford", help="digit tests (Benford, last digits) of one column of a file",
        description="Test the digits of one column of PATH (CSV, Excel or Parquet) against Benford's law "
                    "(first, second, first-two, first-three) or uniform last digits (last, last-two) at the "
                    "reported precision. Large files are read in chunks (Parquet by row group).",
        epilog="Add --debug to see a traceback on errors. Methods: docs/digits.md.")
    p.add_argument("path", metavar="PATH", help="input file (.csv, .tsv, .xlsx, .parquet)")
    p.add_argument("--column", required=True, metavar="COL", help="column holding the amounts")
    p.add_argument("--test", choices=TESTS, default="first-two", help="digit test (default: first-two)")
    p.add_argument("--min-value", type=float, metavar="X",
                   help="leave out values below X in absolute value (Nigrini: 10 for first-two digits)")
    p.add_argument("--sign", choices=("positive", "negative", "absolute"), default="positive",
                   help="values tested (default: positive; negatives counted and left out)")
    p.add_argument("--sheet", metavar="NAME",
                   help="Excel: read this sheet only (default: every sheet that has the column; the others are "
                        "named on stderr)")
    p.add_argument("--group-by", metavar="COL", help="one result per value of COL, ranked by excess MAD")
    p.add_argument("--format", choices=_FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--extraction", choices=("exact", "r-float"), default="exact",
                   help="digit extraction: exact (default) or R benford.analysis' floating point")
    p.add_argument("--config", metavar="FILE", help="detect.toml (thresholds, seed)")
    p.add_argument("--engine", choices=("memory", "stream", "dask"), default="memory",
                   help="memory (default): one process, CSV and Parquet read in chunks of 10^6 rows; stream: the "
                        "same with --chunk-rows rows per chunk; "
                        "dask: counts per partition on a Dask cluster, statistics once (docs/scaling.md)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="--engine dask: scheduler address (default: a local cluster of 2 workers)")
    p.add_argument("--chunk-rows", type=int, default=1_000_000, metavar="N",
                   help="--engine stream: rows per chunk (default: 1000000; a CSV with more columns than "
                        "those read gets proportionally fewer rows, the same number of cells)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=cmd_benford)


def _check(args: argparse.Namespace) -> None:
    from detect.exceptions import UsageError

    if args.extraction == "r-float" and args.test not in BENFORD_TESTS:
        raise UsageError(f"--extraction r-float reads leading digits only; not valid with --test {args.test}")
    if getattr(args, "sheet", None) is not None and getattr(args, "engine", "memory") != "memory":
        raise UsageError("--sheet works with --engine memory (Excel is read whole in any case)")
    if args.min_value is not None and not np.isfinite(args.min_value):
        raise UsageError("--min-value must be a finite number")


def _check_counts(args: argparse.Namespace, counts) -> None:
    """No rows, or a column without a single number, is bad input (exit 2), not a result."""
    from detect.exceptions import InputError

    parts = counts.values() if isinstance(counts, dict) else [counts]
    n_in = sum(dc.n_in for dc in parts)
    n_invalid = sum(dc.n_invalid for dc in parts)
    if n_in == 0:
        raise InputError(f"{args.path}: no rows to test")
    if n_invalid == n_in:
        raise InputError(f"{args.path}: column {args.column!r} holds no numbers ({n_in} values, none parses "
                         "as a number)")


def cmd_benford(args: argparse.Namespace) -> int:
    from detect.config import load_config, threshold
    from detect.digits.io import count_file
    from detect.digits.result import BenfordResult
    from detect.scoring import fdr

    _check(args)
    config = load_config(args.config)
    min_sig = int(threshold("digits.last_digit_min_sig", config)) if args.test not in BENFORD_TESTS else 0
    if getattr(args, "engine", "memory") != "memory" or getattr(args, "scheduler", None):
        from detect.scale import engine_counts
        counts = engine_counts(args, min_sig)
    else:
        notes: list[str] = []
        counts = count_file(args.path, args.column, args.test, min_value=args.min_value, sign=args.sign,
                            group_by=args.group_by, extraction=args.extraction, min_sig=min_sig,
                            sheet=args.sheet, notes=notes)
        for line in notes:
            print(f"note: {line}", file=sys.stderr)
    _check_counts(args, counts)
    out = sys.stdout
    if args.group_by is None:
        res = BenfordResult(counts, config, label=args.column)
        if args.format == "json":
            out.write(json.dumps(res.to_dict(), ensure_ascii=False, indent=2) + "\n")
        elif args.format == "csv":
            res.table.to_csv(out, index=False, lineterminator="\n")
        else:
            out.write(res.summary().as_text() + "\n")
        return 0
    results = {g: BenfordResult(dc, config, label=f"{args.group_by} = {g}") for g, dc in counts.items()}
    rows = []
    for g, r in results.items():
        rows.append({"group": g, "n": r.n, "applicable": r.applicable, "excess_mad": r.excess_mad,
                     "p_value": r.p_value, "result": r})
    df = pd.DataFrame(rows)
    if len(df):
        p = pd.to_numeric(df["p_value"], errors="coerce").to_numpy(float)
        df["q_value"] = fdr(p, method=config.fdr_method)
        df["_key"] = pd.to_numeric(df["excess_mad"], errors="coerce").fillna(-np.inf)
        df = df.sort_values(["_key", "group"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    else:
        df["q_value"] = []
    if args.format == "json":
        items = []
        for row in df.itertuples():
            d = {"group": row.group, **row.result.to_dict(), "excess_mad": row.result.excess_mad,
                 "q_value": None if not np.isfinite(row.q_value) else float(row.q_value)}
            items.append(d)
        out.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return 0
    table = pd.DataFrame([{
        "group": row.group, "n": row.n, "mad": row.result.mad, "excess_mad": row.result.excess_mad,
        "conformity": row.result.conformity, "chi2": row.result.chi2, "chi2_df": row.result.chi2_df,
        "p_value": row.result.p_value, "q_value": row.q_value, "ks": row.result.ks,
        "applicable": row.applicable, "reason": row.result.reason} for row in df.itertuples()],
        columns=["group", "n", "mad", "excess_mad", "conformity", "chi2", "chi2_df", "p_value", "q_value", "ks",
                 "applicable", "reason"])
    if args.format == "csv":
        from detect.findings import neutralise_frame

        neutralise_frame(table).to_csv(out, index=False, lineterminator="\n")
    else:
        title = f"Digit test {args.test} of {args.column} by {args.group_by}: {len(table)} groups, ranked by excess MAD"
        out.write(title + "\n" + "=" * len(title) + "\n")
        shown = table.drop(columns=["reason"]) if table["applicable"].all() else table.copy()
        if "reason" in shown:
            shown["reason"] = shown["reason"].str.slice(0, 70)
        shown["conformity"] = shown["conformity"].fillna("")
        out.write(shown.to_string(index=False, float_format=lambda x: f"{x:.6g}", na_rep="") + "\n")
    return 0
