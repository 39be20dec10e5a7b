"""Streaming (detect.scale.streaming): chunked results equal the in-memory path, exact sums, reduce.

Equality is checked against the in-memory functions of issue 3 (count_digits, benford, duplicates)
on the whole column at once, and against the published reference outputs of R benford.analysis for
corporate.payment (the same numbers tests/digits/test_api.py checks in memory). Sums are checked
against Python's decimal arithmetic (an independent exact reference), not against our own output.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _shared_data import shared_file
from detect.digits import BenfordResult, benford, count_digits, count_digits_by_group, duplicates
from detect.digits.counts import DigitCounts
from detect.exceptions import InputError
from detect.scale.streaming import (GroupAggregates, aggregate_file, aggregate_frame, reduce_counts,
                                    stream_counts, value_counts_array, value_counts_file)

STATS = ("n", "mad", "chi2", "chi2_df", "p_value", "ks", "kuiper", "excess_mad", "conformity", "applicable")


def assert_same_counts(a: DigitCounts, b: DigitCounts) -> None:
    assert a.test == b.test
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.magnitude_hist, b.magnitude_hist)
    assert (a.n_in, a.n_invalid, a.n_zero, a.n_sign, a.n_below_min, a.n_short) == \
           (b.n_in, b.n_invalid, b.n_zero, b.n_sign, b.n_below_min, b.n_short)


def assert_same_result(a: BenfordResult, b: BenfordResult) -> None:
    """Every statistic identical (==, not approx: the same counts give the same floats)."""
    for k in STATS:
        assert getattr(a, k) == getattr(b, k), k
    pd.testing.assert_frame_equal(a.table, b.table)


@pytest.fixture(scope="module")
def payments_path(shared_data):
    return shared_file(shared_data, "benford/corporate.payment.csv.gz")


@pytest.fixture(scope="module")
def payments(payments_path):
    return pd.read_csv(payments_path, dtype=str, keep_default_na=False)


# --- reduce ----------------------------------------------------------------------------------------

def test_reduce_is_associative_and_order_free():
    rng = np.random.default_rng(3)
    x = np.round(10 ** rng.uniform(-1, 5, 5000), 2)
    whole = count_digits(x, "first-two", min_value=10)[1]
    parts = [count_digits(c, "first-two", min_value=10)[1] for c in np.array_split(x, 7)]
    for order in (parts, parts[::-1], [parts[3], parts[0], parts[6], parts[1], parts[5], parts[2], parts[4]]):
        assert_same_counts(reduce_counts(order), whole)
    left = reduce_counts([reduce_counts(parts[:2]), reduce_counts(parts[2:])])
    assert_same_counts(left, whole)
    with pytest.raises(ValueError, match="nothing to reduce"):
        reduce_counts([])


def test_reduce_grouped_dicts():
    g = np.array(list("abcab" * 100))
    x = np.arange(1, 501) * 1.37
    whole = count_digits_by_group(x, g, "first")
    parts = [count_digits_by_group(x[i:i + 37], g[i:i + 37], "first") for i in range(0, 500, 37)]
    total = reduce_counts(parts)
    assert sorted(total) == sorted(whole) == ["a", "b", "c"]
    for k in whole:
        assert_same_counts(total[k], whole[k])


# --- digit counts: streaming equals in memory ------------------------------------------------------

@pytest.mark.parametrize(("test", "chunk_rows"), [("first", 1), ("first", 997), ("first-two", 997),
                                                  ("last", 997), ("first-two", 10 ** 6)])
def test_stream_csv_equals_memory(tmp_path, test, chunk_rows):
    rng = np.random.default_rng(11)
    n = 3000 if chunk_rows != 1 else 300
    vals = [f"{v:.2f}" for v in 10 ** rng.uniform(0, 6, n)] + ["0", "-12.5", "abc", "", "1,234.50"]
    path = tmp_path / "x.csv"
    pd.DataFrame({"amt": vals}).to_csv(path, index=False)
    min_sig = 3 if test == "last" else 0
    streamed = stream_counts(path, "amt", test, chunk_rows=chunk_rows, min_sig=min_sig)
    codes, mem = count_digits(np.array(vals, dtype=object), test, min_sig=min_sig)
    assert_same_counts(streamed, mem)
    assert streamed.n_invalid == 2 and streamed.n_zero == 1 and streamed.n_sign == 1


def test_stream_parquet_float_and_decimal_equal_memory(tmp_path):
    rng = np.random.default_rng(5)
    x = np.round(10 ** rng.uniform(0, 7, 20000), 2)
    dec = pa.array([Decimal(f"{v:.2f}") for v in x], pa.decimal128(12, 2))
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"f": x, "d": dec}), path, row_group_size=3000)
    assert pq.ParquetFile(path).num_row_groups == 7
    for col, test in (("f", "first-two"), ("d", "first-two"), ("d", "last-two")):
        streamed = stream_counts(path, col, test, chunk_rows=2500, min_sig=3 if test == "last-two" else 0)
        ref = x if col == "f" else np.array([f"{v:.2f}" for v in x], dtype=object)
        mem = count_digits(ref, test, min_sig=3 if test == "last-two" else 0)[1]
        assert_same_counts(streamed, mem)


def test_payments_streamed_reproduce_reference(payments_path, payments):
    """corporate.payment Amount >= 10, first-two digits: R benford.analysis' published n, MAD, chi2."""
    streamed = stream_counts(payments_path, "Amount", "first-two", min_value=10, chunk_rows=25_000)
    res = BenfordResult(streamed)
    assert res.n == 177763
    assert res.mad == pytest.approx(0.0024299059, abs=5e-11)
    assert res.chi2 == pytest.approx(32659.0522, abs=5e-5)
    assert_same_result(res, benford(payments["Amount"], "first-two", min_value=10))


