"""Expected digit distributions and the statistics of a digit test (pure functions on counts).

Everything here works on a vector of observed counts ``c`` (one per digit group) and the expected
probabilities ``p``, with ``n = sum(c)``, observed proportions ``o = c / n``:

* chi-square ``X2 = sum (c - n p)^2 / (n p)``, ``k - 1`` degrees of freedom;
* MAD ``= mean |o - p|`` (Nigrini 2012, ch. 7) and its expectation under the null for this ``n``
  (exact, de Moivre's formula for the binomial mean absolute deviation), so that the *excess MAD*
  ``MAD - E[MAD]`` compares samples of different sizes;
* Nigrini's per-digit Z with the continuity correction ``1/(2n)`` applied only when it is smaller
  than ``|o - p|``: ``z = (|o - p| - cc) / sqrt(p (1 - p) / n)``, signed like ``o - p``;
* Kolmogorov-Smirnov ``D = max |F_o - F_p|`` and Kuiper ``V = max(F_o - F_p) + max(F_p - F_o)``
  on the cumulative proportions in digit order, with Monte Carlo p-values from multinomial
  samples of the same ``n`` (the asymptotic ``1.36 / sqrt(n)`` assumes a continuous distribution
  and is conservative for digits).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import special, stats

DigitTest = Literal["first", "second", "first-two", "first-three", "last", "last-two"]
#: Tests with their digit groups.
TESTS: tuple[str, ...] = ("first", "second", "first-two", "first-three", "last", "last-two")
#: Tests whose expectation is Benford's law (the others expect uniform digits).
BENFORD_TESTS: tuple[str, ...] = ("first", "second", "first-two", "first-three")

#: Nigrini's distortion factor constant: mean of Benford numbers collapsed to [10, 100), 90 / ln 10.
DF_EXPECTED_MEAN = 90.0 / np.log(10.0)
#: Standard deviation of Benford numbers collapsed to [10, 100):
#: sqrt((100^2 - 10^2) / (2 ln 10) - (90 / ln 10)^2).
DF_EXPECTED_SD = float(np.sqrt((100.0 ** 2 - 10.0 ** 2) / (2 * np.log(10.0)) - DF_EXPECTED_MEAN ** 2))


def check_test(test: str) -> str:
    """Validate a test name (the message lists the allowed ones)."""
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}; got {test!r}")
    return test


def digit_groups(test: str) -> np.ndarray:
    """Digit groups of a test, in order: 1..9, 0..9, 10..99, 100..999, 0..9 or 0..99."""
    check_test(test)
    return {
        "first": np.arange(1, 10), "second": np.arange(10), "first-two": np.arange(10, 100),
        "first-three": np.arange(100, 1000), "last": np.arange(10), "last-two": np.arange(100),
    }[test]


def expected_proportions(test: str) -> np.ndarray:
    """Expected proportion of each digit group (Benford's law, or uniform for last digits).

    Benford (1938); Hill (1995), Statistical Science 10:354-363: ``P(D1..Dk = d) = log10(1 + 1/d)``;
    second digit ``P(D2 = d) = sum_{j=1..9} log10(1 + 1/(10 j + d))``.
    """
    g = digit_groups(test).astype(float)
    if test in ("first", "first-two", "first-three"):
        return np.log10(1.0 + 1.0 / g)
    if test == "second":
        j = np.arange(1, 10)[:, None]
        return np.log10(1.0 + 1.0 / (10.0 * j + g[None, :])).sum(0)
    return np.full(len(g), 1.0 / len(g))


def chi_square(counts: np.ndarray, p: np.ndarray) -> tuple[float, int, float]:
    """Pearson chi-square against ``p``: ``(statistic, df, p_value)``."""
    c = np.asarray(counts, float)
    n = c.sum()
    e = n * p
    x2 = float(((c - e) ** 2 / e).sum())
    df = len(p) - 1
    return x2, df, float(stats.chi2.sf(x2, df))


def mad(counts: np.ndarray, p: np.ndarray) -> float:
    """Mean absolute deviation of observed from expected proportions (Nigrini 2012, eq. 7.7)."""
    c = np.asarray(counts, float)
    return float(np.abs(c / c.sum() - p).mean())


def expected_mad(n: int, p: np.ndarray) -> float:
    """Expected MAD under the null for a multinomial sample of size ``n``.

    Each count is Binomial(n, p_i); de Moivre's closed form of its mean absolute deviation is
    ``E|X - n p| = 2 m C(n, m) p^m (1 - p)^(n - m + 1)`` with ``m = floor(n p) + 1``
    (Diaconis & Zabell 1991, Statistical Science 6:284-302), evaluated in logs. Then
    ``E[MAD] = (1/k) sum_i E|X_i - n p_i| / n``. For large ``n`` it tends to the normal
    approximation ``(1/k) sum_i sqrt(2 p_i (1 - p_i) / (pi n))``.
    """
    p = np.asarray(p, float)
    if n <= 0:
        return float("nan")
    m = np.floor(n * p) + 1
    logv = (np.log(2 * m) + special.gammaln(n + 1) - special.gammaln(m + 1) - special.gammaln(n - m + 1)
            + m * np.log(p) + (n - m + 1) * np.log1p(-p))
    return float(np.exp(logv).mean() / n)


def expected_mad_normal(n: int, p: np.ndarray) -> float:
    """Normal approximation of :func:`expected_mad`: ``(1/k) sum sqrt(2 p (1 - p) / (pi n))``."""
    p = np.asarray(p, float)
    return float(np.sqrt(2 * p * (1 - p) / (np.pi * n)).mean())


def z_scores(counts: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Nigrini's Z per digit group, signed (positive: more than expected).

    ``z = (|o - p| - 1/(2n)) / sqrt(p (1 - p) / n)``, the continuity correction ``1/(2n)`` being
    used only when it is smaller than ``|o - p|`` (Nigrini 2012, eq. 5.1).
    """
    c = np.asarray(counts, float)
    n = c.sum()
    o = c / n
    d = np.abs(o - p)
    cc = 1.0 / (2 * n)
    num = np.where(cc < d, d - cc, d)
    return np.sign(o - p) * num / np.sqrt(p * (1 - p) / n)


def _ks_kuiper(props: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """KS D and Kuiper V of observed proportions (rows) against ``p`` on the digit order."""
    diff = np.cumsum(props, axis=-1) - np.cumsum(p)
    dplus = np.maximum(diff.max(axis=-1), 0.0)
    dminus = np.maximum(-diff.min(axis=-1), 0.0)
    return np.maximum(dplus, dminus), dplus + dminus


def ks_kuiper(counts: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov D and Kuiper V on the cumulative digit proportions."""
    c = np.asarray(counts, float)
    d, v = _ks_kuiper(c / c.sum(), p)
    return float(d), float(v)


def ks_kuiper_pvalues(counts: np.ndarray, p: np.ndarray, draws: int, seed: int) -> tuple[float, float]:
    """Monte Carlo p-values of KS and Kuiper for the discrete digit distribution.

    ``draws`` multinomial samples of size ``n`` under ``p`` (seeded); ``p = (1 + #{T* >= T}) / (draws + 1)``
    (Davison & Hinkley 1997, Bootstrap Methods, eq. 4.11). Exact for the discrete null up to
    Monte Carlo error, unlike the continuous-distribution asymptotics.
    """
    c = np.asarray(counts, np.int64)
    n = int(c.sum())
    if n == 0:
        return float("nan"), float("nan")
    d, v = _ks_kuiper(c / n, p)
    rng = np.random.default_rng(seed)
    pp = p / p.sum()
    ge_d = ge_v = 0
    left = int(draws)
    while left > 0:  # in blocks: bounded memory for 900 digit groups
        b = min(left, 2000)
        sim = rng.multinomial(n, pp, size=b) / n
        sd, sv = _ks_kuiper(sim, p)
        tol = 1e-12
        ge_d += int((sd >= d - tol).sum())
        ge_v += int((sv >= v - tol).sum())
        left -= b
    return (1 + ge_d) / (draws + 1), (1 + ge_v) / (draws + 1)


def conformity(mad_value: float, cutoffs: list[float] | tuple[float, ...] | None) -> str | None:
    """Nigrini's conformity level of a MAD from the three cut-offs of the test (None without)."""
    if cutoffs is None or not np.isfinite(mad_value):
        return None
    a, b, c = cutoffs
    if mad_value <= a:
        return "close conformity"
    if mad_value <= b:
        return "acceptable conformity"
    if mad_value <= c:
        return "marginally acceptable conformity"
    return "nonconformity"


def min_n_for(test: str, min_expected: float) -> int:
    """Smallest n giving every digit group an expected count of at least ``min_expected``."""
    return int(np.ceil(min_expected / expected_proportions(test).min()))


__all__ = [
    "BENFORD_TESTS", "DF_EXPECTED_MEAN", "DF_EXPECTED_SD", "DigitTest", "TESTS", "check_test", "chi_square",
    "conformity", "digit_groups", "expected_mad", "expected_mad_normal", "expected_proportions", "ks_kuiper",
    "ks_kuiper_pvalues", "mad", "min_n_for", "z_scores",
]
