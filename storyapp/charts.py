"""Small SVG charts with axes, tick labels, axis titles and values, drawn on the server: no
script and no inline style (the CSP holds), escaped like any other text. Scales are honest:
the value axis starts at zero, ticks are round numbers, and every day or step is placed by
its value, not by its rank."""

import math
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 230
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 46
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
# At most this many bars carry their value above them (more would overlap); every bar has
# its value in a tooltip.
VALUE_LABELS_UP_TO = 16
MAX_X_LABELS = 7


def nice_ticks(high: float, count: int = 4) -> list[float]:
    """Round ticks from 0 up to at least ``high``: steps of 1, 2, 2.5 or 5 times a power of 10."""
    if not high or high <= 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    n = max(1, math.ceil(high / step - 1e-9))
    return [round(i * step, 10) for i in range(n + 1)]


def number(value: float) -> str:
    """A tick or value as people read it: 12, 1.5, 0.25, 1.33 (three significant digits)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3g}"


def _frame(title: str, x_label: str, y_label: str, ticks: list[float]) -> list[str]:
    top = ticks[-1]
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" width="100%">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in ticks:
        y = TOP + PLOT_H - tick / top * PLOT_H
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis tick-y" text-anchor="end">'
            f"{escape(number(tick))}</text>"
        )
    parts += [
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + PLOT_H}" class="axis-line"/>',
        f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{TOP + PLOT_H}" y2="{TOP + PLOT_H}" '
        f'class="axis-line"/>',
        f'<text x="{LEFT + PLOT_W / 2:.1f}" y="{HEIGHT - 6}" class="axis axis-title" '
        f'text-anchor="middle">{escape(x_label)}</text>',
        f'<text x="14" y="{TOP + PLOT_H / 2:.1f}" class="axis axis-title" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + PLOT_H / 2:.1f})">{escape(y_label)}</text>',
    ]
    return parts


def _x_label_every(n: int) -> int:
    return max(1, math.ceil(n / MAX_X_LABELS))


def bar_chart(
    bars: Sequence[tuple[str, float]], *, title: str, x_label: str, y_label: str
) -> SafeString:
    """Vertical bars, one per (label, value), over a value axis from zero."""
    if not bars:
        return mark_safe("")
    ticks = nice_ticks(max(value for _, value in bars))
    top = ticks[-1]
    parts = _frame(title, x_label, y_label, ticks)
    slot = PLOT_W / len(bars)
    width = max(slot * 0.7, 1.0)
    every = _x_label_every(len(bars))
    for i, (label, value) in enumerate(bars):
        height = value / top * PLOT_H
        x = LEFT + i * slot + (slot - width) / 2
        y = TOP + PLOT_H - height
        center = x + width / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'class="bar"><title>{escape(label)}: {escape(number(value))}</title></rect>'
        )
        if len(bars) <= VALUE_LABELS_UP_TO:
            parts.append(
                f'<text x="{center:.1f}" y="{y - 4:.1f}" class="axis value" '
                f'text-anchor="middle">{escape(number(value))}</text>'
            )
        if i % every == 0 or i == len(bars) - 1:
            parts.append(
                f'<text x="{center:.1f}" y="{TOP + PLOT_H + 16}" class="axis tick-x" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # every text escaped above


def line_chart(
    points: Sequence[tuple[float, float]], *, title: str, x_label: str, y_label: str
) -> SafeString:
    """A line through (x, y) points (a loss by step), x placed by value, y from zero; the
    first and last values are written beside their points."""
    if not points:
        return mark_safe("")
    ticks = nice_ticks(max(y for _, y in points))
    top = ticks[-1]
    xs = [x for x, _ in points]
    x_ticks = nice_ticks(max(xs))
    x_top = x_ticks[-1]
    parts = _frame(title, x_label, y_label, ticks)

    def at(x: float, y: float) -> tuple[float, float]:
        return LEFT + x / x_top * PLOT_W, TOP + PLOT_H - y / top * PLOT_H

    for tick in x_ticks:
        px, _ = at(tick, 0)
        parts.append(
            f'<text x="{px:.1f}" y="{TOP + PLOT_H + 16}" class="axis tick-x" '
            f'text-anchor="middle">{escape(number(tick))}</text>'
        )
    coords = [at(x, y) for x, y in points]
    parts.append(
        '<polyline points="'
        + " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
        + '" class="line" fill="none"/>'
    )
    for (x, y), (px, py) in zip(points, coords, strict=True):
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" class="point"><title>'
            f"{escape(x_label)} {escape(number(x))}: {escape(number(y))}</title></circle>"
        )
    ends = {0, len(points) - 1}
    for i in sorted(ends):
        (x, y), (px, py) = points[i], coords[i]
        anchor = "start" if i == 0 and len(points) > 1 else "end"
        parts.append(
            f'<text x="{px + (6 if anchor == "start" else -6):.1f}" y="{py - 8:.1f}" '
            f'class="axis value" text-anchor="{anchor}">{escape(number(y))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # every text escaped above


def interval_chart(
    points: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    top: float = 100.0,
) -> SafeString:
    """One point per label with its interval drawn as a whisker (a share in percent with its
    95% interval), on an axis from zero to ``top``; a label without a value is left empty."""
    if not any(value is not None for _, value, _, _ in points):
        return mark_safe("")
    ticks = nice_ticks(top)
    top = ticks[-1]
    parts = _frame(title, x_label, y_label, ticks)
    slot = PLOT_W / len(points)

    def y_of(value: float) -> float:
        return TOP + PLOT_H - value / top * PLOT_H

    line = []
    for i, (label, value, low, high) in enumerate(points):
        x = LEFT + i * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + PLOT_H + 16}" class="axis tick-x" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
        if value is None:
            continue
        if low is not None and high is not None:
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_of(low):.1f}" y2="{y_of(high):.1f}" '
                f'class="whisker"/>'
            )
        line.append(f"{x:.1f},{y_of(value):.1f}")
        interval = (
            f" ({escape(number(low))}–{escape(number(high))})"
            if low is not None and high is not None
            else ""
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y_of(value):.1f}" r="4" class="point"><title>'
            f"{escape(label)}: {escape(number(value))}{interval}</title></circle>"
            f'<text x="{x + 7:.1f}" y="{y_of(value) - 6:.1f}" class="axis value">'
            f"{escape(number(value))}</text>"
        )
    if len(line) > 1:
        parts.append(f'<polyline points="{" ".join(line)}" class="line" fill="none"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # every text escaped above
