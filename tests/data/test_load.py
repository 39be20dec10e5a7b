"""Loading and validation: every hostile input gets a clear error or an exclusion line with a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detect.data import load
from detect.data.load import parse_periods, parse_values
from detect.exceptions import InputError

LONG_HEADER = "region_code,region_name,parent_code,indicator,period,value,unit\n"


def _write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _accounting_holds(res):
    assert res.rows_in == res.rows_used + res.rows_excluded
    assert res.rows_excluded == len(res.exclusions)
    assert res.rows_used == len(res.panel.data)


def test_long_csv_basic(tmp_path):
    p = _write(tmp_path, "a.csv", LONG_HEADER + "210000,辽宁省,,gdp,2014,28626.58,亿元\n"
                                                 "210000,辽宁省,,gdp,2015,28669.02,亿元\n")
    res = load(p)
    _accounting_holds(res)
    d = res.panel.data
    assert d["value"].tolist() == [28626.58, 28669.02]
    assert d["raw"].tolist() == ["28626.58", "28669.02"]
    assert set(d["freq"]) == {"A"} and d["year"].tolist() == [2014, 2015]
    assert len(res.inputs[0]["sha256"]) == 64


def test_empty_file(tmp_path):
    p = _write(tmp_path, "empty.csv", "")
    with pytest.raises(InputError, match="empty"):
        load(p)


def test_header_only(tmp_path):
    p = _write(tmp_path, "h.csv", LONG_HEADER)
    res = load(p)
    _accounting_holds(res)
    assert res.rows_in == 0 and len(res.panel.data) == 0


def test_gbk_file(tmp_path):
    text = "地区,年份,地区生产总值(亿元),税收收入(亿元)\n辽宁省,2014,28626.58,1234.5\n吉林省,2014,13803.14,900.1\n"
    p = _write(tmp_path, "gbk.csv", text, encoding="gbk")
    res = load(p)
    _accounting_holds(res)
    assert res.inputs[0]["format"] == "csv (gb18030)"
    d = res.panel.data
    assert set(d["region_name"]) == {"辽宁省", "吉林省"}
    assert set(d["region_code"]) == {"210000", "220000"}           # GB/T 2260 from the name
    assert set(d["indicator"]) == {"gdp", "tax_revenue"}


def test_bom_file(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (LONG_HEADER + "1,A,,gdp,2014,1.5,\n").encode())
    res = load(p)
    assert res.inputs[0]["format"] == "csv (utf-8-sig)"
    assert res.panel.data["region_code"].tolist() == ["1"]           # BOM not glued to the first header


def test_thousands_separators_percent_fullwidth():
    v, clean, missing, bad = parse_values(pd.Series(["1,234.5", "12.3%", "１２３４．５", "1 234 567", "(12.5)", "2,5"]))
    assert v.tolist()[:5] == [1234.5, 12.3, 1234.5, 1234567.0, -12.5]
    assert clean.tolist()[0] == "1234.5"
    assert bad.tolist()[5] is True                                     # "2,5" is not a thousands separator


def test_dashes_and_missing_tokens_are_missing_not_bad():
    v, _, missing, bad = parse_values(pd.Series(["—", "-", "…", "NA", "", "--", "n/a"]))
    assert missing.all() and not bad.any() and v.isna().all()


def test_missing_values_kept_as_nan(tmp_path):
    p = _write(tmp_path, "m.csv", LONG_HEADER + "1,A,,gdp,2014,—,\n1,A,,gdp,2015,5,\n")
    res = load(p)
    _accounting_holds(res)
    assert res.rows_used == 2 and res.panel.data["value"].isna().sum() == 1


def test_negative_gdp_excluded_with_reason(tmp_path):
    p = _write(tmp_path, "n.csv", LONG_HEADER + "1,A,,gdp,2014,-5,\n1,A,,nontax_revenue,2014,-5,\n")
    res = load(p)
    _accounting_holds(res)
    assert res.rows_excluded == 1
    assert "negative value impossible for gdp" in res.exclusions["reason"].iat[0]
    assert res.panel.data["indicator"].tolist() == ["nontax_revenue"]   # a balance may be negative


def test_conflicting_duplicates_both_excluded(tmp_path):
    p = _write(tmp_path, "d.csv", LONG_HEADER + "1,A,,gdp,2014,5,\n1,A,,gdp,2014,6,\n1,A,,gdp,2015,7,\n")
    res = load(p)
    _accounting_holds(res)
    assert res.rows_excluded == 2
    assert res.exclusions["row"].tolist() == [2, 3]
    assert res.exclusions["reason"].str.contains("conflicting duplicate").all()


def test_identical_duplicates_collapsed(tmp_path):
    p = _write(tmp_path, "d.csv", LONG_HEADER + "1,A,,gdp,2014,5,\n1,A,,gdp,2014,5.0,\n")
    res = load(p)
    _accounting_holds(res)
    assert res.rows_used == 1 and res.rows_excluded == 1
    assert "identical duplicate collapsed" in res.exclusions["reason"].iat[0]


def test_non_numeric_period_excluded(tmp_path):
    p = _write(tmp_path, "p.csv", LONG_HEADER + "1,A,,gdp,last year,5,\n1,A,,gdp,2015,6,\n")
    res = load(p)
    _accounting_holds(res)
    assert res.exclusions["reason"].iat[0].startswith("period not recognised")
    assert res.exclusions["raw_value"].iat[0] == "last year"


def test_period_formats():
    per, year, freq = parse_periods(pd.Series(["2015", "2015Q3", "2015-07", "2015年", "2015年第三季度", "2015年7月",
                                               "1800", "x"]))
    assert per.tolist() == ["2015", "2015Q3", "2015-07", "2015", "2015Q3", "2015-07", "", ""]
    assert freq.tolist() == ["A", "Q", "M", "A", "Q", "M", "", ""]


def test_a_quarter_needs_its_marker():
    # "2015-3" and "2015/3" are March (as statistical yearbooks write months), not the third quarter;
    # "20153" is neither and is excluded with a reason rather than guessed
    raw = ["2015-3", "2015/3", "2015 Q3", "2015-q4", "2015年3季度", "2015第2季", "20153"]
    per, _, freq = parse_periods(pd.Series(raw))
    assert per.tolist() == ["2015-03", "2015-03", "2015Q3", "2015Q4", "2015Q3", "2015Q2", ""]
    assert freq.tolist() == ["M", "M", "Q", "Q", "Q", "Q", ""]


def test_binary_garbage(tmp_path):
    p = tmp_path / "g.csv"
    p.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    with pytest.raises(InputError, match="binary|decode"):
        load(p)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "nope.csv")


def test_no_recognisable_columns(tmp_path):
    p = _write(tmp_path, "x.csv", "foo,bar\n1,2\n")
    with pytest.raises(InputError, match="no recognisable columns"):
        load(p)


def test_wide_excel_with_chinese_headers(tmp_path):
    df = pd.DataFrame({"地区": ["辽宁省", "辽宁省", "内蒙古自治区"], "年份": [2014, 2015, 2015],
                       "一般公共预算收入（亿元）": [3192.78, 2127.39, 1964.48],
                       "税收收入（万元）": [23000000, 16500000, 13200000], "备注": ["a", "b", "c"]})
    p = tmp_path / "wide.xlsx"
    with pd.ExcelWriter(p, engine="openpyxl") as xw:
        pd.DataFrame([["辽宁省财政数据（示例）"]]).to_excel(xw, index=False, header=False, startrow=0)
        df.to_excel(xw, index=False, startrow=2)
    res = load(p)
    _accounting_holds(res)
    d = res.panel.data.set_index(["region_code", "indicator", "period"])["value"]
    assert d[("210000", "fiscal_revenue", "2015")] == pytest.approx(2127.39)
    assert d[("210000", "tax_revenue", "2014")] == pytest.approx(2300.0)      # 万元 -> 亿元
    assert d[("150000", "tax_revenue", "2015")] == pytest.approx(1320.0)
    tables = res.inputs[0]["tables"][0]
    assert tables["layout"] == "wide by indicator" and tables["ignored_columns"] == ["备注"]
    assert tables["header_row"] == 3


def test_wide_by_year_layout(tmp_path):
    p = _write(tmp_path, "y.csv", "地区,指标,2014,2015,2016\n辽宁省,地区生产总值,28626.58,28669.02,22246.9\n")
    res = load(p)
    _accounting_holds(res)
    assert res.panel.data["period"].tolist() == ["2014", "2015", "2016"]


def test_unit_not_convertible_excluded(tmp_path):
    p = _write(tmp_path, "u.csv", LONG_HEADER + "1,A,,gdp,2014,5,美元\n1,A,,gdp,2015,5,万元\n")
    res = load(p)
    _accounting_holds(res)
    assert "cannot be converted" in res.exclusions["reason"].iat[0]
    assert res.panel.data["value"].iat[0] == pytest.approx(5e-4)


def test_formula_injection_names_survive_loading(tmp_path):
    p = _write(tmp_path, "f.csv", LONG_HEADER + '1,"=HYPERLINK(""http://x"")",,gdp,2014,5,\n')
    res = load(p)
    assert res.panel.data["region_name"].iat[0].startswith("=HYPERLINK")


def test_one_point_series_kept_and_marked(tmp_path):
    p = _write(tmp_path, "o.csv", LONG_HEADER + "1,A,,gdp,2014,5,\n1,A,,tax_revenue,2014,1,\n1,A,,tax_revenue,2015,1,\n")
    res = load(p)
    d = res.panel.data.set_index("indicator")["single_point"]
    assert bool(d["gdp"]) is True and not d["tax_revenue"].any()


def test_empty_rows_accounted(tmp_path):
    p = _write(tmp_path, "e.csv", LONG_HEADER + "1,A,,gdp,2014,5,\n,,,,,,\n\n1,A,,gdp,2015,6,\n")
    res = load(p)
    _accounting_holds(res)
    assert (res.exclusions["reason"] == "empty row").sum() == 2


def test_parquet(tmp_path):
    df = pd.DataFrame({"region_code": ["1", "1"], "indicator": ["gdp", "gdp"], "period": ["2014", "2015"],
                       "value": [1.25, 2.5]})
    p = tmp_path / "x.parquet"
    df.to_parquet(p)
    res = load(p)
    assert res.panel.data["value"].tolist() == [1.25, 2.5]
    assert res.panel.data["raw"].tolist() == ["1.25", "2.5"]


def test_several_files_accounted(tmp_path):
    a = _write(tmp_path, "a.csv", LONG_HEADER + "1,A,,gdp,2014,5,\n")
    b = _write(tmp_path, "b.csv", LONG_HEADER + "1,A,,gdp,2014,6,\n2,B,,gdp,2014,6,\n")
    res = load([a, b])
    _accounting_holds(res)
    assert res.rows_in == 3 and res.rows_excluded == 2      # the 2014 conflict across files
    assert set(res.exclusions["file"]) == {str(a), str(b)}


def test_infinite_value_excluded(tmp_path):
    p = _write(tmp_path, "inf.csv", LONG_HEADER + "010000,A,,gdp,2014,1e400,\n010000,A,,gdp,2015,5,\n")
    res = load(p)
    _accounting_holds(res)
    assert res.exclusions["reason"].iat[0] == "value is out of range (not a finite number)"
    assert res.panel.data["region_code"].tolist() == ["010000"]          # leading zero kept


# --- hostile inputs found by the CLI audit -----------------------------------------------------------

def test_fullwidth_and_non_ascii_digits_never_crash():
    # "１２３" passed the plain-number fast path (\d is Unicode) and pd.to_numeric raised ValueError;
    # full-width digits are NFKC-folded to 123, other scripts' digits are not numbers here
    v, clean, missing, bad = parse_values(pd.Series(["１２３", "٣٤", "7", "−5"]))
    assert v.iat[0] == 123.0 and clean.iat[0] == "123"
    assert bad.tolist() == [False, True, False, False] and np.isnan(v.iat[1])
    assert v.iat[3] == -5.0 and clean.iat[3] == "-5"                   # U+2212 MINUS SIGN is a minus


def test_non_ascii_digit_periods_are_excluded_not_a_crash():
    per, year, freq = parse_periods(pd.Series(["٢٠١٥", "２０１５", "2015"]))
    assert per.tolist() == ["", "2015", "2015"] and year.tolist() == [-1, 2015, 2015]


def test_fullwidth_integer_file_loads(tmp_path):
    p = _write(tmp_path, "fw.csv", LONG_HEADER + "1,A,,gdp,2014,１２３,\n1,A,,gdp,٢٠١٥,5,\n1,A,,gdp,2016,٣,\n")
    res = load(p)
    _accounting_holds(res)
    assert res.panel.data["value"].tolist() == [123.0]
    assert sorted(res.exclusions["reason"].str.slice(0, 20)) == ["period not recognise", "value is not a numbe"]


def test_province_column_before_the_city_column_is_the_parent(tmp_path):
    # 省份 before 城市 made every city of a province the province itself: all rows "conflicting duplicates"
    text = ("省份,城市,年份,地区生产总值(亿元)\n辽宁省,沈阳市,2015,7272\n辽宁省,大连市,2015,7731\n"
            "辽宁省,沈阳市,2016,5460\n辽宁省,大连市,2016,6810\n")
    res = load(_write(tmp_path, "pc.csv", text))
    _accounting_holds(res)
    d = res.panel.data
    assert res.rows_excluded == 0
    assert sorted(set(d["region_name"])) == ["大连市", "沈阳市"]
    assert set(d["parent_code"]) == {"210000"}                         # GB/T 2260 code of 辽宁
    assert d.loc[d["region_name"] == "大连市", "value"].tolist() == [7731.0, 6810.0]
    # same table, city column first: same panel
    text2 = "\n".join(",".join([r.split(",")[1], r.split(",")[0], *r.split(",")[2:]]) for r in text.splitlines())
    d2 = load(_write(tmp_path, "cp.csv", text2 + "\n")).panel.data
    pd.testing.assert_frame_equal(d.drop(columns="source"), d2.drop(columns="source"))


def test_province_code_beside_a_city_code_is_the_parent(tmp_path):
    text = "省份代码,城市代码,城市,年份,地区生产总值\n210000,210100,沈阳市,2015,7272\n210000,210200,大连市,2015,7731\n"
    d = load(_write(tmp_path, "codes.csv", text)).panel.data
    assert d["region_code"].tolist() == ["210100", "210200"] and set(d["parent_code"]) == {"210000"}


def test_two_columns_meaning_the_same_with_different_values_is_an_error(tmp_path):
    # first-wins silently used 'year' as the period and ignored 'period' (and a second 'value' column)
    p = _write(tmp_path, "yp.csv", "region_code,indicator,year,period,value\n1,gdp,2014,2015,5\n1,gdp,2014,2016,6\n")
    with pytest.raises(InputError, match="'year' and 'period' both mean period"):
        load(p)
    p = _write(tmp_path, "vv.csv", "region_code,indicator,period,value,value\n1,gdp,2015,5,9\n")
    with pytest.raises(InputError, match="'value' and 'value'"):
        load(p)


def test_a_repeated_column_with_the_same_values_is_used_once(tmp_path):
    p = _write(tmp_path, "vv.csv", "region_code,indicator,period,value,数值\n1,gdp,2015,5,5\n1,gdp,2016,6, 6\n")
    res = load(p)
    _accounting_holds(res)
    assert res.panel.data["value"].tolist() == [5.0, 6.0]
    assert res.inputs[0]["tables"][0]["duplicate_columns"] == ["数值"]


def test_xlsx_merged_region_cells_cover_their_rows(tmp_path):
    # yearbook layout: the region name merged down over its years; only the top cell holds the text,
    # so the other years were excluded as "no region code or name"
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "GDP"
    ws.append(["地区生产总值（亿元）"])
    ws.merge_cells("A1:C1")
    ws.append(["地区", "年份", "地区生产总值(亿元)"])
    for r in (("辽宁省", 2013, 27213.2), (None, 2014, 28626.58), ("吉林省", 2013, 12981.5), (None, 2014, 13803.14)):
        ws.append(list(r))
    ws.merge_cells("A3:A4")
    ws.merge_cells("A5:A6")
    p = tmp_path / "merged.xlsx"
    wb.save(p)
    res = load(p)
    _accounting_holds(res)
    d = res.panel.data
    assert res.rows_excluded == 0
    assert d[["region_code", "period", "value"]].values.tolist() == [
        ["210000", "2013", 27213.2], ["210000", "2014", 28626.58],
        ["220000", "2013", 12981.5], ["220000", "2014", 13803.14]]
    assert d["row"].tolist() == [3, 4, 5, 6]                              # spreadsheet rows unchanged


def test_xlsx_formula_without_a_saved_result_is_excluded_not_missing(tmp_path):
    # a workbook written by a program (no cached value) read the formula cell as empty: a figure
    # "reported missing" that the file in fact computes
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region_code", "indicator", "period", "value"])
    ws.append(["110000", "gdp", 2015, 100])
    ws.append(["110000", "gdp", 2016, "=D2*1.1"])
    ws.append([None, None, None, None])
    ws["D5"] = "=SUM(D2:D3)"                      # a trailing row holding only a formula
    p = tmp_path / "formula.xlsx"
    wb.save(p)
    res = load(p)
    _accounting_holds(res)
    assert res.panel.data["value"].tolist() == [100.0]
    ex = res.exclusions.set_index("row")
    assert ex.loc[3, "raw_value"] == "=D2*1.1" and "formula with no saved result" in ex.loc[3, "reason"]
    assert 5 in ex.index                                                   # accounted for, not dropped


def test_fiscal_year_and_year_end_periods_are_annual():
    # FY2015 was "period not recognised": a Chinese budget year is the calendar year
    per, year, freq = parse_periods(pd.Series(["FY2015", "fy 2016", "2017财年", "2018年末", "2019年底", "FY2015Q1"]))
    assert per.tolist() == ["2015", "2016", "2017", "2018", "2019", ""]
    assert freq.tolist() == ["A"] * 5 + [""]


def test_wide_by_period_year_column_not_understood_is_excluded_not_dropped(tmp_path):
    # a year-like header the period parser does not know ("2015H1") was an ignored column: its figures
    # were neither used nor in exclusions.csv
    text = "地区,指标,2014,2015,2015H1,备注\n辽宁,gdp,28626.58,28669.02,13000,note\n吉林,gdp,13803.14,14063.1,6000,\n"
    res = load(_write(tmp_path, "wp.csv", text))
    _accounting_holds(res)
    assert res.rows_used == 4 and res.rows_excluded == 2
    assert set(res.exclusions["column"]) == {"period"}
    assert res.exclusions["reason"].str.startswith("period not recognised").all()
    assert res.exclusions["raw_value"].tolist() == ["2015H1", "2015H1"]
    assert res.inputs[0]["tables"][0]["ignored_columns"] == ["备注"]


def test_from_frame_reads_named_index_levels(tmp_path):
    # Panel.from_frame(panel.wide()) was "no recognisable columns": region_code and year are the index
    from detect.data.panel import Panel

    p = _write(tmp_path, "a.csv", LONG_HEADER + "1,A,,gdp,2014,5,\n1,A,,gdp,2015,6,\n1,A,,tax_revenue,2015,2,\n"
                                                 "2,B,,gdp,2014,7,\n")
    panel = load(p).panel
    wide = panel.wide()
    back = Panel.from_frame(wide)
    assert back.wide().equals(wide)
    # a level named like a column is not read twice
    df = panel.data[["region_code", "indicator", "period", "value"]].set_index("region_code", drop=False)
    assert Panel.from_frame(df).data["value"].tolist() == panel.data["value"].tolist()


def test_row_with_more_fields_than_the_header_is_excluded_not_the_whole_file(tmp_path):
    # one unquoted "1,234.5" made the whole file "not a readable CSV file"; the row's fields are shifted
    # (value 1, and 234.5 under no header), so the row is excluded and the others are used
    text = ("region_code,region_name,indicator,period,value\n110000,北京,gdp,2015,1,234.5\n"
            '110000,北京,gdp,2016,"2,000.5"\n110000,北京,gdp,2017,2100,\n')
    res = load(_write(tmp_path, "o.csv", text))
    _accounting_holds(res)
    assert res.panel.data["value"].tolist() == [2000.5, 2100.0]               # a trailing empty field is harmless
    assert res.exclusions["row"].tolist() == [2]
    assert res.exclusions["reason"].iat[0].startswith("the row has more fields than the header")


def test_utf16_unicode_text_export(tmp_path):
    # Excel's "Unicode Text" (UTF-16LE with a BOM, tab-separated) was "binary data"
    text = "地区\t年份\t地区生产总值\n辽宁省\t2014\t28626.58\n吉林省\t2014\t13803.14\n"
    p = tmp_path / "u16.txt"
    p.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    res = load(p)
    _accounting_holds(res)
    assert res.inputs[0]["format"] == "csv (utf-16)"
    assert res.panel.data["value"].tolist() == [28626.58, 13803.14]


def test_xlsx_percent_formatted_rates_read_as_shown(tmp_path):
    # a cell formatted 0.0% stores 0.075 for what the sheet shows as 7.5%: the growth target was read as
    # 0.075 (%), a hundredfold error; now the cell reads "7.5%" as shown, and a per-cent formatted money
    # figure is excluded as a per-cent value for a level
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["地区", "年份", "经济增长目标", "地区生产总值", "夜间灯光"])
    ws.append(["辽宁省", 2014, 0.075, 28626.58, 0.5])
    ws.append(["辽宁省", 2015, 0.06, 0.3, 12])
    for ref, fmt in (("C2", "0.0%"), ("C3", "0%"), ("D3", "0.00%"), ("E2", '0.0"%"')):  # E2: a literal "%" text
        ws[ref].number_format = fmt
    p = tmp_path / "pct.xlsx"
    wb.save(p)
    res = load(p)
    _accounting_holds(res)
    d = res.panel.data.set_index(["indicator", "period"])
    assert d.loc[("growth_target", "2014"), "value"] == 7.5 and d.loc[("growth_target", "2014"), "raw"] == "7.5"
    assert d.loc[("growth_target", "2015"), "value"] == 6.0
    assert d.loc[("gdp", "2014"), "value"] == 28626.58
    assert d.loc[("night_lights", "2014"), "value"] == 0.5                 # "%" in quotes is literal text
    assert res.exclusions["raw_value"].tolist() == ["30%"]
    assert res.exclusions["reason"].iat[0].startswith("a per-cent value for gdp")


def test_xlsx_note_beside_the_table_is_not_a_shifted_row(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region_code", "indicator", "period", "value"])
    ws.append(["110000", "gdp", 2015, 100, None, "注：初步核算数"])
    ws.append(["110000", "gdp", 2016, 110])
    p = tmp_path / "note.xlsx"
    wb.save(p)
    res = load(p)
    _accounting_holds(res)
    assert res.panel.data["value"].tolist() == [100.0, 110.0] and res.rows_excluded == 0


def test_file_name_with_a_hash_keeps_its_tables_in_the_manifest(tmp_path):
    # the file's tables were matched by splitting the label at "#": "a#1.csv" had none
    p = _write(tmp_path, "a#1.csv", LONG_HEADER + "1,A,,gdp,2014,5,\n")
    res = load(p)
    assert [t["layout"] for t in res.inputs[0]["tables"]] == ["long"]


def test_line_breaks_and_spaces_inside_region_names(tmp_path):
    # a quoted line break or a full-width space inside a name made "沈阳\n市" a region apart from 沈阳市
    text = ('region_name,indicator,period,value\n"沈阳\n市",gdp,2014,5\n沈阳市,gdp,2015,6\n沈阳　市,gdp,2016,7\n'
            '"Inner\n  Mongolia",gdp,2015,8\n')
    res = load(_write(tmp_path, "n.csv", text))
    _accounting_holds(res)
    d = res.panel.data
    assert sorted(set(d["region_name"])) == ["Inner Mongolia", "沈阳市"]
    assert d.loc[d["region_name"] == "沈阳市", "value"].tolist() == [5.0, 6.0, 7.0]
    assert set(d.loc[d["region_name"] == "Inner Mongolia", "region_code"]) == {"150000"}


def test_units_row_under_the_header(tmp_path):
    # a two-row header (names, then units) read the units as a nameless data row and every figure in
    # the base unit: GDP in 万元 came out 10^4 times too large
    text = ("地区,年份,地区生产总值,一般公共预算收入,常住人口\n单位,,万元,（亿元）,万人\n"
            "辽宁省,2014,286265800,3192.78,4391\n吉林省,2014,abc,1203.38,2752\n")
    res = load(_write(tmp_path, "u.csv", text))
    _accounting_holds(res)
    d = res.panel.data.set_index(["region_code", "indicator"])["value"]
    assert d[("210000", "gdp")] == pytest.approx(28626.58)
    assert d[("210000", "fiscal_revenue")] == 3192.78 and d[("210000", "population")] == 4391.0
    assert res.exclusions[["row", "raw_value"]].values.tolist() == [[4, "abc"]]   # rows keep their numbers
    assert res.inputs[0]["tables"][0]["units_row"] == 2


def test_unit_in_the_value_header_of_a_long_file(tmp_path):
    # "数值（万元）" with no unit column: the unit was ignored and the figures taken as 亿元
    p = _write(tmp_path, "l.csv", "region_code,indicator,period,数值（万元）\n110000,gdp,2015,230146000\n")
    assert load(p).panel.data["value"].tolist() == [23014.6]


def test_unreadable_file_is_an_input_error(tmp_path, monkeypatch):
    # PermissionError from open() was an internal error (exit 3)
    p = _write(tmp_path, "a.csv", LONG_HEADER + "1,A,,gdp,2014,5,\n")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    import sys

    monkeypatch.setattr(sys.modules["detect.data.load"], "open", denied, raising=False)   # the module, not load()
    with pytest.raises(InputError, match="cannot read the file \\(Permission denied\\)"):
        load(p)


def test_row_number_columns_are_not_indicators(tmp_path):
    # a serial column (序号) and a saved pandas index (Unnamed: 0) became indicators and were screened
    text = "序号,地区,年份,地区生产总值,Unnamed: 0\n1,辽宁省,2014,28626.58,0\n2,吉林省,2014,13803.14,1\n"
    res = load(_write(tmp_path, "s.csv", text))
    _accounting_holds(res)
    assert res.panel.indicators == ["gdp"]
    assert res.inputs[0]["tables"][0]["ignored_columns"] == ["序号", "Unnamed: 0"]


NBS_DOWNLOAD = ("Database：Annual by Province\nIndicators：Gross Regional Product(100 million yuan)\nYear：LATEST20\n"
                "Region,2015,2014\nLiaoning,28669.02,28626.58\nJilin,14063.13,13803.14\n"
                '"Note:Gross regional product data applies to ""GB/T4754-2011"" since 2012."\n'
                "Data Sources：National Bureau of Statistics\n")


def test_nbs_download_indicator_named_in_the_title(tmp_path):
    # data.stats.gov.cn's "Annual by Province" layout (indicator and unit in a title line, Region x years)
    # was "no period column (period / year / 年份) and no indicator column"; its notes below are not regions
    res = load(_write(tmp_path, "nbs.csv", NBS_DOWNLOAD, encoding="gb18030"))
    _accounting_holds(res)
    d = res.panel.data
    assert set(d["indicator"]) == {"gdp"} and set(d["unit"]) == {"亿元"}
    assert d[["region_code", "period", "value"]].values.tolist() == [
        ["210000", "2014", 28626.58], ["210000", "2015", 28669.02],
        ["220000", "2014", 13803.14], ["220000", "2015", 14063.13]]
    assert res.rows_excluded == 4 and set(res.exclusions["row"]) == {7, 8}
    assert res.exclusions["reason"].eq("a note below the table, not a region").all()


def test_years_without_an_indicator_says_so(tmp_path):
    p = _write(tmp_path, "y.csv", "Region,2015,2014\nLiaoning,1,2\n")
    with pytest.raises(InputError, match="one column per year but no indicator"):
        load(p)


def test_nbs_downloads_in_the_shared_data(shared_data):
    # the real NBS files: 31 provinces, Liaoning's GDP as published (亿元) and population in 万人
    base = shared_data / "cn-localdebt-fiscal"
    gdp = load(base / "GDP_by_province_1999-2017.csv")
    _accounting_holds(gdp)
    w = gdp.panel.series("gdp")
    assert len(w) == 31 and w.loc["210000", 2014] == 28626.58 and w.loc["210000", 2015] == 28669.02
    pop = load(base / "Population_by_province.csv")
    assert pop.panel.indicators == ["population"] and set(pop.panel.data["unit"]) == {"万人"}


def test_utf8_file_with_a_damaged_line(tmp_path):
    # one Latin-1 byte pair in a UTF-8 file sent the whole file to GB18030: 亿元 became 浜垮厓, every
    # name mojibake, every row excluded for its unit; now only the damaged row is excluded
    p = tmp_path / "m.csv"
    p.write_bytes((LONG_HEADER + "110000,北京,,gdp,2015,23014.6,亿元\n120000,天津,,gdp,2015,16538.2,亿元\n"
                   "130000,河北,,gdp,2015,29806.1,亿元\n").encode("utf-8") + b"140000,\xe9\xe9,,gdp,2015,100,\n")
    res = load(p)
    _accounting_holds(res)
    assert res.panel.data["region_name"].tolist() == ["北京", "天津", "河北"]
    assert set(res.panel.data["unit"]) == {"亿元"}
    assert res.exclusions[["row", "reason"]].values.tolist() == [
        [5, "the row holds bytes that are not UTF-8 (the rest of the file is)"]]
    # a GBK file is still read as GBK
    g = tmp_path / "g.csv"
    g.write_bytes((LONG_HEADER + "110000,北京,,gdp,2015,23014.6,亿元\n").encode("gbk"))
    assert load(g).panel.data["unit"].tolist() == ["亿元"]


def test_parent_codes_read_as_floats_still_link(tmp_path):
    # region codes lost their ".0" but parent codes did not: 沈阳's parent 210000.0 matched no region
    text = ("region_code,region_name,parent_code,indicator,period,value\n210000.0,辽宁,,gdp,2015,100\n"
            "210100.0,沈阳,210000.0,gdp,2015,40\n210200,大连,210000,gdp,2015,60\n")
    reg = load(_write(tmp_path, "p.csv", text)).panel.regions
    assert reg["parent_code"].tolist() == ["", "210000", "210000"] and reg["level"].tolist() == [0, 1, 1]


def test_excel_dates_keep_their_day_for_vintages(tmp_path):
    # dates were cut to the month: two releases in one month were one vintage, and their figures
    # "conflicting duplicates"; a date period still reads as its month
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region_code", "indicator", "period", "vintage", "value"])
    ws.append(["110000", "gdp", dt.datetime(2015, 7, 1), dt.datetime(2016, 3, 1), 100])
    ws.append(["110000", "gdp", dt.datetime(2015, 7, 1), dt.datetime(2016, 3, 20), 101])
    p = tmp_path / "v.xlsx"
    wb.save(p)
    res = load(p)
    _accounting_holds(res)
    assert res.rows_excluded == 0
    assert res.panel.data[["period", "vintage", "value"]].values.tolist() == [
        ["2015-07", "2016-03-01", 100.0], ["2015-07", "2016-03-20", 101.0]]


def test_missing_date_in_a_frame(tmp_path):
    # a NaT period raised "NaTType does not support strftime" (an internal error)
    from detect.data.panel import Panel

    df = pd.DataFrame({"region_code": ["1", "1"], "indicator": ["gdp", "gdp"],
                       "period": pd.to_datetime(["2015-01-01", None]), "value": [1.0, 2.0]})
    p = Panel.from_frame(df)
    assert p.data["period"].tolist() == ["2015-01"]
    assert p.meta["exclusions"]["reason"].str.startswith("period not recognised").tolist() == [True]


def test_pandas_na_in_an_object_column_is_missing():
    # pd.NA became the text "<NA>" and was excluded as "value is not a number"
    from detect.data.load import frame_to_panel

    df = pd.DataFrame({"region_code": ["1", "1"], "indicator": ["gdp", "gdp"], "period": ["2015", "2016"],
                       "value": pd.Series([1.5, pd.NA], dtype=object)})
    res = frame_to_panel(df)
    assert res.rows_excluded == 0 and res.panel.data["value"].isna().tolist() == [False, True]


def test_a_total_row_without_a_code_is_excluded_with_the_reason(tmp_path):
    # a yearbook table starts with 全国; screened as a region it is a peer of its own parts
    text = ("地区,年份,地区生产总值(亿元)\n全国,2015,689052.1\n北京,2015,23014.6\n辽宁,2015,28669.0\n"
            "全国（不含港澳台）,2016,743585.5\n合计,2016,1\nNational total,2016,2\n")
    res = load(_write(tmp_path, "t.csv", text))
    _accounting_holds(res)
    assert sorted(set(res.panel.data["region_code"])) == ["110000", "210000"]
    assert res.rows_excluded == 4
    assert res.exclusions["reason"].str.startswith("a total row").all()
    assert set(res.exclusions["raw_value"]) == {"全国", "全国(不含港澳台)", "合计", "National total"}


def test_a_total_row_with_a_code_is_a_region_and_can_be_the_parent(tmp_path):
    text = LONG_HEADER + ("100000,全国,,gdp,2015,100,亿元\n110000,北京,100000,gdp,2015,60,亿元\n"
                          "120000,天津,100000,gdp,2015,40,亿元\n")
    res = load(_write(tmp_path, "tc.csv", text))
    _accounting_holds(res)
    assert res.rows_excluded == 0
    assert set(res.panel.data["region_code"]) == {"100000", "110000", "120000"}


def test_industrial_value_added_and_gross_output_are_two_indicators(tmp_path):
    # 工业增加值 (value added) was read as industrial_output (工业总产值, gross output, about 4x larger):
    # a file carrying both made every region-year a conflicting duplicate
    text = "地区,年份,工业总产值(亿元),工业增加值(亿元)\n辽宁,2015,60000,16000\n北京,2015,18000,4000\n"
    res = load(_write(tmp_path, "iv.csv", text))
    _accounting_holds(res)
    assert res.rows_excluded == 0
    w = res.panel.wide()
    assert w.loc[("210000", 2015), "industrial_output"] == 60000.0
    assert w.loc[("210000", 2015), "industrial_va"] == 16000.0