def test_census_streamed_equal_memory(shared_data):
    path = shared_file(shared_data, "benford/census.2009.csv")
    col = pd.read_csv(path, dtype=str, keep_default_na=False)["pop.2009"]
    for test in ("first", "first-two", "second"):
        streamed = stream_counts(path, "pop.2009", test, chunk_rows=4096)
        assert_same_result(BenfordResult(streamed), benford(col, test))
    assert BenfordResult(stream_counts(path, "pop.2009", "first")).n == int((pd.to_numeric(col) > 0).sum())


def test_payments_grouped_by_vendor(tmp_path, payments):
    """The first 30,000 payments grouped by VendorNum (949 vendors), three chunks: every
    vendor's counts equal the in-memory grouped counts."""
    sub = payments.head(30_000)[["VendorNum", "Amount"]]
    path = tmp_path / "payments_head.csv"
    sub.to_csv(path, index=False)
    streamed = stream_counts(path, "Amount", "first", min_value=10, group_by="VendorNum", chunk_rows=10_000)
    mem = count_digits_by_group(sub["Amount"].to_numpy(object), sub["VendorNum"].to_numpy(object),
                                "first", min_value=10)
    assert set(streamed) == set(mem) and len(mem) == 949
    for k in mem:
        assert_same_counts(streamed[k], mem[k])
    assert sum(dc.n for dc in streamed.values()) == count_digits(sub["Amount"].to_numpy(object), "first",
                                                                 min_value=10)[1].n


# --- per-group aggregates: exact sums --------------------------------------------------------------

def _decimal_sums(df, value, by):
    out = {}
    for key, v in zip(df[by].astype(str).agg("\x1f".join, axis=1) if isinstance(by, list) else df[by].astype(str),
                      df[value]):
        s = str(v).replace(",", "").strip()
        try:
            d = Decimal(s)
        except Exception:
            continue
        out[key] = out.get(key, Decimal(0)) + d
    return out


def test_sums_exact_against_decimal(tmp_path):
    rng = np.random.default_rng(1)
    n = 6000
    region = rng.choice(["110000", "310000", "440300"], n)
    year = rng.choice(["2019", "2020"], n)
    amt = [f"{v:.2f}" for v in rng.uniform(-50, 1e6, n)]
    amt[:10] = ["0.10"] * 10                      # 0.1 added ten times is exactly 1.00 (float: 0.9999999999999999)
    df = pd.DataFrame({"region": region, "year": year, "amt": amt})
    path = tmp_path / "ledger.csv"
    df.to_csv(path, index=False)
    agg = aggregate_file(path, "amt", ["region", "year"], chunk_rows=777)
    ref = _decimal_sums(df, "amt", ["region", "year"])
    out = agg.to_frame()
    assert list(out.columns) == ["region", "year", "n", "n_missing", "sum", "sum_exact", "n_inexact"]
    assert len(out) == 6 and out["n"].sum() == n and out["n_inexact"].sum() == 0
    for r in out.itertuples():
        exact = ref[f"{r.region}\x1f{r.year}"]
        assert Decimal(r.sum_exact) == exact
        assert r.sum == float(exact)              # correctly rounded
    whole = aggregate_frame(df, "amt", ["region", "year"])
    assert whole.groups == agg.groups             # chunking does not change a single unit
    tenth = aggregate_frame(pd.DataFrame({"g": ["a"] * 10, "v": ["0.10"] * 10}), "v", "g")
    assert tenth.to_frame()["sum_exact"].iat[0] == "1.00"
    assert sum([0.1] * 10) != 1.0                 # what a float sum would have given


