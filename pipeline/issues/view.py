"""What an issue says, independent of how it is rendered (the templates' input).

The view is stored with the issue as JSON (:func:`view_to_json`), so the web archive and the
salary downloads show exactly what was mailed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.content.models import Section


@dataclass(frozen=True)
class Item:
    """One snippet as the reader sees it."""

    title: str
    body_html: str
    body_text: str
    link: str | None


@dataclass(frozen=True)
class SalaryCell:
    """A compensation range for one role at one level, or the reason it is not shown.

    ``trend`` is the symbol form for HTML (``▲ 3.1%``), ``trend_text`` the words for the
    plain-text part (``up 3.1%``). The numbers stay available for the CSV/JSON downloads.
    """

    text: str
    trend: str = ""
    trend_text: str = ""
    role: str = ""
    currency: str | None = None
    low: int | None = None
    high: int | None = None
    data_points: int = 0
    change_pct: float | None = None

    @property
    def shown(self) -> bool:
        return self.low is not None


@dataclass(frozen=True)
class SalaryRow:
    level: str
    cells: tuple[SalaryCell, ...]


@dataclass(frozen=True)
class SalaryTable:
    """A comparison such as "Level | AI SE total comp | MLE total comp"."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[SalaryRow, ...]
    source: str
    key: str = ""

    @property
    def has_figures(self) -> bool:
        return any(cell.shown for row in self.rows for cell in row.cells)


@dataclass(frozen=True)
class Job:
    company: str
    title: str
    where: str
    comp: str | None
    url: str


@dataclass(frozen=True)
class SectionView:
    section: Section
    title: str
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class IssueView:
    """Everything the templates need to render one issue."""

    week_key: str
    number: int
    subject: str
    preheader: str
    sections: tuple[SectionView, ...]
    salary_tables: tuple[SalaryTable, ...] = ()
    jobs: tuple[Job, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def section(self, section: Section) -> SectionView:
        for candidate in self.sections:
            if candidate.section is section:
                return candidate
        return SectionView(section=section, title=section.title)

    def links(self) -> list[str]:
        """Every link the issue itself carries (items and jobs), in reading order."""
        found = [item.link for s in self.sections for item in s.items if item.link]
        return found + [job.url for job in self.jobs]


def view_to_json(view: IssueView) -> str:
    return json.dumps(asdict(view), ensure_ascii=False, sort_keys=True)


def view_from_json(raw: str) -> IssueView:
    """Rebuild an :class:`IssueView` stored by :func:`view_to_json`."""
    data: dict[str, Any] = json.loads(raw)
    return IssueView(
        week_key=data["week_key"],
        number=data["number"],
        subject=data["subject"],
        preheader=data["preheader"],
        sections=tuple(
            SectionView(
                section=Section(s["section"]),
                title=s["title"],
                items=tuple(Item(**item) for item in s["items"]),
            )
            for s in data["sections"]
        ),
        salary_tables=tuple(
            SalaryTable(
                title=t["title"],
                columns=tuple(t["columns"]),
                rows=tuple(
                    SalaryRow(
                        level=r["level"], cells=tuple(SalaryCell(**cell) for cell in r["cells"])
                    )
                    for r in t["rows"]
                ),
                source=t["source"],
                key=t.get("key", ""),
            )
            for t in data["salary_tables"]
        ),
        jobs=tuple(Job(**job) for job in data["jobs"]),
        extra=dict(data.get("extra", {})),
    )
