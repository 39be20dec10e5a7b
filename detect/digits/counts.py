"""Digit counts: values -> digit group codes -> counts that add up across chunks and machines.

A :class:`DigitCounts` holds everything the statistics need (counts per digit group, exclusion
counts, a histogram of magnitudes for the span check), and two of them add with ``+``. That is the
"counts per chunk -> reduce -> statistics once" shape: the file reader (:mod:`detect.digits.io`)
counts one chunk at a time, a Dask engine can count partitions in parallel, and
:class:`detect.digits.result.BenfordResult` computes the statistics once from the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from detect.digits.extract import Digits, extract, is_text
from detect.digits.stats import BENFORD_TESTS, check_test, digit_groups

Sign = Literal["positive", "negative", "absolute"]
SIGNS: tuple[str, ...] = ("positive", "negative", "absolute")

#: Magnitude histogram: decimal exponents -40..59 x first-two digits 10..99 (clipped at the ends).
_E_LO, _E_HI = -40, 59
_N_E = _E_HI - _E_LO + 1


@dataclass
class DigitCounts:
    """Counts of one digit test, additive over chunks.

    Attributes
    ----------
    test : str
    counts : int64 array, one per digit group of the test
    n_in : values seen
    n_invalid : not a number (unparseable text, NaN, inf)
    n_zero : zeros (no significant digit)
    n_sign : left out by the sign rule (negatives by default)
    n_below_min : below ``min_value`` in absolute value
    n_short : too few significant digits for a last-digit test
    mag_bins, mag_counts : int64 arrays
        Sparse histogram of the kept values by (exponent, first-two digits): the non-zero bins
        (sorted) and their counts. Dense, a histogram has 9,000 bins (72 kB); sparse, 26,000
        groups of a ``--group-by`` keep tens of MB of histograms instead of 1.9 GB (72 kB x 26,000). ``magnitude_hist`` gives
        the dense array.
    """

    test: str
    counts: np.ndarray
    n_in: int = 0
    n_invalid: int = 0
    n_zero: int = 0
    n_sign: int = 0
    n_below_min: int = 0
    n_short: int = 0
    mag_bins: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    mag_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @classmethod
    def empty(cls, test: str) -> "DigitCounts":
        return cls(test, np.zeros(len(digit_groups(test)), np.int64))

    @staticmethod
    def sparse(hist: np.ndarray) -> dict[str, np.ndarray]:
        """``{"mag_bins": ..., "mag_counts": ...}`` of a dense magnitude histogram (constructor keywords)."""
        nz = np.flatnonzero(hist)
        return {"mag_bins": nz.astype(np.int64), "mag_counts": np.asarray(hist)[nz].astype(np.int64)}

    @property
    def magnitude_hist(self) -> np.ndarray:
        """Dense magnitude histogram (exponent x first-two digits, 9,000 bins)."""
        h = np.zeros(_N_E * 90, np.int64)
        h[self.mag_bins] = self.mag_counts
        return h

    @property
    def n(self) -> int:
        """Values tested."""
        return int(self.counts.sum())

    def __add__(self, other: "DigitCounts") -> "DigitCounts":
        if other.test != self.test:
            raise ValueError(f"cannot add counts of test {other.test!r} to {self.test!r}")
        bins = np.concatenate([self.mag_bins, other.mag_bins])
        cnts = np.concatenate([self.mag_counts, other.mag_counts])
        ub, inv = np.unique(bins, return_inverse=True)
        sums = np.zeros(len(ub), np.int64)
        np.add.at(sums, inv.ravel(), cnts)                  # integer: exact
        return DigitCounts(self.test, self.counts + other.counts, self.n_in + other.n_in,
                           self.n_invalid + other.n_invalid, self.n_zero + other.n_zero,
                           self.n_sign + other.n_sign, self.n_below_min + other.n_below_min,
                           self.n_short + other.n_short, ub.astype(np.int64), sums)

    def orders_of_magnitude(self) -> float:
        """``log10(P99 / P1)`` of the tested magnitudes, read from the histogram (±0.05)."""
        h = self.magnitude_hist
        tot = h.sum()
        if tot == 0:
            return float("nan")
        e = np.repeat(np.arange(_E_LO, _E_HI + 1), 90)
        ft = np.tile(np.arange(10, 100), _N_E)
        mid = e + np.log10((ft + 0.5) / 10.0)
        cum = np.cumsum(h) / tot
        lo = mid[np.searchsorted(cum, 0.01)]
        hi = mid[min(np.searchsorted(cum, 0.99), len(mid) - 1)]
        return float(hi - lo)

    def n_below(self, power: int) -> int:
        """Tested values below ``10**power`` in absolute value (from the histogram; exact)."""
        e = np.clip(power, _E_LO, _E_HI + 1) - _E_LO
        return int(self.mag_counts[self.mag_bins < e * 90].sum())

    def exclusions(self) -> dict[str, int]:
        """Non-zero exclusion counts by reason."""
        d = {"invalid": self.n_invalid, "zero": self.n_zero, "sign": self.n_sign,
             "below_min": self.n_below_min, "too_few_digits": self.n_short}
        return {k: int(v) for k, v in d.items() if v}


def significant_digits(d: Digits) -> np.ndarray:
    """Number of significant digits reported (``exponent + decimals + 1``; 12.30 -> 4)."""
    if d.decimals is None:
        raise ValueError("significant digits need trailing digits (exact extraction)")
    return d.exponent.astype(np.int64) + d.decimals + 1


#: Per-value reason codes (0 = tested).
_REASONS = ("tested", "invalid", "zero", "sign", "below_min", "too_few_digits")


def codes_from_digits(d: Digits, test: str, *, min_value: float | None = None, sign: Sign = "positive",
                      min_sig: int = 0) -> tuple[np.ndarray, DigitCounts]:
    """Digit group code of every value (-1 where excluded) and the counts.

    Parameters
    ----------
    d : Digits
    test : str
        One of :data:`detect.digits.stats.TESTS`.
    min_value : float, optional
        Values below it in absolute value are left out (Nigrini's ``>= 10`` for first-two digits).
    sign : {"positive", "negative", "absolute"}
        ``positive`` tests the positive values and leaves negatives out (counted); ``negative``
        tests the absolute values of the negatives; ``absolute`` pools both. Nigrini (2012) tests
        positive and negative numbers separately: they arise from different processes.
    min_sig : int
        Last-digit tests only: values with fewer significant digits are left out (their last
        digit is a first or second digit, not expected uniform); ``last-two`` needs one more.
    """
    code, reason, mbin = _codes(d, test, min_value, sign, min_sig)
    return code, _tally(test, code, reason, mbin)


def _codes(d: Digits, test: str, min_value, sign, min_sig):
    check_test(test)
    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {', '.join(SIGNS)}; got {sign!r}")
    groups = digit_groups(test)
    reason = np.zeros(len(d), np.int8)
    reason[~d.valid] = 1
    reason[(reason == 0) & (d.sign == 0)] = 2
    if sign == "positive":
        reason[(reason == 0) & (d.sign < 0)] = 3
    elif sign == "negative":
        reason[(reason == 0) & (d.sign > 0)] = 3
    if min_value is not None:
        reason[(reason == 0) & (d.magnitude < float(min_value))] = 4
    if test in BENFORD_TESTS:
        raw = {"first": d.first, "second": d.second, "first-two": d.first_two, "first-three": d.lead3}[test]
    else:
        if d.last is None:
            raise ValueError(f"the {test} test needs exact extraction (reported precision)")
        raw = d.last if test == "last" else d.last2
        need = min_sig + (1 if test == "last-two" else 0)
        reason[(reason == 0) & ((significant_digits(d) < need) | (raw < 0))] = 5
    keep = reason == 0
    code = np.where(keep, raw.astype(np.int64) - groups[0], -1)
    e = np.clip(d.exponent.astype(np.int64), _E_LO, _E_HI) - _E_LO
    mbin = np.where(keep, e * 90 + (d.lead3 // 10 - 10), -1)
    return code, reason, mbin


def _tally(test: str, code: np.ndarray, reason: np.ndarray, mbin: np.ndarray) -> DigitCounts:
    k = len(digit_groups(test))
    keep = code >= 0
    counts = np.bincount(code[keep], minlength=k).astype(np.int64)
    r = np.bincount(reason, minlength=len(_REASONS))
    hist = np.bincount(mbin[keep], minlength=_N_E * 90)
    return DigitCounts(test, counts, len(code), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]),
                       **DigitCounts.sparse(hist))


def _float_array(values) -> np.ndarray | None:
    """``values`` as a float64 array when they are numbers (not text), else None."""
    if is_text(values):
        return None
    arr = np.asarray(values)
    if arr.dtype.kind in "fiu":
        return arr.astype(np.float64, copy=False)
    return None


def count_leading_fast(x: np.ndarray, test: str, *, min_value: float | None = None,
                       sign: Sign = "positive", workers: int | None = None) -> DigitCounts:
    """Counts of a leading-digit test of float values by the blocked kernel (no per-value arrays).

    Equal to ``count_digits(x, test, ...)[1]`` (tested in tests/digits/test_counts.py); the
    exclusion breakdown is computed only when some values are left out.
    """
    from detect.digits._kernels import count_leading_float

    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {', '.join(SIGNS)}; got {sign!r}")
    k = {"first": 1, "first-two": 2, "first-three": 3}[test]
    counts, hist, kept = count_leading_float(x, k, min_value, sign, workers=workers)
    dc = DigitCounts(test, counts, len(x), **DigitCounts.sparse(hist))
    if kept < len(x):
        finite = np.isfinite(x)
        dc.n_invalid = int(len(x) - finite.sum())
        zero = x == 0
        dc.n_zero = int(zero.sum())
        nz = finite & ~zero
        wrong = {"positive": x < 0, "negative": x > 0, "absolute": np.zeros(len(x), bool)}[sign] & nz
        dc.n_sign = int(wrong.sum())
        dc.n_below_min = int(len(x) - kept - dc.n_invalid - dc.n_zero - dc.n_sign)
    return dc


def count_digits(values, test: str, *, min_value: float | None = None, sign: Sign = "positive",
                 decimals: int | None = None, extraction: str = "exact",
                 min_sig: int = 0) -> tuple[np.ndarray | None, DigitCounts]:
    """Extract the digits of ``values`` and count them for ``test`` (see :func:`codes_from_digits`).

    Float input to a leading-digit test with exact extraction is counted by the fast blocked
    kernel; the per-value codes are then not formed and None is returned in their place.
    """
    if test in ("first", "first-two", "first-three") and extraction == "exact" and decimals is None:
        x = _float_array(values)
        if x is not None:
            return None, count_leading_fast(x, test, min_value=min_value, sign=sign)
    d = extract(values, extraction=extraction, decimals=decimals, trailing=test not in BENFORD_TESTS)
    return codes_from_digits(d, test, min_value=min_value, sign=sign, min_sig=min_sig)


def count_digits_by_group(values, groups, test: str, *, min_value: float | None = None,
                          sign: Sign = "positive", decimals: int | None = None, extraction: str = "exact",
                          min_sig: int = 0) -> dict[str, DigitCounts]:
    """:func:`count_digits` split by a group label aligned with ``values``: ``{label: DigitCounts}``."""
    d = extract(values, extraction=extraction, decimals=decimals, trailing=test not in BENFORD_TESTS)
    code, reason, mbin = _codes(d, test, min_value, sign, min_sig)
    g = pd.Series(np.asarray(groups, dtype=object)).fillna("").astype(str).to_numpy()
    labels, gid = np.unique(g, return_inverse=True)
    order = np.argsort(gid, kind="stable")
    bounds = np.searchsorted(gid[order], np.arange(len(labels) + 1))
    out = {}
    for i, lab in enumerate(labels):   # one pass per group over its own rows only
        idx = order[bounds[i]:bounds[i + 1]]
        out[str(lab)] = _tally(test, code[idx], reason[idx], mbin[idx])
    return out


__all__ = ["DigitCounts", "SIGNS", "Sign", "codes_from_digits", "count_digits", "count_digits_by_group",
           "significant_digits"]
