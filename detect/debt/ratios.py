"""Debt-risk ratios per region-year, risk grades, and the ``debt_ratios`` detector.

Every ratio is a fraction (1.87 = 187 %), computed vectorised for every (region, year) of the panel:

========================  ==================  =====================================================
name                      中文                 formula
========================  ==================  =====================================================
``debt_ratio``            债务率               debt_balance / 综合财力
``full_caliber_ratio``    全口径债务率          (debt_balance + lgfv_debt) / 综合财力
``debt_to_gdp``           负债率               debt_balance / gdp
``debt_to_revenue``       债务/一般预算收入      debt_balance / fiscal_revenue
``interest_ratio``        利息支出率            interest_paid / fiscal_expenditure
``debt_service_ratio``    偿债率               debt_service / 综合财力
``overdue_ratio``         逾期债务率            overdue_debt / debt_balance
``limit_utilisation``     限额利用率            debt_balance / debt_limit
``self_sufficiency``      财政自给率            fiscal_revenue / fiscal_expenditure
``land_dependence``       土地财政依赖度         land_revenue / 综合财力
========================  ==================  =====================================================

with 综合财力 = fiscal_revenue + transfer_revenue + fund_revenue (+ state_capital_revenue where
given). A ratio that cannot be computed is *not computable*, with the reason and the inputs that
would make it computable — never zero.

Risk grade (thresholds ``[debt_grades]``): green < 120 %, yellow 120–200 %, orange 200–300 %,
red ≥ 300 % of the full-caliber ratio; where ``lgfv_debt`` is absent the statutory 债务率 is graded
instead, and the grade is then a lower bound (hidden debt can only raise it).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from detect.config import Config, threshold
from detect.data.aliases import label
from detect.data.panel import Panel
from detect.debt._inputs import (DEBT_INPUTS, LABEL_ZH, RESOURCES_OPTIONAL, RESOURCES_REQUIRED, DebtFrame, debt_frame, money, money_en, pct,
                                 resources, runs, series_dict)
from detect.findings import Finding, Findings
from detect.registry import Detector, register

GRADES: tuple[str, ...] = ("green", "yellow", "orange", "red")
GRADE_ZH: dict[str, str] = {"green": "绿色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
_GRADE_SEVERITY: dict[str, str] = {"yellow": "low", "orange": "medium", "red": "high"}


@dataclass(frozen=True)
class RatioSpec:
    """One ratio: ``sum(numerator) / sum(denominator)``; ``"resources"`` stands for 综合财力."""

    name: str
    label_en: str
    label_zh: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    formula: str
    line: str | None = None          # threshold key of its warning line
    direction: str = "above"         # "above": bad when ratio >= line; "below": bad when ratio < line
    strict: bool = False             # "above" only when the ratio exceeds the line (the rule says 超过 / not exceed)


RATIOS: dict[str, RatioSpec] = {s.name: s for s in (
    RatioSpec("debt_ratio", "debt ratio (debt / comprehensive resources)", "债务率",
              ("debt_balance",), ("resources",), "debt_balance / 综合财力", "debt.debt_ratio_warning"),
    RatioSpec("full_caliber_ratio", "full-caliber debt ratio", "全口径债务率",
              ("debt_balance", "lgfv_debt"), ("resources",), "(debt_balance + lgfv_debt) / 综合财力",
              "debt_grades.green_below"),
    RatioSpec("debt_to_gdp", "debt to GDP", "负债率", ("debt_balance",), ("gdp",), "debt_balance / gdp",
              "debt.debt_to_gdp_reference", strict=True),  # Maastricht: not to exceed 60 %
    RatioSpec("debt_to_revenue", "debt to general budget revenue", "债务/一般公共预算收入",
              ("debt_balance",), ("fiscal_revenue",), "debt_balance / fiscal_revenue"),
    RatioSpec("interest_ratio", "interest to expenditure", "利息支出率", ("interest_paid",),
              ("fiscal_expenditure",), "interest_paid / fiscal_expenditure", "debt.interest_ratio_line",
              strict=True),  # 国办函〔2016〕88号: 付息支出超过10 %
    RatioSpec("debt_service_ratio", "debt service ratio", "偿债率", ("debt_service",), ("resources",),
              "debt_service / 综合财力", "debt.debt_service_ratio_line"),
    RatioSpec("overdue_ratio", "overdue debt ratio", "逾期债务率", ("overdue_debt",), ("debt_balance",),
              "overdue_debt / debt_balance", "debt.overdue_ratio_line"),
    RatioSpec("limit_utilisation", "debt-limit utilisation", "限额利用率", ("debt_balance",), ("debt_limit",),
              "debt_balance / debt_limit", "debt.limit_breach"),
    RatioSpec("self_sufficiency", "fiscal self-sufficiency", "财政自给率", ("fiscal_revenue",),
              ("fiscal_expenditure",), "fiscal_revenue / fiscal_expenditure", "debt.self_sufficiency_low", "below"),
    RatioSpec("land_dependence", "land-revenue dependence", "土地财政依赖度", ("land_revenue",), ("resources",),
              "land_revenue / 综合财力", "debt.land_dependence_high"),
)}

def formula_text(formula: str, lang: str = "en") -> str:
    """A ratio's formula for a reader: indicator codes as their names in ``lang``.

    ``formula_text("debt_service / 综合财力", "zh")`` is ``债务还本付息 / 综合财力``; in English
    ``综合财力`` reads ``comprehensive financial resources``.
    """
    out = re.sub(r"[a-z][a-z_]*", lambda m: label(m.group(0), lang), formula)
    return out if lang == "zh" else out.replace("综合财力", "comprehensive financial resources")


TABLE_COLUMNS: tuple[str, ...] = (
    "region_code", "region_name", "year", "ratio", "label_zh", "value", "numerator", "denominator",
    "computable", "reason", "needs", "line", "over_line", "grade", "resources_parts",
)


def grade(values: np.ndarray | pd.Series, config: Config | None = None) -> np.ndarray:
    """Risk grade of full-caliber (or statutory) debt ratios.

    ``green`` below ``debt_grades.green_below`` (120 %), ``yellow`` up to ``orange_from`` (200 %),
    ``orange`` up to ``red_from`` (300 %), ``red`` from there; ``""`` where the ratio is NaN.
    """
    v = np.asarray(values, dtype=float)
    cuts = [float(threshold(f"debt_grades.{k}", config)) for k in ("green_below", "orange_from", "red_from")]
    idx = np.searchsorted(np.asarray(cuts), np.where(np.isfinite(v), v, 0.0), side="right")
    out = np.asarray(GRADES, dtype=object)[idx]
    return np.where(np.isfinite(v), out, "").astype(object)


def _parts(frame: DebtFrame, names: tuple[str, ...]) -> tuple[pd.Series, list[pd.Series], list[str]]:
    """Sum of parts, the per-part 'missing' masks and the part names (综合财力 expands to its parts)."""
    if names == ("resources",):
        val, _ = resources(frame)
        parts = list(RESOURCES_REQUIRED)
    else:
        parts = list(names)
        sub = frame.data[parts]
        val = sub.sum(axis=1, min_count=len(parts)).where(sub.notna().all(axis=1))
    return val, [frame.data[p].isna() for p in parts], parts


def _reason_text(missing: list[pd.Series], parts: list[str], present: frozenset[str]) -> tuple[pd.Series, pd.Series]:
    """Per-row reason text and the comma-separated inputs that would make the ratio computable."""
    n = len(missing[0]) if missing else 0
    needs = pd.Series([""] * n, index=missing[0].index if missing else None, dtype=object)
    reason = needs.copy()
    for m, p in zip(missing, parts):
        if not m.any():
            continue
        why = f"{p} not in the panel" if p not in present else f"{p} missing for this year"
        needs = needs.where(~m, needs + np.where(needs.eq(""), "", ",") + p)
        reason = reason.where(~m, reason + np.where(reason.eq(""), "", "; ") + why)
    return reason, needs


def resources_parts_text(with_state_capital: pd.Series) -> pd.Series:
    """Which parts went into 综合财力, per row (for ``DebtRatios.table['resources_parts']``)."""
    base = " + ".join(RESOURCES_REQUIRED)
    opt = " + ".join(RESOURCES_OPTIONAL)
    return pd.Series(np.where(with_state_capital.to_numpy(dtype=bool), f"{base} + {opt}", f"{base} ({opt} not given)"),
                     index=with_state_capital.index, dtype=object)


def before_debt_reason(first_year: int) -> str:
    """Why a debt ratio does not apply to a year before statutory debt is recorded."""
    return (f"does not apply: before {first_year} (local-government debt is recorded from the end-{first_year} "
            "stock on, 国发〔2014〕43号)")


def before_limit_reason(first_limit_year: int) -> str:
    """Why 限额利用率 does not apply to a year before debt limits were set."""
    return (f"does not apply: before {first_limit_year} (debt limits were first set for {first_limit_year}, "
            "财预〔2015〕225号)")


def _compute(frame: DebtFrame, spec: RatioSpec, first_year: int, unit_slip: float = np.inf,
             first_limit_year: int | None = None) -> pd.DataFrame:
    num, miss_n, parts_n = _parts(frame, spec.numerator)
    den, miss_d, parts_d = _parts(frame, spec.denominator)
    reason, needs = _reason_text(miss_n + miss_d, parts_n + parts_d, frame.present)
    ok_inputs = num.notna() & den.notna()
    # a balance, interest or revenue below zero is impossible (the file loader excludes them; a panel
    # built from a frame may not): the ratio is not computable, never a negative "green" ratio
    neg_parts = [p for p in parts_n if (frame.data[p] < 0).any()]
    bad_num = ok_inputs & (frame.data[neg_parts] < 0).any(axis=1) if neg_parts else ok_inputs & False
    bad_den = ok_inputs & ~bad_num & ~(den > 0)
    reason = reason.where(~bad_den, "does not apply: denominator (" + " + ".join(parts_d) + ") is zero or negative")
    if neg_parts:
        neg_text = " or ".join(neg_parts)
        reason = reason.where(~bad_num, f"not computable: {neg_text} negative (impossible; check the sign)")
    # years before statutory debt exists: the missing debt figure is not a gap to fill
    debt_parts = [p for p in (*parts_n, *parts_d) if p in DEBT_INPUTS]
    if debt_parts:
        year = pd.Series(frame.data.index.get_level_values(1).to_numpy(dtype=int), index=reason.index)
        pre = (year < first_year) & frame.data[debt_parts].isna().any(axis=1)
        reason = reason.where(~pre, before_debt_reason(first_year))
        needs = needs.where(~pre, "")
        if first_limit_year is not None and "debt_limit" in debt_parts:
            pre_l = (year >= first_year) & (year < first_limit_year) & frame.data["debt_limit"].isna()
            reason = reason.where(~pre_l, before_limit_reason(first_limit_year))
            needs = needs.where(~pre_l, "")
    value = (num / den.where(den > 0)).where(ok_inputs & ~bad_num)
    # 1 亿元 = 10,000 万元: a ratio this large is a unit slip between numerator and denominator, not a level
    slip = value >= unit_slip
    if slip.any():
        reason = reason.where(~slip, f"not computable: ratio of {unit_slip:g} or more — numerator and denominator are "
                                     "probably in different units (万元 vs 亿元; 1 亿元 = 10,000 万元); check the unit column")
        value = value.where(~slip)
    res_parts = pd.Series("", index=reason.index, dtype=object)
    if "resources" in (*spec.numerator, *spec.denominator):
        res_val, with_sc = resources(frame)
        res_parts = res_parts.where(~res_val.notna(), resources_parts_text(with_sc))
    out = pd.DataFrame({
        "region_code": frame.data.index.get_level_values(0).astype(str),
        "year": frame.data.index.get_level_values(1).astype(int),
        "ratio": spec.name, "label_zh": spec.label_zh,
        "value": value.to_numpy(dtype=float), "numerator": num.to_numpy(dtype=float),
        "denominator": den.to_numpy(dtype=float),
        "computable": value.notna().to_numpy(), "reason": reason.to_numpy(dtype=object),
        "needs": needs.to_numpy(dtype=object), "resources_parts": res_parts.to_numpy(dtype=object),
    })
    return out


@dataclass
class DebtRatios:
    """Debt ratios of a panel: a tidy table and views of it (prints well in a notebook).

    Attributes
    ----------
    table : DataFrame
        One row per (region, year, ratio): :data:`TABLE_COLUMNS`. ``value`` is a fraction, NaN
        with ``computable=False`` and the ``reason`` / ``needs`` (comma-separated inputs) when it
        cannot be computed. ``line`` is the ratio's warning line, ``over_line`` whether it is
        crossed (below it for 财政自给率); ``grade`` is set for ``debt_ratio`` and
        ``full_caliber_ratio``; ``resources_parts`` says which parts formed 综合财力 for the ratios
        on it (state-capital revenue is added where given), "" for the others.
    resources_basis : str
        How 综合财力 was formed.
    """

    table: pd.DataFrame
    resources_basis: str = ("fiscal_revenue + transfer_revenue + fund_revenue (+ state_capital_revenue where given; "
                            "transfers gross of 上解上级支出, which the official 综合财力 nets out)")
    notes: list[str] = field(default_factory=list)
    parts: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def ratio(self, name: str) -> pd.DataFrame:
        """The rows of one ratio, in (region_code, year) grid order."""
        if name not in RATIOS:
            from detect.exceptions import UsageError

            raise UsageError(f"unknown ratio {name!r}; known: {', '.join(RATIOS)}")
        if name in self.parts:
            return self.parts[name]
        return self.table[self.table["ratio"] == name]

    def wide(self, what: str = "value") -> pd.DataFrame:
        """(region_code, year) x ratio table of ``value`` (or ``grade``, ``over_line``...)."""
        if len(self.table) == 0:
            return pd.DataFrame()
        first = self.ratio(next(iter(RATIOS)))
        idx = pd.MultiIndex.from_arrays([first["region_code"].to_numpy(), first["year"].to_numpy()],
                                        names=["region_code", "year"])
        return pd.DataFrame({n: self.ratio(n)[what].to_numpy() for n in RATIOS}, index=idx)

    def grades(self) -> pd.DataFrame:
        """Each region's latest graded year: ``region_code, region_name, year, basis, value, grade``
        (basis ``full_caliber_ratio`` where lgfv_debt is given, else ``debt_ratio`` = lower bound)."""
        g = graded_series(self)
        g = g[g["value"].notna()]
        if len(g) == 0:
            return pd.DataFrame(columns=["region_code", "region_name", "year", "basis", "value", "grade"])
        g = g.sort_values(["region_code", "year"]).groupby("region_code", sort=True).tail(1)
        return g[["region_code", "region_name", "year", "basis", "value", "grade"]].reset_index(drop=True)

    def not_computable(self) -> pd.DataFrame:
        """Ratios that could not be computed, grouped: ``ratio, reason, needs, n`` (most frequent first)."""
        parts = [self.ratio(n) for n in RATIOS] if len(self.table) else []
        t = [p.loc[~p["computable"].to_numpy(), ["ratio", "reason", "needs"]] for p in parts]
        t = pd.concat(t, ignore_index=True) if t else pd.DataFrame()
        if len(t) == 0:
            return pd.DataFrame(columns=["ratio", "reason", "needs", "n"])
        t = t.astype(object)
        out = t.groupby(["ratio", "reason", "needs"], sort=False).size().rename("n").reset_index()
        return out.sort_values(["ratio", "n"], ascending=[True, False], kind="mergesort").reset_index(drop=True)

    def overview(self) -> pd.DataFrame:
        """One row per ratio: formula, computable share, median, number of region-years over the line,
        region-years before statutory debt exists (``before_debt_years``: the ratio does not apply) and the
        most frequent reason among the other region-years it is not computable for."""
        rows = []
        nc = self.not_computable()
        for name, spec in RATIOS.items():
            t = self.ratio(name) if len(self.table) else self.table
            comp = t[t["computable"].to_numpy(dtype=bool)]
            top = nc[nc["ratio"] == name]
            before = top["reason"].astype(str).str.startswith("does not apply: before")
            n_before = int(top.loc[before, "n"].sum())
            top = top[~before]
            rows.append({
                "ratio": name, "label_zh": spec.label_zh, "formula": spec.formula,
                "n": int(len(t)), "computable": int(len(comp)),
                "median": float(comp["value"].median()) if len(comp) else float("nan"),
                "over_line": int(comp["over_line"].sum()) if len(comp) else 0,
                "before_debt_years": n_before,
                "main_reason_not_computable": str(top["reason"].iat[0]) if len(top) else "",
            })
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Plain-text summary (what ``repr`` shows)."""
        t = self.table
        n_reg = t["region_code"].nunique() if len(t) else 0
        years = f"{int(t['year'].min())}-{int(t['year'].max())}" if len(t) else "none"
        lines = [f"DebtRatios: {n_reg} regions, years {years}", f"综合财力 = {self.resources_basis}", ""]
        ov = self.overview()
        lines.append(f"{'ratio':<20}{'中文':<12}{'computable':>12}{'median':>9}{'over line':>11}  reason when not")
        for r in ov.itertuples(index=False):
            med = pct(r.median, 1) if np.isfinite(r.median) else "-"
            lines.append(f"{r.ratio:<20}{r.label_zh:<12}{r.computable:>6}/{r.n:<5}{med:>9}{r.over_line:>11}  "
                         f"{r.main_reason_not_computable if r.computable + r.before_debt_years < r.n else ''}")
        g = self.grades()
        if len(g):
            counts = g["grade"].value_counts()
            lines.append("")
            lines.append("latest grade: " + ", ".join(f"{k} {int(counts.get(k, 0))}" for k in GRADES)
                         + f" (basis full caliber for {int((g['basis'] == 'full_caliber_ratio').sum())} regions, "
                           "statutory 债务率 = lower bound for the rest)")
        lines.extend(self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    __str__ = __repr__

    def _repr_html_(self) -> str:
        ov = self.overview().copy()
        ov["median"] = ov["median"].map(lambda v: pct(v, 1) if np.isfinite(v) else "-")
        head = html.escape(self.summary().splitlines()[0])
        return (f"<div><strong>{head}</strong><br><em>综合财力 = {html.escape(self.resources_basis)}</em>"
                f"{ov.to_html(index=False, escape=True)}"
                f"{self.grades().head(20).to_html(index=False, escape=True) if len(self.table) else ''}</div>")


def compute_ratios(panel: Panel | DebtFrame, config: Config | None = None) -> DebtRatios:
    """All debt ratios of every region-year of ``panel``.

    Parameters
    ----------
    panel : Panel
        Any panel; indicators it lacks make the ratios that need them not computable.
    config : Config, optional
        Thresholds (warning lines, grade cut-offs); shipped defaults when None.

    Returns
    -------
    DebtRatios
        ``.table`` (tidy), ``.wide()``, ``.grades()``, ``.not_computable()``, ``.summary()``.

    Notes
    -----
    A ratio is not computable when an input is absent from the panel, missing that year, or the
    denominator is not positive; ``reason`` says which, ``needs`` lists the inputs to supply.
    """
    frame = panel if isinstance(panel, DebtFrame) else debt_frame(panel)
    if frame.n_regions == 0 or frame.n_years == 0:
        return DebtRatios(pd.DataFrame({c: pd.Series(dtype=object) for c in TABLE_COLUMNS}))
    names = frame.names()
    parts = []
    first_year = int(threshold("debt.first_debt_year", config))
    unit_slip = float(threshold("debt.unit_slip_ratio", config))
    first_limit_year = int(threshold("debt.first_limit_year", config))
    for spec in RATIOS.values():
        t = _compute(frame, spec, first_year, unit_slip, first_limit_year)
        line = float(threshold(spec.line, config)) if spec.line else float("nan")
        t["line"] = line
        if spec.direction == "above":
            over = (t["value"] > line) if spec.strict else (t["value"] >= line)
            t["over_line"] = over.to_numpy() if spec.line else False
        else:
            t["over_line"] = (t["value"] < line).to_numpy()
        if spec.name == "limit_utilisation":  # a breach is strictly above the limit, beyond rounding
            tol = float(threshold("debt.limit_tolerance", config))
            t["over_line"] = (t["value"] > line * (1 + tol)).to_numpy()
        t["grade"] = grade(t["value"], config) if spec.name in ("debt_ratio", "full_caliber_ratio") else ""
        parts.append(t)
    region_name = pd.Series(frame.codes).map(names).to_numpy(dtype=object)
    by = {}
    for spec, t in zip(RATIOS.values(), parts):
        t["region_name"] = np.repeat(region_name, frame.n_years)
        t["over_line"] = t["over_line"].astype(bool)
        by[spec.name] = t[list(TABLE_COLUMNS)]
    return DebtRatios(pd.concat(list(by.values()), ignore_index=True), parts=by)


def graded_series(res: "DebtRatios") -> pd.DataFrame:
    """Per region-year the ratio that is graded: full caliber where computable, else statutory 债务率.

    Returns ``region_code, region_name, year, basis, value, grade`` (value NaN when neither is computable).
    """
    if len(res.table) == 0:
        return pd.DataFrame(columns=["region_code", "year", "region_name", "basis", "value", "grade"])
    full = res.ratio("full_caliber_ratio").set_index(["region_code", "year"])
    stat = res.ratio("debt_ratio").set_index(["region_code", "year"])
    use_full = full["value"].notna()
    out = pd.DataFrame({
        "region_name": stat["region_name"],
        "basis": np.where(use_full, "full_caliber_ratio", "debt_ratio"),
        "value": full["value"].where(use_full, stat["value"]),
        "grade": full["grade"].where(use_full, stat["grade"]),
    }).reset_index()
    return out


# --- the detector ----------------------------------------------------------------------------------

_LINE_SEVERITY = {
    "debt_ratio": "low", "debt_to_gdp": "low", "interest_ratio": "high", "debt_service_ratio": "low",
    "overdue_ratio": "medium", "self_sufficiency": "info", "land_dependence": "info",
}
_LINE_TEXT = {  # (en, zh) what crossing the line means
    "debt_ratio": ("above the 100 % warning line (审计署 2013: 100-120 % international range)",
                   "超过100 %警戒线（审计署2013年公告：国际参考值100 %–120 %）"),
    "debt_to_gdp": ("above the 60 % debt-to-GDP reference (Maastricht; a loose reference for a region)",
                    "超过60 %负债率参考值（马斯特里赫特标准，对地方仅作参考）"),
    "interest_ratio": ("above the 10 % line that triggers a fiscal-restructuring plan (国办函〔2016〕88号)",
                       "超过10 %，按国办函〔2016〕88号应启动财政重整计划"),
    "debt_service_ratio": ("above the 20 % debt-service convention", "超过20 %偿债率惯用警戒线"),
    "overdue_ratio": ("above the 10 % overdue-debt line (广东省预案 2016: 10-20 % initial, >50 % severe)",
                      "超过10 %逾期债务率（广东省2016年预案：10 %–20 %初级风险，50 %以上严重风险）"),
    "self_sufficiency": ("below 30 % fiscal self-sufficiency (lives mainly on transfers)",
                         "财政自给率低于30 %（主要依靠转移支付）"),
    "land_dependence": ("above 50 % of comprehensive resources from land sales", "土地出让收入超过综合财力的50 %"),
}

_PROVINCE_INTEREST_TEXT = (
    "above 10 %, the line that triggers a fiscal-restructuring plan for cities and counties (国办函〔2016〕88号; "
    "a reference for a province-level region)",
    "超过10 %（国办函〔2016〕88号规定市县超过此线应启动财政重整，对省级仅作参考）")


def _province_level(code: str) -> bool:
    """Province-level region by its GB/T 2260 code (six digits ending 0000: provinces, 直辖市, 自治区)."""
    return len(code) == 6 and code.isdigit() and code.endswith("0000")


@register
class DebtRatiosDetector(Detector):
    """Risk grades and warning-line crossings of the debt ratios (rule-based)."""

    name = "debt_ratios"
    family = "debt"
    title = "Debt ratios, risk grades and warning lines"
    title_zh = "债务率、风险等级与警戒线"
    null_hypothesis = ("Rule-based (no test): a region's reported debt ratios are below the cited warning "
                       "lines and its full-caliber debt ratio is in the green grade (< 120 %).")
    null_hypothesis_zh = ("基于规则（不做检验）：地区报告的各项债务率均低于所引用的警戒线，"
                          "且全口径债务率处于绿色等级（< 120%）。")

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        frame = debt_frame(panel)
        if "debt_balance" not in frame.present:
            out.notes.append("debt_ratios: no debt_balance in the panel; no debt ratio computable "
                             "(supply debt_balance and 综合财力 parts fiscal_revenue, transfer_revenue, fund_revenue)")
            return out
        res = compute_ratios(frame, config)
        ov = res.overview()
        for r in ov.itertuples(index=False):
            rest = r.n - r.computable - r.before_debt_years
            if rest > 0 and r.main_reason_not_computable:
                out.notes.append(f"debt_ratios: {r.ratio} ({r.label_zh}) not computable for {rest} of "
                                 f"{r.n - r.before_debt_years} region-years; main reason: {r.main_reason_not_computable}")
        n_before = int(ov.loc[ov["ratio"] == "debt_ratio", "before_debt_years"].sum())
        if n_before:
            first_year = int(threshold("debt.first_debt_year", config))
            out.notes.append(f"debt_ratios: {n_before} region-years before {first_year} without debt figures: "
                             f"does not apply (local-government debt is recorded from the end-{first_year} stock on; "
                             "not a gap to fill)")
        self._grades(res, frame, config, out)
        self._lines(res, frame, config, out)
        return out

    # grades: runs of consecutive years above green, one finding per run and basis
    def _grades(self, res: DebtRatios, frame: DebtFrame, config: Config, out: Findings) -> None:
        g = graded_series(res)
        if g["value"].notna().sum() == 0:
            return
        from detect.debt.stress import crossing_years_for  # local: stress imports this module

        years = frame.years
        val = frame.matrix(g["value"])
        grade_m = np.asarray(g["grade"], dtype=object).reshape(frame.n_regions, frame.n_years)
        basis_m = np.asarray(g["basis"], dtype=object).reshape(frame.n_regions, frame.n_years)
        res_v, with_sc = resources(frame)
        res_m = frame.matrix(res_v)
        sc_m = frame.matrix(with_sc.astype(float)) > 0
        parts_m = {p: frame.matrix(p) for p in (*RESOURCES_REQUIRED, *RESOURCES_OPTIONAL)}
        rank = {"": 0, "green": 0, "yellow": 1, "orange": 2, "red": 3}
        level = np.vectorize(rank.get, otypes=[int])(grade_m)
        hits = []
        for basis in ("full_caliber_ratio", "debt_ratio"):
            hits += [(r, s, e, basis) for r, s, e in runs((level > 0) & (basis_m == basis))]
        if not hits:
            return
        cross = crossing_years_for(frame, sorted({int(r) for r, *_ in hits}), config)
        names = frame.names()
        for r, s, e, basis in hits:
            code = str(frame.codes[r])
            worst_i = s + int(np.argmax(level[r, s:e + 1]))
            worst = str(grade_m[r, worst_i])
            last = str(grade_m[r, e])
            y0, y1, yw = str(int(years[s])), str(int(years[e])), int(years[worst_i])
            v_last, v_worst = float(val[r, e]), float(val[r, worst_i])
            lower = basis == "debt_ratio"
            spec = RATIOS[basis]
            cy = cross.get(code, {})
            base_cross = _next_crossing(cy.get("crossing_years", {}).get("baseline", {}), int(years[e]))
            tail_en = tail_zh = ""
            if base_cross:
                line, yr = base_cross
                tail_en = f"; on the baseline projection the statutory debt ratio crosses {line} in {yr}"
                tail_zh = f"；基准情形下法定债务率{yr}年越过{line}线"
            missing = {str(int(years[j])): list(RESOURCES_OPTIONAL) for j in range(s, e + 1)
                       if np.isfinite(res_m[r, j]) and not sc_m[r, j]}
            no_sc = not sc_m[r, e]
            sc_en = " (without state-capital revenue, not given)" if no_sc else ""
            sc_zh = "（不含国有资本经营收入，未提供）" if no_sc else ""
            lb_en = " (statutory debt only: a lower bound, LGFV debt not given)" if lower else ""
            lb_zh = "（仅法定债务，未含城投债务，为下限）" if lower else ""
            # "was 350 % in 2020" / "above green in 2012-2014, graded orange at worst (250 % in 2013), 240 % in 2014"
            period_en = "was" if s == e else f"above green in {y0}-{y1},"
            worst_en = f" graded {worst} at worst ({pct(v_worst)} in {yw})," if s != e else ""
            worst_zh = f"；{y0}–{y1}年最高{pct(v_worst)}（{yw}年，{GRADE_ZH[worst]}）" if s != e else ""
            out.items.append(Finding(
                region_code=code, region_name=str(names.get(code, code)), indicator=basis,
                period_start=y0, period_end=y1, detector=self.name, statistic=v_worst, p_value=float("nan"),
                family=self.family, kind=f"grade_{worst}", effect=v_worst, severity_hint=_GRADE_SEVERITY[worst],
                summary=(f"{spec.label_en[0].upper() + spec.label_en[1:]} {period_en}{worst_en} {pct(v_last)} in {y1} "
                         f"({last}){lb_en}, comprehensive resources {money_en(res_m[r, e])}{sc_en}"
                         f"{tail_en}; check the debt and revenue figures and the repayment plan."),
                summary_zh=(f"{spec.label_zh}{y1}年为{pct(v_last)}（{GRADE_ZH[last]}）{lb_zh}，综合财力"
                            f"{money(res_m[r, e])}亿元{sc_zh}{worst_zh}"
                            f"{tail_zh}；请核实债务与收入数据及偿债计划。"),
                evidence={"series": series_dict(years, val[r]), "grades": {str(int(y)): str(grade_m[r, j]) for j, y in
                                                                            enumerate(years) if grade_m[r, j]},
                          "basis": basis, "lower_bound": lower, "resources": series_dict(years, res_m[r]),
                          "resources_parts": {p: series_dict(years, m[r]) for p, m in parts_m.items()},
                          "resources_missing": missing,
                          "cutoffs": {k: float(threshold(f"debt_grades.{k}", config))
                                      for k in ("green_below", "orange_from", "red_from")},
                          **cy},
            ))

    # warning lines of the other ratios
    def _lines(self, res: DebtRatios, frame: DebtFrame, config: Config, out: Findings) -> None:
        names = frame.names()
        years = frame.years
        gm = graded_series(res)
        graded_above = frame.matrix(gm["value"]) >= float(threshold("debt_grades.green_below", config))
        for ratio, sev in _LINE_SEVERITY.items():
            sub = res.ratio(ratio)
            over = np.asarray(sub["over_line"], dtype=bool).reshape(frame.n_regions, frame.n_years)
            if ratio == "debt_ratio":  # 100-120 %: the grade findings cover >= 120 %
                over = over & ~graded_above
            if not over.any():
                continue
            val = frame.matrix(sub["value"])
            parts_txt = np.asarray(sub["resources_parts"], dtype=object).reshape(frame.n_regions, frame.n_years)
            spec = RATIOS[ratio]
            line = float(sub["line"].iat[0])
            for r, s, e in runs(over):
                code = str(frame.codes[r])
                seg = val[r, s:e + 1]
                worst_i = s + int(np.nanargmin(seg) if spec.direction == "below" else np.nanargmax(seg))
                v_last, v_worst = float(val[r, e]), float(val[r, worst_i])
                y0, y1 = str(int(years[s])), str(int(years[e]))
                severity = sev
                if ratio == "overdue_ratio" and v_worst >= float(threshold("debt.overdue_ratio_severe", config)):
                    severity = "high"
                en, zh = _LINE_TEXT[ratio]
                if ratio == "interest_ratio" and _province_level(code):
                    # 国办函〔2016〕88号's 财政重整 trigger is for 市县 governments, not provinces
                    severity = "medium"
                    en, zh = _PROVINCE_INTEREST_TEXT
                period_en = f"in {y1}" if s == e else f"in {y0}-{y1}"
                num = spec.numerator[0]
                out.items.append(Finding(
                    region_code=code, region_name=str(names.get(code, code)), indicator=ratio,
                    period_start=y0, period_end=y1, detector=self.name, statistic=v_worst, p_value=float("nan"),
                    family=self.family, kind=f"{ratio}_line", effect=v_worst - line, severity_hint=severity,
                    summary=(f"{spec.label_en[0].upper() + spec.label_en[1:]} = {formula_text(spec.formula)} "
                             f"{period_en} {en}: "
                             f"{pct(v_last, 1)} in {y1}"
                             + (f", extreme {pct(v_worst, 1)} in {int(years[worst_i])}" if s != e else "")
                             + f"; check {label(num)} and its denominator against the budget and final accounts."),
                    summary_zh=(f"{spec.label_zh}（{formula_text(spec.formula, 'zh')}）{y1}年为{pct(v_last, 1)}，{zh}"
                                + (f"（{y0}–{y1}年极值{pct(v_worst, 1)}，{int(years[worst_i])}年）" if s != e else "")
                                + "；请对照预决算核实"
                                f"{LABEL_ZH.get(num, num)}及分母数据。"),
                    evidence={"series": series_dict(years, val[r]), "line": line, "direction": spec.direction,
                              "formula": spec.formula,
                              "numerator": series_dict(years, frame.matrix(sub["numerator"])[r]),
                              "denominator": series_dict(years, frame.matrix(sub["denominator"])[r]),
                              **({"resources_parts": str(parts_txt[r, e])} if parts_txt[r, e] else {})},
                ))


def _next_crossing(lines: dict, last_year: int) -> tuple[str, int] | None:
    """The first grade line crossed after ``last_year`` in a ``{line: year}`` map (None when none)."""
    ahead = [(y, k) for k, y in lines.items() if y is not None and y > last_year]
    if not ahead:
        return None
    y, k = min(ahead)
    return k, y
