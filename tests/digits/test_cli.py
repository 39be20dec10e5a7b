"""``detect benford``: formats, JSON keys, --group-by ranking with BH q-values, exit codes."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from detect.cli import main
from detect.scoring import fdr

KEYS = ["n", "mad", "conformity", "chi2", "chi2_df", "p_value", "ks", "applicable", "reason", "digits"]


@pytest.fixture
def amounts_csv(tmp_path):
    rng = np.random.default_rng(9)
    n = 6000
    benf = 10 ** rng.uniform(1, 5, n)
    vendor = np.repeat(["A", "B", "C"], n // 3)
    # vendor C invents round amounts ending in 00 / 50
    cooked = np.where(rng.random(n) < 0.5, np.round(benf / 50) * 50 + 50, benf)
    amt = np.where(vendor == "C", cooked, benf)
    p = tmp_path / "pay.csv"
    pd.DataFrame({"Amount": [f"{v:.2f}" for v in amt], "Vendor": vendor}).to_csv(p, index=False)
    return p


def test_json_keys_and_values(amounts_csv, capsys):
    assert main(["benford", str(amounts_csv), "--column", "Amount", "--test", "first", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == KEYS
    assert out["n"] == 6000 and out["chi2_df"] == 8 and out["applicable"] is True
    assert [d["digit"] for d in out["digits"]] == list(range(1, 10))
    assert set(out["digits"][0]) == {"digit", "count", "observed", "expected", "z"}
    assert sum(d["count"] for d in out["digits"]) == 6000


def test_not_applicable_json(tmp_path, capsys):
    p = tmp_path / "few.csv"
    p.write_text("x\n12\n13\n14\n")
    assert main(["benford", str(p), "--column", "x", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["applicable"] is False and out["mad"] is None and out["digits"] == [] and "at least" in out["reason"]


def test_csv_and_table(amounts_csv, capsys):
    assert main(["benford", str(amounts_csv), "--column", "Amount", "--format", "csv", "--min-value", "10"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(df.columns) == ["digit", "count", "observed", "expected", "z"] and len(df) == 90
    assert main(["benford", str(amounts_csv), "--column", "Amount"]) == 0
    assert "Chi-square" in capsys.readouterr().out


def test_group_by_ranked_with_bh(amounts_csv, capsys):
    assert main(["benford", str(amounts_csv), "--column", "Amount", "--test", "last-two", "--group-by", "Vendor",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [g["group"] for g in out][0] == "C"            # the cooked vendor ranks first
    ex = [g["excess_mad"] for g in out]
    assert ex == sorted(ex, reverse=True)
    q = fdr(np.array([g["p_value"] for g in out]))
    assert [g["q_value"] for g in out] == pytest.approx(list(q))
    assert out[0]["q_value"] < 1e-6


def test_bad_input_exit_2(tmp_path, capsys):
    p = tmp_path / "a.csv"
    p.write_text("a\n1\n")
    assert main(["benford", str(p), "--column", "b"]) == 2
    assert "no column 'b'" in capsys.readouterr().err
    assert main(["benford", str(tmp_path / "none.csv"), "--column", "a"]) == 2
    assert main(["benford", str(p), "--column", "a", "--test", "last", "--extraction", "r-float"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["benford", str(p), "--column", "a", "--test", "third"])
    assert e.value.code == 2


def test_column_without_numbers_is_bad_input(tmp_path, capsys):
    p = tmp_path / "names.csv"
    p.write_text("name,amount\nalice,x\nbob,y\n")
    assert main(["benford", str(p), "--column", "name"]) == 2
    assert "holds no numbers" in capsys.readouterr().err
    e = tmp_path / "empty.csv"
    e.write_text("amount\n")
    assert main(["benford", str(e), "--column", "amount"]) == 2
    assert "no rows" in capsys.readouterr().err


def test_excel_sheets(tmp_path, capsys):
    rng = np.random.default_rng(10)
    path = tmp_path / "ledger.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"title": ["2023 年度支出明细"]}).to_excel(w, sheet_name="封面", index=False)
        pd.DataFrame({"金额": np.round(10 ** rng.uniform(1, 5, 400), 2)}).to_excel(w, sheet_name="一月", index=False)
        pd.DataFrame({"金额": np.round(10 ** rng.uniform(1, 5, 250), 2)}).to_excel(w, sheet_name="二月", index=False)
    assert main(["benford", str(path), "--column", "金额", "--test", "first", "--format", "json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["n"] == 650 and "'封面' skipped" in cap.err
    assert main(["benford", str(path), "--column", "金额", "--test", "first", "--format", "json",
                 "--sheet", "二月"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 250
    assert main(["benford", str(path), "--column", "金额", "--sheet", "三月"]) == 2
    assert "no sheet '三月'" in capsys.readouterr().err
    assert main(["benford", str(path), "--column", "金额", "--sheet", "二月", "--engine", "stream"]) == 2
    capsys.readouterr()
    # the streaming engine reads the same sheets and says so
    assert main(["benford", str(path), "--column", "金额", "--test", "first", "--format", "json",
                 "--engine", "stream"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["n"] == 650 and "'封面' skipped" in cap.err


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_semicolon_tab_pipe_csv_read_like_detect_run(amounts_csv, tmp_path, capsys, sep):
    # a .csv with another separator was "no column 'Amount'" (detect run sniffs the separator)
    p = tmp_path / "sep.csv"
    pd.read_csv(amounts_csv, dtype=str).to_csv(p, sep=sep, index=False)
    assert main(["benford", str(p), "--column", "Amount", "--test", "first", "--format", "json"]) == 0
    sniffed = json.loads(capsys.readouterr().out)
    assert main(["benford", str(amounts_csv), "--column", "Amount", "--test", "first", "--format", "json"]) == 0
    assert sniffed == json.loads(capsys.readouterr().out) and sniffed["n"] == 6000


def test_utf16_text_export(amounts_csv, tmp_path, capsys):
    p = tmp_path / "u16.tsv"
    p.write_bytes(b"\xff\xfe" + pd.read_csv(amounts_csv, dtype=str).to_csv(sep="\t", index=False).encode("utf-16-le"))
    assert main(["benford", str(p), "--column", "Amount", "--test", "first", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 6000


def test_missing_column_names_the_near_match_with_its_spaces(tmp_path, capsys):
    # "Amount " (trailing space) was listed as "Amount", indistinguishable from the --column asked for
    p = tmp_path / "sp.csv"
    p.write_text("Amount ,Vendor\n12.5,A\n", encoding="utf-8")
    assert main(["benford", str(p), "--column", "Amount"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'Amount '?" in err and "'Amount ', 'Vendor'" in err and err.count("\n") == 1


@pytest.mark.parametrize("engine", ["memory", "stream"])
def test_a_row_split_by_an_unquoted_thousands_separator_is_refused(tmp_path, capsys, engine):
    """'B,1,234.56' has one field too many: reading only the amount column would take '1' as B's
    amount (pandas stops counting fields under usecols); the file is refused with the likely cause."""
    p = tmp_path / "pay.csv"
    rows = [f"A{i},{1000 + 37.13 * i:.2f}" for i in range(200)]
    rows.insert(120, "B,1,234.56")
    p.write_text("vendor,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert main(["benford", str(p), "--column", "amount", "--test", "last", "--engine", engine]) == 2
    err = capsys.readouterr().err
    assert "Expected 2 fields in line 122, saw 3" in err and 'write 1,234.56 as "1,234.56"' in err
    p.write_text("vendor,amount\n" + "\n".join(r if not r.startswith("B,") else 'B,"1,234.56"' for r in rows) + "\n",
                 encoding="utf-8")
    assert main(["benford", str(p), "--column", "amount", "--test", "last", "--engine", engine]) == 0


@pytest.mark.parametrize("engine", ["memory", "stream"])
@pytest.mark.parametrize("text", [
    "vendor,amount\nB,1,234.56\n" + "A,1000.25\n" * 60,          # the stray field in the first data row
    "vendor,amount\n" + "A,1000.25,3\n" * 60,                     # a third column without a name
    "vendor;amount\nA;1000.25\n" + "B;1;234.56\n" + "A;1000.25\n" * 60,   # semicolons, sniffed as detect run does
    "vendor\tamount\nA\t1000.25\nB\t1\t234.56\n" + "A\t1000.25\n" * 60,   # tab-separated
    "vendor;amount\nB;1;234.56\n" + "A;1000.25\n" * 60,                   # semicolons, in the first data row
    "vendor\tamount\nB\t1\t234.56\n" + "A\t1000.25\n" * 60,             # tabs, in the first data row
    "vendor,amount\n" + "A,1000.25,\n" * 250 + "B,1,234.56\n",           # after rows that end in a separator
])
def test_more_fields_than_the_header_is_refused_wherever_it_is(tmp_path, capsys, engine, text):
    """pandas makes the first column the index, without an error, when the first data row has more
    fields than the header: every amount would be read from the column to its right."""
    p = tmp_path / ("pay.tsv" if "\t" in text else "pay.csv")
    p.write_text(text, encoding="utf-8")
    assert main(["benford", str(p), "--column", "amount", "--test", "last", "--engine", engine]) == 2
    err = capsys.readouterr().err
    assert ("more fields than the header" in err or "Expected 2 fields" in err
            or "a value after its last column (B, 1, 234.56" in err)


@pytest.mark.parametrize("engine", ["memory", "stream"])
@pytest.mark.parametrize("layout", ["pandas index", "R row names", "separator after the last value"])
def test_row_names_and_trailing_separators_are_read_under_their_names(tmp_path, capsys, engine, layout):
    """Files whose every row has one field more than the header are common and line up: row names
    without a header cell (R write.table, pandas index_label=False) or a separator after the last
    value. The amounts must be read from the amount column, not the one beside it."""
    amounts = [f"{1000 + 37.13 * i:.2f}" for i in range(300)]
    p = tmp_path / "pay.csv"
    if layout == "pandas index":
        pd.DataFrame({"vendor": ["A"] * 300, "amount": amounts}).to_csv(p)
    elif layout == "R row names":
        p.write_text('"vendor","amount"\n' + "".join(f'"{i + 1}","A",{a}\n' for i, a in enumerate(amounts)))
    else:
        p.write_text("vendor,amount\n" + "".join(f"A,{a},\n" for a in amounts))
    assert main(["benford", str(p), "--column", "amount", "--test", "last", "--engine", engine,
                 "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    want = np.bincount([int(a[-1]) for a in amounts], minlength=10)
    assert got["n"] == 300 and [d["count"] for d in got["digits"]] == want.tolist()
