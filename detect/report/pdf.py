"""The PDF risk report: typst source generated from a run, compiled with the ``typst`` package.

Untrusted text (region names, summaries, file names) never enters typst markup: every piece of it
is written as a typst *string literal* (:func:`lit`) with ``\\``, ``"`` and control characters
escaped, and shown with ``#"...";`` in markup — a string is displayed verbatim, so ``#``, ``$``,
``*``, ``_``, ``<``, ``@``, ``=`` or ``//`` in a region name cannot change the document.

The document date is set explicitly (``#set document(date: ...)``) from the report date and the
charts carry no timestamps, so the same run and date give the same PDF bytes.
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from detect.data.units import unit_label
from detect.report import charts, content
from detect.report.fonts import FAMILY, MONO_FAMILY, font_dir
from detect.report.i18n import family_label, note_text, severity_label, status_label, t
from detect.report.rundata import RunData

#: Findings per region in its evidence table (the rest are in the worklist).
MAX_REGION_FINDINGS = 12
#: Findings for information only are listed in a region's table only to fill it up to this many rows.
MIN_REGION_ROWS = 4
#: Rows of the worklist printed in the PDF (high and medium findings; all of them are in the xlsx).
MAX_WORKLIST_ROWS = 400
#: Regions in the executive summary's chart and table.
MAX_SUMMARY_REGIONS = 20
#: High findings of regions without a section that get their own block and chart.
MAX_OTHER_HIGH = 60

_SEV_FILL = {"high": "#fadbd8", "medium": "#fdebd0", "low": "#fcf3cf", "info": "#eaeded"}
_SEV_INK = {"high": "#922b21", "medium": "#935116", "low": "#7d6608", "info": "#566573"}

_CONTROL = {i: None for i in range(32) if i not in (9, 10, 13)}
_CONTROL.update({0x7F: None, 0x202A: None, 0x202B: None, 0x202C: None, 0x202D: None, 0x202E: None,
                 0x2066: None, 0x2067: None, 0x2068: None, 0x2069: None})


#: Spaces that must not break a line: "12.3 %" and "p < 0.0001", "z = 3.1" (a reviewer would read a
#: "%" or a bare "0.0001" at the start of the next line of a narrow table cell).
_NOBREAK = (re.compile(r"(?<=\d) (?=[%‰])"), re.compile(r"(?<=\b[pqzt]) (?=[<>=≤≥])"),
            re.compile(r"(?<=\b[pqzt]\u00a0[<>=≤≥]) "))  # in order: the second makes the third's space


def nobreak(text: str) -> str:
    """``text`` with no-break spaces (U+00A0) where a line break would split a number from its
    ``%`` sign or a ``p < 0.0001`` comparison."""
    for rx in _NOBREAK:
        text = rx.sub("\u00a0", text)
    return text


def lit(text: Any) -> str:
    """A typst string literal that displays ``text`` verbatim (with :func:`nobreak` spaces).

    >>> lit('a "b" \\\\ #c')
    '"a \\\\"b\\\\" \\\\\\\\ #c"'
    """
    s = "" if text is None else str(text)
    s = nobreak(s.encode("utf-8", "replace").decode("utf-8").translate(_CONTROL))  # lone surrogates -> "?"
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{s}"'


def txt(text: Any) -> str:
    """``text`` for a markup position: ``#"...";`` (the semicolon ends the expression)."""
    return f"#{lit(text)};"


def _cell(text: Any, **style: str) -> str:
    """A table cell (code mode) holding text, with optional ``text`` style arguments."""
    if style:
        args = ", ".join(f"{k}: {v}" for k, v in style.items())
        return f"text({args}, {lit(text)})"
    return lit(text)


def _fmt_num(v: Any, digits: int = 3) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(f):
        return ""
    if f != 0 and (abs(f) < 10 ** -digits or abs(f) >= 1e6):
        return f"{f:.2e}"
    return f"{f:.{digits}g}" if abs(f) < 1 else f"{f:,.{max(digits - len(str(int(abs(f)))), 1)}f}"


