"""Streaming on one machine: digit counts, per-group aggregates and value counts, chunk by chunk.

Everything here has the shape **map -> reduce -> statistics once**:

* *map*: one chunk of a file (CSV, Parquet, Excel) becomes a small summary — a
  :class:`detect.digits.counts.DigitCounts`, a :class:`GroupAggregates` (count, missing and exact
  sum per group) or a :class:`ValueCounts` (how often each amount occurs);
* *reduce*: summaries add with ``+``; the addition is exact integer arithmetic, so it is
  associative and commutative and the total does not depend on how the file was cut (chunk size,
  row groups, Dask partitions, the order the workers finish in);
* *statistics once*: :class:`detect.digits.result.BenfordResult` (or a DataFrame) from the total.

Memory is bounded by the chunk size plus the size of the summaries (a few kilobytes per digit test,
one row per group, one entry per distinct amount), never by the number of records. The chunked
reading itself is :mod:`detect.digits.io` (issue 3); this module adds the per-group aggregates, the
value counts behind the duplication test and a ``reduce`` that works for every summary type.

Exact sums. A sum over 10^9 amounts in floating point depends on the order of the additions, so two
engines would disagree in the last digits. Amounts are therefore summed as integers of
``10^-scale`` units (cents for ``scale=2``), read at the reported precision, with Python integers
in the reduction (no overflow). An amount reported with more decimals than ``scale`` or more than
15 significant digits cannot be held exactly: it is rounded to the unit and counted in
``n_inexact`` (0 for the ledgers we know: cents). The float ``sum`` shown is the exact total
correctly rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce as _fold
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

import numpy as np
import pandas as pd

from detect.digits.api import select_magnitudes
from detect.digits.counts import DigitCounts, Sign
from detect.digits.extract import extract
from detect.digits.io import CHUNK_ROWS, _csv_chunks, _excel_chunks, _parquet_chunks, count_file, file_format
from detect.exceptions import InputError

T = TypeVar("T")

#: Largest integer a double holds exactly (2^53): units beyond it are not exact.
_EXACT_INT = float(2 ** 53)
_SPLIT = 1 << 31          # int64 units are summed as hi * 2^31 + lo so that no group sum overflows


# --- reading ---------------------------------------------------------------------------------------

def iter_frames(path: str | Path, columns: list[str], chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield DataFrames of ``columns`` of a file, ``chunk_rows`` rows at a time (a CSV with more
    columns than ``columns``: proportionally fewer rows, as its every column is parsed).

    The readers of :mod:`detect.digits.io` (CSV as text, Parquet by record batch with numbers as
    float64 and decimals as text, Excel whole): the same values whatever the chunk size.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown type, or a missing column (the message lists the columns).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"input file not found: {p}")
    if chunk_rows < 1:
        raise InputError(f"chunk_rows must be at least 1; got {chunk_rows}")
    cols = list(dict.fromkeys(columns))
    fmt = file_format(p)
    if fmt == "csv":
        yield from _csv_chunks(p, cols, chunk_rows)
    elif fmt == "excel":
        yield from _excel_chunks(p, cols)
    else:
        yield from _parquet_chunks(p, cols, chunk_rows)


def _values(s: pd.Series) -> np.ndarray:
    """A column as the digit code expects it: float64 for numbers, object (text) otherwise."""
    if s.dtype.kind in "fiu":
        return s.to_numpy(np.float64)
    return s.to_numpy(dtype=object)


def _group_ids(df: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, list[str]]:
    """Group index of every row and the group labels as text ('' for missing; several columns joined
    by a unit separator). Hash-based (``pandas.factorize``): no sort of the rows' strings."""
    gid = np.zeros(len(df), np.int64)
    labels = [""]
    for c in by:
        codes, uniq = pd.factorize(df[c], use_na_sentinel=True)
        text = ["" if pd.isna(u) else str(u) for u in uniq] + [""]      # code -1 (missing) -> ""
        codes = np.where(codes < 0, len(uniq), codes).astype(np.int64)
        key = gid * (len(uniq) + 1) + codes
        gid, first = pd.factorize(key)
        prev = labels
        labels = [None] * len(first)
        for i, k in enumerate(first):
            a, b = divmod(int(k), len(uniq) + 1)
            labels[i] = text[b] if c == by[0] else prev[a] + "\x1f" + text[b]
    # one label may arise from two codes (a missing value and an empty string): merge them
    if len(set(labels)) < len(labels):
        gid, uniq_labels = pd.factorize(np.asarray(labels, dtype=object)[gid])
        labels = [str(x) for x in uniq_labels]
    return np.asarray(gid, np.int64), labels


# --- reduce ----------------------------------------------------------------------------------------

def reduce_counts(parts: Iterable[T]) -> T:
    """Add summaries: DigitCounts, ``{group: DigitCounts}``, GroupAggregates or ValueCounts.

    Exact and associative (integer additions), so any grouping of the parts gives the same total.

    Raises
    ------
    ValueError
        When ``parts`` is empty (there is no neutral element without knowing the test).
    """
    items = list(parts)
    if not items:
        raise ValueError("nothing to reduce: no parts")
    if isinstance(items[0], dict):
        out: dict = {}
        for d in items:
            for k, v in d.items():
                out[k] = out[k] + v if k in out else v
        return out  # type: ignore[return-value]
    return _fold(lambda a, b: a + b, items)


