"""Dask engine: per-partition summaries on the workers, one reduction, statistics once on the client.

``detect benford PATH --column C --engine dask [--scheduler ADDRESS]``

1. ``dask.dataframe.read_csv`` (``dtype=str``: the amounts stay text as reported, so digit
   extraction is exact) or ``dask.dataframe.read_parquet`` (numbers as float64, decimals and text as
   text, like :mod:`detect.digits.io`) cut the file into partitions (CSV byte blocks, Parquet row
   groups); nothing is shuffled.
2. Each partition becomes a :class:`detect.digits.counts.DigitCounts` (or ``{group: DigitCounts}``,
   :class:`detect.scale.streaming.GroupAggregates`, :class:`detect.scale.streaming.ValueCounts`) on
   the worker that read it: the same functions as the in-memory and streaming paths.
3. The summaries are added in a binary tree of tasks (exact integer additions, associative, so the
   tree shape and the order the workers finish in do not matter); only count vectors cross the
   network.
4. The client computes the statistics once from the total (:class:`detect.digits.result.BenfordResult`).

``detect run PATHS --engine dask``: see :func:`load` — the input files are parsed into the loader's
records and validated on the workers (record by record, then by region after a shuffle on
``region_code``), and each region's last digits are counted there for the ``digits`` detector; the
client decides the panel-wide rules from reduced counts, gathers the validated panel (one row per
figure) and screens it in memory.

Cluster: with no ``scheduler`` a ``distributed.LocalCluster`` of 2 worker processes with one thread
each is started and closed by the command; with ``scheduler="tcp://host:8786"`` the existing
cluster is used (the file path must then be readable by the workers: a shared file system or an
``s3://`` / ``gs://`` URL that Dask understands). Dask is an optional extra:
``pip install 'detect[dask]'``; it is imported only when this engine is used.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from detect.digits.counts import DigitCounts, Sign, count_digits, count_digits_by_group
from detect.digits.io import (PLAIN, STRAY, csv_error, csv_format, csv_layout, extra_fields_refused, file_format,
                              more_fields_error)
from detect.exceptions import InputError, UsageError
from detect.scale.streaming import (GroupAggregates, ValueCounts, aggregate_frame, reduce_counts,
                                    value_counts_array)

#: CSV bytes per partition (about 2-4 million amounts of a typical ledger line).
BLOCKSIZE = 64 * 2 ** 20
#: CSV bytes per partition for ``detect run``: a panel line becomes a record of a dozen text fields
#: (about 30 times its bytes in memory), and smaller blocks spread a single file over the workers.
RUN_BLOCKSIZE = 16 * 2 ** 20
_MISSING_DASK = ("the dask engine needs Dask and distributed, which are not installed: "
                 "pip install 'detect[dask]' (or use --engine memory / stream)")


def _import_dask():
    try:
        import dask  # noqa: F401
        import dask.dataframe as dd
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(_MISSING_DASK) from None
    return dd


@contextlib.contextmanager
def cluster(scheduler: str | None = None, *, n_workers: int = 2, processes: bool = True) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` when given, else to a local cluster started here.

    The local cluster has ``n_workers`` workers with one thread each, no dashboard, and is closed on
    exit. A scheduler that cannot be reached gives a UsageError naming it.
    """
    _import_dask()
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    # The workers' statistical profiler samples every thread with sys._current_frames(); on CPython
    # 3.11 that can deadlock with the garbage collector (python/cpython#106883, dask/distributed#8616),
    # and it did: a test cluster hung for good in one CI run. The profile is not used here.
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes, dashboard_address=None,
                         silence_logs=logging.ERROR) as lc, \
            Client(lc) as client:
        yield client


def _is_url(path: str | Path) -> bool:
    return "://" in str(path)


def _csv_options(p: Path) -> dict:
    """Separator, encoding, header and layout of a local CSV file as :mod:`detect.digits.io` reads it."""
    sep, enc, cols = csv_format(p)
    if enc == "utf-16":
        raise InputError(f"{p.name}: UTF-16 text cannot be cut into Dask blocks; use --engine stream, or save "
                         "the file as UTF-8")
    return {"sep": sep, "encoding": enc, "columns": cols, "layout": csv_layout(p, sep, enc, len(cols))}


def _check_columns(name: str, have: list[str], want: list[str]) -> None:
    missing = [c for c in want if c not in have]
    if missing:
        shown = ", ".join(map(str, have[:30])) + (" …" if len(have) > 30 else "")
        raise InputError(f"{name}: no column {', '.join(map(repr, missing))}; columns are: {shown}")


