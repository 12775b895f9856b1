"""Charts drawn on the server as inline SVG, so a briefing's charts show in a PDF and in an e-mail without JavaScript.

Byte-stable by construction: coordinates are printed with one decimal (never "-0.0"), colours and styles are
presentation attributes (no stylesheet, no ids, so two charts on a page cannot clash), and nothing depends on the
clock or on iteration order other than the series' own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from services.reporting.briefings.snapshot import ChartPoint
from services.reporting.render.format import format_ticks, format_value, period_label

COLOURS = {
    "value": "#1f5fa8",
    "target": "#3d4550",
    "band": "#1a7f37",
    "grid": "#d9dee4",
    "axis": "#8a939d",
    "ink": "#3d4550",
    "muted": "#5f6b76",
}
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'

# The large chart: Cabinet panels and roundtable cards. The plot leaves room for tick labels (left), the legend
# (top) and the first and last period (bottom).
WIDTH, HEIGHT = 560, 200
LEFT, RIGHT, TOP, BOTTOM = 62, 14, 26, 26
INSET = 8  # keeps the first and last point off the plot's edges

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 28, 3


def _c(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def nice_ticks(low: float, high: float) -> tuple[list[float], float]:
    """3 to 5 round ticks (steps of 1, 2, 2.5 or 5 times a power of ten) covering [low, high]."""
    if not high > low:
        high = low + 1.0
    raw = (high - low) / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    while True:
        for multiple in (1.0, 2.0, 2.5, 5.0):
            step = multiple * magnitude
            first = math.floor(low / step + 1e-9) * step
            last = math.ceil(high / step - 1e-9) * step
            count = round((last - first) / step) + 1
            if count <= 5:
                ticks = [round(first + i * step, 12) + 0.0 for i in range(count)]
                return ticks, step
        magnitude *= 10


def _domain(numbers: list[float], unit: str) -> tuple[list[float], float]:
    # Zero-based, like the app's charts, so a small change is not drawn as a cliff; headroom above the top value,
    # but a percent axis does not run past 100% unless the data does. When everything sits in a narrow band far
    # from zero (a call-answer rate between 87% and 93%) a zero-based axis would draw a flat line and hide the very
    # movement around the target a briefing is about, so the axis then spans the data (the rule spreadsheets use:
    # the spread is under a sixth of the largest magnitude).
    smallest, largest = min(numbers), max(numbers)
    same_sign = smallest > 0 or largest < 0
    magnitude = max(abs(smallest), abs(largest))
    if same_sign and largest > smallest and (largest - smallest) < magnitude / 6:
        pad = (largest - smallest) * 0.15
        return nice_ticks(smallest - pad, largest + pad)
    low = min(0.0, smallest)
    top = max(0.0, largest)
    high = top + (top - low) * 0.08 if top > low else low + 1.0
    if unit == "percent" and top <= 1:
        high = min(1.0, high)
    return nice_ticks(low, high)


def _runs(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Consecutive known points: a missing period is a visible gap, not a line drawn across it."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def _band(target: float, tolerance: float, direction: str) -> tuple[float, float]:
    """The near-target zone, as the status rule reads it (services' DESIGN: status of a value against its target)."""
    if direction == "lower_is_better":
        return target, target + tolerance
    if direction == "closer_is_better":
        return target - tolerance, target + tolerance
    return target - tolerance, target


def _latest(series: Sequence[ChartPoint]) -> ChartPoint | None:
    for point in reversed(series):
        if point.value is not None:
            return point
    return None


def describe(name: str, series: Sequence[ChartPoint], unit: str) -> str:
    """What the chart says, for screen readers: the latest value and the target in force then."""
    latest = _latest(series)
    if latest is None:
        return f"{name}: no data"
    text = f"{name}: {format_value(latest.value, unit)} in {period_label(latest.period)}"
    if latest.target is not None:
        text += f", target {format_value(latest.target, unit)}"
    if series and series[-1].value is None:
        text += f"; {period_label(series[-1].period)} missing"
    return text


def _no_data(name: str, width: int, height: int, *, css_class: str, label: bool = True) -> Markup:
    text = escape(f"{name}: no data")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{text}">',
        f"<title>{text}</title>",
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none" stroke="{COLOURS["grid"]}" '
        'stroke-dasharray="4 3"/>',
    ]
    if label:
        parts.append(
            f'<text x="{_c(width / 2)}" y="{_c(height / 2 + 4)}" text-anchor="middle" font-size="12" {FONT} '
            f'fill="{COLOURS["muted"]}">No data</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _step_path(xs: list[float], half: float, levels: list[float | None], y, left_edge: float, right_edge: float) -> str:
    """A step line through each period's level, each level held across its period; None lifts the pen."""
    path: list[str] = []
    current: float | None = None
    for x, level in zip(xs, levels, strict=True):
        if level is None:
            current = None
            continue
        left, right = max(left_edge, x - half), min(right_edge, x + half)
        if current is None:
            path.append(f"M{_c(left)} {_c(y(level))}H{_c(right)}")
        elif level == current:
            path[-1] = path[-1][: path[-1].rindex("H")] + f"H{_c(right)}"
        else:
            path.append(f"V{_c(y(level))}H{_c(right)}")
        current = level
    return "".join(path)


def line_chart(
    series: Sequence[ChartPoint],
    *,
    unit: str,
    name: str,
    tolerance: float | None = None,
    direction: str = "higher_is_better",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """A metric's series: the value line with its points (the latest ringed), the target as a step line, the
    near-target band when a tolerance is given, a y axis with 3-5 ticks in the unit, and the first and last period.
    """
    known = [p.value for p in series if p.value is not None]
    if not known:
        return _no_data(name, width, 60, css_class="chart chart-empty")
    targets = [p.target for p in series if p.target is not None]
    bands = [_band(t, tolerance, direction) for t in targets] if tolerance else []
    ticks, step = _domain(known + targets + [edge for band in bands for edge in band], unit)
    low, high = ticks[0], ticks[-1]
    x0, x1, y0, y1 = LEFT, width - RIGHT, TOP, height - BOTTOM

    def y(value: float) -> float:
        return y1 - (value - low) / (high - low) * (y1 - y0)

    count = len(series)
    if count == 1:
        xs = [(x0 + x1) / 2]
        half = (x1 - x0) / 2
    else:
        spacing = (x1 - x0 - 2 * INSET) / (count - 1)
        xs = [x0 + INSET + i * spacing for i in range(count)]
        half = spacing / 2

    label = escape(describe(name, series, unit))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{label}">',
        f"<title>{label}</title>",
    ]
    # Grid and y ticks.
    for tick, text in zip(ticks, format_ticks(ticks, unit, step), strict=True):
        ty = _c(y(tick))
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{ty}" y2="{ty}" stroke="{COLOURS["grid"]}" stroke-width="1"/>')
        out.append(
            f'<text x="{x0 - 6}" y="{_c(y(tick) + 4)}" text-anchor="end" font-size="11" {FONT} '
            f'fill="{COLOURS["muted"]}">{escape(text)}</text>'
        )
    out.append(f'<line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}" stroke="{COLOURS["axis"]}" stroke-width="1"/>')

    levels = [p.target for p in series]
    if bands:
        rects = []
        for x, point in zip(xs, series, strict=True):
            if point.target is None:
                continue
            band_low, band_high = _band(point.target, tolerance or 0.0, direction)
            left, right = max(x0, x - half), min(x1, x + half)
            rects.append(f"M{_c(left)} {_c(y(band_high))}H{_c(right)}V{_c(y(band_low))}H{_c(left)}Z")
        out.append(f'<path class="band" d="{"".join(rects)}" fill="{COLOURS["band"]}" fill-opacity="0.16"/>')
    if targets:
        out.append(
            f'<path class="target" d="{_step_path(xs, half, levels, y, x0, x1)}" fill="none" '
            f'stroke="{COLOURS["target"]}" stroke-width="1.5" stroke-dasharray="5 3"/>'
        )

    points = [(x, y(p.value)) if p.value is not None else None for x, p in zip(xs, series, strict=True)]
    for run in _runs(points):
        if len(run) > 1:
            coords = " ".join(f"{_c(px)},{_c(py)}" for px, py in run)
            out.append(
                f'<polyline class="value" points="{coords}" fill="none" stroke="{COLOURS["value"]}" '
                'stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>'
            )
    latest = max(i for i, xy in enumerate(points) if xy is not None)
    for index, (point, xy) in enumerate(zip(series, points, strict=True)):
        if xy is None:
            # A hollow mark on the axis says "this period has no value", rather than leaving readers to count.
            out.append(
                f'<circle class="gap" cx="{_c(xs[index])}" cy="{_c(y1)}" r="2.5" fill="#ffffff" '
                f'stroke="{COLOURS["axis"]}" stroke-width="1"><title>{escape(period_label(point.period))}: '
                "no value</title></circle>"
            )
            continue
        tip = f"{period_label(point.period)}: {format_value(point.value, unit)}"
        if point.target is not None:
            tip += f" (target {format_value(point.target, unit)})"
        if point.revision is not None:
            tip += f", revision {point.revision}"
        if index == latest:
            out.append(
                f'<circle class="latest" cx="{_c(xy[0])}" cy="{_c(xy[1])}" r="4.5" fill="{COLOURS["value"]}" '
                f'stroke="#ffffff" stroke-width="1.5"><title>{escape(tip)}</title></circle>'
            )
        else:
            out.append(
                f'<circle cx="{_c(xy[0])}" cy="{_c(xy[1])}" r="2.5" fill="{COLOURS["value"]}">'
                f"<title>{escape(tip)}</title></circle>"
            )

    # First and last period under the plot.
    base = _c(height - 8)
    if count == 1:
        out.append(_axis_text(_c(xs[0]), base, "middle", period_label(series[0].period, short=True)))
    else:
        out.append(_axis_text(_c(xs[0]), base, "start", period_label(series[0].period, short=True)))
        out.append(_axis_text(_c(xs[-1]), base, "end", period_label(series[-1].period, short=True)))

    out.append(_legend(x0, bool(targets), bool(bands)))
    out.append("</svg>")
    return Markup("".join(out))


def _axis_text(x: str, y: str, anchor: str, text: str) -> str:
    return (
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="11" {FONT} fill="{COLOURS["muted"]}">'
        f"{escape(text)}</text>"
    )


def _legend(x: int, target: bool, band: bool) -> str:
    parts = [
        f'<g class="legend" font-size="11" {FONT} fill="{COLOURS["ink"]}">',
        f'<line x1="{x}" x2="{x + 18}" y1="10" y2="10" stroke="{COLOURS["value"]}" stroke-width="2"/>',
        f'<circle cx="{x + 9}" cy="10" r="2.5" fill="{COLOURS["value"]}"/>',
        f'<text x="{x + 23}" y="14">Value</text>',
    ]
    offset = x + 70
    if target:
        parts.append(
            f'<line x1="{offset}" x2="{offset + 18}" y1="10" y2="10" stroke="{COLOURS["target"]}" '
            'stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
        parts.append(f'<text x="{offset + 23}" y="14">Target</text>')
        offset += 72
    if band:
        parts.append(f'<rect x="{offset}" y="5" width="18" height="10" fill="{COLOURS["band"]}" fill-opacity="0.16"/>')
        parts.append(f'<text x="{offset + 23}" y="14">Near target</text>')
    parts.append("</g>")
    return "".join(parts)


def sparkline(series: Sequence[ChartPoint], *, unit: str, name: str) -> Markup:
    """A small trend line for a table row: scaled to the data and the target so both are in view, the target
    dashed, a gap for each missing period, the latest point as a dot. No axes: the row holds the numbers."""
    known = [p.value for p in series if p.value is not None]
    if not known:
        return _no_data(name, SPARK_WIDTH, SPARK_HEIGHT, css_class="sparkline", label=False)
    targets = [p.target for p in series if p.target is not None]
    low, high = min(known + targets), max(known + targets)
    if high == low:
        low, high = low - 1.0, high + 1.0

    def y(value: float) -> float:
        return SPARK_HEIGHT - SPARK_PAD - (value - low) / (high - low) * (SPARK_HEIGHT - 2 * SPARK_PAD)

    count = len(series)
    inner = SPARK_WIDTH - 2 * SPARK_PAD
    if count == 1:
        xs, half = [SPARK_WIDTH / 2], inner / 2
    else:
        xs = [SPARK_PAD + i * inner / (count - 1) for i in range(count)]
        half = inner / (count - 1) / 2
    first = next(p for p in series if p.value is not None)
    latest = _latest(series)
    assert latest is not None
    text = f"{name}: {format_value(latest.value, unit)} in {period_label(latest.period)}"
    if first.period != latest.period:
        text = f"{name}: {format_value(first.value, unit)} in {period_label(first.period)}, " + text[len(name) + 2 :]
    label = escape(text)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
        f'width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" aria-label="{label}">',
        f"<title>{label}</title>",
    ]
    if targets:
        path = _step_path(xs, half, [p.target for p in series], y, SPARK_PAD, SPARK_WIDTH - SPARK_PAD)
        out.append(
            f'<path class="target" d="{path}" fill="none" stroke="{COLOURS["target"]}" stroke-width="1" '
            'stroke-dasharray="3 2"/>'
        )
    points = [(x, y(p.value)) if p.value is not None else None for x, p in zip(xs, series, strict=True)]
    for run in _runs(points):
        if len(run) > 1:
            coords = " ".join(f"{_c(px)},{_c(py)}" for px, py in run)
            out.append(
                f'<polyline class="value" points="{coords}" fill="none" stroke="{COLOURS["value"]}" '
                'stroke-width="1.5" stroke-linejoin="round"/>'
            )
        else:
            px, py = run[0]
            out.append(f'<circle cx="{_c(px)}" cy="{_c(py)}" r="1.5" fill="{COLOURS["value"]}"/>')
    index = max(i for i, p in enumerate(series) if p.value is not None)
    lx, ly = points[index] or (0.0, 0.0)
    out.append(f'<circle class="latest" cx="{_c(lx)}" cy="{_c(ly)}" r="2.5" fill="{COLOURS["value"]}"/>')
    out.append("</svg>")
    return Markup("".join(out))
