"""The main job: load, run every detector, score, write the run directory.

``run()`` is pure apart from reading the input files; ``write_run()`` writes findings.csv,
evidence.jsonl, regions.csv, exclusions.csv and manifest.json (and, where the report package
is installed, report.pdf and worklist.xlsx).
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from detect import __version__
from detect.config import Config, load_config, threshold
from detect.data.load import EXCLUSION_COLUMNS, LoadResult, load
from detect.data.panel import Panel
from detect.findings import FINDING_COLUMNS, Findings, findings_frame, write_findings, write_table
from detect.registry import detectors_for
from detect.scoring import rank_regions, region_p_values, score_findings

_DEPENDENCIES = ("numpy", "scipy", "pandas", "scikit-learn", "statsmodels", "matplotlib", "openpyxl",
                 "pyarrow", "typst")


@dataclass
class RunResult:
    """Everything one run produced, in memory."""

    panel: Panel
    findings: pd.DataFrame
    regions: pd.DataFrame
    exclusions: pd.DataFrame
    manifest: dict
    notes: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """Jupyter view: rows in / used / excluded, findings by severity, the top 5 regions (text escaped)."""
        m = self.manifest
        rows = pd.DataFrame({"rows in": [m.get("rows_in", len(self.panel) + len(self.exclusions))],
                             "used": [m.get("rows_used", len(self.panel))],
                             "excluded": [m.get("rows_excluded", len(self.exclusions))]})
        sev = self.findings["severity"] if "severity" in self.findings.columns else pd.Series(dtype=object)
        levels = ("high", "medium", "low", "info")
        by_sev = pd.DataFrame({s: [int((sev == s).sum())] for s in levels} | {"total": [len(self.findings)]},
                              index=["findings"])
        cols = [c for c in ("rank", "region_code", "region_name", "risk_score", "n_high", "n_medium", "n_low")
                if c in self.regions.columns]
        top = self.regions[cols].head(5)
        return ("<div><strong>detect run</strong>"
                + rows.to_html(index=False, escape=True, border=0)
                + by_sev.to_html(escape=True, border=0)
                + "<p>Top 5 regions by risk</p>"
                + top.to_html(index=False, escape=True, border=0, float_format=lambda x: f"{x:.2f}")
                + "</div>")


def versions() -> dict[str, str]:
    """Versions of detect, Python and the dependencies (recorded in manifest.json)."""
    out = {"detect": __version__, "python": platform.python_version()}
    for name in _DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def screen(panel: Panel, config: Config | None = None,
           progress: Callable[[Iterable], Iterable] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict]:
    """Run the configured detectors on a panel and score the findings.

    Returns
    -------
    findings : DataFrame (contract columns then extra columns), scored and sorted
    regions : DataFrame (regions.csv)
    notes : list of str, what did not apply and why
    tests : dict, hypotheses tested per detector
    """
    config = config or load_config()
    allf = Findings()
    tests: dict[str, int] = {}
    dets = detectors_for(config.detectors)
    notes: list[str] = []
    for det in (progress(dets) if progress else dets):
        res = det.run(panel, config)
        tests[det.name] = res.n_tests
        allf.extend(res)
    df = findings_frame(allf.items)
    if len(df) and df["finding_id"].duplicated().any():
        dup = df.loc[df["finding_id"].duplicated(), "finding_id"].iat[0]
        raise AssertionError(f"two findings share the id {dup}: a detector emitted the same evidence twice")
    df = score_findings(df, tests, config, families={d.name: d.family for d in dets})
    p_region = region_p_values(df, panel.data, sum(tests.values()), config)
    # tests that did not reach q <= q_low are not findings: they entered the q-values and the region
    # risk above, and are counted in the manifest, but no reviewer should be sent after them
    not_significant = (df["severity"] == "info") & df["p_value"].notna() if len(df) else pd.Series(dtype=bool)
    if len(df) and not_significant.any():
        notes.append(f"{int(not_significant.sum())} tests with p <= report_p did not reach q <= "
                     f"{threshold('scoring.q_low', config)} after false-discovery control and are not listed")
        df = df[~not_significant].reset_index(drop=True)
    regions = rank_regions(df, panel.regions, p_region)
    return df, regions, allf.notes + notes, tests


def run(paths: str | Path | Iterable[str | Path], config: Config | None = None,
        progress: Callable[[Iterable], Iterable] | None = None,
        loader: Callable[..., LoadResult] | None = None) -> RunResult:
    """Load the inputs and screen them (no files written). See :func:`write_run`.

    ``loader`` replaces :func:`detect.data.load.load` (``detect run --engine dask`` passes
    :func:`detect.scale.dask_engine.load`, which returns the same LoadResult).
    """
    config = config or load_config()
    loaded: LoadResult = (loader or load)(paths)
    findings, regions, notes, tests = screen(loaded.panel, config, progress)
    manifest = {
        "detect_version": __version__,
        "rows_in": loaded.rows_in,
        "rows_used": loaded.rows_used,
        "rows_excluded": loaded.rows_excluded,
        "values_missing": int(loaded.panel.data["value"].isna().sum()),
        "inputs": loaded.inputs,
        "n_regions": int(loaded.panel.data["region_code"].nunique()),
        "indicators": loaded.panel.catalogue.to_dict("records"),
        "n_findings": int(len(findings)),
        "n_tests": tests,
        "severity_counts": {s: int((findings["severity"] == s).sum()) for s in ("high", "medium", "low", "info")}
        if len(findings) else {"high": 0, "medium": 0, "low": 0, "info": 0},
        "parameters": config.to_dict(),
        "versions": versions(),
        "notes": notes,
    }
    return RunResult(loaded.panel, findings, regions, loaded.exclusions, manifest, notes)


def write_run(result: RunResult, out_dir: str | Path, lang: str | None = None) -> Path:
    """Write the run directory; returns its path. Same inputs, same bytes."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_findings(result.findings if len(result.findings) else
                   pd.DataFrame(columns=[*FINDING_COLUMNS, "family", "kind", "effect", "severity_hint", "evidence"]),
                   out)
    write_table(result.regions, out / "regions.csv")
    write_table(result.exclusions, out / "exclusions.csv", EXCLUSION_COLUMNS)
    with open(out / "manifest.json", "w", encoding="utf-8", newline="\n") as fh:
        json.dump(_clean_json(result.manifest), fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
    return out


def _clean_json(obj):
    import math

    if isinstance(obj, dict):
        return {str(k): _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_json(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item"):
        return _clean_json(obj.item())
    return obj


def resolve_lang(lang: str | None, panel: Panel) -> str:
    """``zh`` or ``en``: the requested language, or Chinese when region names are Chinese."""
    if lang in ("zh", "en"):
        return lang
    return "zh" if panel.has_chinese_names() else "en"


__all__ = ["RunResult", "run", "screen", "write_run", "versions", "resolve_lang", "sys"]
