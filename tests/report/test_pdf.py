"""Typst escaping of untrusted text (detect/report/pdf.py)."""

from __future__ import annotations

import pytest

pypdf = pytest.importorskip("pypdf")

from detect.report.fonts import font_dir  # noqa: E402
from detect.report.pdf import lit, txt  # noqa: E402

HOSTILE = [
    "#set page(width: 1cm)",
    "= heading?",
    "*bold* _emph_ $x^2$ <label> @ref",
    "back\\slash \\u{41} \"quoted\" // comment /* block */",
    "`raw` ~ -- --- ... 'q' [b] {c} #(1+1) #let x = 1",
    "辽宁省#省;地区\n第二行\t制表",
]


def _compile(src: str) -> str:
    import io

    import typst

    pdf = typst.compile(src.encode("utf-8"), font_paths=[str(font_dir())], ignore_system_fonts=True)
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_literal_escapes_backslash_quote_and_controls():
    assert lit('a"b') == '"a\\"b"'
    assert lit("a\\b") == '"a\\\\b"'
    assert lit("x\ny\tz\x00") == '"x\\ny\\tz"'
    assert lit("\u202ecba") == '"cba"'  # bidi overrides dropped
    assert lit("a\udc80b") == '"a?b"'  # a lone surrogate cannot be written as UTF-8


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_shown_verbatim(text):
    """Each hostile string, placed in markup and in a table cell, comes out as written."""
    src = ('#set text(font: "Noto Sans CJK SC", size: 8pt)\n'
           f"{txt(text)}after\n\n#table(columns: 1, {lit(text)})\n")
    out = _compile(src)
    flat = "".join(out.split())
    want = "".join(text.split())
    assert flat.count(want) == 2, (text, out)
    assert "after" in out


# --- the worklist (问题清单): overdue items stand out ------------------------------------------------

def _worklist_doc(lang):
    """The worklist part of the report for three register items on 2026-01-15: one past its deadline
    (overdue), one with a deadline to come, and one closed after its deadline (never overdue)."""
    import datetime as dt
    from types import SimpleNamespace

    import pandas as pd

    from detect.report import content
    from detect.report.pdf import _Doc, _preamble, _worklist

    date = dt.date(2026, 1, 15)
    base = dict(region_name="甲市", indicator="gdp", period_start="2015", period_end="2015", detector="level_shift",
                q_value=0.001, score=3.0, family="series", summary="GDP fell 20 %.", summary_zh="地区生产总值下降20%。",
                evidence={})
    findings = pd.DataFrame([dict(base, finding_id="Flate0001", region_code="1", severity="high"),
                             dict(base, finding_id="Fsoon0002", region_code="2", severity="high"),
                             dict(base, finding_id="Fdone0003", region_code="3", severity="medium")])
    statuses = {"Flate0001": {"status": "assigned", "owner": "Li", "deadline": "2026-01-10", "notes": ""},
                "Fsoon0002": {"status": "assigned", "owner": "Li", "deadline": "2026-03-01", "notes": ""},
                "Fdone0003": {"status": "closed", "owner": "Li", "deadline": "2025-12-01", "notes": ""}}
    rows = content.worklist_rows(findings, lang, date, statuses)
    assert {r["finding_id"]: r["overdue"] for r in rows} == {"Flate0001": True, "Fsoon0002": False,
                                                              "Fdone0003": False}
    doc = _Doc(lang)
    _preamble(doc, SimpleNamespace(date=date))
    _worklist(doc, rows, "register.sqlite")
    return doc


def _row_sources(src):
    """Typst source of each worklist row, keyed by finding id (a row starts at its id cell)."""
    import re

    table = src[src.index("#table(columns: (auto, auto, 2.2cm"):]
    starts = [(m.start(), m.group(1)) for m in re.finditer(r'raw\("(F\w+)"\)', table)]
    ends = [s for s, _ in starts[1:]] + [len(table)]
    return {fid: table[s:e] for (s, fid), e in zip(starts, ends)}


@pytest.mark.parametrize("lang, mark", [("en", "(overdue)"), ("zh", "(已逾期)")])
def test_worklist_marks_overdue_items_in_red(lang, mark):
    rows = _row_sources(_worklist_doc(lang).source())
    assert set(rows) == {"Flate0001", "Fsoon0002", "Fdone0003"}
    red = 'table.cell(fill: rgb("#f5b7b1"), text(fill: rgb("#78281f")'
    late = rows["Flate0001"]
    assert red in late and f'"2026-01-10 {mark}"' in late
    for fid, deadline in (("Fsoon0002", "2026-03-01"), ("Fdone0003", "2025-12-01")):
        assert red not in rows[fid] and "#f5b7b1" not in rows[fid] and mark not in rows[fid]
        assert deadline in rows[fid]


