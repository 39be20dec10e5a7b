"""Last-digit preference of a region's reported figures (pooled over its level indicators).

Invented or adjusted figures carry human digit preferences: people writing down a number favour
0 and 5 as the last digit (Beber & Scacco 2012, Political Analysis 20:211-234; Nigrini 2012,
ch. 9). In honestly compiled figures the last reported digit is, to within 0.2 percentage points,
uniform when it is at least the third significant digit (Hill 1995). The test therefore needs no
long series: it pools every level figure a region reports (money, energy, freight, population;
not rates, targets or limits, which are set rather than measured) and compares its last digits
with the uniform distribution by two pre-specified tests:

* the omnibus chi-square ``X2 = sum_d (c_d - n / 10)^2 / (n / 10)`` on 9 degrees of freedom
  (any preference or avoidance), and
* the focused one-sided binomial test of the share of 0 and 5, ``P(B >= c_0 + c_5)`` with
  ``B ~ Binomial(n, 0.2)`` (the preference documented for invented figures),

combined by Bonferroni, ``p = min(1, 2 min(p_chi2, p_05))``: valid whichever test carries the
signal, and more powerful than the chi-square alone against 0/5 preference (docs/digits.md gives
the recall of each choice on the synthetic panels).

Precision. Each figure is read from the reported text (``raw``) at the precision of its series:
the largest number of decimals the region reports for that indicator (a value printed ``12.3`` in
a series reported to two decimals is ``12.30``, last digit 0; a float round trip drops such zeros).
Indicators whose last digit is 0 in more than ``digits.structural_zero_share`` of all regions'
figures at a precision are published rounded: their zeros are convention, not choice, and they
are left out (with a note).

One test per region over all years, and one per region-year where a year alone has at least
``digits.panel_min_values`` figures; findings have indicator ``"*"`` (pooled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from detect._stats import fmt_p, fmt_pct
from detect.config import Config, threshold
from detect.data.panel import Panel
from detect.data.units import INDICATOR_DIMENSION
from detect.digits.extract import _SIG, _scale, extract
from detect.digits.stats import expected_mad, mad, z_scores
from detect.findings import Finding, Findings
from detect.registry import Detector, register

#: Dimensions of level indicators whose last digits are tested.
_LEVEL_DIMENSIONS = ("money", "energy", "mass", "people")
#: Figures that are set, not measured (Nigrini's "assigned numbers"): never tested.
_SET_NOT_MEASURED = frozenset({"growth_target", "debt_limit"})
_UNIFORM = np.full(10, 0.1)


def last_digit_table(panel: Panel, config: Config, indicators: list[str] | None = None
                     ) -> tuple[pd.DataFrame, list[str]]:
    """One row per tested figure: ``region_code, indicator, year, last, decimals``, and notes.

    Parameters
    ----------
    panel : Panel
    config : Config
    indicators : list of str, optional
        Indicators to pool (default: every level indicator of :data:`_LEVEL_DIMENSIONS` present,
        except targets and limits).
    """
    t, n_short = figure_digits(panel, config, indicators)
    counts = structural_counts(t)
    structural = structural_keys(counts, config)
    notes = digit_notes(n_short, structural, counts, config)
    return without_structural(t, structural)[_COLS].reset_index(drop=True), notes


_COLS = ["region_code", "indicator", "year", "last", "decimals"]


def figure_digits(panel: Panel, config: Config, indicators: list[str] | None = None) -> tuple[pd.DataFrame, int]:
    """Last digit of every level figure at its series' precision, before the structural-zero rule.

    Needs only whole regions (a series' precision is the most decimals the region reports for the
    indicator), so it runs on any partition of the panel by region. Returns the table
    (``region_code, indicator, year, last, decimals``) and the number of figures left out for
    having fewer than ``digits.last_digit_min_sig`` significant digits.
    """
    d = panel.latest()
    if indicators is None:
        indicators = [i for i in panel.indicators
                      if INDICATOR_DIMENSION.get(i) in _LEVEL_DIMENSIONS and i not in _SET_NOT_MEASURED]
    d = d[d["indicator"].isin(indicators) & d["value"].notna()]
    empty = pd.DataFrame({c: pd.Series(dtype=object if c in ("region_code", "indicator") else "int64")
                          for c in _COLS})
    if len(d) == 0:
        return empty, 0
    raw = d["raw"].astype(str).to_numpy(dtype=object)
    no_raw = (raw == "") | (raw == "nan")
    if no_raw.any():   # fall back to the value (trailing zeros restored from the series precision below)
        raw = np.where(no_raw, d["value"].map(repr).to_numpy(dtype=object), raw)
    dg = extract(raw)
    ok = dg.valid & (dg.sign != 0)
    t = pd.DataFrame({"region_code": d["region_code"].to_numpy(), "indicator": d["indicator"].to_numpy(),
                      "year": d["year"].to_numpy(), "decimals": dg.decimals.astype(np.int64),
                      "exponent": dg.exponent.astype(np.int64), "magnitude": dg.magnitude})[ok]
    if len(t) == 0:
        return empty, 0
    # precision of each series: the most decimals the region reports for the indicator
    prec = t.groupby(["region_code", "indicator"], sort=False)["decimals"].transform("max").clip(-15, 15)
    t["decimals"] = prec.to_numpy()
    m = np.rint(_scale(t["magnitude"].to_numpy(), t["decimals"].to_numpy()))
    # the magnitude holds the first 15 significant digits (extract._SIG): beyond them the last digit
    # at the series precision is not known (a 16-digit figure would read as ending in 0)
    ok2 = (t["exponent"].to_numpy() + t["decimals"].to_numpy() + 1 <= _SIG) & (m < 2.0 ** 53)
    t = t[ok2]
    m = m[ok2]
    t["last"] = np.mod(m, 10).astype(np.int64)
    # only last digits that are at least the third significant digit are expected uniform
    min_sig = int(threshold("digits.last_digit_min_sig", config))
    short = (t["exponent"] + t["decimals"] + 1) < min_sig
    return t.loc[~short, _COLS], int(short.sum())


def structural_counts(t: pd.DataFrame) -> pd.DataFrame:
    """Figures and figures ending in 0 per ``(indicator, decimals)``: they add over partitions."""
    g = t.assign(zero=(t["last"] == 0).astype(np.int64)).groupby(["indicator", "decimals"], sort=True)
    return pd.DataFrame({"n": g.size().astype(np.int64), "zeros": g["zero"].sum().astype(np.int64)})


def structural_keys(counts: pd.DataFrame, config: Config) -> set[tuple[str, int]]:
    """``(indicator, decimals)`` published rounded: over ``digits.structural_zero_share`` of all
    regions' figures end in 0 at that precision (``counts``: :func:`structural_counts` summed over
    the whole panel)."""
    limit = float(threshold("digits.structural_zero_share", config))
    return {(str(i), int(d)) for (i, d), r in counts.iterrows() if r["zeros"] / r["n"] > limit}


def digit_notes(n_short: int, structural: set, counts: pd.DataFrame, config: Config) -> list[str]:
    """What the last-digit test leaves out: figures too short, and the structural zeros (``counts``
    summed over the whole panel)."""
    notes: list[str] = []
    if n_short:
        min_sig = int(threshold("digits.last_digit_min_sig", config))
        notes.append(f"digits: {n_short} figures with fewer than {min_sig} significant digits not used "
                     "(their last digit is a leading digit, not expected uniform)")
    if structural:
        n_struct = int(sum(int(counts.loc[k, "n"]) for k in structural))
        which = sorted({i for i, _ in structural})
        limit = float(threshold("digits.structural_zero_share", config))
        notes.append(f"digits: {n_struct} figures of {', '.join(which)} left out of the last-digit test: "
                     f"over {fmt_pct(limit, 0)} of all regions' figures end in 0 at that precision (published rounded)")
    return notes


def without_structural(t: pd.DataFrame, structural: set) -> pd.DataFrame:
    """The figures of ``t`` whose ``(indicator, decimals)`` is not in ``structural``."""
    if not structural or len(t) == 0:
        return t
    keys = pd.MultiIndex.from_arrays([t["indicator"], t["decimals"]])
    return t[~keys.isin(list(structural))]


def region_year_counts(t: pd.DataFrame) -> pd.DataFrame:
    """Last-digit counts per ``(region_code, year)`` (columns ``0``-``9``) and the indicators pooled
    (``indicators``, a sorted tuple). Regions add by concatenation; the detector's statistics need
    nothing else."""
    if len(t) == 0:
        return pd.DataFrame(columns=[*range(10), "indicators"],
                            index=pd.MultiIndex.from_arrays([[], []], names=["region_code", "year"]))
    t = t.assign(year=t["year"].astype(np.int64))
    g = t.groupby(["region_code", "year"], sort=True)
    k = g.ngroup().to_numpy()
    n_groups = int(k.max()) + 1
    c = np.bincount(k * 10 + t["last"].to_numpy(dtype=np.int64), minlength=n_groups * 10).reshape(n_groups, 10)
    out = pd.DataFrame(c.astype(np.int64), index=g.size().index, columns=list(range(10)))
    u = t[["region_code", "year", "indicator"]].drop_duplicates().sort_values(["region_code", "year", "indicator"])
    out["indicators"] = u.groupby(["region_code", "year"], sort=True)["indicator"].agg(tuple)
    return out


@dataclass(frozen=True)
class LastDigitCounts:
    """Region-year last-digit counts computed outside the detector (on Dask workers, reduced).

    ``key`` records the settings they were counted under (:func:`count_key`) and ``data`` the
    panel they were counted from (``id`` and length of its ``data`` frame); the detector uses them
    only for that panel under the same settings, and otherwise counts from the panel itself (a
    subset or other derived panel has a new frame).
    """

    counts: pd.DataFrame
    notes: tuple[str, ...]
    key: tuple
    data: tuple[int, int] = (0, -1)

    def applies(self, panel: Panel, key: tuple) -> bool:
        """Counted from this panel's rows under these settings."""
        return self.key == key and self.data == (id(panel.data), len(panel.data))


