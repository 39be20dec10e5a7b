"""Exactness of digit extraction: decimals, large round numbers, text against floats."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detect.digits.extract import extract


def _digits_of_decimal(text: str) -> tuple[int, int, int]:
    """Reference: first three significant digits, last digit, decimals, by Python's Decimal."""
    d = Decimal(text)
    t = d.as_tuple()
    sig = "".join(map(str, t.digits)).lstrip("0")
    lead3 = int((sig + "000")[:3])
    return lead3, t.digits[-1], -t.exponent


@pytest.mark.parametrize("text, first_two, last, decimals", [
    ("0.29", 29, 9, 2), ("0.58", 58, 8, 2), ("1500000", 15, 0, 0), ("1,500,000", 15, 0, 0),
    ("1,300,000.00", 13, 0, 2), ("12.30", 12, 0, 2), ("0.0071", 71, 1, 4), ("999999999999999", 99, 9, 0),
    ("5", 50, 5, 0), ("-47.11", 47, 1, 2), ("1.5e6", 15, 5, -5), ("2.5E-3", 25, 5, 4),
    # the same amount written two ways: 1200 is reported to the unit (last digit 0), 1.2e3 to the hundred
    ("1200", 12, 0, 0), ("1.2e3", 12, 2, -2), ("1e-7", 10, 1, 7), ("0.0000001", 10, 1, 7),
    # integers beyond a double's 15-17 digits keep every digit as text (Decimal: 1.2345...e22, last 3)
    ("12345678901234567890123", 12, 3, 0), ("98765432109876543210.55", 98, 5, 2),
])
def test_text_examples(text, first_two, last, decimals):
    d = extract([text])
    assert d.valid[0]
    assert d.first_two[0] == first_two
    assert d.last[0] == last
    assert d.decimals[0] == decimals


@pytest.mark.parametrize("x, first_two", [
    (0.29, 29), (0.58, 58), (1_500_000.0, 15), (1_300_000.0, 13), (1_100_000.0, 11), (1e-5, 10),
    (1e22, 10), (9.99, 99), (1153.35, 11), (0.1 + 0.2, 30), (2.0 ** 52, 45), (1e300, 10), (5e-324, 49),
])
def test_float_examples(x, first_two):
    assert extract(np.array([x])).first_two[0] == first_two


def test_r_float_reproduces_r_binning():
    # R: trunc(10^(k-1-floor(log10 x)) * x); 0.29 * 100 = 28.999999999999996 -> 28 (SOURCE.md)
    d = extract(np.array([0.29, 0.58, 1_500_000.0]), extraction="r-float")
    assert d.first_two.tolist() == [28, 57, 15]
    assert extract(np.array([0.29, 0.58])).first_two.tolist() == [29, 58]


def test_r_float_equals_r_formula_below_1e11():
    """R: trunc(10^(k - 1 - floor(log10 x)) * x) with a correctly rounded 10^n (Python's float('1e-5')),
    on cent amounts over 13 decades and round numbers m * 10^z below 10^11."""
    rng = np.random.default_rng(1)
    x = np.r_[np.round(10 ** rng.uniform(-2, 11, 200_000), 2),
              (np.arange(1, 1000)[:, None] * 10.0 ** np.arange(-6, 9)[None, :]).ravel()]
    x = x[(x > 0) & (x < 1e11)]
    d = extract(x, extraction="r-float")
    e = np.floor(np.log10(x)).astype(int)
    for k in (1, 2, 3):
        pw = np.array([float(f"1e{s}") for s in range(-20, 21)])[k - 1 - e + 20]
        np.testing.assert_array_equal(d.r_lead[k], np.trunc(x * pw))


def test_invalid_text_is_flagged_not_guessed():
    d = extract(["12a", "1.2.3", "", "--5", "东方", "nan", "1e", "inf"])
    assert not d.valid.any()
    # outside a double's range on either side: not a magnitude the companion tests can use
    # (1e-400 read as a non-zero value of magnitude 0 gave the mantissa arc log10(0) = -inf)
    d = extract(["1e400", "1e-400", "1e-300", "0e-400"])
    assert d.valid.tolist() == [False, False, True, True] and d.sign.tolist() == [0, 0, 1, 0]


def test_zero_has_no_digits():
    d = extract(["0", "0.00", "-0"])
    assert d.valid.all() and (d.sign == 0).all() and (d.lead3 == 0).all()