def _fmt_q(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(f):
        return "–"
    return "<1e-4" if f < 1e-4 else f"{f:.4f}".rstrip("0").rstrip(".") if f < 0.01 else f"{f:.3f}"


class _Doc:
    """Accumulates typst source and the chart files it references."""

    def __init__(self, lang: str):
        self.lang = lang
        self.parts: list[str] = []
        self.images: dict[str, str] = {}

    def add(self, *lines: str) -> None:
        self.parts.extend(lines)

    def image(self, svg: str, width: str = "100%") -> str:
        name = f"chart-{len(self.images):03d}.svg"
        self.images[name] = svg
        return f'image({lit(name)}, width: {width})'

    def t(self, key: str, **kw: Any) -> str:
        return t(key, self.lang, **kw)

    def source(self) -> str:
        return "\n\n".join(self.parts) + "\n"


def _preamble(doc: _Doc, data: RunData) -> None:
    lang = doc.lang
    d = data.date
    doc.add(
        f"#set document(title: {lit(doc.t('title'))}, author: \"detect\", "
        f"date: datetime(year: {d.year}, month: {d.month}, day: {d.day}, hour: 0, minute: 0, second: 0))",
        f"#set text(font: ({lit(FAMILY)},), size: 9pt, lang: {lit(lang)}"
        + (", region: \"cn\"" if lang == "zh" else "") + ")",
        "#set par(leading: 0.62em, spacing: 0.9em)",
        "#set heading(numbering: \"1.1\")",
        "#show heading: set text(fill: rgb(\"#1f4e79\"))",
        "#show heading.where(level: 1): it => { pagebreak(weak: true); v(0.2em); text(size: 15pt, it); v(0.3em) }",
        "#show heading.where(level: 2): set text(size: 12pt)",
        "#show strong: it => text(stroke: 0.28pt + black, it.body)",
        "#show raw: set text(font: (" + lit(MONO_FAMILY) + ",), size: 7.5pt)",
        "#show figure.caption: set text(size: 8pt, fill: luma(70))",
        "#set table(stroke: 0.4pt + luma(190), inset: (x: 4pt, y: 3pt))",
        "#show table: set text(size: 7.8pt)",
        "#let hdr = rgb(\"#1f4e79\")",
        f"#let pageof = {lit(doc.t('page_of'))}",
        "#set page(paper: \"a4\", margin: (x: 1.7cm, top: 2.0cm, bottom: 1.8cm),",
        f"  header: context {{ set text(size: 7.5pt, fill: luma(110)); {lit(doc.t('title'))}; h(1fr); "
        f"{lit(d.isoformat())} }},",
        "  footer: context { set text(size: 7.5pt, fill: luma(110)); h(1fr); "
        "pageof.replace(\"{page}\", str(counter(page).get().first())).replace(\"{total}\", "
        "str(counter(page).final().first())); h(1fr) })",
    )


def _kv_table(doc: _Doc, rows: Sequence[tuple[str, str]], widths: str = "(auto, 1fr)") -> str:
    cells = []
    for k, v in rows:
        cells.append(f"text(fill: luma(80), {lit(k)})")
        cells.append(lit(v))
    return (f"#table(columns: {widths}, stroke: none, inset: (x: 0pt, y: 2.5pt), column-gutter: 1.2em, "
            + ", ".join(cells) + ")")


def _header(cells: Iterable[str]) -> str:
    return "table.header(" + ", ".join(f"table.cell(fill: hdr, text(fill: white, {lit(c)}))" for c in cells) + ")"


def _years(data: RunData) -> str:
    inds = data.manifest.get("indicators") or []
    ys = []
    for rec in inds:
        if isinstance(rec, dict):
            for k in ("first_period", "first", "start", "year_min", "min_year", "first_year"):
                if rec.get(k) is not None:
                    ys.append(str(rec[k]))
            for k in ("last_period", "last", "end", "year_max", "max_year", "last_year"):
                if rec.get(k) is not None:
                    ys.append(str(rec[k]))
    if not ys and data.panel is not None and len(data.panel):
        ys = [str(int(data.panel["year"].min())), str(int(data.panel["year"].max()))]
    if not ys:
        f = data.findings
        ys = sorted(set(f["period_start"]).union(f["period_end"]) - {""}) if len(f) else []
    return f"{min(ys)}–{max(ys)}" if ys else "–"


def _cover(doc: _Doc, data: RunData) -> None:
    m = data.manifest
    p = m.get("parameters") or {}
    sev = m.get("severity_counts") or {}
    inds = [r.get("indicator") for r in (m.get("indicators") or []) if isinstance(r, dict) and r.get("indicator")]
    ind_text = "、".join if doc.lang == "zh" else ", ".join
    ind_names = ind_text([content.indicator_label(i, doc.lang) for i in inds[:30]]) + (" …" if len(inds) > 30 else "")
    files = [Path(str(i.get("file", ""))).name for i in (m.get("inputs") or []) if isinstance(i, dict)]
    n_tests = m.get("n_tests") or {}
    dets = ", ".join(sorted(n_tests)) or "–"
    method = doc.t("fdr_by") if p.get("fdr_method") == "by" else doc.t("fdr_bh")
    doc.add(
        "#page(header: none, footer: none)[",
        "#v(3.2cm)",
        f"#text(size: 24pt, fill: hdr)[{txt(doc.t('title'))}]",
        "#v(0.4em)",
        f"#text(size: 11pt, fill: luma(90))[{txt(doc.t('subtitle'))}]",
        "#v(1.6cm)",
        _kv_table(doc, [
            (doc.t("cover_date"), data.date.isoformat()),
            (doc.t("regions"), str(m.get("n_regions", len(data.regions)))),
            (doc.t("periods"), _years(data)),
            (doc.t("indicators"), f"{len(inds)}: {ind_names}" if inds else "–"),
            (doc.t("rows"), doc.t("rows_detail", rows_in=m.get("rows_in", "?"), rows_used=m.get("rows_used", "?"),
                                  rows_excluded=m.get("rows_excluded", "?"), missing=m.get("values_missing", "?"))),
            (doc.t("inputs"), ", ".join(files) or "–"),
            (doc.t("findings_total"), _findings_total(m.get("n_findings", len(data.findings)), sev, doc.lang)),
            (doc.t("detectors_run"), dets),
            (doc.t("tests_run"), str(sum(int(v or 0) for v in n_tests.values()))),
            (doc.t("fdr_method"), method),
            (doc.t("seed"), str(p.get("seed", "–"))),
            (doc.t("top_regions"), str(p.get("top_regions", "–"))),
            (doc.t("language"), "中文" if doc.lang == "zh" else "English"),
            ("detect", str(m.get("detect_version", ""))),
        ], widths="(auto, 1fr)"),
        "#v(1fr)",
        f"#block(fill: luma(242), inset: 8pt, radius: 2pt, width: 100%)[#text(size: 8.5pt)[{txt(doc.t('disclaimer'))}]]",
        "]",
        f"#outline(title: {lit(doc.t('contents'))}, depth: 2, indent: auto)",
    )


def _findings_total(n: Any, sev: dict, lang: str) -> str:
    """``107 条（高 58、中 20、低 18、提示 11）`` / ``107 (high 58, medium 20, low 18, info 11)``."""
    parts = [f"{severity_label(s, lang)} {sev.get(s, 0)}" for s in ("high", "medium", "low", "info")]
    return f"{n} 条（{'、'.join(parts)}）" if lang == "zh" else f"{n} ({', '.join(parts)})"


def _worst(row: pd.Series) -> str:
    for s, c in (("high", "n_high"), ("medium", "n_medium"), ("low", "n_low")):
        if float(row.get(c, 0) or 0) > 0:
            return s
    return "info"


def _region_label(name: str, code: str, lang: str = "en") -> str:
    """``北原省（940000）`` in Chinese (as the section headings), ``北原省 (940000)`` in English."""
    name = str(name or "")
    if not name or name == code:
        return str(code)
    return f"{name}（{code}）" if lang == "zh" else f"{name} ({code})"


def _summary(doc: _Doc, data: RunData, top: pd.DataFrame) -> None:
    f, m = data.findings, data.manifest
    lang = doc.lang
    doc.add(f"= {txt(doc.t('summary'))}")
    sev = {s: int((f["severity"] == s).sum()) if len(f) else 0 for s in ("high", "medium", "low", "info")}
    n_flagged = int(f["region_code"].nunique()) if len(f) else 0
    if len(f):
        doc.add(txt(doc.t("summary_lead", n_findings=len(f), n_regions_flagged=n_flagged,
                          n_regions=m.get("n_regions", len(data.regions)), n_top=len(top), **sev)))
    else:
        doc.add(txt(doc.t("summary_none")))
    # counts by severity and family
    fams = sorted(set(f["family"].astype(str))) if len(f) else []
    cells = [_header([doc.t("family"), *[severity_label(s, lang) for s in ("high", "medium", "low", "info")],
                      doc.t("total")])]
    for fam in fams:
        sub = f[f["family"].astype(str) == fam]
        cells.append(lit(family_label(fam, lang) or "–"))
        cells += [lit(str(int((sub["severity"] == s).sum()))) for s in ("high", "medium", "low", "info")]
        cells.append(lit(str(len(sub))))
    cells.append(f"text(stroke: 0.2pt, {lit(doc.t('total'))})")
    cells += [lit(str(sev[s])) for s in ("high", "medium", "low", "info")]
    cells.append(lit(str(len(f))))
    doc.add(f"== {txt(doc.t('counts_by_severity'))}",
            "#table(columns: (1fr, auto, auto, auto, auto, auto), align: (left, right, right, right, right, right), "
            + ", ".join(cells) + ")")
    # ranked chart
    ranked = data.regions.head(MAX_SUMMARY_REGIONS)
    rows = [(_region_label(r.region_name, r.region_code, lang), float(r.risk_score), _worst(pd.Series(r._asdict())))
            for r in ranked.itertuples(index=False)]
    svg = charts.ranked_regions(rows, lang)
    if svg:
        doc.add(f"#figure({doc.image(svg)}, caption: [{txt(doc.t('ranked_chart'))}])")
    # top regions table
    if len(data.regions) and float(data.regions["risk_score"].max() or 0) > 0:
        ftext = dict(zip(f["finding_id"], [content.summary_text(r, lang) for r in f.to_dict("records")])) if len(f) else {}
        cells = [_header([doc.t("rank"), doc.t("region"), doc.t("risk_score"), doc.t("n_high"), doc.t("n_medium"),
                          doc.t("n_low"), doc.t("top_finding")])]
        for r in top.itertuples(index=False):  # the regions with a section, as the lead sentence says
            cells += [lit(str(int(r.rank))), lit(_region_label(r.region_name, r.region_code, lang)),
                      lit(f"{float(r.risk_score):.2f}"), lit(str(int(r.n_high))), lit(str(int(r.n_medium))),
                      lit(str(int(r.n_low))), lit(ftext.get(r.top_finding, ""))]
        doc.add(f"== {txt(doc.t('top_regions_table'))}",
                "#table(columns: (auto, auto, auto, auto, auto, auto, 1fr), align: (right, left, right, right, right, "
                "right, left), " + ", ".join(cells) + ")")


def _sev_cell(sev: str, lang: str) -> str:
    fill = _SEV_FILL.get(sev, "#ffffff")
    ink = _SEV_INK.get(sev, "#000000")
    return f"table.cell(fill: rgb({lit(fill)}), text(fill: rgb({lit(ink)}), {lit(severity_label(sev, lang))}))"


def _region_section(doc: _Doc, data: RunData, reg: Any, n_regions: int) -> None:
    lang = doc.lang
    code = str(reg.region_code)
    name = str(reg.region_name or code)
    fr = data.findings[data.findings["region_code"] == code]
    doc.add(f"== {txt(doc.t('region_heading', name=name, code=code))}",
            txt(doc.t("region_lead", rank=int(reg.rank), n_regions=n_regions, score=f"{float(reg.risk_score):.2f}",
                      high=int(reg.n_high), medium=int(reg.n_medium), low=int(reg.n_low))))
    main = fr[fr["severity"] != "info"]
    shown = pd.concat([main, fr[fr["severity"] == "info"].head(max(MIN_REGION_ROWS - len(main), 0))]).head(
        MAX_REGION_FINDINGS)
    cells = [_header([doc.t("severity"), doc.t("wl_id"), doc.t("indicator"), doc.t("period"), doc.t("detector"),
                      doc.t("q_value"), doc.t("evidence_table")])]
    for rec in shown.to_dict("records"):
        cells += [_sev_cell(str(rec["severity"]), lang), f"raw({lit(rec['finding_id'])})",
                  lit(content.indicator_label(rec["indicator"], lang)),
                  lit(content.period_text(rec["period_start"], rec["period_end"])), lit(rec["detector"]),
                  lit(_q_text(rec, lang)),
                  lit(content.summary_text(rec, lang))]
    doc.add("#table(columns: (auto, auto, auto, auto, auto, auto, 1fr), align: left + horizon, "
            + ", ".join(cells) + ")")
    if len(fr) > len(shown):
        doc.add(f"#text(size: 8pt, fill: luma(90))[{txt(doc.t('more_findings', n=len(fr) - len(shown)))}]")
    # what to check: one line per distinct instruction, with the ids it covers
    checks: dict[str, list[str]] = {}
    for rec in shown.to_dict("records"):
        if rec["severity"] in ("high", "medium") or len(checks) < 3:
            checks.setdefault(content.what_to_check(rec, lang), []).append(rec["finding_id"])
    if checks:
        doc.add(f"#text(fill: hdr)[{txt(doc.t('what_to_check'))}]")
        for chk, ids in checks.items():
            doc.add(f"- {txt(chk)} #text(size: 7pt, fill: luma(120))[{txt(', '.join(ids[:6]))}]")
    ch = content.region_charts(fr, lang, name, panel_series=(lambda ind: data.series(code, ind)), units=_units(data))
    if not ch:
        doc.add(f"#text(size: 8pt, fill: luma(110))[{txt(doc.t('no_charts'))}]")
    for c in ch:
        doc.add(f"#figure({doc.image(c.svg, '92%')}, caption: [{txt(c.caption)}])")


def _q_text(rec: dict, lang: str) -> str:
    """A finding's q-value as printed; a rule-based flag (no p-value: a grade line, a limit) says so
    instead of a bare dash."""
    if _finite(rec.get("q_value")):
        return _fmt_q(rec.get("q_value"))
    return t("rule_based", lang) if not _finite(rec.get("p_value")) else "–"


def _units(data: RunData) -> dict[str, str]:
    """``{indicator: unit}`` from the run's indicator catalogue (manifest.json)."""
    return {str(r["indicator"]): str(r.get("unit") or "") for r in (data.manifest.get("indicators") or [])
            if isinstance(r, dict) and r.get("indicator")}


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _regions_part(doc: _Doc, data: RunData, top: pd.DataFrame) -> None:
    if not len(top):
        return
    doc.add(f"= {txt(doc.t('regions_part'))}")
    for i, reg in enumerate(top.itertuples(index=False)):
        if i:
            doc.add("#pagebreak(weak: true)")
        _region_section(doc, data, reg, len(data.regions))
    _other_high(doc, data, set(top["region_code"].astype(str)))


def _other_high(doc: _Doc, data: RunData, shown_regions: set[str]) -> None:
    """Each high finding of a region without a section: its numbers, what to check and its chart."""
    f = data.findings
    if not len(f):
        return
    rest = f[(f["severity"] == "high") & ~f["region_code"].astype(str).isin(shown_regions)]
    if not len(rest):
        return
    lang = doc.lang
    doc.add("#pagebreak(weak: true)", f"== {txt(doc.t('other_high'))}",
            txt(doc.t("other_high_lead", n=len(rest), n_regions=rest["region_code"].nunique())))
    shown = rest.head(MAX_OTHER_HIGH)
    if len(rest) > len(shown):
        doc.add(txt(doc.t("worklist_truncated", shown=len(shown), total=len(rest))))
    units = _units(data)
    for rec in shown.to_dict("records"):
        code, name = str(rec["region_code"]), str(rec["region_name"] or rec["region_code"])
        head = (f"{_region_label(name, code, lang)} · {content.indicator_label(rec['indicator'], lang)} · "
                f"{content.period_text(rec['period_start'], rec['period_end'])}")
        q = _q_text(rec, lang)
        one = f[f["finding_id"] == rec["finding_id"]]
        ch = content.region_charts(one, lang, name, panel_series=(lambda ind, code=code: data.series(code, ind)),
                                   units=units)[:1]
        fig = "".join(f"\n\n#figure({doc.image(c.svg, '86%')}, caption: [{txt(c.caption)}])" for c in ch)
        # the finding and its chart on one page
        doc.add(f"#block(breakable: false, width: 100%)[#text(size: 10pt, fill: hdr)[{txt(head)}] "
                f"#text(size: 7.5pt, fill: luma(110))[{txt(rec['finding_id'] + ' · ' + str(rec['detector']) + ' · q ' + q)}]"
                f"\n\n{txt(content.summary_text(rec, lang))}\n\n"
                f"#text(fill: hdr)[{txt(doc.t('what_to_check') + ('：' if lang == 'zh' else ':'))}] "
                f"{txt(content.what_to_check(rec, lang))}{fig}]")


def _worklist(doc: _Doc, rows: list[dict], source: str) -> None:
    lang = doc.lang
    doc.add("#set page(flipped: true)", f"= {txt(doc.t('worklist'))}", txt(doc.t("worklist_lead", source=source)))
    keep = [r for r in rows if r["severity"] in ("high", "medium")]
    shown = keep[:MAX_WORKLIST_ROWS]
    if len(keep) > len(shown):
        doc.add(txt(doc.t("worklist_truncated", shown=len(shown), total=len(keep))))
    if not shown:
        doc.add(txt(doc.t("none")))
        doc.add("#set page(flipped: false)")
        return
    cells = [_header([doc.t("wl_id"), doc.t("severity"), doc.t("wl_region"), doc.t("wl_finding"),
                      doc.t("wl_evidence"), doc.t("wl_check"), doc.t("wl_owner"), doc.t("wl_deadline"),
                      doc.t("wl_status")])]
    for r in shown:
        overdue = r["overdue"]
        finding = f"{r['indicator']} · {r['period']} · {r['detector']}"
        dl = r["deadline"] + (f" ({doc.t('overdue_mark')})" if overdue else "")
        dl_cell = (f"table.cell(fill: rgb(\"#f5b7b1\"), text(fill: rgb(\"#78281f\"), stroke: 0.2pt + rgb(\"#78281f\"), {lit(dl)}))"
                   if overdue else lit(dl + (f"\n{r['deadline_source']}" if r["deadline_source"] and r["deadline"] else "")))
        cells += [f"raw({lit(r['finding_id'])})", _sev_cell(r["severity"], lang),
                  lit(_region_label(r["region_name"], r["region_code"], lang)), lit(finding), lit(r["summary"]),
                  lit(r["what_to_check"]), lit(r["owner"]), dl_cell, lit(status_label(r["status"], lang))]
    doc.add("#table(columns: (auto, auto, 2.2cm, 2.8cm, 1fr, 0.8fr, 1.6cm, 2.0cm, 1.5cm), align: left + top, "
            + ", ".join(cells) + ")")
    doc.add("#set page(flipped: false)")


def _methods(doc: _Doc, data: RunData) -> None:
    from detect.config import thresholds_meta
    from detect.registry import _REGISTRY, available

    lang = doc.lang
    m = data.manifest
    n_tests = m.get("n_tests") or {}
    # appendices: lettered ("附录A：方法"), not numbered as chapter 4 too; their sections A.1, A.2 …
    doc.add("#counter(heading).update(0)", "#set heading(numbering: \"A.1\")",
            _appendix_heading(doc.t("methods")), txt(doc.t("methods_lead")))
    names = sorted(set(available()) | set(n_tests))
    own, general = _split_notes(m.get("notes") or [], names)
    for name in names:
        cls = _REGISTRY.get(name)
        title = (getattr(cls, "title_zh", "") if lang == "zh" else "") or getattr(cls, "title", "") or name
        doc.add(f"== {txt(title)} #text(size: 8pt, fill: luma(120))[{txt(name)}]")
        fam = getattr(cls, "family", "")
        nh = ((getattr(cls, "null_hypothesis_zh", "") if lang == "zh" else "") or getattr(cls, "null_hypothesis", "")) if cls else ""
        rows = []
        if fam:
            rows.append((doc.t("family"), family_label(fam, lang)))
        if nh:
            rows.append((doc.t("null_hypothesis"), nh))
        rows.append((doc.t("tests_run"), str(n_tests[name]) if name in n_tests else doc.t("not_run")))
        doc.add(_kv_table(doc, rows))
        if own.get(name):  # what did not apply for this test, every note (a run-wide cap dropped some)
            doc.add(f"#text(fill: luma(80))[{txt(doc.t('notes_title'))}]",
                    *(f"- {txt(note_text(n, lang))}" for n in own[name]))
    # thresholds with citations (values in force in this run)
    meta = thresholds_meta()
    used = ((m.get("parameters") or {}).get("thresholds") or {})
    doc.add(f"== {txt(doc.t('thresholds'))}")
    cells = [_header([doc.t("th_name"), doc.t("th_value"), doc.t("th_citation")])]
    for area in sorted(set(meta) | set(used)):
        for key in sorted(set(meta.get(area, {})) | set(used.get(area, {}) if isinstance(used.get(area), dict) else {})):
            spec = meta.get(area, {}).get(key, {})
            val = used.get(area, {}).get(key, spec.get("value")) if isinstance(used.get(area), dict) else spec.get("value")
            cite = str(spec.get("citation", ""))
            if spec.get("note"):
                cite += f" ({spec['note']})"
            vt = _value_text(val)
            cells += [lit(f"{area}.{key}"), lit(vt if len(vt) <= 80 else vt[:77] + "…"), lit(cite)]
    doc.add("#table(columns: (28%, 14%, 1fr), align: left + top, " + ", ".join(cells) + ")")
    # false-discovery control
    p = m.get("parameters") or {}
    th = (p.get("thresholds") or {}).get("scoring", {}) if isinstance(p.get("thresholds"), dict) else {}
    sc = meta.get("scoring", {})

    def _q(k: str) -> Any:
        return th.get(k, sc.get(k, {}).get("value", "?"))

    method = doc.t("fdr_by") if p.get("fdr_method") == "by" else doc.t("fdr_bh")
    doc.add(f"== {txt(doc.t('fdr_title'))}",
            txt(doc.t("fdr_text", m=sum(int(v or 0) for v in n_tests.values()), method=method,
                      q_high=_q("q_high"), q_medium=_q("q_medium"), q_low=_q("q_low"))))
    untested = [n for n in names if name_tested(n, n_tests) == 0]
    if general or untested:
        doc.add(f"== {txt(doc.t('notes_title'))}")
        if untested:
            doc.add(txt(doc.t("notes_untested", names=("、" if lang == "zh" else ", ").join(untested))))
        doc.add(txt(doc.t("notes_lead")))
        for n in general:
            doc.add(f"- {txt(note_text(n, lang))}")


def _appendix_heading(title: str) -> str:
    """A lettered appendix: its title carries the letter ("附录A：方法"), so the heading has no number
    of its own; the counter is stepped by hand so its sections read A.1, A.2 … (B.1 … for the next)."""
    return f"#counter(heading).step()\n#heading(level: 1, numbering: none)[{txt(title)}]"


def name_tested(name: str, n_tests: dict) -> int | None:
    """Hypotheses a detector tested in the run (None when it did not run)."""
    try:
        return int(n_tests[name]) if name in n_tests else None
    except (TypeError, ValueError):
        return None


def _split_notes(notes: Sequence[Any], names: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """The run's notes by detector (``"digits: …"`` -> ``{"digits": ["…"]}``) and the run-wide rest."""
    own: dict[str, list[str]] = {}
    general: list[str] = []
    known = set(names)
    for n in notes:
        n = str(n)
        head, sep, body = n.partition(": ")
        if sep and head in known and body:
            own.setdefault(head, []).append(body)
        else:
            general.append(n)
    return own, general


def _value_text(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value_text(x) for x in v)
    return str(v)


def _data_appendix(doc: _Doc, data: RunData) -> None:
    m = data.manifest
    lang = doc.lang
    doc.add(_appendix_heading(doc.t("data_appendix")), f"== {txt(doc.t('inputs'))}")
    cells = [_header([doc.t("file"), doc.t("format"), doc.t("bytes"), doc.t("rows"), doc.t("sha256")])]
    for i in m.get("inputs") or []:
        if not isinstance(i, dict):
            continue
        recs = sum(int(tb.get("records", 0) or 0) for tb in (i.get("tables") or []) if isinstance(tb, dict))
        cells += [lit(i.get("file", "")), lit(i.get("format", "")), lit(f"{int(i.get('bytes', 0) or 0):,}"),
                  lit(f"{recs:,}"), f"raw({lit(i.get('sha256', ''))})"]
    doc.add("#table(columns: (1fr, auto, auto, auto, auto), align: left + top, " + ", ".join(cells) + ")")
    doc.add(txt(doc.t("rows_detail", rows_in=m.get("rows_in", "?"), rows_used=m.get("rows_used", "?"),
                      rows_excluded=m.get("rows_excluded", "?"), missing=m.get("values_missing", "?"))))
    doc.add(f"== {txt(doc.t('exclusions'))}")
    ex = data.exclusions
    if not len(ex):
        doc.add(txt(doc.t("exclusions_none")))
    else:
        g = ex.groupby("reason", sort=False).agg(n=("reason", "size"), example=("raw_value", "first"))
        g = g.reset_index().sort_values(["n", "reason"], ascending=[False, True], kind="mergesort")
        cells = [_header([doc.t("reason"), doc.t("count"), doc.t("example")])]
        for r in g.itertuples(index=False):
            cells += [lit(r.reason), lit(str(int(r.n))), lit(str(r.example)[:60])]
        doc.add("#table(columns: (1fr, auto, auto), align: (left, right, left), " + ", ".join(cells) + ")")
    inds = [r for r in (m.get("indicators") or []) if isinstance(r, dict) and r.get("indicator")]
    if inds:
        doc.add(f"== {txt(doc.t('catalogue'))}")
        cells = [_header([doc.t("indicator"), doc.t("code"), doc.t("unit"), doc.t("periods")])]
        for r in inds:
            ind = str(r.get("indicator", ""))
            first = r.get("first_period", r.get("first", ""))
            last = r.get("last_period", r.get("last", ""))
            span = f"{first}–{last}" if first and last and first != last else str(first or last or "–")
            cells += [lit(content.indicator_label(ind, lang)), f"raw({lit(ind)})", lit(unit_label(r.get("unit", ""), lang) or "–"), lit(span)]
        doc.add("#table(columns: (1fr, auto, auto, auto), " + ", ".join(cells) + ")")


def build_source(data: RunData, lang: str, top_n: int, worklist: list[dict], register_source: str) -> _Doc:
    """The typst document of a run (source text and chart files), not yet compiled."""
    doc = _Doc(lang)
    _preamble(doc, data)
    _cover(doc, data)
    reg = data.regions
    top = reg[reg["risk_score"] > 0].head(top_n) if len(reg) else reg
    _summary(doc, data, top)
    _regions_part(doc, data, top)
    _worklist(doc, worklist, register_source)
    _methods(doc, data)
    _data_appendix(doc, data)
    return doc


def compile_pdf(doc: _Doc, out: str | Path | None = None) -> bytes:
    """Compile the document with typst (fonts: Noto Sans CJK only, system fonts ignored)."""
    import typst

    with tempfile.TemporaryDirectory(prefix="detect-report-") as tmp:
        root = Path(tmp)
        for name, svg in doc.images.items():
            (root / name).write_text(svg, encoding="utf-8")
        src = root / "report.typ"
        src.write_text(doc.source(), encoding="utf-8")
        pdf = typst.compile(str(src), root=str(root), font_paths=[str(font_dir())], ignore_system_fonts=True)
    if out is not None:
        Path(out).write_bytes(pdf)
    return pdf
