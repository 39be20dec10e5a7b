"""Python API of the digit tests: ``benford(values, test="first-two")`` and the companion tests.

Every function takes the values as reported (text keeps the reported precision; floats are read at
15 significant digits, see :mod:`detect.digits.extract`), leaves zeros out, treats signs as told
(positives by default; negatives counted and left out with a note) and returns a result object.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from detect.config import Config, load_config, threshold
from detect.digits.counts import SIGNS, Sign, codes_from_digits, count_digits
from detect.digits.extract import Extraction, _scale, extract
from detect.digits.result import BenfordResult, SimpleResult
from detect.digits.stats import BENFORD_TESTS, DF_EXPECTED_MEAN, DF_EXPECTED_SD, DigitTest, check_test
from detect.exceptions import InputError


def _index(values) -> Any:
    return values.index.to_numpy() if isinstance(values, pd.Series) else None


def _label(values) -> str:
    return str(values.name) if isinstance(values, pd.Series) and values.name is not None else ""


def _exclusion_notes(ex: dict[str, int], sign: str, min_value) -> list[str]:
    """Notes on what a test left out, from counts by reason (:meth:`DigitCounts.exclusions`)."""
    notes = []
    if ex.get("zero"):
        notes.append(f"{ex['zero']} zeros left out (no significant digit).")
    if ex.get("sign"):
        what = "negative" if sign == "positive" else "positive"
        notes.append(f"{ex['sign']} {what} values left out; test them separately with sign="
                     f"{'negative' if sign == 'positive' else 'positive'!r} (Nigrini 2012 tests signs apart).")
    if ex.get("below_min"):
        notes.append(f"{ex['below_min']} values below {min_value:g} left out.")
    if ex.get("invalid"):
        notes.append(f"{ex['invalid']} values are not numbers (text that does not parse, NaN or infinite).")
    if ex.get("too_few_digits"):
        notes.append(f"{ex['too_few_digits']} values have too few significant digits for a last-digit test "
                     "(or, given as floats, a last digit beyond the 15 significant digits a double holds).")
    return notes


def benford(values, test: DigitTest = "first-two", min_value: float | None = None, *, sign: Sign = "positive",
            decimals: int | None = None, extraction: Extraction = "exact",
            config: Config | None = None) -> BenfordResult:
    """Test the digits of ``values`` against Benford's law (or uniform last digits).

    Parameters
    ----------
    values : array-like of str or float
        The figures as reported. Text (``"1,234.50"``) is read exactly at its reported precision;
        floats at 15 significant digits. A pandas Series keeps its index as record labels.
    test : {"first", "second", "first-two", "first-three", "last", "last-two"}
        Digit positions tested. ``last`` / ``last-two`` expect uniform digits at the reported
        precision and use only values whose last digit is at least the third significant digit
        (``digits.last_digit_min_sig``).
    min_value : float, optional
        Leave out values below it in absolute value (Nigrini uses ``>= 10`` for first-two digits).
    sign : {"positive", "negative", "absolute"}
        Which signs are tested (default positive; negatives are counted and left out).
    decimals : int, optional
        Reported decimals of float input (e.g. 2 for cents); text carries its own.
    extraction : {"exact", "r-float"}
        ``r-float`` reproduces R benford.analysis' floating-point digits (leading-digit tests only).
    config : Config, optional
        Thresholds, seed and Monte Carlo draws (shipped defaults when omitted).

    Returns
    -------
    BenfordResult
        ``n, mad, conformity, chi2, chi2_df, p_value, ks, kuiper, excess_mad, table, suspects,
        applicable, reason``, ``summary()``.

    Raises
    ------
    ValueError
        For an unknown ``test``, ``sign`` or ``extraction`` (the message lists the allowed values).

    Examples
    --------
    >>> r = benford(["0.29", "0.31", "1500000"], test="first-two")
    >>> r.applicable, r.n
    (False, 3)
    """
    check_test(test)
    config = config if config is not None else load_config()
    if extraction == "r-float" and test not in BENFORD_TESTS:
        raise ValueError(f"extraction='r-float' reads leading digits only; the {test} test needs 'exact'")
    min_sig = int(threshold("digits.last_digit_min_sig", config)) if test not in BENFORD_TESTS else 0
    kw = dict(min_value=min_value, sign=sign, min_sig=min_sig)
    codes, counts = count_digits(values, test, decimals=decimals, extraction=extraction, **kw)
    if codes is None:   # fast float path: the per-value codes are formed only if suspects are asked for
        def codes():
            d = extract(values, extraction=extraction, decimals=decimals, trailing=False)
            return codes_from_digits(d, test, **kw)[0]
    res = BenfordResult(counts, config, codes=codes, index=_index(values), label=_label(values))
    res.notes.extend(_exclusion_notes(res.counts.exclusions(), sign, min_value))
    if extraction == "r-float":
        res.notes.append("Digits read as R benford.analysis does (floating-point truncation; 0.29 -> 28); "
                         "for comparison with published R outputs only.")
    return res


def _selection_notes(d, keep: np.ndarray, sign: str, min_value) -> list[str]:
    """What :func:`select_magnitudes` left out, as notes (zeros, the other sign, below ``min_value``)."""
    nz = d.valid & (d.sign != 0)
    other = {"positive": d.sign < 0, "negative": d.sign > 0, "absolute": np.zeros(len(d), bool)}[sign] & nz
    ex = {"zero": int((d.valid & (d.sign == 0)).sum()), "sign": int(other.sum()),
          "below_min": int((nz & ~other & ~keep).sum()) if min_value is not None else 0,
          "invalid": int((~d.valid).sum())}
    return _exclusion_notes(ex, sign, min_value)


def select_magnitudes(values, min_value: float | None, sign: Sign, extraction: Extraction = "exact",
                      trailing: bool = False):
    """Digits of ``values`` and the mask of those a test reads: non-zero, of the chosen ``sign``
    (``"absolute"``: both, pooled by magnitude) and at least ``min_value`` in magnitude.

    The one selection of the companion tests (Nigrini 2012 tests signs apart), also used by the
    streamed and Dask duplication counts (:func:`detect.scale.streaming.value_counts_array`).
    Returns ``(digits, keep)``.
    """
    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {', '.join(SIGNS)}; got {sign!r}")
    d = extract(values, extraction=extraction, trailing=trailing)
    keep = d.valid & (d.sign != 0)
    if sign == "positive":
        keep &= d.sign > 0
    elif sign == "negative":
        keep &= d.sign < 0
    if min_value is not None:
        keep &= d.magnitude >= min_value
    return d, keep


def summation(values, digits: int = 2, min_value: float | None = None, *, sign: Sign = "positive",
              extraction: Extraction = "exact") -> pd.DataFrame:
    """Nigrini's summation test: the sum of the amounts in each leading-digit group.

    Under Benford's law every first-``digits`` group has the same expected sum, ``total / k``
    (Nigrini 2012, ch. 8). Large excess sums point to a few very large amounts, or many amounts,
    with those leading digits.

    Returns
    -------
    DataFrame
        ``digit, n, sum, share, expected_share, excess, abs_excess`` by digit group.
    """
    if digits not in (1, 2, 3):
        raise ValueError(f"digits must be 1, 2 or 3; got {digits!r}")
    d, keep = select_magnitudes(values, min_value, sign, extraction)
    lead = {1: d.first, 2: d.first_two, 3: d.lead3}[digits][keep].astype(np.int64)
    lo = 10 ** (digits - 1)
    k = 9 * lo
    amt = d.magnitude[keep]
    sums = np.bincount(lead - lo, weights=amt, minlength=k)
    ns = np.bincount(lead - lo, minlength=k)
    total = sums.sum()
    exp = total / k
    return pd.DataFrame({"digit": np.arange(lo, 10 * lo), "n": ns, "sum": sums,
                         "share": sums / total if total else np.nan, "expected_share": 1.0 / k,
                         "excess": sums - exp, "abs_excess": np.abs(sums - exp)})


def duplicates(values, top: int = 10, min_value: float | None = None, *, sign: Sign = "positive") -> pd.DataFrame:
    """Number duplication test: the most frequent values, with their counts and records.

    Nigrini (2012, ch. 9): amounts repeated far more often than others (a standard fee, an
    invented round figure, a limit just below an approval threshold) are listed for review.
    Values are selected as in :func:`benford`: positives by default (R benford.analysis'
    ``duplicatesTable``: 50.00 x 6022 in corporate.payment); ``sign="negative"`` counts the
    negatives by magnitude; ``sign="absolute"`` pools both signs by magnitude, so a 50.00 payment
    and a -50.00 credit are one value (R's ``sign = "both"``: 50.00 x 6030).

    Returns
    -------
    DataFrame
        ``value, count, records`` (``value`` is the magnitude; record labels: the Series index, or
        positions), most frequent first, ties by value.
    """
    d, keep = select_magnitudes(values, min_value, sign)
    mags = d.magnitude
    pos = np.flatnonzero(keep)
    v = pd.Series(mags[pos])
    vc = v.value_counts(sort=False)
    vc = vc.reset_index()
    vc.columns = ["value", "count"]
    vc = vc.sort_values(["count", "value"], ascending=[False, True], kind="mergesort").head(top)
    idx = _index(values)
    recs = []
    for val in vc["value"]:
        p = pos[mags[pos] == val]
        recs.append(list(p) if idx is None else list(idx[p]))
    return pd.DataFrame({"value": vc["value"].to_numpy(), "count": vc["count"].to_numpy(), "records": recs})


def second_order(values, test: DigitTest = "first-two", min_value: float | None = None, *, sign: Sign = "positive",
                 config: Config | None = None) -> BenfordResult:
    """Nigrini's second-order test: leading digits of the differences between sorted values.

    The non-zero differences of the sorted amounts have leading digits close to Benford's law for
    almost any continuous distribution (Nigrini & Miller 2009, Auditing 28(2):305-324). The values
    are selected as in :func:`benford` (zeros out; positives by default, ``sign="negative"`` the
    magnitudes of the negatives, ``"absolute"`` all magnitudes; ``min_value``), then sorted; a
    negative and a positive amount are never differenced. Differences are computed exactly: values
    are scaled to integers at their largest reported precision first, so ``1153.35 - 1153.34`` is
    0.01, not 0.0099999999999909.

    Parameters
    ----------
    values : array-like of str or float
    test : {"first", "second", "first-two", "first-three"}
    min_value : float, optional
        Leave out values below it in absolute value before sorting.
    sign : {"positive", "negative", "absolute"}
    config : Config, optional

    Returns
    -------
    BenfordResult
        Of the non-zero differences; R benford.analysis' ``n.second.order`` is its ``n``.
    """
    if test not in BENFORD_TESTS:
        raise ValueError(f"second-order test reads leading digits; test must be one of {', '.join(BENFORD_TESTS)}")
    d, keep = select_magnitudes(values, min_value, sign, trailing=True)
    mags = d.magnitude[keep]
    n_kept = len(mags)
    dec = int(np.clip(d.decimals[keep].max(), 0, 15)) if n_kept else 0
    big = mags.max() if n_kept else 0.0
    note = []
    if big * 10.0 ** dec < 2 ** 53:
        ints = np.rint(_scale(mags, np.full(n_kept, dec, np.int64)))   # leading digits unchanged by 10^dec
        diffs = np.diff(np.sort(ints))
        diffs = diffs[diffs > 0]
    else:
        diffs = np.diff(np.sort(mags))
        diffs = diffs[diffs > 0]
        note.append("differences in floating point (values too precise to scale to integers).")
    res = benford(diffs, test=test, config=config)
    res.label = "second order (differences of sorted values)"
    res.notes = [n for n in res.notes if n not in res._short_value_notes()]   # min_value=10 is not the remedy here
    if not note and test != "first" and (n_grid := int((diffs < 10).sum())):
        step = 10.0 ** -dec
        note.append(f"{n_grid} differences are 1-9 steps of the reporting grid ({step:g}): their digits after "
                    "the first are zeros (first-two digits 10, 20, ..., 90), the spikes Nigrini & Miller (2009) "
                    "expect of data reported to that precision.")
    left_out = _selection_notes(d, keep, sign, min_value)
    res.notes.extend(left_out)
    res.notes.extend(note + [f"{n_kept - 1 - len(diffs)} zero differences (repeated values) left out."
                             if n_kept > 1 else "fewer than two values."])
    return res


def mantissa_arc(values, min_value: float | None = None, *, sign: Sign = "positive") -> SimpleResult:
    """Mantissa arc test (Alexander 2009): the centre of mass of the mantissas on the unit circle.

    With mantissa ``m = log10|x| mod 1`` (uniform under Benford's law), ``L2 = mean(cos 2 pi m)^2
    + mean(sin 2 pi m)^2``; under the null ``2 n L2`` is chi-square with 2 df, so
    ``p = exp(-n L2)``.
    """
    d, keep = select_magnitudes(values, min_value, sign)
    x = d.magnitude[keep]
    n = len(x)
    if n == 0:
        raise InputError("the mantissa arc test needs at least one non-zero value")
    m = np.mod(np.log10(x), 1.0)
    cx, cy = float(np.cos(2 * np.pi * m).mean()), float(np.sin(2 * np.pi * m).mean())
    l2 = cx * cx + cy * cy
    return SimpleResult("Mantissa arc test", "Mantissas log10|x| mod 1 are uniform (Benford's law).",
                        {"n": n, "center_x": cx, "center_y": cy, "l2": l2, "p_value": float(np.exp(-n * l2))})


def distortion_factor(values, min_value: float | None = 10.0, *, sign: Sign = "positive") -> SimpleResult:
    """Nigrini's distortion factor: are amounts inflated or deflated against Benford's law?

    Values are collapsed to [10, 100) (``x_c = |x| 10^(1 - floor(log10|x|))``); their actual mean
    ``AM`` is compared with the Benford mean ``EM = 90 / ln 10 = 39.0865`` (R benford.analysis has
    39.0685, a typo). ``DF = 100 (AM - EM) / EM`` per cent;
    ``z = (AM - EM) / (SD / sqrt n)`` with the Benford standard deviation of collapsed values
    ``SD = 24.9406``; two-sided normal p-value (Nigrini 2012, ch. 6; Nigrini 1996).
    """
    from scipy import stats

    d, keep = select_magnitudes(values, min_value, sign)
    x = d.magnitude[keep]
    n = len(x)
    if n == 0:
        raise InputError("the distortion factor needs at least one value at or above min_value")
    xc = _scale(x, (1 - d.exponent[keep]).astype(np.int64))
    am = float(xc.mean())
    z = (am - DF_EXPECTED_MEAN) / (DF_EXPECTED_SD / np.sqrt(n))
    return SimpleResult("Distortion factor", f"Collapsed values have the Benford mean {DF_EXPECTED_MEAN:.4f}.",
                        {"n": n, "actual_mean": am, "expected_mean": float(DF_EXPECTED_MEAN),
                         "distortion_factor": 100 * (am - DF_EXPECTED_MEAN) / DF_EXPECTED_MEAN,
                         "z": float(z), "p_value": float(2 * stats.norm.sf(abs(z)))})


__all__ = ["benford", "distortion_factor", "duplicates", "mantissa_arc", "second_order", "summation"]
