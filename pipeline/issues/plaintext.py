"""Plain-text helpers for the text part: wrapping to 78 columns and aligned tables."""

from __future__ import annotations

from pipeline.issues.view import SalaryTable

TEXT_WIDTH = 78


def _is_link(word: str) -> bool:
    return "://" in word or word.lower().lstrip("(<").startswith("mailto:")


def _pieces(word: str, width: int) -> list[str]:
    """A word as it may be laid out: links stay whole (a broken URL is a dead link)."""
    if len(word) <= width or _is_link(word):
        return [word]
    return [word[i : i + width] for i in range(0, len(word), width)]


def wrap_line(paragraph: str, width: int = TEXT_WIDTH, indent: str = "") -> list[str]:
    """Greedy word wrap of one paragraph; only a lone link may exceed ``width``."""
    room = max(width - len(indent), 10)
    lines: list[str] = []
    current = ""
    for word in paragraph.split():
        for piece in _pieces(word, room):
            if current and len(current) + 1 + len(piece) > room:
                lines.append(current)
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
    if current:
        lines.append(current)
    return [indent + line for line in lines]


def wrap_text(value: object, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """Wrap each paragraph of ``value`` to ``width``; blank lines are kept."""
    out: list[str] = []
    for paragraph in str(value).split("\n"):
        out.extend(wrap_line(paragraph, width, indent) if paragraph.strip() else [""])
    return "\n".join(out)


def salary_cell_text(text: str, trend_text: str) -> str:
    return f"{text} ({trend_text})" if trend_text else text


def salary_text(table: SalaryTable, width: int = TEXT_WIDTH, mark_level: str = "") -> str:
    """A salary table as aligned columns, or as a list per level when too wide for 78.

    ``mark_level`` names the reader's level in a tailored variant: its row says so.
    """
    rows = [list(table.columns)]
    rows += [
        [
            f"{row.level} (your level)" if mark_level and row.level == mark_level else row.level,
            *(salary_cell_text(c.text, c.trend_text) for c in row.cells),
        ]
        for row in table.rows
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.columns))]
    if sum(widths) + 2 * (len(widths) - 1) <= width:
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)
    stacked: list[str] = []
    for row in rows[1:]:
        stacked.extend(wrap_line(row[0], width))
        for heading, cell in zip(table.columns[1:], row[1:], strict=True):
            stacked.extend(wrap_line(f"{heading}: {cell}", width, indent="  "))
    return "\n".join(stacked)