def test_sums_do_not_overflow_and_flag_inexact():
    big = pd.DataFrame({"g": ["x"] * 3000, "v": ["90000000000000.00"] * 3000})   # 9e15 cents each
    agg = aggregate_frame(big, "v", "g")
    assert agg.groups["x"][2] == 3000 * 9_000_000_000_000_000        # 2.7e19 > int64 max, exact
    assert Decimal(agg.to_frame()["sum_exact"].iat[0]) == Decimal("90000000000000.00") * 3000
    odd = aggregate_frame(pd.DataFrame({"g": ["a", "a", "a"], "v": ["1.005", "2", "x"]}), "v", "g")
    assert odd.groups["a"][0] == 2 and odd.groups["a"][1] == 1 and odd.groups["a"][3] == 1   # 1.005 rounded
    with pytest.raises(ValueError, match="cannot add"):
        _ = agg + GroupAggregates(("g",), scale=3)


def test_aggregates_of_float_parquet(tmp_path):
    x = np.round(np.random.default_rng(2).uniform(0, 1e4, 5000), 2)
    g = np.repeat(["a", "b"], 2500)
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"g": g, "v": x}), path, row_group_size=700)
    agg = aggregate_file(path, "v", "g", chunk_rows=500).to_frame()
    for lab, sub in zip(("a", "b"), (x[:2500], x[2500:])):
        exact = sum(Decimal(f"{v:.2f}") for v in sub)
        assert Decimal(agg.loc[agg["g"] == lab, "sum_exact"].iat[0]) == exact


# --- value counts (duplication test) ---------------------------------------------------------------

def test_value_counts_stream_equal_duplicates(payments_path, payments):
    vc = value_counts_file(payments_path, "Amount", chunk_rows=20_000)
    top = vc.top(6)
    ref = duplicates(payments["Amount"], top=6)
    np.testing.assert_array_equal(top["value"].to_numpy(), ref["value"].to_numpy())
    np.testing.assert_array_equal(top["count"].to_numpy(), ref["count"].to_numpy())
    assert (top["value"].iat[0], top["count"].iat[0]) == (50.0, 6022)      # Nigrini's published duplicates
    assert (top["value"].iat[1], top["count"].iat[1]) == (1153.35, 2264)


def test_value_counts_stream_equal_duplicates_with_both_signs(payments_path, payments):
    # R benford.analysis, sign = "both": 50.00 occurs 6030 times (6022 payments and 8 credits)
    vc = value_counts_file(payments_path, "Amount", chunk_rows=20_000, sign="absolute")
    ref = duplicates(payments["Amount"], top=5, sign="absolute")
    pd.testing.assert_frame_equal(vc.top(5), ref[["value", "count"]])
    assert (vc.top(1)["value"].iat[0], vc.top(1)["count"].iat[0]) == (50.0, 6030)


def test_value_counts_chunks_add():
    v = np.array(["1.00", "2.50", "1.00", "-1.00", "0", "2.5"], dtype=object)
    a = value_counts_array(v[:3]) + value_counts_array(v[3:])
    assert a.counts.to_dict() == value_counts_array(v).counts.to_dict() == {1.0: 2, 2.5: 2}
    both = value_counts_array(v[:3], sign="absolute") + value_counts_array(v[3:], sign="absolute")
    assert both.counts.to_dict() == {1.0: 3, 2.5: 2}
    assert value_counts_array(v, sign="negative").counts.to_dict() == {1.0: 1}


# --- errors ----------------------------------------------------------------------------------------

def test_errors_are_input_errors(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no column 'amt'"):
        stream_counts(path, "amt", "first")
    with pytest.raises(InputError, match="not found"):
        aggregate_file(tmp_path / "none.csv", "a", "b")
    with pytest.raises(InputError, match="chunk_rows"):
        stream_counts(path, "a", "first", chunk_rows=0)
