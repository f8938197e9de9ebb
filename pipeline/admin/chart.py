"""A small grouped bar chart drawn on the server as inline SVG (no JavaScript, no library)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from pipeline.admin.stats import WeekGrowth

SERIES = (
    ("signups", "Signups", "#3b6fd8"),
    ("confirmations", "Confirmations", "#2e9e55"),
    ("unsubscribes", "Unsubscribes", "#c9472f"),
)
# Colours for charts whose series are not known in advance (segments), in order.
PALETTE = ("#3b6fd8", "#2e9e55", "#c9472f", "#8a5cc2", "#d08a1e", "#3a9ea5", "#777777")


def growth_chart(weeks: Sequence[WeekGrowth], width: int = 720, height: int = 240) -> Markup:
    """Bars per week for signups, confirmations and unsubscribes, with a legend and axis."""
    series = [(label, colour, [getattr(w, key) for w in weeks]) for key, label, colour in SERIES]
    return bar_chart(
        [w.week for w in weeks], series, "Weekly subscriber growth", width=width, height=height
    )


def bar_chart(
    weeks: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    title: str,
    *,
    width: int = 720,
    height: int = 240,
) -> Markup:
    """Grouped bars: per week (``weeks``), one bar per ``(label, colour, values)`` series."""
    top, bottom, left = 24, 40, 40
    plot_h = height - top - bottom
    peak = max([1, *(value for _label, _colour, values in series for value in values)])
    slot = (width - left) / max(1, len(weeks))
    bar = max(2.0, (slot - 6) / max(1, len(series)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="4" y="{top + 4}" font-size="11">{peak}</text>',
        f'<text x="4" y="{top + plot_h}" font-size="11">0</text>',
    ]
    for index, week in enumerate(weeks):
        x0 = left + index * slot + 3
        for offset, (label, colour, values) in enumerate(series):
            value = values[index]
            h = plot_h * value / peak
            x = x0 + offset * bar
            y = top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(week)}: {value} {escape(label.lower())}</title>'
                "</rect>"
            )
        parts.append(
            f'<text x="{x0:.1f}" y="{height - bottom + 14}" font-size="10">'
            f"{escape(week[-3:])}</text>"
        )
    step = max(90, (width - 8) // max(1, len(series)))
    for offset, (label, colour, _values) in enumerate(series):
        x = left + offset * min(130, step)
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="13" font-size="11">{escape(label)}</text>')
    parts.append("</svg>")
    # Every interpolated text went through escape(); the rest is numbers and constants.
    return Markup("".join(parts))  # noqa: S704
