"""Header and indicator aliases (Chinese and English), indicator catalogue and province codes.

Headers are matched after :func:`norm_key`: Unicode NFKC (full-width to half-width), lower case,
units in brackets removed, and spaces, underscores, hyphens and dots dropped, so
``"Fiscal Revenue"``, ``"fiscal_revenue"`` and ``"一般公共预算收入（亿元）"`` all match.
"""

from __future__ import annotations

import re
import unicodedata

#: Standard panel columns and the headers that mean them.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "region_code": ("region_code", "regioncode", "code", "adcode", "regionid", "admin_code", "admin_code_6",
                    "地区代码", "行政区划代码", "区划代码", "代码", "城市代码", "省份代码"),
    "region_name": ("region_name", "region", "name", "regionname", "province", "city", "prefecture",
                    "地区", "地区名称", "省份", "省", "省份名称", "城市", "城市名称", "地级市", "市", "行政区", "city_name_cn"),
    "parent_code": ("parent_code", "parent", "province_code", "上级代码", "上级区划代码", "所属省份代码"),
    "indicator": ("indicator", "variable", "item", "series", "指标", "指标名称", "项目"),
    "period": ("period", "year", "time", "date", "年份", "年度", "年", "时间", "期间", "统计年度", "metric_year"),
    "value": ("value", "amount", "数值", "值", "金额"),
    "unit": ("unit", "units", "单位", "计量单位"),
    "vintage": ("vintage", "release", "版本", "发布日期", "数据版本"),
}

#: Headers of ``region_code`` / ``region_name`` that name the *province* a row belongs to. In a table
#: that also has a finer (city, county) column of the same kind, the finer one is the region and the
#: province column gives the parent (``省份, 城市, 年份, …`` is a prefecture table, not a province one).
PROVINCE_LEVEL_HEADERS: frozenset[str] = frozenset({"province", "省份", "省", "省份名称", "省份代码"})

#: Headers of row numbers (a serial column, a saved pandas index): never an indicator. In a wide
#: table they were read as indicators "序号" / "unnamed:_0" and screened like figures.
ROW_NUMBER_HEADERS: tuple[str, ...] = ("序号", "编号", "行号", "no", "no.", "index", "rownum", "row_number",
                                       "unnamed: 0", "unnamed:0")

#: Canonical indicators: (English label, Chinese label, aliases).
INDICATORS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "gdp": ("GDP", "地区生产总值", ("gdp", "grp", "地区生产总值", "国内生产总值", "生产总值", "gdp_current",
                                "gross regional product")),
    "gdp_real_growth": ("real GDP growth", "地区生产总值增速", ("gdp_real_growth", "gdp_growth", "gdp_real_growth_pct",
                        "地区生产总值增长率", "地区生产总值增速", "gdp增速", "gdp增长率", "经济增速")),
    "gdp_secondary": ("secondary-industry value added", "第二产业增加值", ("gdp_secondary", "secondary", "第二产业增加值", "第二产业")),
    "manufacturing_va": ("manufacturing value added", "制造业增加值", ("manufacturing_va", "制造业增加值")),
    "industrial_output": ("industrial output", "工业总产值", ("industrial_output", "output_value", "工业总产值",
                          "规模以上工业总产值")),
    # value added, not gross output (about a quarter of it): a file may carry both, so never merged
    "industrial_va": ("industrial value added", "工业增加值", ("industrial_va", "industrial_value_added",
                      "工业增加值", "规模以上工业增加值", "全部工业增加值")),
    "fiscal_revenue": ("fiscal revenue", "一般公共预算收入", ("fiscal_revenue", "revenue", "general_public_revenue",
                       "pub_income", "revenue_all", "一般公共预算收入", "地方一般公共预算收入", "财政收入",
                       "地方财政一般预算收入", "一般预算收入", "公共财政预算收入")),
    "tax_revenue": ("tax revenue", "税收收入", ("tax_revenue", "tax", "revenue_alltax", "税收收入", "税收")),
    "vat_revenue": ("VAT revenue", "增值税收入", ("vat_revenue", "vat", "revenue_vat", "增值税", "国内增值税", "增值税收入")),
    "nontax_revenue": ("non-tax revenue", "非税收入", ("nontax_revenue", "non_tax_revenue", "revenue_allnontax", "非税收入")),
    "fiscal_expenditure": ("fiscal expenditure", "一般公共预算支出", ("fiscal_expenditure", "expenditure",
                           "general_public_expenditure", "pub_expend", "一般公共预算支出", "财政支出",
                           "地方一般公共预算支出", "一般预算支出")),
    "fund_revenue": ("government-fund revenue", "政府性基金收入", ("fund_revenue", "gov_fund_revenue",
                     "政府性基金收入", "政府性基金预算收入")),
    "land_revenue": ("land-sale revenue", "土地出让收入", ("land_revenue", "国有土地使用权出让收入", "土地出让收入", "土地出让金")),
    "transfer_revenue": ("transfers received", "上级转移支付", ("transfer_revenue", "transfers", "revenue_central_transfer",
                         "上级补助收入", "转移支付收入", "中央转移支付")),
    "state_capital_revenue": ("state-capital revenue", "国有资本经营收入", ("state_capital_revenue", "国有资本经营收入",
                              "国有资本经营预算收入")),
    "investment": ("fixed-asset investment", "固定资产投资", ("investment", "fixed_asset_investment", "invest_fixassets",
                   "固定资产投资", "全社会固定资产投资", "固定资产投资额")),
    "electricity": ("electricity consumption", "全社会用电量", ("electricity", "electric_use", "power", "全社会用电量",
                    "用电量", "电力消费量")),
    "rail_freight": ("rail freight", "铁路货运量", ("rail_freight", "freight", "铁路货运量", "铁路货物运输量", "货运量")),
    "night_lights": ("night lights", "夜间灯光", ("night_lights", "ntl", "nightlights", "夜间灯光", "夜间灯光亮度", "灯光亮度")),
    "population": ("population", "常住人口", ("population", "pop", "resident_population", "常住人口", "年末常住人口", "人口",
                   "year-end resident population")),
    "debt_balance": ("government debt balance", "地方政府债务余额", ("debt_balance", "debt", "statutory_debt_balance",
                     "地方政府债务余额", "政府债务余额", "债务余额", "法定债务余额")),
    "debt_limit": ("debt limit", "地方政府债务限额", ("debt_limit", "statutory_debt_limit", "地方政府债务限额", "债务限额")),
    "lgfv_debt": ("LGFV (hidden) debt", "城投及隐性债务", ("lgfv_debt", "城投债务", "城投有息债务", "隐性债务", "融资平台债务")),
    "interest_paid": ("interest paid", "债务付息支出", ("interest_paid", "interest", "利息支出", "债务付息支出", "付息支出")),
    "debt_service": ("debt service", "债务还本付息", ("debt_service", "还本付息", "债务还本付息支出", "还本付息支出")),
    "overdue_debt": ("overdue debt", "逾期债务", ("overdue_debt", "逾期债务", "逾期债务余额")),
    "growth_target": ("growth target", "经济增长目标", ("growth_target", "target", "增长目标", "gdp增长目标",
                      "预期增长目标", "经济增长目标")),
    "pm25": ("PM2.5", "PM2.5浓度", ("pm25", "pm2.5", "pm2_5", "pm2.5浓度", "细颗粒物", "细颗粒物浓度")),
    "tax_per_mu": ("tax per mu", "亩均税收", ("tax_per_mu", "亩均税收")),
    "input_output_ratio": ("input-output ratio", "投入产出比", ("input_output_ratio", "投入产出比")),
}

