"""The rendered report: pages, fonts, text, charts, escaping, determinism (tests/report for detect/report)."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

pypdf = pytest.importorskip("pypdf")

from report_fixtures import HOSTILE, PROVINCES, make_run  # noqa: E402


def _pages_png(pdf: Path, scale: float = 0.6):
    """Render every page with PDFium (pypdfium2) to RGB arrays."""
    pdfium = pytest.importorskip("pypdfium2")
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [np.asarray(doc[i].render(scale=scale).to_pil().convert("RGB")) for i in range(len(doc))]
    finally:
        doc.close()


def _fonts(reader):
    """Every font dictionary used by the pages, including those inside form XObjects."""
    seen = {}

    def walk(res):
        if res is None:
            return
        res = res.get_object()
        for f in (res.get("/Font") or {}).values():
            f = f.get_object()
            seen[id(f)] = f
        for xo in (res.get("/XObject") or {}).values():
            xo = xo.get_object()
            if xo.get("/Subtype") == "/Form":
                walk(xo.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return list(seen.values())


def _embedded(font) -> bool:
    if font.get("/Subtype") == "/Type3":  # glyphs are drawn by the font's own procedures
        return True
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    desc = font.get("/FontDescriptor")
    if desc is None:
        return False
    desc = desc.get_object()
    return any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def _path_ops(reader, page) -> int:
    """Number of path-construction operators (line, curve) drawn on a page, forms included."""
    from pypdf.generic import ContentStream

    n = 0
    content = page.get_contents()
    ops = content.operations if content is not None else []
    n += sum(1 for _, op in ops if op in (b"l", b"c", b"v", b"y"))
    xo = (page.get("/Resources") or {}).get("/XObject") or {}
    for x in xo.values():
        x = x.get_object()
        if x.get("/Subtype") == "/Form":
            n += sum(1 for _, op in ContentStream(x, reader).operations if op in (b"l", b"c", b"v", b"y"))
    return n


def _outline_titles(reader) -> list[str]:
    out = []

    def walk(items):
        for it in items:
            if isinstance(it, list):
                walk(it)
            else:
                out.append(str(it.title))

    walk(reader.outline)
    return out


def test_render_writes_pdf_and_xlsx(rendered):
    assert rendered["pdf"].is_file() and rendered["pdf"].read_bytes()[:5] == b"%PDF-"
    assert rendered["xlsx"].is_file() and zipfile.is_zipfile(rendered["xlsx"])


def test_page_count_and_structure(rendered, run_dir):
    reader = pypdf.PdfReader(rendered["pdf"])
    pages = _pages_png(rendered["pdf"])
    assert len(pages) == len(reader.pages)
    titles = _outline_titles(reader)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    import pandas as pd

    top_n = manifest["parameters"]["top_regions"]
    regions = pd.read_csv(run_dir / "regions.csv", dtype={"region_code": str})
    expected = regions[regions["risk_score"] > 0].head(top_n)   # regions with findings, by rank
    region_sections = [t for t in titles if t.startswith("2.") and "（" in t]
    assert len(region_sections) == len(expected) >= 2
    for t, name, code in zip(region_sections, expected["region_name"], expected["region_code"]):
        assert t.endswith(f"{name}（{code}）")
    for must in ("1 摘要", "2 重点地区", "3 问题清单", "附录A：方法", "附录B：数据"):
        assert must in titles
    # appendices are lettered, not also numbered ("4 附录A：方法"); their sections are A.1, B.1 …
    assert not any(re.match(r"\d+ 附录", t) for t in titles)
    appendix = titles[titles.index("附录A：方法") + 1:]
    assert appendix and all(re.match(r"[AB]\.\d+ ", t) for t in appendix if t != "附录B：数据"), appendix
    # cover + contents + summary + one page or more per region + worklist + two appendices
    assert len(reader.pages) >= 3 + len(expected) + 3
    for img in pages:  # no blank page
        assert img.std() > 2


def test_every_font_embedded(rendered):
    reader = pypdf.PdfReader(rendered["pdf"])
    fonts = _fonts(reader)
    assert fonts
    for f in fonts:
        assert _embedded(f), f"font {f.get('/BaseFont')} is not embedded"
    assert any("NotoSansCJK" in str(f.get("/BaseFont")) for f in fonts)


def test_chinese_text_extractable(page_texts):
    text = "".join(page_texts)
    for s in ("风险", "问题清单", "辽宁省", "核查要点", "原假设"):
        assert s in text


def test_charts_on_region_pages(rendered, page_texts):
    reader = pypdf.PdfReader(rendered["pdf"])
    by_page = page_texts
    cover = _path_ops(reader, reader.pages[0])
    # the section of the top region (辽宁省, planted) spans pages that draw several charts
    start = next(i for i, t in enumerate(by_page) if "辽宁省（160000）" in t and "风险排名" in t)
    ops = sum(_path_ops(reader, reader.pages[i]) for i in range(start, start + 3))
    assert cover < 50 < 500 < ops
    figs = sum(t.count("图 ") for t in by_page)
    assert figs >= 6  # ranked chart, series, proxy, digit and debt charts


@pytest.mark.slow
def test_english_report_without_panel(run_dir, tmp_path):
    """--lang en labels everything in English; panel.parquet is optional (charts then come from
    the evidence alone)."""
    from detect.report import render_run

    d = tmp_path / "run"
    shutil.copytree(run_dir, d)
    for f in ("report.pdf", "worklist.xlsx", "panel.parquet"):
        (d / f).unlink(missing_ok=True)
    paths = render_run(d, lang="en", date="2026-01-15")
    reader = pypdf.PdfReader(paths["pdf"])
    text = "".join(p.extract_text() for p in reader.pages)
    for s in ("Executive summary", "Worklist", "Null hypothesis", "What to check", "辽宁省"):
        assert s in text
    assert "问题清单" not in text
    assert len(reader.pages) >= 5
    from openpyxl import load_workbook

    header = [c.value for c in next(load_workbook(paths["xlsx"]).active.iter_rows(max_row=1))]
    assert header[:2] == ["ID", "Severity"]


@pytest.mark.slow
def test_determinism_two_renders(run_dir, rendered, tmp_path):
    """A second render of the same run (in another folder) gives the same PDF and xlsx bytes."""
    from detect.report import render_run

    d = tmp_path / "copy"
    shutil.copytree(run_dir, d)
    again = render_run(d, date="2026-01-15")
    assert rendered["pdf"].read_bytes() == again["pdf"].read_bytes()
    assert rendered["xlsx"].read_bytes() == again["xlsx"].read_bytes()
    from openpyxl import load_workbook

    vals = [[tuple(r) for r in load_workbook(o["xlsx"]).active.iter_rows(values_only=True)] for o in (rendered, again)]
    assert vals[0] == vals[1] and len(vals[0]) > 1


@pytest.mark.slow
def test_hostile_region_names_escaped(tmp_path):
    """`detect run` writes report.pdf and worklist.xlsx; typst markup characters in region names are
    shown literally and cannot break the document, nor inject formulas into the worklist."""
    from report_fixtures import DETECTORS, crafted_panel_csv

    from detect.cli import main

    names = list(PROVINCES)
    hostile = "=" + HOSTILE      # the planted region (a section of its own, findings in the worklist):
    names[5] = hostile           # '=' starts a heading in markup and a formula in a spreadsheet
    csv = crafted_panel_csv(tmp_path / "panel.csv", names)
    (tmp_path / "detect.toml").write_text("top_regions = 2\n", encoding="utf-8")
    out = tmp_path / "run"
    rc = main(["run", str(csv), "--out", str(out), "--config", str(tmp_path / "detect.toml"), "--quiet",
               "--no-register", "--detectors", ",".join(DETECTORS)])
    assert rc == 0
    paths = {"pdf": out / "report.pdf", "xlsx": out / "worklist.xlsx"}
    reader = pypdf.PdfReader(paths["pdf"])
    text = "".join(p.extract_text() for p in reader.pages)
    compact = text.replace(" ", "").replace("\n", "")
    assert hostile.replace(" ", "") in compact
    titles = _outline_titles(reader)
    assert any(hostile.replace(" ", "") in t.replace(" ", "") for t in titles)  # its section, name intact
    from openpyxl import load_workbook

    cells = [c for row in load_workbook(paths["xlsx"]).active.iter_rows(values_only=True) for c in row
             if isinstance(c, str)]
    assert not any(c.startswith("=") for c in cells)
    assert "'" + hostile in cells


@pytest.mark.slow
def test_empty_run_renders(tmp_path):
    """A run without findings still gives a report that says so."""
    from detect.report import render_run

    run = make_run(tmp_path, extra=False, n_years=2)  # 2 years: too short for most tests
    (run / "findings.csv").write_text((run / "findings.csv").read_text(encoding="utf-8").splitlines()[0] + "\n",
                                      encoding="utf-8")
    (run / "evidence.jsonl").write_text("", encoding="utf-8")
    paths = render_run(run, date="2026-01-15", lang="en")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(paths["pdf"]).pages)
    assert "No findings" in text


@pytest.mark.slow
def test_sample_report(repo, tmp_path):
    """The committed sample panel, screened by one detector of each evidence shape, renders: pages
    as PNG, embedded fonts, Chinese text, the top region's section with charts."""
    sample = repo / "data" / "sample" / "panel.csv"
    if not sample.is_file():
        pytest.skip(f"{sample} is absent")
    from detect.config import load_config
    from detect.pipeline import run, write_run
    from detect.registry import available
    from detect.report import render_run, save_panel

    want = ("level_shift", "proxy_divergence", "composition", "debt_ratios", "debt_stress", "digits")
    config = load_config(top_regions=3, detectors=[d for d in want if d in available()])
    res = run([sample], config)
    out = write_run(res, tmp_path / "sample")
    save_panel(res.panel, out)
    paths = render_run(out, date="2026-01-15")
    reader = pypdf.PdfReader(paths["pdf"])
    pages = _pages_png(paths["pdf"], scale=0.3)
    assert len(pages) == len(reader.pages) >= 3 + 3 + 3
    assert all(_embedded(f) for f in _fonts(reader))
    texts = [p.extract_text() for p in reader.pages]
    top = res.regions.iloc[0]
    start = next(i for i, t in enumerate(texts) if f"{top.region_name}（{top.region_code}）" in t and "风险排名" in t)
    assert "风险" in "".join(texts)
    assert sum(_path_ops(reader, reader.pages[i]) for i in range(start, start + 2)) > 500


