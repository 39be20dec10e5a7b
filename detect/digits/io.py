"""Reading one column of a large file in chunks, and counting digits chunk by chunk.

The shape is "counts per chunk -> reduce -> statistics once": :func:`iter_column` yields chunks of
the column (text where the file holds text, so the reported precision survives; floats where the
file holds binary numbers), :func:`count_file` turns each chunk into
:class:`detect.digits.counts.DigitCounts` and adds them. A parallel engine (Dask) can map
:func:`detect.digits.counts.count_digits` over partitions and sum the counts the same way; the
statistics are computed once from the total by :class:`detect.digits.result.BenfordResult`.

Formats: CSV (also ``.tsv``, ``.txt``, gzip/zip/bz2/xz compressed; UTF-8 with a GB18030 fallback)
read with pandas in chunks of ``chunk_rows``; Excel ``.xlsx`` / ``.xlsm`` (``.xls`` when its reader is
installed) — one named sheet, or every sheet that has the column; read whole: Excel caps a sheet at
about a million rows; Parquet streamed by row group / record batch with
pyarrow (decimal columns are read as text, exactly).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from detect.digits.counts import DigitCounts, Sign, count_digits, count_digits_by_group
from detect.exceptions import InputError

CHUNK_ROWS = 1_000_000
_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
_COMPRESSED = {".gz", ".zip", ".bz2", ".xz"}


def file_format(path: str | Path) -> str:
    """``csv``, ``excel`` or ``parquet`` from the file name (InputError otherwise)."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in _CSV_SUFFIXES:
        return "csv"
    if last in (".xlsx", ".xlsm", ".xls"):
        return "excel"
    if last in (".parquet", ".pq"):
        return "parquet"
    raise InputError(f"{p.name}: unknown file type {last or '(none)'!r}; expected .csv, .tsv, .txt, .xlsx, "
                     ".xls or .parquet")


def _check_columns(path: Path, have: list[str], want: list[str]) -> None:
    missing = [c for c in want if c not in have]
    if missing:
        # a header with spaces around it or another case ("Amount " for --column amount) was listed as
        # if it were the name asked for; name the near match, quoted so its spaces show
        def key(x: str) -> str:
            return unicodedata.normalize("NFKC", str(x)).strip().casefold()

        near = [h for c in missing for h in have if key(h) == key(c)]
        hint = f" (did you mean {', '.join(map(repr, near))}?)" if near else ""
        show = repr if any(str(h) != str(h).strip() for h in have) else str
        shown = ", ".join(map(show, have[:30])) + (" …" if len(have) > 30 else "")
        raise InputError(f"{path.name}: no column {', '.join(map(repr, missing))}{hint}; columns are: {shown}")


#: The usual cause of a row with one field too many.
_SPLIT_VALUE = 'a value with an unquoted separator (write 1,234.56 as "1,234.56" or 1234.56)'


def csv_error(name: str, exc: Exception) -> InputError:
    """The message for a CSV the parser refuses; a wrong field count gets the usual cause."""
    text = str(exc).strip().replace("\n", " ")
    hint = f" — {_SPLIT_VALUE}, or a row with a stray field" if "Expected" in text and "fields" in text else ""
    return InputError(f"{name}: cannot read as CSV: {text}{hint}")


#: How the first data rows of a CSV line up with its header (:func:`csv_layout`).
PLAIN, ROW_NAMES, TRAILING_SEP, STRAY = "plain", "row_names", "trailing_sep", "stray"
_LAYOUT_ROWS = 200


def csv_layout(path: Path, sep: str, encoding: str, n_header: int) -> str:
    """How the first data rows of a CSV file line up with its ``n_header`` header fields.

    ``plain``: the first data row has as many fields as the header. When it has one more, pandas
    quietly makes the first column the index; whether that is right depends on the rows read here
    (up to 200): ``row_names`` when every one has one more field and those first fields number the
    rows from 0 or 1 (R's ``write.table``, pandas ``index_label=False``: row numbers without a header
    cell, which pandas lines up correctly), ``trailing_sep`` when every one ends in an empty field (a
    separator after the last value, whose empty last field is dropped), ``stray`` otherwise: one row
    split by an unquoted separator, or a column without a name (other row names look the same and
    are refused too: the message asks for a name in the header).
    """
    import csv
    import itertools

    with open(path, newline="", encoding=encoding, errors="replace") as fh:
        rows = list(itertools.islice(csv.reader(fh, delimiter=sep), 1, 1 + _LAYOUT_ROWS))
    rows = [r for r in rows if r]
    if not rows or len(rows[0]) != n_header + 1:
        return PLAIN
    if all(len(r) == n_header + 1 for r in rows):
        if all(r[-1].strip() == "" for r in rows):
            return TRAILING_SEP
        first = [r[0].strip() for r in rows]
        numbered = all(f.isdigit() for f in first) and [int(f) for f in first] in (
            list(range(len(first))), list(range(1, len(first) + 1)))
        if numbered:
            return ROW_NAMES
    return STRAY


