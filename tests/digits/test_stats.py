"""Digit-test statistics against textbook formulas, scipy and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detect.digits.stats import (DF_EXPECTED_MEAN, DF_EXPECTED_SD, chi_square, conformity, expected_mad,
                                 expected_mad_normal, expected_proportions, ks_kuiper, ks_kuiper_pvalues, mad,
                                 z_scores)


def test_benford_proportions_textbook_values():
    # Nigrini (2012) Table 5.1: first digit 1 0.30103, 9 0.04576; second digit 0 0.11968, 9 0.08500
    p1 = expected_proportions("first")
    assert p1[0] == pytest.approx(0.30103, abs=5e-6) and p1[-1] == pytest.approx(0.04576, abs=5e-6)
    p2 = expected_proportions("second")
    assert p2[0] == pytest.approx(0.11968, abs=5e-6) and p2[-1] == pytest.approx(0.08500, abs=5e-6)
    for t in ("first", "second", "first-two", "first-three", "last", "last-two"):
        assert expected_proportions(t).sum() == pytest.approx(1.0)
    # the first-two marginal over the second digit is the second-digit law
    p12 = expected_proportions("first-two").reshape(9, 10).sum(0)
    np.testing.assert_allclose(p12, p2)


def test_chi_square_matches_scipy():
    c = np.array([30, 18, 12, 10, 8, 7, 6, 5, 4])
    p = expected_proportions("first")
    x2, df, pv = chi_square(c, p)
    ref = stats.chisquare(c, c.sum() * p)
    assert x2 == pytest.approx(ref.statistic) and pv == pytest.approx(ref.pvalue) and df == 8


def test_z_continuity_correction_only_when_smaller():
    p = np.full(10, 0.1)
    n = 100
    c = np.array([11, 10, 10, 10, 10, 10, 10, 10, 10, 9])
    z = z_scores(c, p)
    se = np.sqrt(0.1 * 0.9 / n)
    # |o - p| = 0.01 > 1/(2n) = 0.005: corrected
    assert z[0] == pytest.approx((0.01 - 0.005) / se)
    assert z[-1] == pytest.approx(-(0.01 - 0.005) / se)
    # |o - p| = 0 < 1/(2n): no correction (z = 0, not negative)
    assert z[1] == 0.0
    c2 = np.full(1000, 1)
    z2 = z_scores(np.r_[c2[:10] * 100], p)  # exactly expected everywhere
    assert np.all(z2 == 0)


def test_expected_mad_by_simulation():
    """E[MAD] under multinomial sampling: exact de Moivre sum against 4000 simulated samples."""
    rng = np.random.default_rng(11)
    for test, n in (("first", 200), ("first-two", 3000), ("last", 60)):
        p = expected_proportions(test)
        sims = rng.multinomial(n, p, size=4000) / n
        sim_mad = np.abs(sims - p).mean(1)
        se = sim_mad.std() / np.sqrt(len(sim_mad))
        assert expected_mad(n, p) == pytest.approx(sim_mad.mean(), abs=4 * se)
        # the normal approximation is close for these n too
        assert expected_mad_normal(n, p) == pytest.approx(expected_mad(n, p), rel=0.06)


def test_expected_mad_binomial_closed_form_small_case():
    # n = 2, p = 0.5: E|X - 1| = 0.5 -> E|o - p| = 0.25 for each of the two cells
    assert expected_mad(2, np.array([0.5, 0.5])) == pytest.approx(0.25)


def test_ks_kuiper_values():
    p = np.full(4, 0.25)
    c = np.array([40, 10, 10, 40])   # F_o - F_p: 0.15, 0, -0.15, 0
    d, v = ks_kuiper(c, p)
    assert d == pytest.approx(0.15) and v == pytest.approx(0.30)


def test_ks_monte_carlo_pvalues_are_valid_under_the_null():
    """Under the null the p-values are (super-)uniform: rejection rate at 5 % is at most about 5 %."""
    rng = np.random.default_rng(5)
    p = expected_proportions("first")
    rej_d = rej_v = 0
    reps = 150
    for i in range(reps):
        c = rng.multinomial(300, p)
        pd_, pv_ = ks_kuiper_pvalues(c, p, 199, seed=i)
        rej_d += pd_ <= 0.05
        rej_v += pv_ <= 0.05
    # binomial(150, 0.05): mean 7.5, sd 2.7 -> at most 16 with room
    assert rej_d <= 16 and rej_v <= 16
    # seeded: same seed, same p-value
    c = rng.multinomial(300, p)
    assert ks_kuiper_pvalues(c, p, 199, seed=1) == ks_kuiper_pvalues(c, p, 199, seed=1)


def test_mad_and_conformity():
    p = expected_proportions("first")
    assert mad(np.round(p * 1e6), p) == pytest.approx(0.0, abs=1e-6)
    cut = (0.006, 0.012, 0.015)
    assert conformity(0.005, cut) == "close conformity"
    assert conformity(0.0121, cut) == "marginally acceptable conformity"
    assert conformity(0.02, cut) == "nonconformity"
    assert conformity(0.01, None) is None


def test_distortion_constants():
    # expected mean 90 / ln 10 = 39.0865 (R benford.analysis has the typo 39.0685)
    assert DF_EXPECTED_MEAN == pytest.approx(39.0865, abs=5e-5)
    # by simulation: Benford numbers collapsed to [10, 100)
    x = 10 ** np.random.default_rng(1).uniform(1, 2, 400_000)
    assert x.std() == pytest.approx(DF_EXPECTED_SD, rel=5e-3)


def test_digit_probabilities_match_r_benford_analysis_tables():
    """R benford.analysis tests/testthat/test-digits.R: p.this.digit.at.n for the second position
    (rounded to 5 decimals) and p.these.digits(11) = 0.03778856, p.these.digits(1) = 0.30103."""
    second = [0.11968, 0.11389, 0.10882, 0.10433, 0.10031, 0.09668, 0.09337, 0.09035, 0.08757, 0.085]
    np.testing.assert_array_equal(np.round(expected_proportions("second"), 5), second)
    first = [0.30103, 0.17609, 0.12494, 0.09691, 0.07918, 0.06695, 0.05799, 0.05115, 0.04576]
    np.testing.assert_array_equal(np.round(expected_proportions("first"), 5), first)
    assert expected_proportions("first-two")[1] == pytest.approx(0.03778856, abs=5e-9)
    assert expected_proportions("first-three")[-1] == pytest.approx(np.log10(1000 / 999))


def test_conformity_cutoffs_are_nigrini_table_7_1():
    """The shipped cut-offs (thresholds.toml) against Nigrini (2012) Table 7.1 as transcribed by
    benford_py (constants.mad_dict) and R benford.analysis (MAD.conformity; R has 0.011 as the
    second-digit upper bound where Nigrini and benford_py have 0.012)."""
    from detect.config import load_config
    from detect.digits.result import BenfordResult
    from detect.digits.counts import DigitCounts

    cfg = load_config()
    table = {"first": (0.006, 0.012, 0.015), "second": (0.008, 0.010, 0.012),
             "first-two": (0.0012, 0.0018, 0.0022), "first-three": (0.00036, 0.00044, 0.00050)}
    for test, cut in table.items():
        assert BenfordResult(DigitCounts.empty(test), cfg).mad_cutoffs == pytest.approx(cut, abs=0), test
    for test in ("last", "last-two"):
        assert BenfordResult(DigitCounts.empty(test), cfg).mad_cutoffs is None
    # every level is reached at its own side of each cut-off
    levels = ["close conformity", "acceptable conformity", "marginally acceptable conformity", "nonconformity"]
    for cut in table.values():
        probes = [cut[0] * 0.99, (cut[0] + cut[1]) / 2, (cut[1] + cut[2]) / 2, cut[2] * 1.01]
        assert [conformity(m, cut) for m in probes] == levels


def test_expected_mad_equals_binomial_enumeration():
    """de Moivre's closed form against the direct sum E|X - n p| = sum_x |x - n p| P(X = x)."""
    for test, n in (("first", 7), ("first", 113), ("second", 59), ("last", 50), ("first-two", 400)):
        p = expected_proportions(test)
        x = np.arange(n + 1)[:, None]
        direct = (np.abs(x - n * p[None, :]) * stats.binom.pmf(x, n, p[None, :])).sum(0) / n
        assert expected_mad(n, p) == pytest.approx(direct.mean(), rel=1e-10), (test, n)
