"""Clicks over time since the send, humans and machines, as server-side SVG (no script)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

HUMAN = "#1a56db"
MACHINE = "#8a5a00"


def clicks_chart(
    timeline: Sequence[tuple[int, int, int]], width: int = 640, height: int = 220
) -> Markup:
    """Cumulative human and machine clicks at each point in hours after the send."""
    top, bottom, left, right = 20, 36, 44, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1, *(max(h, m) for _hours, h, m in timeline)])
    count = max(1, len(timeline) - 1)

    def x(index: int) -> float:
        return left + plot_w * index / count

    def y(value: int) -> float:
        return top + plot_h - plot_h * value / peak

    def line(values: list[int]) -> str:
        return " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))

    humans = [h for _hours, h, _m in timeline]
    machines = [m for _hours, _h, m in timeline]
    label = (
        f"Clicks after the send: {humans[-1] if humans else 0} human, "
        f"{machines[-1] if machines else 0} machine"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" aria-labelledby="clicks-chart-title">',
        f'<title id="clicks-chart-title">{escape(label)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#5c6478"/>',
        f'<text x="4" y="{top + 4}" font-size="12" fill="#1d2330">{peak}</text>',
        f'<text x="4" y="{top + plot_h}" font-size="12" fill="#1d2330">0</text>',
    ]
    for index, (hours, _h, _m) in enumerate(timeline):
        if index % 2 == 0 or index == len(timeline) - 1:
            parts.append(
                f'<text x="{x(index):.1f}" y="{height - 18}" font-size="11" fill="#1d2330" '
                f'text-anchor="middle">{hours}h</text>'
            )
    if timeline:
        parts.append(
            f'<polyline fill="none" stroke="{HUMAN}" stroke-width="3" points="{line(humans)}"/>'
        )
        parts.append(
            f'<polyline fill="none" stroke="{MACHINE}" stroke-width="2" stroke-dasharray="6 4" '
            f'points="{line(machines)}"/>'
        )
    legend_y = height - 4
    parts += [
        f'<rect x="{left}" y="{legend_y - 9}" width="14" height="4" fill="{HUMAN}"/>',
        f'<text x="{left + 18}" y="{legend_y}" font-size="12" fill="#1d2330">human clicks</text>',
        f'<rect x="{left + 130}" y="{legend_y - 9}" width="14" height="4" fill="{MACHINE}"/>',
        f'<text x="{left + 148}" y="{legend_y}" font-size="12" fill="#1d2330">'
        "machine clicks (not counted)</text>",
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - built from numbers and escaped text only
