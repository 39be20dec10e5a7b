"""The PDF risk report and the Excel worklist of a run.

``render_run(run_dir)`` reads a run directory (findings.csv, evidence.jsonl, regions.csv,
exclusions.csv, manifest.json and, when present, panel.parquet) and writes ``report.pdf`` and
``worklist.xlsx`` into it; ``render_result(result, out_dir)`` does the same straight after a run
(and saves panel.parquet for the charts). See docs/report.md.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from detect.report.rundata import load_run, save_panel

__all__ = ["render_run", "render_result", "save_panel", "load_run"]


def _lang(lang: str | None, data) -> str:
    if lang in ("zh", "en"):
        return lang
    names = [str(n) for n in data.region_names.values()]
    if not names:
        return "en"
    import re

    cjk = sum(bool(re.search(r"[\u4e00-\u9fff]", n)) for n in names)
    return "zh" if cjk / len(names) >= 0.5 else "en"


def render_run(run_dir: str | Path, lang: str | None = None, db: str | Path | None = None,
               date: str | _dt.date | None = None, top_n: int | None = None) -> dict[str, Path]:
    """Render ``report.pdf`` and ``worklist.xlsx`` of a run directory.

    Parameters
    ----------
    run_dir : path
        A directory written by ``detect run``.
    lang : {"zh", "en"}, optional
        Report language; default Chinese when most region names are Chinese.
    db : path, optional
        The follow-up register (SQLite, ``detect review``): statuses, owners and deadlines of the
        worklist come from it when given and readable; otherwise every item is ``open``.
    date : str (YYYY-MM-DD) or date, optional
        The report date (default: see :func:`detect.report.rundata.report_date`).
    top_n : int, optional
        Regions with a section of their own (default: ``top_regions`` of the run's parameters).

    Returns
    -------
    dict
        ``{"pdf": Path, "xlsx": Path}``.
    """
    from detect.report import content, pdf, worklist
    from detect.report.i18n import t

    data = load_run(run_dir, date=date)
    lang = _lang(lang, data)
    if top_n is None:
        top_n = int((data.manifest.get("parameters") or {}).get("top_regions") or 10)
    db_path = str(db) if db and Path(db).is_file() else None
    statuses = content.register_statuses(db_path, list(data.findings["finding_id"]), data.date) if db_path else {}
    f = data.findings
    if len(f) and len(data.regions):
        f = f.merge(data.regions[["region_code", "rank"]], on="region_code", how="left")
    rows = content.worklist_rows(f, lang, data.date, statuses)
    source = t("register_source", lang, path=Path(db_path).name) if db_path else t("register_none", lang)
    doc = pdf.build_source(data, lang, top_n, rows, source)
    out = Path(run_dir)
    pdf_path = out / "report.pdf"
    pdf.compile_pdf(doc, pdf_path)
    xlsx_path = worklist.write_worklist(rows, out / "worklist.xlsx", lang, data.date, db=db_path)
    return {"pdf": pdf_path, "xlsx": xlsx_path}


def render_result(result, out_dir: str | Path, lang: str | None = None, db: str | Path | None = None,
                  date: str | _dt.date | None = None) -> dict[str, Path]:
    """After :func:`detect.pipeline.write_run`: save panel.parquet and render the report.

    ``db``: the follow-up register; ``""`` means the register's default location (``DETECT_DB``,
    else ``./detect-review.sqlite``), used when that file exists; None means no register.
    """
    save_panel(result.panel, out_dir)
    if db == "":
        try:
            from detect.review import default_db_path

            db = str(default_db_path(None))
        except ImportError:
            db = os.environ.get("DETECT_DB") or None
    return render_run(out_dir, lang=lang, db=db, date=date)
