"""Read input files into a Panel, with every excluded row accounted for.

Files: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030 detected; comma, tab or semicolon), Excel ``.xlsx``
(every sheet with recognisable headers), Parquet. Layouts: long (``indicator`` + ``value``), wide by
indicator (one column per indicator) or wide by period (one column per year). Headers in Chinese or
English are mapped through :mod:`detect.data.aliases`.

Row accounting. The unit of accounting is the *record*: one reported figure, i.e. one input row of a
long file or one (row, indicator column) cell of a wide file. ``rows_in`` counts records, and every
record ends up either used (in the panel; a figure reported missing is kept as NaN) or excluded
(one line in ``exclusions.csv`` with its reason): ``rows_in = rows_used + rows_excluded``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from detect.data.aliases import (NONNEGATIVE, canonical_indicator, header_unit, is_province_level,
                                 is_row_number, is_total_name, province_code, standard_column)
from detect.data.panel import PANEL_COLUMNS, Panel
from detect.data.units import DIMENSIONS, base_unit, factor, norm_unit
from detect.exceptions import InputError

EXCLUSION_COLUMNS: tuple[str, ...] = ("file", "row", "column", "raw_value", "reason")

#: Every unit spelling the unit table knows (normalised), for recognising a row of units.
_KNOWN_UNITS: frozenset[str] = frozenset(
    {norm_unit(u) for base, table in DIMENSIONS.values() for u in (base, *table)})

#: Tokens that mean "no figure" (compared after NFKC and strip, case-insensitive).
MISSING_TOKENS: frozenset[str] = frozenset({
    "", "-", "--", "---", "—", "——", "–", "…", "...", "..", "na", "n/a", "nan", "null", "none", "/",
    "无", "空", "缺失", "#n/a", "x",
})

_NUM = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
# a Chinese fiscal (budget) year is the calendar year (预算法 art. 18), so FY2015 is 2015; 年末 / 年底
# (year-end, for balances) is the annual figure
_YEAR = re.compile(r"^(?:(?:fy|cy)\s*)?([0-9]{4})(?:\.0+)?\s*(?:年度?|财年|财政年度|年末|年底)?$", re.I)
#: a header naming a year (1949-2100) somewhere: in a wide-by-period table, a value column even when
#: the period is not understood (its figures are then excluded with the reason, not dropped unseen)
_YEARISH = re.compile(r"(?<![0-9])(?:19[4-9][0-9]|20[0-9][0-9]|2100)(?![0-9])")
# a quarter needs its marker (Q / 第 before, or 季 / 季度 after): "2015-3" and "2015/3" are March
_QUARTER = re.compile(r"^([0-9]{4})\s*(?:年)?\s*[-/ ]?\s*(?:(?:q|第)\s*([1-4一二三四])\s*(?:季度|季)?|([1-4一二三四])\s*(?:季度|季))$",
                      re.I)
_MONTH = re.compile(r"^([0-9]{4})\s*(?:[-/.年])\s*([0-9]{1,2})\s*(?:月)?(?:[-/.][0-9]{1,2}(?:\s.*)?)?$")
_CN_Q = {"一": "1", "二": "2", "三": "3", "四": "4"}
_XML_FORMULA = re.compile(rb"<(?:[A-Za-z]\w*:)?f[ >/]")     # a <f> element in a sheet's XML
MIN_YEAR, MAX_YEAR = 1949, 2100
MAX_HEADER_SCAN = 20


@dataclass
class LoadResult:
    """A Panel with the exclusions and the accounting of every input record."""

    panel: Panel
    exclusions: pd.DataFrame
    inputs: list[dict] = field(default_factory=list)
    rows_in: int = 0
    rows_used: int = 0
    rows_excluded: int = 0


class _Excl:
    """Collects exclusion lines."""

    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []

    def add(self, file, row, column, raw, reason) -> None:
        n = len(row) if hasattr(row, "__len__") and not isinstance(row, str) else 1
        self.frames.append(pd.DataFrame({
            "file": np.broadcast_to(np.asarray(file, dtype=object), (n,)),
            "row": np.broadcast_to(np.asarray(row), (n,)),
            "column": np.broadcast_to(np.asarray(column, dtype=object), (n,)),
            "raw_value": np.broadcast_to(np.asarray(raw, dtype=object), (n,)),
            "reason": np.broadcast_to(np.asarray(reason, dtype=object), (n,)),
        }))

    def frame(self) -> pd.DataFrame:
        frames = [f for f in self.frames if len(f)]
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in EXCLUSION_COLUMNS})
        df = pd.concat(frames, ignore_index=True)
        df["row"] = df["row"].astype("int64")
        return df.sort_values(["file", "row", "column"], kind="mergesort").reset_index(drop=True)


# --- reading files ---------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise InputError(f"{name}: cannot decode the file as UTF-8 or GBK/GB18030 text") from None


def mostly_utf8(data: bytes) -> str | None:
    """``data`` decoded as UTF-8 with U+FFFD for its few invalid bytes, when it is UTF-8 text with a
    damaged line (valid multi-byte characters outnumber the invalid bytes threefold; GBK read as
    UTF-8 gives under a fifth as many valid ones as invalid); else None.

    A UTF-8 file with one stray Latin-1 or GBK line fell back to GB18030 as a whole: every Chinese
    name and unit came out as mojibake (亿元 as 浜垮厓) and every row was excluded for its unit.
    A GBK file read as UTF-8 has almost no valid multi-byte characters, so it still goes to GB18030.
    """
    loose = data.decode("utf-8", errors="replace")
    bad = loose.count("\ufffd")
    good = len(loose) - len(loose.encode("ascii", errors="ignore")) - bad
    return loose if bad and good >= 3 * bad else None


def _read_csv_text(text: str, name: str) -> pd.DataFrame:
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                         skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, csv.Error):
        # ragged rows (more fields than the first line): read them all, padded to the widest; a row's
        # fields beyond the header are judged in _records (the file was refused whole for one row)
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        except csv.Error as exc:
            raise InputError(f"{name}: not a readable CSV file ({exc})") from None
        width = max((len(r) for r in rows), default=0)
        df = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], columns=range(width), dtype=object)
    return df


def _raw_tables(path: Path) -> tuple[list[tuple[str, pd.DataFrame]], str]:
    """The file's tables as strings with no header applied: [(sheet, frame)], and the format."""
    name = str(path)
    if not path.exists():
        raise InputError(f"{name}: no such file")
    if path.is_dir():
        raise InputError(f"{name}: is a directory, not a data file")
    with open(path, "rb") as fh:
        head = fh.read(8)
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{name}: the file is empty")
    if head.startswith(b"PAR1"):
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types
            raise InputError(f"{name}: not a readable Parquet file ({exc})") from None
        return [("", _frame_text(df))], "parquet"
    if head.startswith(b"PK\x03\x04"):
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
        except Exception as exc:
            raise InputError(f"{name}: not a readable Excel .xlsx file ({exc})") from None
        extras = _xlsx_extras(path)
        tables = [(s, _apply_xlsx_extras(df.map(_cell_text), *extras.get(str(s), ([], {}))))
                  for s, df in sheets.items()]
        for _, df in tables:   # cells right of a sheet's header are notes, not shifted fields (see _records)
            df.attrs["spreadsheet"] = True
        return tables, "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{name}: old Excel .xls format is not supported; save it as .xlsx or CSV")
    data = path.read_bytes()
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        import gzip
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise InputError(f"{name}: broken gzip file ({exc})") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):   # UTF-16 with a BOM: Excel's "Unicode Text" export
        try:
            text, enc = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError(f"{name}: starts with a UTF-16 byte order mark but is not UTF-16 text") from None
    elif b"\x00" in data[:65536]:
        raise InputError(f"{name}: binary data, not a CSV, Excel or Parquet file")
    else:
        loose = mostly_utf8(data) if not data.startswith(b"\xef\xbb\xbf") else None
        text, enc = _decode(data, name) if loose is None else (loose, "utf-8, with undecodable bytes")
    if not text.strip():
        raise InputError(f"{name}: the file has no content")
    table = _read_csv_text(text, name)
    table.attrs["damaged"] = enc.startswith("utf-8, with")   # rows holding U+FFFD are excluded in _records
    return [("", table)], f"csv ({enc})"