#: Indicators that cannot be negative (a negative value is excluded as impossible).
NONNEGATIVE: frozenset[str] = frozenset({
    "gdp", "gdp_secondary", "manufacturing_va", "industrial_output", "industrial_va", "fiscal_revenue",
    "tax_revenue", "vat_revenue", "fiscal_expenditure", "fund_revenue", "land_revenue", "transfer_revenue",
    "state_capital_revenue", "investment", "electricity", "rail_freight", "night_lights", "population",
    "debt_balance", "debt_limit", "lgfv_debt", "interest_paid", "debt_service", "overdue_debt", "pm25",
    "tax_per_mu",
})

#: Additive indicators (a parent's total should equal the sum of its children).
ADDITIVE: frozenset[str] = frozenset({
    "gdp", "gdp_secondary", "manufacturing_va", "industrial_output", "industrial_va", "fiscal_revenue",
    "tax_revenue", "vat_revenue", "nontax_revenue", "fiscal_expenditure", "fund_revenue", "land_revenue",
    "transfer_revenue", "investment", "electricity", "rail_freight", "night_lights", "population",
    "debt_balance", "debt_limit", "lgfv_debt", "interest_paid", "debt_service", "overdue_debt",
})

#: GB/T 2260 province-level codes (public facts), used when an input names regions but gives no code.
PROVINCE_CODES: dict[str, str] = {
    "北京": "110000", "天津": "120000", "河北": "130000", "山西": "140000", "内蒙古": "150000",
    "辽宁": "210000", "吉林": "220000", "黑龙江": "230000", "上海": "310000", "江苏": "320000",
    "浙江": "330000", "安徽": "340000", "福建": "350000", "江西": "360000", "山东": "370000",
    "河南": "410000", "湖北": "420000", "湖南": "430000", "广东": "440000", "广西": "450000",
    "海南": "460000", "重庆": "500000", "四川": "510000", "贵州": "520000", "云南": "530000",
    "西藏": "540000", "陕西": "610000", "甘肃": "620000", "青海": "630000", "宁夏": "640000",
    "新疆": "650000",
    "beijing": "110000", "tianjin": "120000", "hebei": "130000", "shanxi": "140000", "innermongolia": "150000",
    "liaoning": "210000", "jilin": "220000", "heilongjiang": "230000", "shanghai": "310000",
    "jiangsu": "320000", "zhejiang": "330000", "anhui": "340000", "fujian": "350000", "jiangxi": "360000",
    "shandong": "370000", "henan": "410000", "hubei": "420000", "hunan": "430000", "guangdong": "440000",
    "guangxi": "450000", "hainan": "460000", "chongqing": "500000", "sichuan": "510000", "guizhou": "520000",
    "yunnan": "530000", "tibet": "540000", "xizang": "540000", "shaanxi": "610000", "gansu": "620000",
    "qinghai": "630000", "ningxia": "640000", "xinjiang": "650000",
}
_PROVINCE_SUFFIX = re.compile(r"(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)$")

