"""Server-rendered SVG charts: no JavaScript, no external assets, no inline styles.

The page's Content-Security-Policy forbids `style=` attributes, so colours are SVG presentation
attributes (`fill=`, `stroke=`), which are not styles, plus classes that static/css/analytics.css
may refine. Every chart has `role="img"`, a `<title>` and a `<desc>`; pages still render a table
with the same numbers for readers who cannot see the chart.

All text that reaches the markup goes through `escape`, so labels may be user-supplied.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = int | float

COLOR_BAR = "#1f4e79"
COLOR_LOWER = "#b42318"
COLOR_HIGHER = "#2f7d5b"
COLOR_SAME = "#5b6776"
COLOR_REFERENCE = "#e0a100"
COLOR_AXIS = "#98a2b3"
COLOR_TEXT = "#1d2733"
FONT = "-apple-system, Segoe UI, Roboto, Arial, sans-serif"

# Bar labels: the label column grows with the longest label up to this share of the width;
# a label still too long for it is ellipsized to fit (the full name is in the row's <title>).
MAX_LABEL_SHARE = 0.45
# Advance widths in em of a sans-serif face (Arial/Helvetica metrics, rounded up): an SVG
# cannot measure its own text, so labels are fitted from these. Anything not listed counts
# as a wide character, so a fitted label errs on the short side.
_NARROW = frozenset("iljtfI.,;:!|'()[] ")
_MEDIUM = frozenset("abcdeghknopqrsuvxyzJ0123456789-/+")
_WIDE_LOWER = frozenset("mw")
_WIDEST = frozenset("MW…%@")

_VERDICT_COLORS = {"lower": COLOR_LOWER, "higher": COLOR_HIGHER, "same": COLOR_SAME}


def _fmt(x: Number) -> str:
    """Coordinates with at most 1 decimal, so the markup stays small and stable."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def text_width(text: str, font_size: Number) -> float:
    """A generous estimate of the rendered width of `text` in px (see _NARROW above)."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.32
        elif ch in _MEDIUM:
            em += 0.58
        elif ch in _WIDE_LOWER:
            em += 0.87
        elif ch in _WIDEST:
            em += 1.02
        else:
            em += 0.78  # capitals and anything else
    return em * font_size


def fit_label(text: str, room: Number, font_size: Number) -> str:
    """`text`, or its longest prefix followed by "…" that fits in `room` px."""
    if text_width(text, font_size) <= room:
        return text
    cut = len(text)
    while cut > 0 and text_width(text[:cut].rstrip() + "…", font_size) > room:
        cut -= 1
    return text[:cut].rstrip() + "…"


def _chart_id(kind: str, title: str, payload: object) -> str:
    digest = hashlib.sha1(f"{kind}|{title}|{payload!r}".encode(), usedforsecurity=False)
    return f"chart-{kind}-{digest.hexdigest()[:10]}"


def _open(*, kind: str, title: str, desc: str, width: Number, height: Number, payload) -> str:
    cid = _chart_id(kind, title, payload)
    return (
        f'<svg class="chart chart-{kind}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {_fmt(width)} {_fmt(height)}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{cid}-t {cid}-d" '
        f'font-family="{FONT}" font-size="12" fill="{COLOR_TEXT}">'
        f'<title id="{cid}-t">{escape(title)}</title><desc id="{cid}-d">{escape(desc)}</desc>'
    )


def verdict(*, low: float | None, high: float | None, reference: float | None) -> str | None:
    """ "lower"/"higher" only when the interval [low, high] excludes the reference, else "same"."""
    if low is None or high is None or reference is None:
        return None
    if high < reference:
        return "lower"
    if low > reference:
        return "higher"
    return "same"


def bar_chart(
    *,
    title: str,
    rows: Sequence[tuple[str, Number, Number | None, Number | None]],
    reference: Number | None = None,
    reference_label: str = "Overall",
    max_value: Number = 100,
    unit: str = "%",
    desc: str | None = None,
    width: int = 640,
    label_width: int | None = None,
) -> SafeString:
    """Horizontal bars with an optional interval whisker per row and a reference line.

    rows: (label, value, low, high); low/high may be None for no whisker. With a reference, a
    bar whose interval lies wholly below it is drawn as "lower", above it as "higher".
    The label column is as wide as the longest label needs (at least 200 px, at most
    MAX_LABEL_SHARE of the width); a label longer than that is ellipsized, never cut.
    """
    row_h, top, bottom = 26, 8, 28
    label_font, label_pad = 12, 8
    if label_width is None:
        longest = max((text_width(label, label_font) for label, *_ in rows), default=0)
        label_width = round(min(max(200, longest + label_pad + 4), width * MAX_LABEL_SHARE))
    plot_w = width - label_width - 60
    height = top + bottom + row_h * max(len(rows), 1)

    def x(v: Number) -> float:
        return label_width + plot_w * max(0.0, min(float(v), max_value)) / max_value

    if desc is None:
        parts = [
            f"{label}: {_fmt(value)}{unit}"
            + (
                f" (range {_fmt(low)} to {_fmt(high)})"
                if low is not None and high is not None
                else ""
            )
            for label, value, low, high in rows
        ]
        if reference is not None:
            parts.append(f"{reference_label}: {_fmt(reference)}{unit}")
        desc = "; ".join(parts) or "No data."
    out = [_open(kind="bar", title=title, desc=desc, width=width, height=height, payload=rows)]
    if not rows:
        out.append(f'<text x="8" y="{top + 16}" class="chart-empty">No data yet.</text></svg>')
        return mark_safe("".join(out))  # noqa: S308 - every value above is escaped or numeric

    axis_y = top + row_h * len(rows)
    for tick in range(0, 101, 25):
        tv = max_value * tick / 100
        tx = _fmt(x(tv))
        out.append(
            f'<line x1="{tx}" y1="{top}" x2="{tx}" y2="{axis_y}" stroke="{COLOR_AXIS}" '
            f'stroke-width="0.5" class="chart-grid"/>'
            f'<text x="{tx}" y="{axis_y + 14}" text-anchor="middle" font-size="10">'
            f"{_fmt(tv)}{escape(unit)}</text>"
        )
    for i, (label, value, low, high) in enumerate(rows):
        y = top + i * row_h
        kind = verdict(low=low, high=high, reference=reference) or "plain"
        fill = _VERDICT_COLORS.get(kind, COLOR_BAR)
        short = fit_label(label, label_width - label_pad, label_font)
        out.append(
            f'<g class="chart-row chart-{kind}"><title>{escape(label)}</title>'
            f'<text x="{label_width - label_pad}" y="{_fmt(y + row_h / 2 + 4)}" text-anchor="end">'
            f"{escape(short)}</text>"
            f'<rect x="{label_width}" y="{_fmt(y + 5)}" width="{_fmt(x(value) - label_width)}" '
            f'height="{row_h - 10}" fill="{fill}" fill-opacity="0.85" rx="2"/>'
        )
        if low is not None and high is not None:
            cy = _fmt(y + row_h / 2)
            out.append(
                f'<line x1="{_fmt(x(low))}" y1="{cy}" x2="{_fmt(x(high))}" y2="{cy}" '
                f'stroke="{COLOR_TEXT}" stroke-width="1.5" class="chart-interval"/>'
                f'<line x1="{_fmt(x(low))}" y1="{_fmt(y + 8)}" x2="{_fmt(x(low))}" '
                f'y2="{_fmt(y + row_h - 8)}" stroke="{COLOR_TEXT}" stroke-width="1.5"/>'
                f'<line x1="{_fmt(x(high))}" y1="{_fmt(y + 8)}" x2="{_fmt(x(high))}" '
                f'y2="{_fmt(y + row_h - 8)}" stroke="{COLOR_TEXT}" stroke-width="1.5"/>'
            )
        out.append(
            f'<text x="{_fmt(width - 52)}" y="{_fmt(y + row_h / 2 + 4)}" font-size="11">'
            f"{_fmt(value)}{escape(unit)}</text></g>"
        )
    if reference is not None:
        rx = _fmt(x(reference))
        out.append(
            f'<line x1="{rx}" y1="{top - 4}" x2="{rx}" y2="{axis_y}" stroke="{COLOR_REFERENCE}" '
            f'stroke-width="2" stroke-dasharray="4 3" class="chart-reference"/>'
            f'<text x="{rx}" y="{axis_y + 26}" text-anchor="middle" font-size="10">'
            f"{escape(reference_label)} {_fmt(reference)}{escape(unit)}</text>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped or numeric


def line_chart(
    *,
    title: str,
    points: Sequence[tuple[str, Number]],
    y_max: Number = 100,
    unit: str = "%",
    reference: Number | None = None,
    reference_label: str = "",
    desc: str | None = None,
    width: int = 640,
    height: int = 220,
    y_min: Number = 0,
    intervals: Sequence[tuple[Number, Number]] | None = None,
) -> SafeString:
    """A line over ordered points (label, value), e.g. percent correct per finished exam.

    `intervals`, one (low, high) per point, draws each point's interval as a whisker (a
    predicted score's band); `y_min` lifts the axis off zero for a scale such as 1-300.
    """
    left, right, top, bottom = 44, 16, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    if desc is None:
        desc = "; ".join(f"{label}: {_fmt(v)}{unit}" for label, v in points) or "No data."
    out = [_open(kind="line", title=title, desc=desc, width=width, height=height, payload=points)]
    if not points:
        out.append(f'<text x="8" y="{top + 16}" class="chart-empty">No data yet.</text></svg>')
        return mark_safe("".join(out))  # noqa: S308 - escaped

    def y(v: Number) -> float:
        share = (max(float(y_min), min(float(v), y_max)) - y_min) / (y_max - y_min)
        return top + plot_h * (1 - share)

    step = plot_w / (len(points) - 1) if len(points) > 1 else 0

    def x(i: int) -> float:
        return left + (i * step if len(points) > 1 else plot_w / 2)

    for tick in range(0, 101, 25):
        tv = y_min + (y_max - y_min) * tick / 100
        ty = _fmt(y(tv))
        out.append(
            f'<line x1="{left}" y1="{ty}" x2="{width - right}" y2="{ty}" stroke="{COLOR_AXIS}" '
            f'stroke-width="0.5" class="chart-grid"/>'
            f'<text x="{left - 6}" y="{_fmt(y(tv) + 4)}" text-anchor="end" font-size="10">'
            f"{_fmt(tv)}{escape(unit)}</text>"
        )
    if reference is not None:
        ry = _fmt(y(reference))
        out.append(
            f'<line x1="{left}" y1="{ry}" x2="{width - right}" y2="{ry}" '
            f'stroke="{COLOR_REFERENCE}" stroke-width="1.5" stroke-dasharray="4 3" '
            f'class="chart-reference"/>'
            f'<text x="{width - right}" y="{_fmt(y(reference) - 4)}" text-anchor="end" '
            f'font-size="10">{escape(reference_label)}</text>'
        )
    for i, (low, high) in enumerate(intervals or []):
        out.append(
            f'<line x1="{_fmt(x(i))}" y1="{_fmt(y(low))}" x2="{_fmt(x(i))}" y2="{_fmt(y(high))}" '
            f'stroke="{COLOR_SAME}" stroke-width="2" class="chart-interval"/>'
        )
    coords = " ".join(f"{_fmt(x(i))},{_fmt(y(v))}" for i, (_, v) in enumerate(points))
    out.append(
        f'<polyline points="{coords}" fill="none" stroke="{COLOR_BAR}" stroke-width="2" '
        f'class="chart-line"/>'
    )
    label_every = max(1, math.ceil(len(points) / 8))
    for i, (label, v) in enumerate(points):
        out.append(
            f'<circle cx="{_fmt(x(i))}" cy="{_fmt(y(v))}" r="3.5" fill="{COLOR_BAR}">'
            f"<title>{escape(label)}: {_fmt(v)}{escape(unit)}</title></circle>"
        )
        if i % label_every == 0 or i == len(points) - 1:
            out.append(
                f'<text x="{_fmt(x(i))}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="10">{escape(label)}</text>'
            )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped or numeric


def histogram(
    *,
    title: str,
    values: Sequence[Number],
    bins: int = 10,
    value_range: tuple[Number, Number] = (0, 100),
    marker: Number | None = None,
    marker_label: str = "You",
    unit: str = "%",
    desc: str | None = None,
    width: int = 640,
    height: int = 200,
) -> SafeString:
    """Counts of values in equal-width bins over value_range, with an optional marker line."""
    lo, hi = value_range
    left, right, top, bottom = 36, 16, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    bin_w = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        index = int((float(v) - lo) / bin_w) if bin_w else 0
        counts[max(0, min(bins - 1, index))] += 1
    if desc is None:
        desc = "; ".join(
            f"{_fmt(lo + i * bin_w)} to {_fmt(lo + (i + 1) * bin_w)}{unit}: {c}"
            for i, c in enumerate(counts)
        ) + (f"; {marker_label}: {_fmt(marker)}{unit}" if marker is not None else "")
    out = [
        _open(
            kind="hist",
            title=title,
            desc=desc,
            width=width,
            height=height,
            payload=(counts, marker),
        )
    ]
    top_count = max(counts) or 1
    col_w = plot_w / bins
    for i, c in enumerate(counts):
        h = plot_h * c / top_count
        out.append(
            f'<rect x="{_fmt(left + i * col_w + 1)}" y="{_fmt(top + plot_h - h)}" '
            f'width="{_fmt(col_w - 2)}" height="{_fmt(h)}" fill="{COLOR_BAR}" fill-opacity="0.6" '
            f'class="chart-bin"><title>{_fmt(lo + i * bin_w)} to {_fmt(lo + (i + 1) * bin_w)}'
            f"{escape(unit)}: {c}</title></rect>"
        )
    for i in range(0, bins + 1, max(1, bins // 5)):
        out.append(
            f'<text x="{_fmt(left + i * col_w)}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="10">{_fmt(lo + i * bin_w)}{escape(unit)}</text>'
        )
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{COLOR_AXIS}"/>'
    )
    if marker is not None and hi > lo:
        mx = _fmt(left + plot_w * (max(lo, min(float(marker), hi)) - lo) / (hi - lo))
        out.append(
            f'<line x1="{mx}" y1="{top}" x2="{mx}" y2="{top + plot_h}" stroke="{COLOR_REFERENCE}" '
            f'stroke-width="2.5" class="chart-marker"/>'
            f'<text x="{mx}" y="{height - 6}" text-anchor="middle" font-size="11" '
            f'font-weight="bold">{escape(marker_label)} {_fmt(marker)}{escape(unit)}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped or numeric