def test_decimals_option_for_floats():
    d = extract(np.array([12.3, 7.0, 0.05]), decimals=2)
    assert d.last.tolist() == [0, 0, 5]
    assert d.last2.tolist() == [30, 0, 5]


decimal_text = st.builds(
    lambda i, f, nd: f"{i}.{str(f).zfill(nd)[:nd]}" if nd else str(i),
    st.integers(0, 10 ** 12), st.integers(0, 10 ** 6), st.integers(0, 6),
).filter(lambda s: Decimal(s) != 0)


@settings(max_examples=150, deadline=None)
@given(st.lists(decimal_text, min_size=1, max_size=30))
def test_text_matches_decimal_reference(texts):
    d = extract(texts)
    for i, t in enumerate(texts):
        lead3, last, dec = _digits_of_decimal(t)
        assert d.lead3[i] == lead3, t
        assert d.last[i] == last, t
        assert d.decimals[i] == dec, t


@settings(max_examples=80, deadline=None)
@given(st.lists(st.decimals(min_value=Decimal("1e-6"), max_value=Decimal("1e14"), places=None,
                            allow_nan=False, allow_infinity=False).filter(lambda v: v > 0), min_size=1, max_size=30))
def test_float_matches_decimal_at_15_digits(values):
    """A double is read as the decimal it stands for at 15 significant digits."""
    x = np.array([float(v) for v in values])
    d = extract(x)
    for i, xi in enumerate(x):
        ref = f"{xi:.14e}"                      # 15 significant digits, correctly rounded
        assert d.lead3[i] == int(ref[0] + ref[2:4]), (xi, ref)
        assert d.exponent[i] == int(ref.split("e")[1]), (xi, ref)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10 ** 15 - 1), st.integers(0, 8))
def test_round_numbers_exact(m, zeros):
    """Large round numbers (1,500,000 and friends) keep their leading digits as floats and text."""
    v = m * 10 ** zeros
    s = str(v)
    lead3 = int((s + "00")[:3])
    assert extract([s]).lead3[0] == lead3
    if v < 2 ** 53:
        assert extract(np.array([float(v)])).lead3[0] == lead3


def test_float_last_digits_beyond_15_significant_are_unknown():
    """A double is read at 15 significant digits: 1234567890123456 (16 digits, exactly representable)
    is read as 1.23456789012346e15, so its units digit is not known and must not be reported as 0;
    2**63 = 9223372036854775808 likewise. Text keeps every digit (Decimal reference)."""
    d = extract(np.array([1234567890123456.0, 2.0 ** 63, 123456789012345.0, 1500000.0]))
    assert d.last.tolist()[:2] == [-1, -1] and d.last2.tolist()[:2] == [-1, -1]
    assert d.last.tolist()[2:] == [5, 0] and d.last2.tolist()[2:] == [45, 0]     # 15 digits or fewer: exact
    assert d.first_two.tolist() == [12, 92, 12, 15]                                 # leading digits unaffected
    d2 = extract(np.array([1234567890123.456]), decimals=3)                         # 16 digits asked for
    assert d2.last.tolist() == [-1]
    t = extract(["1234567890123456", "9223372036854775808", "1234567890123.456"])
    assert t.last.tolist() == [6, 8, 6] and t.last2.tolist() == [56, 8, 56]
    # such values are left out of a last-digit test, not counted as zeros
    from detect.digits import benford
    r = benford(np.r_[np.full(60, 1234567890123456.0), np.arange(100, 160, dtype=float)], "last")
    assert r.n == 60 and r.counts.n_short == 60


def test_last_two_digits_r_examples():
    """R benford.analysis test-extract.R: last.two.digits(c(9.19, 8.28, ...)) = 19, 28, ...; of 10:99
    the numbers themselves; signs ignored ("-5.55" -> 55)."""
    d = extract(["9.19", "8.28", "7.37", "6.46", "-5.55", "-4.64", "3.73", "2.82"])
    assert d.last2.tolist() == [19, 28, 37, 46, 55, 64, 73, 82]
    assert extract([str(v) for v in range(10, 100)]).last2.tolist() == list(range(10, 100))
    # R pads one-digit results by appending a zero (0.05 -> 50); the reported last two positions are 05
    assert extract(["0.05", "1153.35", "7"]).last2.tolist() == [5, 35, -1]
