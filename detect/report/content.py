"""What the report says about each finding and region, worked out from a run (pure functions).

* :func:`worklist_rows` — one row per finding for the worklist (问题清单): what to check, owner,
  deadline and status (from the follow-up register when one is given; debt stress-test crossing
  years pre-fill deadlines), and whether the item is overdue.
* :func:`region_charts` — the charts of one region's section, read from the findings' evidence
  (and from ``panel.parquet`` where the evidence does not carry a series).

Evidence keys read (see docs/report.md): ``series``, ``expected`` / ``fitted``, ``break_period`` /
``break_year``, ``proxy`` / ``proxy_indicator`` and ``proxy_series``, ``digits`` with ``n``,
``test`` and ``expectation``, and for debt ``grade_lines``, ``fan``, ``scenarios``,
``crossing_years``.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from detect.data.aliases import label
from detect.explain import what_to_check as explain_check
from detect.report import charts
from detect.report.i18n import family_label, t

#: Charts per region section, by kind (keeps a national report short and fast).
MAX_SERIES_CHARTS = 3
MAX_PROXY_CHARTS = 2
MAX_DIGIT_CHARTS = 2
MAX_DEBT_CHARTS = 2
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
#: Statuses that end the follow-up loop (never overdue).
DONE_STATUSES = frozenset({"closed", "dismissed", "rectified"})

_CHECK_EN = re.compile(r"\b(check|verify|ask|compare|confirm|review|obtain|request)\b", re.IGNORECASE)
_CHECK_ZH = re.compile(r"(核|查|请|调取|比对|对照)")


#: Labels of derived quantities that detectors report on (ratios and shares, not panel indicators).
DERIVED_LABELS: dict[str, tuple[str, str]] = {
    "debt_ratio": ("debt ratio", "债务率"),
    "full_caliber_ratio": ("full-caliber debt ratio", "全口径债务率"),
    "debt_to_gdp": ("debt-to-GDP ratio", "负债率"),
    "debt_to_revenue": ("debt to general budget revenue", "债务/一般公共预算收入"),
    "interest_ratio": ("interest-to-expenditure ratio", "利息支出率"),
    "debt_service_ratio": ("debt-service ratio", "偿债率"),
    "overdue_ratio": ("overdue-debt ratio", "逾期债务率"),
    "limit_use": ("use of the debt limit", "限额利用率"),
    "limit_utilisation": ("use of the debt limit", "限额利用率"),
    "self_sufficiency": ("fiscal self-sufficiency", "财政自给率"),
    "land_dependence": ("land-revenue dependence", "土地财政依赖度"),
    "nontax_share": ("non-tax share of revenue", "非税收入占比"),
}
#: Indicators whose finding charts a balance against its approved limit: the balance charted.
LIMIT_BALANCE = {"limit_utilisation": "debt_balance", "limit_use": "debt_balance"}


#: Digit tests as the digits detectors name them (``evidence["test"]``, before any ", expectation").
DIGIT_TESTS: dict[str, tuple[str, str]] = {
    "first": ("first digit", "首位数字"), "second": ("second digit", "第二位数字"),
    "first-two": ("first two digits", "前两位数字"), "first-three": ("first three digits", "前三位数字"),
    "last-two": ("last two digits", "末两位数字"), "last": ("last digit", "末位数字"),
    "last digit": ("last digit", "末位数字"),
}


def capitalised(text: str) -> str:
    """``text`` with its first letter in upper case and the rest as written ('LGFV', 'GDP' stay)."""
    return text[:1].upper() + text[1:]


def _title(key: str, lang: str, **kw: Any) -> str:
    """A chart title: the label, starting with a capital in English ("Fiscal revenue: reported series")."""
    text = t(key, lang, **kw)
    return capitalised(text) if lang == "en" else text


def digit_test_label(test: str, lang: str) -> str:
    """``"last digit, uniform"`` -> ``末位数字`` / ``last digit`` (the expectation is named apart)."""
    key = str(test).split(",")[0].strip().lower()
    if key in DIGIT_TESTS:
        en, zh = DIGIT_TESTS[key]
        return zh if lang == "zh" else en
    return str(test)


def indicator_label(ind: str, lang: str) -> str:
    """Human label of an indicator (``*`` means all the region's figures pooled)."""
    if ind in ("*", "", None):
        return "全部指标" if lang == "zh" else "all figures"
    if str(ind) in DERIVED_LABELS:
        en, zh = DERIVED_LABELS[str(ind)]
        return zh if lang == "zh" else en
    return label(str(ind), lang)


def period_text(start: str, end: str) -> str:
    start, end = str(start or ""), str(end or "")
    if not end or end == start:
        return start
    if not start:
        return end
    return f"{start}–{end}"


def summary_text(row: Mapping[str, Any], lang: str) -> str:
    """The finding's sentence in ``lang`` (falls back to the other language when one is empty)."""
    zh, en = str(row.get("summary_zh") or ""), str(row.get("summary") or "")
    if lang == "zh":
        return zh or en
    return capitalised(en) if en else zh  # a sentence starts with a capital


def what_to_check(row: Mapping[str, Any], lang: str) -> str:
    """What the reviewer should check: the evidence's ``what_to_check`` / ``check``, else the last
    clause of the summary when it is an instruction, else the family's generic instruction."""
    ev = row.get("evidence") or {}
    # "check" is English (detectors write "check" and "check_zh"); "what_to_check" is taken as given
    keys = (("what_to_check_zh", "check_zh", "what_to_check") if lang == "zh"
            else ("what_to_check_en", "check_en", "what_to_check", "check"))
    generic = _generic_check(lang)
    for src in (ev if isinstance(ev, Mapping) else {}, row):  # the evidence, then the record (evidence.jsonl)
        for key in keys:
            v = src.get(key)
            if isinstance(v, str) and v.strip():
                v = v.strip()
                if v.rstrip("。.").lower() == generic:
                    continue  # the catch-all of detect.explain: the finding's own instruction says more
                return capitalised(v) if lang == "en" else v
    text = summary_text(row, lang)
    if generic and generic in text.lower():
        text = ""  # the sentence ends with the same catch-all ("…；针对2025年，将该数据与原始记录…核对")
    if lang == "zh":
        parts = re.split(r"[；;]", text)
        tail = parts[-1].strip() if len(parts) > 1 else ""
        if tail and _CHECK_ZH.search(tail):
            m = re.search(r"(?:^|[，,])\s*(请.+)$", tail)  # "…的限额，请核对…": the request itself
            return m.group(1).strip() if m else tail
    else:
        parts = text.split("; ")
        tail = parts[-1].strip() if len(parts) > 1 else ""
        m = _CHECK_EN.search(tail) if tail else None
        if m:
            if tail[:m.start()].rstrip().endswith(("—", ",", ":")):  # "… — check the limit …"
                tail = tail[m.start():]
            return capitalised(tail)
    fam = str(row.get("family") or "series")
    ind = str(row.get("indicator") or "")
    if "debt" in ind or "limit" in ind or ind in DERIVED_LABELS and "debt" in DERIVED_LABELS[ind][0]:
        fam = "debt"  # a debt figure screened by a series test: the finance bureau's records, not the ledgers
    key = f"check_{fam}" if fam in ("digits", "series", "panel", "debt") else "check_series"
    return t(key, lang)


def _generic_check(lang: str) -> str:
    """The catch-all sentence of :func:`detect.explain.what_to_check` (for an indicator it has no
    sentence for, e.g. a derived ratio): lower case, without the full stop."""
    return explain_check("", lang=lang).rstrip("。.").lower()


def stress_deadline(ev: Mapping[str, Any]) -> tuple[str, int] | None:
    """Deadline pre-filled from a debt stress test: ``(YYYY-MM-DD, crossing year)`` or None.

    The register's rule, :func:`detect.review.stress_due_date` (30 June of the baseline's earliest
    projected crossing year, see thresholds ``[review]``), so that the report shows the deadline the
    register holds: a crossing only in a shock scenario, or one already in the data, gives none.
    """
    from detect.review import stress_due_date

    res = stress_due_date(dict(ev)) if isinstance(ev, Mapping) else None
    if not res:
        return None
    due = res[0]
    return due, int(due[:4])


# --- follow-up register ------------------------------------------------------------------------

def register_statuses(db: str | None, finding_ids: list[str],
                      today: _dt.date | None = None) -> dict[str, dict[str, str]]:
    """Status, owner and deadline of each finding from the follow-up register (``detect.review``).

    Returns ``{finding_id: {"status", "owner", "deadline"}}``; empty when no db is given or the
    review package is not installed. Accepts a DataFrame or a mapping from ``status_table``.
    """
    if not db:
        return {}
    fn = None
    for mod in ("detect.review", "detect.review.store", "detect.review.register"):
        try:
            fn = getattr(importlib.import_module(mod), "status_table", None)
        except ImportError:
            fn = None
        if fn is not None:
            break
    if fn is None:
        return {}
    try:
        res = fn(db, list(finding_ids), today=today.isoformat() if today else None)
    except TypeError:  # an older status_table without ``today``
        res = fn(db, list(finding_ids))
    out: dict[str, dict[str, str]] = {}
    if isinstance(res, pd.DataFrame):
        recs = res.to_dict("records")
    elif isinstance(res, Mapping):
        recs = [{"finding_id": k, **(v if isinstance(v, Mapping) else {"status": v})} for k, v in res.items()]
    else:
        recs = list(res or [])
    for r in recs:
        fid = str(r.get("finding_id", ""))
        if not fid:
            continue
        dl = r.get("deadline", r.get("due", r.get("due_date", "")))
        out[fid] = {
            "status": _clean(r.get("status")) or "open",
            "owner": _clean(r.get("owner", r.get("assignee", ""))),
            "deadline": _clean(dl)[:10],
            "notes": _clean(r.get("note", r.get("notes", ""))),
        }
    return out


def _clean(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (_dt.date, pd.Timestamp)):
        return v.isoformat()[:10]
    s = str(v)
    return "" if s in ("nan", "NaT", "None") else s


def worklist_rows(findings: pd.DataFrame, lang: str, date: _dt.date,
                  statuses: Mapping[str, Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
    """One row per finding: by severity, then region rank (``rank`` column when given), then score."""
    statuses = statuses or {}
    rows = []
    f = findings.copy()
    f["_sev"] = f["severity"].map(SEVERITY_ORDER).fillna(len(SEVERITY_ORDER))
    f["_rank"] = pd.to_numeric(f["rank"], errors="coerce").fillna(1e9) if "rank" in f.columns else 0
    f["_score"] = -pd.to_numeric(f["score"], errors="coerce").fillna(0)
    f = f.sort_values(["_sev", "_rank", "_score", "finding_id"], kind="mergesort")
    for rec in f.to_dict("records"):
        fid = str(rec["finding_id"])
        st = statuses.get(fid, {})
        status = st.get("status") or "open"
        owner = st.get("owner") or ""
        deadline = st.get("deadline") or ""
        source = "register" if deadline else ""
        if not deadline:
            pre = stress_deadline(rec.get("evidence") or {})
            if pre is not None:
                deadline, year = pre
                source = t("deadline_stress", lang, year=year)
        elif source:
            source = t("deadline_register", lang)
        overdue = False
        if deadline and status not in DONE_STATUSES:
            try:
                overdue = _dt.date.fromisoformat(deadline[:10]) < date
            except ValueError:
                overdue = False
        q = rec.get("q_value")
        rows.append({
            "finding_id": fid,
            "severity": str(rec.get("severity") or ""),
            "region_code": str(rec.get("region_code") or ""),
            "region_name": str(rec.get("region_name") or ""),
            "indicator": indicator_label(rec.get("indicator"), lang),
            "period": period_text(rec.get("period_start"), rec.get("period_end")),
            "detector": str(rec.get("detector") or ""),
            "family": family_label(str(rec.get("family") or ""), lang),
            "q_value": float(q) if q is not None and not (isinstance(q, float) and math.isnan(q)) else None,
            "score": float(rec.get("score")) if _finite(rec.get("score")) else None,
            "summary": summary_text(rec, lang),
            "what_to_check": what_to_check(rec, lang),
            "status": status,
            "owner": owner,
            "deadline": deadline,
            "deadline_source": source,
            "overdue": overdue,
            "notes": st.get("notes") or "",
        })
    return rows


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


# --- charts of a region ------------------------------------------------------------------------

@dataclass
class Chart:
    """One chart of a region section: SVG text and its caption."""

    kind: str
    svg: str
    caption: str
    finding_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.caption[:1].isascii() and self.caption[:1].islower():  # "fiscal revenue of …" starts a sentence
            self.caption = capitalised(self.caption)


def _flagged(sub: pd.DataFrame) -> pd.DataFrame:
    """The findings that mark a chart: high, medium and low ones (all of them when there are none)."""
    keep = sub[sub["severity"].isin(["high", "medium", "low"])]
    return keep if len(keep) else sub


def _ranges(sub: pd.DataFrame) -> list[tuple[float, float]]:
    sub = _flagged(sub)
    out = []
    for a, b in zip(sub["period_start"], sub["period_end"]):
        xa, xb = charts.period_x(a), charts.period_x(b or a)
        if xa is not None:
            out.append((xa, xb if xb is not None else xa))
    return sorted(set(out))


def _breaks(sub: pd.DataFrame) -> list[float]:
    sub = _flagged(sub)
    out = []
    for rec in sub.to_dict("records"):
        ev = rec.get("evidence") or {}
        b = None
        for key in ("break_period", "break_year", "break"):
            if ev.get(key) is not None:
                b = charts.period_x(ev.get(key))
                break
        if b is None and "shift" in str(rec.get("kind", "")):
            b = charts.period_x(rec.get("period_start"))
        if b is not None:
            out.append(b)
    return out


def _first(sub: pd.DataFrame, *keys: str) -> Any:
    for ev in sub["evidence"]:
        if isinstance(ev, Mapping):
            for k in keys:
                v = ev.get(k)
                if v:
                    return v
    return None


def region_charts(fr: pd.DataFrame, lang: str, region_name: str,
                  panel_series=None, units: Mapping[str, str] | None = None) -> list[Chart]:
    """Charts of one region's findings (``fr``: that region's rows, best first).

    ``panel_series(indicator) -> {year: value}`` supplies series the evidence lacks; ``units``
    (``{indicator: unit}``, the run's catalogue) labels the value axis of series charts.
    """
    from detect.data.units import unit_label

    units = units or {}
    out: list[Chart] = []
    if not len(fr):
        return out
    fam = fr["family"].astype(str)
    is_digit = fr["evidence"].map(lambda e: isinstance(e, Mapping) and isinstance(e.get("digits"), list))
    is_traj = fr["evidence"].map(lambda e: isinstance(e, Mapping) and bool(
        e.get("fan") or e.get("projection") or _grade_lines(e)))
    is_debt = fam.eq("debt") & is_traj
    # 1. time series per indicator (not digit tests, not debt ratios with lines or projections)
    ts = fr[~is_digit & ~is_debt & ~fr["indicator"].isin(["*", ""])]
    n_series = 0
    for ind in dict.fromkeys(ts["indicator"]):
        sub = ts[ts["indicator"] == ind]
        if n_series >= MAX_SERIES_CHARTS and not (sub["severity"] == "high").any():
            continue  # past the cap only indicators with a high finding get a chart
        n_series += 1
        series = _first(sub, "series") or (panel_series(ind) if panel_series else None)
        shown = ind  # the indicator whose values are drawn
        expected = _first(sub, "expected", "fitted", "counterfactual")
        exp_label, title_key, cap_key, cap_kw = "", "ch_series", "ch_series_caption", {}
        if not isinstance(expected, Mapping) and isinstance(_first(sub, "limit"), Mapping):
            # a balance against its approved limit (the finding's indicator may be the utilisation ratio)
            shown = LIMIT_BALANCE.get(str(ind), ind)
            expected, exp_label = _first(sub, "limit"), t("ch_limit", lang)
            title_key, cap_key = "ch_limit_title", "ch_limit_caption"
        elif not isinstance(expected, Mapping) and isinstance(_first(sub, "children_sum"), Mapping):
            # a parent's figure against the sum of its children's
            expected, exp_label = _first(sub, "children_sum"), t("ch_children", lang)
            n_kids = _first(sub, "n_children")
            cap_key, cap_kw = "ch_children_caption", {"n": int(n_kids) if _finite(n_kids) else "?"}
        lab = indicator_label(shown, lang)
        expected = expected if isinstance(expected, Mapping) else None
        flagged, breaks = _ranges(sub), _breaks(sub)
        svg = charts.time_series(series, lang=lang, title=_title(title_key, lang, indicator=lab),
                                 flagged=flagged, breaks=breaks, expected=expected,
                                 expected_label=exp_label, unit=unit_label(units.get(str(shown), ""), lang))
        if cap_key == "ch_series_caption":  # the caption explains what is drawn, nothing more
            pts = [x for x, _ in charts.as_points(series)]
            parts = [k for k, on in (("ch_cap_flagged", any(charts._in_ranges(x, flagged) for x in pts)),
                                     ("ch_cap_breaks", bool(breaks)),
                                     ("ch_cap_expected", bool(charts.as_points(expected)))) if on]
            cap_kw = {"parts": ("；" if lang == "zh" else "; ").join(t(k, lang) for k in parts)}
            if not parts:
                cap_key, cap_kw = "ch_series_caption_plain", {}
        if svg:
            out.append(Chart("series", svg, t(cap_key, lang, indicator=lab, region=region_name, **cap_kw),
                             list(sub["finding_id"])))
    # 2. proxy comparisons
    n = 0
    seen = set()
    for rec in fr[~is_digit].to_dict("records"):
        ev = rec.get("evidence") or {}
        if n >= MAX_PROXY_CHARTS and rec.get("severity") != "high":
            continue
        if isinstance(ev.get("reported_growth"), Mapping) and (ev.get("proxy_growth") or ev.get("implied_growth")):
            ind = str(rec["indicator"])
            if (ind, "growth") in seen:
                continue
            seen.add((ind, "growth"))
            lab = indicator_label(ind, lang)
            prox = ev.get("proxy_growth") if isinstance(ev.get("proxy_growth"), Mapping) else {}
            prox = {indicator_label(k, lang): v for k, v in prox.items() if isinstance(v, Mapping)}
            run = ev.get("run_years")
            flagged = _ranges(fr[fr["finding_id"] == rec["finding_id"]])
            if isinstance(run, list) and run:
                xs = [charts.period_x(v) for v in run]
                xs = [x for x in xs if x is not None]
                flagged = [(min(xs), max(xs))] if xs else flagged
            svg = charts.growth_comparison(ev["reported_growth"], lang=lang, implied=ev.get("implied_growth"),
                                           proxies=prox, flagged=flagged, reported_label=lab,
                                           implied_label=t("ch_implied", lang),
                                           title=_title("ch_growth_title", lang, indicator=lab))
            if svg:
                sep = "、" if lang == "zh" else ", "
                out.append(Chart("proxy", svg, t("ch_growth_caption", lang, indicator=lab, region=region_name,
                                                 proxies=sep.join(prox) or "–"), [rec["finding_id"]]))
                n += 1
            continue
        proxy = ev.get("proxy") or ev.get("proxy_indicator")
        pser = ev.get("proxy_series")
        if not proxy and not pser:
            continue
        proxy = str(proxy or "proxy")
        key = (rec["indicator"], proxy)
        if key in seen:
            continue
        seen.add(key)
        ind = str(rec["indicator"])
        series = ev.get("series") or (panel_series(ind) if panel_series else None)
        if not isinstance(pser, Mapping) and panel_series:
            pser = panel_series(proxy)
        lab, plab = indicator_label(ind, lang), indicator_label(proxy, lang)
        sub = fr[(fr["indicator"] == ind)]
        res = charts.proxy_comparison(series, pser, lang=lang, label=lab, proxy_label=plab, flagged=_ranges(sub),
                                      title=_title("ch_proxy", lang, indicator=lab, proxy=plab))
        if res:
            svg, base = res
            out.append(Chart("proxy", svg, t("ch_proxy_caption", lang, indicator=lab, proxy=plab, region=region_name,
                                             base=base), [rec["finding_id"]]))
            n += 1
    # 3. digit charts
    digit_rows = fr[is_digit]
    digit_rows = digit_rows[(digit_rows["severity"] == "high") | (np.arange(len(digit_rows)) < MAX_DIGIT_CHARTS)]
    for rec in digit_rows.to_dict("records"):
        ev = rec["evidence"]
        test = str(ev.get("test") or rec.get("kind") or rec.get("detector"))
        expn = str(ev.get("expectation") or ev.get("expected_distribution") or "")
        if not expn:
            expn = "uniform" if any(k in test for k in ("last", "second-order", "uniform")) else "benford"
        exp_label = t(expn, lang) if expn in ("benford", "uniform") else expn
        nn = ev.get("n")
        tlab = digit_test_label(test, lang)
        svg = charts.digit_chart(ev["digits"], int(nn) if _finite(nn) else None, lang=lang,
                                 title=_title("ch_digits", lang, test=tlab), expected_name=exp_label)
        if svg:
            n_txt = str(int(nn)) if _finite(nn) else "?"
            out.append(Chart("digits", svg, t("ch_digits_caption", lang, region=region_name, n=n_txt,
                                              expected=exp_label), [rec["finding_id"]]))
    # 4. debt trajectories
    n = 0
    seen = set()
    for rec in fr[is_debt & ~is_digit].to_dict("records"):
        if n >= MAX_DEBT_CHARTS and rec.get("severity") != "high":
            continue
        ev = rec.get("evidence") or {}
        ind = str(ev.get("ratio") or rec["indicator"])
        if ind in seen:
            continue
        proj = ev.get("projection") if isinstance(ev.get("projection"), Mapping) else {}
        fan = _fan(ev.get("fan"), proj.get("start_year"))
        hist = ev.get("series") if isinstance(ev.get("series"), Mapping) else None
        grade = _grade_lines(ev)
        if not hist and not fan:
            continue
        if not fan and not grade and not proj.get("paths"):
            continue  # a debt series with no line, fan or projection: the time-series chart covers it
        seen.add(ind)
        lab = indicator_label(ind, lang)
        scen = ev.get("scenarios") if isinstance(ev.get("scenarios"), Mapping) else proj.get("paths")
        names = ev.get("scenario_names") if isinstance(ev.get("scenario_names"), Mapping) else None
        scen = _pick_scenarios(scen, proj, lang, names) if isinstance(scen, Mapping) else None
        if not _same_ratio(hist, proj):
            scen, fan = None, None  # the projection is of another ratio than the series: do not mix them
        # crossing years belong to the projection: shown only with it
        cross = (_flat_crossing(ev.get("crossing_years"), lang, names, proj.get("start_year"))
                 if (fan or scen) else {})
        svg = charts.debt_trajectory(hist, lang=lang, title=_title("ch_debt", lang, indicator=lab), grade_lines=grade,
                                     fan=fan, scenarios=scen, crossing=cross)
        if svg:
            sep = "、" if lang == "zh" else ", "
            ctext = sep.join(f"{k} {v}" for k, v in sorted(cross.items(), key=lambda kv: (str(kv[1]), kv[0])))[:200]
            drawn = [p for p, on in (("ch_part_reported", bool(charts.as_points(hist))), ("ch_part_fan", bool(fan)),
                                     ("ch_part_scenarios", bool(scen)), ("ch_part_lines", bool(grade))) if on]
            cap = t("ch_debt_caption", lang, indicator=lab, region=region_name,
                    parts=sep.join(t(p, lang) for p in drawn),
                    crossing=t("ch_crossing", lang, text=ctext) if ctext else "")
            out.append(Chart("debt", svg, cap, [rec["finding_id"]]))
            n += 1
    return out


#: Scenario paths drawn on a debt chart besides the baseline (the rest are in the evidence).
MAX_SCENARIOS = 4


def _pick_scenarios(paths: Mapping[str, Any], proj: Mapping[str, Any], lang: str,
                    labels: Mapping[str, Any] | None = None) -> dict:
    """The baseline and the most severe scenarios (highest end value), joined to the last observed
    point so the lines start where the history ends."""
    ok = {str(k): v for k, v in paths.items() if isinstance(v, Mapping) and v}
    if not ok:
        return {}

    def end(v: Mapping) -> float:
        pts = charts.as_points(v)
        return pts[-1][1] if pts else float("-inf")

    names = (["baseline"] if "baseline" in ok else []) + sorted((k for k in ok if k != "baseline"),
                                                                 key=lambda k: (-end(ok[k]), k))
    keep = names[:MAX_SCENARIOS]
    start = proj.get("start_year")
    start_v = proj.get("start_value")
    out = {}
    for k in keep:
        v = dict(ok[k])
        if start is not None and start_v is not None and str(start) not in v:
            v[str(start)] = start_v
        out[scenario_name(k, lang, labels)] = v
    return out


def scenario_name(sc: str, lang: str, names: Mapping[str, Any] | None = None) -> str:
    """A stress scenario's short name for a reader: ``land_30`` -> ``land revenue -30 %`` /
    ``土地出让收入下降30 %``. The run's own names (the finding's ``scenario_names``, with the shock
    sizes in force) when given, else the shipped ones (:data:`detect.debt.stress.SCENARIO_EN` /
    ``SCENARIO_ZH``); unknown names as given."""
    own = (names or {}).get(str(sc))
    key = "zh" if lang == "zh" else "en"
    if isinstance(own, Mapping) and own.get(key):
        return str(own[key])
    from detect.debt.stress import SCENARIO_EN, SCENARIO_ZH

    return (SCENARIO_ZH if lang == "zh" else SCENARIO_EN).get(str(sc), str(sc))


def _grade_lines(ev: Mapping[str, Any]) -> dict[str, float] | None:
    """Warning and grade lines from ``grade_lines`` / ``lines`` ({label: value}), ``cutoffs``
    (grade cut-offs) or ``line`` (one warning line)."""
    for key in ("grade_lines", "lines"):
        v = ev.get(key)
        if isinstance(v, Mapping) and v:
            return {str(k): x for k, x in v.items() if _finite(x)}
    cut = ev.get("cutoffs")
    if isinstance(cut, Mapping) and cut:
        return {f"{100 * float(x):.0f}%": float(x) for x in cut.values() if _finite(x)}
    line = ev.get("line")
    if _finite(line):
        return {f"{100 * float(line):.0f}%": float(line)}
    return None


def _same_ratio(hist: Mapping | None, proj: Mapping[str, Any]) -> bool:
    """True when the projection starts from the series' last value (within 5 %), or cannot be checked."""
    sv = proj.get("start_value") if isinstance(proj, Mapping) else None
    pts = charts.as_points(hist)
    if not pts or not _finite(sv):
        return True
    last = pts[-1][1]
    return abs(float(sv) - last) <= 0.05 * max(abs(last), 1e-9)


def _flat_crossing(cy: Any, lang: str = "en", names: Mapping[str, Any] | None = None,
                   after: Any = None) -> dict[str, Any]:
    """``{scenario: {line: year}}`` or ``{scenario: year}`` -> ``{"scenario line": year}`` for the
    baseline (or, without one, every scenario's earliest line), years only. With ``after`` (the
    projection's start, the last observed year) only projected crossings: a line crossed in or
    before it is a fact of the data, not a forecast (the register's rule for deadlines too)."""
    if not isinstance(cy, Mapping):
        return {}
    start = charts.period_x(after) if after is not None else None

    def projected(y: Any) -> bool:
        x = charts.period_x(y) if y is not None else None
        return x is not None and (start is None or x > start)

    out: dict[str, Any] = {}
    pool = {k: v for k, v in cy.items() if str(k) == "baseline"} or cy
    for sc, v in pool.items():
        sc = scenario_name(sc, lang, names)
        if isinstance(v, Mapping):
            for line, y in v.items():
                if projected(y):
                    out[f"{sc} {line}"] = y
        elif projected(v):
            out[str(sc)] = v
    return out


def _fan(fan: Any, start_year: Any = None) -> dict[Any, list[float]] | None:
    """Fan chart data as ``{period: [low, median, high]}`` from that form, from
    ``{"years": [...], "p5": [...], "p50": [...], "p95": [...]}``, or from percentile lists only
    (``{"p5": [...], "p50": [...], "p95": [...]}`` for the years after ``start_year``)."""
    if not isinstance(fan, Mapping) or not fan:
        return None
    pk = {}
    for k, v in fan.items():
        m = re.fullmatch(r"p(\d+(?:\.\d+)?)", str(k))
        if m and isinstance(v, (list, tuple)):
            pk[float(m.group(1))] = v
    if pk and "years" not in fan and _finite(start_year):
        lo, hi = pk[min(pk)], pk[max(pk)]
        mid = pk.get(50.0, [float("nan")] * len(lo))
        y0 = int(float(start_year))
        return {y0 + 1 + i: [a, m, b] for i, (a, m, b) in enumerate(zip(lo, mid, hi))}
    if "years" in fan or "periods" in fan:
        ys = fan.get("years") or fan.get("periods") or []
        lo = fan.get("p5") or fan.get("p05") or fan.get("lo") or []
        mid = fan.get("p50") or fan.get("median") or [float("nan")] * len(ys)
        hi = fan.get("p95") or fan.get("hi") or []
        if len(lo) == len(ys) == len(hi):
            return {y: [a, m, b] for y, a, m, b in zip(ys, lo, mid, hi)}
        return None
    out = {}
    for k, v in fan.items():
        if isinstance(v, Mapping):
            out[k] = [v.get("p5", v.get("p05")), v.get("p50", v.get("median")), v.get("p95")]
        elif isinstance(v, (list, tuple)):
            out[k] = list(v)
    return out or None
