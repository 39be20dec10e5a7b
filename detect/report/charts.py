"""Charts of the report, drawn with matplotlib from the findings' evidence as SVG text.

Every function takes plain data (dicts of period -> value, lists of digit rows) and returns the SVG
as a string, or ``None`` when there is nothing to draw — a kind of evidence that is absent gives no
chart, never an error. Output is deterministic: text is drawn as paths with the report's font
(Noto Sans CJK), ids are salted with a fixed string and no date is written, so the same data give
the same bytes.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any, Iterable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from detect.report.fonts import register_matplotlib  # noqa: E402
from detect.report.i18n import t  # noqa: E402

SEVERITY_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#d4ac0d", "info": "#95a5a6"}
_MAIN = "#1f4e79"
_PROXY = "#2e8b57"
_FLAG = "#c0392b"
_GREY = "#7f8c8d"
#: Chart size in inches (width, height); the PDF scales them to the text width.
WIDE = (7.0, 2.45)

_STYLE = {
    "svg.fonttype": "none",        # text as text: typst draws it with the embedded report font
    "svg.hashsalt": "detect-report",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
    "axes.unicode_minus": False,
    "path.simplify": False,
}


def _rc() -> dict:
    fam = register_matplotlib()
    return {**_STYLE, "font.family": [fam]}


def plain(text: object) -> str:
    """Text shown as is by matplotlib: ``$`` would otherwise start mathtext (and an unbalanced
    formula raises)."""
    return str(text).replace("$", r"\$")


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    # fixed margins (set in _fig), no bbox_inches="tight": that draws the figure twice
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buf.getvalue()


_PERIOD = re.compile(r"^\s*(\d{4})(?:\s*(?:[Qq](\d)|-(\d{1,2})))?\s*$")


def _fig(size: tuple[float, float] = WIDE, left: float = 0.75, right: float = 0.12, bottom: float = 0.35,
         top: float = 0.3):
    """A figure with fixed margins in inches (room for tick labels, axis labels and the title):
    a fixed layout draws once, where ``bbox_inches="tight"`` would draw twice."""
    fig, ax = plt.subplots(figsize=size)
    w, h = size
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h)
    return fig, ax


def _text_width(text: str, size_pt: float = 8.5) -> float:
    """Approximate width in inches of ``text`` (CJK full width, Latin about half)."""
    em = size_pt / 72
    return sum(em if ord(ch) > 0x2E80 else 0.55 * em for ch in text)


def period_x(p: Any) -> float | None:
    """A period as a number on the time axis: ``2015`` -> 2015, ``2015Q3`` -> 2015.5, ``2015-07`` -> 2015.5."""
    if isinstance(p, (int, float)) and not isinstance(p, bool):
        return float(p) if math.isfinite(p) else None
    m = _PERIOD.match(str(p))
    if not m:
        return None
    y = float(m.group(1))
    if m.group(2):
        return y + (int(m.group(2)) - 1) / 4
    if m.group(3):
        return y + (int(m.group(3)) - 1) / 12
    return y


def as_points(series: Mapping[Any, Any] | None) -> list[tuple[float, float]]:
    """``{period: value}`` -> sorted ``[(x, value)]`` with missing and non-numeric values dropped."""
    if not isinstance(series, Mapping):
        return []
    out = []
    for k, v in series.items():
        x = period_x(k)
        try:
            y = float(v)
        except (TypeError, ValueError):
            continue
        if x is not None and math.isfinite(y):
            out.append((x, y))
    return sorted(out)


def with_gaps(pts: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """``(xs, ys)`` of a line with a NaN wherever periods are missing (a gap wider than the series'
    own step), so matplotlib breaks the line there instead of drawing unreported years."""
    xs = [p[0] for p in pts]
    steps = [b - a for a, b in zip(xs, xs[1:]) if b > a]
    step = min(steps) if steps else 1.0
    ox: list[float] = []
    oy: list[float] = []
    for i, (x, y) in enumerate(pts):
        if i and x - xs[i - 1] > 1.5 * step:
            ox.append((x + xs[i - 1]) / 2)
            oy.append(float("nan"))
        ox.append(x)
        oy.append(y)
    return ox, oy


def _in_ranges(x: float, ranges: Sequence[tuple[float, float]]) -> bool:
    return any(a - 1e-9 <= x <= b + 1e-9 for a, b in ranges)


def _year_axis(ax, xs: Iterable[float]) -> None:
    xs = list(xs)
    if not xs:
        return
    lo, hi = min(xs), max(xs)
    span = max(hi - lo, 1)
    step = 1 if span <= 12 else 2 if span <= 24 else 5
    start = math.ceil(lo / step) * step if step > 1 else math.ceil(lo)
    ticks = [v for v in range(int(start), int(math.floor(hi)) + 1, step)]
    if ticks:
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(v) for v in ticks])
    ax.set_xlim(lo - 0.5, hi + 0.5)


def ranked_regions(rows: Sequence[tuple[str, float, str]], lang: str) -> str | None:
    """Horizontal bars of the risk score of the top regions, coloured by their worst severity.

    Parameters
    ----------
    rows : list of (region label, risk score, worst severity), highest first
    """
    rows = [r for r in rows if r[1] > 0]
    if not rows:
        return None
    with plt.rc_context(_rc()):
        h = min(0.22 * len(rows) + 0.7, 6.5)
        longest = max(_text_width(r[0]) for r in rows)
        fig, ax = _fig((WIDE[0], h), left=min(longest + 0.2, 3.0), right=0.2, bottom=0.45, top=0.1)
        labels = [plain(r[0]) for r in rows][::-1]
        vals = [r[1] for r in rows][::-1]
        cols = [SEVERITY_COLOURS.get(r[2], _GREY) for r in rows][::-1]
        ax.barh(range(len(rows)), vals, color=cols, height=0.7)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(labels)
        ax.set_xlabel(t("ch_ranked_x", lang))
        ax.grid(axis="y", visible=False)
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:.2f}", va="center", fontsize=7)
        handles = [plt.Rectangle((0, 0), 1, 1, color=SEVERITY_COLOURS[s]) for s in ("high", "medium", "low")]
        ax.legend(handles, [t(f"sev_{s}", lang) for s in ("high", "medium", "low")], loc="lower right",
                  title=t("severity", lang), title_fontsize=7.5)
        ax.set_xlim(0, max(vals) * 1.12)
        return _svg(fig)


def time_series(series: Mapping[Any, Any] | None, *, lang: str, title: str = "",
                flagged: Sequence[tuple[float, float]] = (), breaks: Sequence[float] = (),
                expected: Mapping[Any, Any] | None = None, unit: str = "",
                expected_label: str = "") -> str | None:
    """The reported series with flagged periods marked in red, breaks as dashed lines and the
    test's expected values (where it gives them) as grey dashes. ``None`` with fewer than 2 points."""
    pts = as_points(series)
    if len(pts) < 2:
        return None
    exp = as_points(expected)
    with plt.rc_context(_rc()):
        fig, ax = _fig()
        xs, ys = zip(*pts)
        ax.plot(*with_gaps(pts), color=_MAIN, lw=1.6, marker="o", ms=3, label=t("ch_reported", lang), zorder=3)
        if len(exp) >= 1:
            ex, ey = with_gaps(exp)
            ax.plot(ex, ey, color=_GREY, lw=1.2, ls="--", marker=".", ms=3, label=plain(expected_label or t("ch_expected", lang)), zorder=2)
        fl = [(x, y) for x, y in pts if _in_ranges(x, flagged)]
        if fl:
            fx, fy = zip(*fl)
            ax.scatter(fx, fy, s=46, color=_FLAG, zorder=4, label=t("ch_flagged", lang),
                       edgecolors="white", linewidths=0.6)
        for a, b in flagged:
            if b > a:
                ax.axvspan(a - 0.5, b + 0.5, color=_FLAG, alpha=0.07, lw=0)
        for i, bx in enumerate(sorted(set(breaks))):
            ax.axvline(bx - 0.5, color=_FLAG, ls=(0, (4, 3)), lw=1.1,
                       label=t("ch_break", lang) if i == 0 else None, zorder=1)
        _year_axis(ax, list(xs) + [e[0] for e in exp])
        if unit and title:  # in the title, read horizontally (a rotated 亿元 reads sideways)
            title = f"{title}（{unit}）" if lang == "zh" else f"{title} ({unit})"
        elif unit:
            ax.set_ylabel(unit)
        if title:
            ax.set_title(plain(title), loc="left")
        ax.legend(loc="best", ncols=4)
        return _svg(fig)


