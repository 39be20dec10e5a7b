"""Chunked reading: counts per chunk add up to the in-memory counts; bounded memory; bad input."""

from __future__ import annotations

import tracemalloc
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from detect.digits import benford
from detect.digits.io import count_file, file_format, iter_column
from detect.exceptions import InputError


@pytest.fixture
def amounts():
    rng = np.random.default_rng(8)
    return np.round(10 ** rng.uniform(0, 6, 5000), 2)


def test_csv_in_chunks_equals_in_memory(tmp_path, amounts):
    text = [f"{v:.2f}" for v in amounts]
    path = tmp_path / "a.csv"
    pd.DataFrame({"amt": text, "g": np.arange(5000) % 3}).to_csv(path, index=False)
    total = count_file(path, "amt", "first-two", chunk_rows=700)
    ref = benford(pd.Series(text), "first-two")
    np.testing.assert_array_equal(total.counts, ref.counts.counts)
    # last digits at the reported precision survive the CSV (read as text): 12.30 ends in 0
    last = count_file(path, "amt", "last", chunk_rows=999, min_sig=3)
    assert last.counts[0] > 0 and last.counts.sum() == benford(pd.Series(text), "last").n
    groups = count_file(path, "amt", "first", group_by="g", chunk_rows=1234)
    assert sorted(groups) == ["0", "1", "2"]
    assert sum(dc.n for dc in groups.values()) == benford(amounts, "first").n


def test_parquet_float_decimal_and_text(tmp_path, amounts):
    path = tmp_path / "a.parquet"
    dec = pa.array([Decimal(f"{v:.2f}") for v in amounts], type=pa.decimal128(12, 2))
    pq.write_table(pa.table({"f": amounts, "d": dec, "s": [f"{v:.2f}" for v in amounts]}), path, row_group_size=1000)
    f = count_file(path, "f", "first-two", chunk_rows=512)
    d = count_file(path, "d", "first-two", chunk_rows=512)
    s = count_file(path, "s", "first-two", chunk_rows=512)
    np.testing.assert_array_equal(f.counts, d.counts)
    np.testing.assert_array_equal(f.counts, s.counts)
    # decimals are read as text: trailing zeros kept for the last-digit test
    chunk, _ = next(iter_column(path, "d", chunk_rows=10))
    assert all(isinstance(v, str) for v in chunk) and any(v.endswith("0") for v in chunk)


def test_excel(tmp_path, amounts):
    path = tmp_path / "a.xlsx"
    pd.DataFrame({"amt": amounts[:300]}).to_excel(path, index=False)
    assert count_file(path, "amt", "first").n == 300


def test_excel_every_sheet_with_the_column_or_one_named_sheet(tmp_path, amounts):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"amt": amounts[:300]}).to_excel(w, sheet_name="2021", index=False)
        pd.DataFrame({"note": ["cover"]}).to_excel(w, sheet_name="说明", index=False)
        pd.DataFrame({"amt": amounts[300:500]}).to_excel(w, sheet_name="2022", index=False)
    notes: list[str] = []
    assert count_file(path, "amt", "first", notes=notes).n == 500
    assert any("'说明' skipped" in n for n in notes) and any("2 sheets read" in n for n in notes)
    assert count_file(path, "amt", "first", sheet="2022").n == 200
    with pytest.raises(InputError, match="no sheet 'x'; sheets are: '2021', '说明', '2022'"):
        count_file(path, "amt", "first", sheet="x")
    with pytest.raises(InputError, match="no sheet has column"):
        count_file(path, "missing", "first")
    with pytest.raises(InputError, match="Excel files only"):
        count_file(tmp_path / "a.csv" if (tmp_path / "a.csv").write_text("amt\n1\n") else None, "amt", "first",
                   sheet="2021")


def test_parquet_memory_is_bounded_by_the_chunk(tmp_path):
    """2 million amounts (16 MB of floats) counted in 100k-row batches: peak allocation stays far
    below the data size (benchmarks/digits.py measures 10^8 amounts)."""
    path = tmp_path / "big.parquet"
    x = np.round(10 ** np.random.default_rng(1).uniform(0, 6, 2_000_000), 2)
    pq.write_table(pa.table({"amount": x}), path, row_group_size=100_000)
    del x
    tracemalloc.start()
    dc = count_file(path, "amount", "first-two", chunk_rows=100_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert dc.n == 2_000_000
    assert peak < 12e6


@pytest.mark.parametrize("name, msg", [("x.doc", "unknown file type"), ("missing.csv", "not found")])
def test_bad_files(tmp_path, name, msg):
    p = tmp_path / name
    if name.endswith(".doc"):
        p.write_text("x")
    with pytest.raises(InputError, match=msg):
        count_file(p, "a", "first")


def test_missing_column_lists_columns(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("amount,vendor\n1,2\n")
    with pytest.raises(InputError, match="columns are: amount, vendor"):
        count_file(p, "amt", "first")


def test_broken_parquet(tmp_path):
    p = tmp_path / "a.parquet"
    p.write_bytes(b"not parquet")
    with pytest.raises(InputError, match="Parquet"):
        count_file(p, "a", "first")


def test_file_format():
    assert file_format("a.csv.gz") == "csv" and file_format("b.XLSX") == "excel" and file_format("c.pq") == "parquet"