def extra_fields_refused(chunk: pd.DataFrame, name: str, layout: str = PLAIN, block: bool = False) -> pd.DataFrame:
    """``chunk`` unchanged, or :class:`InputError` when pandas made its first column the index of a file
    whose rows do not all carry a row name (:func:`csv_layout`): the values would sit one column off.

    ``block``: the chunk is one Dask block, whose first row need not be the file's.
    """
    if isinstance(chunk.index, pd.RangeIndex) or layout == ROW_NAMES:
        return chunk
    header = list(chunk.columns)
    if layout == TRAILING_SEP:
        # a separator after the last value: pandas took the first column as the index and moved every
        # value one name to the left, leaving the last column empty; put them back under their names
        full = chunk.reset_index()
        filled = full.iloc[:, -1].astype(str).str.strip() != ""
        if not filled.any():
            return pd.DataFrame(full.iloc[:, :len(header)].to_numpy(), columns=header)
        row = ", ".join(map(str, full[filled].iloc[0].tolist()))
        raise InputError(f"{name}: a row has a value after its last column ({row}; header {', '.join(header)}) — "
                         f"{_SPLIT_VALUE}")
    raise more_fields_error(name, header, block)


def more_fields_error(name: str, header: list, block: bool = False) -> InputError:
    """The refusal of a CSV whose data row has more fields than its header (see :func:`csv_layout`)."""
    where = "the first row of one Dask block (not necessarily of the file; --engine stream names the line)" \
        if block else "the first data row"
    return InputError(f"{name}: {where} has more fields than the header ({', '.join(map(str, header))}) — "
                      f"{_SPLIT_VALUE}, or a column without a name in the header")


def csv_format(path: Path) -> tuple[str, str, list[str]]:
    """Separator, encoding and header of a local CSV file, as every engine reads it.

    The separator is a tab for ``.tsv`` and a comma otherwise, unless the header under commas is one
    column holding tabs, semicolons or pipes (``detect run`` sniffs them too). The encoding is UTF-16
    with a byte order mark (Excel's "Unicode Text" export), else UTF-8, else GB18030.

    Raises
    ------
    InputError
        Text in none of those encodings, or a header the parser refuses.
    """
    sep = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
    with open(path, "rb") as fh:
        bom = fh.read(2)
    encodings = ("utf-16",) if bom in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "gb18030")
    for enc in encodings:
        try:
            head = pd.read_csv(path, sep=sep, nrows=0, encoding=enc)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError) as exc:
            raise InputError(f"{path.name}: cannot read as CSV: {exc}") from None
    else:
        raise InputError(f"{path.name}: not UTF-8, UTF-16 or GB18030 text")
    have = [str(c) for c in head.columns]
    if sep == "," and len(have) == 1:
        alt = max(("\t", ";", "|"), key=have[0].count)
        if have[0].count(alt):
            sep = alt
            have = [str(c) for c in pd.read_csv(path, sep=sep, nrows=0, encoding=enc).columns]
    return sep, enc, have