def _xlsx_percent_styles(zf, local) -> set[str]:
    """Indexes (as text) of the cell formats that show a number as a per cent (``0%``, ``0.00%``,
    custom codes with a ``%`` outside quotes): such a cell stores 0.12 for what it shows as 12%."""
    import xml.etree.ElementTree as ET

    try:
        styles = ET.fromstring(zf.read("xl/styles.xml"))
    except KeyError:
        return set()
    pct_ids = {"9", "10"}                                   # built-in 0% and 0.00%
    for el in styles.iter():
        if local(el.tag) == "numFmt":
            code = re.sub(r'"[^"]*"|\\.', "", el.get("formatCode", ""))
            if "%" in code:
                pct_ids.add(el.get("numFmtId"))
    out = set()
    for el in styles.iter():
        if local(el.tag) == "cellXfs":
            for i, xf in enumerate(x for x in el if local(x.tag) == "xf"):
                if xf.get("numFmtId") in pct_ids:
                    out.add(str(i))
    return out


def _xlsx_extras(path: Path) -> dict[str, tuple[list[tuple[int, int, int, int]], dict]]:
    """What ``pd.read_excel`` does not show, per sheet name: merged ranges ``(row0, col0, row1, col1)``
    (0-based, inclusive) and cells whose text must differ from the stored value ``{(row, col): text}``.

    * A merged cell (a region name spanning its years, common in yearbook tables) holds its value in
      the top-left cell only; the others read as empty.
    * A formula written by a program that does not calculate (no cached ``<v>``) reads as empty,
      which would pass for a figure reported missing: its text becomes ``=formula``.
    * A number formatted as a per cent is stored as a fraction (12% as 0.12): its text becomes
      ``12%``, what the sheet shows (a growth rate of 0.12 would be read as 0.12 %).

    Read from the sheets' XML in one streaming pass (only sheets that have any of these); a part
    that cannot be read gives nothing extra.
    """
    import posixpath
    import xml.etree.ElementTree as ET
    import zipfile
    from decimal import Decimal, InvalidOperation

    from openpyxl.utils.cell import coordinate_from_string, column_index_from_string, range_boundaries

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def rc(ref: str) -> tuple[int, int]:
        col, row = coordinate_from_string(ref)
        return row - 1, column_index_from_string(col) - 1

    out: dict[str, tuple[list, dict]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            pct = _xlsx_percent_styles(zf, local)
            pct_attr = re.compile(rb'\ss="(?:' + b"|".join(re.escape(x.encode()) for x in sorted(pct)) + rb')"') \
                if pct else None
            rels = {}
            for el in ET.fromstring(zf.read("xl/_rels/workbook.xml.rels")):
                target = el.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
                rels[el.get("Id")] = target
            book = ET.fromstring(zf.read("xl/workbook.xml"))
            for el in book.iter():
                if local(el.tag) != "sheet":
                    continue
                rid = next((v for k, v in el.attrib.items() if local(k) == "id"), None)
                part = rels.get(rid)
                if part is None or part not in zf.namelist():
                    continue
                with zf.open(part) as fh:
                    data = fh.read()
                if (b"mergeCell" not in data and not _XML_FORMULA.search(data)
                        and not (pct_attr and pct_attr.search(data))):
                    continue
                merges, cells = [], {}
                for _, c in ET.iterparse(io.BytesIO(data), events=("end",)):
                    t = local(c.tag)
                    if t == "mergeCell" and c.get("ref"):
                        c0, r0, c1, r1 = range_boundaries(c.get("ref"))
                        merges.append((r0 - 1, c0 - 1, r1 - 1, c1 - 1))
                    elif t == "c":
                        f = v = None
                        for ch in c:
                            if local(ch.tag) == "f":
                                f = ch
                            elif local(ch.tag) in ("v", "is"):
                                v = ch
                        # an empty <v> of a string-typed cell is a formula's computed "" (=IF(…, "")), not "never computed"
                        has_value = v is not None and bool(v.text or "".join(v.itertext()) or c.get("t") == "str")
                        if f is not None and not has_value and c.get("r"):
                            cells[rc(c.get("r"))] = "=" + (f.text or "(shared formula)")
                        elif (has_value and c.get("s") in pct and c.get("t", "n") == "n" and c.get("r")
                              and v.text):
                            try:
                                cells[rc(c.get("r"))] = format(Decimal(v.text.strip()).scaleb(2), "f") + "%"
                            except InvalidOperation:
                                pass
                        c.clear()
                    elif t == "row":
                        c.clear()
                out[el.get("name")] = (merges, cells)
    except (KeyError, ValueError, zipfile.BadZipFile, ET.ParseError):
        return {}
    return out


def _apply_xlsx_extras(df: pd.DataFrame, merges: list, cells: dict) -> pd.DataFrame:
    """Write the cells' texts (uncalculated formulas, per cents as shown) and spread each merged
    range's top-left value over the range."""
    if not merges and not cells:
        return df
    nrow = max([df.shape[0]] + [r + 1 for r, _ in cells])
    ncol = max([df.shape[1]] + [c + 1 for _, c in cells])
    if (nrow, ncol) != df.shape:
        df = df.reindex(index=range(nrow), columns=range(ncol), fill_value="")
    df = df.copy()
    for (r, c), text in cells.items():
        df.iat[r, c] = text
    for r0, c0, r1, c1 in merges:
        if r0 >= df.shape[0] or c0 >= df.shape[1]:
            continue
        top = df.iat[r0, c0]
        block = df.iloc[r0:r1 + 1, c0:c1 + 1]
        df.iloc[r0:r1 + 1, c0:c1 + 1] = block.where(block != "", top)
    return df


def _frame_text(df: pd.DataFrame) -> pd.DataFrame:
    """A raw string table (header as row 0) from a DataFrame, column by column.

    Numeric columns are converted vectorised (shortest round-trip text, integral floats without
    ``.0``, as :func:`_cell_text` does cell by cell); other columns cell by cell only where needed.
    """
    cols = {}
    for j, name in enumerate(df.columns):
        col = df.iloc[:, j]
        if pd.api.types.is_float_dtype(col):
            text = col.astype(str).str.replace(r"\.0$", "", regex=True)
            cols[j] = text.where(col.notna(), "").astype(object)
        elif pd.api.types.is_integer_dtype(col) or pd.api.types.is_bool_dtype(col):
            cols[j] = col.astype(str).astype(object)
        elif pd.api.types.is_string_dtype(col) and not col.map(type).eq(float).any():
            cols[j] = col.astype(object).where(col.notna(), "")
        else:
            cols[j] = col.astype(object).map(_cell_text)
    body = pd.DataFrame(cols)
    header = pd.DataFrame([[str(c) for c in df.columns]], columns=range(df.shape[1]))
    body.columns = range(df.shape[1])
    return pd.concat([header, body], ignore_index=True)


def _cell_text(v) -> str:
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and np.isnan(v)):   # NaT, NA: missing
        return ""
    if isinstance(v, float):
        return repr(v) if not v.is_integer() or abs(v) >= 1e16 else str(int(v))
    if isinstance(v, pd.Timestamp) or hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d")   # the day too: a vintage (release date) needs it; periods read the month
    return str(v)