def count_key(config: Config, indicators: list[str] | None) -> tuple:
    """The settings that decide the counts: pooled indicators, minimum significant digits, structural share."""
    return (None if indicators is None else tuple(indicators),
            int(threshold("digits.last_digit_min_sig", config)),
            float(threshold("digits.structural_zero_share", config)))


@register
class LastDigitPreference(Detector):
    """Last reported digits of a region's level figures against the uniform distribution."""

    name = "digits"
    family = "digits"
    title = "Last-digit preference"
    title_zh = "末位数字偏好"
    null_hypothesis = ("The last reported digits of the region's level figures are uniform on 0-9 "
                       "(each 10 %), as in honestly compiled figures.")
    null_hypothesis_zh = "该地区总量数据所报告的末位数字在0–9上均匀分布（各占10%），与如实统计的数据一致。"

    def run(self, panel: Panel, config: Config) -> Findings:
        out = Findings()
        if len(panel) == 0:
            return out
        option = config.option(self.name, "indicators", None)
        pre = panel.meta.get("last_digit_counts")
        if isinstance(pre, LastDigitCounts) and pre.applies(panel, count_key(config, option)):
            counts, notes = pre.counts, list(pre.notes)      # counted by region on the workers, reduced
        else:
            t, notes = last_digit_table(panel, config, option)
            counts = region_year_counts(t)
        out.notes.extend(notes)
        if len(counts) == 0:
            out.notes.append("digits: no level figures with enough significant digits to test")
            return out
        min_n = int(threshold("digits.panel_min_values", config))
        report_p = float(threshold("scoring.report_p", config))
        names = panel.regions.set_index("region_code")["region_name"]
        digit_cols = list(range(10))
        # counts per region (all years) and per region-year; the statistics of every group at once,
        # a finding built only for the groups at or below report_p
        C = counts[digit_cols]
        units = [("region", C.groupby(level="region_code", sort=True).sum())]
        if counts.index.get_level_values("year").nunique() > 1:
            units.append(("year", C.groupby(level=["region_code", "year"], sort=True).sum()))
        n_small = 0
        for scope, tab in units:
            cm = tab.to_numpy(dtype=np.int64)
            n = cm.sum(axis=1)
            tested = n >= min_n
            if scope == "region":
                n_small += int((~tested).sum())
            e = np.maximum(n, 1)[:, None] * _UNIFORM
            x2 = ((cm - e) ** 2 / e).sum(axis=1)
            p_chi2 = stats.chi2.sf(x2, len(_UNIFORM) - 1)
            p_05 = stats.binom.sf(cm[:, 0] + cm[:, 5] - 1, n, 0.2)
            pv = np.minimum(1.0, 2.0 * np.minimum(p_chi2, p_05))
            out.n_tests += int(tested.sum())
            for i in np.flatnonzero(tested & (pv <= report_p)):
                key = tab.index[i]
                code = key if scope == "region" else key[0]
                g = counts.loc[[key]] if scope == "year" else counts.xs(key, level="region_code", drop_level=False)
                by_year = g[digit_cols].to_numpy(dtype=np.int64)
                c = cm[i]
                years = g.index.get_level_values("year").astype(int)
                inds = sorted({i_ for s_ in g["indicators"] for i_ in s_})
                f = self._finding(code, str(names.get(code, code)), int(years.min()), int(years.max()), c,
                                  float(x2[i]), len(_UNIFORM) - 1, float(pv[i]), inds, scope, config)
                n_y = by_year.sum(axis=1)
                f.evidence.update({"p_chi2": float(p_chi2[i]), "p_share_0_5": float(p_05[i]),
                                   "p_combined": "Bonferroni: min(1, 2 min(p_chi2, p_share_0_5))",
                                   "share_0_5_by_year": {str(y): float((r[0] + r[5]) / m)
                                                         for y, r, m in zip(years, by_year, n_y)},
                                   "n_by_year": {str(y): int(m) for y, m in zip(years, n_y)}})
                out.items.append(f)
        if n_small:
            out.notes.append(f"digits: {n_small} regions with fewer than {min_n} testable figures "
                             "(last-digit test needs an expected 5 per digit)")
        return out

    def _finding(self, code: str, name: str, y0: int, y1: int, counts: np.ndarray, x2: float, df: int, p: float,
                 indicators: list[str], scope: str, config: Config) -> Finding:
        n = int(counts.sum())
        obs = counts / n
        z = z_scores(counts, _UNIFORM)
        zc = float(threshold("digits.z_critical", config))
        share05 = float((counts[0] + counts[5]) / n)
        top = int(np.argmax(z))
        band = 1.96 * np.sqrt(n * 0.1 * 0.9)
        period = f"{y0}" if y0 == y1 else f"{y0}-{y1}"
        excess = mad(counts, _UNIFORM) - expected_mad(n, _UNIFORM)
        over = [int(d) for d in np.flatnonzero(z > zc)]
        over_txt = ", ".join(str(d) for d in over) or "none"
        summary = (f"{fmt_pct(share05, 0)} of the {n} last digits of {name}'s reported level figures ({period}) are 0 or 5 "
                   f"against 20 % expected (last digits against uniform: chi-square {x2:.1f} on {df} df; combined "
                   f"{fmt_p(p)}; most over-represented digit {top}, z = {z[top]:.1f}); check whether these figures "
                   f"were estimated or rounded rather than compiled from records.")
        summary_zh = (f"{name}{period}年所报总量指标的{n}个末位数字中{fmt_pct(share05, 0)}为0或5（预期20%）"
                      f"（末位数字与均匀分布比较：卡方={x2:.1f}，自由度{df}；合并检验{fmt_p(p)}；"
                      f"最偏多的数字为{top}，z={z[top]:.1f}）；请核查这些数字是否为估算或凑整而非据实统计。")
        digits = [{"digit": d, "count": int(counts[d]), "observed": float(obs[d]), "expected": 0.1,
                   "expected_count": n * 0.1, "band_low": max(n * 0.1 - band, 0.0), "band_high": n * 0.1 + band,
                   "z": float(z[d])} for d in range(10)]
        return Finding(
            region_code=code, region_name=name, indicator="*", period_start=str(y0), period_end=str(y1),
            detector=self.name, statistic=float(x2), p_value=float(p), summary=summary, summary_zh=summary_zh,
            family=self.family, kind="last_digit_preference" if scope == "region" else "last_digit_preference_year",
            effect=float(excess),
            evidence={"test": "last digit, uniform", "n": n, "chi2": float(x2), "chi2_df": df,
                      "share_0_5": share05, "expected_share_0_5": 0.2, "over_represented": over_txt,
                      "excess_mad": float(excess), "digits": digits, "band": "expected count ± 1.96 binomial s.d.",
                      "indicators": indicators, "scope": scope},
        )