def read_frame(path: str | Path, columns: list[str], *, blocksize: int | None = BLOCKSIZE):
    """A Dask DataFrame of ``columns`` of a CSV, Parquet or Excel file (lazy; nothing is read yet).

    CSV is read as text (``dtype=str``, empty cells stay empty strings); a compressed CSV is one
    partition (gzip cannot be split). Parquet keeps its types (numbers are counted as floats, like
    the in-memory reader; decimals and strings as text), one partition per row group or group of
    row groups. Excel is read in memory and handed to Dask as one partition (a sheet holds at most
    about a million rows).
    """
    dd = _import_dask()
    cols = list(dict.fromkeys(columns))
    name = Path(str(path)).name
    if not _is_url(path) and not Path(path).is_file():
        raise InputError(f"input file not found: {path}")
    fmt = file_format(path)
    if fmt == "csv":
        opts = {"sep": "\t" if ".tsv" in [s.lower() for s in Path(str(path)).suffixes] else ",", "encoding": "utf-8-sig"}
        layout = PLAIN
        if not _is_url(path):
            opts = _csv_options(Path(path))
            header = opts.pop("columns")
            _check_columns(name, header, cols)
            layout = opts.pop("layout")
            if layout == STRAY:
                raise more_fields_error(name, header)
        compressed = Path(str(path)).suffix.lower() in (".gz", ".zip", ".bz2", ".xz")
        # every column is parsed, then projected inside the partitions (which Dask cannot push down
        # into usecols): with usecols pandas stops checking the field count, and a row split by an
        # unquoted thousands separator would give a shifted field as the amount (as detect.digits.io)
        try:    # Dask parses a first block here to learn the columns
            ddf = dd.read_csv(str(path), dtype=str, keep_default_na=False, na_filter=False,
                              blocksize=None if compressed else blocksize, **opts)
        except pd.errors.ParserError as exc:
            raise csv_error(name, exc) from None
        meta = pd.DataFrame({c: pd.Series(dtype=ddf.dtypes[c]) for c in cols})
        several = ddf.npartitions > 1
        return ddf.map_partitions(lambda d: extra_fields_refused(d, name, layout, several)[cols], meta=meta)
    if fmt == "parquet":
        if not _is_url(path):
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                names = list(pq.ParquetFile(path).schema_arrow.names)
            except (pa.ArrowInvalid, OSError) as exc:
                raise InputError(f"{name}: cannot read as Parquet: {exc}") from None
            _check_columns(name, names, cols)
        return dd.read_parquet(str(path), columns=cols, split_row_groups=True)
    from detect.scale.streaming import iter_frames

    df = next(iter_frames(path, cols))
    return dd.from_pandas(df, npartitions=1)


# --- per-partition work (runs on the workers) --------------------------------------------------------