# --- parsing cells ---------------------------------------------------------------------------------

def _per_unique(s: pd.Series, func) -> pd.Series:
    """Apply ``func`` (Series -> Series) to the distinct values of ``s`` only, and map back.

    Region codes, indicators, periods and units repeat thousands of times; parsing each distinct
    value once keeps loading linear in the number of rows with a small constant.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    res = func(pd.Series(uniques, dtype=object))
    if isinstance(res, tuple):
        return tuple(pd.Series(np.asarray(r, dtype=r.dtype if r.dtype != object else object)[codes], index=s.index)
                     for r in res)
    return pd.Series(np.asarray(res, dtype=object)[codes], index=s.index)


def _nfkc(s: pd.Series) -> pd.Series:
    s = s.astype(str)
    ascii_ = s.str.isascii().to_numpy(dtype=bool)
    if ascii_.all():
        return s.str.strip().astype(object)
    out = s.str.strip().astype(object)
    out[~ascii_] = s[~ascii_].map(lambda x: unicodedata.normalize("NFKC", x).strip())
    return out


def _collapse_spaces(s: pd.Series) -> pd.Series:
    """Region names: a run of white space (a line break inside a quoted or wrapped cell, a full-width
    space) is one space, and none between two CJK characters: "沈阳\\n市" and "沈阳 市" are 沈阳市
    (they were two regions when the name stands for the code)."""
    s = s.astype(str).str.replace(r"\s+", " ", regex=True)
    return s.str.replace(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])", "", regex=True).astype(object)


def parse_values(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Parse reported figures.

    Returns
    -------
    value : float Series (NaN where missing or unparseable)
    clean : the number as text (thousands separators and ``%`` removed), for digit tests
    missing : bool Series, the cell says "no figure" (``—``, ``NA``, empty …)
    bad : bool Series, the cell is not a number

    Notes
    -----
    Plain numbers (the vast majority) take a vectorised Arrow path; only the rest (thousands
    separators, per cent, full-width digits, accounting negatives, missing tokens) are cleaned.
    """
    sa = raw.astype(str).astype("string[pyarrow]").str.strip()
    plain = sa.str.fullmatch(_NUM.pattern).fillna(False).to_numpy(dtype=bool)
    value = pd.Series(np.nan, index=raw.index, dtype="float64")
    clean = pd.Series("", index=raw.index, dtype=object)
    missing = pd.Series(False, index=raw.index)
    bad = pd.Series(False, index=raw.index)
    if plain.any():
        value[plain] = pd.to_numeric(sa[plain]).astype("float64").to_numpy()
        clean[plain] = sa[plain].astype(object).to_numpy()
    rest = ~plain
    if rest.any():
        s = _nfkc(raw[rest]).str.replace("\u2212", "-", regex=False)   # U+2212 MINUS SIGN (NFKC keeps it)
        low = s.str.lower()
        miss = low.isin(MISSING_TOKENS)
        t = s.str.replace(r"(?<=[0-9])[,\s'](?=[0-9]{3}([^0-9]|$))", "", regex=True)   # 1,234,567.8 / 1 234 / 1'234
        t = t.str.rstrip("%").str.strip()
        paren = t.str.match(r"^\(.*\)$")
        t = t.where(~paren, "-" + t.str.slice(1, -1))
        ok = t.str.match(_NUM.pattern) & ~miss
        value[rest] = pd.to_numeric(t.where(ok), errors="coerce").astype("float64").to_numpy()
        clean[rest] = t.where(ok, "").astype(object).to_numpy()
        missing[rest] = miss.to_numpy()
        bad[rest] = (~ok & ~miss).to_numpy()
    return value, clean, missing, bad