def _csv_chunks(path: Path, cols: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    sep, enc, have = csv_format(path)
    _check_columns(path, have, cols)
    # every column is read (not usecols): with usecols the parser no longer checks the field count,
    # and a row split by an unquoted thousands separator ("B,1,234.56") would give "1" as the amount.
    # Chunks hold as many cells as chunk_rows rows of the wanted columns would, so memory stays bounded.
    rows = max(1, chunk_rows * len(cols) // max(len(have), len(cols)))
    layout = csv_layout(path, sep, enc, len(have))
    if layout == STRAY:
        raise more_fields_error(path.name, have)
    try:
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, chunksize=rows, encoding=enc)
        for chunk in reader:
            yield extra_fields_refused(chunk, path.name, layout)[cols]
    except pd.errors.ParserError as exc:
        raise csv_error(path.name, exc) from None
    except (UnicodeDecodeError, EOFError, OSError) as exc:
        raise InputError(f"{path.name}: cannot read as CSV: {exc}") from None


def _excel_chunks(path: Path, cols: list[str], sheet: str | None = None,
                  notes: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The columns ``cols`` of one sheet (``sheet``) or of every sheet that has them all.

    Sheets without the columns are skipped, each with a line in ``notes``; when no sheet has
    them the error lists every sheet's columns.
    """
    try:
        book = pd.read_excel(path, sheet_name=sheet if sheet is not None else None, dtype=str,
                             keep_default_na=False)
    except ValueError as exc:
        if sheet is not None and "not found" in str(exc).lower():
            names = _sheet_names(path)
            raise InputError(f"{path.name}: no sheet {sheet!r}; sheets are: {', '.join(map(repr, names))}") from None
        raise InputError(f"{path.name}: cannot read as Excel: {exc}") from None
    except Exception as exc:  # openpyxl/xlrd raise many types for a broken file
        raise InputError(f"{path.name}: cannot read as Excel: {exc}") from None
    if sheet is not None:
        book = {sheet: book}
    found, skipped = [], []
    for name, df in book.items():
        df.columns = [str(c) for c in df.columns]
        if all(c in df.columns for c in cols):
            found.append((name, df))
        else:
            skipped.append((name, list(df.columns)))
    if not found:
        if len(skipped) == 1:
            _check_columns(path, skipped[0][1], cols)
        listing = "; ".join(f"{n!r}: {', '.join(map(str, c[:12]))}{' …' if len(c) > 12 else ''}" for n, c in skipped)
        raise InputError(f"{path.name}: no sheet has column(s) {', '.join(map(repr, cols))}; {listing}")
    if notes is not None:
        for name, have in skipped:
            notes.append(f"{path.name}: sheet {name!r} skipped (no column {', '.join(repr(c) for c in cols if c not in have)})")
        if len(found) > 1:
            notes.append(f"{path.name}: {len(found)} sheets read: {', '.join(repr(n) for n, _ in found)}")
    for _, df in found:
        yield df[cols]


def _sheet_names(path: Path) -> list[str]:
    try:
        return [str(n) for n in pd.ExcelFile(path).sheet_names]
    except Exception:  # noqa: BLE001 - only for an error message
        return []


def _parquet_chunks(path: Path, cols: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path.name}: cannot read as Parquet: {exc}") from None
    _check_columns(path, list(pf.schema_arrow.names), cols)
    for batch in pf.iter_batches(batch_size=chunk_rows, columns=cols):
        out = {}
        for name in cols:
            arr = batch.column(name)
            t = arr.type
            if pa.types.is_floating(t) or pa.types.is_integer(t):
                out[name] = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            else:   # decimals, strings, anything else: as text (exact)
                out[name] = np.asarray(arr.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
        yield pd.DataFrame(out, copy=False)


def iter_column(path: str | Path, column: str, group_by: str | None = None,
                chunk_rows: int = CHUNK_ROWS, sheet: str | None = None,
                notes: list[str] | None = None) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(values, groups)`` chunks of one column (and a grouping column) of a file.

    Excel: the sheet ``sheet``, or every sheet that has the column(s) (the others are named in
    ``notes``). ``sheet`` is refused for other formats.

    Raises
    ------
    InputError
        Missing file, unknown type, unreadable content, or no such column (the message lists
        the columns).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"input file not found: {p}")
    fmt = file_format(p)
    cols = [column] + ([group_by] if group_by and group_by != column else [])
    if sheet is not None and fmt != "excel":
        raise InputError(f"{p.name}: --sheet applies to Excel files only")
    if fmt == "csv":
        chunks = _csv_chunks(p, cols, chunk_rows)
    elif fmt == "excel":
        chunks = _excel_chunks(p, cols, sheet, notes)
    else:
        chunks = _parquet_chunks(p, cols, chunk_rows)
    for df in chunks:
        vals = df[column]
        vals = vals.to_numpy(dtype=object) if vals.dtype != np.float64 else vals.to_numpy()
        groups = df[group_by].to_numpy(dtype=object) if group_by else None
        yield vals, groups


def count_file(path: str | Path, column: str, test: str, *, min_value: float | None = None,
               sign: Sign = "positive", group_by: str | None = None, extraction: str = "exact",
               min_sig: int = 0, chunk_rows: int = CHUNK_ROWS, sheet: str | None = None,
               notes: list[str] | None = None) -> DigitCounts | dict[str, DigitCounts]:
    """Digit counts of a file's column, chunk by chunk (memory bounded by the chunk size).

    ``sheet`` and ``notes``: see :func:`iter_column`.

    Returns the total :class:`DigitCounts`, or ``{group: DigitCounts}`` with ``group_by``.
    """
    kw = dict(min_value=min_value, sign=sign, extraction=extraction, min_sig=min_sig)
    if group_by is None:
        total = DigitCounts.empty(test)
        for vals, _ in iter_column(path, column, None, chunk_rows, sheet, notes):
            total = total + count_digits(vals, test, **kw)[1]
        return total
    groups: dict[str, DigitCounts] = {}
    for vals, g in iter_column(path, column, group_by, chunk_rows, sheet, notes):
        for lab, dc in count_digits_by_group(vals, g, test, **kw).items():
            groups[lab] = groups[lab] + dc if lab in groups else dc
    return groups


__all__ = ["CHUNK_ROWS", "count_file", "csv_error", "csv_format", "csv_layout", "extra_fields_refused", "file_format",
           "iter_column", "more_fields_error"]
