"""Result objects of the digit tests: a test is its own result (lazy statistics, one summary).

:class:`BenfordResult` is built from :class:`detect.digits.counts.DigitCounts` (and, when the values
are in memory, the per-value digit codes, so that suspect digit groups come with the records behind
them). Every statistic is computed on first access; ``summary()`` is the one place the text and HTML
forms come from (``__str__``, ``__repr__`` and ``_repr_html_`` route through it).
"""

from __future__ import annotations

import html
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from detect.config import Config, load_config, threshold
from detect.digits.counts import DigitCounts
from detect.digits.stats import (BENFORD_TESTS, chi_square, conformity, digit_groups, expected_mad,
                                 expected_proportions, ks_kuiper, ks_kuiper_pvalues, mad, min_n_for, z_scores)

_MAD_KEY = {"first": "mad_first", "second": "mad_second", "first-two": "mad_first_two",
            "first-three": "mad_first_three"}
_TITLE = {"first": "first digit", "second": "second digit", "first-two": "first-two digits",
          "first-three": "first-three digits", "last": "last digit (reported precision)",
          "last-two": "last-two digits (reported precision)"}


class Summary:
    """Text and HTML forms of a result: a title, ``(label, value)`` lines and an optional table."""

    def __init__(self, title: str, lines: list[tuple[str, str]], table: pd.DataFrame | None = None,
                 notes: list[str] | None = None) -> None:
        self.title, self.lines, self.table, self.notes = title, lines, table, notes or []

    def as_text(self) -> str:
        width = max((len(k) for k, _ in self.lines), default=0)
        out = [self.title, "=" * len(self.title)]
        out += [f"{k:<{width}}  {v}" for k, v in self.lines]
        if self.table is not None and len(self.table):
            out += ["", self.table.to_string(index=False, float_format=lambda x: f"{x:.6g}")]
        out += [f"Note: {n}" for n in self.notes]
        return "\n".join(out)

    def as_html(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                       f"{html.escape(v)}</td></tr>" for k, v in self.lines)
        tab = self.table.to_html(index=False, float_format=lambda x: f"{x:.6g}") \
            if self.table is not None and len(self.table) else ""
        notes = "".join(f"<p><em>Note:</em> {html.escape(n)}</p>" for n in self.notes)
        return f"<h4>{html.escape(self.title)}</h4><table>{rows}</table>{tab}{notes}"

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


class _Result:
    """Routes ``__str__``, ``__repr__`` and ``_repr_html_`` through ``summary()``."""

    def summary(self) -> Summary:  # pragma: no cover - interface
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def _num(x: Any) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


