"""Digit tests against the published reference outputs (R benford.analysis on Nigrini's data) and
against hand-worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detect.digits import benford, distortion_factor, duplicates, mantissa_arc, second_order, summation
from _shared_data import shared_file


@pytest.fixture(scope="module")
def payments(shared_data):
    """corporate.payment Amount as reported text (read as str: no float round trip)."""
    path = shared_file(shared_data, "benford/corporate.payment.csv.gz")
    return pd.read_csv(path, dtype={"Amount": str})["Amount"]


# --- published reference outputs: corporate.payment, Amount >= 10 (benford.analysis 0.1.5) ----------

def test_first_digit_reference(payments):
    r = benford(payments, "first", min_value=10)
    assert r.n == 177763
    assert r.mad == pytest.approx(0.0146418674, abs=5e-11)
    assert r.chi2 == pytest.approx(4087.7724, abs=5e-5)
    assert r.chi2_df == 8


def test_first_two_reference(payments):
    r = benford(payments, "first-two", min_value=10)
    assert r.n == 177763
    assert r.mad == pytest.approx(0.0024299059, abs=5e-11)
    assert r.chi2 == pytest.approx(32659.0522, abs=5e-5)
    assert r.chi2_df == 89
    assert r.conformity == "nonconformity"   # 0.00243 > 0.0022 (Nigrini Table 7.1)
    assert r.suspects["digit"].iat[0] == 50  # the 50.00 fee


def test_first_three_reference(payments):
    r = benford(payments, "first-three", min_value=10)
    assert r.mad == pytest.approx(0.000456037, abs=5e-10)


def test_summation_reference(payments):
    s = summation(payments, 2, min_value=10)
    top = s.sort_values("abs_excess", ascending=False, kind="mergesort")["digit"].head(6).tolist()
    assert top == [15, 26, 10, 14, 11, 50]
    assert s["sum"].sum() == pytest.approx(payments.astype(float)[payments.astype(float) >= 10].sum())


def test_duplicates_reference(payments):
    d = duplicates(payments, top=2)
    assert d["value"].tolist() == [50.0, 1153.35]
    assert d["count"].tolist() == [6022, 2264]
    # the records behind the count are the rows holding that amount
    assert sorted(d["records"].iat[1]) == sorted(np.flatnonzero(payments.astype(float) == 1153.35).tolist())


def test_exact_and_r_float_differ_where_source_says(payments):
    """All values > 0: R's float truncation bins 0.29 as 28 (SOURCE.md); the published R first-two
    chi-square is 32094.x. The exact digits move those rows, and the chi-square with them."""
    x = payments.astype(float)
    pos = x[x > 0]
    r_style = benford(pos, "first-two", extraction="r-float")
    exact = benford(payments[x > 0], "first-two")
    assert int(r_style.chi2) == 32094
    assert exact.chi2 == pytest.approx(32100.9011, abs=1e-3)
    # the difference is exactly the rows whose text has first-two digits 29 / 58 but R bins lower
    n29 = int((payments[x > 0].str.match(r"^0\.29$|^0\.58$")).sum())
    assert n29 > 0
    t_exact, t_r = exact.table.set_index("digit")["count"], r_style.table.set_index("digit")["count"]
    assert (t_exact - t_r).abs().sum() > 0
    assert t_exact.sum() == t_r.sum()


def test_float_input_equals_text_input(payments):
    a = benford(payments, "first-two", min_value=10)
    b = benford(payments.astype(float), "first-two", min_value=10)
    np.testing.assert_array_equal(a.table["count"], b.table["count"])


# --- published R benford.analysis 0.1.5 example outputs on corporate.payment ----------------------
# `benford(corporate.payment$Amount)` (man/benford.Rd, README; sign = "positive", all values > 0) and
# `benford(corporate.payment$Amount, 2, sign = "both")` (man/benford.analysis.Rd), printed by R:
R_PUBLISHED = {
    "positive": dict(n=185083, n_second_order=65504, mad=0.002336614, chi2=32094, l2=0.0039958, ks=0.033195,
                     dfactor=-1.065467, top_abs_diff=[(50, 5938.25), (11, 3331.98), (10, 2811.92), (14, 1043.68),
                                                      (98, 889.95)]),
    "absolute": dict(n=189347, n_second_order=65853, mad=0.002336108, chi2=31890, l2=0.0041627, ks=0.033443,
                     dfactor=-1.017475, top_abs_diff=[(50, 5929.5833), (11, 3496.8494), (10, 2835.4192),
                                                      (14, 1110.4465), (98, 885.1466), (99, 775.5372), (90, 729.3459),
                                                      (92, 702.9929), (25, 651.7883), (41, 649.5985)]),
}


@pytest.mark.parametrize("sign", ["positive", "absolute"])   # R's sign = "both" pools magnitudes
def test_r_published_example_outputs(payments, sign):
    ref = R_PUBLISHED[sign]
    x = payments.astype(float)
    r = benford(x, "first-two", sign=sign, extraction="r-float")   # R's digit rule (0.29 -> 28)
    assert r.n == ref["n"]
    assert r.mad == pytest.approx(ref["mad"], abs=5e-10)        # printed to 7 significant digits
    assert round(r.chi2) == ref["chi2"]                          # printed as 32094 / 31890
    assert r.ks == pytest.approx(ref["ks"], abs=5e-7)            # D printed to 5 significant digits
    assert r.conformity == "nonconformity"
    # "The 5 largest deviations": |count - n p| by digit group, printed to 2 (4) decimals
    t = r.table.assign(abs_diff=(r.table["count"] - r.table["expected"] * r.n).abs())
    top = t.sort_values("abs_diff", ascending=False, kind="mergesort").head(len(ref["top_abs_diff"]))
    assert top["digit"].tolist() == [d for d, _ in ref["top_abs_diff"]]
    np.testing.assert_allclose(top["abs_diff"], [v for _, v in ref["top_abs_diff"]], atol=0.006)
    # the mantissa arc test reads magnitudes, not digits: same L2 with exact text input
    assert mantissa_arc(payments, sign=sign).l2 == pytest.approx(ref["l2"], abs=5e-8)
    # R's distortion factor divides by the mistyped 39.0685 (numerator 39.0865): undo it to compare means
    df = distortion_factor(payments, sign=sign)
    assert 100 * (df.actual_mean - 39.0865) / 39.0685 == pytest.approx(ref["dfactor"], abs=5e-7)
    # second order: R sorts the values selected by `sign` (positives, or magnitudes for "both") and
    # counts the non-zero differences; a -50.00 credit is never differenced against a payment
    assert second_order(payments, "first-two", sign=sign).n == ref["n_second_order"]


def test_r_second_order_count_values_at_least_ten(payments):
    """tests/testthat/test-benford.R: Amount >= 10 gives n.second.order = 64578 (first and first-two)."""
    x = payments.astype(float)
    for test in ("first", "first-two"):
        assert second_order(payments[x >= 10], test).n == 64578
        assert second_order(payments, test, min_value=10).n == 64578


def test_r_duplicates_tables(payments):
    """test-benford.R (Amount >= 10) and man/benford.analysis.Rd (sign = "both": magnitudes pooled)."""
    d = duplicates(payments, top=6, min_value=10)
    assert d["value"].tolist() == [50.00, 1153.35, 1083.45, 150.00, 988.35, 1159.35]
    assert d["count"].tolist() == [6022, 2264, 1185, 1056, 1018, 976]
    both = duplicates(payments, top=5, sign="absolute")
    assert both["value"].tolist() == [50.00, 1153.35, 1083.45, 150.00, 988.35]
    assert both["count"].tolist() == [6030, 2279, 1190, 1116, 1025]
    # the records of a pooled value are the rows holding +50.00 or -50.00
    x = payments.astype(float)
    assert sorted(both["records"].iat[0]) == np.flatnonzero(x.abs() == 50.0).tolist()


def test_r_census_2009_reference(shared_data):
    """test-benford.R: census.2009 pop >= 10, first-two digits: n 19482, round(chi-square) 108,
    dfactor 0.74 (testthat tolerance 1e-3, relative)."""
    pop = pd.read_csv(shared_file(shared_data, "benford/census.2009.csv"), dtype={"pop.2009": str})["pop.2009"]
    r = benford(pop, "first-two", min_value=10)
    assert r.n == 19482
    assert round(r.chi2) == 108
    df = distortion_factor(pop, min_value=10)
    r_df = 100 * (df.actual_mean - 39.0865) / 39.0685
    assert r_df == pytest.approx(0.74, rel=1e-3)
    assert df.distortion_factor == pytest.approx(0.74, rel=1e-3)   # the corrected constant moves it by 0.05 %


# --- hand-worked examples -----------------------------------------------------------------------

def test_benford_sample_is_close_conformity():
    rng = np.random.default_rng(1)
    x = 10 ** rng.uniform(0, 6, 50_000)   # log-uniform over six decades: Benford exactly
    r = benford(x, "first")
    assert r.applicable
    assert r.conformity == "close conformity"
    assert r.p_value > 0.001
    assert abs(r.excess_mad) < 3 * r.expected_mad


def test_not_applicable_gives_reason_and_no_numbers():
    r = benford([12.5, 13.1, 250.0], "first-two")
    assert not r.applicable and "at least 1146" in r.reason
    assert r.mad is None and r.chi2 is None and r.p_value is None and r.ks is None
    assert r.to_dict()["digits"] == []
    narrow = benford(np.linspace(100, 150, 5000), "first")
    assert not narrow.applicable and "orders of magnitude" in narrow.reason


def test_values_below_ten_noted_for_first_two_digits():
    """Nigrini (2012) reads first-two (and second) digits of values >= 10, first-three of values
    >= 100: '5' would be read as 50. Without min_value the result says how many such values it tested."""
    x = np.r_[10 ** np.random.default_rng(9).uniform(1, 4, 2000), np.arange(1, 10.0).repeat(10)]
    for test, below in (("first-two", 90), ("second", 90), ("first-three", 90 + int((x[:2000] < 100).sum()))):
        r = benford(x, test)
        assert any(n.startswith(f"{below} of the 2090 values tested are below") for n in r.notes), (test, r.notes)
        assert r.counts.n_below(2 if test == "first-three" else 1) == below
    assert not any("are below" in n for n in benford(x, "first-two", min_value=10).notes)
    assert not any("are below" in n for n in benford(x, "first").notes)


def test_negatives_and_zeros_left_out_with_note():
    x = np.r_[10 ** np.random.default_rng(2).uniform(0, 5, 2000), -np.arange(1, 101.0), np.zeros(7)]
    r = benford(x, "first")
    assert r.n == 2000
    assert any("100 negative" in n for n in r.notes) and any("7 zeros" in n for n in r.notes)
    assert benford(x, "first", sign="negative").n == 100
    assert benford(x, "first", sign="absolute").n == 2100


def test_last_digit_preference_detects_zero_and_five():
    rng = np.random.default_rng(3)
    clean = rng.integers(1000, 99999, 3000).astype(str)
    cooked = np.where(rng.random(3000) < 0.3, (rng.integers(100, 9999, 3000) * 10).astype(str), clean)
    assert benford(clean, "last").p_value > 0.001
    r = benford(cooked, "last")
    assert r.p_value < 1e-10
    assert set(r.suspects["digit"]) == {0}


def test_last_two_digits_cents():
    """Last-two digits (Nigrini 2012, ch. 8): uniform 00-99 (1/100 each, at least 500 values for an
    expected 5); cents heaped on .00 and .50 show as those two groups. Values with fewer than 4
    significant digits (12.5 -> 50 has the second digit in it) are left out."""
    rng = np.random.default_rng(12)
    amounts = rng.integers(100, 10000, 3000) + rng.integers(0, 100, 3000) / 100
    clean = pd.Series([f"{v:.2f}" for v in amounts])
    r = benford(clean, "last-two")
    assert r.applicable and r.n == 3000 and r.conformity is None
    assert r.expected.tolist() == [0.01] * 100 and r.chi2_df == 99 and r.p_value > 1e-3
    heaped = pd.Series([f"{np.floor(v) + rng.choice([0.0, 0.5]):.2f}" if i % 4 == 0 else f"{v:.2f}"
                        for i, v in enumerate(amounts)])
    h = benford(heaped, "last-two")
    assert h.p_value < 1e-10 and set(h.suspects["digit"]) == {0, 50}
    short = benford(pd.Series(["12.5"] * 10 + list(clean)), "last-two")
    assert short.n == 3000 and short.counts.n_short == 10


def test_last_digit_uses_reported_precision():
    # 12.30 reported with two decimals ends in 0; as a float it would end in 3
    r = benford(pd.Series(["112.30"] * 60 + ["113.41"] * 40), "last")
    assert r.table.set_index("digit")["count"].to_dict()[0] == 60


def test_suspect_records_are_the_rows():
    x = pd.Series(np.r_[10 ** np.random.default_rng(4).uniform(1, 5, 3000), np.full(200, 50.0)],
                  index=[f"r{i}" for i in range(3200)])
    r = benford(x, "first-two")
    s = r.suspects.set_index("digit")
    assert 50 in s.index
    recs = s.at[50, "records"]
    assert set(f"r{i}" for i in range(3000, 3200)) <= set(recs)
    assert len(recs) == s.at[50, "count"]


def test_result_reprs_route_through_summary():
    r = benford(10 ** np.random.default_rng(5).uniform(0, 4, 3000), "first")
    text = r.summary().as_text()
    assert str(r) == text == repr(r)
    assert "MAD" in r._repr_html_() and "<table>" in r._repr_html_()


def test_bad_test_name_lists_allowed():
    with pytest.raises(ValueError, match="first-two"):
        benford([1, 2, 3], "third")


def test_unknown_sign_is_an_error_in_every_companion_test():
    """R's sign = "both" is our "absolute": the name is refused, with the allowed ones, not read as one."""
    for fn in (summation, duplicates, second_order, mantissa_arc, distortion_factor):
        with pytest.raises(ValueError, match="positive, negative, absolute"):
            fn(["12.5", "130", "7"], sign="both")


