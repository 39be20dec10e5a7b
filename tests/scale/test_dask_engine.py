"""Dask engine (detect.scale.dask_engine): results identical to the in-memory engine.

A local cluster of 2 workers is created once for the module (threads, processes=False, for speed);
one test runs the command line with the default local cluster of 2 worker *processes*. Nothing here
contacts a non-loopback address. Files are written to tmp_path (reference data is read in place,
never copied into the repository).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'detect[dask]')")

from _shared_data import shared_file  # noqa: E402
from detect.cli import main  # noqa: E402
from detect.data.load import load as load_memory  # noqa: E402
from detect.digits import BenfordResult, benford, count_digits, count_digits_by_group  # noqa: E402
from detect.exceptions import InputError, UsageError  # noqa: E402
from detect.scale import dask_engine as de  # noqa: E402
from detect.scale.streaming import aggregate_frame, value_counts_array  # noqa: E402
from .test_streaming import assert_same_counts, assert_same_result  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with de.cluster(processes=False) as c:
        assert len(c.scheduler_info()["workers"]) == 2
        yield c


@pytest.fixture(scope="module")
def payments(shared_data):
    path = shared_file(shared_data, "benford/corporate.payment.csv.gz")
    return path, pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def payments_plain(payments, tmp_path_factory):
    """The payments as an uncompressed CSV (gzip is one partition; plain CSV splits into many)."""
    path = tmp_path_factory.mktemp("pay") / "payments.csv"
    df = payments[1].copy()
    df["Group"] = df["VendorNum"].str[:2]           # a coarser synthetic grouping column
    df.to_csv(path, index=False)
    return path, df


# --- reference data sets ---------------------------------------------------------------------------

def test_payments_gz_equal_memory_and_reference(client, payments):
    path, df = payments
    res = BenfordResult(de.dask_counts(path, "Amount", "first-two", min_value=10, client=client))
    assert res.n == 177763
    assert res.mad == pytest.approx(0.0024299059, abs=5e-11)       # R benford.analysis, published
    assert res.chi2 == pytest.approx(32659.0522, abs=5e-5)
    assert_same_result(res, benford(df["Amount"], "first-two", min_value=10))


def test_payments_many_partitions_equal_memory(client, payments_plain):
    path, df = payments_plain
    ddf = de.read_frame(path, ["Amount"], blocksize=256 * 1024)
    assert ddf.npartitions >= 10
    for test in ("first-three", "last-two"):
        min_sig = 3 if test.startswith("last") else 0
        got = de.dask_counts(path, "Amount", test, min_value=10, min_sig=min_sig, client=client, blocksize=256 * 1024)
        mem = count_digits(df["Amount"].to_numpy(object), test, min_value=10, min_sig=min_sig)[1]
        assert_same_counts(got, mem)
        assert_same_result(BenfordResult(got), BenfordResult(mem))


def test_census_equal_memory(client, shared_data):
    path = shared_file(shared_data, "benford/census.2009.csv")
    col = pd.read_csv(path, dtype=str, keep_default_na=False)["pop.2009"]
    assert de.read_frame(path, ["pop.2009"], blocksize=64 * 1024).npartitions >= 4
    for test in ("first", "second", "first-two"):
        got = de.dask_counts(path, "pop.2009", test, client=client, blocksize=64 * 1024)
        assert_same_result(BenfordResult(got), benford(col, test))


def test_grouped_equal_memory(client, payments_plain, tmp_path):
    """Grouped by a synthetic column (first two characters of VendorNum) over all payments, and by
    VendorNum itself on the first 30,000 payments (949 vendors, packed for the network)."""
    path, df = payments_plain
    sub = df.head(30_000)
    sub_path = tmp_path / "head.csv"
    sub.to_csv(sub_path, index=False)
    for by, p, d, bs in (("Group", path, df, 1 << 20), ("VendorNum", sub_path, sub, 256 * 1024)):
        got = de.dask_counts(p, "Amount", "first", min_value=10, group_by=by, client=client, blocksize=bs)
        mem = count_digits_by_group(d["Amount"].to_numpy(object), d[by].to_numpy(object), "first", min_value=10)
        assert set(got) == set(mem) and len(mem) > 10
        for k in mem:
            assert_same_counts(got[k], mem[k])
        if by == "Group":
            for k in list(mem)[:5]:
                assert_same_result(BenfordResult(got[k]), BenfordResult(mem[k]))


def test_parquet_row_groups_float_and_decimal(client, tmp_path):
    rng = np.random.default_rng(8)
    x = np.round(10 ** rng.uniform(0, 7, 12000), 2)
    dec = pa.array([Decimal(f"{v:.2f}") for v in x], pa.decimal128(12, 2))
    g = rng.choice(["a", "b", "c"], len(x))
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"f": x, "d": dec, "g": g}), path, row_group_size=2000)
    assert de.read_frame(path, ["f"]).npartitions == 6
    for col, test in (("f", "first-two"), ("d", "first-two"), ("d", "last-two")):
        min_sig = 3 if test == "last-two" else 0
        got = de.dask_counts(path, col, test, min_sig=min_sig, client=client)
        ref = x if col == "f" else np.array([f"{v:.2f}" for v in x], dtype=object)
        assert_same_counts(got, count_digits(ref, test, min_sig=min_sig)[1])
    got = de.dask_counts(path, "f", "first", group_by="g", client=client)
    mem = count_digits_by_group(x, g, "first")
    for k in mem:
        assert_same_counts(got[k], mem[k])


# --- aggregates and value counts -------------------------------------------------------------------

def test_aggregates_and_value_counts_equal_memory(client, payments_plain):
    path, df = payments_plain
    agg = de.dask_aggregates(path, "Amount", "Group", client=client, blocksize=1 << 20)
    mem = aggregate_frame(df, "Amount", "Group")
    assert agg.groups == mem.groups
    exact = sum(Decimal(v) for v in df["Amount"] if v.strip())
    assert Decimal(str(agg.total_units())) / 100 == exact              # independent: decimal arithmetic
    vc = de.dask_value_counts(path, "Amount", client=client, blocksize=1 << 20)
    pd.testing.assert_frame_equal(vc.top(10), value_counts_array(df["Amount"].to_numpy(object)).top(10))
    assert (vc.top(1)["value"].iat[0], vc.top(1)["count"].iat[0]) == (50.0, 6022)


# --- detect run: the loader, partition-wise --------------------------------------------------------

def _same_load(a, b):
    pd.testing.assert_frame_equal(a.panel.data, b.panel.data)
    pd.testing.assert_frame_equal(a.exclusions, b.exclusions)
    assert (a.rows_in, a.rows_used, a.rows_excluded) == (b.rows_in, b.rows_used, b.rows_excluded)
    assert a.inputs == b.inputs


@pytest.mark.slow
def test_load_equal_memory_on_crafted_files(client, tmp_path):
    rng = np.random.default_rng(4)
    # wide by indicator, a preamble, blank rows, a text column that is not an indicator, bad cells
    lines = ["某省统计年鉴,,,,", "单位：亿元,,,,", "地区,年份,地区生产总值,备注,tax_revenue"]
    for i in range(1600):
        r = f"99{i % 40:04d}"
        note = "说明" if i % 3 else "1.5"
        val = "—" if i % 97 == 0 else ("abc" if i % 211 == 0 else f"{rng.uniform(10, 1e4):.2f}")
        lines.append(f"{r},{2000 + i // 40 % 20},{val},{note},{rng.uniform(1, 900):.2f}")
        if i % 400 == 7:
            lines.append(",,,,")
    wide = tmp_path / "wide.csv"
    wide.write_text("\n".join(lines) + "\n", encoding="utf-8")
    long = tmp_path / "long.parquet"
    n = 2000
    pq.write_table(pa.table({"region_code": [f"88{i % 25:04d}" for i in range(n)],
                             "indicator": np.where(np.arange(n) % 2, "gdp", "electricity"),
                             "period": [str(1990 + i // 50 % 30) for i in range(n)],
                             "value": np.round(rng.uniform(1, 1e3, n), 3)}), long, row_group_size=300)
    for paths in ([wide, long], [wide, wide]):    # the last: every record a duplicate
        _same_load(load_memory(paths), de.load(paths, client=client, blocksize=16 * 1024))


def _messy_long_panel(tmp_path, seed=7):
    """A long CSV whose regions are spread over many partitions, and an Excel file with more of them.

    Identical and conflicting duplicates in different partitions and files, region names only in a
    later partition, an indicator without a known unit reported in two units, impossible negatives,
    electricity published rounded to tens (structural zeros), and regions whose fiscal revenue
    favours the last digits 0 and 5.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(30):
        code = f"93{r:04d}"
        for y in range(2001, 2021):
            gdp = 10 ** rng.uniform(2, 4)
            rev = 10 ** rng.uniform(1.5, 3)
            rev_txt = f"{np.floor(rev)}" if r % 7 == 0 and rng.random() < 0.7 else f"{rev:.1f}"
            tax = rev * rng.uniform(0.6, 0.9)
            tax_txt = f"{np.floor(tax)}" if r % 7 == 0 and rng.random() < 0.7 else f"{tax:.1f}"
            rows += [(code, "", "gdp", y, f"{gdp:.2f}", "亿元"), (code, "", "tax_revenue", y, tax_txt, "亿元"),
                     (code, "", "fiscal_revenue", y, rev_txt, "亿元"),
                     (code, "", "electricity", y, f"{round(10 ** rng.uniform(2, 4), -1):.0f}", "亿千瓦时"),
                     (code, "", "widgets", y, f"{rng.uniform(1, 100):.2f}", "个" if rng.random() < 0.8 else "千个")]
    rows += [(f"93{r:04d}", f"地区{r}", "gdp", 2021, "5.0", "亿元") for r in range(30)]   # names come late
    rows += [rows[i] for i in rng.choice(len(rows), 40, replace=False)]                  # identical duplicates
    conflict = [rows[i] for i in rng.choice(len(rows), 15, replace=False)]
    rows += [(c, n, ind, y, "1.23", u) for c, n, ind, y, v, u in conflict]               # conflicting ones
    rows += [("930003", "", "gdp", 1999, "-5.5", "亿元"), ("930004", "", "tax_revenue", 1999, "-1", "亿元")]
    order = rng.permutation(len(rows))
    df = pd.DataFrame([rows[i] for i in order], columns=["地区代码", "地区", "指标", "年份", "数值", "单位"])
    csv = tmp_path / "long.csv"
    df.iloc[: len(df) * 3 // 4].to_csv(csv, index=False)
    xlsx = tmp_path / "more.xlsx"
    df.iloc[len(df) * 3 // 4:].to_excel(xlsx, index=False)
    return [csv, xlsx]


@pytest.mark.slow
def test_validation_and_digit_counts_on_workers_equal_memory(client, tmp_path, monkeypatch):
    """`detect run --engine dask` validates on the workers (records shuffled by region) and counts
    each region's last digits there; the panel, exclusions, accounting, the digit counts and the
    digits detector's findings are those of the in-memory loader and detector."""
    from detect.config import load_config
    from detect.digits import detector as ddet
    from detect.registry import get_detector

    config = load_config()
    original = ddet.last_digit_table
    paths = _messy_long_panel(tmp_path)
    a = load_memory(paths)
    b = de.load(paths, client=client, blocksize=16 * 1024, config=config)
    _same_load(a, b)
    reasons = " ".join(a.exclusions["reason"])
    for why in ("conflicting duplicate", "identical duplicate", "unit differs", "negative value"):
        assert why in reasons
    pre = b.panel.meta["last_digit_counts"]
    t, notes = ddet.last_digit_table(a.panel, config)
    pd.testing.assert_frame_equal(pre.counts, ddet.region_year_counts(t))
    assert list(pre.notes) == notes and any("published rounded" in n for n in notes)
    assert pre.counts.index.get_level_values(0).nunique() == 30
    det = get_detector("digits")
    mem = det.run(a.panel, config)

    def no_recount(*args, **kw):
        raise AssertionError("the digits detector recounted a panel whose counts came from the workers")

    monkeypatch.setattr(ddet, "last_digit_table", no_recount)
    dsk = det.run(b.panel, config)
    assert [f.__dict__ for f in mem.items] == [f.__dict__ for f in dsk.items]
    assert (mem.n_tests, mem.notes) == (dsk.n_tests, dsk.notes)
    assert {f.region_code for f in mem.items} >= {"930000", "930007"}     # the 0/5 writers are found
    # counts made under other settings are not used: the detector counts the panel itself
    calls = []
    monkeypatch.setattr(ddet, "last_digit_table", lambda *a, **k: calls.append(1) or original(*a, **k))
    other = config.with_(thresholds={"digits": {"last_digit_min_sig": 4}})
    assert det.run(b.panel, other).n_tests > 0 and calls == [1]
    # a run without the digits detector counts nothing
    c = de.load(paths, client=client, blocksize=16 * 1024, config=config.with_(detectors=["growth_peers"]))
    assert "last_digit_counts" not in c.panel.meta
    pd.testing.assert_frame_equal(a.panel.data, c.panel.data)


def test_load_edge_inputs_equal_memory(client, tmp_path):
    """Excel only (read on the client, validated on the workers), every value bad (an empty panel),
    several vintages of one figure, and all three together."""
    df = pd.DataFrame({"地区": ["辽宁省", "辽宁省", "吉林省"], "指标": ["gdp"] * 3, "年份": [2015, 2016, 2015],
                       "数值": ["abc", "—", "12.5"]})
    df.to_excel(tmp_path / "x.xlsx", index=False)
    df.assign(数值="abc").to_csv(tmp_path / "bad.csv", index=False)
    pd.DataFrame({"region_code": ["210000"] * 4, "indicator": ["gdp"] * 4, "period": ["2015", "2015", "2016", "2016"],
                  "vintage": ["2016-01", "2017-01", "2017-01", "2018-01"],
                  "value": ["100.5", "98.25", "110", "109.9"]}).to_csv(tmp_path / "vint.csv", index=False)
    from detect.config import load_config

    for names in (["x.xlsx"], ["bad.csv"], ["vint.csv"], ["vint.csv", "x.xlsx", "bad.csv"]):
        paths = [tmp_path / n for n in names]
        a, b = load_memory(paths), de.load(paths, client=client, blocksize=4096, config=load_config())
        _same_load(a, b)
    assert a.rows_in == 4 + 3 + 3 and a.rows_used == 6 and b.panel.data["vintage"].nunique() == 4


def _same_counts(a, b, config):
    from detect.digits import detector as ddet

    t, notes = ddet.last_digit_table(a.panel, config)
    pre = b.panel.meta["last_digit_counts"]
    pd.testing.assert_frame_equal(pre.counts, ddet.region_year_counts(t))
    assert list(pre.notes) == notes
    return notes


def test_structural_zeros_missing_from_some_partitions(client, tmp_path):
    """A published-rounded (indicator, precision) that only some partitions hold (second review:
    the per-partition step built the panel-wide note and raised KeyError)."""
    from detect.config import load_config

    (tmp_path / "a.csv").write_text("region_code,indicator,year,value\n110000,population,2015,2154\n"
                                    "110000,population,2016,2173\n120000,population,2015,1547\n")
    (tmp_path / "b.csv").write_text("region_code,indicator,year,value\n130000,population,2015,7470.00\n"
                                    "130000,population,2016,7519.50\n")
    rows = "".join(f"{110000 + 100 * (i % 2)},gdp,{1900 + i},{10 * (i + 101)}\n" for i in range(150))
    (tmp_path / "c.csv").write_text("region_code,indicator,year,value\n" + rows)
    config = load_config()
    for names, bs in ((["a.csv", "b.csv"], 4096), (["c.csv"], 1024)):
        paths = [tmp_path / n for n in names]
        a, b = load_memory(paths), de.load(paths, client=client, blocksize=bs, config=config)
        _same_load(a, b)
        assert any("published rounded" in n for n in _same_counts(a, b, config))


def test_wide_tables_first_record_order_across_partitions(client, tmp_path):
    """Wide tables emit records column by column: which name, parent and duplicate come first must
    not depend on the partitioning (second review: the Dask loader numbered them partition by
    partition)."""
    from detect.config import load_config

    filler = "".join(f"{110000 + i * 100},R{i},,2015,{1234.5 + i},{500.1 + i}\n" for i in range(300))
    (tmp_path / "names.csv").write_text("region_code,region_name,parent_code,year,GDP,population\n"
                                        "210000,NameA,P1,2015,abc,4382.4\n" + filler
                                        + "210000,NameB,P2,2016,28669.0,4377.8\n", encoding="utf-8")
    filler = "".join(f"{110000 + i * 100},2015,{1234.5 + i},\n" for i in range(600))
    (tmp_path / "synonyms.csv").write_text("region_code,year,GDP,地区生产总值\n210000,2015,,28669.0\n" + filler
                                           + "210000,2015,28669,\n", encoding="utf-8")
    per = "".join(f"{110000 + i * 100},R{i},GDP,{1000 + i}.5,{1100 + i}.5\n" for i in range(300))
    (tmp_path / "period.csv").write_text("region_code,region_name,indicator,2015,2016\n210000,NameA,GDP,abc,28669.1\n"
                                         + per + "210000,NameB,population,4382.4,4377.8\n", encoding="utf-8")
    config = load_config()
    for name in ("names.csv", "synonyms.csv", "period.csv"):
        a = load_memory(tmp_path / name)
        b = de.load(tmp_path / name, client=client, blocksize=4096, config=config)
        _same_load(a, b)
        _same_counts(a, b, config)
    names = a.panel.data.loc[a.panel.data["region_code"] == "210000", "region_name"]
    assert set(names) == {"NameB"}


def test_counts_from_the_workers_are_not_used_for_a_subset(client, tmp_path, monkeypatch):
    """A panel derived from the loaded one (subset) is counted afresh (second review)."""
    from detect.config import load_config
    from detect.digits import detector as ddet
    from detect.registry import get_detector

    config = load_config()
    rng = np.random.default_rng(5)
    rows = "".join(f"{c},gdp,{y},{rng.uniform(100, 999):.2f}\n" for c in (110000, 120000, 310000, 320000)
                   for y in range(1900, 2000))
    (tmp_path / "p.csv").write_text("region_code,indicator,year,value\n" + rows)
    b = de.load(tmp_path / "p.csv", client=client, config=config)
    sub = b.panel.subset(regions=["110000"])
    calls = []
    original = ddet.last_digit_table
    monkeypatch.setattr(ddet, "last_digit_table", lambda *a, **k: calls.append(1) or original(*a, **k))
    got = get_detector("digits").run(sub, config)
    assert calls == [1] and got.n_tests == 1 and {f.region_code for f in got.items} <= {"110000"}
    get_detector("digits").run(b.panel, config)
    assert calls == [1]          # the loaded panel itself uses the workers' counts


def test_load_gzip_gb18030_wide_by_period(client, tmp_path):
    import gzip

    rows = ["地区,指标,2018,2019,2020"] + [f"北京市,地区生产总值,{i}.5,{i + 1}.25,{i + 2}" for i in range(50)] \
        + ["上海市,税收收入,1,—,3", ",,,,"]
    path = tmp_path / "gbk.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode("gb18030")))
    a, b = load_memory(path), de.load(path, client=client)
    _same_load(a, b)
    assert a.inputs[0]["format"] == "csv (gb18030)" and a.rows_excluded > 0


def test_load_equal_memory_on_sample_panel(client, repo):
    path = repo / "data" / "sample" / "panel.csv"
    if not path.exists():
        pytest.skip("data/sample/panel.csv is absent (python -m detect.data.synthetic --out data/sample)")
    _same_load(load_memory(path), de.load(path, client=client, blocksize=256 * 1024))


def test_load_errors_as_the_loader(client, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no recognisable columns"):
        de.load(junk, client=client)
    with pytest.raises(InputError, match="no such file"):
        de.load(tmp_path / "none.csv", client=client)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        de.load(empty, client=client)


# --- command line ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_dask_processes_equal_memory(tmp_path, capsys):
    """`detect benford --engine dask` with the default local cluster (2 worker processes) prints the
    same JSON as the default engine and as --engine stream."""
    rng = np.random.default_rng(12)
    path = tmp_path / "a.csv"
    pd.DataFrame({"amt": [f"{v:.2f}" for v in 10 ** rng.uniform(0, 6, 20000)],
                  "dept": rng.choice(["x", "y"], 20000)}).to_csv(path, index=False)
    outs = []
    for engine in ("memory", "stream", "dask"):
        assert main(["benford", str(path), "--column", "amt", "--group-by", "dept", "--format", "json",
                     "--engine", engine, "--chunk-rows", "3000"]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1] == outs[2]
    assert [g["group"] for g in outs[0]] and sum(g["n"] for g in outs[0]) == 20000


def test_cli_without_dask_is_a_usage_error(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_text("amt\n1.5\n")
    monkeypatch.setitem(sys.modules, "distributed", None)     # import distributed -> ImportError
    assert main(["benford", str(path), "--column", "amt", "--engine", "dask"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'detect[dask]'" in err and "Traceback" not in err
    assert main(["run", str(path), "--engine", "dask", "--quiet", "--no-register", "--out", str(tmp_path / "r")]) == 2
    assert "pip install 'detect[dask]'" in capsys.readouterr().err
    with pytest.raises(UsageError):
        de.run_loader("memory", "tcp://127.0.0.1:1")


def test_cli_bad_column_and_scheduler_misuse(tmp_path, capsys):
    path = tmp_path / "a.csv"
    path.write_text("amt\n1.5\n")
    assert main(["benford", str(path), "--column", "nope", "--engine", "dask"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    for engine in ("stream", "memory"):
        assert main(["benford", str(path), "--column", "amt", "--engine", engine,
                     "--scheduler", "tcp://127.0.0.1:1"]) == 2
        assert "--scheduler is for --engine dask" in capsys.readouterr().err
    assert main(["run", str(path), "--scheduler", "tcp://127.0.0.1:1", "--quiet", "--no-register",
                 "--out", str(tmp_path / "r")]) == 2
    assert "--scheduler is for --engine dask" in capsys.readouterr().err


def test_cli_run_dask_writes_the_same_run(client, tmp_path, monkeypatch, capsys):
    """`detect run --engine dask --scheduler ADDRESS` (the module's in-process cluster) writes the
    same findings, regions, exclusions and manifest as the default engine. The PDF report is not
    under test here."""
    import detect.report

    monkeypatch.setattr(detect.report, "render_result", lambda *a, **k: {}, raising=False)
    rng = np.random.default_rng(21)
    rows = ["地区代码,地区,年份,地区生产总值,税收收入"]
    for r in range(12):
        level = 100.0 * (r + 1)
        for y in range(2005, 2021):
            level *= 1.08 + rng.normal(0, 0.02)
            rows.append(f"99{r:04d},地区{r},{y},{level:.2f},{level * 0.08 * (1 + rng.normal(0, 0.02)):.2f}")
    rows.append("990000,地区0,2010,abc,1.0")        # a bad cell and a duplicate: exclusions
    path = tmp_path / "panel.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    outs = {}
    for engine in ("memory", "dask"):
        out = tmp_path / engine
        extra = ["--scheduler", client.scheduler.address] if engine == "dask" else []
        rc = main(["run", str(path), "--engine", engine, "--quiet", "--no-register", "--out", str(out), *extra])
        assert rc == 0, capsys.readouterr().err
        outs[engine] = out
    for name in ("findings.csv", "regions.csv", "exclusions.csv", "manifest.json"):
        mem, dsk = (outs[e] / name for e in ("memory", "dask"))
        assert mem.read_text(encoding="utf-8") == dsk.read_text(encoding="utf-8"), name
    assert len((outs["dask"] / "exclusions.csv").read_text(encoding="utf-8").splitlines()) >= 2


def test_a_ragged_row_far_down_a_csv_is_excluded_as_in_memory(client, tmp_path):
    # a row with more fields than the header (an unquoted 1,234.5), beyond the first partition: the
    # workers' parser raised ParserError and the whole run ended as an internal error (exit 3)
    lines = ["region_code,indicator,period,value,unit"]
    for i in range(1500):
        lines.append(f"99{i % 50:04d},gdp,{1990 + i // 50},{100 + i}.5,亿元")
    lines[1200] = "990049,gdp,2013,1,234.5,亿元"
    lines[1300] = "990049,gdp,2015,1,234.5,亿元,x,y"      # wider still
    p = tmp_path / "ragged.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from detect.config import load_config

    a, b = load_memory([p]), de.load([p], client=client, blocksize=4096, config=load_config())
    _same_load(a, b)
    assert a.rows_excluded == 2 and a.exclusions["reason"].str.contains("more fields than the header").all()


@pytest.mark.parametrize("where", [5, 40_000])      # in Dask's first block, or in a later partition
def test_row_split_by_an_unquoted_separator_is_refused_not_shifted(client, tmp_path, where):
    from detect.exceptions import InputError

    rows = [f"A{i % 50},{1000 + 37.13 * (i % 997):.2f}" for i in range(50_000)]
    rows[where] = "B,1,234.56"
    p = tmp_path / "pay.csv"
    p.write_text("vendor,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        de.dask_counts(p, "amount", "last", client=client, blocksize=64 * 1024)
    msg = str(e.value)
    assert msg.startswith("pay.csv: cannot read as CSV:") and 'write 1,234.56 as "1,234.56"' in msg
    if where < 1000:     # read while Dask learns the columns: the file's own line
        assert f"Expected 2 fields in line {where + 2}, saw 3" in msg
    else:                # read in a later block: the line number is the block's, and the message says so
        assert "counted from the start of one Dask block" in msg


def test_more_fields_than_the_header_in_the_first_row_is_refused(client, tmp_path):
    p = tmp_path / "pay.csv"
    p.write_text("vendor,amount\nB,1,234.56\n" + "".join(f"A,{1000 + i}.25\n" for i in range(50_000)), encoding="utf-8")
    with pytest.raises(InputError, match="pay.csv: the first data row has more fields than the header"):
        de.dask_counts(p, "amount", "last", client=client, blocksize=64 * 1024)


@pytest.mark.parametrize("layout", ["R row names", "separator after the last value"])
def test_row_names_and_trailing_separators_read_as_in_memory(client, tmp_path, layout):
    amounts = [f"{1000 + 37.13 * (i % 997):.2f}" for i in range(20_000)]
    p = tmp_path / "pay.csv"
    if layout == "R row names":
        p.write_text('"vendor","amount"\n' + "".join(f'"{i + 1}","A",{a}\n' for i, a in enumerate(amounts)))
    else:
        p.write_text("vendor,amount\n" + "".join(f"A,{a},\n" for a in amounts))
    got = de.dask_counts(p, "amount", "last", client=client, blocksize=64 * 1024)
    from detect.digits.io import count_file
    want = count_file(p, "amount", "last")
    assert got.n_in == want.n_in == 20_000 and np.array_equal(got.counts, want.counts)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_semicolon_tab_pipe_csv_sniffed_as_in_memory(client, tmp_path, sep):
    """A .csv separated by ; tab or | was 'no column' under Dask while the memory engine sniffs it."""
    from detect.digits.io import count_file

    amounts = [f"{1000 + 37.13 * (i % 997):.2f}" for i in range(5_000)]
    p = tmp_path / "sep.csv"
    p.write_text(f"vendor{sep}amount\n" + "".join(f"A{sep}{a}\n" for a in amounts), encoding="utf-8")
    got, want = de.dask_counts(p, "amount", "last", client=client), count_file(p, "amount", "last")
    assert got.n_in == want.n_in == 5_000 and np.array_equal(got.counts, want.counts)


def test_utf16_is_refused_with_what_to_use_instead(tmp_path):
    p = tmp_path / "export.csv"
    p.write_bytes("vendor\tamount\nA\t12.34\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16 text cannot be cut into Dask blocks; use --engine stream"):
        de.read_frame(p, ["amount"])


@pytest.mark.parametrize("processes", [False, True])
def test_local_cluster_workers_do_not_run_the_profiler(processes):
    """The statistical profiler calls sys._current_frames(), which can deadlock with the garbage
    collector on CPython 3.11 (python/cpython#106883): a test cluster hung in CI until it was off."""
    with de.cluster(processes=processes) as c:
        running = c.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
        assert len(running) == 2 and not any(running.values())