class BenfordResult(_Result):
    """Result of one digit test.

    Parameters
    ----------
    counts : DigitCounts
        Counts of the digit groups and of the values left out.
    config : Config, optional
        Thresholds (conformity cut-offs, minimum counts), Monte Carlo draws and seed.
    codes, index : arrays, optional
        Per-value digit group codes (-1 where left out; or a callable returning them, called the
        first time ``suspects`` is read) and the record labels, for ``suspects``.
    label : str, optional
        What was tested (a column or group name), shown in the summary.
    notes : list of str, optional

    Notes
    -----
    ``applicable`` is False, with ``reason``, when there are fewer values than give every digit
    group an expected count of ``digits.min_expected`` (Cochran 1954), or, for the leading-digit
    tests, when the values span fewer than ``digits.min_orders`` orders of magnitude between their
    1st and 99th percentiles. Statistics are then None: no number is given for a test that does
    not apply.
    """

    null_hypothesis = "The digits follow the expected distribution (Benford's law, or uniform last digits)."
    alternative_hypothesis = "The digit distribution differs from the expected one."

    def __init__(self, counts: DigitCounts, config: Config | None = None, *, codes: np.ndarray | None = None,
                 index: Any = None, label: str = "", notes: list[str] | None = None) -> None:
        self._counts = counts
        self._config = config if config is not None else load_config()
        self._codes = codes
        self._index = index
        self.label = label
        self.notes = list(notes or []) + self._short_value_notes()

    def _short_value_notes(self) -> list[str]:
        """Nigrini (2012) reads the second, first-two and first-three digits of values of at least
        10 (100 for first-three): a smaller value written with fewer digits is padded (5 -> 50)."""
        k = {"second": 2, "first-two": 2, "first-three": 3}.get(self._counts.test)
        if k is None:
            return []
        n_short = self._counts.n_below(k - 1)
        if not n_short:
            return []
        lim = 10 ** (k - 1)
        return [f"{n_short} of the {self.n} values tested are below {lim}: one written with fewer than {k} "
                f"significant digits is read with zeros appended (5 as {5 * lim}). Nigrini (2012) tests "
                f"{_TITLE[self.test]} on values of at least {lim} (pass min_value={lim}) unless the small values "
                "carry their digits in decimals (0.29, 3.45)."]

    # --- plain attributes ----------------------------------------------------------------------
    @property
    def test(self) -> str:
        return self._counts.test

    @property
    def counts(self) -> DigitCounts:
        return self._counts

    @property
    def n(self) -> int:
        """Number of values tested."""
        return self._counts.n

    @cached_property
    def digits(self) -> np.ndarray:
        return digit_groups(self.test)

    @cached_property
    def expected(self) -> np.ndarray:
        """Expected proportions of the digit groups."""
        return expected_proportions(self.test)

    @cached_property
    def min_n(self) -> int:
        return min_n_for(self.test, float(threshold("digits.min_expected", self._config)))

    @cached_property
    def orders_of_magnitude(self) -> float:
        """``log10(P99 / P1)`` of the tested values."""
        return self._counts.orders_of_magnitude()

    @cached_property
    def _applicability(self) -> tuple[bool, str]:
        n = self.n
        if n < self.min_n:
            return False, (f"{n} values tested; the {_TITLE[self.test]} test needs at least {self.min_n} "
                           f"(an expected count of {threshold('digits.min_expected', self._config):g} "
                           "in every digit group)")
        if self.test in BENFORD_TESTS:
            need = float(threshold("digits.min_orders", self._config))
            span = self.orders_of_magnitude
            if not span >= need:
                return False, (f"the values span {span:.1f} orders of magnitude between their 1st and 99th "
                               f"percentiles; Benford's law is expected only of data spanning at least {need:g}")
        return True, ""

    @property
    def applicable(self) -> bool:
        return self._applicability[0]

    @property
    def reason(self) -> str:
        """Why the test does not apply ('' when it does)."""
        return self._applicability[1]

    # --- statistics (None when not applicable) --------------------------------------------------
    @cached_property
    def mad(self) -> float | None:
        """Mean absolute deviation of observed from expected proportions."""
        return mad(self._counts.counts, self.expected) if self.applicable else None

    @cached_property
    def mad_cutoffs(self) -> tuple[float, float, float] | None:
        key = _MAD_KEY.get(self.test)
        return tuple(threshold(f"digits.{key}", self._config)) if key else None

    @cached_property
    def conformity(self) -> str | None:
        """Nigrini's conformity level (None for last-digit tests, which have no published cut-offs)."""
        return conformity(self.mad, self.mad_cutoffs) if self.applicable else None

    @cached_property
    def expected_mad(self) -> float | None:
        """Expected MAD under the null for this n (de Moivre's exact binomial formula)."""
        return expected_mad(self.n, self.expected) if self.applicable else None

    @cached_property
    def excess_mad(self) -> float | None:
        """MAD minus its expectation under the null for this n (comparable across sample sizes)."""
        return self.mad - self.expected_mad if self.applicable else None

    @cached_property
    def _chi2(self) -> tuple[float, int, float] | None:
        return chi_square(self._counts.counts, self.expected) if self.applicable else None

    @property
    def chi2(self) -> float | None:
        return self._chi2[0] if self._chi2 else None

    @property
    def chi2_df(self) -> int | None:
        return self._chi2[1] if self._chi2 else None

    @property
    def p_value(self) -> float | None:
        """p-value of the chi-square test."""
        return self._chi2[2] if self._chi2 else None

    @cached_property
    def _ks(self) -> tuple[float, float] | None:
        return ks_kuiper(self._counts.counts, self.expected) if self.applicable else None

    @property
    def ks(self) -> float | None:
        """Kolmogorov-Smirnov D on the cumulative digit proportions (digit order)."""
        return self._ks[0] if self._ks else None

    @property
    def kuiper(self) -> float | None:
        """Kuiper V on the cumulative digit proportions."""
        return self._ks[1] if self._ks else None

    @cached_property
    def mc_draws(self) -> int:
        return int(threshold("digits.mc_draws", self._config))

    @cached_property
    def _ks_p(self) -> tuple[float, float] | None:
        if not self.applicable:
            return None
        return ks_kuiper_pvalues(self._counts.counts, self.expected, self.mc_draws, self._config.seed)

    @property
    def ks_p_value(self) -> float | None:
        """Monte Carlo p-value of KS for the discrete digit distribution (seeded by config.seed)."""
        return self._ks_p[0] if self._ks_p else None

    @property
    def kuiper_p_value(self) -> float | None:
        """Monte Carlo p-value of Kuiper's V (seeded by config.seed)."""
        return self._ks_p[1] if self._ks_p else None

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per digit group: ``digit, count, observed, expected, z`` (z NaN when not applicable)."""
        c = self._counts.counts
        n = max(self.n, 1)
        z = z_scores(c, self.expected) if self.applicable else np.full(len(c), np.nan)
        return pd.DataFrame({"digit": self.digits, "count": c, "observed": c / n,
                             "expected": self.expected, "z": z})

    @cached_property
    def suspects(self) -> pd.DataFrame:
        """Digit groups with significantly more values than expected (Z > ``digits.z_critical``),
        largest Z first, with ``records``: the labels of the records behind them (when known)."""
        cols = ["digit", "count", "expected_count", "z", "records"]
        if not self.applicable:
            return pd.DataFrame(columns=cols)
        zc = float(threshold("digits.z_critical", self._config))
        t = self.table
        hit = t[t["z"] > zc].sort_values(["z", "digit"], ascending=[False, True], kind="mergesort")
        recs = []
        if callable(self._codes):
            self._codes = self._codes()
        for d in hit["digit"]:
            if self._codes is None:
                recs.append(None)
                continue
            pos = np.flatnonzero(self._codes == d - self.digits[0])
            recs.append(list(pos) if self._index is None else list(np.asarray(self._index)[pos]))
        return pd.DataFrame({"digit": hit["digit"].to_numpy(), "count": hit["count"].to_numpy(),
                             "expected_count": hit["expected"].to_numpy() * self.n, "z": hit["z"].to_numpy(),
                             "records": recs}, columns=cols)

    # --- output ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form (keys: n, mad, conformity, chi2, chi2_df, p_value, ks, applicable, reason, digits)."""
        digits = []
        if self.applicable:
            digits = [{"digit": int(r.digit), "count": int(r.count), "observed": float(r.observed),
                       "expected": float(r.expected), "z": float(r.z)} for r in self.table.itertuples()]
        return {"n": self.n, "mad": _num(self.mad), "conformity": self.conformity, "chi2": _num(self.chi2),
                "chi2_df": self.chi2_df, "p_value": _num(self.p_value), "ks": _num(self.ks),
                "applicable": self.applicable, "reason": self.reason, "digits": digits}

    def summary(self) -> Summary:
        title = f"Digit test: {_TITLE[self.test]}" + (f" — {self.label}" if self.label else "")
        ex = self._counts.exclusions()
        excl = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in ex.items())
        lines = [("Null hypothesis", self.null_hypothesis),
                 ("Values tested (n)", f"{self.n}" + (f" (left out: {excl})" if excl else ""))]
        if not self.applicable:
            lines.append(("Applicable", f"no — {self.reason}"))
            return Summary(title, lines, None, self.notes)
        cut = ""
        if self.mad_cutoffs:
            cut = f"; Nigrini cut-offs {' / '.join(f'{c:g}' for c in self.mad_cutoffs)}"
        lines += [
            ("MAD", f"{self.mad:.6g} ({self.conformity or 'no published conformity levels'}{cut})"),
            ("Expected MAD (this n)", f"{self.expected_mad:.6g}; excess MAD {self.excess_mad:+.6g}"),
            ("Chi-square", f"{self.chi2:.4f} on {self.chi2_df} df, p = {self.p_value:.4g}"),
            ("Kolmogorov-Smirnov D", f"{self.ks:.6g}, Monte Carlo p = {self.ks_p_value:.4g} ({self.mc_draws} draws)"),
            ("Kuiper V", f"{self.kuiper:.6g}, Monte Carlo p = {self.kuiper_p_value:.4g}"),
            ("Orders of magnitude", f"{self.orders_of_magnitude:.1f} (log10 P99/P1)"),
        ]
        s = self.suspects
        if len(s):
            top = ", ".join(f"{int(r.digit)} (z = {r.z:.1f})" for r in s.head(10).itertuples())
            lines.append(("Suspect digit groups", top + (" …" if len(s) > 10 else "")))
        else:
            lines.append(("Suspect digit groups", "none"))
        return Summary(title, lines, self.table, self.notes)


class SimpleResult(_Result):
    """A named set of statistics with a summary (mantissa arc, distortion factor)."""

    def __init__(self, title: str, null_hypothesis: str, values: dict[str, Any], notes: list[str] | None = None,
                 table: pd.DataFrame | None = None) -> None:
        self.title = title
        self.null_hypothesis = null_hypothesis
        self._values = dict(values)
        self.notes = list(notes or [])
        self.table = table

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def to_dict(self) -> dict[str, Any]:
        return {k: (_num(v) if isinstance(v, (float, np.floating)) else v) for k, v in self._values.items()}

    def summary(self) -> Summary:
        lines = [("Null hypothesis", self.null_hypothesis)]
        for k, v in self._values.items():
            lines.append((k, f"{v:.6g}" if isinstance(v, (float, np.floating)) else str(v)))
        return Summary(self.title, lines, self.table, self.notes)


__all__ = ["BenfordResult", "SimpleResult", "Summary"]