def test_worklist_overdue_mark_in_the_pdf_text():
    import io

    from detect.report.pdf import compile_pdf

    pdf = compile_pdf(_worklist_doc("en"))
    flat = "".join("".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    assert "2026-01-10(overdue)" in flat
    assert "2026-03-01" in flat and "2026-03-01(overdue)" not in flat
    assert "2025-12-01" in flat and "2025-12-01(overdue)" not in flat


# --- line breaking: a number keeps its % sign, "p < 0.0001" stays on one line ----------------------

def test_number_and_percent_sign_never_split_across_lines():
    """In narrow table cells the sample report broke "0.0035 %" and "p < 0.0001" across lines (a
    reviewer reads "%" or "0.0001" alone at the start of a line). Spaces inside those are no-break."""
    text = "；".join(f"增长 {k}.5 %（稳健 z=8.{k}，p < 0.0001）" for k in range(10, 40))
    out_lines = []
    for width in ("2.1cm", "2.6cm", "3.3cm"):
        src = (f'#set text(font: "Noto Sans CJK SC", size: 8pt)\n#block(width: {width})[{txt(text)}]\n'
               f'#block(width: {width})[{txt(text.replace("增长", "rose"))}]\n')
        out_lines += _compile(src).splitlines()
    assert len(out_lines) > 40
    for line in out_lines:
        s = line.strip()
        assert not s.startswith(("%", "<", "0.0001")), line
        assert not s.endswith((" p", "p <", "p<")), line
    assert lit("9.0 %") == '"9.0\u00a0%"' and lit("p < 0.0001") == '"p\u00a0<\u00a00.0001"'
    assert lit("$x$ <lab> a < b") == '"$x$ <lab> a < b"'   # only number-% and p/q/z/t comparisons


def test_every_note_reaches_the_methods_appendix(run_dir, monkeypatch):
    """The prefecture atlas run had 41 notes and the appendix listed the first 40: the one dropped was
    the run-wide note on tests lost to false-discovery control. Each detector's notes are listed in
    its own section (none dropped), the run-wide notes in the closing "Notes" section."""
    from detect.registry import available
    from detect.report.pdf import build_source
    from detect.report.rundata import load_run

    _no_charts(monkeypatch)
    data = load_run(run_dir, date="2026-01-15")
    dets = sorted(available())
    notes = [f"{dets[k % len(dets)]}: note number {k} not applicable" for k in range(60)]
    notes.append("602 tests with p <= report_p did not reach q <= 0.1 and are not listed")
    data.manifest["notes"] = notes
    src = build_source(data, "zh", 2, [], "none").source()
    for n in notes:
        body = n.split(": ", 1)[1] if n[0].isalpha() else n
        assert lit(body) in src, n
    methods = src[src.index("附录A：方法"):]
    for det in dets:  # a detector's notes follow its heading, before the next section's heading
        start = methods.index(f'#"{det}";')
        end = methods.find("\n\n== ", start)
        section = methods[start:end if end > 0 else len(methods)]
        mine = [n.split(": ", 1)[1] for n in notes if n.startswith(det + ":")]
        assert mine and all(lit(b) in section for b in mine), det


def _no_charts(monkeypatch):
    """Text-only tests of the typst source: charts are not drawn (they cost seconds and are tested apart)."""
    from detect.report import charts, content

    monkeypatch.setattr(content, "region_charts", lambda *a, **k: [])
    monkeypatch.setattr(charts, "ranked_regions", lambda *a, **k: None)


def test_region_named_alike_in_every_chinese_table(run_dir, monkeypatch):
    """Section headings wrote 辽宁省（160000） but the summary table, the other-regions blocks and the
    worklist wrote 辽宁省 (160000): one form per language."""
    from detect.report import content
    from detect.report.pdf import build_source
    from detect.report.rundata import load_run

    _no_charts(monkeypatch)

    data = load_run(run_dir, date="2026-01-15")
    rows = content.worklist_rows(data.findings, "zh", data.date)
    zh = build_source(data, "zh", 2, rows, "none").source()
    en = build_source(data, "en", 2, content.worklist_rows(data.findings, "en", data.date), "none").source()
    top = data.regions.iloc[0]
    assert f"{top.region_name}（{top.region_code}）" in zh and f"{top.region_name} ({top.region_code})" not in zh
    assert f"{top.region_name} ({top.region_code})" in en


def test_other_regions_blocks_use_chinese_colon(run_dir, monkeypatch):
    """"核查要点: …" had an ASCII colon in the Chinese blocks of high findings of other regions."""
    from detect.report.pdf import build_source
    from detect.report.rundata import load_run

    _no_charts(monkeypatch)

    data = load_run(run_dir, date="2026-01-15")
    zh = build_source(data, "zh", 1, [], "none").source()   # one section: the other regions get blocks
    assert '"核查要点："' in zh and '"核查要点";:' not in zh
    en = build_source(data, "en", 1, [], "none").source()
    assert '"What to check:"' in en


def test_rule_based_flag_says_rule_not_a_dash(run_dir, monkeypatch):
    """A rule-based flag (the debt grade of the fixture: no p-value) showed '–' in the q column, which
    reads as missing data; it says 规则 / rule, and a tested finding its q-value."""
    from detect.report.pdf import _q_text, build_source
    from detect.report.rundata import load_run

    assert _q_text({"q_value": float("nan"), "p_value": float("nan")}, "zh") == "规则"
    assert _q_text({"q_value": 0.0123, "p_value": 0.001}, "en") == "0.012"
    _no_charts(monkeypatch)
    data = load_run(run_dir, date="2026-01-15")
    rule = data.findings[data.findings["p_value"].isna()]
    assert len(rule)
    src = build_source(data, "zh", 4, [], "none").source()
    fid = rule["finding_id"].iloc[0]
    row = src[src.index(f'raw("{fid}")'):][:600]
    assert '"规则"' in row and '"–"' not in row