def test_every_high_finding_has_numbers_and_a_chart(run_dir, page_texts):
    """Each high finding's id is in the PDF (beside its sentence and what to check), and the charts
    drawn for its region's section or its own block cover it."""
    from detect.report import content
    from detect.report.rundata import load_run

    text = "".join(page_texts).replace(" ", "")
    data = load_run(run_dir, date="2026-01-15")
    f = data.findings
    high = f[f["severity"] == "high"]
    assert len(high) >= 3
    for fid in high["finding_id"]:
        assert fid in text
    covered = set()
    for code in high["region_code"].unique():
        fr = f[f["region_code"] == code]
        for c in content.region_charts(fr, "zh", "x", panel_series=lambda ind, code=code: data.series(code, ind)):
            covered.update(c.finding_ids)
    assert set(high["finding_id"]) <= covered


def test_methods_appendix_in_chinese(page_texts):
    """The Chinese report's methods appendix gives each test's null hypothesis in Chinese (the
    English text is only a fallback for a detector without a translation)."""
    from detect.registry import available, get_detector

    pages = ["".join(t.split()) for t in page_texts]   # pypdf breaks lines and spaces CJK from Latin
    start = max(i for i, t in enumerate(pages) if "附录A：方法" in t)  # the last: not the contents page
    end = next(i for i in range(start, len(pages)) if "附录B：数据" in pages[i])
    compact = "".join(pages[start:end + 1])
    assert "原假设" in compact
    for name in available():
        det = get_detector(name)
        assert "".join(det.null_hypothesis_zh.split()) in compact, f"{name}: Chinese null hypothesis missing"
        assert "".join(det.null_hypothesis[:40].split()) not in compact, f"{name}: null hypothesis shown in English"