def test_second_order_uses_exact_differences():
    # prices on a cent grid: every difference is a multiple of 0.01; exact differences give
    # leading digits of integers of cents, never 99 from 0.0099999
    x = pd.Series([f"{v:.2f}" for v in np.arange(1000, 1000 + 0.01 * 3000, 0.01)])
    r = second_order(x, "first-two")
    assert r.table.set_index("digit")["count"][10] == r.n     # every difference is 0.01 -> 10
    # the grid, not min_value, explains the small differences
    assert any(n.startswith(f"{r.n} differences are 1-9 steps of the reporting grid (0.01)") for n in r.notes)
    assert not any("are below 10" in n for n in r.notes)


def test_second_order_selects_signs_like_benford():
    """Negatives and zeros are not sorted in with the positives (R benford.analysis extract.digits:
    the positives, or the magnitudes with sign="both"); what is left out is said."""
    x = pd.Series(["-5.00", "0", "1.00", "2.50", "4.00", "-2.50"])
    r = second_order(x, "first")
    assert r.n == 2                                              # 2.50 - 1.00, 4.00 - 2.50: both 1.50
    assert r.table.set_index("digit")["count"][1] == 2
    assert any("1 zeros" in n for n in r.notes) and any("2 negative" in n for n in r.notes)
    assert second_order(x, "first", sign="negative").n == 1      # 5.00 - 2.50
    # magnitudes 1, 2.5, 2.5, 4, 5: differences 1.5, 0, 1.5, 1 -> one zero difference left out
    a = second_order(x, "first", sign="absolute")
    assert a.n == 3 and any("1 zero differences" in n for n in a.notes)


