"""Helpers of the report tests: a small run directory made by detect.pipeline on a crafted panel,
with extra findings carrying digit, proxy and debt evidence (shaped like those of detect.digits and
detect.debt) so that every chart kind is drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PROVINCES = ["北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
             "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区"]
HOSTILE = "#恶意*地区_ $x$ <lab> @ref \\ [b] \"q\" // c"
DETECTORS = ("growth_peers", "level_shift", "proxy_divergence", "composition")
BENFORD2 = [np.log10(1 + 1 / d) for d in range(1, 10)]


def crafted_panel_csv(path: Path, names: list[str] | None = None, n_years: int = 14, seed: int = 3) -> Path:
    """A long CSV: 20 regions x (gdp, electricity, fiscal_revenue, tax_revenue) x n_years; region
    index 5 (辽宁省) inflates fiscal revenue 2011-2014 and corrects in 2015."""
    rng = np.random.default_rng(seed)
    names = names or PROVINCES
    rows = []
    for r, name in enumerate(names):
        code = f"{(r + 11):02d}0000"
        lvl = 1000.0 * (1 + r % 7)
        for k, y in enumerate(range(2024 - n_years + 1, 2025)):
            lvl *= np.exp(0.07 + rng.normal(0, 0.015))
            rev = lvl * 0.1 * np.exp(rng.normal(0, 0.01))
            if r == 5 and 2011 <= y <= 2014:
                rev *= 1.0 + 0.12 * (y - 2010)
            if r == 5 and y >= 2015:
                rev *= 0.9
            for ind, v in (("gdp", lvl), ("electricity", lvl * 0.05 * np.exp(rng.normal(0, 0.01))),
                           ("fiscal_revenue", rev), ("tax_revenue", lvl * 0.08 * np.exp(rng.normal(0, 0.01)))):
                rows.append((code, name, ind, str(y), round(float(v), 2), ""))
    df = pd.DataFrame(rows, columns=["region_code", "region_name", "indicator", "period", "value", "unit"])
    df["value"] = df["value"].astype(object)
    df.loc[len(df)] = ["110000", names[0], "gdp", "2030", "n/a??", ""]  # one excluded row
    df.to_csv(path, index=False)
    return path


def extra_findings(regions: pd.DataFrame) -> list:
    """Findings with digit, proxy and debt evidence (the detectors of those families are separate)."""
    from detect.findings import Finding

    r0 = regions.iloc[0]
    r1 = regions.iloc[1]
    years = [str(y) for y in range(2011, 2025)]
    obs = np.array(BENFORD2) * np.array([0.8, 1.0, 1.1, 1.0, 1.3, 1.0, 1.0, 0.9, 0.9])
    obs = obs / obs.sum()
    digits = [{"digit": d, "count": int(round(o * 400)), "observed": float(o), "expected": float(e), "z": 0.0}
              for d, o, e in zip(range(1, 10), obs, BENFORD2)]
    fan = {"p5": [1.0 + 0.05 * k for k in range(5)], "p50": [1.1 + 0.08 * k for k in range(5)],
           "p95": [1.2 + 0.12 * k for k in range(5)]}
    paths = {sc: {str(2025 + k): 0.95 + d * (k + 1) for k in range(5)}
             for sc, d in (("baseline", 0.08), ("growth_shock", 0.12), ("combined", 0.2))}
    return [
        Finding(r0.region_code, r0.region_name, "*", "2011", "2024", "benford_first", 25.0, 1e-6,
                "First digits of 400 figures depart from Benford (MAD 0.021, p < 0.0001); check the source records.",
                "400个数字的首位数字偏离本福特定律（MAD 0.021，p < 0.0001）；请调取原始记录核查。",
                family="digits", kind="first", effect=0.02,
                evidence={"digits": digits, "n": 400, "test": "first", "mad": 0.021}),
        Finding(r0.region_code, r0.region_name, "gdp", "2016", "2019", "proxy_gap", 4.2, 2e-7,
                "GDP grew 30 % faster than electricity in 2016-2019 (p < 0.0001); check the GDP accounts.",
                "2016-2019年地区生产总值增速比用电量高30%（p < 0.0001）；请核对地区生产总值核算。",
                family="panel", kind="proxy_gap", effect=0.3,
                evidence={"proxies": ["electricity"], "run_years": [2016, 2017, 2018, 2019],
                          "reported_growth": {y: 0.08 + (0.03 if "2016" <= y <= "2019" else 0) for y in years},
                          "implied_growth": {y: 0.07 for y in years},
                          "proxy_growth": {"electricity": {y: 0.05 for y in years}}}),
        Finding(r1.region_code, r1.region_name, "debt_ratio", "2024", "2024", "debt_grade", float("nan"),
                float("nan"), "Debt ratio 135 % is above the 120 % line; check the debt ledger.",
                "债务率135%，超过120%警戒线；请核对债务台账。", family="debt", kind="grade_yellow", effect=0.35,
                severity_hint="high",
                evidence={"series": {y: 0.6 + 0.025 * k for k, y in enumerate(years)},
                          "lines": {"100%": 1.0, "120%": 1.2, "200%": 2.0, "300%": 3.0},
                          "fan": fan, "projection": {"start_year": 2024, "start_value": 0.925, "paths": paths},
                          "crossing_years": {"baseline": {"100%": 2026, "120%": 2028, "200%": None},
                                             "growth_shock": {"100%": 2025, "120%": 2027, "200%": None}}}),
    ]


def make_run(tmp: Path, names: list[str] | None = None, extra: bool = True, n_years: int = 14, top: int = 4) -> Path:
    """Run detect.pipeline on the crafted panel and write the run directory (without the report)."""
    from detect.config import load_config
    from detect.findings import findings_frame
    from detect.pipeline import run, write_run
    from detect.report import save_panel
    from detect.scoring import rank_regions, score_findings

    csv = crafted_panel_csv(tmp / "panel.csv", names, n_years=n_years)
    # committed detectors of each evidence shape the report reads (series, level shift, proxy growth);
    # digit and debt evidence are added below
    config = load_config(top_regions=top, detectors=list(DETECTORS))
    res = run([csv], config)
    if extra:
        add = findings_frame(extra_findings(res.regions))
        base = res.findings.drop(columns=["q_value", "score", "severity"])
        allf = pd.concat([base, add.drop(columns=["q_value", "score", "severity"])], ignore_index=True)
        n = sum(res.manifest["n_tests"].values()) + 2
        res.findings = score_findings(allf, n, config)
        res.regions = rank_regions(res.findings, res.panel.regions)
        res.manifest["n_findings"] = len(res.findings)
        res.manifest["severity_counts"] = {s: int((res.findings["severity"] == s).sum())
                                           for s in ("high", "medium", "low", "info")}
    out = tmp / "run"
    write_run(res, out)
    save_panel(res.panel, out)
    return out
