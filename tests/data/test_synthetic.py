"""Tests of the seeded synthetic sample generator (detect/data/synthetic.py).

The checks recompute each property from the written figures (sums, identities, chi-square of last
digits against the uniform law, growth rates), never against stored earlier output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detect.data.synthetic import INDICATOR_SPECS, KINDS, MONEY, PLANTS_PER_KIND, SAMPLE_COLUMNS, TRUTH_COLUMNS, \
    generate, main, write_sample
from detect.exceptions import InputError


@pytest.fixture(scope="module")
def full():
    return generate()


@pytest.fixture(scope="module")
def half():
    return generate(effect=0.5)


def _wide(panel: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """region x period table of one indicator, in units of its last reported digit (exact integers)."""
    dec = INDICATOR_SPECS[indicator][1]
    sub = panel[panel["indicator"] == indicator]
    units = sub["value"].str.replace(".", "", regex=False).astype(np.int64)
    assert (sub["value"].str.partition(".")[2].str.len() == dec).all()
    return pd.Series(units.to_numpy(), index=pd.MultiIndex.from_arrays([sub["region_code"], sub["period"]])).unstack()


def test_bytes_deterministic_and_seed_dependent(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_sample(a)
    write_sample(b)
    write_sample(c, seed=7)
    for f in ("panel.csv", "truth.csv"):
        assert (a / f).read_bytes() == (b / f).read_bytes()
        assert (a / f).read_bytes() != (c / f).read_bytes()
    raw = (a / "panel.csv").read_bytes()
    assert b"\r\n" not in raw
    assert raw.decode("utf-8").splitlines()[0] == ",".join(SAMPLE_COLUMNS)


def test_cli_writes_files_and_rejects_bad_input(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "s"), "--clean", "--regions", "12", "--provinces", "2"]) == 0
    truth = pd.read_csv(tmp_path / "s" / "truth.csv", dtype=str)
    assert list(truth.columns) == list(TRUTH_COLUMNS) and truth.empty
    assert main(["--out", str(tmp_path / "t"), "--regions", "10"]) == 2
    assert "50 prefectures" in capsys.readouterr().err
    assert main(["--out", str(tmp_path / "u"), "--regions", "60", "--provinces", "4"]) == 2
    assert "5 provinces" in capsys.readouterr().err
    with pytest.raises(InputError):
        generate(effect=-1)


def test_panel_shape_and_regions(full):
    panel, _ = full
    assert list(panel.columns) == list(SAMPLE_COLUMNS)
    codes = panel["region_code"].unique()
    assert all(len(c) == 6 and c.startswith("9") for c in codes)
    prov = panel[panel["parent_code"] == ""]["region_code"].unique()
    pref = panel[panel["parent_code"] != ""]
    assert len(prov) == 8 and pref["region_code"].nunique() == 100
    assert set(pref["parent_code"]) == set(prov)
    assert set(panel["indicator"]) == set(INDICATOR_SPECS)
    assert panel.groupby("region_code")["region_name"].nunique().max() == 1
    debt = panel[panel["indicator"] == "debt_balance"]["period"].astype(int)
    assert debt.min() == 2014 and panel[panel["indicator"] == "debt_limit"]["period"].astype(int).min() == 2015
    assert panel[panel["indicator"] == "pm25"]["period"].astype(int).min() == 2013
    assert panel.duplicated(["region_code", "indicator", "period"]).sum() == 0


def test_effect_zero_equals_clean_and_nothing_planted(full):
    clean_panel, clean_truth = generate(clean=True)
    zero_panel, zero_truth = generate(effect=0)
    assert clean_truth.empty and zero_truth.empty and list(clean_truth.columns) == list(TRUTH_COLUMNS)
    pd.testing.assert_frame_equal(clean_panel, zero_panel)
    # same rows, and the planted panel differs only in planted regions (plus their provinces)
    panel, truth = full
    assert len(panel) == len(clean_panel)
    diff = panel["value"] != clean_panel["value"]
    touched = set(panel.loc[diff, "region_code"])
    planted = set(truth["region_code"])
    parents = set(panel.loc[panel["region_code"].isin(planted), "parent_code"]) - {""}
    assert touched <= planted | parents
    assert planted <= touched


def test_every_kind_planted(full):
    _, truth = full
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    # five distinct regions per kind, so recall >= 0.8 is readable as 4 of 5
    n = truth.groupby("kind")["region_code"].nunique()
    assert set(n.index) == set(KINDS)
    assert (n == PLANTS_PER_KIND).all() and len(truth) == PLANTS_PER_KIND * len(KINDS)
    assert truth["period_start"].str.fullmatch(r"\d{4}").all()
    pref = truth[truth["kind"] != "aggregation_mismatch"]
    assert pref["region_code"].str.endswith("0000").sum() == 0
    # one revenue-inflation region also surges its debt, one digit-preference region drops its PM2.5
    shared = pref.groupby("region_code")["kind"].agg(lambda k: tuple(sorted(k)))
    assert sorted(shared[shared.str.len() > 1]) == [("debt_surge", "revenue_inflation"), ("digit_preference", "pm25_drop")]
    assert pref["region_code"].nunique() == 7 * PLANTS_PER_KIND - 2


@pytest.mark.parametrize("which", ["full", "clean"])
def test_provinces_are_sums_of_prefectures(full, which):
    panel, truth = full if which == "full" else generate(clean=True)
    parents = panel.drop_duplicates("region_code").set_index("region_code")["parent_code"]
    mism = truth[truth["kind"] == "aggregation_mismatch"]
    for ind, (_, _, additive, _) in INDICATOR_SPECS.items():
        if not additive:
            continue
        w = _wide(panel, ind)
        kids = w[parents.reindex(w.index) != ""]
        sums = kids.groupby(parents.reindex(kids.index).to_numpy()).sum(min_count=1)
        prov = w.loc[sums.index]
        bad = (prov != sums) & sums.notna()
        expected = set()
        for t in mism.itertuples():
            if ind == t.indicator or (t.indicator == "fiscal_revenue" and ind == "nontax_revenue"):
                expected |= {(t.region_code, str(y)) for y in range(int(t.period_start), int(t.period_end) + 1)}
        flat = bad.stack()
        assert set(flat[flat].index) == expected, ind
        # the planted mismatch is 5-10 % of the sum at effect 1
        for code, year in expected if ind in set(mism["indicator"]) else ():
            assert 0.04 < prov.loc[code, year] / sums.loc[code, year] - 1 < 0.11


def test_fiscal_identity_exact(full):
    panel, _ = full
    f, t, n = (_wide(panel, k) for k in ("fiscal_revenue", "tax_revenue", "nontax_revenue"))
    assert (f == t + n).all().all()
    assert (n > 0).all().all()
    share = n / f
    assert share.min().min() > 0.10
    land, fund = _wide(panel, "land_revenue"), _wide(panel, "fund_revenue")
    assert (land < fund).all().all()


def test_rate_aggregates_are_weighted_means(full):
    panel, _ = full
    parents = panel.drop_duplicates("region_code").set_index("region_code")["parent_code"]
    g, gdp = _wide(panel, "gdp_real_growth").astype(float), _wide(panel, "gdp").astype(float)
    kids = g.index[parents.reindex(g.index) != ""]
    grp = parents.reindex(kids).to_numpy()
    wmean = (g.loc[kids] * gdp.loc[kids]).groupby(grp).sum() / gdp.loc[kids].groupby(grp).sum()
    assert (np.abs(g.loc[wmean.index] - wmean) <= 0.5 + 1e-9).all().all()  # within rounding (tenths)


def test_revenue_inflation_correction(full):
    panel, truth = full
    f, t = _wide(panel, "fiscal_revenue"), _wide(panel, "tax_revenue")
    rows = truth[truth["kind"] == "revenue_inflation"]
    assert len(rows) >= 3
    for r in rows.itertuples():
        c = r.period_end
        prev = str(int(c) - 1)
        drop = 1 - f.loc[r.region_code, c] / f.loc[r.region_code, prev]
        assert drop >= 0.20, (r.region_code, drop)
        assert abs(t.loc[r.region_code, c] / t.loc[r.region_code, prev] - 1) < 0.2  # tax has no drop to match
        assert 0.2 <= float(r.effect_size) <= 0.35


def test_gdp_without_proxy_and_correction(full):
    panel, truth = full
    gdp, elec = _wide(panel, "gdp").astype(float), _wide(panel, "electricity").astype(float)
    rows = truth[truth["kind"] == "gdp_without_proxy"]
    corrected = 0
    for r in rows.itertuples():
        s, e = int(r.period_start), int(r.period_end)
        # reported GDP outgrows electricity in the window by several points a year
        lg = np.log(gdp.loc[r.region_code, str(e)] / gdp.loc[r.region_code, str(s - 1)])
        le = np.log(elec.loc[r.region_code, str(e)] / elec.loc[r.region_code, str(s - 1)])
        if "corrected" in r.description:
            corrected += 1
            assert gdp.loc[r.region_code, str(e)] < 0.95 * gdp.loc[r.region_code, str(e - 1)]
        else:
            assert lg - le > 0.02 * (e - s + 1)
    assert corrected == 1


def test_debt_surge_exceeds_limit(full):
    panel, truth = full
    debt, limit = _wide(panel, "debt_balance").astype(float), _wide(panel, "debt_limit").astype(float)
    planted = set(truth["region_code"])
    pref = [c for c in debt.index if not c.endswith("0000")]
    peers = debt.loc[[c for c in pref if c not in planted]]
    peer_growth = np.nanmedian((peers.iloc[:, 1:].to_numpy() / peers.iloc[:, :-1].to_numpy()) - 1)
    assert 0.05 < peer_growth < 0.16
    clean_over = (peers.loc[:, limit.columns] > limit.loc[peers.index]).to_numpy().sum()
    assert clean_over == 0
    for r in truth[truth["kind"] == "debt_surge"].itertuples():
        yrs = [str(y) for y in range(int(r.period_start), int(r.period_end) + 1)]
        prev = [str(int(y) - 1) for y in yrs]
        growth = debt.loc[r.region_code, yrs].to_numpy() / debt.loc[r.region_code, prev].to_numpy() - 1
        assert np.median(growth) > 0.25
        assert (debt.loc[r.region_code, yrs] > limit.loc[r.region_code, yrs]).any()


def _last_digits(panel, regions, indicators=MONEY):
    v = panel[panel["region_code"].isin(regions) & panel["indicator"].isin(indicators)]["value"]
    return np.bincount(v.str[-1].astype(int), minlength=10)


def test_digit_preference_vs_clean(full):
    panel, truth = full
    dp = truth[truth["kind"] == "digit_preference"]["region_code"]
    counts = _last_digits(panel, dp)
    assert stats.chisquare(counts).pvalue < 1e-6
    assert counts[0] + counts[5] > 0.35 * counts.sum()
    prefs = panel.loc[panel["parent_code"] != "", "region_code"].unique()
    clean = [c for c in prefs if c not in set(truth["region_code"])]
    assert stats.chisquare(_last_digits(panel, clean)).pvalue > 0.001
    # each clean region on its own, Bonferroni over regions: none far from uniform
    p = [stats.chisquare(_last_digits(panel, [c])).pvalue for c in clean]
    assert min(p) * len(p) > 0.001


def test_smoothed_and_bunched_growth(full):
    panel, truth = full
    g = _wide(panel, "gdp_real_growth") / 10
    tgt = _wide(panel, "growth_target") / 10
    prefs = [c for c in g.index if not c.endswith("0000")]
    clean = [c for c in prefs if c not in set(truth["region_code"])]
    for r in truth[truth["kind"] == "smoothed_growth"].itertuples():
        yrs = [str(y) for y in range(int(r.period_start), int(r.period_end) + 1)]
        peer_sd = np.median(np.std(np.diff(g.loc[clean, yrs].to_numpy(), axis=1), axis=1))
        assert np.std(np.diff(g.loc[r.region_code, yrs].to_numpy())) < peer_sd / 3
    d = (g - tgt).loc[prefs]
    near = ((d >= -1e-9) & (d <= 0.3 + 1e-9))
    assert near.loc[clean].to_numpy().mean() < 0.2
    for r in truth[truth["kind"] == "target_bunching"].itertuples():
        yrs = [str(y) for y in range(int(r.period_start), int(r.period_end) + 1)]
        assert near.loc[r.region_code, yrs].mean() >= 0.7


def test_pm25_drop(full):
    panel, truth = full
    pm = _wide(panel, "pm25").astype(float)
    parents = panel.drop_duplicates("region_code").set_index("region_code")["parent_code"]
    for r in truth[truth["kind"] == "pm25_drop"].itertuples():
        y = r.period_start
        ratio = pm.loc[:, y] / pm.loc[:, str(int(y) - 1)]
        sib = [c for c in parents.index[parents == parents[r.region_code]] if c != r.region_code]
        assert ratio[r.region_code] < 0.85
        assert ratio[r.region_code] < ratio[sib].median() - 0.15
        # and it stays low: the level two years on is still well below the siblings' path
        later = str(min(int(y) + 2, 2022))
        rel = pm.loc[:, later] / pm.loc[:, str(int(y) - 1)]
        assert rel[r.region_code] < rel[sib].median() - 0.1


def test_proxies_track_clean_gdp(full):
    panel, truth = full
    gdp = np.log(_wide(panel, "gdp").astype(float))
    elec = np.log(_wide(panel, "electricity").astype(float))
    prefs = [c for c in gdp.index if not c.endswith("0000") and c not in set(truth["region_code"])]
    # nominal GDP growth minus proxy growth: no region drifts by more than 3 pp a year on average
    gap = (gdp.loc[prefs].diff(axis=1) - elec.loc[prefs].diff(axis=1)).iloc[:, 1:]
    real = np.log1p(_wide(panel, "gdp_real_growth").loc[prefs].iloc[:, 1:] / 1000)
    assert np.corrcoef(real.to_numpy().ravel(), elec.loc[prefs].diff(axis=1).iloc[:, 1:].to_numpy().ravel())[0, 1] > 0.6
    assert gap.notna().all().all()


def test_half_effect_halves_sizes(full, half):
    _, t1 = full
    _, t5 = half
    key = ["region_code", "kind", "indicator"]
    m = t1.merge(t5, on=key, suffixes=("_1", "_5"))
    assert len(m) == len(t1) == len(t5)
    ratio = m["effect_size_5"].astype(float).abs() / m["effect_size_1"].astype(float).abs()
    assert ratio.between(0.3, 0.7).all(), m.loc[~ratio.between(0.3, 0.7), key]
    # measured from the data: the revenue correction drop is about halved too
    drops = []
    for t, panel in ((t1, full[0]), (t5, half[0])):
        f = _wide(panel, "fiscal_revenue").astype(float)
        ri = t[t["kind"] == "revenue_inflation"]
        drops.append(np.mean([1 - f.loc[r.region_code, r.period_end] / f.loc[r.region_code, str(int(r.period_end) - 1)]
                              for r in ri.itertuples()]))
    assert 0.25 < drops[1] / drops[0] < 0.7


@pytest.mark.parametrize("sub, kwargs", [("", {}), ("clean", {"clean": True}), ("half", {"effect": 0.5})])
def test_committed_sample_is_what_the_documented_command_writes(repo, tmp_path, sub, kwargs):
    """data/sample/ must not go stale: regenerating with the README's commands gives the same bytes."""
    committed = repo / "data" / "sample" / sub
    if not (committed / "panel.csv").exists():
        pytest.skip(f"{committed} not present (regenerate with python -m detect.data.synthetic)")
    write_sample(tmp_path, **kwargs)
    for f in ("panel.csv", "truth.csv"):
        assert (committed / f).read_bytes() == (tmp_path / f).read_bytes(), f"{committed / f} is stale"


def test_loads_through_the_input_contract_without_exclusions(full):
    """The sample is valid input: the loader keeps every row and the exact reported text."""
    from detect.data import Panel

    panel, _ = full
    p = Panel.from_frame(panel)
    assert p.meta["rows_excluded"] == 0 and p.meta["rows_used"] == len(panel)
    key = ["region_code", "indicator", "period"]
    m = panel.merge(p.data[key + ["raw"]].astype(str), on=key, how="left")
    assert (m["raw"] == m["value"]).all()