@pytest.mark.slow
def test_source_date_epoch_fixes_the_date(run_dir, tmp_path, monkeypatch):
    """Without --date, `detect report` takes the date from SOURCE_DATE_EPOCH (reproducible-builds
    convention, UTC day): two renders of the same run, in two folders, give the same PDF bytes, and
    the cover shows that day, not today."""
    import datetime as dt

    from detect.cli import main

    epoch = 1700000000   # 2023-11-14 22:13:20 UTC, already the 15th in Beijing: the UTC day is printed
    day = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).date().isoformat()
    assert day == "2023-11-14" != dt.datetime.now(tz=dt.timezone.utc).date().isoformat()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    pdfs = []
    for k in (1, 2):
        d = tmp_path / f"copy{k}"
        shutil.copytree(run_dir, d)
        (d / "report.pdf").unlink(missing_ok=True)
        assert main(["report", str(d), "--quiet"]) == 0
        pdfs.append((d / "report.pdf").read_bytes())
    assert pdfs[0] == pdfs[1]
    reader = pypdf.PdfReader(tmp_path / "copy1" / "report.pdf")
    cover = "".join(reader.pages[0].extract_text().split())
    assert f"报告日期{day}" in cover
    assert reader.metadata.creation_date.date().isoformat() == day


def test_cover_counts_in_chinese_punctuation(page_texts):
    """The Chinese cover writes the findings count as Chinese text does: 条（高 n、中 n…）, not
    "(高 58, 中 20…)" with ASCII parentheses and commas."""
    cover = "".join(page_texts[0].split())
    assert re.search(r"线索数\d+条（高\d+、中\d+、低\d+、提示\d+）", cover), cover
    assert "(高" not in cover


def test_report_of_a_data_file_says_it_is_a_file(tmp_path, capsys):
    # `detect report panel.csv` said "run directory not found" for a file that exists
    from detect.cli import main

    p = tmp_path / "panel.csv"
    p.write_text("region_code,indicator,period,value\n1,gdp,2015,1\n", encoding="utf-8")
    assert main(["report", str(p)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a run directory" in err and "detect run" in err and "Traceback" not in err
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "run directory not found" in capsys.readouterr().err