def parse_periods(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse periods: ``2015`` / ``2015年`` (A), ``2015Q3`` / ``2015年第三季度`` (Q), ``2015-07`` /
    ``2015年7月`` (M). Returns (period, year, freq); unparseable entries give empty strings / -1."""
    s = _nfkc(raw)
    period = pd.Series("", index=s.index, dtype=object)
    year = pd.Series(-1, index=s.index, dtype="int64")
    freq = pd.Series("", index=s.index, dtype=object)
    m = s.str.extract(_YEAR)
    ok = m[0].notna()
    period[ok] = m.loc[ok, 0]
    freq[ok] = "A"
    q = s.str.extract(_QUARTER)
    q[1] = q[1].fillna(q[2])
    okq = q[0].notna() & ~ok
    if okq.any():
        period[okq] = q.loc[okq, 0].astype(str) + "Q" + q.loc[okq, 1].map(lambda x: _CN_Q.get(x, x)).astype(str)
    freq[okq] = "Q"
    mo = s.str.extract(_MONTH)
    okm = mo[0].notna() & ~ok & ~okq
    months = pd.to_numeric(mo[1], errors="coerce")
    okm &= months.between(1, 12)
    if okm.any():
        period[okm] = mo.loc[okm, 0].astype(str) + "-" + months[okm].astype(int).map("{:02d}".format).astype(str)
    freq[okm] = "M"
    good = freq != ""
    year[good] = pd.to_numeric(period[good].str.slice(0, 4)).astype("int64")
    out_of_range = good & ~year.between(MIN_YEAR, MAX_YEAR)
    period[out_of_range] = ""
    freq[out_of_range] = ""
    year[out_of_range] = -1
    return period, year, freq


# --- layouts ---------------------------------------------------------------------------------------

def _is_period_header(h: str) -> bool:
    per, _, _ = parse_periods(pd.Series([h]))
    return per.iat[0] != ""


def _find_header(raw: pd.DataFrame) -> int | None:
    """Index of the header row: the first of the first rows with a region column and a period,
    indicator or value column (or period-like headers)."""
    for i in range(min(MAX_HEADER_SCAN, len(raw))):
        cells = [c for c in raw.iloc[i].tolist() if str(c).strip()]
        std = {standard_column(c) for c in cells} - {None}
        n_periods = sum(_is_period_header(str(c)) for c in cells)
        n_ind = sum(canonical_indicator(c)[1] for c in cells)
        has_region = bool(std & {"region_code", "region_name"})
        if has_region and (std & {"period", "indicator", "value"} or n_periods >= 2 or n_ind >= 1):
            return i
    return None


def _column_roles(headers: list[str], body: pd.DataFrame, name: str,
                  info: dict) -> tuple[dict[int, str], dict[str, int], int | None]:
    """Which column is which standard column: ``(std_of, col_of, parent_names)``.

    Several headers may mean the same standard column. A province-level region column beside a
    finer one (``省份`` and ``城市``) gives the parent, not the region: the finer one is the region
    whatever the order (``parent_names`` is the province-name column whose GB/T 2260 codes become
    ``parent_code`` when the table has no parent column). Any other repeat is used only when it
    holds the same text as the first (listed in ``info["duplicate_columns"]``); a repeat with other
    contents is ambiguous and an InputError (first-wins would silently use one and drop the other).
    Roles depend on the headers only, so every partition of a file gets the same ones.
    """
    by_std: dict[str, list[int]] = {}
    for j, h in enumerate(headers):
        s = standard_column(h)
        if s:
            by_std.setdefault(s, []).append(j)
    std_of: dict[int, str] = {}
    parent_names = None
    for s in ("region_code", "region_name"):
        fine = [j for j in by_std.get(s, []) if not is_province_level(headers[j])]
        coarse = [j for j in by_std.get(s, []) if is_province_level(headers[j])]
        if not (fine and coarse):
            continue
        by_std[s] = fine
        info.setdefault("parent_columns", []).append(headers[coarse[0]])
        for j in coarse:
            std_of[j] = "_parent"
        if "parent_code" not in by_std:
            if s == "region_code":
                by_std["parent_code"] = coarse[:1]
            else:
                parent_names = coarse[0]
    for s, js in by_std.items():
        first = js[0]
        for j in js[1:]:
            if not body[j].astype(str).str.strip().equals(body[first].astype(str).str.strip()):
                raise InputError(
                    f"{name}: columns {headers[first]!r} and {headers[j]!r} both mean {s} but hold different "
                    f"values; rename or remove one of them")
            info.setdefault("duplicate_columns", []).append(headers[j])
            std_of[j] = "_duplicate"
        std_of[first] = s
    col_of = {v: k for k, v in std_of.items() if not v.startswith("_")}
    return std_of, col_of, parent_names


_UNIT_LABELS = frozenset({"单位", "计量单位", "unit", "units"})


def _unit_text(cell: object) -> str | None:
    """The unit a cell of a units row names (``万元``, ``（亿元）``, ``单位：万元``), or None."""
    t = unicodedata.normalize("NFKC", str(cell)).strip()
    t = re.sub(r"^(?:单位|计量单位|units?)\s*[:：]\s*", "", t, flags=re.I)
    t = re.sub(r"^[\(\[【](.*)[\)\]】]$", r"\1", t).strip()
    return t if t and norm_unit(t) in _KNOWN_UNITS else None


def units_row(raw: pd.DataFrame, hdr: int) -> dict[int, str] | None:
    """``{column: unit}`` when the row under the header ``hdr`` holds units only (a two-row header:
    names, then ``万元`` under each figure; the cells under the region and period columns empty or
    ``单位``), else None. The units were read as a nameless data row and every figure taken in the
    base unit (10^4 times too large for 万元)."""
    if hdr + 1 >= len(raw):
        return None
    cells = [str(c).strip() for c in raw.iloc[hdr + 1].tolist()]
    units = {}
    for j, c in enumerate(cells):
        if not c or norm_unit(c) in _UNIT_LABELS:
            continue
        u = _unit_text(c)
        if u is None:
            return None
        units[j] = u
    return units or None


def header_with_units(headers: list[str], units: dict[int, str]) -> list[str]:
    """Headers with a units row's unit appended as ``name(unit)`` where the name has no unit of its own."""
    return [f"{h}({units[j]})" if j in units and h and header_unit(h) is None else h for j, h in enumerate(headers)]


_TITLE_INDICATOR = re.compile(r"^\s*(?:indicators?|指标(?:名称)?)\s*[:：]\s*(.+?)\s*$", re.I)
_NOTE = re.compile(r"^\s*(?:注|备注|说明|数据来源|资料来源|来源|notes?|sources?|data\s*sources?)\s*[:：.]?", re.I)


def _preamble_indicator(pre: pd.DataFrame) -> str | None:
    """The indicator a title line above the header names (``Indicators：…`` / ``指标：…``), or None."""
    for cell in pre.astype(str).to_numpy().ravel():
        m = _TITLE_INDICATOR.match(unicodedata.normalize("NFKC", cell))
        if m:
            return m.group(1)
    return None


def _note_rows(body: pd.DataFrame, region_cols: list[int]) -> pd.Series:
    """Rows holding only a note in the region column (``Note: …``, ``数据来源：…``) below a table."""
    if not region_cols:
        return pd.Series(False, index=body.index)
    text = body.astype(str).apply(lambda c: c.str.strip())
    filled = (text != "").sum(axis=1)
    first = text[region_cols[0]]
    # astype(bool): mapping an empty column gives the string dtype, which '&' with booleans will refuse
    note = first.map(lambda t: bool(_NOTE.match(unicodedata.normalize("NFKC", t)))).astype(bool)
    return (filled == 1) & (first != "") & note


def _is_indicator_column(header: str, n_bad: int, n_present: int) -> bool:
    """Wide-by-indicator layout: a column holds an indicator when its name is known or it is mostly numbers."""
    return bool(canonical_indicator(header)[1] or n_bad / max(1, n_present) < 0.5)


def _records(raw: pd.DataFrame, name: str, excl: _Excl,
             indicator_columns: set[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """Turn one raw string table into long records with source rows; layout detected.

    ``indicator_columns``: the wide-by-indicator value columns when already decided over the whole
    file (a partition-wise reader, detect.scale.dask_engine); by default decided from ``raw``.
    """
    hdr = _find_header(raw)
    if hdr is None:
        first = ", ".join(str(c) for c in raw.iloc[0].tolist()[:8]) if len(raw) else ""
        raise InputError(
            f"{name}: no recognisable columns in the first {MAX_HEADER_SCAN} rows; need a region column (region_code / region_name / 地区 …) "
            f"and a period or indicator column (period / year / 年份, indicator / 指标, or one column per "
            f"indicator or year). First row: {first}")
    headers = [str(c).strip() for c in raw.iloc[hdr].tolist()]
    units = units_row(raw, hdr)
    skip = 1 if units else 0
    if units:   # a row of units under the header: part of the header, as "(万元)" would be
        headers = header_with_units(headers, units)
    body = raw.iloc[hdr + 1 + skip:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    rownum = np.arange(hdr + 2 + skip, hdr + 2 + skip + len(body))   # spreadsheet row numbers, header row = hdr+1
    info = {"header_row": hdr + 1, "preamble_rows": hdr, "physical_rows": len(body)}
    if units:
        info["units_row"] = hdr + 2

    std_of, col_of, parent_names = _column_roles(headers, body, name, info)

    # empty physical rows: account for them, they hold no record
    blank = body.apply(lambda c: c.astype(str).str.strip() == "").all(axis=1)
    if blank.any():
        excl.add(name, rownum[blank.values], "", "", "empty row")
    body, rownum = body[~blank.values].reset_index(drop=True), rownum[~blank.values]
    info["empty_rows"] = int(blank.sum())
    # delimited text (any table but an Excel sheet, whose cells beside the header may be notes): a row
    # with more fields than the header has a separator inside a value ("1,234.5" unquoted in a comma
    # file); its fields are shifted, so none of them can be trusted
    problem = pd.Series("", index=body.index, dtype=object)
    last = max((j for j, h in enumerate(headers) if h), default=-1)
    if not raw.attrs.get("spreadsheet") and body.shape[1] > last + 1:
        over = body.iloc[:, last + 1:].astype(str).apply(lambda c: c.str.strip() != "").any(axis=1)
        problem[over.values] = ("the row has more fields than the header (a separator inside an unquoted "
                                "value such as 1,234.5?)")
        if over.any():
            info["overflow_rows"] = int(over.sum())
    damaged = (body.astype(str).apply(lambda c: c.str.contains("\ufffd", regex=False)).any(axis=1)
               if raw.attrs.get("damaged") else pd.Series(False, index=body.index))
    if damaged.any():   # bytes that were not UTF-8 in a UTF-8 file (mostly_utf8): the row's text is unknown
        problem[damaged.values & (problem == "").values] = "the row holds bytes that are not UTF-8 (the rest of the file is)"
        info["undecodable_rows"] = int(damaged.sum())

    def col(std):
        j = col_of.get(std)
        return body[j].astype(str) if j is not None else pd.Series("", index=body.index, dtype=object)

    parent = col("parent_code")
    if parent_names is not None:   # a province name column beside the city one: the parent's code
        parent = _per_unique(body[parent_names].astype(str), lambda u: u.map(lambda n: province_code(n) or n))
    base = pd.DataFrame({
        "region_code": col("region_code"), "region_name": col("region_name"),
        "parent_code": parent, "vintage": col("vintage"), "row": rownum, "_problem": problem,
    })
    unit_col = col("unit")

    if "indicator" in col_of and "value" in col_of:
        info["layout"] = "long"
        if "unit" not in col_of:   # "数值（万元）": the value header's unit (it was ignored: figures read as base units)
            unit_col = pd.Series(header_unit(headers[col_of["value"]]) or "", index=body.index, dtype=object)
        rec = base.assign(indicator_raw=col("indicator"), period_raw=col("period"),
                          value_raw=col("value"), unit=unit_col, column=headers[col_of["value"]],
                          _col=np.int64(col_of["value"]))
        return rec, info

    other = [j for j in range(len(headers)) if j not in std_of and headers[j]]
    titled = None
    if "indicator" not in col_of and "period" not in col_of:
        # the NBS download (data.stats.gov.cn): "Indicators：Gross Regional Product(100 million yuan)" above
        # a Region x years table; it was "no period column", though every column but one is a year
        titled = _preamble_indicator(raw.iloc[:hdr])
    if "indicator" in col_of or titled:
        per_cols = [j for j in other if _is_period_header(headers[j]) or _YEARISH.search(headers[j])]
        if not per_cols:
            raise InputError(f"{name}: an indicator column but no value column and no period columns")
        info["layout"] = "wide by period"
        info["ignored_columns"] = [headers[j] for j in other if j not in per_cols]
        if titled:
            info["indicator_from_title"] = titled
            ind = pd.Series(titled, index=body.index, dtype=object)
            unit_col = unit_col.where(unit_col.str.strip() != "", header_unit(titled) or "")
        else:
            ind = col("indicator")
        note = _note_rows(body, [col_of[c] for c in ("region_code", "region_name") if c in col_of])
        base["_problem"] = base["_problem"].where(~note | (base["_problem"] != ""), "a note below the table, not a region")
        parts = [base.assign(indicator_raw=ind, period_raw=headers[j], value_raw=body[j].astype(str),
                             unit=unit_col, column=headers[j], _col=np.int64(j)) for j in per_cols]
        return pd.concat(parts, ignore_index=True), info

    if "period" in col_of:
        ind_cols = []
        ignored = []
        for j in other:
            if is_row_number(headers[j]):
                ignored.append(headers[j])
                continue
            if indicator_columns is not None:
                is_ind = headers[j] in indicator_columns
            else:
                vals, _, missing, bad = parse_values(body[j])
                is_ind = _is_indicator_column(headers[j], int(bad.sum()), int((~missing).sum()))
            if is_ind:
                ind_cols.append(j)
            else:
                ignored.append(headers[j])
        if not ind_cols:
            raise InputError(f"{name}: a period column but no indicator columns with numbers")
        info["layout"] = "wide by indicator"
        info["ignored_columns"] = ignored
        parts = [base.assign(indicator_raw=headers[j], period_raw=col("period"), value_raw=body[j].astype(str),
                             unit=header_unit(headers[j]) or "", column=headers[j], _col=np.int64(j))
                 for j in ind_cols]
        return pd.concat(parts, ignore_index=True), info

    if any(_is_period_header(headers[j]) for j in other):
        raise InputError(f"{name}: one column per year but no indicator: add an indicator column (indicator / 指标) "
                         f"or a line 'Indicators: <name>' / '指标：<name>' above the header")
    raise InputError(f"{name}: no period column (period / year / 年份) and no indicator column (indicator / 指标)")


# --- validation ------------------------------------------------------------------------------------

def _validate(rec: pd.DataFrame, excl: _Excl) -> pd.DataFrame:
    """Records -> panel rows; excluded records go to ``excl``. ``rec`` has a ``source`` column.

    Three steps, split so that a distributed loader can run each where its data are
    (:mod:`detect.scale.dask_engine`): :func:`normalise_records` looks at one record at a time;
    :func:`unknown_unit_counts` is the only panel-wide fact (summed over partitions, then
    :func:`unit_modes`); :func:`consolidate_records` needs all records of a region and nothing else.
    """
    rec = normalise_records(rec, excl)
    return consolidate_records(rec, excl, unit_modes(unknown_unit_counts(rec)))


class _Dropper:
    """Marks records excluded, first reason wins, writing each to ``excl`` once."""

    def __init__(self, rec: pd.DataFrame, excl: _Excl) -> None:
        self.rec, self.excl = rec, excl
        self.keep = pd.Series(True, index=rec.index)

    def __call__(self, mask: pd.Series, column, raw, reason) -> None:
        mask = mask & self.keep
        if mask.any():
            r = self.rec[mask]
            self.excl.add(r["source"].values, r["row"].values,
                          column[mask].values if isinstance(column, pd.Series) else column,
                          raw[mask].values if isinstance(raw, pd.Series) else raw,
                          reason[mask].values if isinstance(reason, pd.Series) else reason)
            self.keep &= ~mask


def normalise_records(rec: pd.DataFrame, excl: _Excl) -> pd.DataFrame:
    """The record-by-record part of validation: identity, indicator, period, value, unit.

    Each record is judged on its own (no record's fate depends on another's), so the step can run
    on any partition of the records. Excluded records go to ``excl``; the kept ones are returned
    with ``region_code`` final, ``indicator``, ``period``, ``year``, ``freq``, ``value`` (in the
    indicator's base unit), ``unit`` and ``raw`` (the cleaned reported text, "" when missing), and
    ``_seq``, their position in the input (kept if present: the order that decides which duplicate
    and which region name come first). The in-memory order is table by table, value column by value
    column (``_col``, a wide table's records come out column-wise), row by row; a partitioned
    reader numbers its records in the same order (:func:`record_order`).
    """
    rec = rec.reset_index(drop=True)
    if "_seq" not in rec.columns:
        rec["_seq"] = np.arange(len(rec), dtype=np.int64)
    drop = _Dropper(rec, excl)
    if "_problem" in rec.columns:   # a row-level fault found while reading the table
        drop(rec["_problem"] != "", rec["column"], rec["value_raw"], rec["_problem"])

    for c in ("region_code", "region_name", "parent_code", "vintage", "unit", "indicator_raw"):
        rec[c] = _per_unique(rec[c], _nfkc)
    rec["region_name"] = _per_unique(rec["region_name"], _collapse_spaces)
    # region identity
    no_code = rec["region_code"] == ""
    derived = _per_unique(rec.loc[no_code, "region_name"], lambda u: u.map(lambda n: province_code(n) or n))
    rec.loc[no_code, "region_code"] = derived
    for c in ("region_code", "parent_code"):   # 210000.0: a code column read as floats (a gap made it float)
        rec[c] = rec[c].str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
    rec.loc[rec["region_name"] == "", "region_name"] = rec["region_code"]
    drop(rec["region_code"] == "", "region_code", "", "no region code or name")
    # a yearbook's 全国 / 合计 line without a code of its own: screened as a region it would be a peer
    # of its own parts (with a code, it can be their parent and is kept)
    total = no_code & _per_unique(rec["region_name"], lambda u: u.map(is_total_name)).astype(bool)
    drop(total, "region_name", rec["region_name"],
         "a total row (全国 / 合计 / Total), not a region: give it a region code, and its parts that code as "
         "parent_code, to check the parts against it")
    # indicator
    canon = _per_unique(rec["indicator_raw"], lambda u: u.map(lambda x: canonical_indicator(x)[0] if x else ""))
    rec["indicator"] = canon
    drop(canon == "", "indicator", rec["indicator_raw"], "no indicator name")
    # period
    period, year, freq = _per_unique(rec["period_raw"], parse_periods)
    rec["period"], rec["year"], rec["freq"] = period, year, freq
    drop(freq == "", "period", rec["period_raw"],
         "period not recognised (expected 2015, 2015Q3 or 2015-07, years 1949-2100)")
    # value
    value, clean, missing, bad = parse_values(rec["value_raw"])
    formula = bad & rec["value_raw"].astype(str).str.lstrip().str.startswith("=")
    drop(formula, rec["column"], rec["value_raw"],
         "a formula with no saved result (open the file in a spreadsheet program, recalculate and save it)")
    drop(bad, rec["column"], rec["value_raw"], "value is not a number")
    drop(np.isinf(value), rec["column"], rec["value_raw"], "value is out of range (not a finite number)")
    # units
    fac = pd.Series(1.0, index=rec.index)
    vr = rec["value_raw"].astype(str).astype("string[pyarrow]").str.strip()
    pct_in_value = pd.Series((vr.str.endswith("%") | vr.str.endswith("％")).fillna(False).to_numpy(dtype=bool),
                             index=rec.index)
    rec.loc[pct_in_value & (rec["unit"] == ""), "unit"] = "%"
    pct_base = _per_unique(rec["indicator"], lambda u: u.map(lambda i: base_unit(i) or ""))
    drop(pct_in_value & ~pct_base.isin(["", "%"]), rec["column"], rec["value_raw"],
         "a per-cent value for " + rec["indicator"] + ", whose unit is " + pct_base)
    for (ind, unit), idx in rec[drop.keep].groupby(["indicator", "unit"], sort=False).groups.items():
        f = factor(ind, unit)
        if f is None:
            reason = f"unit '{unit}' cannot be converted to {base_unit(ind)} for {ind}"
            drop(rec.index.isin(idx) & pd.Series(True, index=rec.index), "unit", rec["unit"], reason)
        else:
            fac[idx] = f
    # a factor below 1 (万元 -> 亿元 is 1e-4, not a binary fraction) divides by its exact inverse, so
    # the result is correctly rounded: 230146000 万元 is 23014.6, not 23014.600000000002
    small = (fac < 1).to_numpy()
    conv = (value * fac).to_numpy().copy()
    conv[small] = value.to_numpy()[small] / np.round(1.0 / fac.to_numpy()[small])
    rec["value"] = conv
    bu = pct_base
    rec["unit"] = bu.where(bu != "", rec["unit"])
    rec["_known_unit"] = bu != ""
    rec["raw"] = clean.where(~missing, "")
    return rec[drop.keep].reset_index(drop=True)


def record_order(rec: pd.DataFrame, base: int, height: int) -> np.ndarray:
    """``_seq`` of a table's records in the in-memory loader's order, from any piece of the table.

    ``base`` is the sum of ``width * height`` of the tables before it, ``height`` one more than the
    table's last spreadsheet row: ``_seq = base + _col * height + row`` orders records by table,
    value column, row, which is the order in which :func:`_records` concatenates them.
    """
    return base + rec["_col"].to_numpy(dtype=np.int64) * np.int64(height) + rec["row"].to_numpy(dtype=np.int64)


def unknown_unit_counts(rec: pd.DataFrame) -> pd.Series:
    """Records per ``(indicator, unit)`` of the indicators without a known base unit.

    Counts add over partitions; :func:`unit_modes` turns the total into each indicator's unit.
    """
    sub = rec[~rec["_known_unit"]] if "_known_unit" in rec.columns else rec.iloc[:0]
    if len(sub) == 0:
        return pd.Series(dtype="int64")
    return sub.groupby(["indicator", "unit"], sort=True).size()


def unit_modes(counts: pd.Series) -> dict[str, str]:
    """The most common unit of each unknown indicator (ties: the first in sort order, as ``mode``)."""
    if len(counts) == 0:
        return {}
    c = counts.groupby(level=[0, 1]).sum().reset_index(name="n")
    c = c.sort_values(["indicator", "n", "unit"], ascending=[True, False, True], kind="mergesort")
    return dict(c.drop_duplicates("indicator")[["indicator", "unit"]].itertuples(index=False, name=None))


def consolidate_records(rec: pd.DataFrame, excl: _Excl, modes: dict[str, str]) -> pd.DataFrame:
    """The by-region part of validation: units against the indicator's mode, impossible
    negatives, duplicates, region names and parents, one-point series; sorted panel rows.

    ``rec`` comes from :func:`normalise_records` and must hold *every* record of each region it
    holds (any set of whole regions will do); ``modes`` is :func:`unit_modes` over all records.
    Records are taken in ``_seq`` order, so the result does not depend on how they were partitioned.
    """
    rec = rec.sort_values("_seq", kind="mergesort").reset_index(drop=True)
    drop = _Dropper(rec, excl)
    # unknown indicators with mixed units: keep the most common unit
    unknown = ~rec["_known_unit"].astype(bool)
    if unknown.any():
        common = rec["indicator"].map(modes)
        mixed = unknown & (rec["unit"] != common.fillna(rec["unit"]))
        drop(mixed, "unit", rec["unit"], "unit differs from the indicator's other rows (" + common.fillna("") + ")")
    # impossible negatives
    neg = rec["indicator"].isin(NONNEGATIVE) & (rec["value"] < 0)
    drop(neg, rec["column"], rec["value_raw"], "negative value impossible for " + rec["indicator"])
    rec = rec[drop.keep].copy()

    # duplicates on (region, indicator, period, vintage)
    key = ["region_code", "indicator", "period", "vintage"]
    rec["_order"] = np.arange(len(rec))
    dup = rec.duplicated(key, keep=False)
    if dup.any():
        d = rec[dup]
        grp = d.groupby(key, sort=False)
        nvals = grp["value"].transform(lambda v: v.dropna().round(10).nunique())
        first = grp["_order"].transform("min")
        first_with_value = d.assign(_o=d["_order"].where(d["value"].notna())).groupby(key, sort=False)["_o"].transform("min")
        src_of = dict(zip(rec["_order"], rec["source"].astype(str) + ":" + rec["row"].astype(str)))
        conflict = nvals > 1
        if conflict.any():
            vals = grp["value_raw"].transform(lambda v: " / ".join(sorted(set(v))))
            c = d[conflict]
            excl.add(c["source"].values, c["row"].values, c["column"].values, c["value_raw"].values,
                     ("conflicting duplicate: " + c["region_code"] + " " + c["indicator"] + " " + c["period"]
                      + " reported as " + vals[conflict]).values)
        keep_order = first_with_value.fillna(first)
        collapse = ~conflict & (d["_order"] != keep_order)
        if collapse.any():
            c = d[collapse]
            kept = keep_order[collapse].map(src_of)
            reason = np.where(c["value"].isna(), "duplicate with a missing value; kept the reported value at ",
                              "identical duplicate collapsed into ") + kept.values
            excl.add(c["source"].values, c["row"].values, c["column"].values, c["value_raw"].values, reason)
        drop_idx = d.index[conflict | collapse]
        rec = rec.drop(index=drop_idx)

    # names / parents per region: first non-empty wins
    for c in ("region_name", "parent_code"):
        firsts = rec[rec[c] != ""].groupby("region_code")[c].first()
        mapped = rec["region_code"].map(firsts)
        rec[c] = mapped.astype(object).where(mapped.notna(), "")
    # one-point series
    npts = rec.groupby(["region_code", "indicator"])["value"].transform("count")
    rec["single_point"] = npts == 1
    rec["row"] = rec["row"].astype("int64")
    if len(rec) == 0:          # nothing kept: the canonical empty panel, whatever the records' dtypes were
        return Panel.empty().data
    out = rec[list(PANEL_COLUMNS)].sort_values(["region_code", "indicator", "period", "vintage"], kind="mergesort")
    return out.reset_index(drop=True)


def frame_to_panel(df: pd.DataFrame, source: str = "<frame>") -> LoadResult:
    """Validate an in-memory DataFrame (long or wide; any headers the aliases know) into a Panel.

    Named index levels are columns too (``panel.wide()`` is indexed by ``region_code, year``; a
    frame indexed that way was "no recognisable columns"); a level named like an existing column
    is left out.
    """
    named = [n for n in df.index.names if n is not None and n not in df.columns]
    if named:
        df = df.reset_index(level=named)
    return _finish([(source, _frame_text(df))], [{"file": source, "sha256": "", "format": "DataFrame"}])


def load(paths: str | Path | Iterable[str | Path]) -> LoadResult:
    """Read, validate and combine input files into one Panel.

    Parameters
    ----------
    paths : path or list of paths
        CSV, Excel ``.xlsx`` or Parquet files, long or wide, Chinese or English headers.

    Returns
    -------
    LoadResult
        The panel, the exclusions (``file, row, column, raw_value, reason``), per-file information
        (SHA-256, format, layout, rows) and the record accounting.

    Raises
    ------
    InputError
        A path is missing, a file is empty, binary garbage, undecodable, or has no recognisable
        columns. The message names the file and what was expected.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no input files given")
    tables, inputs = [], []
    for p in paths:
        try:
            sheets, fmt = _raw_tables(p)
            info = {"file": str(p), "sha256": sha256(p), "bytes": p.stat().st_size, "format": fmt}
        except OSError as exc:   # permission denied, I/O error: the user's file system, not a bug (was exit 3)
            raise InputError(f"{p}: cannot read the file ({exc.strerror or exc})") from None
        inputs.append(info)
        for sheet, raw in sheets:
            label = f"{p}#{sheet}" if sheet != "" and len(sheets) > 1 else str(p)
            tables.append((label, raw))
    return _finish(tables, inputs)


def table_records(label: str, raw: pd.DataFrame, excl: _Excl, several: bool, sheet_info: list[dict],
                  errors: list[str]) -> pd.DataFrame | None:
    """Records of one raw table (a CSV, a sheet), with its information appended to ``sheet_info``.

    An empty table, or (when the file has ``several`` tables) a sheet with no recognisable columns,
    is skipped and noted; None is returned for it. Shared by the in-memory and Dask loaders.
    """
    raw = raw.fillna("")
    if len(raw) == 0 or not raw.astype(str).apply(lambda c: c.str.strip() != "").any().any():
        sheet_info.append({"table": label, "skipped": "empty"})
        return None
    try:
        rec, info = _records(raw, label, excl)
    except InputError as exc:
        if several and "no recognisable columns" in str(exc):
            sheet_info.append({"table": label, "skipped": str(exc)})
            errors.append(str(exc))
            return None
        raise
    sheet_info.append({"table": label, **info, "records": int(len(rec))})
    return rec.assign(source=label)


def assemble(recs: list[pd.DataFrame], excl: _Excl, inputs: list[dict], sheet_info: list[dict],
             errors: list[str]) -> LoadResult:
    """Validate the records of every table into one Panel and check the row accounting."""
    if not recs:
        raise InputError(errors[0] if errors else "no data: every input table is empty")
    rec = pd.concat(recs, ignore_index=True)
    rows_in = len(rec) + sum(t.get("empty_rows", 0) for t in sheet_info)
    panel_df = _validate(rec, excl) if len(rec) else Panel.empty().data
    return load_result(panel_df, excl, inputs, sheet_info, rows_in)


def load_result(panel_df: pd.DataFrame, excl: _Excl, inputs: list[dict], sheet_info: list[dict],
                rows_in: int) -> LoadResult:
    """The LoadResult of validated panel rows: exclusions sorted, tables per file, accounting checked."""
    exclusions = excl.frame()
    for info in inputs:
        f = info["file"]   # a table is "<file>" or "<file>#<sheet>"; the file name may itself hold a "#"
        info["tables"] = [t for t in sheet_info if t["table"] == f or t["table"].startswith(f + "#")]
    result = LoadResult(panel=Panel(panel_df), exclusions=exclusions[list(EXCLUSION_COLUMNS)], inputs=inputs,
                        rows_in=int(rows_in), rows_used=int(len(panel_df)), rows_excluded=int(len(exclusions)))
    if result.rows_in != result.rows_used + result.rows_excluded:  # an internal invariant, never user error
        raise AssertionError(f"row accounting broken: {result.rows_in} in, {result.rows_used} used, "
                             f"{result.rows_excluded} excluded")
    result.panel.meta.update({"rows_in": result.rows_in, "rows_used": result.rows_used,
                              "rows_excluded": result.rows_excluded, "exclusions": exclusions})
    return result


def _finish(tables: list[tuple[str, pd.DataFrame]], inputs: list[dict]) -> LoadResult:
    excl = _Excl()
    recs: list[pd.DataFrame] = []
    sheet_info: list[dict] = []
    errors: list[str] = []
    for label, raw in tables:
        rec = table_records(label, raw, excl, len(tables) > 1, sheet_info, errors)
        if rec is not None:
            recs.append(rec)
    return assemble(recs, excl, inputs, sheet_info, errors)