# --- digit counts ----------------------------------------------------------------------------------

def stream_counts(path: str | Path, column: str, test: str, *, min_value: float | None = None,
                  sign: Sign = "positive", group_by: str | None = None, extraction: str = "exact",
                  min_sig: int = 0, chunk_rows: int = CHUNK_ROWS,
                  notes: list[str] | None = None) -> DigitCounts | dict[str, DigitCounts]:
    """Digit counts of a file's column read in chunks of ``chunk_rows`` rows (bounded memory).

    This is :func:`detect.digits.io.count_file` (issue 3), which already streams; it is named here
    so that the engines (``memory``, ``stream``, ``dask``) have one entry point each. See
    :func:`detect.digits.io.count_file` for the parameters.
    """
    if chunk_rows < 1:
        raise InputError(f"chunk_rows must be at least 1; got {chunk_rows}")
    return count_file(path, column, test, min_value=min_value, sign=sign, group_by=group_by,
                      extraction=extraction, min_sig=min_sig, chunk_rows=chunk_rows, notes=notes)


# --- per-group aggregates --------------------------------------------------------------------------

@dataclass
class GroupAggregates:
    """Count, missing count and exact sum of amounts per group; two of them add with ``+``.

    Attributes
    ----------
    by : tuple of str
        Grouping columns (labels of several columns are joined with ``"\\x1f"``).
    scale : int
        Sums are integers of ``10^-scale`` units.
    groups : dict
        ``{label: [n, n_missing, units, n_inexact]}``: values summed, values missing or not numbers,
        the exact sum in units (Python int), values rounded to the unit (more decimals than
        ``scale`` or more than 15 significant digits).
    """

    by: tuple[str, ...]
    scale: int = 2
    groups: dict[str, list[int]] = field(default_factory=dict)

    def __add__(self, other: "GroupAggregates") -> "GroupAggregates":
        if other.by != self.by or other.scale != self.scale:
            raise ValueError(f"cannot add aggregates by {other.by} at scale {other.scale} to aggregates by "
                             f"{self.by} at scale {self.scale}")
        out = {k: list(v) for k, v in self.groups.items()}
        for k, v in other.groups.items():
            if k in out:
                out[k] = [a + b for a, b in zip(out[k], v)]
            else:
                out[k] = list(v)
        return GroupAggregates(self.by, self.scale, out)

    @property
    def n(self) -> int:
        """Values summed over all groups."""
        return sum(v[0] for v in self.groups.values())

    def total_units(self) -> int:
        """Exact total over all groups, in units."""
        return sum(v[2] for v in self.groups.values())

    def to_frame(self) -> pd.DataFrame:
        """One row per group, sorted by label: the ``by`` columns, ``n, n_missing, sum, sum_exact, n_inexact``.

        ``sum`` is the exact total correctly rounded to a float; ``sum_exact`` the exact decimal text.
        """
        keys = sorted(self.groups)
        rows = [self.groups[k] for k in keys]
        d = 10 ** self.scale
        data: dict[str, list] = {}
        split = [k.split("\x1f") for k in keys] if len(self.by) > 1 else [[k] for k in keys]
        for i, c in enumerate(self.by):
            data[c] = [s[i] for s in split]
        data["n"] = [r[0] for r in rows]
        data["n_missing"] = [r[1] for r in rows]
        data["sum"] = [float(Fraction(r[2], d)) for r in rows]
        data["sum_exact"] = [_decimal_text(r[2], self.scale) for r in rows]
        data["n_inexact"] = [r[3] for r in rows]
        df = pd.DataFrame(data, columns=[*self.by, "n", "n_missing", "sum", "sum_exact", "n_inexact"])
        return df.astype({"n": "int64", "n_missing": "int64", "n_inexact": "int64", "sum": "float64"})


def _decimal_text(units: int, scale: int) -> str:
    sign = "-" if units < 0 else ""
    s = str(abs(units)).rjust(scale + 1, "0")
    return sign + (s[:-scale] + "." + s[-scale:] if scale > 0 else s)


def _int_sums(gid: np.ndarray, units: np.ndarray, k: int) -> list[int]:
    """Exact per-group sums of int64 ``units`` (split into 31-bit halves: no int64 overflow)."""
    hi = units >> 31               # floor division: units = hi * 2^31 + lo with 0 <= lo < 2^31
    lo = units - hi * _SPLIT
    shi = pd.Series(hi).groupby(gid).sum().reindex(range(k), fill_value=0).to_numpy(np.int64)
    slo = pd.Series(lo).groupby(gid).sum().reindex(range(k), fill_value=0).to_numpy(np.int64)
    return [int(a) * _SPLIT + int(b) for a, b in zip(shi, slo)]