def _part_values(df: pd.DataFrame, column: str) -> np.ndarray:
    """The amounts of a partition as the in-memory reader gives them: float64 or text."""
    s = df[column]
    if s.dtype.kind in "fiu" and not isinstance(s.dtype, pd.ArrowDtype):
        return s.to_numpy(np.float64)
    if isinstance(s.dtype, pd.StringDtype):
        return s.astype(object).where(s.notna(), None).to_numpy(dtype=object)
    if isinstance(s.dtype, pd.ArrowDtype):      # e.g. decimal128: Arrow's own text, as detect.digits.io
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.chunked_array(s.array._pa_array)
        if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type):
            return s.to_numpy(np.float64, na_value=np.nan)
        return np.asarray(pc.cast(arr, pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    return np.asarray([None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else
                       (v if isinstance(v, str) else str(v)) for v in s.to_numpy(dtype=object)], dtype=object)


def _part_groups(df: pd.DataFrame, column: str) -> np.ndarray:
    s = df[column]
    return s.astype(object).where(s.notna(), None).to_numpy(dtype=object)


_SCALARS = ("n_in", "n_invalid", "n_zero", "n_sign", "n_below_min", "n_short")


@dataclass
class PackedGroups:
    """``{group: DigitCounts}`` packed for the network: one count matrix and a sparse magnitude histogram.

    Packed, a partition ships one array per field instead of one pickled object per group (a ledger
    with 26,000 vendors): the counts (groups x digit groups), six exclusion counts per group and
    the non-zero magnitude-histogram bins. Adds exactly with ``+``.
    """

    test: str
    labels: np.ndarray            # sorted unique group labels (str)
    counts: np.ndarray            # (groups, digit groups) int64
    scalars: np.ndarray           # (groups, 6) int64, in the order of _SCALARS
    hist: np.ndarray              # (non-zero bins, 3) int64: group index, bin, count

    @classmethod
    def pack(cls, test: str, groups: dict[str, DigitCounts]) -> "PackedGroups":
        labels = np.array(sorted(groups), dtype=object)
        k = len(DigitCounts.empty(test).counts)
        counts = np.zeros((len(labels), k), np.int64)
        scalars = np.zeros((len(labels), len(_SCALARS)), np.int64)
        hist = []
        for i, lab in enumerate(labels):
            dc = groups[lab]
            counts[i] = dc.counts
            scalars[i] = [getattr(dc, a) for a in _SCALARS]
            hist.append(np.column_stack([np.full(len(dc.mag_bins), i), dc.mag_bins, dc.mag_counts]))
        h = np.concatenate(hist).astype(np.int64) if hist else np.zeros((0, 3), np.int64)
        return cls(test, labels, counts, scalars, h)

    def __add__(self, other: "PackedGroups") -> "PackedGroups":
        if other.test != self.test:
            raise ValueError(f"cannot add counts of test {other.test!r} to {self.test!r}")
        labels = np.array(sorted(set(self.labels) | set(other.labels)), dtype=object)
        pos = {lab: i for i, lab in enumerate(labels)}
        counts = np.zeros((len(labels), self.counts.shape[1]), np.int64)
        scalars = np.zeros((len(labels), len(_SCALARS)), np.int64)
        hists = []
        for part in (self, other):
            idx = np.array([pos[lab] for lab in part.labels], dtype=np.int64)
            if len(idx):
                counts[idx] += part.counts
                scalars[idx] += part.scalars
                h = part.hist.copy()
                h[:, 0] = idx[h[:, 0]] if len(h) else h[:, 0]
                hists.append(h)
        h = np.concatenate(hists) if hists else np.zeros((0, 3), np.int64)
        if len(h):
            key = h[:, 0] * (1 << 20) + h[:, 1]
            uk, inv = np.unique(key, return_inverse=True)
            sums = np.zeros(len(uk), np.int64)
            np.add.at(sums, inv.ravel(), h[:, 2])          # integer: exact
            h = np.column_stack([uk >> 20, uk & ((1 << 20) - 1), sums])
        return PackedGroups(self.test, labels, counts, scalars, h.astype(np.int64))

    def unpack(self) -> dict[str, DigitCounts]:
        out = {}
        order = np.argsort(self.hist[:, 0], kind="stable") if len(self.hist) else np.zeros(0, np.int64)
        h = self.hist[order]
        bounds = np.searchsorted(h[:, 0], np.arange(len(self.labels) + 1)) if len(h) else \
            np.zeros(len(self.labels) + 1, np.int64)
        for i, lab in enumerate(self.labels):
            part = h[bounds[i]:bounds[i + 1]]
            order_b = np.argsort(part[:, 1], kind="stable")
            out[str(lab)] = DigitCounts(self.test, self.counts[i].copy(), *map(int, self.scalars[i]),
                                        mag_bins=part[order_b, 1].copy(), mag_counts=part[order_b, 2].copy())
        return out


def _count_partition(df: pd.DataFrame, column: str, test: str, group_by: str | None, kw: dict):
    vals = _part_values(df, column)
    if group_by is None:
        return count_digits(vals, test, **kw)[1] if len(vals) else DigitCounts.empty(test)
    if not len(vals):
        return PackedGroups.pack(test, {})
    return PackedGroups.pack(test, count_digits_by_group(vals, _part_groups(df, group_by), test, **kw))


def _add(a, b):
    return reduce_counts([a, b])


def _tree_reduce(parts: list, add: Callable) -> Any:
    """Pairwise reduction of delayed objects (depth log2 of the number of partitions)."""
    from dask import delayed

    add_d = delayed(add, pure=True)
    while len(parts) > 1:
        parts = [add_d(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def _map_reduce(ddf, fn: Callable, empty: Any, client, name: str = "input") -> Any:
    from dask import delayed

    parts = [delayed(fn, pure=True)(p) for p in ddf.to_delayed()]
    if not parts:
        return empty
    total = _tree_reduce(parts, _add)
    try:
        return client.compute(total).result()
    except pd.errors.ParserError as exc:
        err = csv_error(name, exc)
        if ddf.npartitions == 1:
            raise err from None
        raise InputError(f"{err} (the line is counted from the start of one Dask block, not of the file; "
                         "--engine stream names the file's line)") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read the input: {type(exc).__name__}: {exc}") from None


# --- public entry points ---------------------------------------------------------------------------

def dask_counts(path: str | Path, column: str, test: str, *, min_value: float | None = None,
                sign: Sign = "positive", group_by: str | None = None, extraction: str = "exact",
                min_sig: int = 0, client=None, scheduler: str | None = None,
                blocksize: int | None = BLOCKSIZE) -> DigitCounts | dict[str, DigitCounts]:
    """Digit counts of a file's column computed partition-wise on a Dask cluster.

    Same parameters and result as :func:`detect.digits.io.count_file`, plus ``client`` (an open
    ``distributed.Client``) or ``scheduler`` (its address; neither: a local cluster of 2 workers
    for this call) and ``blocksize`` (CSV bytes per partition).
    """
    ddf = read_frame(path, [column] + ([group_by] if group_by and group_by != column else []), blocksize=blocksize)
    kw = dict(min_value=min_value, sign=sign, extraction=extraction, min_sig=min_sig)

    def fn(df):
        return _count_partition(df, column, test, group_by, kw)

    empty = DigitCounts.empty(test) if group_by is None else PackedGroups.pack(test, {})
    name = Path(str(path)).name
    if client is not None:
        total = _map_reduce(ddf, fn, empty, client, name)
    else:
        with cluster(scheduler) as c:
            total = _map_reduce(ddf, fn, empty, c, name)
    return total.unpack() if isinstance(total, PackedGroups) else total


def dask_aggregates(path: str | Path, value: str, by: str | list[str], *, scale: int = 2, client=None,
                    scheduler: str | None = None, blocksize: int | None = BLOCKSIZE) -> GroupAggregates:
    """Per-group count, missing count and exact sum (:func:`detect.scale.streaming.aggregate_frame`)
    computed partition-wise on a Dask cluster."""
    by_l = [by] if isinstance(by, str) else list(by)
    ddf = read_frame(path, [value, *by_l], blocksize=blocksize)

    def fn(df):
        df = df.assign(**{value: _part_values(df, value)})
        return aggregate_frame(df, value, by_l, scale=scale)

    empty = GroupAggregates(tuple(by_l), scale)
    if client is not None:
        return _map_reduce(ddf, fn, empty, client, Path(str(path)).name)
    with cluster(scheduler) as c:
        return _map_reduce(ddf, fn, empty, c, Path(str(path)).name)


def dask_value_counts(path: str | Path, column: str, *, min_value: float | None = None, sign: Sign = "positive",
                      client=None, scheduler: str | None = None, blocksize: int | None = BLOCKSIZE) -> ValueCounts:
    """Value counts behind the number duplication test, computed partition-wise on a Dask cluster."""
    ddf = read_frame(path, [column], blocksize=blocksize)

    def fn(df):
        return value_counts_array(_part_values(df, column), min_value=min_value, sign=sign)

    if client is not None:
        return _map_reduce(ddf, fn, ValueCounts(), client, Path(str(path)).name)
    with cluster(scheduler) as c:
        return _map_reduce(ddf, fn, ValueCounts(), c, Path(str(path)).name)


__all__ = ["BLOCKSIZE", "cluster", "dask_aggregates", "dask_counts", "dask_value_counts", "read_frame"]


# --- detect run: the loader's records, partition-wise ----------------------------------------------

_HEAD_BYTES = 1 << 20


def _head_text(p: Path) -> tuple[str, str] | None:
    """The first whole lines (about 1 MB) of a CSV file decoded as the loader decodes it, and the
    encoding; None when the loader itself should handle the file (empty, binary, undecodable: it
    raises its own error)."""
    import gzip

    from detect.data.load import _decode

    if p.stat().st_size == 0:
        return None
    with (gzip.open(p, "rb") if p.suffix == ".gz" else open(p, "rb")) as fh:
        data = fh.read(_HEAD_BYTES)
    if b"\x00" in data[:65536]:
        return None
    if len(data) == _HEAD_BYTES and b"\n" in data:
        data = data[:data.rindex(b"\n") + 1]
    from detect.data.load import mostly_utf8

    if mostly_utf8(data) is not None:   # UTF-8 with damaged bytes: the loader reads it and excludes those rows
        return None
    try:
        return _decode(data, str(p))
    except InputError:
        return None


def _sniff_sep(text: str) -> str:
    import csv

    try:   # as detect.data.load._read_csv_text
        return csv.Sniffer().sniff(text[:20000], delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _column_counts(raw: pd.DataFrame, skip: int) -> dict[int, list[int]]:
    """``{column: [cells that are not numbers, cells present]}`` of a raw partition's body."""
    from detect.data.load import parse_values

    body = raw.iloc[skip:]
    out = {}
    for j in body.columns:
        _, _, missing, bad = parse_values(body[j].astype(str))
        out[int(j)] = [int(bad.sum()), int((~missing).sum())]
    return out


def _partition_records(raw: pd.DataFrame, skip: int, header: list[str], label: str,
                       indicator_columns: set[str] | None) -> tuple[pd.DataFrame, pd.DataFrame, dict, int]:
    """Records of one raw partition (header row prepended; rows numbered from 2), its exclusions
    (empty rows), the layout information and the number of body rows."""
    from detect.data.load import _Excl, _records

    body = raw.iloc[skip:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    width = max(len(header), body.shape[1])
    table = pd.concat([pd.DataFrame([header + [""] * (width - len(header))], columns=range(width)), body],
                      ignore_index=True)
    excl = _Excl()
    rec, info = _records(table, label, excl, indicator_columns)
    return rec, excl.frame(), info, len(body)


def _surplus_fields(ncol: int, fields: list[str]) -> list[str]:
    """A row with more than ``ncol`` fields, folded into ``ncol`` (the surplus joined in the last)."""
    return fields[:ncol - 1] + [" ".join(fields[ncol - 1:])]


def _raw_partitions(p: Path, dd, blocksize: int | None):
    """(dask DataFrame of raw string cells with integer column labels, header row index, header cells, format,
    rows of the first partition before the body: preamble and header of a CSV, none for Parquet)."""
    from detect.data.load import _cell_text, _find_header, _read_csv_text, _records, _Excl

    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        import pyarrow.parquet as pq

        names = [str(c) for c in pq.ParquetFile(p).schema_arrow.names]
        ddf = dd.read_parquet(str(p), split_row_groups=True)

        def cells(df):
            out = df.astype(object).where(df.notna(), "").map(_cell_text)
            out.columns = range(out.shape[1])
            return out

        head = pd.DataFrame([names])
        hdr = _find_header(head)
        if hdr is None:
            _records(head, str(p), _Excl())   # raises the loader's message
        meta = pd.DataFrame({j: pd.Series(dtype=object) for j in range(len(names))})
        return ddf.map_partitions(cells, meta=meta), 0, names, "parquet", 0
    head_text = _head_text(p)
    if head_text is None:
        return None
    text, enc = head_text
    head = _read_csv_text(text, str(p)).fillna("")
    hdr = _find_header(head)
    if hdr is None:
        _records(head, str(p), _Excl())       # raises the loader's message
    from detect.data.load import _preamble_indicator

    if _preamble_indicator(head.iloc[:hdr]):   # indicator named in a title line (NBS download): read in memory
        return None
    # one column beyond the head's width: a row with more fields than the header (an unquoted 1,234.5
    # far down the file) lands its surplus there, folded by _surplus_fields when wider still, and the
    # loader's _records excludes it with the reason, as in memory (it stopped the whole run, exit 3)
    ncol = head.shape[1] + 1
    compressed = p.suffix.lower() in (".gz", ".bz2", ".xz", ".zip")
    ddf = dd.read_csv(str(p), sep=_sniff_sep(text), header=None, names=list(range(ncol)), dtype=str,
                      keep_default_na=False, skip_blank_lines=False, engine="python", encoding=enc,
                      on_bad_lines=partial(_surplus_fields, ncol), blocksize=None if compressed else blocksize)
    ddf = ddf.map_partitions(lambda df: df.astype(object).where(df.notna(), ""),
                             meta=pd.DataFrame({j: pd.Series(dtype=object) for j in range(ncol)}))
    from detect.data.load import header_with_units, units_row

    header, units = [str(c).strip() for c in head.iloc[hdr].tolist()], units_row(head, hdr)
    if units:   # a units row under the header: part of the header (as the in-memory loader reads it)
        header = header_with_units(header, units)
    return ddf, hdr, header, f"csv ({enc})", hdr + 1 + (1 if units else 0)


def _dask_table(p: Path, client, dd, blocksize: int | None):
    """Records of one file, parsed partition-wise and kept on the workers: (persisted record
    partitions with their spreadsheet row numbers, records per partition, exclusion frames, table
    info, format, number of columns), or None when the file is not read partition-wise (Excel, or a file the loader
    must reject)."""
    from dask import delayed

    from detect.data.load import _is_indicator_column

    got = _raw_partitions(p, dd, blocksize)
    if got is None:
        return None
    ddf, hdr, header, fmt, skip0 = got
    label = str(p)
    parts = ddf.to_delayed()
    skips = [skip0 if i == 0 else 0 for i in range(len(parts))]
    probe = _partition_records(pd.DataFrame(columns=range(len(header))), 0, header, label, None)[2]
    ind = None
    if probe.get("layout") == "wide by indicator":   # which columns hold indicators: counted over the file
        counts = client.compute([delayed(_column_counts, pure=True)(part, s) for part, s in zip(parts, skips)],
                                sync=True)
        tot: dict[int, list[int]] = {}
        for c in counts:
            for j, v in c.items():
                tot[j] = [a + b for a, b in zip(tot.get(j, [0, 0]), v)]
        ind = {header[j] for j, (bad, present) in tot.items() if j < len(header) and header[j]
               and _is_indicator_column(header[j], bad, present)}
    parsed = client.persist([delayed(_partition_records, pure=True)(part, s, header, label, ind)
                             for part, s in zip(parts, skips)])
    small = client.compute([delayed(_parsed_summary, pure=True)(x) for x in parsed], sync=True)
    recs, sizes, excls = [], [], []
    offset = max(hdr, skip0 - 1)   # body row i of partition k is spreadsheet row offset + 2 + (rows before k) + i
    empty = physical = 0
    for x, (ex, info, nbody, nrec) in zip(parsed, small):
        recs.append(delayed(_offset_rows, pure=True)(x, offset))
        sizes.append(nrec)
        if len(ex):
            excls.append(ex.assign(row=ex["row"] + offset))
        offset += nbody
        physical += nbody
        empty += info.get("empty_rows", 0)
    info = dict(small[0][1]) if small else dict(probe)
    info.update({"header_row": hdr + 1, "preamble_rows": hdr, "physical_rows": physical, "empty_rows": empty,
                 "records": int(sum(sizes))})
    for key in ("overflow_rows", "undecodable_rows"):   # row faults counted per partition, summed
        total = sum(int(x[1].get(key, 0)) for x in small)
        info.pop(key, None)
        if total:
            info[key] = total
    if skip0 > hdr + 1:
        info["units_row"] = hdr + 2
    return recs, sizes, excls, info, fmt, len(header)


def _parsed_summary(x: tuple) -> tuple[pd.DataFrame, dict, int, int]:
    """What the client needs of a parsed partition: its exclusions, layout, body rows and records."""
    rec, ex, info, nbody = x
    return ex, info, nbody, len(rec)


def _offset_rows(x: tuple, offset: int) -> pd.DataFrame:
    rec = x[0]
    return rec.assign(row=rec["row"] + offset)


# --- detect run: validation and the digit counts by region on the workers --------------------------

def _normalise_part(rec: pd.DataFrame, source: str, base: int, height: int
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Map step 1 (any partition): the record-by-record validation, numbered in the in-memory
    loader's order (:func:`detect.data.load.record_order`).

    Returns the kept records, the exclusions and the unit counts of unknown indicators."""
    from detect.data.load import _Excl, normalise_records, record_order, unknown_unit_counts

    excl = _Excl()
    rec = rec.assign(source=source, _seq=record_order(rec, base, height))
    out = normalise_records(rec, excl)
    return out, excl.frame(), unknown_unit_counts(out)


def _consolidate_part(rec: pd.DataFrame, modes: dict, config, option) -> tuple:
    """Map step 2 (whole regions, after the shuffle): duplicates, names, one-point series; then
    each figure's last digit at its series' precision. Returns (panel rows, exclusions, digit
    table, figures too short, structural counts)."""
    from detect.data.load import _Excl, consolidate_records
    from detect.data.panel import Panel
    from detect.digits.detector import figure_digits, structural_counts

    excl = _Excl()
    rows = consolidate_records(rec, excl, modes) if len(rec) else Panel.empty().data
    if config is None:
        return rows, excl.frame(), None, 0, None
    t, n_short = figure_digits(Panel(rows), config, option)
    return rows, excl.frame(), t, n_short, structural_counts(t)


def _digit_counts_part(x: tuple, structural: set) -> pd.DataFrame:
    """Map step 3: region-year last-digit counts without the panel-wide structural zeros."""
    from detect.digits.detector import region_year_counts, without_structural

    return region_year_counts(without_structural(x[2], structural))


def _item(x: tuple, i: int):
    return x[i]


def _items(x: tuple, *i: int) -> tuple:
    """The small parts of a partition's result, for the client (the large ones stay on the worker)."""
    return tuple(x[k] for k in i)


def _no_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.iloc[:0]


def _validate_on_workers(client, dd, parts: list, config, option):
    """Validate record partitions on the workers: (panel rows, exclusion frames, LastDigitCounts or None).

    1. each partition: :func:`detect.data.load.normalise_records`; only the unknown indicators'
       unit counts (and the exclusions) go to the client, which decides each one's unit;
    2. the records are shuffled by ``region_code`` (``dask.dataframe`` ``shuffle``), so that each
       partition holds whole regions; each: :func:`detect.data.load.consolidate_records` and the
       last digit of each figure at its series' precision;
    3. figures per (indicator, precision) ending in 0 are summed on the client (the structural
       zeros are a panel-wide rule); each partition counts its regions' last digits without them;
    4. the client gathers the panel rows (one per figure, sorted) and the counts.
    """
    import dask
    from dask import delayed

    from detect.data.load import unit_modes
    from detect.digits.detector import (LastDigitCounts, count_key, digit_notes, region_year_counts,
                                        structural_keys)

    normed = client.persist(parts)
    parts.clear()     # the parsed partitions are released once their normalised records exist
    small = client.compute([delayed(_items, pure=True)(x, 1, 2) for x in normed], sync=True)
    excls = [ex for ex, _ in small if len(ex)]
    units = [u for _, u in small if len(u)]
    modes = unit_modes(pd.concat(units) if units else pd.Series(dtype="int64"))
    recs = [delayed(_item, pure=True)(x, 0) for x in normed]
    with dask.config.set({"dataframe.convert-string": False}):
        meta = client.compute(delayed(_no_rows, pure=True)(recs[0]), sync=True)
        ddf = dd.from_delayed(recs, meta=meta, verify_meta=False)
        by_region = ddf.shuffle(on="region_code", npartitions=max(1, len(recs))).to_delayed()
    cons = client.persist([delayed(_consolidate_part, pure=True)(r, modes, config, option) for r in by_region])
    del normed, recs, ddf, by_region     # only the consolidated partitions stay on the workers
    small = client.compute([delayed(_items, pure=True)(x, 1, 3, 4) for x in cons], sync=True)
    excls += [ex for ex, _, _ in small if len(ex)]
    counts = None
    if config is not None:
        sc = [c for _, _, c in small if c is not None and len(c)]
        total = pd.concat(sc).groupby(level=[0, 1]).sum() if sc else pd.DataFrame({"n": [], "zeros": []})
        structural = structural_keys(total, config) if len(total) else set()
        notes = digit_notes(int(sum(n for _, n, _ in small)), structural, total, config)
        parts_c = client.compute([delayed(_digit_counts_part, pure=True)(x, structural) for x in cons],
                                 sync=True)
        parts_c = [c for c in parts_c if len(c)]
        c = (pd.concat(parts_c).sort_index() if parts_c
             else region_year_counts(pd.DataFrame(columns=["region_code", "indicator", "year", "last"])))
        counts = LastDigitCounts(counts=c, notes=tuple(notes), key=count_key(config, option))
    rows = client.compute([delayed(_item, pure=True)(x, 0) for x in cons], sync=True)
    return rows, excls, counts


def load(paths, *, client=None, scheduler: str | None = None, blocksize: int | None = RUN_BLOCKSIZE,
         config=None):
    """:func:`detect.data.load.load` with the files parsed and validated on Dask workers.

    CSV (plain or gzip: one partition) and Parquet files are cut into partitions; each worker turns
    its partition into the loader's long records (one per reported figure, with the spreadsheet row
    number) and counts, for a wide-by-indicator file, the non-numeric cells per column (reduced, so
    the choice of value columns is made over the whole file as the loader makes it). Excel files
    are read on the client and join the other records as partitions. The records are then
    validated on the workers (:func:`_validate_on_workers`: record by record, then shuffled by
    region for duplicates, names and one-point series) and, when ``config`` is given, the last
    digits of each region's figures are counted there for the ``digits`` detector
    (:class:`detect.digits.detector.LastDigitCounts` in ``panel.meta``). The client receives
    exclusions, small counts and the validated panel rows, and returns the same
    :class:`detect.data.load.LoadResult` as the in-memory loader.

    Paths must be local files readable by the client and the workers (their SHA-256 is recorded).

    Parameters
    ----------
    paths : path or list of paths
    client : distributed.Client, optional
        An existing client; otherwise :func:`cluster` (``scheduler`` or a local cluster) is used.
    blocksize : int, optional
        CSV bytes per partition (:data:`RUN_BLOCKSIZE`).
    config : Config, optional
        The run's configuration: the last digits are counted under its settings, unless its
        ``detectors`` leave out ``digits``. Without it, only the panel is built.

    Returns
    -------
    LoadResult
    """
    from dask import delayed

    from detect.data.load import _Excl, _raw_tables, load_result, sha256, table_records
    from detect.data.panel import PANEL_COLUMNS, Panel

    dd = _import_dask()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no input files given")
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file")
        if p.is_dir():
            raise InputError(f"{p}: is a directory, not a data file")
    if config is not None and config.detectors and "digits" not in config.detectors:
        config = None      # the digits detector is not run: nothing to count for it
    option = None if config is None else config.option("digits", "indicators", None)

    def body(c):
        excl = _Excl()
        parts, inputs, sheet_info, errors = [], [], [], []
        base = n_records = n_tables = 0     # records numbered in input order; tables with records
        for p in paths:
            got = None
            with open(p, "rb") as fh:
                magic = fh.read(4)
            if magic not in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
                got = _dask_table(p, c, dd, blocksize)
            if got is not None:
                recs, sizes, excls, info, fmt, width = got
                excl.frames.extend(excls)
                inputs.append({"file": str(p), "sha256": sha256(p), "bytes": p.stat().st_size, "format": fmt})
                sheet_info.append({"table": str(p), **info})
                n_tables += 1
                height = info["header_row"] + info["physical_rows"] + 1
                for r, n in zip(recs, sizes):
                    if n:
                        parts.append(delayed(_normalise_part, pure=True)(r, str(p), base, height))
                        n_records += n
                base += width * height
                continue
            sheets, fmt = _raw_tables(p)          # Excel (or a file the loader rejects: raises here)
            inputs.append({"file": str(p), "sha256": sha256(p), "bytes": p.stat().st_size, "format": fmt})
            for sheet, raw in sheets:
                lab = f"{p}#{sheet}" if sheet != "" and len(sheets) > 1 else str(p)
                rec = table_records(lab, raw, excl, len(sheets) > 1, sheet_info, errors)
                if rec is None:
                    continue
                n_tables += 1
                if len(rec):
                    height = int(rec["row"].max()) + 1
                    parts.append(delayed(_normalise_part, pure=True)(rec, lab, base, height))
                    n_records += len(rec)
                    base += (int(rec["_col"].max()) + 1) * height
        got = recs = None     # hold no reference to the parsed partitions: they are freed once normalised
        if n_tables == 0:     # as detect.data.load.assemble
            raise InputError(errors[0] if errors else "no data: every input table is empty")
        rows_in = n_records + sum(t.get("empty_rows", 0) for t in sheet_info)
        counts = None
        if parts:
            rows, excls, counts = _validate_on_workers(c, dd, parts, config, option)
            excl.frames.extend(excls)
            rows = [r for r in rows if len(r)]
            panel_df = (pd.concat(rows, ignore_index=True)
                        .sort_values(["region_code", "indicator", "period", "vintage"], kind="mergesort")
                        .reset_index(drop=True)[list(PANEL_COLUMNS)] if rows else Panel.empty().data)
        else:
            panel_df = Panel.empty().data
        result = load_result(panel_df, excl, inputs, sheet_info, rows_in)
        if counts is not None:
            result.panel.meta["last_digit_counts"] = replace(counts, data=(id(result.panel.data),
                                                                           len(result.panel.data)))
        return result

    if client is not None:
        return body(client)
    with cluster(scheduler) as c:
        return body(c)


__all__ += ["load"]


def run_loader(engine: str, scheduler: str | None = None, config=None) -> Callable:
    """The loader ``detect run --engine dask [--scheduler ADDRESS]`` passes to :func:`detect.pipeline.run`.

    Raises
    ------
    UsageError
        ``--scheduler`` without ``--engine dask``, or Dask not installed.
    """
    if engine != "dask":
        raise UsageError("--scheduler is for --engine dask")
    _import_dask()

    def _load(paths):
        return load(paths, scheduler=scheduler, config=config)

    return _load


__all__ += ["run_loader"]