def proxy_comparison(series: Mapping[Any, Any] | None, proxy: Mapping[Any, Any] | None, *, lang: str,
                     label: str, proxy_label: str, flagged: Sequence[tuple[float, float]] = (),
                     title: str = "") -> tuple[str, int] | None:
    """Reported series and its physical proxy, both indexed to 100 in their first common year.

    Returns ``(svg, base_year)``, or ``None`` with fewer than 3 common years or a non-positive base.
    """
    a, b = dict(as_points(series)), dict(as_points(proxy))
    common = sorted(set(a) & set(b))
    if len(common) < 3:
        return None
    base = common[0]
    if a[base] <= 0 or b[base] <= 0:
        return None
    with plt.rc_context(_rc()):
        fig, ax = _fig()
        xs = sorted(a)
        ax.plot(xs, [100 * a[x] / a[base] for x in xs], color=_MAIN, lw=1.6, marker="o", ms=3, label=plain(label))
        px = sorted(b)
        ax.plot(px, [100 * b[x] / b[base] for x in px], color=_PROXY, lw=1.6, marker="s", ms=3, label=plain(proxy_label))
        for lo, hi in flagged:
            ax.axvspan(lo - 0.5, hi + 0.5, color=_FLAG, alpha=0.10, lw=0)
        _year_axis(ax, xs + px)
        ax.set_ylabel(t("ch_index", lang, base=int(base)))
        if title:
            ax.set_title(plain(title), loc="left")
        ax.legend(loc="upper left")
        return _svg(fig), int(base)


