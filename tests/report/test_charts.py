"""Charts degrade gracefully and are deterministic (detect/report/charts.py)."""

from __future__ import annotations

import math

from detect.report import charts


def test_period_x():
    assert charts.period_x("2015") == 2015
    assert charts.period_x("2015Q3") == 2015.5
    assert charts.period_x("2015-07") == 2015.5
    assert charts.period_x("soon") is None


def test_absent_evidence_gives_no_chart():
    assert charts.time_series(None, lang="zh") is None
    assert charts.time_series({"2015": 1.0}, lang="zh") is None
    assert charts.time_series({"2015": None, "2016": "x"}, lang="en") is None
    assert charts.proxy_comparison({"2015": 1, "2016": 2}, {"2015": 1}, lang="en", label="a", proxy_label="b") is None
    assert charts.digit_chart([], None, lang="en") is None
    assert charts.debt_trajectory(None, lang="en") is None
    assert charts.growth_comparison({}, lang="en") is None
    assert charts.ranked_regions([("a", 0.0, "info")], "en") is None


def test_digit_band_marks_digits_outside():
    """Bars outside expected ± 1.96 sqrt(e(1-e)/n) are drawn red, the others blue."""
    e = [math.log10(1 + 1 / d) for d in range(1, 10)]
    obs = list(e)
    obs[4] = e[4] - 0.05         # digit 5: far outside the band at n = 1000 (half-width 0.017)
    obs[5] = e[5] + 0.05         # digit 6 (the legend's patch takes the first bar's colour: digit 1)
    s = sum(obs)
    rows = [{"digit": d, "observed": o / s, "expected": x} for d, o, x in zip(range(1, 10), obs, e)]
    svg = charts.digit_chart(rows, 1000, lang="en")
    assert svg.count("fill: #c0392b") == 2
    # at n = 50 the band is wider (half-widths 0.075 at digit 5, 0.069 at digit 6): nothing is outside
    assert charts.digit_chart(rows, 50, lang="en").count("fill: #c0392b") == 0


def test_svg_deterministic_and_mathtext_safe():
    kw = dict(lang="zh", title="$x$ 标题", flagged=[(2016.0, 2016.0)], breaks=[2017.0])
    s = {str(y): 100 + y % 7 for y in range(2010, 2020)}
    a, b = charts.time_series(s, **kw), charts.time_series(s, **kw)
    assert a == b and "<svg" in a
    assert charts.ranked_regions([("$a$ 省 $", 2.0, "high")], "zh")


def test_grade_line_labels_do_not_overlap():
    """On a debt ratio reaching 500 % the 100% and 120% labels at the right edge were drawn on top of
    each other; each label keeps at least its own height (7 pt) from the next."""
    import re

    h = {str(2014 + k): 0.7 + 0.5 * k for k in range(9)}
    svg = charts.debt_trajectory(h, lang="en", grade_lines={"100%": 1.0, "120%": 1.2, "200%": 2.0, "300%": 3.0})
    ys = sorted(float(m.group(1)) for m in re.finditer(r'font-size: 7px[^>]*y="([\d.]+)"[^>]*>\d+%</text>', svg))
    assert len(ys) == 4
    assert min(b - a for a, b in zip(ys, ys[1:])) >= 8.0, ys


def test_line_breaks_at_missing_years():
    """The atlas' debt balance of 巴彦淖尔市 is reported for 2018-2020 and 2025: the chart drew one
    straight line from 2020 to 2025 as if the years between were reported. The line stops at a gap."""
    import re

    def segments(svg: str) -> int:
        # the reported series is the only line drawn in the main colour; count its path pieces (M commands)
        paths = re.findall(r'<path d="([^"]+)"[^>]*style="fill: none; stroke: #1f4e79; stroke-width: 1\.6', svg)
        return sum(p.count("M") for p in paths)

    gap = {"2018": 306.0, "2019": 330.0, "2020": 415.0, "2025": 735.0}
    whole = {str(y): 300.0 + 20 * k for k, y in enumerate(range(2018, 2026))}
    one = segments(charts.time_series(whole, lang="zh"))   # the series and its legend handle
    assert one >= 1
    assert segments(charts.time_series(gap, lang="zh")) == one + 1
    assert segments(charts.time_series({**gap, "2021": None}, lang="zh")) == one + 1
