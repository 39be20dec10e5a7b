"""Counts: the fast float kernel equals the exact per-value path; counts add across chunks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detect.digits.counts import DigitCounts, codes_from_digits, count_digits, count_leading_fast
from detect.digits.extract import extract

EDGES = [0.0, -0.0, -5.0, np.nan, np.inf, -np.inf, 0.29, -0.29, 999999999999998.0, 1e-300, 1e300, 1000.0, 5e-324,
         1.7976931348623157e308, 1e15, 1e-8, 9.99999999e-9, 1.0, 10.0, 0.1 + 0.2, 1153.35, 50.0]


def _engine(name: str):
    """Force the numpy blocks or the compiled (numba) scan of the fast kernel for any array length."""
    from unittest import mock

    from detect.digits import _kernels

    if name == "numba":
        pytest.importorskip("numba", reason="numba (optional accelerator, in the test extra) is not installed")
        import contextlib
        import os

        stack = contextlib.ExitStack()
        stack.enter_context(mock.patch.dict(os.environ, {k: v for k, v in os.environ.items()
                                                         if k != "DETECT_NO_NUMBA"}, clear=True))
        stack.enter_context(mock.patch.object(_kernels, "NUMBA_MIN_VALUES", 0))
        assert _kernels._numba_kernel() is not None       # the compiled scan really runs
        return stack
    return mock.patch.object(_kernels, "_numba_kernel", lambda: None)


ENGINES = ["numpy", "numba"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("test", ["first", "first-two", "first-three"])
@pytest.mark.parametrize("sign", ["positive", "negative", "absolute"])
@pytest.mark.parametrize("min_value", [None, 10.0])
def test_fast_kernel_equals_exact_path(test, sign, min_value, engine):
    rng = np.random.default_rng(2)
    x = np.r_[np.round(10 ** rng.uniform(-3, 7, 150_000), 2) * rng.choice([1, -1], 150_000), np.tile(EDGES, 200)]
    with _engine(engine):
        fast = count_leading_fast(x, test, min_value=min_value, sign=sign)
    _, slow = codes_from_digits(extract(x, trailing=False), test, min_value=min_value, sign=sign)
    np.testing.assert_array_equal(fast.counts, slow.counts)
    np.testing.assert_array_equal(fast.magnitude_hist, slow.magnitude_hist)
    assert fast.exclusions() == slow.exclusions()


@pytest.mark.parametrize("engine", ENGINES)
def test_fast_kernel_any_floats(engine):
    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=200))
    def check(values):
        x = np.array(values, dtype=float)
        fast = count_leading_fast(x, "first-two", sign="absolute")
        _, slow = codes_from_digits(extract(x, trailing=False), "first-two", sign="absolute")
        np.testing.assert_array_equal(fast.counts, slow.counts)
        np.testing.assert_array_equal(fast.magnitude_hist, slow.magnitude_hist)

    with _engine(engine):
        check()


def test_counts_add_over_chunks():
    x = np.round(10 ** np.random.default_rng(3).uniform(0, 5, 10_000), 2)
    whole = count_digits(x, "last", min_sig=3)[1]
    parts = DigitCounts.empty("last")
    for i in range(0, len(x), 777):
        parts = parts + count_digits(x[i:i + 777], "last", min_sig=3)[1]
    np.testing.assert_array_equal(whole.counts, parts.counts)
    assert whole.exclusions() == parts.exclusions()
    with pytest.raises(ValueError):
        whole + DigitCounts.empty("first")


def test_orders_of_magnitude():
    x = 10 ** np.random.default_rng(4).uniform(1, 5, 50_000)
    dc = count_digits(x, "first")[1]
    assert dc.orders_of_magnitude() == pytest.approx(np.log10(np.quantile(x, 0.99) / np.quantile(x, 0.01)), abs=0.06)


def test_sparse_magnitude_histogram_adds_like_the_dense_one():
    rng = np.random.default_rng(4)
    a = np.round(10 ** rng.uniform(0, 3, 500), 2)       # overlapping and disjoint magnitudes
    b = np.round(10 ** rng.uniform(2, 7, 800), 2)
    da, db = count_digits(a, "first-two")[1], count_digits(b, "first-two")[1]
    total = da + db
    np.testing.assert_array_equal(total.magnitude_hist, da.magnitude_hist + db.magnitude_hist)
    assert np.all(np.diff(total.mag_bins) > 0) and total.mag_counts.sum() == total.n == 1300
    assert total.orders_of_magnitude() == count_digits(np.concatenate([a, b]), "first-two")[1].orders_of_magnitude()
    # a small group keeps only its non-zero bins, not the 9,000 of a dense histogram
    small = count_digits(a[:20], "first-two")[1]
    assert len(small.mag_bins) <= 20 and len(DigitCounts.empty("first-two").mag_bins) == 0
