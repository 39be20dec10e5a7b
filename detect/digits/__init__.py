"""Digit analysis: exact Benford and last-digit tests with the evidence behind each verdict.

>>> from detect.digits import benford
>>> r = benford(amounts, test="first-two", min_value=10)   # doctest: +SKIP
>>> r.mad, r.conformity, r.p_value, r.table, r.suspects     # doctest: +SKIP

See docs/digits.md for the methods, formulas and references.
"""

from detect.digits.api import benford, distortion_factor, duplicates, mantissa_arc, second_order, summation
from detect.digits.counts import DigitCounts, count_digits, count_digits_by_group
from detect.digits.extract import Digits
from detect.digits.extract import extract as extract_digits  # not ``extract``: that name is the module
from detect.digits.result import BenfordResult, SimpleResult, Summary
from detect.digits.stats import TESTS

__all__ = [
    "BenfordResult", "DigitCounts", "Digits", "SimpleResult", "Summary", "TESTS", "benford", "count_digits",
    "count_digits_by_group", "distortion_factor", "duplicates", "extract_digits", "mantissa_arc", "second_order",
    "summation",
]