def digit_chart(rows: Sequence[Mapping[str, Any]], n: int | None, *, lang: str, title: str = "",
                expected_name: str = "") -> str | None:
    """Observed digit shares as bars against the expected shares (Benford or uniform) with a 95 %
    band ``expected ± 1.96·sqrt(e(1−e)/n)``; bars outside the band are red.

    Parameters
    ----------
    rows : list of dict with ``digit``, ``observed`` (share or count) and ``expected`` (share)
    n : int, optional
        Number of values; taken as the sum of ``count`` (or of ``observed`` when they are counts).
    """
    clean = []
    for r in rows or ():
        try:
            d, o, e = r["digit"], float(r["observed"]), float(r["expected"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(o) and math.isfinite(e):
            clean.append((d, o, e, r.get("count")))
    if len(clean) < 2:
        return None
    obs_sum = sum(c[1] for c in clean)
    counts = [c[3] for c in clean]
    if n is None:
        if all(isinstance(c, (int, float)) for c in counts):
            n = int(sum(counts))
        elif obs_sum > 1.5:
            n = int(round(obs_sum))
    if obs_sum > 1.5:  # counts given as "observed": turn into shares
        clean = [(d, o / obs_sum, e, c) for d, o, e, c in clean]
    exp_sum = sum(c[2] for c in clean)
    if exp_sum > 1.5:
        clean = [(d, o, e / exp_sum, c) for d, o, e, c in clean]
    with plt.rc_context(_rc()):
        fig, ax = _fig(bottom=0.5)
        xs = list(range(len(clean)))
        exp = [c[2] for c in clean]
        obs = [c[1] for c in clean]
        if n and n > 0:
            half = [1.96 * math.sqrt(max(e * (1 - e), 0.0) / n) for e in exp]
            lo = [max(e - h, 0) for e, h in zip(exp, half)]
            hi = [e + h for e, h in zip(exp, half)]
            ax.fill_between(xs, lo, hi, step="mid", color="#bbbbbb", alpha=0.55, lw=0, label=t("ch_band", lang))
            out = [o < a or o > b for o, a, b in zip(obs, lo, hi)]
        else:
            out = [False] * len(obs)
        ax.bar(xs, obs, width=0.7, color=[_FLAG if f else _MAIN for f in out], label=t("ch_observed", lang),
               zorder=2)
        ax.plot(xs, exp, color="black", lw=1.1, marker="_" if len(xs) > 20 else "o", ms=3,
                label=plain(expected_name or t("ch_expected", lang)), zorder=3)
        labels = [str(c[0]) for c in clean]
        step = 1 if len(xs) <= 20 else 5 if len(xs) <= 100 else 50
        ax.set_xticks(xs[::step])
        ax.set_xticklabels([plain(x) for x in labels[::step]])
        ax.set_xlim(-0.7, len(xs) - 0.3)
        ax.set_xlabel(t("ch_digit", lang))
        ax.set_ylabel(t("ch_share", lang))
        ax.grid(axis="x", visible=False)
        if title:
            ax.set_title(plain(title), loc="left")
        ax.legend(loc="upper right", ncols=3)
        return _svg(fig)


def debt_trajectory(history: Mapping[Any, Any] | None, *, lang: str, title: str = "",
                    grade_lines: Mapping[str, float] | None = None,
                    fan: Mapping[Any, Sequence[float]] | None = None,
                    scenarios: Mapping[str, Mapping[Any, Any]] | None = None,
                    crossing: Mapping[str, Any] | None = None, ylabel: str = "") -> str | None:
    """Debt ratio history, projection fan (5th, 50th, 95th percentiles), stress scenarios and grade
    lines, with the first crossing years marked. Values are ratios (1.2 = 120 %); the axis is in %. ``None`` when there is neither history nor fan."""
    hist = as_points(history)
    fan_pts = []
    for k, v in (fan or {}).items():
        x = period_x(k)
        try:
            lo, mid, hi = (float(v[0]), float(v[1]), float(v[2])) if len(v) >= 3 else (float(v[0]), float("nan"), float(v[-1]))
        except (TypeError, ValueError, IndexError, KeyError):
            continue
        if x is not None and math.isfinite(lo) and math.isfinite(hi):
            fan_pts.append((x, lo, mid, hi))
    fan_pts.sort()
    if len(hist) < 2 and len(fan_pts) < 2:
        return None
    with plt.rc_context(_rc()):
        fig, ax = _fig(right=0.6)
        xs_all: list[float] = []
        if hist:
            hx, hy = zip(*hist)
            ax.plot(*with_gaps(hist), color=_MAIN, lw=1.8, marker="o", ms=3, label=t("ch_reported", lang), zorder=4)
            xs_all += list(hx)
        if fan_pts:
            fx = [p[0] for p in fan_pts]
            ax.fill_between(fx, [p[1] for p in fan_pts], [p[3] for p in fan_pts], color=_MAIN, alpha=0.15, lw=0,
                            label=t("ch_fan", lang))
            mids = [(p[0], p[2]) for p in fan_pts if math.isfinite(p[2])]
            if mids:
                ax.plot(*zip(*mids), color=_MAIN, lw=1.2, ls="--", label=t("ch_median", lang))
            xs_all += fx
        palette = ["#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#c0392b", "#2c3e50", "#27ae60", "#b7950b"]
        for i, (name, ser) in enumerate(sorted((scenarios or {}).items())):
            pts = as_points(ser)
            if len(pts) >= 2:
                ax.plot(*zip(*pts), color=palette[i % len(palette)], lw=0.9, ls=":", label=plain(name))
                xs_all += [p[0] for p in pts]
        gcol = {"green": "#27ae60", "yellow": "#d4ac0d", "orange": "#e67e22", "red": "#c0392b"}
        by_rank = ["#c0392b", "#e67e22", "#d4ac0d"]  # highest line red, then orange, then yellow
        gl = sorted(((str(k), _num(v)) for k, v in (grade_lines or {}).items() if math.isfinite(_num(v))),
                    key=lambda kv: -kv[1])
        lines = []
        for rank, (name, v) in enumerate(gl):
            c = next((col for key, col in gcol.items() if key in name.lower()),
                     by_rank[rank] if rank < len(by_rank) and len(gl) > 1 else _GREY)
            ax.axhline(v, color=c, lw=1.0, ls="-", alpha=0.9)
            lines.append((name, v, c))
        for name, yr in sorted((crossing or {}).items()):
            x = period_x(yr)
            if x is not None:
                ax.axvline(x, color=_FLAG, lw=0.7, ls=(0, (2, 2)), alpha=0.7)
        _year_axis(ax, xs_all)
        if len(ax.get_legend_handles_labels()[0]) > 3:  # room above the data for a legend of 2+ rows
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi + 0.22 * (hi - lo))
        _label_lines(ax, fig, lines)
        # ratios are drawn as shares (1.2) and read as percentages, like their grade lines ("120%")
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
        if ylabel:
            ax.set_ylabel(ylabel)
        if title:
            ax.set_title(plain(title), loc="left")
        ax.legend(loc="upper left", ncols=3)
        return _svg(fig)


#: Least distance (points) between two grade-line labels at the right edge of a debt chart.
_LABEL_GAP_PT = 8.0


def _label_lines(ax, fig, lines: Sequence[tuple[str, float, str]]) -> None:
    """Name each horizontal line at the right edge, highest first, nudging a label down when it
    would overlap the one above (120% and 100% on a chart reaching 500%)."""
    lo, hi = ax.get_ylim()
    if not lines or hi <= lo:
        return
    height_pt = ax.get_position().height * fig.get_figheight() * 72
    prev = math.inf
    for name, v, c in sorted(lines, key=lambda x: -x[1]):
        at = (v - lo) / (hi - lo) * height_pt
        pos = min(at, prev - _LABEL_GAP_PT)
        prev = pos
        ax.annotate(plain(name), xy=(1.0, v), xycoords=("axes fraction", "data"), fontsize=7, color=c,
                    ha="left", va="center", xytext=(2, pos - at), textcoords="offset points")


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def growth_comparison(reported: Mapping[Any, Any] | None, *, lang: str, implied: Mapping[Any, Any] | None = None,
                      proxies: Mapping[str, Mapping[Any, Any]] | None = None,
                      flagged: Sequence[tuple[float, float]] = (), title: str = "",
                      reported_label: str = "", implied_label: str = "") -> str | None:
    """Year-on-year growth (in %) of the reported figure, the growth its proxies imply, and each
    proxy's own growth; shaded: flagged periods. ``None`` with fewer than 3 reported points."""
    rep = as_points(reported)
    if len(rep) < 3:
        return None
    with plt.rc_context(_rc()):
        fig, ax = _fig()
        xs = [p[0] for p in rep]
        ax.plot(xs, [100 * p[1] for p in rep], color=_MAIN, lw=1.7, marker="o", ms=3,
                label=plain(reported_label or t("ch_reported", lang)), zorder=4)
        imp = as_points(implied)
        if len(imp) >= 2:
            ax.plot([p[0] for p in imp], [100 * p[1] for p in imp], color=_GREY, lw=1.3, ls="--", marker=".",
                    label=plain(implied_label or t("ch_expected", lang)), zorder=3)
        palette = [_PROXY, "#8e44ad", "#d35400", "#16a085"]
        for i, (name, ser) in enumerate(sorted((proxies or {}).items())):
            pts = as_points(ser)
            if len(pts) >= 2:
                ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], color=palette[i % len(palette)], lw=1.0,
                        marker="s", ms=2.5, alpha=0.85, label=plain(name), zorder=2)
                xs += [p[0] for p in pts]
        for lo, hi in flagged:
            ax.axvspan(lo - 0.5, hi + 0.5, color=_FLAG, alpha=0.10, lw=0)
        ax.axhline(0, color="black", lw=0.6)
        _year_axis(ax, xs)
        ax.set_ylabel(t("ch_growth", lang))
        if title:
            ax.set_title(plain(title), loc="left")
        ax.legend(loc="best", ncols=2)
        return _svg(fig)