def aggregate_frame(df: pd.DataFrame, value: str, by: str | list[str], *, scale: int = 2) -> GroupAggregates:
    """Per-group count, missing count and exact sum of column ``value`` of one chunk.

    Parameters
    ----------
    df : DataFrame
        A chunk holding ``value`` (text as reported, or numbers) and the ``by`` columns.
    value : str
    by : str or list of str
        Grouping columns (region, year, vendor …).
    scale : int
        Decimals of the unit the sums are kept in (2: cents).

    Notes
    -----
    A value is read at its reported precision (:func:`detect.digits.extract.extract`):
    ``units = sign * rint(|x| * 10^scale)``. This is exact when the value has at most ``scale``
    decimals and at most 15 significant digits and ``|x| * 10^scale < 2^53``; otherwise the value is
    rounded to the unit and counted in ``n_inexact``.
    """
    by = [by] if isinstance(by, str) else list(by)
    if not 0 <= int(scale) <= 15:
        raise ValueError(f"scale must be between 0 and 15 decimals; got {scale!r}")
    scale = int(scale)
    if len(df) == 0:
        return GroupAggregates(tuple(by), scale)
    d = extract(_values(df[value]), trailing=True)
    ok = d.valid
    mag = np.where(ok, d.magnitude, 0.0)
    scaled = mag * (10.0 ** scale) if scale <= 22 else mag
    units_f = np.rint(scaled)
    sig = d.exponent.astype(np.int64) + d.decimals.astype(np.int64) + 1
    inexact = ok & ((d.decimals > scale) | (sig > 15) | (units_f >= _EXACT_INT))
    big = units_f >= 9.0e18
    if big.any():
        raise InputError(f"{value}: amounts of {mag[big].max():.3g} are too large to sum in units of 10^-{scale}")
    units = units_f.astype(np.int64) * d.sign.astype(np.int64)
    gid, uniq = _group_ids(df, by)
    k = len(uniq)
    n = np.bincount(gid, weights=ok, minlength=k).astype(np.int64)
    miss = np.bincount(gid, weights=~ok, minlength=k).astype(np.int64)
    inx = np.bincount(gid, weights=inexact, minlength=k).astype(np.int64)
    sums = _int_sums(gid, units, k)
    groups = {uniq[i]: [int(n[i]), int(miss[i]), sums[i], int(inx[i])] for i in range(k)}
    return GroupAggregates(tuple(by), scale, groups)


def aggregate_file(path: str | Path, value: str, by: str | list[str], *, scale: int = 2,
                   chunk_rows: int = CHUNK_ROWS) -> GroupAggregates:
    """:func:`aggregate_frame` of a whole file, chunk by chunk (memory: one chunk plus the groups)."""
    by_l = [by] if isinstance(by, str) else list(by)
    parts = [aggregate_frame(df, value, by_l, scale=scale) for df in iter_frames(path, [value, *by_l], chunk_rows)]
    return reduce_counts(parts) if parts else GroupAggregates(tuple(by_l), scale)


# --- value counts (number duplication test) --------------------------------------------------------

@dataclass
class ValueCounts:
    """How often each amount occurs (by magnitude, selected as :func:`detect.digits.api.duplicates`
    selects), additive over chunks.

    Memory grows with the number of *distinct* amounts, not of records. ``top(k)`` gives the
    duplication test's most frequent values in the order of
    :func:`detect.digits.api.duplicates` (count descending, then value).
    """

    counts: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))

    def __add__(self, other: "ValueCounts") -> "ValueCounts":
        s = self.counts.add(other.counts, fill_value=0).astype("int64")
        return ValueCounts(s)

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def top(self, k: int = 10) -> pd.DataFrame:
        """``value, count`` of the ``k`` most frequent values."""
        vc = pd.DataFrame({"value": self.counts.index.to_numpy(np.float64), "count": self.counts.to_numpy(np.int64)})
        return vc.sort_values(["count", "value"], ascending=[False, True], kind="mergesort").head(k) \
                 .reset_index(drop=True)


def value_counts_array(values, *, min_value: float | None = None, sign: Sign = "positive") -> ValueCounts:
    """:class:`ValueCounts` of one chunk, selected and counted as :func:`detect.digits.api.duplicates`:
    positives by default, ``"negative"`` the negatives, ``"absolute"`` both signs pooled by magnitude
    (a 50.00 payment and a -50.00 credit are one amount, R benford.analysis' ``sign = "both"``)."""
    d, keep = select_magnitudes(values, min_value, sign)
    return ValueCounts(pd.Series(d.magnitude[keep]).value_counts(sort=False).astype("int64"))


def value_counts_file(path: str | Path, column: str, *, min_value: float | None = None, sign: Sign = "positive",
                      chunk_rows: int = CHUNK_ROWS) -> ValueCounts:
    """:class:`ValueCounts` of a file's column, chunk by chunk."""
    parts = [value_counts_array(_values(df[column]), min_value=min_value, sign=sign)
             for df in iter_frames(path, [column], chunk_rows)]
    return reduce_counts(parts) if parts else ValueCounts()


__all__ = ["GroupAggregates", "ValueCounts", "aggregate_file", "aggregate_frame", "iter_frames", "reduce_counts",
           "stream_counts", "value_counts_array", "value_counts_file"]