_BRACKETS = re.compile(r"[\(（\[【].*?[\)）\]】]")
_DROP = re.compile(r"[\s_\-\.·:：]+")


def norm_key(text: object) -> str:
    """Normalise a header or name for matching (NFKC, lower case, no brackets, no separators)."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    s = _BRACKETS.sub("", s)
    return _DROP.sub("", s)


def header_unit(text: object) -> str | None:
    """The unit written in a header's brackets, e.g. ``"地区生产总值（亿元）"`` -> ``"亿元"``."""
    s = unicodedata.normalize("NFKC", str(text))
    m = re.search(r"[\(\[【]([^\)\]】]+)[\)\]】]\s*$", s)
    return m.group(1).strip() if m else None


_COLUMN_LOOKUP = {norm_key(a): std for std, aliases in COLUMN_ALIASES.items() for a in aliases}
_PROVINCE_LEVEL_KEYS = frozenset(norm_key(a) for a in PROVINCE_LEVEL_HEADERS)
_ROW_NUMBER_KEYS = frozenset(norm_key(a) for a in ROW_NUMBER_HEADERS)
_INDICATOR_LOOKUP = {norm_key(a): ind for ind, (_, _, aliases) in INDICATORS.items() for a in (ind, *aliases)}


def standard_column(header: object) -> str | None:
    """The standard panel column a header means, or None."""
    return _COLUMN_LOOKUP.get(norm_key(header))


def is_row_number(header: object) -> bool:
    """Whether a header names a column of row numbers (see :data:`ROW_NUMBER_HEADERS`); pandas'
    ``Unnamed: 3`` (an unnamed column) counts too."""
    key = norm_key(header)
    return key in _ROW_NUMBER_KEYS or bool(re.fullmatch(r"unnamed[0-9]+", key))


def is_province_level(header: object) -> bool:
    """Whether a region header names the province (see :data:`PROVINCE_LEVEL_HEADERS`)."""
    return norm_key(header) in _PROVINCE_LEVEL_KEYS


def canonical_indicator(name: object) -> tuple[str, bool]:
    """``(canonical_name, known)``: a known alias maps to its canonical name; an unknown name is
    kept in a normalised snake_case form and marked unknown."""
    key = norm_key(name)
    if key in _INDICATOR_LOOKUP:
        return _INDICATOR_LOOKUP[key], True
    s = unicodedata.normalize("NFKC", str(name)).strip()
    s = _BRACKETS.sub("", s).strip()
    s = re.sub(r"[\s\-\.]+", "_", s).lower()
    return s, False


#: Names of total rows (a yearbook's 全国 / 合计 line): sums over regions, not regions. Matched
#: after :func:`norm_key` (brackets and spaces dropped: 全国（不含港澳台）, National total).
TOTAL_NAMES = frozenset({"全国", "全国合计", "全国总计", "合计", "总计", "全省", "全省合计", "全市", "全市合计",
                         "全区", "全区合计", "全县", "全县合计", "中国", "National", "National total", "Total",
                         "Grand total", "China", "All regions"})


_TOTAL_KEYS = frozenset(norm_key(n) for n in TOTAL_NAMES)


def is_total_name(name: object) -> bool:
    """True for the name of a total row (``全国``, ``合计``, ``Total``, ``National total`` ...)."""
    return norm_key(name) in _TOTAL_KEYS


def province_code(name: object) -> str | None:
    """GB/T 2260 code of a province named in Chinese or pinyin, or None."""
    s = unicodedata.normalize("NFKC", str(name)).strip()
    s = _PROVINCE_SUFFIX.sub("", s)
    return PROVINCE_CODES.get(s) or PROVINCE_CODES.get(norm_key(s))


#: Labels of non-canonical indicators the detectors read (法定债务 = 一般债务 + 专项债务, see
#: detect.debt._inputs.SUB_INDICATORS): labelled in summaries, but no header is mapped to them.
EXTRA_LABELS: dict[str, tuple[str, str]] = {
    "general_debt_balance": ("general-debt balance", "一般债务余额"),
    "general_debt_limit": ("general-debt limit", "一般债务限额"),
    "special_debt_balance": ("special-debt balance", "专项债务余额"),
    "special_debt_limit": ("special-debt limit", "专项债务限额"),
}


def label(indicator: str, lang: str = "en") -> str:
    """Human label of an indicator in ``lang`` (the name itself when unknown)."""
    entry = INDICATORS.get(indicator) or EXTRA_LABELS.get(indicator)
    if entry is None:
        return indicator
    return entry[1] if lang == "zh" else entry[0]