def test_summation_equal_expected_sums_under_benford():
    """Nigrini (2012, ch. 8): under Benford's law every first-two group has the same expected sum.
    For X = 10^U, U ~ Uniform(1, 4), density 1/(3 x ln 10) on [10, 10^4): group d collects
    [d 10^k, (d + 1) 10^k) for k = 0, 1, 2, so E[X 1_d] = sum_k 10^k / (3 ln 10) for every d and
    E[X^2 1_d] = sum_k (2d + 1) 10^(2k) / (6 ln 10). Each group's sum is within 4.5 of its
    standard deviations of N E[X 1_d]."""
    n = 200_000
    x = 10 ** np.random.default_rng(8).uniform(1, 4, n)
    s = summation(x, 2)
    k = np.array([1.0, 10.0, 100.0])
    d = np.arange(10, 100)
    m1 = k.sum() / (3 * np.log(10))
    m2 = (2 * d + 1) * (k ** 2).sum() / (6 * np.log(10))
    z = (s["sum"].to_numpy() - n * m1) / np.sqrt(n * (m2 - m1 ** 2))
    assert np.abs(z).max() < 4.5
    assert (s["expected_share"] == 1 / 90).all()
    np.testing.assert_allclose(s["excess"], s["sum"] - s["sum"].sum() / 90)
    # first digit: nine equal expected sums
    s1 = summation(x, 1)
    assert len(s1) == 9 and (s1["expected_share"] == 1 / 9).all()


def test_summation_hand_worked():
    s = summation(pd.Series(["10", "11.5", "5", "99.99", "-20", "0"]), 2).set_index("digit")
    assert s.loc[10, "sum"] == 10 and s.loc[11, "sum"] == 11.5 and s.loc[50, "sum"] == 5 and s.loc[99, "sum"] == 99.99
    assert s["n"].sum() == 4 and s["sum"].sum() == pytest.approx(126.49)     # -20 and 0 left out
    assert s.loc[12, "excess"] == pytest.approx(-126.49 / 90)
    assert summation(pd.Series(["10", "5"]), 2, min_value=10)["n"].sum() == 1


def test_mantissa_arc_formula():
    # mantissas 0 and 0.5 cancel exactly: L2 = 0, p = 1; all mantissas 0: L2 = 1, p = exp(-n)
    r = mantissa_arc([10.0, 10 ** 1.5] * 50)
    assert r.l2 == pytest.approx(0.0, abs=1e-12) and r.p_value == pytest.approx(1.0)
    r1 = mantissa_arc([10.0, 100.0, 1000.0])
    assert r1.l2 == pytest.approx(1.0) and r1.p_value == pytest.approx(np.exp(-3))


def test_distortion_factor_constant_and_sign():
    rng = np.random.default_rng(6)
    benf = 10 ** rng.uniform(1, 5, 200_000)
    r = distortion_factor(benf)
    assert r.expected_mean == pytest.approx(39.0865, abs=5e-5)
    assert abs(r.distortion_factor) < 0.5
    inflated = distortion_factor(benf * 1.2)   # shifts collapsed values up except across decades
    assert inflated.actual_mean != pytest.approx(r.actual_mean)
